// The mount table and mount operations of the host (kvol::os). Everything the node agent mounts
// goes through here, in the process's own mount namespace, which for the node agent is the host's.
//
// - ReadMountInfo parses /proc/<pid>/mountinfo (octal escapes \040 decoded).
// - Mount operations are idempotent where that is natural: BindMount/MountTmpfs/MountFilesystem on
//   a target that already has a mount with the same source is OK; Unmount of a path that is not a
//   mount point is OK (returns OK, nothing done).
// - Errors: kInternal with "<op> <path>: <strerror>" (kNotFound when the source does not exist).
//
// Thread safety: all functions may be called concurrently (the kernel serialises mount changes).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "kvol/common/status.h"

namespace kvol::os {

struct MountInfo {
  int id = 0;
  int parentId = 0;
  unsigned major = 0, minor = 0;
  std::string root;          // root of the mount within its filesystem
  std::string mountPoint;    // absolute path
  std::string options;       // per-mount options ("rw,nosuid,relatime")
  std::string fsType;        // "tmpfs", "ext4", "overlay"...
  std::string source;        // "/dev/loop3", "tmpfs"...
  std::string superOptions;  // per-superblock options ("rw,size=65536k")
  bool readOnly() const;     // options has "ro"
};

Result<std::vector<MountInfo>> ReadMountInfo(const std::string& pid = "self");
// Parses the text of a mountinfo file (what ReadMountInfo reads); kInternal naming the line when a
// line is malformed.
Result<std::vector<MountInfo>> ParseMountInfo(const std::string& text);
// The mounts whose mount point is `dir` or below it, deepest first (the order to unmount them).
Result<std::vector<MountInfo>> MountsUnder(const std::string& dir);
// True when `path` is a mount point (its own entry in mountinfo); false when it does not exist.
Result<bool> IsMountPoint(const std::string& path);

// The OS behind an interface: the node agent's plugins call a Mounter so the tests of code that
// only decides what to mount can run without root. RealMounter() does the syscalls.
class Mounter {
 public:
  virtual ~Mounter() = default;
  // mount --bind src dst (dst must exist: a directory for a directory, a file for a file); with
  // readOnly a read-only remount of the bind follows (MS_REMOUNT|MS_BIND|MS_RDONLY), so the
  // bind itself is read-only even if the source is writable. recursive: MS_REC.
  virtual Status BindMount(const std::string& src, const std::string& dst, bool readOnly,
                           bool recursive = false) = 0;
  // tmpfs at dst with size= bytes (0: the kernel default, half of RAM) and mode (e.g. 0777 for
  // emptyDir, 01777 not used).
  virtual Status MountTmpfs(const std::string& dst, int64_t sizeBytes, unsigned mode) = 0;
  // mount -t fsType device dst -o options ("" = defaults); readOnly adds MS_RDONLY. mount(8)'s
  // flag options (ro, nosuid, nodev, noexec, noatime, relatime, sync...) become MS_* flags, the
  // rest go to the filesystem. RealMounter releases AttachLoop's hold on a loop device it mounts.
  virtual Status MountFilesystem(const std::string& device, const std::string& dst,
                                 const std::string& fsType, const std::string& options,
                                 bool readOnly) = 0;
  // umount dst; OK when dst is not a mount point or does not exist. lazy: MNT_DETACH.
  virtual Status Unmount(const std::string& dst, bool lazy = false) = 0;
  // Unmounts every mount at or under dir, deepest first.
  virtual Status UnmountAllUnder(const std::string& dir) = 0;
};

Mounter& RealMounter();

}  // namespace kvol::os
