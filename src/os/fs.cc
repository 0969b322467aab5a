// Files and directories: mkdir -p, rm -rf on one filesystem, atomic writes, sparse files.
#include "kvol/os/fs.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <vector>

#include "kvol/os/mount.h"
#include "kvol/os/safe_path.h"
#include "src/os/os_internal.h"

namespace kvol::os {
namespace {

using internal::ErrnoStatus;

// The names in the directory open at `dirFd` (without "." and ".."). Does not take ownership.
Result<std::vector<std::string>> ListDir(int dirFd, const std::string& path) {
  int dupFd = ::fcntl(dirFd, F_DUPFD_CLOEXEC, 0);
  if (dupFd < 0) return ErrnoStatus("dup", path, errno);
  DIR* d = ::fdopendir(dupFd);
  if (d == nullptr) {
    int e = errno;
    ::close(dupFd);
    return ErrnoStatus("opendir", path, e);
  }
  ::rewinddir(d);  // the dup shares its offset with dirFd, which an earlier listing moved
  std::vector<std::string> names;
  errno = 0;
  while (struct dirent* e = ::readdir(d)) {
    std::string n = e->d_name;
    if (n != "." && n != "..") names.push_back(std::move(n));
    errno = 0;
  }
  int err = errno;
  ::closedir(d);
  if (err != 0) return ErrnoStatus("readdir", path, err);
  return names;
}

Result<Fd> OpenDirAt(int parentFd, const std::string& name, const std::string& path) {
  int fd = ::openat(parentFd, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) return ErrnoStatus("open", path, errno);
  return Fd(fd);
}

Status Refuse(const std::string& root) {
  return Conflict("refusing to remove " + root +
                  ": a mount point (another filesystem) is below it");
}

// Pass 1: every entry below the directory `dirFd` is on device `dev`.
Status CheckOneFs(int dirFd, const std::string& path, dev_t dev, const std::string& root) {
  KVOL_ASSIGN_OR_RETURN(std::vector<std::string> names, ListDir(dirFd, path));
  for (const std::string& n : names) {
    const std::string p = path + "/" + n;
    struct stat st;
    if (::fstatat(dirFd, n.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
      if (errno == ENOENT) continue;
      return ErrnoStatus("stat", p, errno);
    }
    if (st.st_dev != dev) return Refuse(root);
    if (S_ISDIR(st.st_mode)) {
      KVOL_ASSIGN_OR_RETURN(Fd sub, OpenDirAt(dirFd, n, p));
      KVOL_RETURN_IF_ERROR(CheckOneFs(sub.get(), p, dev, root));
    }
  }
  return Status::Ok();
}

// Pass 2: deletes everything below `dirFd`, re-checking the device before entering a directory.
Status RemoveBelow(int dirFd, const std::string& path, dev_t dev, const std::string& root) {
  KVOL_ASSIGN_OR_RETURN(std::vector<std::string> names, ListDir(dirFd, path));
  for (const std::string& n : names) {
    const std::string p = path + "/" + n;
    struct stat st;
    if (::fstatat(dirFd, n.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
      if (errno == ENOENT) continue;
      return ErrnoStatus("stat", p, errno);
    }
    if (st.st_dev != dev) return Refuse(root);
    if (S_ISDIR(st.st_mode)) {
      KVOL_ASSIGN_OR_RETURN(Fd sub, OpenDirAt(dirFd, n, p));
      struct stat sst;
      if (::fstat(sub.get(), &sst) != 0) return ErrnoStatus("stat", p, errno);
      if (sst.st_dev != dev) return Refuse(root);
      KVOL_RETURN_IF_ERROR(RemoveBelow(sub.get(), p, dev, root));
      if (::unlinkat(dirFd, n.c_str(), AT_REMOVEDIR) != 0 && errno != ENOENT) {
        return ErrnoStatus("rmdir", p, errno);
      }
    } else if (::unlinkat(dirFd, n.c_str(), 0) != 0 && errno != ENOENT) {
      return ErrnoStatus("unlink", p, errno);
    }
  }
  return Status::Ok();
}

std::string DirName(const std::string& path) {
  const size_t slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

}  // namespace

Status MakeDirs(const std::string& path, unsigned mode) {
  if (path.empty()) return Invalid("mkdir: empty path");
  size_t pos = 0;
  while (pos != std::string::npos) {
    pos = path.find('/', pos + 1);
    std::string prefix = path.substr(0, pos);
    if (prefix.empty() || prefix.back() == '/') continue;  // "//" in the path
    if (::mkdir(prefix.c_str(), mode) == 0) {
      if (::chmod(prefix.c_str(), mode) != 0) return ErrnoStatus("chmod", prefix, errno);
      continue;
    }
    const int e = errno;
    struct stat st;
    if (e == EEXIST && ::stat(prefix.c_str(), &st) == 0) {
      if (!S_ISDIR(st.st_mode)) return ErrnoStatus("mkdir", prefix, ENOTDIR);
      continue;
    }
    return ErrnoStatus("mkdir", prefix, e);
  }
  return Status::Ok();
}

Status RemoveTreeOneFs(const std::string& root) {
  struct stat st;
  if (::lstat(root.c_str(), &st) != 0) {
    if (errno == ENOENT) return Status::Ok();
    return ErrnoStatus("stat", root, errno);
  }
  if (!S_ISDIR(st.st_mode)) {
    if (::unlink(root.c_str()) != 0 && errno != ENOENT) return ErrnoStatus("unlink", root, errno);
    return Status::Ok();
  }
  // Pass 1: nothing is deleted unless the whole tree is on root's filesystem and no mount (not
  // even a bind mount from the same filesystem, which st_dev cannot show) is at or below it.
  KVOL_ASSIGN_OR_RETURN(std::vector<MountInfo> mounts, MountsUnder(root));
  if (!mounts.empty()) return Refuse(root);
  int fd = ::open(root.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) return ErrnoStatus("open", root, errno);
  Fd rootFd(fd);
  struct stat rst;
  if (::fstat(rootFd.get(), &rst) != 0) return ErrnoStatus("stat", root, errno);
  KVOL_RETURN_IF_ERROR(CheckOneFs(rootFd.get(), root, rst.st_dev, root));
  // Pass 2.
  KVOL_RETURN_IF_ERROR(RemoveBelow(rootFd.get(), root, rst.st_dev, root));
  if (::rmdir(root.c_str()) != 0 && errno != ENOENT) return ErrnoStatus("rmdir", root, errno);
  return Status::Ok();
}

Result<std::string> ReadFile(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return ErrnoStatus("open", path, errno);
  Fd f(fd);
  std::string out;
  char buf[65536];
  for (;;) {
    ssize_t n = ::read(f.get(), buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) continue;
      return ErrnoStatus("read", path, errno);
    }
    if (n == 0) break;
    out.append(buf, static_cast<size_t>(n));
  }
  return out;
}

namespace {

Status WriteAndRename(const std::string& path, const std::string& content, unsigned mode,
                      bool sync) {
  const std::string dir = DirName(path);
  const size_t slash = path.rfind('/');
  const std::string base = slash == std::string::npos ? path : path.substr(slash + 1);
  std::string tmpl = (dir == "/" ? "" : dir) + "/." + base + ".tmp.XXXXXX";
  std::vector<char> buf(tmpl.begin(), tmpl.end());
  buf.push_back('\0');
  int fd = ::mkostemp(buf.data(), O_CLOEXEC);
  if (fd < 0) return ErrnoStatus("create temporary file for", path, errno);
  const std::string tmp = buf.data();
  Fd f(fd);
  auto fail = [&tmp](Status s) {
    ::unlink(tmp.c_str());
    return s;
  };
  size_t off = 0;
  while (off < content.size()) {
    ssize_t n = ::write(f.get(), content.data() + off, content.size() - off);
    if (n < 0) {
      if (errno == EINTR) continue;
      return fail(ErrnoStatus("write", tmp, errno));
    }
    off += static_cast<size_t>(n);
  }
  if (::fchmod(f.get(), mode) != 0) return fail(ErrnoStatus("chmod", tmp, errno));
  if (sync && ::fsync(f.get()) != 0) return fail(ErrnoStatus("fsync", tmp, errno));
  if (::close(f.release()) != 0) return fail(ErrnoStatus("close", tmp, errno));
  if (::rename(tmp.c_str(), path.c_str()) != 0) return fail(ErrnoStatus("rename", path, errno));
  if (!sync) return Status::Ok();
  int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd < 0) return ErrnoStatus("open", dir, errno);
  Fd d(dfd);
  if (::fsync(d.get()) != 0) return ErrnoStatus("fsync", dir, errno);
  return Status::Ok();
}

}  // namespace

Status WriteFileAtomic(const std::string& path, const std::string& content, unsigned mode) {
  return WriteAndRename(path, content, mode, /*sync=*/true);
}

Status ReplaceFile(const std::string& path, const std::string& content, unsigned mode) {
  return WriteAndRename(path, content, mode, /*sync=*/false);
}

Status MakeSparseFile(const std::string& path, int64_t sizeBytes) {
  if (sizeBytes < 0) return Invalid("sparse file " + path + ": negative size");
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) return ErrnoStatus("open", path, errno);
  Fd f(fd);
  struct stat st;
  if (::fstat(f.get(), &st) != 0) return ErrnoStatus("stat", path, errno);
  if (st.st_size < sizeBytes && ::ftruncate(f.get(), sizeBytes) != 0) {
    return ErrnoStatus("truncate", path, errno);
  }
  return Status::Ok();
}

bool Exists(const std::string& path) {
  struct stat st;
  return ::lstat(path.c_str(), &st) == 0;
}

}  // namespace kvol::os
