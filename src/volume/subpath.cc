// subPath / subPathExpr (see kvol/volume/subpath.h): expansion as Kubernetes'
// third_party/forked/golang/expansion, and a bind of the safely opened file descriptor at the
// kubelet's DIR/pods/<uid>/volume-subpaths/<volume>/<container>/<index>.
#include "kvol/volume/subpath.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>

#include "kvol/os/fs.h"
#include "kvol/os/mount.h"
#include "kvol/os/safe_path.h"
#include "src/volume/plugins_internal.h"

namespace kvol::volume {
namespace {

// Makes `target` a directory (isDir) or an empty regular file, replacing an empty entry of the
// other kind left by an earlier SetUp.
Status MakeBindTarget(const std::string& target, bool isDir) {
  struct stat st;
  if (::lstat(target.c_str(), &st) == 0) {
    if (isDir && S_ISDIR(st.st_mode)) return Status::Ok();
    if (!isDir && S_ISREG(st.st_mode)) return Status::Ok();
    int rc = S_ISDIR(st.st_mode) ? ::rmdir(target.c_str()) : ::unlink(target.c_str());
    if (rc != 0) return ErrnoError("remove", target, errno);
  } else if (errno != ENOENT) {
    return ErrnoError("stat", target, errno);
  }
  if (isDir) {
    if (::mkdir(target.c_str(), 0750) != 0) return ErrnoError("mkdir", target, errno);
    return Status::Ok();
  }
  int fd = ::open(target.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
  if (fd < 0) return ErrnoError("create", target, errno);
  ::close(fd);
  return Status::Ok();
}

bool HasDotDotElement(const std::string& p) {
  size_t i = 0;
  while (i <= p.size()) {
    size_t j = p.find('/', i);
    if (j == std::string::npos) j = p.size();
    if (p.compare(i, j - i, "..") == 0 && j - i == 2) return true;
    i = j + 1;
  }
  return false;
}

}  // namespace

Result<std::string> ExpandSubPathExpr(const std::string& expr,
                                      const std::map<std::string, std::string>& env) {
  std::string out;
  size_t checkpoint = 0;
  for (size_t cur = 0; cur < expr.size(); ++cur) {
    if (expr[cur] != '$' || cur + 1 >= expr.size()) continue;
    out.append(expr, checkpoint, cur - checkpoint);
    char next = expr[cur + 1];
    size_t advance = 1;
    if (next == '$') {
      out += '$';
    } else if (next == '(') {
      size_t close = expr.find(')', cur + 2);
      if (close == std::string::npos) {
        out += "$(";  // an unterminated reference stays as written
      } else {
        std::string name = expr.substr(cur + 2, close - cur - 2);
        auto it = env.find(name);
        out += it != env.end() ? it->second : "$(" + name + ")";
        advance = close - cur;
      }
    } else {
      out += '$';
      out += next;
    }
    cur += advance;
    checkpoint = cur + 1;
  }
  out.append(expr, checkpoint, std::string::npos);
  if (!out.empty() && out[0] == '/') {
    return Invalid("subPathExpr \"" + expr + "\" expands to \"" + out +
                   "\": must not be an absolute path");
  }
  if (HasDotDotElement(out)) {
    return Invalid("subPathExpr \"" + expr + "\" expands to \"" + out +
                   "\": must not contain '..'");
  }
  return out;
}

Result<std::string> PrepareSubPath(os::Mounter& m, const std::string& podDir,
                                   const std::string& volumeHostPath, const std::string& subPath,
                                   const std::string& volumeName, const std::string& containerName,
                                   int mountIndex, bool readOnly) {
  const std::string parent = podDir + "/volume-subpaths/" + volumeName + "/" + containerName;
  const std::string target = parent + "/" + std::to_string(mountIndex);
  if (os::Exists(target)) {
    KVOL_ASSIGN_OR_RETURN(bool mounted, os::IsMountPoint(target));
    if (mounted) return target;
  }
  KVOL_ASSIGN_OR_RETURN(os::Fd fd, os::OpenBeneath(volumeHostPath, subPath, !readOnly));
  struct stat st;
  if (::fstat(fd.get(), &st) != 0) return ErrnoError("stat", volumeHostPath + "/" + subPath, errno);
  KVOL_RETURN_IF_ERROR(os::MakeDirs(parent, 0750));
  KVOL_RETURN_IF_ERROR(MakeBindTarget(target, S_ISDIR(st.st_mode)));
  KVOL_RETURN_IF_ERROR(os::BindMountFd(fd, target, readOnly));
  (void)m;  // binds go through BindMountFd (the fd, not a path); m unmounts them
  return target;
}

Status CleanupSubPaths(os::Mounter& m, const std::string& podDir) {
  const std::string root = podDir + "/volume-subpaths";
  if (!os::Exists(root)) return Status::Ok();
  KVOL_RETURN_IF_ERROR(m.UnmountAllUnder(root));
  return os::RemoveTreeOneFs(root);
}

}  // namespace kvol::volume
