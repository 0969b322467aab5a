// configMap volumes (kubernetes.io~configmap): the keys of a ConfigMap as files, written with the
// AtomicWriter into a plain directory (as the kubelet's configmap plugin does, on the node's disk).
#include <memory>

#include "src/volume/plugins_internal.h"
#include "src/volume/projected_sources.h"

namespace kvol::volume {

Result<Payload> ItemsPayload(const std::map<std::string, std::string>& data,
                             const std::vector<api::KeyToPath>& items, unsigned defaultMode,
                             bool optional, const std::string& missingKeyMessage) {
  Payload payload;
  if (items.empty()) {
    for (const auto& [key, value] : data) payload[key] = FileProjection{value, defaultMode};
    return payload;
  }
  for (const api::KeyToPath& item : items) {
    auto it = data.find(item.key);
    if (it == data.end()) {
      if (optional) continue;
      return Unavailable(missingKeyMessage + item.key);
    }
    payload[item.path] = FileProjection{it->second, ModeOr(item.mode, defaultMode)};
  }
  return payload;
}

Result<std::map<std::string, std::string>> StringMapField(const json& obj, const char* field,
                                                          const std::string& what) {
  std::map<std::string, std::string> out;
  auto it = obj.find(field);
  if (it == obj.end() || it->is_null()) return out;
  if (!it->is_object()) return Internal(what + ": " + field + " is not an object");
  for (auto e = it->begin(); e != it->end(); ++e) {
    if (!e.value().is_string()) {
      return Internal(what + ": " + field + "[" + e.key() + "] is not a string");
    }
    out[e.key()] = e.value().get<std::string>();
  }
  return out;
}

Result<Payload> ConfigMapPayload(ObjectSource& objects, const std::string& ns,
                                 const std::string& name, const std::vector<api::KeyToPath>& items,
                                 unsigned defaultMode, bool optional) {
  Result<json> got = objects.Get("configmaps", ns, name);
  if (!got.ok()) {
    if (!got.status().IsNotFound()) return got.status();
    if (optional) return Payload{};
    return Unavailable("configmap \"" + name + "\" not found");
  }
  std::string what = "configmap \"" + name + "\"";
  KVOL_ASSIGN_OR_RETURN(auto data, StringMapField(*got, "data", what));
  KVOL_ASSIGN_OR_RETURN(auto binary, StringMapField(*got, "binaryData", what));
  for (const auto& [key, b64] : binary) {
    Result<std::string> raw = Base64Decode(b64);
    if (!raw.ok()) return Internal(what + ": binaryData[" + key + "]: " + raw.status().message());
    data.emplace(key, std::move(*raw));  // a key in both is refused by validation; data wins
  }
  return ItemsPayload(data, items, defaultMode, optional,
                      "configmap references non-existent config key: ");
}

namespace {

constexpr const char* kPluginDir = "kubernetes.io~configmap";

class ConfigMapPlugin : public Plugin {
 public:
  std::string PluginDir() const override { return kPluginDir; }
  bool CanHandle(const api::Volume& v) const override { return v.configMap.has_value(); }

  Result<MountedVolume> SetUp(const VolumeRequest& req) override {
    const api::ConfigMapVolumeSource& src = *req.volume->configMap;
    KVOL_ASSIGN_OR_RETURN(
        Payload payload,
        ConfigMapPayload(*req.objects, req.pod->metadata.namespace_, src.name, src.items,
                         ModeOr(src.defaultMode, kDefaultFileMode), src.optional.value_or(false)));
    return SetUpPayloadVolume(req, kPluginDir, payload, /*onTmpfs=*/false);
  }

  Status TearDown(const NodeContext& node, const std::string& podDir,
                  const std::string& dirName) override {
    return TearDownPayloadVolume(node, podDir, kPluginDir, dirName);
  }

  std::vector<ObjectRef> References(const api::Pod& pod, const api::Volume& v) const override {
    if (!v.configMap) return {};
    return {ObjectRef{"configmaps", pod.metadata.namespace_, v.configMap->name}};
  }
};

}  // namespace

std::unique_ptr<Plugin> NewConfigMapPlugin() { return std::make_unique<ConfigMapPlugin>(); }

}  // namespace kvol::volume
