// kvol get: kubectl get's requests and output (tables from the server's Table, -o yaml|json|name).
#include <ostream>

#include "kvol/apiserver/table.h"
#include "src/cli/verbs_common.h"

namespace kvol::cli {

using namespace internal;

namespace {

struct Request {
  const api::ResourceInfo* info = nullptr;
  std::vector<std::string> names;  // empty: list
};

// "TYPE[,TYPE] [NAME...]" or "TYPE/NAME..." into per-type requests, in the order given.
bool ParseArgs(const std::vector<std::string>& args, std::vector<Request>& out, std::ostream& err) {
  if (args.empty()) {
    err << "error: You must specify the type of resource to get. Use \"kvol api-resources\" for a "
           "complete list of supported resources.\n";
    return false;
  }
  bool slash = args[0].find('/') != std::string::npos;
  if (slash) {
    for (const auto& a : args) {
      auto p = a.find('/');
      if (p == std::string::npos) {
        err << "error: there is no need to specify a resource type as a separate argument when "
               "passing arguments in resource/name form (e.g. 'kvol get resource/<resource_name>' "
               "instead of 'kvol get resource resource/<resource_name>'\n";
        return false;
      }
      const api::ResourceInfo* info = ResolveType(a.substr(0, p));
      if (!info) {
        err << UnknownTypeError(a.substr(0, p)) << "\n";
        return false;
      }
      if (!out.empty() && out.back().info == info && !out.back().names.empty()) {
        out.back().names.push_back(a.substr(p + 1));
      } else {
        out.push_back({info, {a.substr(p + 1)}});
      }
    }
    return true;
  }
  std::string types = args[0];
  size_t start = 0;
  while (start <= types.size()) {
    size_t comma = types.find(',', start);
    std::string t =
        types.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    if (!t.empty()) {
      const api::ResourceInfo* info = ResolveType(t);
      if (!info) {
        err << UnknownTypeError(t) << "\n";
        return false;
      }
      out.push_back({info, {}});
    }
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  for (size_t i = 1; i < args.size(); ++i) {
    if (args[i].find('/') != std::string::npos) {
      err << "error: arguments in resource/name form must have a single resource and name\n";
      return false;
    }
    for (auto& r : out) r.names.push_back(args[i]);
  }
  return !out.empty();
}

json WithTypeMeta(json obj, const api::ResourceInfo& info) {
  if (obj.is_object()) {
    if (!obj.contains("kind")) obj["kind"] = info.kind;
    if (!obj.contains("apiVersion")) obj["apiVersion"] = info.ApiVersion();
  }
  return obj;
}

}  // namespace

int RunGet(const ClientOptions& opts, const std::vector<std::string>& args,
           const std::string& output, const std::string& labelSelector, std::ostream& out,
           std::ostream& err) {
  if (!output.empty() && output != "wide" && output != "yaml" && output != "json" &&
      output != "name") {
    err << "error: unable to match a printer suitable for the output format \"" << output
        << "\", allowed formats are: json,name,wide,yaml\n";
    return 1;
  }
  std::vector<Request> reqs;
  if (!ParseArgs(args, reqs, err)) return 1;
  auto session = OpenSession(opts, err);
  if (!session) return 1;
  ApiClient& c = *session->client;
  const bool human = output.empty() || output == "wide";
  const bool severalKinds = reqs.size() > 1;
  int rc = 0;
  bool printedTable = false;
  size_t total = 0;
  json items = json::array();
  bool singleObject = reqs.size() == 1 && reqs[0].names.size() == 1;
  json single;
  std::string accept = human ? kTableAccept : "application/json";

  for (const auto& rq : reqs) {
    const api::ResourceInfo& info = *rq.info;
    std::string ns = opts.allNamespaces ? "" : session->ns;
    json table;  // rows merged for this type (human output)
    auto addTable = [&](const json& t) {
      if (table.is_null()) {
        table = t;
      } else if (t.contains("rows")) {
        for (const auto& r : t["rows"]) table["rows"].push_back(r);
      }
    };
    auto handle = [&](const HttpResult& r) {
      json body = json::parse(r.body, nullptr, false);
      if (human) {
        if (body.is_object() && body.value("kind", "") == "Table") {
          addTable(body);
        } else {  // a server without Tables: print the same columns ourselves
          std::vector<json> objs;
          if (body.is_object() && body.contains("items") && body["items"].is_array()) {
            for (const auto& i : body["items"]) objs.push_back(i);
          } else if (body.is_object()) {
            objs.push_back(body);
          }
          addTable(apiserver::BuildTable(info, objs, true, NowUnix()));
        }
      } else if (body.is_object() && body.contains("items") && body["items"].is_array()) {
        for (const auto& i : body["items"]) items.push_back(WithTypeMeta(i, info));
      } else {
        single = WithTypeMeta(body, info);
        items.push_back(single);
      }
    };

    if (rq.names.empty()) {
      std::string target = CollectionPath(info, info.namespaced ? ns : "") + "?limit=500";
      if (!labelSelector.empty()) target += "&labelSelector=" + QueryEscape(labelSelector);
      auto r = c.Do("GET", target, "", "", accept);
      if (!r.ok()) {
        err << FormatTransportError(c.config(), r.status()) << "\n";
        return 1;
      }
      if (r->status != 200) {
        err << FormatServerError(*r) << "\n";
        rc = 1;
        continue;
      }
      handle(*r);
    } else {
      for (const auto& name : rq.names) {
        auto r = c.Do("GET", ObjectPath(info, session->ns, name), "", "", accept);
        if (!r.ok()) {
          err << FormatTransportError(c.config(), r.status()) << "\n";
          return 1;
        }
        if (r->status != 200) {
          err << FormatServerError(*r) << "\n";
          rc = 1;
          continue;
        }
        handle(*r);
      }
    }

    if (human && !table.is_null() && table.contains("rows") && !table["rows"].empty()) {
      TableRenderOptions ro;
      ro.wide = output == "wide";
      ro.withNamespace = opts.allNamespaces && info.namespaced;
      if (severalKinds) ro.kindPrefix = KindGroup(info);
      if (printedTable) out << "\n";
      out << RenderTable(table, ro);
      printedTable = true;
      total += table["rows"].size();
    }
  }

  if (human) {
    if (total == 0 && rc == 0) {
      bool anyNamespaced = false;
      for (const auto& rq : reqs) anyNamespaced |= rq.info->namespaced;
      if (anyNamespaced && !opts.allNamespaces) {
        err << "No resources found in " << session->ns << " namespace.\n";
      } else {
        err << "No resources found\n";
      }
    }
    return rc;
  }
  if (output == "name") {
    for (const auto& o : items) {
      const api::ResourceInfo* info = ResolveKind(o.value("apiVersion", ""), o.value("kind", ""));
      std::string kg = info ? KindGroup(*info) : o.value("kind", "");
      out << kg << "/" << (o.contains("metadata") ? o["metadata"].value("name", "") : "") << "\n";
    }
    return rc;
  }
  json doc;
  if (singleObject && items.size() == 1) {
    doc = single;
  } else {
    if (rc != 0 && items.empty()) return rc;
    doc = {{"apiVersion", "v1"},
           {"items", items},
           {"kind", "List"},
           {"metadata", {{"resourceVersion", ""}}}};
  }
  if (output == "json") {
    out << doc.dump(4) << "\n";
  } else {
    out << JsonToYaml(doc);
  }
  return rc;
}

}  // namespace kvol::cli
