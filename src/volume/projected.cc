// projected volumes (kubernetes.io~projected): configMap, secret and downwardAPI sources combined
// into one AtomicWriter payload, always on a tmpfs (the kubelet's projected plugin wraps a
// memory-medium emptyDir). serviceAccountToken sources need a token issuer this node does not
// have: refused with kvol's FailedPrecondition naming the source.
#include <memory>

#include "src/volume/plugins_internal.h"
#include "src/volume/projected_sources.h"

namespace kvol::volume {
namespace {

constexpr const char* kPluginDir = "kubernetes.io~projected";

class ProjectedPlugin : public Plugin {
 public:
  std::string PluginDir() const override { return kPluginDir; }
  bool CanHandle(const api::Volume& v) const override { return v.projected.has_value(); }

  Result<MountedVolume> SetUp(const VolumeRequest& req) override {
    const api::ProjectedVolumeSource& src = *req.volume->projected;
    const std::string& ns = req.pod->metadata.namespace_;
    unsigned mode = ModeOr(src.defaultMode, kDefaultFileMode);
    Payload payload;
    std::vector<Status> errs;
    for (const api::VolumeProjection& s : src.sources) {
      Result<Payload> part = Payload{};
      if (s.secret) {
        part = SecretPayload(*req.objects, ns, s.secret->name, s.secret->items, mode,
                             s.secret->optional.value_or(false));
      } else if (s.configMap) {
        part = ConfigMapPayload(*req.objects, ns, s.configMap->name, s.configMap->items, mode,
                                s.configMap->optional.value_or(false));
      } else if (s.downwardAPI) {
        part = DownwardApiPayload(*req.pod, s.downwardAPI->items, mode);
      } else if (s.serviceAccountToken) {
        part = FailedPrecondition(
            "projected volume \"" + req.volume->name + "\": serviceAccountToken source (path \"" +
            s.serviceAccountToken->path + "\") is not supported on this node");
      }
      if (!part.ok()) {
        errs.push_back(part.status());
        continue;
      }
      for (auto& [path, fp] : *part) payload[path] = std::move(fp);  // later sources win
    }
    KVOL_RETURN_IF_ERROR(AggregateErrors(errs));
    return SetUpPayloadVolume(req, kPluginDir, payload, /*onTmpfs=*/true);
  }

  Status TearDown(const NodeContext& node, const std::string& podDir,
                  const std::string& dirName) override {
    return TearDownPayloadVolume(node, podDir, kPluginDir, dirName);
  }

  std::vector<ObjectRef> References(const api::Pod& pod, const api::Volume& v) const override {
    std::vector<ObjectRef> refs;
    if (!v.projected) return refs;
    const std::string& ns = pod.metadata.namespace_;
    bool podRef = false;
    for (const api::VolumeProjection& s : v.projected->sources) {
      if (s.configMap) refs.push_back({"configmaps", ns, s.configMap->name});
      if (s.secret) refs.push_back({"secrets", ns, s.secret->name});
      if (s.downwardAPI && !podRef) {
        refs.push_back({"pods", ns, pod.metadata.name});
        podRef = true;
      }
    }
    return refs;
  }
};

}  // namespace

std::unique_ptr<Plugin> NewProjectedPlugin() { return std::make_unique<ProjectedPlugin>(); }

}  // namespace kvol::volume
