// SnapshotController: VolumeSnapshots and VolumeSnapshotContents (snapshot.storage.k8s.io/v1), as
// Kubernetes' external snapshot-controller and the csi-snapshotter sidecar do together, in one
// worker, calling the drivers' Snapshotter capability (kvol/driver/snapshotter.h) in process.
//
// Keys are store keys of VolumeSnapshots ("/registry/volumesnapshots/<ns>/<name>") and of
// VolumeSnapshotContents ("/registry/volumesnapshotcontents/<name>"). Sync(key) is idempotent.
//
// A VolumeSnapshot (not being deleted):
// - dynamic (spec.source.persistentVolumeClaimName): the claim must exist, be Bound, and its PV
//   be a CSI volume; the class is spec.volumeSnapshotClassName or else the one VolumeSnapshotClass
//   of the PV's driver annotated snapshot.storage.kubernetes.io/is-default-class=true (then
//   written into the spec, as Kubernetes does). The controller creates the content
//   "snapcontent-<snapshot uid>" (deletionPolicy and driver from the class, volumeSnapshotRef
//   with the snapshot's uid, source.volumeHandle, volumeSnapshotClassName, sourceVolumeMode),
//   Normal event CreatingSnapshot. Failures put status.error {time, message} on the snapshot
//   with readyToUse false and a Warning event SnapshotContentCreationFailed, with
//   external-snapshotter's words: e.g. `Failed to create snapshot content with error failed to
//   get input parameters to create snapshot snap: "the PVC data is not yet bound to a PV, will
//   not attempt to take a snapshot"`. A driver without the Snapshotter capability (or not known
//   here) is an error naming it.
// - pre-provisioned (spec.source.volumeSnapshotContentName): the content must exist and its
//   volumeSnapshotRef name this snapshot (namespace, name; uid empty or equal: an empty uid is
//   filled in); else status.error.
// - Once bound: finalizer snapshot.storage.kubernetes.io/volumesnapshot-bound-protection, and
//   status {boundVolumeSnapshotContentName, creationTime, readyToUse, restoreSize} copied from
//   the content's status (Normal events SnapshotCreated and SnapshotReady when it becomes ready).
// A VolumeSnapshotContent:
// - source.volumeHandle (dynamic) without status.snapshotHandle: Snapshotter::CreateSnapshot(
//   content name, volumeHandle, class parameters); status {snapshotHandle, creationTime (ns),
//   restoreSize (bytes), readyToUse}. An error goes to status.error, Warning event
//   SnapshotCreationFailed on the content, and the key is retried with backoff.
// - source.snapshotHandle (pre-provisioned) without status: Snapshotter::GetSnapshot(handle).
// - deletionPolicy Delete gets finalizer snapshot.storage.kubernetes.io/volumesnapshotcontent-
//   bound-protection; once its snapshot is gone (deleted, or another uid), the driver's snapshot
//   is deleted, then the content. Retain: the content and the driver's snapshot stay.
// Deleting a VolumeSnapshot (deletionTimestamp set; the finalizer holds it): with a bound
//   content of deletionPolicy Delete, the driver's snapshot and the content are deleted first;
//   then the finalizer is removed and the store deletes the snapshot.
// Contents of drivers this controller does not have are left alone (an external sidecar's).
//
// Events carry source.component "snapshot-controller".
//
// Thread safety: RegisterHandlers() before the informers start; Sync/ProcessKey/Run from one
// worker thread; handlers may run on any thread. Informers, store, recorder and drivers are not
// owned and must outlive the controller.
#pragma once

#include <functional>
#include <map>
#include <string>

#include "kvol/api/types_storage.h"
#include "kvol/controller/binder.h"
#include "kvol/driver/snapshotter.h"

namespace kvol::controller {

using SnapshotInformer = Informer<api::VolumeSnapshot>;
using SnapshotContentInformer = Informer<api::VolumeSnapshotContent>;
using SnapshotClassInformer = Informer<api::VolumeSnapshotClass>;

inline constexpr const char* kAnnDefaultSnapshotClass =
    "snapshot.storage.kubernetes.io/is-default-class";
inline constexpr const char* kFinalizerSnapshotBound =
    "snapshot.storage.kubernetes.io/volumesnapshot-bound-protection";
inline constexpr const char* kFinalizerContentBound =
    "snapshot.storage.kubernetes.io/volumesnapshotcontent-bound-protection";

struct SnapshotControllerOptions {
  std::function<api::Time()> now;       // default api::Now
  std::function<std::string()> newUID;  // default jsonutil::NewUID
};

class SnapshotController {
 public:
  // drivers: by CSI driver name (spec.csi.driver / content spec.driver).
  SnapshotController(store::Store& s, PVInformer& pvs, PVCInformer& pvcs,
                     SnapshotInformer& snapshots, SnapshotContentInformer& contents,
                     SnapshotClassInformer& classes, EventRecorder& events,
                     std::map<std::string, driver::ControllerDriver*> drivers,
                     SnapshotControllerOptions opts = {});

  void RegisterHandlers();
  WorkQueue& queue() { return queue_; }
  Status Sync(const std::string& key);
  void ProcessKey(const std::string& key);
  void Run();  // worker loop until queue().ShutDown()
  void EnqueueAll();

 private:
  using SnapItem = SnapshotInformer::ItemPtr;
  using ContentItem = SnapshotContentInformer::ItemPtr;

  Status SyncSnapshot(const SnapItem& s);
  Status DeleteSnapshot(const SnapItem& s);
  Status CreateContent(const SnapItem& s);
  Status BindPreProvisioned(const SnapItem& s);
  Status UpdateSnapshotStatus(const SnapItem& s, const ContentItem& c);
  Status SnapshotError(const SnapItem& s, const std::string& reason, const std::string& message);
  Status SyncContent(const ContentItem& c);
  Status DeleteContent(const ContentItem& c);
  driver::Snapshotter* SnapshotterFor(const std::string& driverName);

  store::Store& store_;
  PVInformer& pvs_;
  PVCInformer& pvcs_;
  SnapshotInformer& snapshots_;
  SnapshotContentInformer& contents_;
  SnapshotClassInformer& classes_;
  EventRecorder& events_;
  std::map<std::string, driver::ControllerDriver*> drivers_;
  SnapshotControllerOptions opts_;
  WorkQueue queue_{WorkQueue::Options{.name = "snapshot-controller"}};
};

}  // namespace kvol::controller
