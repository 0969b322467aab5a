// hostPath: the host path itself is the volume (nothing is created under the pod directory).
// SetUp refuses a path outside --allowed-host-paths (by whole path components, after lexical
// cleaning and after resolving symlinks in the existing part, so a symlink under an allowed prefix
// cannot lead outside it), then runs the kubelet's type checks (creating the directory or file
// for DirectoryOrCreate / FileOrCreate). TearDown never touches the host path.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "kvol/os/fs.h"
#include "src/volume/plugins_internal.h"

namespace kvol::volume {
namespace {

std::vector<std::string> SplitPath(const std::string& p) {
  std::vector<std::string> out;
  size_t i = 0;
  while (i <= p.size()) {
    size_t j = p.find('/', i);
    if (j == std::string::npos) j = p.size();
    if (j > i) out.push_back(p.substr(i, j - i));
    i = j + 1;
  }
  return out;
}

bool HasDotDot(const std::string& p) {
  for (const auto& e : SplitPath(p)) {
    if (e == "..") return true;
  }
  return false;
}

// `p` equals `prefix` or is below it, by whole components (both clean and absolute).
bool UnderPrefix(const std::string& p, const std::string& prefix) {
  if (prefix == "/") return true;
  return p == prefix || (p.size() > prefix.size() && p.compare(0, prefix.size(), prefix) == 0 &&
                         p[prefix.size()] == '/');
}

std::string Join(const std::vector<std::string>& v, const char* sep) {
  std::string out;
  for (size_t i = 0; i < v.size(); ++i) out += (i ? sep : "") + v[i];
  return out;
}

// realpath() of the longest existing prefix of the clean absolute path `p`, with the missing rest
// appended. A symlink that exists but cannot be resolved (dangling) is an error, so nothing is
// later created through it.
Result<std::string> ResolveExisting(const std::string& p) {
  std::vector<std::string> parts = SplitPath(p);
  size_t existing = 0;
  std::string cur;
  for (; existing < parts.size(); ++existing) {
    std::string next = cur + "/" + parts[existing];
    struct stat st;
    if (::lstat(next.c_str(), &st) != 0) break;
    cur = next;
  }
  if (cur.empty()) cur = "/";
  char buf[PATH_MAX];
  if (::realpath(cur.c_str(), buf) == nullptr) {
    return PermissionDenied("hostPath \"" + p + "\": cannot resolve \"" + cur +
                            "\": " + std::strerror(errno));
  }
  std::string out = buf;
  for (size_t i = existing; i < parts.size(); ++i) out += (out == "/" ? "" : "/") + parts[i];
  return out;
}

Status TypeFailed(const std::string& path, const char* what) {
  return Unavailable("hostPath type check failed: " + path + " " + what);
}

}  // namespace

std::string CleanPath(const std::string& p) {
  std::vector<std::string> out;
  for (const auto& e : SplitPath(p)) {
    if (e == ".") continue;
    if (e == "..") {
      if (!out.empty()) out.pop_back();
      continue;
    }
    out.push_back(e);
  }
  return "/" + Join(out, "/");
}

Result<std::string> CheckAllowedHostPath(const std::string& path,
                                         const std::vector<std::string>& allowed) {
  if (path.empty() || path[0] != '/') {
    return Invalid("hostPath \"" + path + "\" must be an absolute path");
  }
  if (HasDotDot(path)) return Invalid("hostPath \"" + path + "\" must not contain '..'");
  const std::string clean = CleanPath(path);
  KVOL_ASSIGN_OR_RETURN(std::string resolved, ResolveExisting(clean));
  if (allowed.empty()) return resolved;
  for (const auto& a : allowed) {
    if (a.empty() || a[0] != '/' || HasDotDot(a)) continue;
    std::string prefix = CleanPath(a);
    // An allowed prefix that is itself a symlink allows where it points.
    auto rp = ResolveExisting(prefix);
    if (UnderPrefix(resolved, prefix) || (rp.ok() && UnderPrefix(resolved, *rp))) {
      return resolved;
    }
  }
  std::string shown = "hostPath \"" + path + "\"";
  if (resolved != clean) shown += " (resolves to \"" + resolved + "\")";
  return PermissionDenied(
      shown + " is not under an allowed prefix (--allowed-host-paths: " + Join(allowed, ",") + ")");
}

Status CheckHostPathType(const std::string& path, const std::string& type) {
  struct stat st;
  bool exists = ::stat(path.c_str(), &st) == 0;
  if (type.empty()) return Status::Ok();
  if (type == "DirectoryOrCreate" || type == "Directory") {
    if (!exists && type == "DirectoryOrCreate") return os::MakeDirs(path, 0755);
    if (!exists) return TypeFailed(path, "does not exist");
    if (!S_ISDIR(st.st_mode)) return TypeFailed(path, "is not a directory");
    return Status::Ok();
  }
  if (type == "FileOrCreate" || type == "File") {
    if (!exists && type == "FileOrCreate") {
      std::string parent = path.substr(0, path.rfind('/'));
      if (!parent.empty()) KVOL_RETURN_IF_ERROR(os::MakeDirs(parent, 0755));
      int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);
      if (fd < 0) return ErrnoError("create", path, errno);
      int rc = ::fchmod(fd, 0644);
      int e = errno;
      ::close(fd);
      if (rc != 0) return ErrnoError("chmod", path, e);
      return Status::Ok();
    }
    if (!exists) return TypeFailed(path, "does not exist");
    if (!S_ISREG(st.st_mode)) return TypeFailed(path, "is not a file");
    return Status::Ok();
  }
  if (type == "Socket") {
    return exists && S_ISSOCK(st.st_mode) ? Status::Ok() : TypeFailed(path, "is not a socket file");
  }
  if (type == "CharDevice") {
    return exists && S_ISCHR(st.st_mode) ? Status::Ok()
                                         : TypeFailed(path, "is not a character device");
  }
  if (type == "BlockDevice") {
    return exists && S_ISBLK(st.st_mode) ? Status::Ok() : TypeFailed(path, "is not a block device");
  }
  return Invalid(type + " is an invalid volume type");
}

namespace {

class HostPathPlugin : public Plugin {
 public:
  std::string PluginDir() const override { return ""; }
  bool CanHandle(const api::Volume& v) const override { return v.hostPath.has_value(); }

  Result<MountedVolume> SetUp(const VolumeRequest& req) override {
    const api::HostPathVolumeSource& src = *req.volume->hostPath;
    KVOL_ASSIGN_OR_RETURN(std::string resolved,
                          CheckAllowedHostPath(src.path, req.node->allowedHostPaths));
    KVOL_RETURN_IF_ERROR(CheckHostPathType(resolved, src.type.value_or("")));
    MountedVolume mv;
    mv.dirName = req.volume->name;
    mv.hostPath = resolved;
    return mv;
  }

  Status TearDown(const NodeContext&, const std::string&, const std::string&) override {
    return Status::Ok();  // the host's data is not ours to remove
  }
};

}  // namespace

std::unique_ptr<Plugin> NewHostPathPlugin() { return std::make_unique<HostPathPlugin>(); }

}  // namespace kvol::volume
