#include "src/driver/block/block_node_driver.h"

#include <fcntl.h>
#include <linux/fs.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstring>
#include <exception>
#include <optional>
#include <sstream>
#include <vector>

#include "kvol/os/exec.h"
#include "kvol/os/fs.h"
#include "kvol/os/loop.h"

namespace kvol::driver {
namespace {

// mkfs, e2fsck and resize2fs on a large volume take a while.
os::ExecOptions Slow() {
  os::ExecOptions o;
  o.timeoutSec = 900;
  return o;
}

Status Errno(const std::string& what, const std::string& path, int err) {
  return Internal(what + " " + path + ": " + std::strerror(err));
}

Status CheckPath(const std::string& what, const std::string& p) {
  if (p.empty() || p[0] != '/') {
    return Invalid("kvol.io/block: " + what + " \"" + p + "\" must be absolute");
  }
  return Status::Ok();
}

std::string Trim(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  return s;
}

std::string Parent(const std::string& p) {
  size_t s = p.rfind('/');
  return s == std::string::npos || s == 0 ? "/" : p.substr(0, s);
}

// The filesystem type on `dev` ("" = none), from blkid's low-level probe.
Result<std::string> BlkidType(const std::string& dev) {
  KVOL_ASSIGN_OR_RETURN(os::ExecResult r,
                        os::Exec({"blkid", "-p", "-s", "TYPE", "-o", "value", dev}));
  if (r.exitCode == 2) return std::string();  // nothing found
  if (r.exitCode != 0) {
    return Internal("blkid " + dev + " failed (exit " + std::to_string(r.exitCode) +
                    "): " + Trim(r.err));
  }
  return Trim(r.out);
}

Result<int64_t> DeviceBytes(const std::string& dev) {
  int fd = ::open(dev.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return Errno("open", dev, errno);
  uint64_t size = 0;
  int rc = ::ioctl(fd, BLKGETSIZE64, &size);
  int err = errno;
  ::close(fd);
  if (rc != 0) return Errno("size of", dev, err);
  return static_cast<int64_t>(size);
}

// The size of the ext4 filesystem on `dev` (dumpe2fs -h: block count x block size).
Result<int64_t> Ext4Bytes(const std::string& dev) {
  KVOL_ASSIGN_OR_RETURN(os::ExecResult r, os::ExecOk({"dumpe2fs", "-h", dev}));
  int64_t count = -1, size = -1;
  std::istringstream in(r.out);
  std::string line;
  while (std::getline(in, line)) {
    auto value = [&line]() -> int64_t {
      try {
        return std::stoll(line.substr(line.find(':') + 1));
      } catch (const std::exception&) {
        return -1;
      }
    };
    if (line.rfind("Block count:", 0) == 0) count = value();
    if (line.rfind("Block size:", 0) == 0) size = value();
  }
  if (count < 0 || size < 0) return Internal("dumpe2fs " + dev + ": no block count/size");
  return count * size;
}

// The top mount at `path` (nullopt when it is not a mount point).
Result<std::optional<os::MountInfo>> MountAt(const std::string& path) {
  KVOL_ASSIGN_OR_RETURN(std::vector<os::MountInfo> all, os::ReadMountInfo());
  std::optional<os::MountInfo> top;
  for (const os::MountInfo& m : all) {
    if (m.mountPoint == path) top = m;
  }
  return top;
}

// The device of a read-only loop device of `image` bind-mounted at `target`, if that is what
// `target` has (a read-only Block publish).
Result<std::string> ReadOnlyDeviceAt(const std::string& target, const std::string& image) {
  KVOL_ASSIGN_OR_RETURN(auto m, MountAt(target));
  if (!m) return std::string();
  size_t slash = m->root.rfind('/');
  std::string base = slash == std::string::npos ? m->root : m->root.substr(slash + 1);
  if (base.rfind("loop", 0) != 0) return std::string();
  const std::string dev = "/dev/" + base;
  KVOL_ASSIGN_OR_RETURN(std::vector<os::LoopDevice> all, os::ListLoopDevices());
  char buf[PATH_MAX];
  const std::string real = ::realpath(image.c_str(), buf) ? buf : image;
  for (const os::LoopDevice& l : all) {
    if (l.device == dev && l.readOnly && (l.backingFile == real || l.backingFile == image)) {
      return dev;
    }
  }
  return std::string();
}

Status MakeFile(const std::string& path) {
  KVOL_RETURN_IF_ERROR(os::MakeDirs(Parent(path), 0750));
  struct stat st;
  if (::lstat(path.c_str(), &st) == 0) {
    if (S_ISREG(st.st_mode)) return Status::Ok();
    if (S_ISDIR(st.st_mode) && ::rmdir(path.c_str()) != 0) return Errno("rmdir", path, errno);
  }
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0640);
  if (fd < 0) return Errno("create", path, errno);
  ::close(fd);
  return Status::Ok();
}

}  // namespace

BlockNodeDriver::BlockNodeDriver(std::string dataDir, std::string pool, os::Mounter& mounter)
    : pool_(BlockPoolPath(dataDir, pool), dataDir), mounter_(mounter) {}

Status BlockNodeDriver::NodeStageVolume(const NodeStageRequest& req) {
  KVOL_RETURN_IF_ERROR(CheckBlockVolumeId(req.volumeId));
  KVOL_RETURN_IF_ERROR(CheckPath("staging path", req.stagingPath));
  KVOL_RETURN_IF_ERROR(pool_.Ensure(/*create=*/false));
  const std::string image = pool_.ImagePath(req.volumeId);
  if (!os::Exists(image)) {
    return NotFound("kvol.io/block: volume \"" + req.volumeId + "\" not found (" + image +
                    " does not exist on this node)");
  }
  if (!req.block) return StageFilesystem(req, image);
  KVOL_ASSIGN_OR_RETURN(std::vector<std::string> devs, os::LoopDevicesFor(image));
  if (!devs.empty()) return Status::Ok();
  // Not autoclear: containers open the device through the published node; it stays attached
  // until NodeUnstageVolume, also across a restart of this process.
  auto dev = os::AttachLoop(image, /*readOnly=*/false, /*autoclear=*/false);
  return dev.ok() ? Status::Ok() : dev.status();
}

Status BlockNodeDriver::StageFilesystem(const NodeStageRequest& req, const std::string& image) {
  const std::string fsType = req.fsType.empty() ? "ext4" : req.fsType;
  if (fsType != "ext4" && fsType != "xfs") {
    return Invalid("kvol.io/block: unsupported fsType \"" + fsType + "\": ext4 or xfs");
  }
  KVOL_RETURN_IF_ERROR(os::MakeDirs(req.stagingPath, 0750));
  KVOL_ASSIGN_OR_RETURN(bool mounted, os::IsMountPoint(req.stagingPath));
  if (mounted) return Status::Ok();

  KVOL_ASSIGN_OR_RETURN(std::vector<std::string> devs, os::LoopDevicesFor(image));
  std::string dev;
  bool attachedHere = false;
  if (devs.empty()) {
    KVOL_ASSIGN_OR_RETURN(dev, os::AttachLoop(image, /*readOnly=*/false, /*autoclear=*/true));
    attachedHere = true;
  } else {
    // Left attached by an earlier stage that stopped half-way, or still mounted by someone else:
    // the staging path is not mounted here, so a mounted device is another node agent's of this
    // machine (or a dead one's pod still running). A mounted block device cannot be opened with
    // O_EXCL, whatever mount namespace holds it: then the volume is not ours to take.
    for (const std::string& d : devs) {
      int fd = ::open(d.c_str(), O_RDONLY | O_EXCL | O_CLOEXEC);
      if (fd >= 0) {
        ::close(fd);
        continue;
      }
      if (errno == EBUSY) {
        return Unavailable("kvol.io/block: volume \"" + req.volumeId + "\" is still in use on " +
                           d + " (mounted outside this node's staging path, e.g. by a pod of " +
                           "another node agent that is still running); it is staged here once " +
                           "that device is released");
      }
    }
    dev = devs.front();
    KVOL_RETURN_IF_ERROR(os::RefreshLoopCapacity(dev));
  }
  auto fail = [&](Status s) {
    if (attachedHere) (void)os::DetachLoop(dev);
    return s;
  };
  auto existing = BlkidType(dev);
  if (!existing.ok()) return fail(existing.status());
  const std::string id = "kvol.io/block: volume \"" + req.volumeId + "\": ";
  if (existing->empty()) {
    auto mk = fsType == "ext4" ? os::ExecOk({"mkfs.ext4", "-q", "-F", dev}, Slow())
                               : os::ExecOk({"mkfs.xfs", "-q", dev}, Slow());
    if (!mk.ok()) return fail(Internal(id + "formatting " + fsType + ": " + mk.status().message()));
  } else if (*existing != fsType) {
    return fail(Invalid(id + "it holds a " + *existing + " filesystem, not " + fsType));
  } else if (fsType == "ext4") {
    auto fsBytes = Ext4Bytes(dev);
    if (!fsBytes.ok()) return fail(fsBytes.status());
    auto devBytes = DeviceBytes(dev);
    if (!devBytes.ok()) return fail(devBytes.status());
    if (*devBytes - *fsBytes >= kMiB) {
      // The image grew: offline resize (this kernel cannot grow a mounted ext4).
      auto ck = os::Exec({"e2fsck", "-f", "-p", dev}, Slow());
      if (!ck.ok()) return fail(ck.status());
      if (ck->exitCode >= 4) {
        return fail(Internal(id + "e2fsck failed (exit " + std::to_string(ck->exitCode) +
                             ") before growing it: " + Trim(ck->err.empty() ? ck->out : ck->err)));
      }
      auto rs = os::ExecOk({"resize2fs", dev}, Slow());
      if (!rs.ok()) return fail(Internal(id + "growing ext4: " + rs.status().message()));
    }
  }
  Status m = mounter_.MountFilesystem(dev, req.stagingPath, fsType, "", false);
  if (!m.ok()) return fail(m);
  if (fsType == "xfs" && !existing->empty()) {
    auto g = os::ExecOk({"xfs_growfs", "-d", req.stagingPath}, Slow());
    if (!g.ok()) {
      (void)mounter_.Unmount(req.stagingPath);
      return fail(Internal(id + "growing xfs: " + g.status().message()));
    }
  }
  return Status::Ok();
}

Status BlockNodeDriver::NodeUnstageVolume(const std::string& volumeId,
                                          const std::string& stagingPath) {
  KVOL_RETURN_IF_ERROR(CheckBlockVolumeId(volumeId));
  KVOL_RETURN_IF_ERROR(CheckPath("staging path", stagingPath));
  for (int i = 0; i < 4; ++i) {
    KVOL_ASSIGN_OR_RETURN(bool mounted, os::IsMountPoint(stagingPath));
    if (!mounted) break;
    KVOL_RETURN_IF_ERROR(mounter_.Unmount(stagingPath));
  }
  const std::string image = pool_.ImagePath(volumeId);
  KVOL_ASSIGN_OR_RETURN(std::vector<std::string> devs, os::LoopDevicesFor(image));
  for (const std::string& d : devs) KVOL_RETURN_IF_ERROR(os::DetachLoop(d));
  return WaitLoopsGone(image);
}

Status BlockNodeDriver::NodePublishVolume(const NodePublishRequest& req) {
  KVOL_RETURN_IF_ERROR(CheckBlockVolumeId(req.volumeId));
  KVOL_RETURN_IF_ERROR(CheckPath("target path", req.targetPath));
  KVOL_RETURN_IF_ERROR(CheckPath("staging path", req.stagingPath));
  const std::string notStaged =
      "kvol.io/block: volume \"" + req.volumeId + "\" is not staged on this node";
  if (!req.block) {
    KVOL_ASSIGN_OR_RETURN(bool staged, os::IsMountPoint(req.stagingPath));
    if (!staged) return Unavailable(notStaged + " (nothing mounted at " + req.stagingPath + ")");
    KVOL_RETURN_IF_ERROR(os::MakeDirs(req.targetPath, 0750));
    KVOL_ASSIGN_OR_RETURN(bool mounted, os::IsMountPoint(req.targetPath));
    if (mounted) return Status::Ok();
    return mounter_.BindMount(req.stagingPath, req.targetPath, req.readOnly);
  }
  const std::string image = pool_.ImagePath(req.volumeId);
  KVOL_ASSIGN_OR_RETURN(std::vector<os::LoopDevice> all, os::ListLoopDevices());
  char buf[PATH_MAX];
  const std::string real = ::realpath(image.c_str(), buf) ? buf : image;
  std::string rw;
  for (const os::LoopDevice& l : all) {
    if ((l.backingFile == real || l.backingFile == image) && !l.readOnly) rw = l.device;
  }
  if (rw.empty()) return Unavailable(notStaged + " (no loop device is attached to " + image + ")");
  KVOL_ASSIGN_OR_RETURN(bool mounted, os::IsMountPoint(req.targetPath));
  if (mounted) return Status::Ok();
  KVOL_RETURN_IF_ERROR(MakeFile(req.targetPath));
  std::string dev = rw;
  if (req.readOnly) {
    KVOL_ASSIGN_OR_RETURN(dev, os::AttachLoop(image, /*readOnly=*/true, /*autoclear=*/false));
  }
  Status s = mounter_.BindMount(dev, req.targetPath, req.readOnly);
  if (!s.ok() && req.readOnly) (void)os::DetachLoop(dev);
  return s;
}

Status BlockNodeDriver::NodeUnpublishVolume(const std::string& volumeId,
                                            const std::string& targetPath) {
  KVOL_RETURN_IF_ERROR(CheckBlockVolumeId(volumeId));
  KVOL_RETURN_IF_ERROR(CheckPath("target path", targetPath));
  KVOL_ASSIGN_OR_RETURN(std::string roDev, ReadOnlyDeviceAt(targetPath, pool_.ImagePath(volumeId)));
  KVOL_RETURN_IF_ERROR(mounter_.Unmount(targetPath));
  if (!roDev.empty()) KVOL_RETURN_IF_ERROR(os::DetachLoop(roDev));
  struct stat st;
  if (::lstat(targetPath.c_str(), &st) != 0) {
    if (errno == ENOENT) return Status::Ok();
    return Errno("stat", targetPath, errno);
  }
  KVOL_ASSIGN_OR_RETURN(bool mounted, os::IsMountPoint(targetPath));
  if (mounted) return Status::Ok();  // another mount stacked below: a later call removes it
  const int rc = S_ISDIR(st.st_mode) ? ::rmdir(targetPath.c_str()) : ::unlink(targetPath.c_str());
  if (rc != 0 && errno != ENOENT) return Errno("removing", targetPath, errno);
  return Status::Ok();
}

Result<int64_t> BlockNodeDriver::NodeExpandVolume(const NodeExpandRequest& req) {
  KVOL_RETURN_IF_ERROR(CheckBlockVolumeId(req.volumeId));
  const std::string image = pool_.ImagePath(req.volumeId);
  struct stat st;
  if (::stat(image.c_str(), &st) != 0) {
    if (errno == ENOENT) {
      return NotFound("kvol.io/block: volume \"" + req.volumeId + "\" not found (" + image +
                      " does not exist on this node)");
    }
    return Errno("stat", image, errno);
  }
  const int64_t size = st.st_size;
  KVOL_ASSIGN_OR_RETURN(std::vector<std::string> devs, os::LoopDevicesFor(image));
  for (const std::string& d : devs) KVOL_RETURN_IF_ERROR(os::RefreshLoopCapacity(d));
  const std::string id = "kvol.io/block: volume \"" + req.volumeId + "\": ";
  const std::string notStaged = id + "not staged on this node: it grows to " +
                                std::to_string(size) + " bytes when it is next staged";
  if (devs.empty()) return Unavailable(notStaged);
  if (req.block) return size;
  std::optional<os::MountInfo> m;
  if (!req.stagingPath.empty()) {
    KVOL_ASSIGN_OR_RETURN(m, MountAt(req.stagingPath));
  }
  if (!m) return Unavailable(notStaged);
  if (m->fsType == "xfs") {
    auto g = os::ExecOk({"xfs_growfs", "-d", req.stagingPath}, Slow());
    if (!g.ok()) return Internal(id + "growing xfs: " + g.status().message());
    return size;
  }
  if (m->fsType == "ext4") {
    auto fsBytes = Ext4Bytes(m->source);
    if (fsBytes.ok() && size - *fsBytes < kMiB) return size;
    auto rs = os::Exec({"resize2fs", m->source});
    if (rs.ok() && rs->exitCode == 0) return size;
    return Unavailable(id +
                       "ext4 cannot grow while mounted on this kernel: the filesystem grows to " +
                       std::to_string(size) +
                       " bytes when the volume is next staged (restart the pods that use it)");
  }
  return Internal(id + "unexpected filesystem " + m->fsType + " at " + req.stagingPath);
}

}  // namespace kvol::driver
