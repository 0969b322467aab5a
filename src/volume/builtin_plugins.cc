// BuiltinPlugins(): the explicit list of the node's volume plugins (as cmd/kubelet/app/plugins.go
// lists the kubelet's), and the small helpers every plugin shares.
#include <cstring>
#include <memory>
#include <vector>

#include "src/volume/plugins_internal.h"

namespace kvol::volume {

std::vector<std::unique_ptr<Plugin>> BuiltinPlugins() {
  std::vector<std::unique_ptr<Plugin>> v;
  v.push_back(NewEmptyDirPlugin());
  v.push_back(NewHostPathPlugin());
  v.push_back(NewConfigMapPlugin());
  v.push_back(NewSecretPlugin());
  v.push_back(NewProjectedPlugin());
  v.push_back(NewDownwardApiPlugin());
  v.push_back(NewGitRepoPlugin());
  v.push_back(NewNfsPlugin());
  v.push_back(NewPvcPlugin());
  return v;
}

Status PermissionDenied(std::string message) {
  return Status(Code::kForbidden, std::move(message));
}

Status FailedPrecondition(std::string message) {
  return Status(Code::kForbidden, std::move(message));
}

std::string VolumeDirPath(const std::string& podDir, const std::string& pluginDir,
                          const std::string& dirName) {
  return podDir + "/volumes/" + pluginDir + "/" + dirName;
}

os::Mounter& MounterOf(const NodeContext& node) {
  return node.mounter != nullptr ? *node.mounter : os::RealMounter();
}

Status ErrnoError(const std::string& what, const std::string& path, int err) {
  return Internal(what + " " + path + ": " + std::strerror(err));
}

}  // namespace kvol::volume
