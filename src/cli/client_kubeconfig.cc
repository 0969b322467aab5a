// kubeconfig loading: the current context's cluster server and user token, as kubectl picks them.
#include <yaml-cpp/yaml.h>

#include <cstdlib>

#include "kvol/cli/client.h"

namespace kvol::cli {

namespace {

std::string ScalarAt(const YAML::Node& n, const char* key) {
  if (!n || !n.IsMap()) return "";
  YAML::Node v = n[key];
  return v && v.IsScalar() ? v.Scalar() : "";
}

// The `field` map of the entry called `name` in the list `listKey` ("clusters", "users"...).
YAML::Node Named(const YAML::Node& root, const char* listKey, const std::string& name,
                 const char* field) {
  YAML::Node list = root[listKey];
  if (!list || !list.IsSequence()) return YAML::Node();
  for (const auto& e : list) {
    if (e.IsMap() && ScalarAt(e, "name") == name) return e[field];
  }
  return YAML::Node();
}

}  // namespace

Result<Kubeconfig> ParseKubeconfig(const std::string& yamlText) {
  YAML::Node root;
  try {
    root = YAML::Load(yamlText);
  } catch (const std::exception& e) {
    return Status(Code::kBadRequest, std::string("error loading config: ") + e.what());
  }
  if (!root || !root.IsMap()) return Status(Code::kBadRequest, "error loading config: not a map");
  Kubeconfig cfg;
  std::string contextName = ScalarAt(root, "current-context");
  YAML::Node context;
  if (!contextName.empty()) {
    context = Named(root, "contexts", contextName, "context");
    if (!context || !context.IsMap()) {
      return Status(Code::kBadRequest, "error: context \"" + contextName + "\" does not exist");
    }
  } else if (root["contexts"] && root["contexts"].IsSequence() && root["contexts"].size() == 1) {
    context = root["contexts"][0]["context"];
  }
  std::string clusterName = ScalarAt(context, "cluster");
  std::string userName = ScalarAt(context, "user");
  cfg.ns = ScalarAt(context, "namespace");
  YAML::Node cluster = Named(root, "clusters", clusterName, "cluster");
  if ((!cluster || !cluster.IsMap()) && root["clusters"] && root["clusters"].IsSequence() &&
      root["clusters"].size() == 1 && clusterName.empty()) {
    cluster = root["clusters"][0]["cluster"];
  }
  cfg.server = ScalarAt(cluster, "server");
  cfg.caData = ScalarAt(cluster, "certificate-authority-data");
  cfg.insecureSkipTlsVerify = ScalarAt(cluster, "insecure-skip-tls-verify") == "true";
  YAML::Node user = Named(root, "users", userName, "user");
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
  auto text = ReadFileText(path);
  if (!text.ok()) {
    return Status(Code::kNotFound, "error: stat " + path + ": no such file or directory");
  }
  return ParseKubeconfig(*text);
}

}  // namespace kvol::cli
