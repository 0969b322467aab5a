#include "src/driver/block/block_pool.h"

#include <fcntl.h>
#include <linux/magic.h>
#include <sys/file.h>
#include <sys/mount.h>
#include <sys/vfs.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>

#include "kvol/os/exec.h"
#include "kvol/os/fs.h"
#include "kvol/os/loop.h"
#include "kvol/os/mount.h"
#include "src/driver/block/block_common.h"

namespace kvol::driver {
namespace {

Status Errno(const std::string& what, const std::string& path, int err) {
  return Internal(what + " " + path + ": " + std::strerror(err));
}

std::string Parent(const std::string& p) {
  size_t s = p.rfind('/');
  return s == std::string::npos || s == 0 ? "/" : p.substr(0, s);
}

// An flock on the pool's parent directory, held for the scope (not on the pool itself: an open
// descriptor on a mounted pool would make its unmount fail with EBUSY).
class DirLock {
 public:
  explicit DirLock(const std::string& pool) {
    fd_ = ::open(Parent(pool).c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd_ >= 0) {
      while (::flock(fd_, LOCK_EX) != 0 && errno == EINTR) {
      }
    }
  }
  ~DirLock() {
    if (fd_ >= 0) ::close(fd_);
  }
  DirLock(const DirLock&) = delete;
  DirLock& operator=(const DirLock&) = delete;

 private:
  int fd_ = -1;
};

Result<bool> ReflinkCapable(const std::string& dir) {
  struct statfs st;
  if (::statfs(dir.c_str(), &st) != 0) return Errno("statfs", dir, errno);
  return st.f_type == XFS_SUPER_MAGIC || st.f_type == BTRFS_SUPER_MAGIC;
}

bool Under(const std::string& path, const std::string& dir) {
  return !dir.empty() && path.size() > dir.size() && path.compare(0, dir.size(), dir) == 0 &&
         path[dir.size()] == '/';
}

std::string AbsoluteNormal(const std::string& p) {
  namespace fs = std::filesystem;
  std::error_code ec;
  fs::path abs = fs::absolute(p, ec);
  std::string out = ec ? p : abs.lexically_normal().string();
  while (out.size() > 1 && out.back() == '/') out.pop_back();
  return out;
}

}  // namespace

std::string BlockPoolPath(const std::string& dataDir, const std::string& pool) {
  return AbsoluteNormal(pool.empty() ? dataDir + "/block" : pool);
}

BlockPool::BlockPool(std::string path, std::string dataDir)
    : path_(std::move(path)), dataDir_(dataDir.empty() ? "" : AbsoluteNormal(dataDir)) {}

Status BlockPool::Ensure(bool create) {
  KVOL_RETURN_IF_ERROR(os::MakeDirs(path_, 0700));
  DirLock lock(path_);
  return EnsureLocked(create);
}

Status BlockPool::SelfBindDataDir() {
  if (!Under(path_, dataDir_)) return Status::Ok();
  KVOL_ASSIGN_OR_RETURN(bool mp, os::IsMountPoint(dataDir_));
  if (mp) return Status::Ok();
  if (::mount(dataDir_.c_str(), dataDir_.c_str(), nullptr, MS_BIND | MS_REC, nullptr) != 0) {
    return Errno("bind on itself", dataDir_, errno);
  }
  if (::mount(nullptr, dataDir_.c_str(), nullptr, MS_SHARED | MS_REC, nullptr) != 0) {
    return Errno("make rshared", dataDir_, errno);
  }
  return Status::Ok();
}

Status BlockPool::EnsureLocked(bool create) {
  KVOL_ASSIGN_OR_RETURN(bool ready, ReflinkCapable(path_));
  if (ready) return Status::Ok();
  const std::string image = backingImage();
  if (!os::Exists(image)) {
    if (!create) return Status::Ok();
    const std::string tmp = image + ".tmp";
    ::unlink(tmp.c_str());
    KVOL_RETURN_IF_ERROR(os::MakeSparseFile(tmp, kBlockPoolImageBytes));
    os::ExecOptions eo;
    eo.timeoutSec = 120;
    auto mk = os::ExecOk({"mkfs.xfs", "-q", "-m", "reflink=1", tmp}, eo);
    if (!mk.ok()) {
      ::unlink(tmp.c_str());
      return Internal("making the block pool " + image + ": " + mk.status().message());
    }
    if (::rename(tmp.c_str(), image.c_str()) != 0) {
      Status s = Errno("rename to", image, errno);
      ::unlink(tmp.c_str());
      return s;
    }
  }
  KVOL_RETURN_IF_ERROR(SelfBindDataDir());
  // An image attached by someone (a crashed agent's hold is gone with it, so a leftover device is
  // unusual): mount it again through a device of our own.
  KVOL_ASSIGN_OR_RETURN(std::string dev,
                        os::AttachLoop(image, /*readOnly=*/false, /*autoclear=*/true));
  Status m = os::RealMounter().MountFilesystem(dev, path_, "xfs", "", false);
  if (!m.ok()) {
    (void)os::DetachLoop(dev);
    return Internal("mounting the block pool " + image + " at " + path_ + ": " + m.message());
  }
  return Status::Ok();
}

Status BlockPool::Release() {
  if (!os::Exists(path_)) return Status::Ok();
  DirLock lock(path_);
  const std::string image = backingImage();
  KVOL_ASSIGN_OR_RETURN(std::vector<std::string> devs, os::LoopDevicesFor(image));
  if (devs.empty()) return Status::Ok();  // not our image mounted here
  KVOL_ASSIGN_OR_RETURN(std::vector<os::LoopDevice> all, os::ListLoopDevices());
  for (const os::LoopDevice& l : all) {
    if (l.backingFile.rfind(path_ + "/", 0) == 0) {
      return Conflict("the block pool " + path_ + " stays mounted: " + l.device +
                      " is still attached to " + l.backingFile);
    }
  }
  KVOL_RETURN_IF_ERROR(os::RealMounter().Unmount(path_));
  for (const std::string& d : devs) KVOL_RETURN_IF_ERROR(os::DetachLoop(d));
  return WaitLoopsGone(image);
}

}  // namespace kvol::driver
