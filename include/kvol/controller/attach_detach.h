// AttachDetachController: kube-controller-manager's attach/detach controller and the CSI
// external-attacher in one loop, over VolumeAttachment objects (storage.k8s.io/v1).
//
// sync(pv), idempotent, for a CSI volume whose driver needs attaching (api::AttachRequired):
// - desired: the nodes of the pods that use the volume (through a claim bound to it) and are not
//   finished (phase Succeeded/Failed). A pod being deleted still uses it (its containers may
//   still write) unless its node carries the node.kubernetes.io/out-of-service taint.
// - attach: a VolumeAttachment named api::VolumeAttachmentName(handle, driver, node) is created
//   with status.attached=true (the pool is on this machine: nothing physical moves, the object is
//   the exclusive claim on the volume), unless the volume is exclusive (its PV offers neither
//   ReadWriteMany nor ReadOnlyMany: api::MultiAttachAllowed) and attached to another node. Then
//   every pod waiting on it gets Kubernetes' Warning FailedAttachVolume event,
//   `Multi-Attach error for volume "<pv>" Volume is already exclusively attached to one node and
//   can't be attached to another`, followed by where it is attached and when it moves.
// - detach: a VolumeAttachment whose node no longer needs the volume is deleted only when that
//   node reports it unmounted (absent from the Node's status.volumesInUse), the Node is gone, or
//   the node is out of service (the non-graceful shutdown taint: detach at once, no 6-minute
//   wait). A node that stopped answering keeps its volumes: they never move while its containers
//   might still write.
// sync(node): the Node's status.volumesAttached lists the volumes attached there.
// Keys: "pv:<name>" and "node:<name>"; every informer change re-queues the keys it touches.
// Indexes kept by the handlers (claim -> pods using it, volume -> attachments, node ->
// attachments) make a sync cost what it touches, not the number of pods or attachments.
//
// Thread safety: RegisterHandlers() before informers start; Sync from one worker (Run).
#pragma once

#include <map>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "kvol/api/types_storage.h"
#include "kvol/controller/binder.h"

namespace kvol::controller {

using VolumeAttachmentInformer = Informer<api::VolumeAttachment>;
using CSIDriverInformer = Informer<api::CSIDriver>;

inline constexpr const char* kOutOfServiceTaint = "node.kubernetes.io/out-of-service";

class AttachDetachController {
 public:
  AttachDetachController(store::Store& s, PodInformer& pods, NodeInformer& nodes, PVCInformer& pvcs,
                         PVInformer& pvs, VolumeAttachmentInformer& vas,
                         CSIDriverInformer& csiDrivers, EventRecorder& events);
  void RegisterHandlers();
  WorkQueue& queue() { return queue_; }
  Status Sync(const std::string& key);
  void Run();
  void EnqueueAll();

 private:
  Status SyncVolume(const std::string& pvName);
  Status SyncNode(const std::string& nodeName);
  void EnqueuePodVolumes(const api::Pod& pod);
  bool NodeOutOfService(const std::string& nodeName);
  void IndexPod(const api::Pod& pod, const std::string& key, bool add);
  void IndexAttachment(const api::VolumeAttachment& a, const std::string& key, bool add);
  std::vector<std::string> Lookup(const std::map<std::string, std::set<std::string>>& index,
                                  const std::string& k);

  store::Store& store_;
  PodInformer& pods_;
  NodeInformer& nodes_;
  PVCInformer& pvcs_;
  PVInformer& pvs_;
  VolumeAttachmentInformer& vas_;
  CSIDriverInformer& csiDrivers_;
  EventRecorder& events_;
  WorkQueue queue_{WorkQueue::Options{.name = "attachdetach"}};
  std::mutex mu_;                                             // guards the indexes
  std::map<std::string, std::set<std::string>> podsByClaim_;  // claim store key -> pod keys
  std::map<std::string, std::set<std::string>> vasByPv_;      // PV name -> attachment keys
  std::map<std::string, std::set<std::string>> vasByNode_;    // node name -> attachment keys
};

}  // namespace kvol::controller
