// ControllerManager: runs kvol's control loops in process against a Store (what `kvol serve`
// runs; kube-controller-manager + kube-scheduler in Kubernetes' terms).
//
// Start(): creates the informers (PVs, PVCs, StorageClasses, Nodes, Pods, VolumeAttachments,
// CSIDrivers), the attach/detach controller (attach_detach.h), the node lifecycle controller
// (node_lifecycle.h), the binder (binding,
// provisioning with the built-in kvol.io/local and kvol.io/block drivers plus any extra
// drivers, reclaim), the protection controller, the expand controller (expander.h) and the
// scheduler; lists
// everything, starts the watches, then one worker thread per controller and a resync thread
// (every resyncPeriod: re-queues every PV/PVC and unscheduled pod, re-establishes ended
// watches). Returns once the caches are filled (so the caller may print "ready"). Stop(): shuts
// the queues down, joins the threads, ends the watches; idempotent, also run by the destructor.
//
// Events are written with source.component "persistentvolume-controller" (binder),
// "default-scheduler" (scheduler), "external-resizer" (expand controller), "snapshot-controller".
// Snapshots: the snapshot controller (snapshot_controller.h) with its own informers for
// VolumeSnapshots, VolumeSnapshotContents and VolumeSnapshotClasses; a snapshot that becomes
// readyToUse re-queues the unbound claims whose dataSource names it (restore).
//
// Thread safety: Start/Stop from one thread. The Store must outlive the manager.
#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <string>

#include "kvol/common/status.h"
#include "kvol/driver/driver.h"
#include "kvol/store/store.h"

namespace kvol::controller {

struct ControllerManagerOptions {
  std::string nodeName;  // this machine's node (local volumes for Immediate claims go here)
  std::string dataDir;   // kvol.io/local volumes live in <dataDir>/local/<pv-name>
  // kvol.io/block: images in the block pool (--block-pool, "" = <dataDir>/block); the volumes'
  // topology is this node's zone (topology.kubernetes.io/zone) when it has one, else its hostname.
  std::string blockPool;
  std::string zone;
  std::chrono::milliseconds resyncPeriod{15000};
  // Extra controller drivers by provisioner name (e.g. "kvol.io/block"); not owned.
  std::map<std::string, driver::ControllerDriver*> drivers;
  bool enableScheduler = true;
  // A node whose heartbeat is older than this becomes NotReady (Unknown).
  std::chrono::milliseconds nodeMonitorGracePeriod{40000};
};

class ControllerManager {
 public:
  ControllerManager(store::Store& s, ControllerManagerOptions opts);
  ~ControllerManager();
  ControllerManager(const ControllerManager&) = delete;
  ControllerManager& operator=(const ControllerManager&) = delete;

  Status Start();
  void Stop();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace kvol::controller
