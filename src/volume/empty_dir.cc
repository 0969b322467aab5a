// emptyDir: DIR/pods/<uid>/volumes/kubernetes.io~empty-dir/<name>, mode 0777.
// - medium Memory: a tmpfs there (size = sizeLimit, else the kernel default).
// - disk with sizeLimit: the limit is enforced at write time (writes past it fail with ENOSPC) by
//   a loop-backed ext4 of that size. Its sparse image lives beside the volume directory,
//   .../kubernetes.io~empty-dir/.<name>.img, so it belongs to the pod directory; it is formatted
//   under a temporary name and renamed, so an image file under the final name is always a
//   complete filesystem. The usable space is the limit minus ext4's metadata (a few percent); a
//   limit under 1 MiB gets a 1 MiB image (mkfs.ext4's practical minimum).
// - disk without sizeLimit: a plain directory.
// TearDown unmounts whatever is mounted there, detaches the image's loop device if the kernel's
// autoclear has not, and removes the directory and the image.
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <string>

#include "kvol/os/exec.h"
#include "kvol/os/fs.h"
#include "kvol/os/loop.h"
#include "kvol/os/mount.h"
#include "src/volume/plugins_internal.h"

namespace kvol::volume {
namespace {

constexpr const char* kPluginDir = "kubernetes.io~empty-dir";
// mkfs.ext4 cannot make a filesystem much smaller than this: a smaller sizeLimit gets this size.
constexpr int64_t kMinImageBytes = 1 << 20;

std::string ImagePath(const std::string& podDir, const std::string& name) {
  return podDir + "/volumes/" + kPluginDir + "/." + name + ".img";
}

// Creates the formatted image at `img` if it is not there yet.
Status EnsureImage(const std::string& img, int64_t sizeBytes) {
  if (os::Exists(img)) return Status::Ok();
  const std::string tmp = img + ".tmp";
  ::unlink(tmp.c_str());
  KVOL_RETURN_IF_ERROR(os::MakeSparseFile(tmp, sizeBytes));
  auto r = os::ExecOk({"mkfs.ext4", "-q", "-F", "-m", "0", tmp});
  if (!r.ok()) {
    ::unlink(tmp.c_str());
    return r.status();
  }
  if (::rename(tmp.c_str(), img.c_str()) != 0) {
    int e = errno;
    ::unlink(tmp.c_str());
    return ErrnoError("rename", tmp, e);
  }
  return Status::Ok();
}

// Attaches (or finds the attached device of) `img` and mounts it on `dir`.
Status MountImage(os::Mounter& m, const std::string& img, const std::string& dir) {
  KVOL_ASSIGN_OR_RETURN(auto devices, os::LoopDevicesFor(img));
  std::string dev;
  bool attachedHere = false;
  if (!devices.empty()) {
    dev = devices.front();  // a previous SetUp attached it and stopped before mounting
  } else {
    KVOL_ASSIGN_OR_RETURN(dev, os::AttachLoop(img, /*readOnly=*/false, /*autoclear=*/true));
    attachedHere = true;
  }
  Status st = m.MountFilesystem(dev, dir, "ext4", "", /*readOnly=*/false);
  if (!st.ok()) {
    if (attachedHere) (void)os::DetachLoop(dev);
    return st;
  }
  // The filesystem's root becomes the volume: world-writable like every emptyDir, and empty.
  if (::chmod(dir.c_str(), 0777) != 0) return ErrnoError("chmod", dir, errno);
  const std::string lf = dir + "/lost+found";
  if (::rmdir(lf.c_str()) != 0 && errno != ENOENT && errno != ENOTEMPTY && errno != EEXIST) {
    return ErrnoError("rmdir", lf, errno);
  }
  return Status::Ok();
}

class EmptyDirPlugin : public Plugin {
 public:
  std::string PluginDir() const override { return kPluginDir; }
  bool CanHandle(const api::Volume& v) const override { return v.emptyDir.has_value(); }

  Result<MountedVolume> SetUp(const VolumeRequest& req) override {
    const api::EmptyDirVolumeSource& src = *req.volume->emptyDir;
    os::Mounter& m = MounterOf(*req.node);
    const std::string& name = req.volume->name;
    const std::string dir = VolumeDirPath(req.podDir, kPluginDir, name);

    int64_t limit = 0;
    if (src.sizeLimit.has_value()) {
      if (src.sizeLimit->Sign() < 0) {
        return Invalid("emptyDir \"" + name + "\": sizeLimit must not be negative");
      }
      limit = src.sizeLimit->Value();
    }
    if (!src.medium.empty() && src.medium != "Memory") {
      // HugePages media are not supported by this node.
      return FailedPrecondition("emptyDir \"" + name + "\": medium \"" + src.medium +
                                "\" is not supported (use \"\" or \"Memory\")");
    }

    KVOL_RETURN_IF_ERROR(os::MakeDirs(req.podDir + "/volumes/" + kPluginDir, 0750));
    if (::mkdir(dir.c_str(), 0777) != 0 && errno != EEXIST) return ErrnoError("mkdir", dir, errno);

    KVOL_ASSIGN_OR_RETURN(bool mounted, os::IsMountPoint(dir));
    if (!mounted) {
      if (src.medium == "Memory") {
        KVOL_RETURN_IF_ERROR(m.MountTmpfs(dir, limit, 0777));
      } else if (limit > 0) {
        const std::string img = ImagePath(req.podDir, name);
        KVOL_RETURN_IF_ERROR(EnsureImage(img, std::max(limit, kMinImageBytes)));
        KVOL_RETURN_IF_ERROR(MountImage(m, img, dir));
      }
    }
    if (::chmod(dir.c_str(), 0777) != 0) return ErrnoError("chmod", dir, errno);

    MountedVolume mv;
    mv.pluginDir = kPluginDir;
    mv.dirName = name;
    mv.hostPath = dir;
    return mv;
  }

  Status TearDown(const NodeContext& node, const std::string& podDir,
                  const std::string& dirName) override {
    const std::string dir = VolumeDirPath(podDir, kPluginDir, dirName);
    const std::string img = ImagePath(podDir, dirName);
    if (os::Exists(dir)) {
      KVOL_RETURN_IF_ERROR(MounterOf(node).UnmountAllUnder(dir));
    }
    if (os::Exists(img)) {
      // Autoclear releases the device when the mount goes; detach what is left (an image attached
      // by a SetUp that stopped before mounting).
      KVOL_ASSIGN_OR_RETURN(auto devices, os::LoopDevicesFor(img));
      for (const auto& d : devices) KVOL_RETURN_IF_ERROR(os::DetachLoop(d));
    }
    KVOL_RETURN_IF_ERROR(os::RemoveTreeOneFs(dir));
    for (const std::string& f : {img, img + ".tmp"}) {
      if (::unlink(f.c_str()) != 0 && errno != ENOENT) return ErrnoError("unlink", f, errno);
    }
    return Status::Ok();
  }

  // A node stop: a disk emptyDir keeps its files (and a sized one its image, re-mounted by the
  // next SetUp); a Memory one loses them, as a reboot would.
  Status Unmount(const NodeContext& node, const std::string& podDir,
                 const std::string& dirName) override {
    const std::string dir = VolumeDirPath(podDir, kPluginDir, dirName);
    const std::string img = ImagePath(podDir, dirName);
    if (os::Exists(dir)) KVOL_RETURN_IF_ERROR(MounterOf(node).UnmountAllUnder(dir));
    if (os::Exists(img)) {
      KVOL_ASSIGN_OR_RETURN(auto devices, os::LoopDevicesFor(img));
      for (const auto& d : devices) KVOL_RETURN_IF_ERROR(os::DetachLoop(d));
    }
    return Status::Ok();
  }
};

}  // namespace

std::unique_ptr<Plugin> NewEmptyDirPlugin() { return std::make_unique<EmptyDirPlugin>(); }

}  // namespace kvol::volume
