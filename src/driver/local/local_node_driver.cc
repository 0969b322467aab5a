#include "src/driver/local/local_node_driver.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "kvol/os/fs.h"
#include "src/driver/local/local_driver.h"

namespace kvol::driver {
namespace {

// A volume id is one path element (LocalDriver makes them from PV names).
Status CheckVolumeId(const std::string& id) {
  if (id.empty() || id == "." || id == ".." || id.find('/') != std::string::npos ||
      id.find('\0') != std::string::npos) {
    return Invalid("kvol.io/local: invalid volume id \"" + id + "\"");
  }
  return Status::Ok();
}

}  // namespace

LocalNodeDriver::LocalNodeDriver(std::string dataDir, os::Mounter& mounter)
    : root_(std::move(dataDir) + "/local"), mounter_(mounter) {}

std::string LocalNodeDriver::Name() const { return kLocalDriverName; }

std::string LocalNodeDriver::VolumePath(const std::string& volumeId) const {
  return root_ + "/" + volumeId;
}

Status LocalNodeDriver::NodeStageVolume(const NodeStageRequest&) { return Status::Ok(); }

Status LocalNodeDriver::NodeUnstageVolume(const std::string&, const std::string&) {
  return Status::Ok();
}

Status LocalNodeDriver::NodePublishVolume(const NodePublishRequest& req) {
  KVOL_RETURN_IF_ERROR(CheckVolumeId(req.volumeId));
  if (req.block) {
    return Invalid("kvol.io/local does not support volumeMode Block (volume \"" + req.volumeId +
                   "\" is a directory)");
  }
  if (req.targetPath.empty() || req.targetPath[0] != '/') {
    return Invalid("kvol.io/local: target path \"" + req.targetPath + "\" must be absolute");
  }
  const std::string src = VolumePath(req.volumeId);
  struct stat st;
  if (::stat(src.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) {
    return NotFound("kvol.io/local: volume \"" + req.volumeId + "\" not found (" + src +
                    " does not exist on this node)");
  }
  KVOL_RETURN_IF_ERROR(os::MakeDirs(req.targetPath, 0750));
  KVOL_ASSIGN_OR_RETURN(bool mounted, os::IsMountPoint(req.targetPath));
  if (mounted) return Status::Ok();
  return mounter_.BindMount(src, req.targetPath, req.readOnly);
}

Status LocalNodeDriver::NodeUnpublishVolume(const std::string& volumeId,
                                            const std::string& targetPath) {
  KVOL_RETURN_IF_ERROR(CheckVolumeId(volumeId));
  if (targetPath.empty() || targetPath[0] != '/') {
    return Invalid("kvol.io/local: target path \"" + targetPath + "\" must be absolute");
  }
  KVOL_RETURN_IF_ERROR(mounter_.Unmount(targetPath));
  if (::rmdir(targetPath.c_str()) != 0 && errno != ENOENT) {
    return Internal("removing " + targetPath + ": " + std::strerror(errno));
  }
  return Status::Ok();
}

}  // namespace kvol::driver
