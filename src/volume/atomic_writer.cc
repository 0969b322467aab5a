// AtomicWriter: see atomic_writer.h. Every file operation is relative to a directory file
// descriptor with O_NOFOLLOW, so nothing in the volume (which a container could have changed
// through another, writable mount of the same directory) can redirect a write outside it.
#include "src/volume/atomic_writer.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <set>
#include <vector>

#include "kvol/os/safe_path.h"
#include "src/volume/plugins_internal.h"

namespace kvol::volume {
namespace {

constexpr const char* kDataDirName = "..data";
constexpr const char* kDataDirTmpName = "..data_tmp";
constexpr const char* kVisibleTmpName = "..visible_tmp";
constexpr size_t kMaxPathLength = 4096;
constexpr size_t kMaxFileNameLength = 255;
constexpr unsigned kDirMode = 0755;
constexpr unsigned kFsGroupFileBits = 0440;  // the kubelet's roMask
constexpr unsigned kFsGroupDirBits = 02550;  // roMask | execMask | setgid

// Ownership applied to what the writer creates: group `gid` (-1: unchanged) and directory mode.
struct Perms {
  gid_t gid = static_cast<gid_t>(-1);
  unsigned dirMode = kDirMode;
};

// chown(-1, gid) then chmod(mode) of `name` in dirfd (chown first: it may clear mode bits).
Status Own(int dirfd, const char* name, const Perms& perms, unsigned mode, const std::string& at) {
  if (perms.gid != static_cast<gid_t>(-1) &&
      fchownat(dirfd, name, static_cast<uid_t>(-1), perms.gid, AT_SYMLINK_NOFOLLOW) != 0) {
    return ErrnoError("chown", at, errno);
  }
  if (fchmodat(dirfd, name, mode, 0) != 0) return ErrnoError("chmod", at, errno);
  return Status::Ok();
}

// Group of a symlink (its mode does not matter).
Status OwnLink(int dirfd, const char* name, const Perms& perms, const std::string& at) {
  if (perms.gid != static_cast<gid_t>(-1) &&
      fchownat(dirfd, name, static_cast<uid_t>(-1), perms.gid, AT_SYMLINK_NOFOLLOW) != 0) {
    return ErrnoError("chown", at, errno);
  }
  return Status::Ok();
}

std::vector<std::string> Split(const std::string& p) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= p.size()) {
    size_t slash = p.find('/', start);
    if (slash == std::string::npos) slash = p.size();
    out.push_back(p.substr(start, slash - start));
    start = slash + 1;
  }
  return out;
}

// Go's path.Clean for a relative path without "..": drops empty and "." elements.
std::string CleanRelative(const std::string& p) {
  std::string out;
  for (const std::string& e : Split(p)) {
    if (e.empty() || e == ".") continue;
    if (!out.empty()) out += '/';
    out += e;
  }
  return out;
}

std::string TopLevel(const std::string& cleanPath) {
  return cleanPath.substr(0, cleanPath.find('/'));
}

// Opens (creating when `create`) the directory chain `elems` beneath dirfd, each component with
// O_NOFOLLOW, so a symlink on the way is an error rather than a detour.
Result<os::Fd> OpenDirs(int dirfd, const std::vector<std::string>& elems, bool create,
                        const std::string& where, const Perms& perms = Perms()) {
  os::Fd cur(fcntl(dirfd, F_DUPFD_CLOEXEC, 0));
  if (!cur.valid()) return ErrnoError("dup", where, errno);
  std::string at = where;
  for (const std::string& e : elems) {
    at += "/" + e;
    if (create) {
      if (mkdirat(cur.get(), e.c_str(), kDirMode) == 0) {
        KVOL_RETURN_IF_ERROR(Own(cur.get(), e.c_str(), perms, perms.dirMode, at));
      } else if (errno != EEXIST) {
        return ErrnoError("mkdir", at, errno);
      }
    }
    os::Fd next(openat(cur.get(), e.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    if (!next.valid()) return ErrnoError("open", at, errno);
    cur = std::move(next);
  }
  return cur;
}

Status ReadAll(int fd, const std::string& path, std::string* out) {
  char buf[65536];
  for (;;) {
    ssize_t n = read(fd, buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) continue;
      return ErrnoError("read", path, errno);
    }
    if (n == 0) return Status::Ok();
    out->append(buf, static_cast<size_t>(n));
  }
}

Status WriteAll(int fd, const std::string& path, const std::string& data) {
  size_t off = 0;
  while (off < data.size()) {
    ssize_t n = write(fd, data.data() + off, data.size() - off);
    if (n < 0) {
      if (errno == EINTR) continue;
      return ErrnoError("write", path, errno);
    }
    off += static_cast<size_t>(n);
  }
  return Status::Ok();
}

// What a timestamped directory holds: its regular files (path -> content, mode) and every path
// in it (files, directories and anything else), relative to it.
struct Tree {
  Payload files;
  std::set<std::string> all;
};

Status ReadTree(int dirfd, const std::string& prefix, const std::string& where, Tree* tree) {
  int dupfd = fcntl(dirfd, F_DUPFD_CLOEXEC, 0);
  if (dupfd < 0) return ErrnoError("dup", where, errno);
  DIR* d = fdopendir(dupfd);
  if (d == nullptr) {
    int err = errno;
    close(dupfd);
    return ErrnoError("opendir", where, err);
  }
  std::vector<std::string> names;
  while (dirent* de = readdir(d)) {
    std::string n = de->d_name;
    if (n != "." && n != "..") names.push_back(n);
  }
  closedir(d);
  for (const std::string& n : names) {
    std::string rel = prefix.empty() ? n : prefix + "/" + n;
    std::string at = where + "/" + n;
    tree->all.insert(rel);
    struct stat st;
    if (fstatat(dirfd, n.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
      return ErrnoError("stat", at, errno);
    }
    if (S_ISDIR(st.st_mode)) {
      os::Fd sub(openat(dirfd, n.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
      if (!sub.valid()) return ErrnoError("open", at, errno);
      KVOL_RETURN_IF_ERROR(ReadTree(sub.get(), rel, at, tree));
    } else if (S_ISREG(st.st_mode)) {
      os::Fd f(openat(dirfd, n.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC));
      if (!f.valid()) return ErrnoError("open", at, errno);
      FileProjection fp;
      fp.mode = st.st_mode & 07777;
      KVOL_RETURN_IF_ERROR(ReadAll(f.get(), at, &fp.data));
      tree->files.emplace(rel, std::move(fp));
    }
  }
  return Status::Ok();
}

// readlinkat: the target, or "" with errno set.
std::string ReadLink(int dirfd, const std::string& name) {
  char buf[4096];
  ssize_t n = readlinkat(dirfd, name.c_str(), buf, sizeof buf - 1);
  if (n < 0) return "";
  return std::string(buf, static_cast<size_t>(n));
}

// "..2026_11_27_07_24_34.123456789": UTC time to the nanosecond.
std::string TimestampDirName() {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  struct tm tm;
  gmtime_r(&ts.tv_sec, &tm);
  char buf[64];
  size_t n = strftime(buf, sizeof buf, "..%Y_%m_%d_%H_%M_%S", &tm);
  snprintf(buf + n, sizeof buf - n, ".%09ld", static_cast<long>(ts.tv_nsec));
  return buf;
}

// A name only the writer creates: a timestamped directory (or a leftover of a crashed write).
bool IsWriterDirName(const std::string& n) {
  return n.size() > 2 && n.compare(0, 2, "..") == 0 && n != kDataDirName && n != kDataDirTmpName &&
         n != kVisibleTmpName;
}

// The symlink `elem -> ..data/elem` in the target directory.
Status EnsureVisible(int tfd, const std::string& targetDir, const std::string& elem,
                     const Perms& perms) {
  std::string want = std::string(kDataDirName) + "/" + elem;
  errno = 0;
  std::string have = ReadLink(tfd, elem);
  if (have == want) return Status::Ok();
  if (have.empty() && errno == ENOENT) {
    if (symlinkat(want.c_str(), tfd, elem.c_str()) != 0) {
      return ErrnoError("symlink", targetDir + "/" + elem, errno);
    }
    return OwnLink(tfd, elem.c_str(), perms, targetDir + "/" + elem);
  }
  if (have.empty()) return Status::Ok();  // not a symlink: left alone, as Kubernetes does
  // A symlink pointing elsewhere: replace it atomically.
  unlinkat(tfd, kVisibleTmpName, 0);
  if (symlinkat(want.c_str(), tfd, kVisibleTmpName) != 0 ||
      !OwnLink(tfd, kVisibleTmpName, perms, targetDir + "/" + elem).ok() ||
      renameat(tfd, kVisibleTmpName, tfd, elem.c_str()) != 0) {
    return ErrnoError("symlink", targetDir + "/" + elem, errno);
  }
  return Status::Ok();
}

void RemoveTree(int dirfd, const std::string& name) {
  os::Fd sub(openat(dirfd, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  if (sub.valid()) {
    std::vector<std::string> names;
    int dupfd = fcntl(sub.get(), F_DUPFD_CLOEXEC, 0);
    if (DIR* d = dupfd >= 0 ? fdopendir(dupfd) : nullptr) {
      while (dirent* de = readdir(d)) {
        std::string n = de->d_name;
        if (n != "." && n != "..") names.push_back(n);
      }
      closedir(d);
    } else if (dupfd >= 0) {
      close(dupfd);
    }
    for (const std::string& n : names) {
      struct stat st;
      if (fstatat(sub.get(), n.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) continue;
      if (S_ISDIR(st.st_mode)) {
        RemoveTree(sub.get(), n);
      } else {
        unlinkat(sub.get(), n.c_str(), 0);
      }
    }
  }
  if (unlinkat(dirfd, name.c_str(), AT_REMOVEDIR) != 0 && errno == ENOTDIR) {
    unlinkat(dirfd, name.c_str(), 0);
  }
}

Status WritePayloadInto(int tsfd, const std::string& tsPath, const Payload& payload,
                        const Perms& perms) {
  for (const auto& [path, fp] : payload) {
    std::vector<std::string> elems = Split(path);
    std::string base = elems.back();
    elems.pop_back();
    KVOL_ASSIGN_OR_RETURN(os::Fd parent, OpenDirs(tsfd, elems, /*create=*/true, tsPath, perms));
    std::string at = tsPath + "/" + path;
    os::Fd f(openat(parent.get(), base.c_str(),
                    O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600));
    if (!f.valid()) return ErrnoError("create", at, errno);
    KVOL_RETURN_IF_ERROR(WriteAll(f.get(), at, fp.data));
    if (perms.gid != static_cast<gid_t>(-1) &&
        fchown(f.get(), static_cast<uid_t>(-1), perms.gid) != 0) {
      return ErrnoError("chown", at, errno);
    }
    if (fchmod(f.get(), fp.mode & 07777) != 0) return ErrnoError("chmod", at, errno);
  }
  return Status::Ok();
}

}  // namespace

Status ValidatePayloadPath(const std::string& path) {
  if (path.empty()) return Invalid("invalid path: must not be empty: \"\"");
  if (path[0] == '/') return Invalid("invalid path: must be relative path: " + path);
  if (path.size() > kMaxPathLength) {
    return Invalid("invalid path: must be less than or equal to " + std::to_string(kMaxPathLength) +
                   " characters");
  }
  std::vector<std::string> items = Split(path);
  for (const std::string& item : items) {
    if (item == "..") return Invalid("invalid path: must not contain '..': " + path);
    if (item.size() > kMaxFileNameLength) {
      return Invalid("invalid path: filenames must be less than or equal to " +
                     std::to_string(kMaxFileNameLength) + " characters");
    }
  }
  if (items[0].size() > 2 && items[0].compare(0, 2, "..") == 0) {
    return Invalid("invalid path: must not start with '..': " + path);
  }
  if (CleanRelative(path).empty()) {
    return Invalid("invalid path: must not be empty: \"" + path + "\"");
  }
  return Status::Ok();
}

Result<bool> AtomicWriter::Write(const Payload& payload) {
  // 1. Validate and clean every path before touching anything.
  Perms perms;
  if (fsGroup_) {
    perms.gid = static_cast<gid_t>(*fsGroup_);
    perms.dirMode = kDirMode | kFsGroupDirBits;
  }
  Payload clean;
  for (const auto& [path, fp] : payload) {
    KVOL_RETURN_IF_ERROR(ValidatePayloadPath(path));
    FileProjection& c = clean[CleanRelative(path)];
    c = fp;
    c.mode &= 07777;
    if (fsGroup_) c.mode |= kFsGroupFileBits;
  }
  std::set<std::string> wanted;  // every new path and its parent directories
  for (const auto& [path, fp] : clean) {
    std::string prefix;
    for (const std::string& e : Split(path)) {
      prefix = prefix.empty() ? e : prefix + "/" + e;
      wanted.insert(prefix);
    }
  }

  os::Fd tfd(open(targetDir_.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!tfd.valid()) return ErrnoError("open", targetDir_, errno);
  if (fsGroup_) {
    struct stat st;
    if (fstat(tfd.get(), &st) != 0) return ErrnoError("stat", targetDir_, errno);
    if (st.st_gid != perms.gid && fchown(tfd.get(), static_cast<uid_t>(-1), perms.gid) != 0) {
      return ErrnoError("chown", targetDir_, errno);
    }
    if (fchmod(tfd.get(), (st.st_mode & 07777) | kFsGroupDirBits) != 0) {
      return ErrnoError("chmod", targetDir_, errno);
    }
  }

  // 2. What is there now.
  std::string oldTs = ReadLink(tfd.get(), kDataDirName);
  Tree old;
  bool haveOld = false;
  if (!oldTs.empty() && oldTs.find('/') == std::string::npos && IsWriterDirName(oldTs)) {
    os::Fd ofd(openat(tfd.get(), oldTs.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    if (ofd.valid()) {
      KVOL_RETURN_IF_ERROR(ReadTree(ofd.get(), "", targetDir_ + "/" + oldTs, &old));
      haveOld = true;
    }
  }
  std::set<std::string> toRemove;
  for (const std::string& p : old.all) {
    if (!wanted.count(p)) toRemove.insert(p);
  }
  bool changed = !haveOld || !toRemove.empty();
  for (auto it = clean.begin(); !changed && it != clean.end(); ++it) {
    auto o = old.files.find(it->first);
    changed = o == old.files.end() || o->second.data != it->second.data ||
              o->second.mode != it->second.mode;
  }
  if (!changed) {
    // Nothing to write; only repair visible symlinks a crash may have left missing.
    for (const auto& [path, fp] : clean) {
      KVOL_RETURN_IF_ERROR(EnsureVisible(tfd.get(), targetDir_, TopLevel(path), perms));
    }
    return false;
  }

  // 3. A new timestamped directory with the whole payload.
  std::string tsName;
  for (int attempt = 0;; ++attempt) {
    tsName = TimestampDirName();
    if (mkdirat(tfd.get(), tsName.c_str(), kDirMode) == 0) break;
    if (errno != EEXIST || attempt > 100)
      return ErrnoError("mkdir", targetDir_ + "/" + tsName, errno);
  }
  std::string tsPath = targetDir_ + "/" + tsName;
  Status st = Own(tfd.get(), tsName.c_str(), perms, perms.dirMode, tsPath);
  if (st.ok()) {
    os::Fd tsfd(openat(tfd.get(), tsName.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    st = tsfd.valid() ? WritePayloadInto(tsfd.get(), tsPath, clean, perms)
                      : ErrnoError("open", tsPath, errno);
  }
  // 4. The swap: ..data_tmp -> tsName, renamed over ..data.
  std::string tmpPath = targetDir_ + "/" + kDataDirTmpName;
  if (st.ok()) {
    unlinkat(tfd.get(), kDataDirTmpName, 0);
    if (symlinkat(tsName.c_str(), tfd.get(), kDataDirTmpName) != 0) {
      st = ErrnoError("symlink", tmpPath, errno);
    } else {
      st = OwnLink(tfd.get(), kDataDirTmpName, perms, tmpPath);
    }
  }
  if (st.ok() && renameat(tfd.get(), kDataDirTmpName, tfd.get(), kDataDirName) != 0) {
    st = ErrnoError("rename", tmpPath, errno);
  }
  if (!st.ok()) {
    RemoveTree(tfd.get(), tsName);
    return st;
  }

  // 5. Visible symlinks: add the new, drop the gone (top-level names only).
  for (const auto& [path, fp] : clean) {
    KVOL_RETURN_IF_ERROR(EnsureVisible(tfd.get(), targetDir_, TopLevel(path), perms));
  }
  for (const std::string& p : toRemove) {
    if (p.find('/') != std::string::npos) continue;
    struct stat lst;
    if (fstatat(tfd.get(), p.c_str(), &lst, AT_SYMLINK_NOFOLLOW) == 0 && S_ISLNK(lst.st_mode) &&
        unlinkat(tfd.get(), p.c_str(), 0) != 0 && errno != ENOENT) {
      return ErrnoError("remove", targetDir_ + "/" + p, errno);
    }
  }

  // 6. The old timestamped directory, and leftovers of writes that crashed before their swap.
  std::vector<std::string> stale;
  int dupfd = fcntl(tfd.get(), F_DUPFD_CLOEXEC, 0);
  if (DIR* d = dupfd >= 0 ? fdopendir(dupfd) : nullptr) {
    while (dirent* de = readdir(d)) {
      std::string n = de->d_name;
      if (n != tsName && IsWriterDirName(n)) stale.push_back(n);
    }
    closedir(d);
  } else if (dupfd >= 0) {
    close(dupfd);
  }
  for (const std::string& n : stale) {
    struct stat lst;
    if (fstatat(tfd.get(), n.c_str(), &lst, AT_SYMLINK_NOFOLLOW) == 0 && S_ISDIR(lst.st_mode)) {
      RemoveTree(tfd.get(), n);
    }
  }
  return true;
}

}  // namespace kvol::volume
