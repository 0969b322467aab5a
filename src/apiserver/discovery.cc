#include "kvol/apiserver/discovery.h"

#include <set>
#include <vector>

#include "kvol/apiserver/errors.h"

namespace kvol::apiserver {

using api::json;

namespace {

const std::vector<std::string> kVerbs = {"create", "delete", "get",  "list",
                                         "patch",  "update", "watch"};
const std::vector<std::string> kStatusVerbs = {"get", "patch", "update"};

// Group/versions in registration order, core first.
std::vector<std::pair<std::string, std::string>> GroupVersions(const api::Scheme& s) {
  std::vector<std::pair<std::string, std::string>> out;
  for (const auto& k : s.all()) {
    std::pair<std::string, std::string> gv{k->info().group, k->info().version};
    bool seen = false;
    for (const auto& o : out) seen = seen || o == gv;
    if (!seen) out.push_back(gv);
  }
  return out;
}

std::string GvPath(const std::string& group, const std::string& version) {
  return group.empty() ? "api/" + version : "apis/" + group + "/" + version;
}

json AggregatedResource(const api::ResourceInfo& i) {
  json kind = {{"group", i.group}, {"version", i.version}, {"kind", i.kind}};
  json r = {{"resource", i.resource},
            {"responseKind", kind},
            {"scope", i.namespaced ? "Namespaced" : "Cluster"},
            {"singularResource", i.singular},
            {"verbs", kVerbs}};
  if (!i.shortNames.empty()) r["shortNames"] = i.shortNames;
  if (!i.categories.empty()) r["categories"] = i.categories;
  if (i.hasStatus) {
    r["subresources"] =
        json::array({{{"subresource", "status"}, {"responseKind", kind}, {"verbs", kStatusVerbs}}});
  }
  return r;
}

}  // namespace

json VersionInfo() {
  return {{"major", "1"},
          {"minor", "32"},
          {"gitVersion", "v1.32.0-kvol"},
          {"gitCommit", "kvol"},
          {"gitTreeState", "clean"},
          {"buildDate", "2026-11-01T00:00:00Z"},
          {"goVersion", "go1.23.0"},
          {"compiler", "gc"},
          {"platform", "linux/amd64"}};
}

bool WantsAggregated(const std::string& accept) {
  // kubectl lists v2 first; any mention of the v2 discovery list is a request for it.
  auto p = accept.find("as=APIGroupDiscoveryList");
  if (p == std::string::npos) return false;
  auto v2 = accept.find("v=v2;");
  auto v2b = accept.find("v=v2,");
  return v2 != std::string::npos || v2b != std::string::npos ||
         accept.find("v=v2;as=APIGroupDiscoveryList") != std::string::npos;
}

Response DiscoveryRoot(const api::Scheme& s, bool core, const std::string& accept) {
  auto gvs = GroupVersions(s);
  if (WantsAggregated(accept)) {
    json items = json::array();
    std::vector<std::string> groups;
    for (const auto& [g, v] : gvs) {
      if (core != g.empty()) continue;
      bool seen = false;
      for (const auto& x : groups) seen = seen || x == g;
      if (!seen) groups.push_back(g);
    }
    for (const auto& g : groups) {
      json versions = json::array();
      for (const auto& [gg, v] : gvs) {
        if (gg != g) continue;
        json res = json::array();
        for (const auto& k : s.all()) {
          if (k->info().group == g && k->info().version == v)
            res.push_back(AggregatedResource(k->info()));
        }
        versions.push_back({{"version", v}, {"resources", res}, {"freshness", "Current"}});
      }
      items.push_back({{"metadata", {{"name", g}}}, {"versions", versions}});
    }
    Response r = JsonResponse({{"kind", "APIGroupDiscoveryList"},
                               {"apiVersion", "apidiscovery.k8s.io/v2"},
                               {"metadata", json::object()},
                               {"items", items}});
    r.contentType = kAggregatedDiscoveryType;
    return r;
  }
  if (core) {
    return JsonResponse(
        {{"kind", "APIVersions"},
         {"versions", {"v1"}},
         {"serverAddressByClientCIDRs", {{{"clientCIDR", "0.0.0.0/0"}, {"serverAddress", ""}}}}});
  }
  json groups = json::array();
  std::vector<std::string> names;
  for (const auto& [g, v] : gvs) {
    if (g.empty()) continue;
    bool seen = false;
    for (const auto& x : names) seen = seen || x == g;
    if (!seen) names.push_back(g);
  }
  for (const auto& g : names) {
    json versions = json::array();
    for (const auto& [gg, v] : gvs)
      if (gg == g) versions.push_back({{"groupVersion", g + "/" + v}, {"version", v}});
    groups.push_back({{"name", g}, {"versions", versions}, {"preferredVersion", versions.at(0)}});
  }
  return JsonResponse({{"kind", "APIGroupList"}, {"apiVersion", "v1"}, {"groups", groups}});
}

std::optional<json> ResourceList(const api::Scheme& s, const std::string& group,
                                 const std::string& version) {
  json res = json::array();
  for (const auto& k : s.all()) {
    const auto& i = k->info();
    if (i.group != group || i.version != version) continue;
    json r = {{"name", i.resource},
              {"singularName", i.singular},
              {"namespaced", i.namespaced},
              {"kind", i.kind},
              {"verbs", kVerbs}};
    if (!i.shortNames.empty()) r["shortNames"] = i.shortNames;
    if (!i.categories.empty()) r["categories"] = i.categories;
    res.push_back(r);
    if (i.hasStatus) {
      res.push_back({{"name", i.resource + "/status"},
                     {"singularName", ""},
                     {"namespaced", i.namespaced},
                     {"kind", i.kind},
                     {"verbs", kStatusVerbs}});
    }
  }
  if (res.empty()) return std::nullopt;
  return json{{"kind", "APIResourceList"},
              {"apiVersion", "v1"},
              {"groupVersion", group.empty() ? version : group + "/" + version},
              {"resources", res}};
}

json OpenApiRoot(const api::Scheme& s) {
  json paths = json::object();
  for (const auto& [g, v] : GroupVersions(s)) {
    std::string p = GvPath(g, v);
    paths[p] = {{"serverRelativeURL", "/openapi/v3/" + p}};
  }
  return {{"paths", paths}};
}

std::optional<json> OpenApiGroupVersion(const api::Scheme& s, const std::string& gvPath) {
  json paths = json::object();
  json schemas = json::object();
  for (const auto& k : s.all()) {
    const auto& i = k->info();
    if (GvPath(i.group, i.version) != gvPath) continue;
    std::string base =
        "/" + gvPath + (i.namespaced ? "/namespaces/{namespace}/" : "/") + i.resource + "/{name}";
    json gvk = {{"group", i.group}, {"version", i.version}, {"kind", i.kind}};
    json params = json::array(
        {{{"name", "fieldValidation"}, {"in", "query"}, {"schema", {{"type", "string"}}}},
         {{"name", "fieldManager"}, {"in", "query"}, {"schema", {{"type", "string"}}}}});
    json op = {{"x-kubernetes-group-version-kind", gvk},
               {"x-kubernetes-action", "patch"},
               {"parameters", params},
               {"responses", {{"200", {{"description", "OK"}}}}}};
    paths[base] = {{"patch", op}};
    if (i.hasStatus) {
      json st = op;
      paths[base + "/status"] = {{"patch", st}};
    }
  }
  if (paths.empty()) return std::nullopt;
  return json{{"openapi", "3.0.0"},
              {"info", {{"title", "Kubernetes"}, {"version", "v1.32.0"}}},
              {"paths", paths},
              {"components", {{"schemas", schemas}}}};
}

}  // namespace kvol::apiserver
