// nfs: mount -t nfs <server>:<path> on DIR/pods/<uid>/volumes/kubernetes.io~nfs/<name>, read-only
// when the source says so. A node whose kernel has no NFS client (no "nfs" in /proc/filesystems)
// refuses the volume with a message saying so, instead of a mount error. mount(8) does the mount
// (mount.nfs resolves the server); that branch cannot be tested on a node without NFS.
#include <sys/stat.h>

#include <cerrno>
#include <sstream>
#include <string>
#include <vector>

#include "kvol/os/exec.h"
#include "kvol/os/fs.h"
#include "kvol/os/mount.h"
#include "src/volume/plugins_internal.h"

namespace kvol::volume {

// True when /proc/filesystems (or the file given) lists nfs or nfs4.
bool KernelHasNfs(const std::string& filesystems) {
  auto text = os::ReadFile(filesystems);
  if (!text.ok()) return false;
  std::istringstream in(*text);
  std::string line;
  while (std::getline(in, line)) {
    size_t tab = line.find_last_of("\t ");
    std::string name = tab == std::string::npos ? line : line.substr(tab + 1);
    if (name == "nfs" || name == "nfs4") return true;
  }
  return false;
}

namespace {

constexpr const char* kPluginDir = "kubernetes.io~nfs";

class NfsPlugin : public Plugin {
 public:
  explicit NfsPlugin(std::string filesystems) : filesystems_(std::move(filesystems)) {}
  std::string PluginDir() const override { return kPluginDir; }
  bool CanHandle(const api::Volume& v) const override { return v.nfs.has_value(); }

  Result<MountedVolume> SetUp(const VolumeRequest& req) override {
    const api::NFSVolumeSource& src = *req.volume->nfs;
    if (!KernelHasNfs(filesystems_)) {
      return FailedPrecondition(
          "nfs volumes are not supported on this node: the kernel has no NFS client (mount -t "
          "nfs would fail)");
    }
    if (src.server.empty() || src.path.empty() || src.path[0] != '/') {
      return Invalid("nfs volume \"" + req.volume->name +
                     "\": server and an absolute path are required");
    }
    const std::string dir = VolumeDirPath(req.podDir, kPluginDir, req.volume->name);
    KVOL_RETURN_IF_ERROR(os::MakeDirs(req.podDir + "/volumes/" + kPluginDir, 0750));
    if (::mkdir(dir.c_str(), 0750) != 0 && errno != EEXIST) return ErrnoError("mkdir", dir, errno);
    KVOL_ASSIGN_OR_RETURN(bool mounted, os::IsMountPoint(dir));
    if (!mounted) {
      // mount(8), not mount(2): NFS needs mount.nfs to resolve the server and pass addr=.
      std::vector<std::string> argv = {"mount", "-t", "nfs"};
      if (src.readOnly) argv.insert(argv.end(), {"-o", "ro"});
      argv.insert(argv.end(), {"--", src.server + ":" + src.path, dir});
      auto r = os::ExecOk(argv);
      if (!r.ok()) return r.status();
    }
    MountedVolume mv;
    mv.pluginDir = kPluginDir;
    mv.dirName = req.volume->name;
    mv.hostPath = dir;
    mv.readOnly = src.readOnly;
    return mv;
  }

  Status TearDown(const NodeContext& node, const std::string& podDir,
                  const std::string& dirName) override {
    const std::string dir = VolumeDirPath(podDir, kPluginDir, dirName);
    if (!os::Exists(dir)) return Status::Ok();
    KVOL_RETURN_IF_ERROR(MounterOf(node).UnmountAllUnder(dir));
    return os::RemoveTreeOneFs(dir);  // refuses (never deletes server data) if still mounted
  }

 private:
  std::string filesystems_;
};

}  // namespace

std::unique_ptr<Plugin> NewNfsPlugin() { return std::make_unique<NfsPlugin>("/proc/filesystems"); }

// For tests: an nfs plugin that reads the kernel's filesystem list from `filesystems`.
std::unique_ptr<Plugin> NewNfsPluginForTest(const std::string& filesystems) {
  return std::make_unique<NfsPlugin>(filesystems);
}

}  // namespace kvol::volume
