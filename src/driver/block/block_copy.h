// Internal to kvol_driver_block: copying volume images for snapshots, restores and clones, and
// quiescing the filesystem on an image while it is copied.
//
// - CopyImage(src, dst): dst (created; must not exist) gets src's bytes and size. By reflink
//   (FICLONE: instant, blocks shared copy-on-write) when both are on a filesystem that can
//   (XFS with reflink=1, btrfs) and `allowReflink`; otherwise (EOPNOTSUPP, EXDEV, EINVAL...) by a
//   sparse copy: only the data extents (SEEK_DATA/SEEK_HOLE) are read and written, holes stay
//   holes. On error dst is removed.
// - ImageQuiescer::Quiesce(image): for every loop device backed by `image` (os::LoopDevicesFor)
//   that is mounted in this process's mount namespace, freezes the filesystem (FIFREEZE on one of
//   its mount points: fsfreeze -f), so its on-disk state is clean and stops changing; a device
//   that is not mounted (volumeMode Block) has its page cache flushed (fsync) instead. The
//   destructor thaws (FITHAW) everything it froze, in every outcome (RAII). A filesystem that
//   cannot be frozen (someone else froze it: EBUSY) is kUnavailable naming the mount point.
//
// Thread safety: stateless functions; one ImageQuiescer per copy. Two concurrent quiescers of the
// same image conflict (the second gets kUnavailable); callers serialise per source.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "kvol/common/status.h"

namespace kvol::driver {

enum class CopyMethod { kReflink, kSparse };
const char* CopyMethodName(CopyMethod m);

Result<CopyMethod> CopyImage(const std::string& src, const std::string& dst,
                             bool allowReflink = true);

class ImageQuiescer {
 public:
  static Result<std::unique_ptr<ImageQuiescer>> Quiesce(const std::string& image);
  ~ImageQuiescer();
  ImageQuiescer(const ImageQuiescer&) = delete;
  ImageQuiescer& operator=(const ImageQuiescer&) = delete;

  // The mount points frozen (one per loop device that is mounted).
  const std::vector<std::string>& frozen() const { return mountPoints_; }

 private:
  ImageQuiescer() = default;
  std::vector<int> fds_;  // open directories of the frozen mount points
  std::vector<std::string> mountPoints_;
};

}  // namespace kvol::driver
