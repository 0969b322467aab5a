// kvol.io/block, controller half (EBS-like): a volume is a sparse image file
// <pool>/<volume-id>.img in the block pool (block_pool.h), on the node that runs the controllers.
// The volume id is the requested name (the PV name).
//
// - CreateVolume: the image of the required size rounded up to a MiB (0 = 1Gi), sparse; the
//   returned capacity is that size. Idempotent: an existing image within the capacity range is
//   returned again; one outside it is kAlreadyExists.
//   Parameter csi.storage.k8s.io/fstype: ext4 (default) or xfs (others kInvalid); xfs under 300Mi
//   is kInvalid "xfs volumes must be at least 300Mi: Debian 12's mkfs.xfs refuses smaller
//   filesystems" (volumeMode Block has no filesystem: no minimum). Access mode ReadWriteMany is
//   kInvalid "kvol.io/block volumes are attached to one node: ReadWriteMany is not supported".
//   Topology: {"topology.kubernetes.io/zone": zone} when the node has a zone, else
//   {"kubernetes.io/hostname": node}; a requisite topology naming another node or zone is
//   refused (kInvalid) since the image is made here.
// - DeleteVolume removes the image; never while a loop device is attached to it (kUnavailable,
//   retried by the caller); a missing image is OK.
// - ControllerExpandVolume grows the image (never shrinks: a smaller request returns the current
//   size); node expansion is required (NodeExpansionReporter) so the node grows the filesystem.
//
// Thread safety: calls for different volumes may run concurrently.
#pragma once

#include <string>

#include "kvol/driver/driver.h"
#include "src/driver/block/block_common.h"
#include "src/driver/block/block_pool.h"

namespace kvol::driver {

class BlockDriver : public ControllerDriver, public NodeExpansionReporter {
 public:
  // dataDir: DIR; pool: --block-pool ("" = DIR/block); zone: the node's zone ("" = none).
  BlockDriver(std::string dataDir, std::string pool, std::string nodeName, std::string zone);

  std::string Name() const override { return kBlockDriverName; }
  Result<VolumeInfo> CreateVolume(const CreateVolumeRequest& req) override;
  Status DeleteVolume(const std::string& volumeId) override;
  Result<int64_t> ControllerExpandVolume(const std::string& volumeId,
                                         const CapacityRange& range) override;
  bool NodeExpansionRequired(const std::string&) override { return true; }

  BlockPool& pool() { return pool_; }

 private:
  BlockPool pool_;
  std::string nodeName_;
  std::string zone_;
};

}  // namespace kvol::driver
