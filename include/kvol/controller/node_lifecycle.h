// NodeLifecycleController: kube-controller-manager's node lifecycle controller and the part of
// the pod garbage collector that serves non-graceful node shutdown.
//
// sync(node), idempotent, run on every Node change and every monitorPeriod:
// - A node whose Ready condition's lastHeartbeatTime is older than gracePeriod (Kubernetes'
//   --node-monitor-grace-period, 40 s) gets every condition set to Unknown (reason
//   NodeStatusUnknown, message "Kubelet stopped posting node status.") and the taint
//   node.kubernetes.io/unreachable:NoSchedule; both go when the agent posts Ready again (the
//   agent's own status write brings Ready back; this controller then drops the taint). Its pods
//   are left alone: an agent killed with SIGKILL leaves containers that may still write, so
//   nothing of theirs moves (the attach/detach controller keeps their volumes attached).
// - A node that is not Ready and carries node.kubernetes.io/out-of-service (the operator's
//   statement that the machine is down, Kubernetes' non-graceful node shutdown): its pods are
//   deleted at once (no grace period), with a Warning NodeOutOfService event on each, so their
//   controllers may start replacements and their volumes are detached without the 6-minute wait.
//
// Thread safety: RegisterHandlers() before informers start; Sync from one worker (Run);
// Tick() from any thread.
#pragma once

#include <chrono>
#include <functional>
#include <string>

#include "kvol/controller/binder.h"

namespace kvol::controller {

inline constexpr const char* kUnreachableTaint = "node.kubernetes.io/unreachable";

struct NodeLifecycleOptions {
  std::chrono::milliseconds gracePeriod{40000};
  std::function<api::Time()> now;  // default api::Now
};

class NodeLifecycleController {
 public:
  NodeLifecycleController(store::Store& s, NodeInformer& nodes, PodInformer& pods,
                          EventRecorder& events, NodeLifecycleOptions opts);
  void RegisterHandlers();
  WorkQueue& queue() { return queue_; }
  Status Sync(const std::string& nodeKey);
  void Run();
  void EnqueueAll();

 private:
  Status DeletePodsOf(const std::string& nodeName);

  store::Store& store_;
  NodeInformer& nodes_;
  PodInformer& pods_;
  EventRecorder& events_;
  NodeLifecycleOptions opts_;
  WorkQueue queue_{WorkQueue::Options{.name = "nodelifecycle"}};
};

}  // namespace kvol::controller
