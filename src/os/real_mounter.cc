// RealMounter: the Mounter that makes the mount(2)/umount2(2) calls.
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statvfs.h>

#include <climits>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <optional>
#include <sstream>

#include "kvol/os/mount.h"
#include "src/os/os_internal.h"

namespace kvol::os {
namespace internal {

unsigned long CurrentMountFlags(const std::string& target) {
  struct statvfs sv;
  if (::statvfs(target.c_str(), &sv) != 0) return 0;
  unsigned long f = 0;
  if (sv.f_flag & ST_NOSUID) f |= MS_NOSUID;
  if (sv.f_flag & ST_NODEV) f |= MS_NODEV;
  if (sv.f_flag & ST_NOEXEC) f |= MS_NOEXEC;
  if (sv.f_flag & ST_NOATIME) f |= MS_NOATIME;
  if (sv.f_flag & ST_NODIRATIME) f |= MS_NODIRATIME;
  if (sv.f_flag & ST_RELATIME) f |= MS_RELATIME;
  if (sv.f_flag & ST_RDONLY) f |= MS_RDONLY;
  return f;
}

Status RemountBindReadOnly(const std::string& target) {
  const unsigned long keep = CurrentMountFlags(target) & ~static_cast<unsigned long>(MS_RDONLY);
  if (::mount(nullptr, target.c_str(), nullptr, MS_REMOUNT | MS_BIND | MS_RDONLY | keep, nullptr) !=
      0) {
    return ErrnoStatus("remount read-only", target, errno);
  }
  return Status::Ok();
}

}  // namespace internal
namespace {

using internal::ErrnoStatus;

// The topmost mount entry at exactly `path` (realpath'd by the caller through IsMountPoint).
Result<std::optional<MountInfo>> TopMountAt(const std::string& path) {
  KVOL_ASSIGN_OR_RETURN(bool mp, IsMountPoint(path));
  if (!mp) return std::optional<MountInfo>();
  KVOL_ASSIGN_OR_RETURN(std::vector<MountInfo> under, MountsUnder(path));
  char buf[PATH_MAX];
  const std::string real = ::realpath(path.c_str(), buf) ? buf : path;
  for (const MountInfo& m : under) {
    if (m.mountPoint == real) return std::optional<MountInfo>(m);  // topmost first
  }
  return std::optional<MountInfo>();
}

// Splits mount(8)-style options into MS_* flags and the filesystem's own data string.
void SplitOptions(const std::string& options, unsigned long& flags, std::string& data) {
  static const std::map<std::string, std::pair<unsigned long, bool>> kFlags = {
      {"ro", {MS_RDONLY, true}},
      {"rw", {MS_RDONLY, false}},
      {"nosuid", {MS_NOSUID, true}},
      {"suid", {MS_NOSUID, false}},
      {"nodev", {MS_NODEV, true}},
      {"dev", {MS_NODEV, false}},
      {"noexec", {MS_NOEXEC, true}},
      {"exec", {MS_NOEXEC, false}},
      {"sync", {MS_SYNCHRONOUS, true}},
      {"async", {MS_SYNCHRONOUS, false}},
      {"dirsync", {MS_DIRSYNC, true}},
      {"noatime", {MS_NOATIME, true}},
      {"atime", {MS_NOATIME, false}},
      {"nodiratime", {MS_NODIRATIME, true}},
      {"diratime", {MS_NODIRATIME, false}},
      {"relatime", {MS_RELATIME, true}},
      {"norelatime", {MS_RELATIME, false}},
      {"strictatime", {MS_STRICTATIME, true}},
      {"lazytime", {MS_LAZYTIME, true}},
      {"defaults", {0, true}},
  };
  std::stringstream ss(options);
  std::string o;
  while (std::getline(ss, o, ',')) {
    if (o.empty()) continue;
    auto it = kFlags.find(o);
    if (it == kFlags.end()) {
      data += (data.empty() ? "" : ",") + o;
    } else if (it->second.second) {
      flags |= it->second.first;
    } else {
      flags &= ~it->second.first;
    }
  }
}

class RealMounterImpl final : public Mounter {
 public:
  Status BindMount(const std::string& src, const std::string& dst, bool readOnly,
                   bool recursive) override {
    struct stat st;
    if (::stat(src.c_str(), &st) != 0) return ErrnoStatus("bind mount " + src + " on", dst, errno);
    KVOL_ASSIGN_OR_RETURN(std::optional<MountInfo> top, TopMountAt(dst));
    struct stat dt;
    if (top && ::stat(dst.c_str(), &dt) == 0 && dt.st_dev == st.st_dev && dt.st_ino == st.st_ino) {
      // Already a bind of src (a bind shows the very same inode): done, made read-only if asked.
      if (readOnly && !top->readOnly()) return internal::RemountBindReadOnly(dst);
      return Status::Ok();
    }
    unsigned long flags = MS_BIND | (recursive ? MS_REC : 0);
    if (::mount(src.c_str(), dst.c_str(), nullptr, flags, nullptr) != 0) {
      return ErrnoStatus("bind mount " + src + " on", dst, errno);
    }
    if (readOnly) {
      Status s = internal::RemountBindReadOnly(dst);
      if (!s.ok()) {
        ::umount2(dst.c_str(), recursive ? MNT_DETACH : 0);
        return s;
      }
    }
    return Status::Ok();
  }

  Status MountTmpfs(const std::string& dst, int64_t sizeBytes, unsigned mode) override {
    KVOL_ASSIGN_OR_RETURN(std::optional<MountInfo> top, TopMountAt(dst));
    if (top && top->fsType == "tmpfs") return Status::Ok();
    char data[64];
    if (sizeBytes > 0) {
      std::snprintf(data, sizeof data, "size=%lld,mode=%o", static_cast<long long>(sizeBytes),
                    mode);
    } else {
      std::snprintf(data, sizeof data, "mode=%o", mode);
    }
    if (::mount("tmpfs", dst.c_str(), "tmpfs", 0, data) != 0) {
      return ErrnoStatus("mount tmpfs on", dst, errno);
    }
    return Status::Ok();
  }

  Status MountFilesystem(const std::string& device, const std::string& dst,
                         const std::string& fsType, const std::string& options,
                         bool readOnly) override {
    struct stat st;
    if (!device.empty() && device[0] == '/' && ::stat(device.c_str(), &st) != 0) {
      return ErrnoStatus("mount " + device + " on", dst, errno);
    }
    KVOL_ASSIGN_OR_RETURN(std::optional<MountInfo> top, TopMountAt(dst));
    if (top) {
      char buf[PATH_MAX];
      const std::string realDev =
          (!device.empty() && device[0] == '/' && ::realpath(device.c_str(), buf)) ? buf : device;
      if (top->source == device || top->source == realDev) {
        internal::ReleaseLoopHoldInternal(device);
        return Status::Ok();
      }
    }
    unsigned long flags = 0;
    std::string data;
    SplitOptions(options, flags, data);
    if (readOnly) flags |= MS_RDONLY;
    if (::mount(device.c_str(), dst.c_str(), fsType.c_str(), flags,
                data.empty() ? nullptr : data.c_str()) != 0) {
      return ErrnoStatus("mount " + device + " on", dst, errno);
    }
    // The mount now holds the device: an autoclear loop device may let go of AttachLoop's hold.
    internal::ReleaseLoopHoldInternal(device);
    return Status::Ok();
  }

  Status Unmount(const std::string& dst, bool lazy) override {
    if (::umount2(dst.c_str(), UMOUNT_NOFOLLOW | (lazy ? MNT_DETACH : 0)) != 0) {
      if (errno == EINVAL || errno == ENOENT || errno == ENOTDIR) return Status::Ok();
      return ErrnoStatus("umount", dst, errno);
    }
    return Status::Ok();
  }

  Status UnmountAllUnder(const std::string& dir) override {
    for (int round = 0; round < 16; ++round) {
      KVOL_ASSIGN_OR_RETURN(std::vector<MountInfo> mounts, MountsUnder(dir));
      if (mounts.empty()) return Status::Ok();
      // A mount hidden under a later one (a/b/c covered by a bind on a/b) cannot be reached by
      // its path until the cover is gone, and its parent stays busy: keep going round while
      // each round unmounts something.
      bool progress = false;
      Status first;
      for (const MountInfo& m : mounts) {
        if (::umount2(m.mountPoint.c_str(), UMOUNT_NOFOLLOW) == 0) {
          progress = true;
        } else if (errno != EINVAL && errno != ENOENT && first.ok()) {
          first = ErrnoStatus("umount", m.mountPoint, errno);
        }
      }
      if (!progress) {
        return first.ok() ? Internal("umount " + dir + ": mounts below it cannot be reached")
                          : first;
      }
    }
    return Internal("umount " + dir + ": mounts remain after 16 rounds");
  }
};

}  // namespace

Mounter& RealMounter() {
  static RealMounterImpl m;
  return m;
}

}  // namespace kvol::os
