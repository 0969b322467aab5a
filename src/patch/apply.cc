// Server-side apply and Update bookkeeping over metadata.managedFields (see apply.h).
#include "kvol/patch/apply.h"

#include <algorithm>
#include <map>

#include "apply_walk.h"
#include "fieldset.h"

namespace kvol::patch {
namespace {

using internal::Comparison;
using internal::Shape;

constexpr const char* kBeforeFirstApply = "before-first-apply";

struct Entry {
  std::string manager, operation, apiVersion, time, subresource;
  FieldSet fields;
  // kube's manager identifier: the time never counts, the apiVersion only for Update.
  bool Same(const Entry& o) const {
    return manager == o.manager && operation == o.operation && subresource == o.subresource &&
           (operation != "Update" || apiVersion == o.apiVersion);
  }
};

std::string Quote(const std::string& s) {
  return json(s).dump(-1, ' ', false, json::error_handler_t::replace);
}

// printManager of kube-apiserver's fieldmanager: the identifier never carries a time.
std::string PrintManager(const Entry& e) {
  std::string s = Quote(e.manager);
  if (!e.subresource.empty()) s += " with subresource " + Quote(e.subresource);
  if (e.operation == "Update") s += " using " + e.apiVersion;
  return s;
}

Result<std::vector<Entry>> Decode(const json& obj) {
  std::vector<Entry> out;
  if (!obj.is_object()) return out;
  auto m = obj.find("metadata");
  if (m == obj.end() || !m->is_object()) return out;
  auto mf = m->find("managedFields");
  if (mf == m->end() || mf->is_null()) return out;
  if (!mf->is_array()) return BadRequest("metadata.managedFields must be a list");
  for (const auto& e : *mf) {
    if (!e.is_object()) return BadRequest("metadata.managedFields items must be objects");
    auto str = [&](const char* f) {
      auto it = e.find(f);
      return it != e.end() && it->is_string() ? it->get<std::string>() : std::string();
    };
    Entry en{str("manager"), str("operation"),   str("apiVersion"),
             str("time"),    str("subresource"), {}};
    auto fv = e.find("fieldsV1");
    Result<FieldSet> fs = FieldSet::FromFieldsV1(fv == e.end() ? json() : *fv);
    if (!fs.ok()) return fs.status();
    en.fields = std::move(*fs);
    auto same = std::find_if(out.begin(), out.end(), [&](const Entry& o) { return o.Same(en); });
    if (same != out.end()) {
      same->fields = same->fields.Union(en.fields);
      continue;
    }
    out.push_back(std::move(en));
  }
  return out;
}

// kube sorts entries by operation, time, manager, apiVersion, subresource.
void Encode(std::vector<Entry> entries, json& obj) {
  entries.erase(std::remove_if(entries.begin(), entries.end(),
                               [](const Entry& e) { return e.fields.Empty(); }),
                entries.end());
  std::stable_sort(entries.begin(), entries.end(), [](const Entry& a, const Entry& b) {
    return std::tie(a.operation, a.time, a.manager, a.apiVersion, a.subresource) <
           std::tie(b.operation, b.time, b.manager, b.apiVersion, b.subresource);
  });
  json& meta = obj["metadata"];
  if (!meta.is_object()) meta = json::object();
  if (entries.empty()) {
    meta.erase("managedFields");
    return;
  }
  json list = json::array();
  for (const auto& e : entries) {
    json j = {{"manager", e.manager},
              {"operation", e.operation},
              {"apiVersion", e.apiVersion},
              {"fieldsType", "FieldsV1"},
              {"fieldsV1", e.fields.ToFieldsV1()}};
    if (!e.time.empty()) j["time"] = e.time;
    if (!e.subresource.empty()) j["subresource"] = e.subresource;
    list.push_back(std::move(j));
  }
  meta["managedFields"] = std::move(list);
}

json WithoutManagedFields(json obj) {
  if (obj.is_object() && obj.contains("metadata") && obj["metadata"].is_object()) {
    obj["metadata"].erase("managedFields");
  }
  return obj;
}

// Fields no manager ever owns (kube's stripMeta and the status reset of main resources).
FieldSet Strip(const FieldSet& s, const FieldManagerOptions& o) {
  static const FieldSet kMeta = [] {
    FieldSet f;
    f.Insert({"f:apiVersion"});
    f.Insert({"f:kind"});
    f.Insert({"f:metadata"});
    for (const char* m : {"name", "namespace", "creationTimestamp", "selfLink", "uid",
                          "clusterName", "generation", "managedFields", "resourceVersion"}) {
      f.Insert({"f:metadata", FieldElement(m)});
    }
    return f;
  }();
  FieldSet out = s.Difference(kMeta);
  if (o.ignoreStatus) {
    FieldSet status;
    status.Insert({"f:status"});
    out = out.RecursiveDifference(status);
  }
  return out;
}

Comparison StripAll(Comparison c, const FieldManagerOptions& o) {
  c.added = Strip(c.added, o);
  c.modified = Strip(c.modified, o);
  c.removed = Strip(c.removed, o);
  return c;
}

const json* LastApplied(const json& obj) {
  if (!obj.is_object()) return nullptr;
  auto m = obj.find("metadata");
  if (m == obj.end() || !m->is_object()) return nullptr;
  auto a = m->find("annotations");
  if (a == m->end() || !a->is_object()) return nullptr;
  auto v = a->find(kLastAppliedAnnotation);
  return v != a->end() && v->is_string() && !v->get_ref<const std::string&>().empty() ? &*v
                                                                                      : nullptr;
}

// Go's encoding/json text of a value (compact, keys sorted, <>& escaped) plus the newline
// json.Encoder writes: how kubectl and kube-apiserver spell last-applied-configuration.
std::string GoJson(const json& v) {
  std::string s = v.dump(-1, ' ', false, json::error_handler_t::replace);
  std::string out;
  out.reserve(s.size() + 1);
  for (char ch : s) {
    if (ch == '<') {
      out += "\\u003c";
    } else if (ch == '>') {
      out += "\\u003e";
    } else if (ch == '&') {
      out += "\\u0026";
    } else {
      out += ch;
    }
  }
  return out + "\n";
}

struct Applied {
  json object;  // without managedFields
  std::vector<Entry> managers;
  std::vector<ApplyConflict> conflicts;
  std::vector<FieldPath> conflictPaths;  // parallel to conflicts
  bool changed = false;
};

Result<Applied> ApplyOnce(const json& live, const json& config, std::vector<Entry> managers,
                          const FieldManagerOptions& o, bool force) {
  Shape shape = internal::RootShape(o.apiVersion, o.kind);
  Result<FieldSet> cs = internal::ToFieldSet(config, shape);
  if (!cs.ok()) return cs.status();
  FieldSet set = Strip(*cs, o);
  Result<json> merged = internal::Merge(live, config, shape);
  if (!merged.ok()) return merged.status();
  Entry self{o.manager, "Apply", o.apiVersion, "", o.subresource, {}};
  auto it =
      std::find_if(managers.begin(), managers.end(), [&](const Entry& e) { return e.Same(self); });
  bool isNew = it == managers.end();
  if (isNew) {
    managers.push_back(self);
    it = managers.end() - 1;
  }
  size_t selfIdx = static_cast<size_t>(it - managers.begin());
  FieldSet last = managers[selfIdx].fields;
  managers[selfIdx].fields = set;
  managers[selfIdx].apiVersion = o.apiVersion;

  Applied a;
  a.object = std::move(*merged);
  if (!last.Empty()) {  // prune what this manager applied before, no longer applies, nobody owns
    FieldSet owned;
    for (const auto& m : managers) owned = owned.Union(m.fields);
    FieldSet drop;
    last.ForEach([&](const FieldPath& p) {
      if (!owned.HasAtOrBelow(p)) drop.Insert(p);
    });
    if (!drop.Empty()) a.object = internal::RemoveItems(a.object, drop, shape, &owned);
  }
  internal::DropNulls(a.object);

  Comparison c = StripAll(internal::Compare(live, a.object, shape), o);
  FieldSet changes = c.added.Union(c.modified);
  std::vector<std::pair<size_t, FieldSet>> lost;
  for (size_t i = 0; i < managers.size(); ++i) {
    if (i == selfIdx) continue;
    FieldSet x = managers[i].fields.Intersection(changes);
    if (x.Empty()) continue;
    x.ForEach([&](const FieldPath& p) {
      a.conflicts.push_back({PrintManager(managers[i]), PathString(p)});
      a.conflictPaths.push_back(p);
    });
    lost.emplace_back(i, std::move(x));
  }
  if (!a.conflicts.empty() && !force) return a;
  a.conflicts.clear();
  a.conflictPaths.clear();
  for (auto& [i, x] : lost) managers[i].fields = managers[i].fields.Difference(x);
  for (size_t i = 0; i < managers.size(); ++i) {
    if (i != selfIdx) managers[i].fields = managers[i].fields.Difference(c.removed);
  }
  a.changed = a.object != live;
  if (a.changed || isNew || managers[selfIdx].time.empty()) managers[selfIdx].time = o.now;
  a.managers = std::move(managers);
  return a;
}

// The conflicts a client-side-applied object may have on its first server-side apply by
// kubectl: fields of last-applied-configuration whose live value is still the applied one.
FieldSet AllowedFromLastApplied(const json& live, const FieldManagerOptions& o) {
  const json* la = LastApplied(live);
  if (!la) return {};
  json lastApplied = json::parse(la->get<std::string>(), nullptr, false);
  if (!lastApplied.is_object()) return {};
  Shape shape = internal::RootShape(o.apiVersion, o.kind);
  Result<FieldSet> set = internal::ToFieldSet(lastApplied, shape);
  if (!set.ok()) return {};
  Comparison c = internal::Compare(lastApplied, live, shape);
  return set->Difference(c.modified).Difference(c.added).Difference(c.removed);
}

}  // namespace

Result<ApplyResult> Apply(const json& live, const json& config, const FieldManagerOptions& o,
                          bool force) {
  if (!config.is_object()) return BadRequest("the applied configuration is not an object");
  bool exists = live.is_object();
  Result<std::vector<Entry>> managers = Decode(exists ? live : json());
  if (!managers.ok()) return managers.status();
  json liveObj = exists ? WithoutManagedFields(live) : json::object();
  Shape shape = internal::RootShape(o.apiVersion, o.kind);
  if (exists && managers->empty()) {  // kube's skipNonAppliedManager: the object so far
    Comparison c = StripAll(internal::Compare(json::object(), liveObj, shape), o);
    Entry before{kBeforeFirstApply,        "Update", o.apiVersion, "", o.subresource,
                 c.added.Union(c.modified)};
    if (!before.fields.Empty()) managers->push_back(std::move(before));
  }
  Result<Applied> a = ApplyOnce(liveObj, config, *managers, o, force);
  if (!a.ok()) return a.status();
  if (!a->conflicts.empty() && o.manager == "kubectl") {  // upgrade from client-side apply
    FieldSet allowed = AllowedFromLastApplied(liveObj, o);
    std::vector<ApplyConflict> rest;
    for (size_t i = 0; i < a->conflicts.size(); ++i) {
      if (!allowed.Has(a->conflictPaths[i])) rest.push_back(a->conflicts[i]);
    }
    if (rest.empty()) {
      a = ApplyOnce(liveObj, config, *managers, o, /*force=*/true);
      if (!a.ok()) return a.status();
    } else {
      a->conflicts = std::move(rest);
    }
  }
  ApplyResult out;
  if (!a->conflicts.empty()) {
    out.conflicts = std::move(a->conflicts);
    return out;
  }
  out.object = std::move(a->object);
  if (o.manager == "kubectl" && LastApplied(out.object)) {  // kube's lastAppliedUpdater
    json applied = config;
    if (applied.contains("metadata") && applied["metadata"].is_object()) {
      json& meta = applied["metadata"];
      if (meta.contains("annotations") && meta["annotations"].is_object()) {
        meta["annotations"].erase(kLastAppliedAnnotation);
        if (meta["annotations"].empty()) meta.erase("annotations");
      }
    }
    out.object["metadata"]["annotations"][kLastAppliedAnnotation] = GoJson(applied);
  }
  Encode(std::move(a->managers), out.object);
  return out;
}

std::string ConflictMessage(const std::vector<ApplyConflict>& conflicts) {
  if (conflicts.size() == 1) {
    return "Apply failed with 1 conflict: conflict with " + conflicts[0].manager + ": " +
           conflicts[0].field;
  }
  std::map<std::string, std::vector<std::string>> byManager;
  for (const auto& c : conflicts) byManager[c.manager].push_back(c.field);
  std::string m = "Apply failed with " + std::to_string(conflicts.size()) + " conflicts: ";
  bool first = true;
  for (const auto& [manager, fields] : byManager) {
    m += (first ? "" : "\n") + std::string("conflicts with ") + manager + ":";
    first = false;
    for (const auto& f : fields) m += "\n- " + f;
  }
  return m;
}

json TrackUpdate(const json& live, const json& updated, const FieldManagerOptions& o) {
  bool create = !live.is_object();
  json out = WithoutManagedFields(updated);
  // managedFields the client wrote win over the live ones; [{}] clears them.
  std::vector<Entry> managers;
  bool given = false;
  if (updated.is_object() && updated.contains("metadata") && updated["metadata"].is_object()) {
    const json& mf = updated["metadata"].value("managedFields", json());
    if (mf.is_array() && mf.size() == 1 && mf[0].is_object() && mf[0].empty()) return out;
    if (mf.is_array() && !mf.empty()) {
      Result<std::vector<Entry>> d = Decode(updated);
      if (d.ok()) {
        managers = std::move(*d);
        given = true;
      }
    }
  }
  if (!given && !create) {
    Result<std::vector<Entry>> d = Decode(live);
    if (d.ok()) managers = std::move(*d);
  }
  if (managers.empty() && !create) return out;  // not tracked before: not tracked now
  Shape shape = internal::RootShape(o.apiVersion, o.kind);
  Comparison c = StripAll(
      internal::Compare(create ? json::object() : WithoutManagedFields(live), out, shape), o);
  FieldSet changes = c.added.Union(c.modified);
  for (auto& m : managers) m.fields = m.fields.Difference(changes).Difference(c.removed);
  if (!changes.Empty()) {
    Entry self{o.manager, "Update", o.apiVersion, o.now, o.subresource, {}};
    auto it = std::find_if(managers.begin(), managers.end(),
                           [&](const Entry& e) { return e.Same(self); });
    if (it == managers.end()) {
      managers.push_back(self);
      it = managers.end() - 1;
    }
    it->fields = it->fields.Union(changes);
    it->time = o.now;
  }
  Encode(std::move(managers), out);
  return out;
}

std::string ManagerFor(std::string_view fieldManager, std::string_view userAgent) {
  if (!fieldManager.empty()) return std::string(fieldManager);
  std::string m;
  for (char ch : userAgent.substr(0, userAgent.find('/'))) {
    if (m.size() >= 128) break;
    if (static_cast<unsigned char>(ch) >= 0x20 && ch != 0x7f) m += ch;
  }
  return m.empty() ? "unknown" : m;
}

}  // namespace kvol::patch
