// Scheduler: assigns pods without spec.nodeName to a node (a small kube-scheduler with the
// VolumeBinding plugin's behaviour).
//
// Filters, per node: Ready condition True; not spec.unschedulable; the pod's nodeSelector and
// required node affinity; the node affinity of every bound claim's PV. Claims: missing or
// being-deleted claims and unbound claims of Immediate classes make the pod unschedulable (as in
// Kubernetes); unbound WaitForFirstConsumer claims get volume.kubernetes.io/selected-node = the
// chosen node first (one Txn), and the pod is bound only once all its claims are Bound (PreBind
// waits in Kubernetes); a node outside such a claim's class allowedTopologies is filtered out
// ("didn't find available persistent volumes to bind"). A claim with the ReadWriteOncePod mode
// used by another scheduled, unfinished pod makes the pod unschedulable on every node (Kubernetes'
// VolumeRestrictions: "node has pod using PersistentVolumeClaim with the same name and
// ReadWriteOncePod access mode", here followed by which pod and node hold it). Among feasible nodes
// the one with the fewest scheduled pods wins (ties by name). Binding writes spec.nodeName and the
// PodScheduled=True condition with a revision precondition, and records a Normal "Scheduled" event
// ("Successfully assigned ns/pod to node"). Otherwise the pod gets PodScheduled=False, reason
// Unschedulable, and a Warning FailedScheduling event, both with Kubernetes' message shape: "0/2
// nodes are available: 1 node(s) didn't match Pod's node affinity/selector, 1 node(s) had volume
// node affinity conflict." Every unbound WaitForFirstConsumer claim of an unschedulable pod gets a
// Normal WaitForPodScheduled event carrying the pod's reason ("waiting for pod p to be scheduled:
// 0/3 nodes are available: ..."), so `kubectl describe pvc` answers why the claim is Pending. Pods
// naming another schedulerName are left alone.
//
// Thread safety: RegisterHandlers() before informers start; Sync from one worker.
#pragma once

#include <map>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "kvol/controller/binder.h"

namespace kvol::controller {

class Scheduler {
 public:
  Scheduler(store::Store& s, PodInformer& pods, NodeInformer& nodes, PVCInformer& pvcs,
            PVInformer& pvs, ClassInformer& classes, EventRecorder& events);
  void RegisterHandlers();
  WorkQueue& queue() { return queue_; }
  Status Sync(const std::string& podKey);
  void Run();
  void EnqueueAll();

 private:
  Status MarkUnschedulable(const PodInformer::ItemPtr& pod, const std::string& message);
  Status MarkUnschedulableWaiting(const PodInformer::ItemPtr& pod,
                                  const std::vector<PVCInformer::ItemPtr>& waiting,
                                  const std::string& message);
  void EnqueuePending();

  store::Store& store_;
  PodInformer& pods_;
  NodeInformer& nodes_;
  PVCInformer& pvcs_;
  PVInformer& pvs_;
  ClassInformer& classes_;
  EventRecorder& events_;
  WorkQueue queue_{WorkQueue::Options{.name = "scheduler"}};
  std::mutex mu_;
  std::set<std::string> pending_;  // keys of pods without a node
};

}  // namespace kvol::controller
