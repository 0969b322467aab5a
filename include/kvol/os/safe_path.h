// Opening a path inside a directory without letting a symlink lead outside it (kvol::os). This is
// how subPath is resolved (the fix of CVE-2017-1002101 and CVE-2021-25741 in the kubelet): every
// component is opened relative to the previous one with openat2(RESOLVE_BENEATH |
// RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS), and what is then bind-mounted is the opened file
// descriptor (/proc/self/fd/N), so the path cannot be swapped between the check and the mount.
//
// Thread safety: stateless; the returned Fd is owned by the caller.
#pragma once

#include <string>

#include "kvol/common/status.h"

namespace kvol::os {

// An owned file descriptor (closed on destruction; movable).
class Fd {
 public:
  Fd() = default;
  explicit Fd(int fd) : fd_(fd) {}
  ~Fd();
  Fd(Fd&& o) noexcept : fd_(o.release()) {}
  Fd& operator=(Fd&& o) noexcept;
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return fd_; }
  int release() {
    int f = fd_;
    fd_ = -1;
    return f;
  }
  bool valid() const { return fd_ >= 0; }

 private:
  int fd_ = -1;
};

// Opens `rel` (relative, no "..", no absolute path) beneath `root` with O_PATH|O_CLOEXEC, refusing
// any symlink on the way (also in the last component). With createDirs, missing components are
// created as directories (mode 0755... the kubelet uses 0750; we use 0755) one by one, each
// mkdirat'ed relative to its verified parent. Errors: kInvalid for a bad `rel` ("subPath must be a
// relative path without '..'"), kForbidden naming the component when a symlink is met
// ("subPath 'a/b' goes through the symlink 'a' inside the volume"), kNotFound when missing. A file
// where a directory is needed is kInvalid. "", "." and empty components ("a//b") are skipped, so ""
// opens `root` itself.
Result<Fd> OpenBeneath(const std::string& root, const std::string& rel, bool createDirs);

// Bind-mounts what `fd` refers to onto `target` (mount /proc/self/fd/N), read-only when asked.
Status BindMountFd(const Fd& fd, const std::string& target, bool readOnly);

}  // namespace kvol::os
