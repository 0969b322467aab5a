// The node's volume plugins (kvol::volume): each turns one entry of a pod's spec.volumes into a
// directory (or device) on the host that the pod's containers bind-mount, and takes it away again.
// Layout (DESIGN.md): DIR/pods/<pod-uid>/volumes/<plugin-dir>/<dir-name>, plugin-dir one of
// kubernetes.io~empty-dir, ~configmap, ~secret, ~projected, ~downward-api, ~git-repo, ~nfs, ~csi
// (a claim: <dir-name> = the PV's name, the data at .../<pv-name>/mount); hostPath has no
// directory (its MountedVolume.hostPath is the host path itself).
//
// Contract of every plugin:
// - SetUp is idempotent: on a volume already set up it verifies (and, for configMap, secret,
//   projected and downwardAPI, rewrites the files when their content changed, atomically) and
//   returns the same MountedVolume. It never destroys data.
// - A condition the pod must wait for (a missing configMap/secret/key that is not optional, a
//   claim not Bound yet) is kUnavailable with a message fit for the pod's event ("configmap
//   \"app-config\" not found"); a spec that can never work (hostPath outside the allowed prefixes,
//   an nfs volume on a node without an NFS client) is kForbidden.
// - TearDown works from what is on disk alone (the pod object may be gone, the agent may have
//   restarted): it gets the pod directory and the <dir-name>, unmounts what SetUp mounted and
//   removes the directory, never following into other filesystems (os::RemoveTreeOneFs). Missing
//   directory: OK. hostPath data and claim data are never deleted by TearDown.
//
// Thread safety: a plugin is shared by all pods; calls for different volumes may run concurrently,
// calls for one volume are serialised by the volume manager.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "kvol/api/reflect.h"
#include "kvol/api/types_pod.h"
#include "kvol/common/status.h"

namespace kvol::os {
class Mounter;
}
namespace kvol::driver {
class NodeDriver;
}

namespace kvol::volume {

using json = api::json;

// Read access to the objects a volume refers to (ConfigMaps, Secrets, PVCs, PVs), served by the
// node agent from its watch caches. Get returns the object's JSON, kNotFound when it does not
// exist. resource is the REST resource name: "configmaps", "secrets", "persistentvolumeclaims",
// "persistentvolumes" (ns "" for cluster-scoped).
class ObjectSource {
 public:
  virtual ~ObjectSource() = default;
  virtual Result<json> Get(const std::string& resource, const std::string& ns,
                           const std::string& name) = 0;
};

// What a plugin knows of the node.
struct NodeContext {
  std::string dataDir;  // DIR
  std::string nodeName;
  std::vector<std::string> allowedHostPaths;  // empty: every path allowed (Kubernetes' default)
  os::Mounter* mounter = nullptr;             // never null in a running agent
  std::map<std::string, driver::NodeDriver*> drivers;  // CSI driver name -> node driver
};

struct VolumeRequest {
  const api::Pod* pod = nullptr;        // metadata (uid, name, namespace, labels, annotations)
  const api::Volume* volume = nullptr;  // the entry of pod.spec.volumes
  std::string podDir;                   // DIR/pods/<pod-uid>
  ObjectSource* objects = nullptr;
  const NodeContext* node = nullptr;
};

struct MountedVolume {
  std::string pluginDir;  // "kubernetes.io~empty-dir" ("" for hostPath: nothing on disk)
  std::string dirName;    // <dir-name> under pluginDir (the volume name; the PV name for claims)
  std::string hostPath;   // what containers bind-mount: a directory, a file (hostPath File) or
                          // a block device node (claim with volumeMode Block)
  bool readOnly = false;  // every container mount of it must be read-only (ROX claim,
                          // claim readOnly, PV readOnly); configMap/secret/projected/downwardAPI
                          // are read-only too, as in Kubernetes
  bool block = false;     // hostPath is a block device (volumeDevices, not volumeMounts)
};

// An object whose change must re-run SetUp (configMap, secret, and the pod itself for
// downwardAPI): the volume manager calls SetUp again when it sees such an object change.
struct ObjectRef {
  std::string resource, ns, name;
};

class Plugin {
 public:
  virtual ~Plugin() = default;
  // The plugin directory name, e.g. "kubernetes.io~empty-dir".
  virtual std::string PluginDir() const = 0;
  // True when this plugin serves `v` (its source field is set).
  virtual bool CanHandle(const api::Volume& v) const = 0;
  virtual Result<MountedVolume> SetUp(const VolumeRequest& req) = 0;
  virtual Status TearDown(const NodeContext& node, const std::string& podDir,
                          const std::string& dirName) = 0;
  virtual std::vector<ObjectRef> References(const api::Pod& pod, const api::Volume& v) const {
    return {};
  }
  // A clean node stop (SIGTERM), like a reboot: release every mount and loop device of the volume
  // but keep the data a reboot keeps (an emptyDir on disk, also a sized one's image), so the next
  // start's SetUp adopts it. Default: TearDown (content that is re-made from the API anyway).
  virtual Status Unmount(const NodeContext& node, const std::string& podDir,
                         const std::string& dirName) {
    return TearDown(node, podDir, dirName);
  }
};

// Every built-in plugin (emptyDir, hostPath, configMap, secret, projected, downwardAPI, gitRepo,
// nfs, persistentVolumeClaim), in that order.
std::vector<std::unique_ptr<Plugin>> BuiltinPlugins();

}  // namespace kvol::volume
