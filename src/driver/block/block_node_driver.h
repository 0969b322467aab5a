// kvol.io/block, node half: the volume <pool>/<volume-id>.img (made by BlockDriver, the
// controller half) on a loop device of this node.
//
// Filesystem volumes (volumeMode Filesystem, fsType ext4 (default) or xfs):
// - NodeStageVolume attaches the image to a loop device (autoclear: the mount holds it), formats
//   it at first use (blkid finds no filesystem: mkfs.ext4 -q -F / mkfs.xfs -q), and mounts it at
//   the staging path. A filesystem of another type than asked is refused (kInvalid). When the
//   image grew since the filesystem was made: ext4 is grown offline (e2fsck -f -p, resize2fs)
//   before the mount (this kernel refuses online ext4 resize); xfs is grown after the mount
//   (xfs_growfs).
// - NodePublishVolume bind-mounts the staging path onto the target directory (made here),
//   read-only when asked.
// Block volumes (volumeMode Block):
// - NodeStageVolume only attaches the image (not autoclear: the device must outlive this process
//   while containers use it);
// - NodePublishVolume bind-mounts the device node onto the target file (made here); read-only
//   publishes get a read-only loop device of their own (a read-only bind of a device node does
//   not stop writes to the device), detached again by NodeUnpublishVolume.
// NodeUnpublishVolume unmounts the target and removes it; NodeUnstageVolume unmounts the staging
// path and detaches every loop device of the image (none is left behind).
// NodeExpandVolume (NodeExpander): refreshes the loop device's size, then xfs_growfs on the
// staged path; ext4 is tried online (resize2fs) and, where the kernel refuses, kUnavailable says
// the filesystem grows when the volume is next staged. A volume not staged here is kUnavailable
// too (it grows when next staged).
//
// Every call is idempotent. A missing image is kNotFound; publishing a volume that is not staged
// is kUnavailable. The pool is (re-)mounted on first use (BlockPool::Ensure(create=false));
// ReleasePool() unmounts it at a clean node stop.
//
// Thread safety: calls for different volumes may run concurrently.
#pragma once

#include <string>

#include "kvol/driver/node_driver.h"
#include "kvol/os/mount.h"
#include "src/driver/block/block_common.h"
#include "src/driver/block/block_pool.h"

namespace kvol::driver {

class BlockNodeDriver : public NodeDriver, public NodeExpander {
 public:
  // dataDir: DIR; pool: --block-pool ("" = DIR/block). `mounter` must outlive the driver.
  BlockNodeDriver(std::string dataDir, std::string pool, os::Mounter& mounter = os::RealMounter());

  std::string Name() const override { return kBlockDriverName; }
  bool NeedsStaging() const override { return true; }
  Status NodeStageVolume(const NodeStageRequest& req) override;
  Status NodeUnstageVolume(const std::string& volumeId, const std::string& stagingPath) override;
  Status NodePublishVolume(const NodePublishRequest& req) override;
  Status NodeUnpublishVolume(const std::string& volumeId, const std::string& targetPath) override;
  Result<int64_t> NodeExpandVolume(const NodeExpandRequest& req) override;

  // A clean node stop: unmounts the pool image when no volume is attached (BlockPool::Release).
  Status ReleasePool() { return pool_.Release(); }
  BlockPool& pool() { return pool_; }

 private:
  Status StageFilesystem(const NodeStageRequest& req, const std::string& image);

  BlockPool pool_;
  os::Mounter& mounter_;
};

}  // namespace kvol::driver
