// Internal to kvol_controller: a claim's data source (spec.dataSourceRef, else spec.dataSource)
// for dynamic provisioning, checked as Kubernetes' external-provisioner does before CreateVolume
// (getSnapshotSource / getPVCSource):
// - kind VolumeSnapshot, apiGroup snapshot.storage.k8s.io (restore): the snapshot exists in the
//   claim's namespace, is not being deleted, is bound to a content with status.snapshotHandle of
//   the same driver, is readyToUse, and the claim requests at least its status.restoreSize; the
//   driver has the Snapshotter capability. -> contentSource.snapshotId.
// - kind PersistentVolumeClaim, core group (clone): the source claim exists in the claim's
//   namespace, is Bound and not being deleted, has the same volumeMode, its PV is a CSI volume of
//   the same driver, and the claim requests at least the source's capacity; the driver has the
//   VolumeCloner capability. -> contentSource.volumeId (the source PV's volumeHandle).
// - No data source, or another kind (a populator's): no contentSource, nothing to wait for.
// Otherwise `wait` is true and message says why, in external-provisioner's words ("error getting
// handle for DataSource Type VolumeSnapshot by Name snap: snapshot snap is not Ready"); the claim
// stays Pending (ProvisioningFailed) and is retried.
//
// Snapshots and contents are read from the store (the binder keeps no informer for them).
// Thread safety: stateless; the informers and store may be used from any thread.
#pragma once

#include <optional>
#include <string>

#include "kvol/controller/binder.h"

namespace kvol::controller {

struct DataSourceDecision {
  bool wait = false;
  std::string message;
  std::optional<driver::CreateVolumeRequest::ContentSource> source;
};

DataSourceDecision ResolveDataSource(store::Store& st, PVCInformer& pvcs, PVInformer& pvs,
                                     const api::PersistentVolumeClaim& claim,
                                     driver::ControllerDriver& drv);

}  // namespace kvol::controller
