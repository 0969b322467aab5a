// SetUp/TearDown steps shared by configMap, secret, projected and downwardAPI volumes.
#include <algorithm>

#include "kvol/os/fs.h"
#include "kvol/os/mount.h"
#include "src/volume/plugins_internal.h"
#include "src/volume/projected_sources.h"

namespace kvol::volume {
namespace {

constexpr int64_t kPage = 4096;
constexpr int64_t kMiB = 1 << 20;

// A tmpfs charges whole pages per file and per directory. Room for the payload twice (the old
// and the new timestamped directory live side by side during an update) plus 8 MiB, so an object
// may grow to the API's 1 MiB limit after the mount without filling it.
int64_t TmpfsSizeFor(const Payload& payload) {
  int64_t pages = kPage;  // the timestamped directory
  for (const auto& [path, fp] : payload) {
    pages += (static_cast<int64_t>(fp.data.size()) + kPage - 1) / kPage * kPage;
    pages += kPage * (1 + static_cast<int64_t>(std::count(path.begin(), path.end(), '/')));
  }
  int64_t size = 2 * pages + 8 * kMiB;
  return (size + kMiB - 1) / kMiB * kMiB;
}

}  // namespace

Status AggregateErrors(const std::vector<Status>& errs) {
  if (errs.empty()) return Status::Ok();
  if (errs.size() == 1) return errs[0];
  std::string msg = "[";
  for (size_t i = 0; i < errs.size(); ++i) msg += (i ? ", " : "") + errs[i].message();
  return Status(errs[0].code(), msg + "]");
}

Result<MountedVolume> SetUpPayloadVolume(const VolumeRequest& req, const std::string& pluginDir,
                                         const Payload& payload, bool onTmpfs) {
  MountedVolume mv;
  mv.pluginDir = pluginDir;
  mv.dirName = req.volume->name;
  mv.hostPath = VolumeDirPath(req.podDir, pluginDir, req.volume->name);
  mv.readOnly = true;
  KVOL_RETURN_IF_ERROR(os::MakeDirs(mv.hostPath, 0755));
  if (onTmpfs) {
    Result<bool> mounted = os::IsMountPoint(mv.hostPath);
    if (!mounted.ok() || !*mounted) {
      KVOL_RETURN_IF_ERROR(
          MounterOf(*req.node).MountTmpfs(mv.hostPath, TmpfsSizeFor(payload), 0755));
    }
  }
  std::optional<int64_t> fsGroup;
  if (req.pod->spec.securityContext) fsGroup = req.pod->spec.securityContext->fsGroup;
  AtomicWriter writer(mv.hostPath, fsGroup);
  Result<bool> wrote = writer.Write(payload);
  if (!wrote.ok()) return wrote.status();
  return mv;
}

Status TearDownPayloadVolume(const NodeContext& node, const std::string& podDir,
                             const std::string& pluginDir, const std::string& dirName) {
  std::string dir = VolumeDirPath(podDir, pluginDir, dirName);
  if (!os::Exists(dir)) return Status::Ok();
  KVOL_RETURN_IF_ERROR(MounterOf(node).UnmountAllUnder(dir));
  return os::RemoveTreeOneFs(dir);
}

}  // namespace kvol::volume
