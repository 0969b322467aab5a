// ExpandController: volume expansion, the control-plane half (Kubernetes' external-resizer /
// in-tree expand controller, in process).
//
// A claim is expanded when it is Bound, not being deleted, its spec.resources.requests.storage
// is larger than status.capacity.storage, its StorageClass has allowVolumeExpansion: true, and
// its PV is a CSI volume (spec.csi.driver) of a driver this controller has. Then Sync(key):
//   1. writes the claim with condition Resizing (status True) and
//      status.allocatedResources.storage = the request (one Txn; skipped when already so),
//      Normal event Resizing;
//   2. calls ControllerDriver::ControllerExpandVolume(volumeHandle, {request bytes});
//   3. in ONE Txn (both with revision preconditions) sets the SAME PV's spec.capacity.storage
//      and updates the claim: Resizing removed; if the driver needs no node expansion,
//      status.capacity.storage = the new size and Normal event VolumeResizeSuccessful
//      ("resize volume <pv> succeeded"); otherwise condition FileSystemResizePending (capacity
//      unchanged, the node finishes it) and Normal event FileSystemResizeRequired.
// Only growth: shrinking below status.capacity is refused by API validation and ignored here.
// A PV whose capacity already covers the request (edited by hand) is not sent to the driver.
// A class that does not allow expansion: Warning event VolumeResizeFailed ("only dynamically
// provisioned pvc can be resized and the storageclass that provisions the pvc must support
// resize", Kubernetes' admission wording), nothing written. A driver error: Warning event
// VolumeResizeFailed with the error, the claim keeps Resizing and the key is retried with
// backoff. Claims of drivers this controller does not have are left alone.
// Sync is idempotent; a write conflict returns the error and the key is retried via the queue.
//
// Events carry source.component "external-resizer". Keys are PVC store keys.
//
// Thread safety: RegisterHandlers() before the informers start; Sync/ProcessKey/Run from one
// worker thread; handlers may run on any thread. Informers, store, recorder and drivers are not
// owned and must outlive the controller.
#pragma once

#include <functional>
#include <map>
#include <mutex>
#include <set>
#include <string>

#include "kvol/controller/binder.h"

namespace kvol::controller {

inline constexpr const char* kClaimConditionResizing = "Resizing";
inline constexpr const char* kClaimConditionFileSystemResizePending = "FileSystemResizePending";

// Driver capability (asked with dynamic_cast; absent means no node expansion is needed):
// CSI's ControllerExpandVolumeResponse.node_expansion_required, in kvol/driver/driver.h.
using NodeExpansionReporter = driver::NodeExpansionReporter;

struct ExpandOptions {
  std::function<api::Time()> now;  // condition timestamps; default api::Now
};

class ExpandController {
 public:
  // drivers: by CSI driver name (spec.csi.driver), e.g. "kvol.io/local".
  ExpandController(store::Store& s, PVInformer& pvs, PVCInformer& pvcs, ClassInformer& classes,
                   EventRecorder& events, std::map<std::string, driver::ControllerDriver*> drivers,
                   ExpandOptions opts = {});

  void RegisterHandlers();
  WorkQueue& queue() { return queue_; }
  Status Sync(const std::string& key);
  // Syncs one key taken from queue() and marks it Done / Forget / AddRateLimited.
  void ProcessKey(const std::string& key);
  void Run();  // worker loop until queue().ShutDown()
  void EnqueueAll();

 private:
  void EnqueueClaimsOfClass(const std::string& className);

  store::Store& store_;
  PVInformer& pvs_;
  PVCInformer& pvcs_;
  ClassInformer& classes_;
  EventRecorder& events_;
  std::map<std::string, driver::ControllerDriver*> drivers_;
  ExpandOptions opts_;
  WorkQueue queue_;
  std::mutex mu_;
  std::set<std::string> refused_;  // "<claim uid>/<request>" already warned about
};

}  // namespace kvol::controller
