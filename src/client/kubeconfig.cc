// kubeconfig loading: the current context's cluster server, CA and user token, as kubectl picks
// them.
#include <cstdlib>
#include <fstream>
#include <sstream>

#include "kvol/api/yaml.h"
#include "kvol/client/client.h"

namespace kvol::client {

namespace {

// A scalar field of a map as text ("" when absent or not a scalar); YAML booleans and numbers
// print as written (true, 8443).
std::string ScalarAt(const json& n, const char* key) {
  if (!n.is_object()) return "";
  auto it = n.find(key);
  if (it == n.end() || it->is_structured() || it->is_null()) return "";
  return it->is_string() ? it->get<std::string>() : it->dump();
}

// The `field` map of the entry called `name` in the list `listKey` ("clusters", "users"...).
json Named(const json& root, const char* listKey, const std::string& name, const char* field) {
  auto list = root.find(listKey);
  if (list == root.end() || !list->is_array()) return json();
  for (const auto& e : *list) {
    if (e.is_object() && ScalarAt(e, "name") == name) return e.value(field, json());
  }
  return json();
}

// The `field` of the only entry of `listKey`, when there is exactly one.
json OnlyEntry(const json& root, const char* listKey, const char* field) {
  auto list = root.find(listKey);
  if (list == root.end() || !list->is_array() || list->size() != 1 || !(*list)[0].is_object())
    return json();
  return (*list)[0].value(field, json());
}

}  // namespace

Result<Kubeconfig> ParseKubeconfig(const std::string& yamlText) {
  auto docs = api::ParseYaml(yamlText);
  if (!docs.ok())
    return Status(Code::kBadRequest, "error loading config: " + docs.status().message());
  if (docs->empty() || !(*docs)[0].is_object())
    return Status(Code::kBadRequest, "error loading config: not a map");
  const json& root = (*docs)[0];
  Kubeconfig cfg;
  std::string contextName = ScalarAt(root, "current-context");
  json context;
  if (!contextName.empty()) {
    context = Named(root, "contexts", contextName, "context");
    if (!context.is_object()) {
      return Status(Code::kBadRequest, "error: context \"" + contextName + "\" does not exist");
    }
  } else {
    context = OnlyEntry(root, "contexts", "context");
  }
  std::string clusterName = ScalarAt(context, "cluster");
  std::string userName = ScalarAt(context, "user");
  cfg.ns = ScalarAt(context, "namespace");
  json cluster = Named(root, "clusters", clusterName, "cluster");
  if (!cluster.is_object() && clusterName.empty()) cluster = OnlyEntry(root, "clusters", "cluster");
  cfg.server = ScalarAt(cluster, "server");
  cfg.caData = ScalarAt(cluster, "certificate-authority-data");
  cfg.caFile = ScalarAt(cluster, "certificate-authority");
  cfg.insecureSkipTlsVerify = ScalarAt(cluster, "insecure-skip-tls-verify") == "true";
  json user = Named(root, "users", userName, "user");
  cfg.token = ScalarAt(user, "token");
  if (cfg.server.empty()) {
    return Status(Code::kBadRequest,
                  "invalid configuration: no configuration has been provided, try setting "
                  "KUBERNETES_MASTER environment variable");
  }
  while (!cfg.server.empty() && cfg.server.back() == '/') cfg.server.pop_back();
  return cfg;
}

std::string KubeconfigPath(const std::string& flag) {
  if (!flag.empty()) return flag;
  if (const char* env = std::getenv("KUBECONFIG"); env != nullptr && *env != '\0') {
    std::string v = env;
    return v.substr(0, v.find(':'));
  }
  const char* home = std::getenv("HOME");
  return std::string(home ? home : "") + "/.kube/config";
}

Result<Kubeconfig> LoadKubeconfig(const std::string& flag) {
  std::string path = KubeconfigPath(flag);
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status(Code::kNotFound, "error: stat " + path + ": no such file or directory");
  std::stringstream text;
  text << in.rdbuf();
  auto cfg = ParseKubeconfig(text.str());
  // A relative certificate-authority path is relative to the kubeconfig's folder (as kubectl).
  if (cfg.ok() && !cfg->caFile.empty() && cfg->caFile[0] != '/') {
    auto slash = path.rfind('/');
    if (slash != std::string::npos) cfg->caFile = path.substr(0, slash + 1) + cfg->caFile;
  }
  return cfg;
}

}  // namespace kvol::client
