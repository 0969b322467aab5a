// persistentVolumeClaim: the claim's bound PV, published at
// DIR/pods/<uid>/volumes/kubernetes.io~csi/<pv-name>/mount, with vol_data.json beside `mount`
// recording what TearDown needs (so it works from disk alone):
//   {"driverName", "volumeHandle", "specVolumeName", "podUid", "readOnly", "stagingPath",
//    "block"}    (driverName "" = a bind mount of a hostPath / local PV)
// Sources: spec.csi with a node driver (NodeStage at DIR/plugins/kubernetes.io~csi/<pv>/globalmount
// when the driver stages, then NodePublish), spec.hostPath (allowed-prefix and type checks, then a
// bind mount), spec.local (a bind mount of local.path).
// Read-only when the pod's volume says so, the PV's csi.readOnly says so, or the claim asks for
// exactly [ReadOnlyMany] (kvol enforces ROX; Kubernetes does not).
// TearDown unpublishes (or unmounts the bind) and removes the directory; it never deletes data.
// The staged volume is unstaged when no other pod's vol_data.json names the same PV.
//
// Attach (issue 8), in the kubelet's order, for a CSI volume whose driver needs attaching
// (api::AttachRequired with the CSIDriver object "csidrivers/<driver>" when it exists):
// vol_data.json is written first ("attachRequired": true), which puts the volume into this node's
// status.volumesInUse (src/node reports CsiVolumesInUse from disk); SetUp then waits (briefly)
// until the Node object lists it, and requires the VolumeAttachment VolumeAttachmentName(handle,
// driver, node) with spec.nodeName == this node and status.attached; only then
// NodeStage/NodePublish. A volume already published into this pod is never refused (a re-SetUp
// after a change keeps it). ReadWriteOncePod (claim modes include it, or the PV's modes are exactly
// it): refused while another pod's vol_data.json on this node names the PV.
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "kvol/api/attachment.h"
#include "kvol/api/types_pv.h"
#include "kvol/api/types_storage.h"
#include "kvol/driver/node_driver.h"
#include "kvol/os/fs.h"
#include "kvol/os/mount.h"
#include "src/volume/plugins_internal.h"
#include "src/volume/volumes_in_use.h"

namespace kvol::volume {
namespace {

constexpr const char* kPluginDir = "kubernetes.io~csi";
constexpr const char* kVolData = "vol_data.json";

template <class T>
Result<T> Decode(const json& j, const std::string& what) {
  T out;
  api::DecodeContext ctx;
  api::FromJson(j, out, ctx);
  if (!ctx.errors.empty())
    return Internal("decoding " + what + ": " + ctx.errors.front().ToString());
  return out;
}

// Makes `target` a directory or an empty file, matching `src`.
Status MakeTargetLike(const std::string& src, const std::string& target) {
  struct stat st;
  if (::stat(src.c_str(), &st) != 0) return ErrnoError("stat", src, errno);
  if (S_ISDIR(st.st_mode)) return os::MakeDirs(target, 0750);
  if (os::Exists(target)) return Status::Ok();
  int fd = ::open(target.c_str(), O_WRONLY | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0644);
  if (fd < 0) return ErrnoError("create", target, errno);
  ::close(fd);
  return Status::Ok();
}

struct VolData {
  std::string driverName, volumeHandle, specVolumeName, podUid, stagingPath;
  bool readOnly = false, block = false;
  std::optional<bool> attachRequired;  // CSI volumes only
};

json ToJson(const VolData& d) {
  json j{{"driverName", d.driverName},
         {"volumeHandle", d.volumeHandle},
         {"specVolumeName", d.specVolumeName},
         {"podUid", d.podUid},
         {"readOnly", d.readOnly},
         {"stagingPath", d.stagingPath},
         {"block", d.block}};
  if (d.attachRequired.has_value()) j["attachRequired"] = *d.attachRequired;
  return j;
}

Result<VolData> ReadVolData(const std::string& path) {
  KVOL_ASSIGN_OR_RETURN(std::string text, os::ReadFile(path));
  json j = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object()) return Internal("reading " + path + ": not a JSON object");
  VolData d;
  d.driverName = j.value("driverName", "");
  d.volumeHandle = j.value("volumeHandle", "");
  d.specVolumeName = j.value("specVolumeName", "");
  d.podUid = j.value("podUid", "");
  d.stagingPath = j.value("stagingPath", "");
  d.readOnly = j.value("readOnly", false);
  d.block = j.value("block", false);
  if (j.contains("attachRequired") && j["attachRequired"].is_boolean()) {
    d.attachRequired = j["attachRequired"].get<bool>();
  }
  return d;
}

// How many pods other than `podDir`'s have a vol_data.json for `pvName` under podsDir.
int OtherPodsUsing(const std::string& podsDir, const std::string& podDir,
                   const std::string& pvName) {
  int n = 0;
  DIR* d = ::opendir(podsDir.c_str());
  if (d == nullptr) return 0;
  while (struct dirent* e = ::readdir(d)) {
    std::string uid = e->d_name;
    if (uid == "." || uid == "..") continue;
    std::string dir = podsDir + "/" + uid;
    if (dir == podDir) continue;
    if (os::Exists(VolumeDirPath(dir, kPluginDir, pvName) + "/" + kVolData)) ++n;
  }
  ::closedir(d);
  return n;
}

std::string ParentDir(const std::string& p) {
  size_t s = p.rfind('/');
  return s == std::string::npos || s == 0 ? "/" : p.substr(0, s);
}

bool ClaimIsReadOnlyMany(const api::PersistentVolumeClaim& c) {
  return c.spec.accessModes.size() == 1 && c.spec.accessModes[0] == api::kReadOnlyMany;
}

bool IsReadWriteOncePod(const api::PersistentVolumeClaim& c, const api::PersistentVolume& pv) {
  const auto& cm = c.spec.accessModes;
  if (std::find(cm.begin(), cm.end(), api::kReadWriteOncePod) != cm.end()) return true;
  return pv.spec.accessModes.size() == 1 && pv.spec.accessModes[0] == api::kReadWriteOncePod;
}

std::atomic<int> inUseWaitMs{5000};

// The CSIDriver object of `driver` when the source has it.
std::optional<api::CSIDriver> CsiDriverObject(ObjectSource& objects, const std::string& driver) {
  auto j = objects.Get("csidrivers", "", driver);
  if (!j.ok()) return std::nullopt;  // none (or no cache of them): the built-in rule
  auto d = Decode<api::CSIDriver>(*j, "csidriver");
  if (!d.ok()) return std::nullopt;
  return std::move(*d);
}

bool NodeListsInUse(ObjectSource& objects, const std::string& nodeName, const std::string& unique) {
  auto n = objects.Get("nodes", "", nodeName);
  if (!n.ok() || !n->is_object()) return false;
  auto st = n->find("status");
  if (st == n->end() || !st->is_object()) return false;
  auto in = st->find("volumesInUse");
  if (in == st->end() || !in->is_array()) return false;
  for (const auto& v : *in) {
    if (v.is_string() && v.get<std::string>() == unique) return true;
  }
  return false;
}

// The kubelet's VerifyControllerAttachedVolume: the volume is listed in this node's
// status.volumesInUse (waiting up to inUseWaitMs for the agent to report it), and its
// VolumeAttachment says attached to this node.
Status VerifyAttached(ObjectSource& objects, const std::string& nodeName, const std::string& pvName,
                      const std::string& driver, const std::string& handle) {
  const std::string unique = api::UniqueVolumeName(driver, handle);
  const auto deadline =
      std::chrono::steady_clock::now() + std::chrono::milliseconds(inUseWaitMs.load());
  while (!NodeListsInUse(objects, nodeName, unique)) {
    if (std::chrono::steady_clock::now() >= deadline) {
      return Unavailable("volume \"" + pvName +
                         "\" has not been added to the list of VolumesInUse in the status of "
                         "node \"" +
                         nodeName + "\" yet");
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  const std::string vaName = api::VolumeAttachmentName(handle, driver, nodeName);
  const std::string notYet = "volume \"" + pvName + "\" is not attached to node \"" + nodeName +
                             "\" yet (VolumeAttachment " + vaName;
  auto vj = objects.Get("volumeattachments", "", vaName);
  if (!vj.ok()) {
    if (vj.status().IsNotFound()) return Unavailable(notYet + " does not exist)");
    return Unavailable(notYet + ": " + vj.status().message() + ")");
  }
  KVOL_ASSIGN_OR_RETURN(auto va, Decode<api::VolumeAttachment>(*vj, "volumeattachment"));
  if (va.spec.nodeName != nodeName) {
    return Unavailable(notYet + " is for node \"" + va.spec.nodeName + "\")");
  }
  if (va.metadata.deletionTimestamp.has_value()) {
    return Unavailable(notYet + " is being deleted)");
  }
  if (!va.status.attached) {
    if (va.status.attachError.has_value() && !va.status.attachError->message.empty()) {
      return Unavailable(notYet + ": " + va.status.attachError->message + ")");
    }
    return Unavailable(notYet + ": status.attached is false)");
  }
  return Status::Ok();
}

class PvcPlugin : public Plugin {
 public:
  std::string PluginDir() const override { return kPluginDir; }
  bool CanHandle(const api::Volume& v) const override {
    return v.persistentVolumeClaim.has_value();
  }

  std::vector<ObjectRef> References(const api::Pod& pod, const api::Volume& v) const override {
    return {
        {"persistentvolumeclaims", pod.metadata.namespace_, v.persistentVolumeClaim->claimName}};
  }

  Result<MountedVolume> SetUp(const VolumeRequest& req) override {
    const std::string& claimName = req.volume->persistentVolumeClaim->claimName;
    const std::string& ns = req.pod->metadata.namespace_;
    auto cj = req.objects->Get("persistentvolumeclaims", ns, claimName);
    if (!cj.ok()) {
      if (cj.status().IsNotFound()) {
        return Unavailable("persistentvolumeclaim \"" + claimName + "\" not found");
      }
      return cj.status();
    }
    KVOL_ASSIGN_OR_RETURN(auto claim, Decode<api::PersistentVolumeClaim>(*cj, "claim"));
    if (claim.metadata.deletionTimestamp.has_value()) {
      return Unavailable("persistentvolumeclaim \"" + claimName + "\" is being deleted");
    }
    if (claim.status.phase != "Bound" || claim.spec.volumeName.empty()) {
      return Unavailable("persistentvolumeclaim \"" + claimName + "\" is not bound yet");
    }
    const std::string& pvName = claim.spec.volumeName;
    auto pj = req.objects->Get("persistentvolumes", "", pvName);
    if (!pj.ok()) {
      if (pj.status().IsNotFound()) {
        return Unavailable("persistentvolume \"" + pvName +
                           "\" (bound to persistentvolumeclaim \"" + claimName + "\") not found");
      }
      return pj.status();
    }
    KVOL_ASSIGN_OR_RETURN(auto pv, Decode<api::PersistentVolume>(*pj, "persistentvolume"));
    if (!pv.spec.claimRef.has_value() || pv.spec.claimRef->name != claimName ||
        (!pv.spec.claimRef->uid.empty() && !claim.metadata.uid.empty() &&
         pv.spec.claimRef->uid != claim.metadata.uid)) {
      return Unavailable("persistentvolume \"" + pvName +
                         "\" is not bound to persistentvolumeclaim \"" + claimName + "\" yet");
    }

    MountedVolume mv;
    mv.pluginDir = kPluginDir;
    mv.dirName = pvName;
    mv.block =
        claim.spec.volumeMode.value_or(pv.spec.volumeMode.value_or("")) == api::kVolumeModeBlock;
    mv.readOnly = req.volume->persistentVolumeClaim->readOnly || ClaimIsReadOnlyMany(claim) ||
                  (pv.spec.csi.has_value() && pv.spec.csi->readOnly);

    const std::string volDir = VolumeDirPath(req.podDir, kPluginDir, pvName);
    const std::string target = volDir + "/mount";
    const bool ours = os::Exists(volDir + "/" + kVolData);  // this pod has (had) it set up
    if (!ours && IsReadWriteOncePod(claim, pv) &&
        OtherPodsUsing(ParentDir(req.podDir), req.podDir, pvName) > 0) {
      return Unavailable(
          "volume uses the ReadWriteOncePod access mode and is already in use by another pod");
    }
    KVOL_RETURN_IF_ERROR(os::MakeDirs(volDir, 0750));

    VolData vd;
    vd.specVolumeName = pvName;
    vd.podUid = req.pod->metadata.uid;
    vd.readOnly = mv.readOnly;
    vd.block = mv.block;
    os::Mounter& m = MounterOf(*req.node);

    if (pv.spec.csi.has_value()) {
      const auto& csi = *pv.spec.csi;
      auto it = req.node->drivers.find(csi.driver);
      if (it == req.node->drivers.end() || it->second == nullptr) {
        return Unavailable("driver name " + csi.driver +
                           " not found in the list of registered CSI drivers");
      }
      driver::NodeDriver& drv = *it->second;
      vd.driverName = csi.driver;
      vd.volumeHandle = csi.volumeHandle;
      vd.attachRequired =
          api::AttachRequired(csi.driver, CsiDriverObject(*req.objects, csi.driver));
      if (drv.NeedsStaging()) {
        vd.stagingPath =
            req.node->dataDir + "/plugins/" + kPluginDir + "/" + pvName + "/globalmount";
      }
      // Written before anything is mounted, so TearDown can undo a SetUp that stopped half-way.
      // Not fsync'd (as the kubelet): after a machine crash nothing it describes is mounted.
      KVOL_RETURN_IF_ERROR(os::ReplaceFile(volDir + "/" + kVolData, ToJson(vd).dump()));
      auto published = os::IsMountPoint(target);
      if (*vd.attachRequired && !(published.ok() && *published)) {
        KVOL_RETURN_IF_ERROR(
            VerifyAttached(*req.objects, req.node->nodeName, pvName, csi.driver, csi.volumeHandle));
      }
      if (!vd.stagingPath.empty()) {
        KVOL_RETURN_IF_ERROR(os::MakeDirs(vd.stagingPath, 0750));
        driver::NodeStageRequest sr;
        sr.volumeId = csi.volumeHandle;
        sr.stagingPath = vd.stagingPath;
        sr.fsType = csi.fsType;
        sr.block = mv.block;
        sr.volumeContext = csi.volumeAttributes;
        KVOL_RETURN_IF_ERROR(drv.NodeStageVolume(sr));
      }
      driver::NodePublishRequest pr;
      pr.volumeId = csi.volumeHandle;
      pr.stagingPath = vd.stagingPath;
      pr.targetPath = target;
      pr.readOnly = mv.readOnly;
      pr.block = mv.block;
      pr.volumeContext = csi.volumeAttributes;
      KVOL_RETURN_IF_ERROR(drv.NodePublishVolume(pr));
      mv.hostPath = target;
      return mv;
    }

    std::string src;
    if (pv.spec.hostPath.has_value()) {
      KVOL_ASSIGN_OR_RETURN(
          src, CheckAllowedHostPath(pv.spec.hostPath->path, req.node->allowedHostPaths));
      KVOL_RETURN_IF_ERROR(CheckHostPathType(src, pv.spec.hostPath->type.value_or("")));
    } else if (pv.spec.local.has_value()) {
      src = pv.spec.local->path;
      if (src.empty() || src[0] != '/') {
        return Invalid("persistentvolume \"" + pvName + "\": local.path must be absolute");
      }
      if (!os::Exists(src)) {
        return Unavailable("persistentvolume \"" + pvName + "\": local path \"" + src +
                           "\" does not exist on node " + req.node->nodeName);
      }
    } else {
      return FailedPrecondition("persistentvolume \"" + pvName +
                                "\": its volume source is not supported on this node (csi, "
                                "hostPath and local are)");
    }
    KVOL_RETURN_IF_ERROR(os::ReplaceFile(volDir + "/" + kVolData, ToJson(vd).dump()));
    if (mv.block) {
      struct stat st;
      if (::stat(src.c_str(), &st) != 0 || !S_ISBLK(st.st_mode)) {
        return FailedPrecondition("persistentvolume \"" + pvName + "\": volumeMode Block needs " +
                                  src + " to be a block device");
      }
      mv.hostPath = src;  // containers get the device node itself
      return mv;
    }
    KVOL_ASSIGN_OR_RETURN(bool mounted, os::IsMountPoint(target));
    if (!mounted) {
      KVOL_RETURN_IF_ERROR(MakeTargetLike(src, target));
      KVOL_RETURN_IF_ERROR(m.BindMount(src, target, mv.readOnly));
    }
    mv.hostPath = target;
    return mv;
  }

  Status TearDown(const NodeContext& node, const std::string& podDir,
                  const std::string& dirName) override {
    const std::string volDir = VolumeDirPath(podDir, kPluginDir, dirName);
    if (!os::Exists(volDir)) return Status::Ok();
    const std::string target = volDir + "/mount";
    os::Mounter& m = MounterOf(node);
    auto vd = ReadVolData(volDir + "/" + kVolData);
    driver::NodeDriver* drv = nullptr;
    if (vd.ok() && !vd->driverName.empty()) {
      auto it = node.drivers.find(vd->driverName);
      if (it != node.drivers.end()) drv = it->second;
    }
    // A SetUp that stopped before publishing (waiting for its VolumeAttachment) made no target
    // and no staging directory: nothing to undo in the driver. This matters: unstaging a volume
    // this node never staged could take a disk another node has attached (a shared block pool).
    if (drv != nullptr && os::Exists(target)) {
      KVOL_RETURN_IF_ERROR(drv->NodeUnpublishVolume(vd->volumeHandle, target));
    }
    // A bind of a hostPath/local PV, or what a driver we no longer have left behind.
    KVOL_RETURN_IF_ERROR(m.UnmountAllUnder(volDir));
    if (drv != nullptr && !vd->stagingPath.empty() && os::Exists(vd->stagingPath) &&
        OtherPodsUsing(ParentDir(podDir), podDir, dirName) == 0) {
      KVOL_RETURN_IF_ERROR(drv->NodeUnstageVolume(vd->volumeHandle, vd->stagingPath));
      // DIR/plugins/kubernetes.io~csi/<pv>; refused (data kept) if anything is still mounted.
      KVOL_RETURN_IF_ERROR(os::RemoveTreeOneFs(ParentDir(vd->stagingPath)));
    }
    // The mount point first: if it is somehow still a mount, this fails and vol_data.json stays
    // for the next try.
    KVOL_RETURN_IF_ERROR(os::RemoveTreeOneFs(target));
    return os::RemoveTreeOneFs(volDir);
  }
};

}  // namespace

std::unique_ptr<Plugin> NewPvcPlugin() { return std::make_unique<PvcPlugin>(); }

std::vector<std::string> CsiVolumesInUse(const std::string& dataDir) {
  std::vector<std::string> out;
  const std::string podsDir = dataDir + "/pods";
  DIR* d = ::opendir(podsDir.c_str());
  if (d == nullptr) return out;
  std::vector<std::string> uids;
  while (struct dirent* e = ::readdir(d)) {
    if (e->d_name[0] != '.') uids.push_back(e->d_name);
  }
  ::closedir(d);
  for (const std::string& uid : uids) {
    const std::string csiDir = podsDir + "/" + uid + "/volumes/" + kPluginDir;
    DIR* c = ::opendir(csiDir.c_str());
    if (c == nullptr) continue;
    std::vector<std::string> names;
    while (struct dirent* e = ::readdir(c)) {
      if (e->d_name[0] != '.') names.push_back(e->d_name);
    }
    ::closedir(c);
    for (const std::string& n : names) {
      auto vd = ReadVolData(csiDir + "/" + n + "/" + kVolData);
      if (!vd.ok() || vd->driverName.empty() || vd->volumeHandle.empty()) continue;
      if (!vd->attachRequired.value_or(api::AttachRequired(vd->driverName, std::nullopt))) continue;
      out.push_back(api::UniqueVolumeName(vd->driverName, vd->volumeHandle));
    }
  }
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

void SetVolumesInUseWaitForTest(std::chrono::milliseconds wait) {
  inUseWaitMs = static_cast<int>(wait.count());
}

}  // namespace kvol::volume
