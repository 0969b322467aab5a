// ProtectionController: Kubernetes' pvc-protection and pv-protection controllers.
//
// - A claim being deleted (deletionTimestamp set) loses kubernetes.io/pvc-protection once no
//   non-terminated pod (phase not Succeeded/Failed) in its namespace uses it (a
//   persistentVolumeClaim volume naming it, or an ephemeral volume "<pod>-<volume>").
// - A volume being deleted loses kubernetes.io/pv-protection once its phase is not Bound.
// - The finalizers are added by the binder when it writes an object (see binder.h), so this
//   controller never races the binder's writes on live objects.
// Removing the last finalizer of a deleting object makes the Store delete it.
//
// Thread safety: RegisterHandlers() before informers start; Sync from one worker.
#pragma once

#include <map>
#include <mutex>
#include <set>
#include <string>

#include "kvol/controller/binder.h"

namespace kvol::controller {

class ProtectionController {
 public:
  ProtectionController(store::Store& s, PVInformer& pvs, PVCInformer& pvcs, PodInformer& pods);
  void RegisterHandlers();
  WorkQueue& queue() { return queue_; }
  Status Sync(const std::string& key);
  void Run();  // worker loop until queue().ShutDown()
  void EnqueueAll();

  // Store keys of claims used by a pod (non-terminated pods only; empty otherwise).
  static std::set<std::string> ClaimsOf(const api::Pod& pod);

 private:
  void PodChanged(const PodInformer::ItemPtr& old, const PodInformer::ItemPtr& neu);
  bool ClaimInUse(const std::string& claimKey);

  store::Store& store_;
  PVInformer& pvs_;
  PVCInformer& pvcs_;
  PodInformer& pods_;
  WorkQueue queue_{WorkQueue::Options{.name = "volume-protection"}};
  std::mutex mu_;
  std::map<std::string, std::set<std::string>> users_;  // claim key -> pod keys
};

}  // namespace kvol::controller
