// The block pool of kvol.io/block (both halves use it): the directory that holds one sparse image
// file per volume, <pool>/<volume-id>.img. Snapshots and clones are reflink copies, so the pool
// must be on a filesystem that can reflink:
// - a pool directory already on XFS or btrfs is used as it is;
// - otherwise (this machine's root fs is ext4) the pool is a sparse XFS image <pool>.xfs (20Gi,
//   mkfs.xfs -m reflink=1), made at first use (Ensure(create=true)) and loop-mounted at <pool>;
//   Ensure(create=false) re-mounts an existing image (after a reboot or a clean stop) and does
//   nothing when there is none yet.
// - When the pool is inside the node's data dir (the default DIR/block), DIR is first made an
//   rshared bind of itself, exactly as the node runtime does before its first container
//   (src/runtime/crun_runtime.cc): a pool mounted before that bind would be copied into it and
//   its original, hidden under the bind, could then never be unmounted.
// - Release() (a clean node stop) unmounts a pool image this machine mounted when no volume of it
//   is attached (the loop device goes with it: autoclear); a busy pool stays mounted.
//
// Thread safety: Ensure/Release may run concurrently, also from several processes (flock on the
// pool directory).
#pragma once

#include <cstdint>
#include <string>

#include "kvol/common/status.h"

namespace kvol::driver {

inline constexpr int64_t kBlockPoolImageBytes = int64_t{20} << 30;  // 20Gi, sparse

class BlockPool {
 public:
  // path: the pool directory (--block-pool); dataDir: the node's DIR ("" = no self-bind).
  BlockPool(std::string path, std::string dataDir);

  // Makes the pool usable (see above). With create=false and no pool image yet: OK, nothing done.
  Status Ensure(bool create);
  Status Release();

  const std::string& path() const { return path_; }
  std::string backingImage() const { return path_ + ".xfs"; }
  std::string ImagePath(const std::string& volumeId) const {
    return path_ + "/" + volumeId + ".img";
  }

 private:
  Status EnsureLocked(bool create);
  Status SelfBindDataDir();

  std::string path_;
  std::string dataDir_;
};

// "<dataDir>/block" unless `pool` is given; made absolute.
std::string BlockPoolPath(const std::string& dataDir, const std::string& pool);

}  // namespace kvol::driver
