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
//   Topology (like a cloud disk, made in any zone the request names: the pool is reachable from
//   every node agent of this machine): the zone of the first preferred, else first requisite
//   topology ({"topology.kubernetes.io/zone": z}), or its hostname when it names no zone; with
//   no requisite, this node's zone, else its hostname.
// - DeleteVolume removes the image; never while a loop device is attached to it (kUnavailable,
//   retried by the caller); a missing image is OK.
// - ControllerExpandVolume grows the image (never shrinks: a smaller request returns the current
//   size); node expansion is required (NodeExpansionReporter) so the node grows the filesystem.
// - Snapshots (Snapshotter, kvol/driver/snapshotter.h; block_snapshot.cc): a snapshot is the image
//   <pool>/snapshots/<snapshot-id>.img (id = the content name), copied from the volume's image by
//   reflink (instant) when the pool can, else by a sparse copy (block_copy.h), with every mounted
//   filesystem on the source image frozen (FIFREEZE) for the copy and thawed after it, so a
//   snapshot taken while a writer runs is a clean filesystem. Its source volume and creation
//   time are kept in xattrs of the image (user.kvol.source, user.kvol.created). restoreSize is
//   the source image's size. DeleteSnapshot removes the image (missing: OK).
// - Restore / clone (contentSource on CreateVolume; VolumeCloner): the new image is a reflink
//   (or sparse) copy of the snapshot image / of the source volume's image (quiesced as above),
//   grown to the requested size when larger (the node half grows the filesystem at stage); a
//   request smaller than the source is kInvalid. An xfs copy gets a new filesystem UUID so it
//   mounts next to its source.
//
// Thread safety: calls for different volumes may run concurrently.
#pragma once

#include <atomic>
#include <string>

#include "kvol/driver/driver.h"
#include "kvol/driver/snapshotter.h"
#include "src/driver/block/block_common.h"
#include "src/driver/block/block_pool.h"

namespace kvol::driver {

class BlockDriver : public ControllerDriver,
                    public NodeExpansionReporter,
                    public Snapshotter,
                    public VolumeCloner {
 public:
  // dataDir: DIR; pool: --block-pool ("" = DIR/block); zone: the node's zone ("" = none).
  BlockDriver(std::string dataDir, std::string pool, std::string nodeName, std::string zone);

  std::string Name() const override { return kBlockDriverName; }
  Result<VolumeInfo> CreateVolume(const CreateVolumeRequest& req) override;
  Status DeleteVolume(const std::string& volumeId) override;
  Result<int64_t> ControllerExpandVolume(const std::string& volumeId,
                                         const CapacityRange& range) override;
  bool NodeExpansionRequired(const std::string&) override { return true; }

  // Snapshotter, VolumeCloner (block_snapshot.cc).
  Result<SnapshotInfo> CreateSnapshot(const CreateSnapshotRequest& req) override;
  Status DeleteSnapshot(const std::string& snapshotId) override;
  Result<SnapshotInfo> GetSnapshot(const std::string& snapshotId) override;
  bool CanClone(const std::string& sourceVolumeId) override;
  std::string SnapshotPath(const std::string& snapshotId) const {
    return pool_.path() + "/snapshots/" + snapshotId + ".img";
  }
  // Tests and benchmarks: false makes every copy a sparse copy (as on a pool without reflink).
  void set_allow_reflink(bool allow) { allowReflink_ = allow; }

  BlockPool& pool() { return pool_; }

 private:
  // Makes `tmp` (absent) from req.contentSource, at least `size` bytes (block_snapshot.cc).
  Status MakeImageFromSource(const CreateVolumeRequest& req, const std::string& tmp, int64_t size);

  BlockPool pool_;
  std::string nodeName_;
  std::string zone_;
  std::atomic<bool> allowReflink_{true};
};

}  // namespace kvol::driver
