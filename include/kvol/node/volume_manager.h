// The node's volume manager (kvol::node), in the kubelet's shape:
// - desired state of the world: for each pod assigned to this node and not terminated, its volumes
//   (AddPod / RemovePod, called by the pod workers);
// - actual state of the world: what is set up on disk (pod uid -> volume name -> MountedVolume);
// - a reconciler thread converging one to the other: SetUp for desired volumes that are not
//   mounted, TearDown (then removal of DIR/pods/<uid>) for pods no longer desired; one operation
//   per volume at a time, a failed operation retried with per-volume exponential backoff (0.5 s
//   doubling to 30 s; an ObjectChanged touching the volume retries at once);
// - reconstruction (Start): DIR/pods/*/volumes/<plugin>/<dir> found on disk enter the actual state
//   as they are (nothing re-created, nothing lost); the pods that are not desired once the agent
//   has synced (MarkDesiredSynced) are torn down.
// - updates: ObjectChanged(ref) re-runs SetUp for every mounted volume that References() it, at
//   once (configMap/secret contents reach running pods within milliseconds of the watch event).
//
// Thread safety: every method may be called from any thread.
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "kvol/api/types_pod.h"
#include "kvol/common/status.h"
#include "kvol/volume/plugin.h"

namespace kvol::node {

struct VolumeManagerOptions {
  volume::NodeContext node;  // dataDir, nodeName, allowedHostPaths, mounter, drivers
  volume::ObjectSource* objects = nullptr;
  std::vector<std::unique_ptr<volume::Plugin>> plugins;  // default: volume::BuiltinPlugins()
  // Called (from the reconciler thread) when a volume of a pod fails to set up or waits: the
  // agent turns it into a pod event (reason "FailedMount", message as Kubernetes words it:
  // `MountVolume.SetUp failed for volume "cfg" : configmap "app" not found`).
  std::function<void(const api::Pod& pod, const std::string& reason, const std::string& message)>
      onEvent;
  // Called when every volume of a pod is mounted (or a volume changed content), so the pod worker
  // can proceed without polling.
  std::function<void(const std::string& podUid)> onPodVolumesReady;
};

class VolumeManager {
 public:
  explicit VolumeManager(VolumeManagerOptions opts);
  ~VolumeManager();  // stops the reconciler (does not unmount anything)

  Status Start();  // reconstruction, then the reconciler thread
  void Stop();

  // Desired state.
  void AddPod(const api::Pod& pod);  // also updates a known pod (downwardAPI labels...)
  void RemovePod(const std::string& podUid);
  void MarkDesiredSynced();  // the agent has listed its pods: orphans may go
  void ObjectChanged(const volume::ObjectRef& ref);

  // The pod's volumes once all are set up: volume name -> MountedVolume. kUnavailable with the
  // latest reason while some are not (the message of the first failing volume).
  Result<std::map<std::string, volume::MountedVolume>> MountedVolumes(const std::string& podUid);
  // Blocks until MountedVolumes(podUid) is OK or the deadline passes (then its last error).
  Result<std::map<std::string, volume::MountedVolume>> WaitForVolumes(
      const std::string& podUid, std::chrono::steady_clock::time_point deadline);
  // True once the pod's directory and volumes are gone (after RemovePod).
  // (Precisely: DIR/pods/<uid>/volumes and DIR/pods/<uid>/volume-subpaths are gone and nothing of
  // the pod is left in either state; the rest of DIR/pods/<uid>, e.g. containers/, is the agent's
  // to remove. MountedVolumes of a pod never added (or removed) is kNotFound. Tear-down failures
  // are reported through onEvent with reason "FailedUnmount"; for a pod found only on disk the
  // event's pod has nothing but metadata.uid.)
  bool PodCleanedUp(const std::string& podUid);
  // A clean node stop (SIGTERM), like a reboot: Plugin::Unmount on every volume of every pod (all
  // mounts and loop devices released; disk emptyDir data and the volume directories kept for the
  // next start to adopt); the reconciler stays paused. Blocks until done.
  Status UnmountAll();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace kvol::node
