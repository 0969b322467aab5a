#include "layer.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <set>

#include "kvol/os/exec.h"
#include "kvol/os/safe_path.h"

namespace kvol::image {
namespace {

Status Errno(const std::string& op, const std::string& path) {
  return Internal(op + " " + path + ": " + std::strerror(errno));
}

std::string Join(const std::string& a, const std::string& b) { return a.empty() ? b : a + "/" + b; }

// "./a//b/" -> "a/b"; kInvalid for absolute paths and ".." components. "" is the root itself.
Result<std::string> CleanMemberPath(const std::string& name, const std::string& what,
                                    const char* role) {
  if (name.empty()) return Invalid(what + ": a member has an empty " + role);
  if (name[0] == '/') {
    return Invalid(what + ": member " + role + " \"" + name +
                   "\" is an absolute path; refusing to write outside the image root");
  }
  std::string out;
  size_t start = 0;
  while (start <= name.size()) {
    size_t end = name.find('/', start);
    if (end == std::string::npos) end = name.size();
    std::string comp = name.substr(start, end - start);
    if (comp == "..") {
      return Invalid(what + ": member " + role + " \"" + name +
                     "\" contains \"..\"; refusing to write outside the image root");
    }
    if (!comp.empty() && comp != ".") out = Join(out, comp);
    start = end + 1;
  }
  return out;
}

// The first proper prefix of `path` that is in `symlinks`, or "".
std::string SymlinkPrefix(const std::string& path, const std::set<std::string>& symlinks) {
  for (size_t pos = path.find('/'); pos != std::string::npos; pos = path.find('/', pos + 1)) {
    std::string prefix = path.substr(0, pos);
    if (symlinks.count(prefix)) return prefix;
  }
  return "";
}

Result<std::vector<std::string>> ListDir(int fd, const std::string& where) {
  int dupFd = fcntl(fd, F_DUPFD_CLOEXEC, 0);
  if (dupFd < 0) return Errno("dup", where);
  DIR* d = fdopendir(dupFd);
  if (d == nullptr) {
    Status st = Errno("opendir", where);
    close(dupFd);
    return st;
  }
  rewinddir(d);
  std::vector<std::string> names;
  errno = 0;
  while (dirent* e = readdir(d)) {
    std::string n = e->d_name;
    if (n != "." && n != "..") names.push_back(std::move(n));
  }
  int readErr = errno;
  closedir(d);
  if (readErr != 0) {
    errno = readErr;
    return Errno("readdir", where);
  }
  std::sort(names.begin(), names.end());
  return names;
}

bool IsRoot() { return geteuid() == 0; }

Result<os::Fd> OpenDirAt(int dirfd, const std::string& name, const std::string& where) {
  int fd = openat(dirfd, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) return Errno("open", where);
  os::Fd out(fd);
  if (!IsRoot()) {
    // Unprivileged imports: make sure we can list and change our own directories.
    struct stat st;
    if (fstat(fd, &st) == 0 && (st.st_mode & 0700) != 0700) fchmod(fd, (st.st_mode & 07777) | 0700);
  }
  return out;
}

Status RemoveAt(int dirfd, const std::string& name, const std::string& where);

Status ClearDir(int fd, const std::string& where) {
  KVOL_ASSIGN_OR_RETURN(auto names, ListDir(fd, where));
  for (const auto& n : names) KVOL_RETURN_IF_ERROR(RemoveAt(fd, n, Join(where, n)));
  return Status::Ok();
}

Status RemoveAt(int dirfd, const std::string& name, const std::string& where) {
  struct stat st;
  if (fstatat(dirfd, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
    if (errno == ENOENT) return Status::Ok();
    return Errno("stat", where);
  }
  if (S_ISDIR(st.st_mode)) {
    KVOL_ASSIGN_OR_RETURN(os::Fd fd, OpenDirAt(dirfd, name, where));
    KVOL_RETURN_IF_ERROR(ClearDir(fd.get(), where));
    if (unlinkat(dirfd, name.c_str(), AT_REMOVEDIR) != 0) return Errno("rmdir", where);
    return Status::Ok();
  }
  if (unlinkat(dirfd, name.c_str(), 0) != 0 && errno != ENOENT) return Errno("unlink", where);
  return Status::Ok();
}

Status SetDirMeta(int fd, const struct stat& from, const std::string& where) {
  if (IsRoot() && fchown(fd, from.st_uid, from.st_gid) != 0) return Errno("chown", where);
  if (fchmod(fd, from.st_mode & 07777) != 0) return Errno("chmod", where);
  struct timespec times[2] = {from.st_atim, from.st_mtim};
  if (futimens(fd, times) != 0) return Errno("utimens", where);
  return Status::Ok();
}

constexpr const char kWhiteout[] = ".wh.";
constexpr const char kOpaque[] = ".wh..wh..opq";

bool StartsWith(const std::string& s, const char* p) { return s.rfind(p, 0) == 0; }

// Merges the directory `src` (scratch, consumed) into `dst` (rootfs). `where` is the path
// relative to the rootfs. A directory that existed takes the layer's metadata only when the layer
// has an entry for it (`listedDirs`), not when tar made it implicitly as a member's parent.
Status MergeDir(int src, int dst, const std::string& where,
                const std::set<std::string>& listedDirs) {
  KVOL_ASSIGN_OR_RETURN(auto names, ListDir(src, where.empty() ? "." : where));
  if (std::find(names.begin(), names.end(), kOpaque) != names.end()) {
    KVOL_RETURN_IF_ERROR(ClearDir(dst, where));
  }
  for (const auto& n : names) {
    if (!StartsWith(n, kWhiteout) || StartsWith(n, ".wh..wh.")) continue;
    std::string target = n.substr(sizeof(kWhiteout) - 1);
    if (target.empty() || target == "." || target == "..") continue;
    KVOL_RETURN_IF_ERROR(RemoveAt(dst, target, Join(where, target)));
  }
  for (const auto& n : names) {
    if (StartsWith(n, kWhiteout)) continue;
    std::string path = Join(where, n);
    struct stat ss, ds;
    if (fstatat(src, n.c_str(), &ss, AT_SYMLINK_NOFOLLOW) != 0) return Errno("stat", path);
    bool have = fstatat(dst, n.c_str(), &ds, AT_SYMLINK_NOFOLLOW) == 0;
    if (!have && errno != ENOENT) return Errno("stat", path);
    if (S_ISDIR(ss.st_mode)) {
      if (have && !S_ISDIR(ds.st_mode)) {
        KVOL_RETURN_IF_ERROR(RemoveAt(dst, n, path));
        have = false;
      }
      if (!have && mkdirat(dst, n.c_str(), 0700) != 0) return Errno("mkdir", path);
      KVOL_ASSIGN_OR_RETURN(os::Fd s, OpenDirAt(src, n, path));
      KVOL_ASSIGN_OR_RETURN(os::Fd d, OpenDirAt(dst, n, path));
      KVOL_RETURN_IF_ERROR(MergeDir(s.get(), d.get(), path, listedDirs));
      if (!have || listedDirs.count(path)) KVOL_RETURN_IF_ERROR(SetDirMeta(d.get(), ss, path));
      continue;
    }
    if (have && S_ISDIR(ds.st_mode)) KVOL_RETURN_IF_ERROR(RemoveAt(dst, n, path));
    if (renameat(src, n.c_str(), dst, n.c_str()) != 0) return Errno("rename", path);
  }
  return Status::Ok();
}

}  // namespace

Status CheckLayerMembers(const std::vector<TarMember>& members, const std::string& what) {
  std::set<std::string> symlinks;
  for (const auto& m : members) {
    KVOL_ASSIGN_OR_RETURN(std::string path, CleanMemberPath(m.name, what, "name"));
    if (path.empty()) {
      if (m.type != '5') {
        return Invalid(what + ": member \"" + m.name + "\" would replace the image root");
      }
      continue;
    }
    if (std::string via = SymlinkPrefix(path, symlinks); !via.empty()) {
      return Invalid(what + ": member \"" + m.name + "\" goes through the symlink \"" + via +
                     "\" made by an earlier member; refusing to write through a symlink");
    }
    if (m.type == '1') {
      KVOL_ASSIGN_OR_RETURN(std::string src, CleanMemberPath(m.linkname, what, "hard link"));
      if (src.empty()) return Invalid(what + ": hard link \"" + m.name + "\" points at the root");
      if (std::string via = SymlinkPrefix(src, symlinks); !via.empty()) {
        return Invalid(what + ": hard link \"" + m.name + "\" -> \"" + m.linkname +
                       "\" goes through the symlink \"" + via + "\"");
      }
    }
    if (m.type == '2') symlinks.insert(path);
  }
  return Status::Ok();
}

std::string TarError(const std::string& stderrText) {
  std::string out;
  size_t start = 0;
  while (start < stderrText.size()) {
    size_t end = stderrText.find('\n', start);
    if (end == std::string::npos) end = stderrText.size();
    std::string line = stderrText.substr(start, end - start);
    start = end + 1;
    if (line.empty() || line.find("Exiting with failure status") != std::string::npos) continue;
    out += (out.empty() ? "" : "; ") + line;
  }
  return out;
}

Status RemoveTree(const std::string& path) {
  std::string parent = ".", base = path;
  if (size_t slash = path.rfind('/'); slash != std::string::npos) {
    parent = slash == 0 ? "/" : path.substr(0, slash);
    base = path.substr(slash + 1);
  }
  int fd = open(parent.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT) return Status::Ok();
    return Errno("open", parent);
  }
  os::Fd pfd(fd);
  return RemoveAt(pfd.get(), base, path);
}

Status ApplyLayer(const std::string& layerTar, const std::string& rootfs,
                  const std::string& scratch, const std::string& what) {
  KVOL_ASSIGN_OR_RETURN(auto members, ListTar(layerTar));
  KVOL_RETURN_IF_ERROR(CheckLayerMembers(members, what));
  if (mkdir(scratch.c_str(), 0700) != 0) return Errno("mkdir", scratch);
  struct Cleanup {
    std::string dir;
    ~Cleanup() { (void)RemoveTree(dir); }
  } cleanup{scratch};
  // Modes exactly as in the layer (setuid, sticky: no umask); owners too when we are root.
  std::vector<std::string> argv = {
      "tar", "-x", "-f", layerTar, "-C", scratch, "--numeric-owner", "--same-permissions"};
  argv.push_back(IsRoot() ? "--same-owner" : "--no-same-owner");
  os::ExecOptions opts;
  opts.timeoutSec = 600;
  KVOL_ASSIGN_OR_RETURN(auto res, os::Exec(argv, opts));
  if (res.exitCode != 0) {
    return Invalid(what + ": extracting failed (tar exit " + std::to_string(res.exitCode) +
                   "): " + TarError(res.err));
  }
  int s = open(scratch.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (s < 0) return Errno("open", scratch);
  os::Fd sfd(s);
  int d = open(rootfs.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (d < 0) return Errno("open", rootfs);
  os::Fd dfd(d);
  std::set<std::string> listedDirs;
  for (const auto& m : members) {
    if (m.type != '5') continue;
    auto clean = CleanMemberPath(m.name, what, "name");
    if (clean.ok()) listedDirs.insert(*clean);
  }
  Status st = MergeDir(sfd.get(), dfd.get(), "", listedDirs);
  if (!st.ok()) return Status(st.code(), what + ": " + st.message());
  return Status::Ok();
}

}  // namespace kvol::image
