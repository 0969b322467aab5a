#include "kvol/apiserver/table.h"

#include <cstdio>
#include <set>

#include "kvol/api/rfc3339.h"
#include "src/apiserver/printers_util.h"

namespace kvol::apiserver {

namespace p = printers;

namespace {

const p::PrinterMap& Printers() {
  static const p::PrinterMap* m = [] {
    auto* map = new p::PrinterMap();
    p::AddCorePrinters(*map);
    p::AddStoragePrinters(*map);
    p::AddAppsPrinters(*map);
    p::AddSnapshotPrinters(*map);
    return map;
  }();
  return *m;
}

// Kinds without a printer: NAME and AGE.
const p::Printer& DefaultPrinter() {
  static const p::Printer* d = [] {
    auto* pr = new p::Printer();
    pr->columns = {p::NameColumn(), p::AgeColumn()};
    pr->cells = [](const json& o, int64_t now) {
      return json::array({p::Str(o, {"metadata", "name"}),
                          TimestampSince(p::At(o, {"metadata", "creationTimestamp"}), now)});
    };
    return pr;
  }();
  return *d;
}

const p::Printer& PrinterFor(const api::ResourceInfo& info) {
  const auto& m = Printers();
  auto it = m.find(info.group + "/" + info.kind);
  return it == m.end() ? DefaultPrinter() : it->second;
}

json ColumnDefinitions(const p::Printer& pr) {
  json cols = json::array();
  for (const auto& c : pr.columns) {
    cols.push_back({{"name", c.name},
                    {"type", c.type},
                    {"format", c.format},
                    {"description", c.description},
                    {"priority", c.priority}});
  }
  return cols;
}

json RowObject(const api::ResourceInfo& info, const json& obj, IncludeObject include) {
  switch (include) {
    case IncludeObject::kNone:
      return nullptr;
    case IncludeObject::kMetadata: {
      json meta = obj.contains("metadata") ? obj["metadata"] : json::object();
      return {{"kind", "PartialObjectMetadata"},
              {"apiVersion", "meta.k8s.io/v1"},
              {"metadata", std::move(meta)}};
    }
    case IncludeObject::kObject: {
      json o = obj;
      if (o.is_object()) {
        if (!o.contains("kind")) o["kind"] = info.kind;
        if (!o.contains("apiVersion")) o["apiVersion"] = info.ApiVersion();
      }
      return o;
    }
  }
  return nullptr;
}

json Row(const api::ResourceInfo& info, const p::Printer& pr, const json& obj,
         IncludeObject include, int64_t now) {
  json row = {{"cells", pr.cells(obj, now)}};
  if (pr.conditions) {
    json conds = pr.conditions(obj);
    if (conds.is_array() && !conds.empty()) row["conditions"] = std::move(conds);
  }
  json o = RowObject(info, obj, include);
  if (!o.is_null()) row["object"] = std::move(o);
  return row;
}

}  // namespace

std::optional<IncludeObject> ParseIncludeObject(std::string_view v) {
  if (v.empty() || v == "Metadata") return IncludeObject::kMetadata;
  if (v == "Object") return IncludeObject::kObject;
  if (v == "None") return IncludeObject::kNone;
  return std::nullopt;
}

json BuildTable(const api::ResourceInfo& info, const std::vector<json>& objects, bool includeObject,
                int64_t nowUnix) {
  return BuildTable(info, objects, includeObject ? IncludeObject::kMetadata : IncludeObject::kNone,
                    nowUnix);
}

json BuildTable(const api::ResourceInfo& info, const std::vector<json>& objects,
                IncludeObject include, int64_t nowUnix) {
  const p::Printer& pr = PrinterFor(info);
  json rows = json::array();
  for (const auto& o : objects) rows.push_back(Row(info, pr, o, include, nowUnix));
  return {{"kind", "Table"},
          {"apiVersion", "meta.k8s.io/v1"},
          {"metadata", json::object()},
          {"columnDefinitions", ColumnDefinitions(pr)},
          {"rows", std::move(rows)}};
}

json BuildTableRow(const api::ResourceInfo& info, const json& object, bool includeObject,
                   int64_t nowUnix) {
  return BuildTable(info, {object}, includeObject, nowUnix);
}

json BuildTableRow(const api::ResourceInfo& info, const json& object, IncludeObject include,
                   int64_t nowUnix) {
  return BuildTable(info, {object}, include, nowUnix);
}

json TableRowCells(const api::ResourceInfo& info, const json& object, int64_t nowUnix) {
  return Row(info, PrinterFor(info), object, IncludeObject::kNone, nowUnix);
}

json TableColumnDefinitions(const api::ResourceInfo& info) {
  return ColumnDefinitions(PrinterFor(info));
}

std::string HumanDuration(int64_t seconds) {
  char buf[64];
  if (seconds < -1) return "<invalid>";
  if (seconds < 0) return "0s";
  if (seconds < 60 * 2) {
    std::snprintf(buf, sizeof buf, "%llds", static_cast<long long>(seconds));
    return buf;
  }
  const long long minutes = seconds / 60;
  if (minutes < 10) {
    const long long s = seconds % 60;
    if (s == 0)
      std::snprintf(buf, sizeof buf, "%lldm", minutes);
    else
      std::snprintf(buf, sizeof buf, "%lldm%llds", minutes, s);
    return buf;
  }
  if (minutes < 60 * 3) {
    std::snprintf(buf, sizeof buf, "%lldm", minutes);
    return buf;
  }
  const long long hours = seconds / 3600;
  if (hours < 8) {
    const long long m = minutes % 60;
    if (m == 0)
      std::snprintf(buf, sizeof buf, "%lldh", hours);
    else
      std::snprintf(buf, sizeof buf, "%lldh%lldm", hours, m);
  } else if (hours < 48) {
    std::snprintf(buf, sizeof buf, "%lldh", hours);
  } else if (hours < 24 * 8) {
    const long long h = hours % 24;
    if (h == 0)
      std::snprintf(buf, sizeof buf, "%lldd", hours / 24);
    else
      std::snprintf(buf, sizeof buf, "%lldd%lldh", hours / 24, h);
  } else if (hours < 24 * 365 * 2) {
    std::snprintf(buf, sizeof buf, "%lldd", hours / 24);
  } else if (hours < 24 * 365 * 8) {
    const long long dy = (hours / 24) % 365;
    if (dy == 0)
      std::snprintf(buf, sizeof buf, "%lldy", hours / 24 / 365);
    else
      std::snprintf(buf, sizeof buf, "%lldy%lldd", hours / 24 / 365, dy);
  } else {
    std::snprintf(buf, sizeof buf, "%lldy", hours / 24 / 365);
  }
  return buf;
}

std::optional<int64_t> ParseTimestamp(std::string_view s) {
  auto nanos = api::ParseRfc3339Nanos(s, /*spaceSeparator=*/true);
  if (!nanos) return std::nullopt;
  // Whole seconds, the fraction dropped (floor, also before 1970).
  return *nanos / 1000000000 - (*nanos % 1000000000 < 0 ? 1 : 0);
}

std::string TimestampSince(const json& ts, int64_t nowUnix) {
  if (!ts.is_string()) return "<unknown>";
  auto t = ParseTimestamp(ts.get_ref<const std::string&>());
  if (!t) return "<unknown>";
  return HumanDuration(nowUnix - *t);
}

std::string AccessModesString(const json& modes) {
  std::set<std::string> have;
  if (modes.is_array()) {
    for (const auto& m : modes)
      if (m.is_string()) have.insert(m.get<std::string>());
  }
  std::string out;
  auto add = [&](const char* full, const char* abbrev) {
    if (!have.count(full)) return;
    if (!out.empty()) out += ",";
    out += abbrev;
  };
  add("ReadWriteOnce", "RWO");
  add("ReadOnlyMany", "ROX");
  add("ReadWriteMany", "RWX");
  add("ReadWriteOncePod", "RWOP");
  return out;
}

std::string FormatLabelSelector(const json& sel) {
  std::string out;
  auto add = [&](const std::string& s) {
    if (!out.empty()) out += ",";
    out += s;
  };
  if (sel.is_object()) {
    if (const json& ml = p::At(sel, {"matchLabels"}); ml.is_object()) {
      for (auto it = ml.begin(); it != ml.end(); ++it)  // nlohmann keeps keys sorted
        add(it.key() + "=" + (it.value().is_string() ? it.value().get<std::string>() : ""));
    }
    if (const json& me = p::At(sel, {"matchExpressions"}); me.is_array()) {
      for (const auto& e : me) {
        std::string key = p::Str(e, {"key"});
        std::string op = p::Str(e, {"operator"});
        std::string vals;
        if (const json& v = p::At(e, {"values"}); v.is_array()) {
          for (const auto& x : v) {
            if (!vals.empty()) vals += ",";
            if (x.is_string()) vals += x.get<std::string>();
          }
        }
        if (op == "In")
          add(key + " in (" + vals + ")");
        else if (op == "NotIn")
          add(key + " notin (" + vals + ")");
        else if (op == "Exists")
          add(key);
        else if (op == "DoesNotExist")
          add("!" + key);
        else
          add(key + " " + op + " (" + vals + ")");
      }
    }
  }
  return out.empty() ? "<none>" : out;
}

namespace printers {

const json& At(const json& o, std::initializer_list<const char*> path) {
  static const json kNull;
  const json* cur = &o;
  for (const char* k : path) {
    if (!cur->is_object()) return kNull;
    auto it = cur->find(k);
    if (it == cur->end()) return kNull;
    cur = &*it;
  }
  return *cur;
}

std::string Str(const json& o, std::initializer_list<const char*> path) {
  const json& v = At(o, path);
  return v.is_string() ? v.get<std::string>() : std::string();
}

int64_t Int(const json& o, std::initializer_list<const char*> path, int64_t def) {
  const json& v = At(o, path);
  return v.is_number() ? v.get<int64_t>() : def;
}

bool Bool(const json& o, std::initializer_list<const char*> path, bool def) {
  const json& v = At(o, path);
  return v.is_boolean() ? v.get<bool>() : def;
}

Column NameColumn() {
  return {"Name", "string", "name",
          "Name must be unique within a namespace. Is required when creating resources, although "
          "some resources may allow a client to request the generation of an appropriate name "
          "automatically. Name is primarily intended for creation idempotence and configuration "
          "definition. Cannot be updated. More info: "
          "https://kubernetes.io/docs/concepts/overview/working-with-objects/names#names",
          0};
}

Column AgeColumn() {
  return {"Age", "string", "",
          "CreationTimestamp is a timestamp representing the server time when this object was "
          "created. It is not guaranteed to be set in happens-before order across separate "
          "operations. Clients may not set this value. It is represented in RFC3339 form and is in "
          "UTC.\n\nPopulated by the system. Read-only. Null for lists. More info: "
          "https://git.k8s.io/community/contributors/devel/sig-architecture/"
          "api-conventions.md#metadata",
          0};
}

namespace {
std::string JoinContainers(const json& podSpec, const char* field) {
  std::string out;
  if (const json& cs = At(podSpec, {"containers"}); cs.is_array()) {
    for (const auto& c : cs) {
      if (!out.empty()) out += ",";
      out += Str(c, {field});
    }
  }
  return out;
}
}  // namespace

std::string ContainerNames(const json& podSpec) { return JoinContainers(podSpec, "name"); }
std::string ContainerImages(const json& podSpec) { return JoinContainers(podSpec, "image"); }

}  // namespace printers

}  // namespace kvol::apiserver
