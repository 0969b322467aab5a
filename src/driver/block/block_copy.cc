#include "src/driver/block/block_copy.h"

#include <fcntl.h>
#include <linux/fs.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <memory>

#include "kvol/os/loop.h"
#include "kvol/os/mount.h"

namespace kvol::driver {
namespace {

Status Errno(const std::string& what, const std::string& path, int err) {
  return Internal(what + " " + path + ": " + std::strerror(err));
}

class FdGuard {
 public:
  explicit FdGuard(int fd) : fd_(fd) {}
  ~FdGuard() {
    if (fd_ >= 0) ::close(fd_);
  }
  FdGuard(const FdGuard&) = delete;
  FdGuard& operator=(const FdGuard&) = delete;
  int get() const { return fd_; }

 private:
  int fd_;
};

Status WriteAll(int fd, const char* p, size_t n, off_t off, const std::string& dst) {
  while (n > 0) {
    ssize_t w = ::pwrite(fd, p, n, off);
    if (w < 0) {
      if (errno == EINTR) continue;
      return Errno("writing", dst, errno);
    }
    p += w;
    n -= static_cast<size_t>(w);
    off += w;
  }
  return Status::Ok();
}

// Copies the data extents of src into dst (already sized); holes are skipped.
Status SparseCopy(int in, int out, off_t size, const std::string& src, const std::string& dst) {
  constexpr size_t kBuf = size_t{1} << 20;
  std::unique_ptr<char[]> buf(new char[kBuf]);
  off_t pos = 0;
  while (pos < size) {
    off_t data = ::lseek(in, pos, SEEK_DATA);
    if (data < 0) {
      if (errno == ENXIO) break;  // only a hole is left
      return Errno("seeking data in", src, errno);
    }
    off_t hole = ::lseek(in, data, SEEK_HOLE);
    if (hole < 0) return Errno("seeking a hole in", src, errno);
    for (off_t off = data; off < hole;) {
      const size_t want = static_cast<size_t>(std::min<off_t>(hole - off, kBuf));
      ssize_t r = ::pread(in, buf.get(), want, off);
      if (r < 0) {
        if (errno == EINTR) continue;
        return Errno("reading", src, errno);
      }
      if (r == 0) break;  // the file shrank under us
      KVOL_RETURN_IF_ERROR(WriteAll(out, buf.get(), static_cast<size_t>(r), off, dst));
      off += r;
    }
    pos = hole;
  }
  return Status::Ok();
}

}  // namespace

const char* CopyMethodName(CopyMethod m) {
  return m == CopyMethod::kReflink ? "reflink" : "sparse";
}

Result<CopyMethod> CopyImage(const std::string& src, const std::string& dst, bool allowReflink) {
  int i = ::open(src.c_str(), O_RDONLY | O_CLOEXEC);
  if (i < 0) {
    if (errno == ENOENT) return NotFound(src + " does not exist");
    return Errno("open", src, errno);
  }
  FdGuard in(i);
  struct stat st;
  if (::fstat(in.get(), &st) != 0) return Errno("stat", src, errno);
  int o = ::open(dst.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (o < 0) return Errno("create", dst, errno);
  FdGuard out(o);
  auto fail = [&](Status s) -> Result<CopyMethod> {
    ::unlink(dst.c_str());
    return s;
  };
  if (allowReflink && ::ioctl(out.get(), FICLONE, in.get()) == 0) {
    return CopyMethod::kReflink;
  }
  if (::ftruncate(out.get(), st.st_size) != 0) return fail(Errno("truncate", dst, errno));
  Status s = SparseCopy(in.get(), out.get(), st.st_size, src, dst);
  if (!s.ok()) return fail(s);
  if (::fsync(out.get()) != 0) return fail(Errno("fsync", dst, errno));
  return CopyMethod::kSparse;
}

Result<std::unique_ptr<ImageQuiescer>> ImageQuiescer::Quiesce(const std::string& image) {
  std::unique_ptr<ImageQuiescer> q(new ImageQuiescer());
  KVOL_ASSIGN_OR_RETURN(std::vector<std::string> devs, os::LoopDevicesFor(image));
  if (devs.empty()) return q;
  KVOL_ASSIGN_OR_RETURN(std::vector<os::MountInfo> mounts, os::ReadMountInfo());
  for (const std::string& dev : devs) {
    struct stat st;
    if (::stat(dev.c_str(), &st) != 0 || !S_ISBLK(st.st_mode)) continue;
    const unsigned maj = major(st.st_rdev), min = minor(st.st_rdev);
    const os::MountInfo* mount = nullptr;
    for (const os::MountInfo& m : mounts) {
      if (m.major == maj && m.minor == min) {
        mount = &m;
        break;
      }
    }
    if (mount == nullptr) {
      // Used raw (volumeMode Block): push what writers left in the device's page cache into the
      // image. (Writes in flight are not stopped: the copy is crash-consistent.)
      int fd = ::open(dev.c_str(), O_RDONLY | O_CLOEXEC);
      if (fd >= 0) {
        FdGuard g(fd);
        if (::fsync(g.get()) != 0) return Errno("flushing", dev, errno);
      }
      continue;
    }
    int fd = ::open(mount->mountPoint.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) return Errno("open", mount->mountPoint, errno);
    if (::ioctl(fd, FIFREEZE, 0) != 0) {
      const int e = errno;
      ::close(fd);
      if (e == EBUSY) {
        return Unavailable("cannot freeze " + mount->mountPoint + " (" + dev +
                           "): it is already frozen");
      }
      return Errno("freezing", mount->mountPoint, e);
    }
    q->fds_.push_back(fd);
    q->mountPoints_.push_back(mount->mountPoint);
  }
  return q;
}

ImageQuiescer::~ImageQuiescer() {
  for (size_t i = 0; i < fds_.size(); ++i) {
    (void)::ioctl(fds_[i], FITHAW, 0);
    ::close(fds_[i]);
  }
}

}  // namespace kvol::driver
