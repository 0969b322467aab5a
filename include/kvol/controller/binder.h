// Binder: the PersistentVolume controller (Kubernetes' pv_controller.go), in one worker:
// binding, dynamic provisioning through ControllerDrivers, reclaim (Retain/Delete/Recycle),
// Lost claims, and the "why Pending" explanations. See docs/design/binder.md.
//
// Keys on the queue are store keys of PVs ("/registry/persistentvolumes/<name>") and PVCs
// ("/registry/persistentvolumeclaims/<ns>/<name>"). A worker pass takes every ready key, syncs
// volumes first, then claims in creation order (store createRevision), and commits the pass's
// writes with TxnBatches: every 1,000 staged writes go to the store on a helper thread while the
// sync goes on (in order, one at a time), the rest at the end of each phase. Each bind is ONE Txn
// (PV claimRef + phase Bound, PVC volumeName + annotations + status Bound), both ops with
// revision preconditions, so a crash never leaves half a bind and a PV is never bound to two
// claims. A volume chosen for a claim is reserved for the rest of the pass; written objects are
// assumed into the informer caches (shared with the store, not copied) once their chunk is
// durable, and the watch's copies of them are not decoded again (Informer::BeginWrites). The
// binds and phase changes make each edit twice, on the JSON written and on a copy of the cached
// typed object, so their results enter the caches without a decode (Informer::AssumeDecoded;
// debug builds check the typed copy against a decode). A failed write re-queues its key with
// backoff.
//
// Why Pending: every Pending claim carries status.conditions[type=Pending] (status True, reason,
// message) and an Event with the same reason and message; when no volume fits, the message
// names up to `explainLimit` near-miss volumes with the one criterion each fails.
//
// WaitForFirstConsumer: a claim of such a class waits for volume.kubernetes.io/selected-node
// (set by the scheduler); then the binder runs Kubernetes' scheduler-path match (node affinity
// against that node) and, failing that, provisions on that node.
//
// Finalizers: every claim and volume the binder writes gets kubernetes.io/pvc-protection /
// kubernetes.io/pv-protection (the ProtectionController only removes them).
//
// Thread safety: RegisterHandlers() before the informers start; ProcessKeys()/Run() from one
// thread at a time; handlers may run on any thread.
#pragma once

#include <functional>
#include <future>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_set>
#include <vector>

#include "kvol/api/types_pod.h"
#include "kvol/api/types_pv.h"
#include "kvol/api/types_storage.h"
#include "kvol/controller/event_recorder.h"
#include "kvol/controller/informer.h"
#include "kvol/controller/volume_index.h"
#include "kvol/controller/workqueue.h"
#include "kvol/driver/driver.h"

namespace kvol::controller {

using PVInformer = Informer<api::PersistentVolume>;
using PVCInformer = Informer<api::PersistentVolumeClaim>;
using ClassInformer = Informer<api::StorageClass>;
using NodeInformer = Informer<api::Node>;
using PodInformer = Informer<api::Pod>;

// The condition type kvol puts on Pending claims.
inline constexpr const char* kClaimConditionPending = "Pending";

struct BinderOptions {
  std::string nodeName;  // where Immediate-mode local volumes are provisioned
  size_t maxBatch = 50000;
  size_t explainLimit = 3;
  std::function<api::Time()> now;       // default api::Now
  std::function<std::string()> newUID;  // default: random UUID v4
};

class Binder {
 public:
  Binder(store::Store& s, PVInformer& pvs, PVCInformer& pvcs, ClassInformer& classes,
         NodeInformer& nodes, EventRecorder& events,
         std::map<std::string, driver::ControllerDriver*> drivers, BinderOptions opts);

  void RegisterHandlers();
  WorkQueue& queue() { return queue_; }
  // Syncs `keys` (taken from queue()) and marks them Done / Forget / AddRateLimited.
  void ProcessKeys(std::vector<std::string> keys);
  // Worker loop: until queue().ShutDown().
  void Run();
  // Periodic resync: every PV and PVC key.
  void EnqueueAll();

 private:
  using PVItem = PVInformer::ItemPtr;
  using PVCItem = PVCInformer::ItemPtr;
  struct Write {
    std::string key;  // the queue key the write belongs to
    std::vector<store::Op> ops;
    std::function<void()> onOk;
    std::function<void()> onFail = nullptr;  // the Txn failed (precondition or I/O)
    // When set: the written PV / PVC (ops with these keys) as typed objects, built by applying
    // the same edits to the cached typed object; assumed into the informers without a decode.
    std::string pvKey = {};
    std::string pvcKey = {};
    std::shared_ptr<api::PersistentVolume> pv = nullptr;
    std::shared_ptr<api::PersistentVolumeClaim> pvc = nullptr;
  };
  struct Pass {
    std::vector<Write> writes;
    std::unordered_set<std::string> reserved;  // PV names chosen in this pass
    std::map<std::string, Status> failed;      // queue key -> error
    // Pipelined commit (binder.cc): writes[0, submitted) are handed to the store; the TxnBatch of
    // writes[pendingFrom, submitted) may still be running; the earlier ones are assumed.
    size_t submitted = 0;
    size_t pendingFrom = 0;
    std::future<std::vector<Result<store::TxnResult>>> pending;
    std::vector<std::vector<std::string>> opKeys;  // per submitted write: its ops' keys
    std::vector<std::string> pvKeys, pvcKeys;      // keys in the informers' BeginWrites brackets
  };

  // Hands the pass's staged writes to the store once a chunk's worth is ready (committing while
  // the sync goes on), assuming the previous chunk's results meanwhile.
  void FlushReady(Pass& pass);
  // Commits every staged write and assumes the results; ends the informers' write brackets.
  void Flush(Pass& pass);
  void Advance(Pass& pass);
  void Install(Pass& pass, size_t from, std::vector<Result<store::TxnResult>>& results);

  // Claims (binder_claim.cc).
  Status SyncClaim(const std::string& key, Pass& pass);
  Status SyncUnboundClaim(const PVCItem& c, Pass& pass);
  Status SyncBoundClaim(const PVCItem& c, Pass& pass);
  void StageBind(const PVItem& v, const PVCItem& c, Pass& pass, const std::string& key);
  // `base`: the claim JSON to start from (with other edits), or nullptr for the cached one.
  void StagePending(const PVCItem& c, const std::string& reason, const std::string& message,
                    Pass& pass, const char* eventType, const store::json* base = nullptr);
  void StageLost(const PVCItem& c, const std::string& reason, const std::string& message,
                 Pass& pass);
  std::string NearMisses(const MatchInput& in);
  bool DelayBinding(const api::PersistentVolumeClaim& c);
  const api::StorageClass* DefaultClass(std::vector<ClassInformer::ItemPtr>& hold);

  // Provisioning (binder_provision.cc).
  Status Provision(const PVCItem& c, const std::string& cls, const std::string& nearMisses,
                   Pass& pass);

  // Volumes and reclaim (binder_volume.cc).
  Status SyncVolume(const std::string& key, Pass& pass);
  Status Reclaim(const PVItem& v, Pass& pass);
  void StageVolumePhase(const PVItem& v, const std::string& phase, const std::string& message,
                        Pass& pass, const std::string& reason = "");

  store::Store& store_;
  PVInformer& pvs_;
  PVCInformer& pvcs_;
  ClassInformer& classes_;
  NodeInformer& nodes_;
  EventRecorder& events_;
  std::map<std::string, driver::ControllerDriver*> drivers_;
  BinderOptions opts_;
  WorkQueue queue_{WorkQueue::Options{.name = "persistentvolume-binder"}};

  std::mutex indexMu_;
  VolumeIndex index_;  // guarded by indexMu_

  // Volumes a driver created whose PV+bind Txn failed, by claim key: if the claim is gone (or
  // replaced by a claim with another uid) before a retry commits, the volume is deleted, so a
  // failed bind does not leak storage. (A crash between CreateVolume and the Txn still can: a
  // driver-side marker would close that; see docs/design/binder.md.)
  struct Uncommitted {
    std::string claimUid;
    driver::ControllerDriver* driver = nullptr;
    std::string volumeId;
  };
  void ForgetUncommitted(const std::string& claimKey, const std::string& claimUid);
  std::mutex uncommittedMu_;
  std::map<std::string, Uncommitted> uncommitted_;  // guarded by uncommittedMu_
};

// JSON helpers shared by the controllers.
namespace jsonutil {
store::json& Annotations(store::json& obj);
bool EnsureFinalizer(store::json& obj, const char* finalizer);  // true when added
bool RemoveFinalizer(store::json& obj, const char* finalizer);  // true when removed
bool HasFinalizer(const store::json& obj, const char* finalizer);
std::string NewUID();
}  // namespace jsonutil

}  // namespace kvol::controller
