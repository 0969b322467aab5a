// kvol.io/local, node half: a volume is the directory DIR/local/<volume-id> on this node (made by
// LocalDriver, the controller half). Nothing to stage: NodePublishVolume bind-mounts that directory
// onto the target path (creating the target directory), read-only when asked;
// NodeUnpublishVolume unmounts it and removes the (then empty) target directory.
//
// - volumeMode Block is not supported (kInvalid): a directory has no device.
// - A volume whose directory does not exist is kNotFound.
// - Every call is idempotent (publishing a published target is OK; unpublishing a target that is
//   not there is OK). NodeStageVolume / NodeUnstageVolume are no-ops (NeedsStaging() is false).
//
// Thread safety: calls for different volumes may run concurrently (no state besides the paths).
#pragma once

#include <string>

#include "kvol/driver/node_driver.h"
#include "kvol/os/mount.h"

namespace kvol::driver {

class LocalNodeDriver : public NodeDriver {
 public:
  // `mounter` must outlive the driver.
  explicit LocalNodeDriver(std::string dataDir, os::Mounter& mounter = os::RealMounter());

  std::string Name() const override;
  bool NeedsStaging() const override { return false; }
  Status NodeStageVolume(const NodeStageRequest& req) override;
  Status NodeUnstageVolume(const std::string& volumeId, const std::string& stagingPath) override;
  Status NodePublishVolume(const NodePublishRequest& req) override;
  Status NodeUnpublishVolume(const std::string& volumeId, const std::string& targetPath) override;

  // <dataDir>/local/<volumeId>
  std::string VolumePath(const std::string& volumeId) const;

 private:
  std::string root_;
  os::Mounter& mounter_;
};

}  // namespace kvol::driver
