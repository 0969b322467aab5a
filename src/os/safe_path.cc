// OpenBeneath and BindMountFd: subPath resolution that no symlink can redirect.
#include "kvol/os/safe_path.h"

#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <vector>

#include "kvol/os/mount.h"
#include "src/os/os_internal.h"

namespace kvol::os {
namespace {

using internal::ErrnoStatus;

// openat2(dirFd, name, flags, RESOLVE_BENEATH|NO_SYMLINKS|NO_MAGICLINKS); falls back to
// openat(O_NOFOLLOW) on kernels without openat2 (`name` is one component, never "..", so that is
// equally strict). Returns the fd or -1 with errno set.
int OpenComponent(int dirFd, const std::string& name, int flags) {
  struct open_how how = {};
  how.flags = static_cast<uint64_t>(flags | O_CLOEXEC);
  how.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS;
  long fd = -1;
  for (int i = 0; i < 16; ++i) {  // EAGAIN: a concurrent rename; the kernel asks to retry
    fd = ::syscall(SYS_openat2, dirFd, name.c_str(), &how, sizeof how);
    if (fd >= 0 || errno != EAGAIN) break;
  }
  if (fd >= 0 || errno != ENOSYS) return static_cast<int>(fd);
  int f = ::openat(dirFd, name.c_str(), flags | O_CLOEXEC | O_NOFOLLOW);
  if (f < 0) return -1;
  struct stat st;
  if (::fstat(f, &st) != 0 || S_ISLNK(st.st_mode)) {
    ::close(f);
    errno = ELOOP;
    return -1;
  }
  return f;
}

std::vector<std::string> Components(const std::string& rel) {
  std::vector<std::string> out;
  size_t i = 0;
  while (i <= rel.size()) {
    size_t j = rel.find('/', i);
    if (j == std::string::npos) j = rel.size();
    std::string c = rel.substr(i, j - i);
    if (!c.empty() && c != ".") out.push_back(std::move(c));
    i = j + 1;
  }
  return out;
}

bool HasDotDot(const std::string& rel) {
  size_t i = 0;
  while (i <= rel.size()) {
    size_t j = rel.find('/', i);
    if (j == std::string::npos) j = rel.size();
    if (rel.compare(i, j - i, "..") == 0 && j - i == 2) return true;
    i = j + 1;
  }
  return false;
}

}  // namespace

Fd::~Fd() {
  if (fd_ >= 0) ::close(fd_);
}

Fd& Fd::operator=(Fd&& o) noexcept {
  if (this != &o) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = o.release();
  }
  return *this;
}

Result<Fd> OpenBeneath(const std::string& root, const std::string& rel, bool createDirs) {
  if ((!rel.empty() && rel[0] == '/') || HasDotDot(rel)) {
    return Invalid("subPath must be a relative path without '..'");
  }
  int rfd = ::open(root.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (rfd < 0) return ErrnoStatus("open", root, errno);
  Fd cur(rfd);
  std::string sofar;  // the components opened so far, for messages
  for (const std::string& c : Components(rel)) {
    sofar += (sofar.empty() ? "" : "/") + c;
    int fd = OpenComponent(cur.get(), c, O_PATH);
    if (fd < 0 && errno == ENOENT && createDirs) {
      if (::mkdirat(cur.get(), c.c_str(), 0755) != 0 && errno != EEXIST) {
        return ErrnoStatus("mkdir", root + "/" + sofar, errno);
      }
      // Set the mode through a verified descriptor (umask ignored), then open as usual.
      int dfd = OpenComponent(cur.get(), c, O_RDONLY | O_DIRECTORY);
      if (dfd >= 0) {
        Fd d(dfd);
        if (::fchmod(d.get(), 0755) != 0) return ErrnoStatus("chmod", root + "/" + sofar, errno);
      }
      fd = OpenComponent(cur.get(), c, O_PATH);
    }
    if (fd < 0) {
      const int e = errno;
      if (e == ELOOP || e == EXDEV) {
        return Status(Code::kForbidden, "subPath '" + rel + "' goes through the symlink '" + sofar +
                                            "' inside the volume");
      }
      if (e == ENOENT) {
        return NotFound("subPath '" + rel + "' does not exist: '" + sofar +
                        "' is missing inside the volume");
      }
      if (e == ENOTDIR) {
        return Invalid("subPath '" + rel + "': a component before '" + sofar +
                       "' is not a directory");
      }
      return ErrnoStatus("open", root + "/" + sofar, e);
    }
    cur = Fd(fd);
  }
  return cur;
}

Status BindMountFd(const Fd& fd, const std::string& target, bool readOnly) {
  if (!fd.valid()) return Invalid("bind mount onto " + target + ": no file descriptor");
  const std::string src = "/proc/self/fd/" + std::to_string(fd.get());
  if (::mount(src.c_str(), target.c_str(), nullptr, MS_BIND, nullptr) != 0) {
    return ErrnoStatus("bind mount " + src + " on", target, errno);
  }
  if (readOnly) {
    Status s = internal::RemountBindReadOnly(target);
    if (!s.ok()) {
      ::umount2(target.c_str(), MNT_DETACH);
      return s;
    }
  }
  return Status::Ok();
}

}  // namespace kvol::os
