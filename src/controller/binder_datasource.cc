// Binder: restore and clone data sources of a claim (see binder_datasource.h).
#include "src/controller/binder_datasource.h"

#include "kvol/api/types_storage.h"
#include "kvol/controller/pv_match.h"
#include "kvol/driver/snapshotter.h"

namespace kvol::controller {
namespace {

constexpr const char* kSnapshotGroup = "snapshot.storage.k8s.io";

DataSourceDecision Wait(const std::string& kind, const std::string& name, const std::string& why) {
  DataSourceDecision d;
  d.wait = true;
  d.message = "error getting handle for DataSource Type " + kind + " by Name " + name + ": " + why;
  return d;
}

std::string ModeOf(const std::optional<std::string>& m) { return m.value_or("Filesystem"); }

DataSourceDecision FromSnapshot(store::Store& st, const api::PersistentVolumeClaim& claim,
                                const std::string& name, driver::ControllerDriver& drv) {
  const std::string kind = "VolumeSnapshot";
  auto got = st.Get(store::KeyFor("volumesnapshots", claim.metadata.namespace_, name));
  if (!got.ok()) {
    return Wait(kind, name,
                "error getting snapshot " + name + " from api server: " +
                    (got.status().IsNotFound()
                         ? "volumesnapshots.snapshot.storage.k8s.io \"" + name + "\" not found"
                         : got.status().message()));
  }
  const auto snap = api::FromJsonLoose<api::VolumeSnapshot>(got->value);
  if (snap.metadata.deletionTimestamp) {
    return Wait(kind, name, "snapshot " + name + " is currently being deleted");
  }
  if (!snap.status || !snap.status->readyToUse.value_or(false) ||
      !snap.status->boundVolumeSnapshotContentName) {
    return Wait(kind, name, "snapshot " + name + " is not Ready");
  }
  const std::string contentName = *snap.status->boundVolumeSnapshotContentName;
  auto cgot = st.Get(store::KeyFor("volumesnapshotcontents", "", contentName));
  if (!cgot.ok()) {
    return Wait(kind, name,
                "error getting snapshotcontent " + contentName + " for snapshot " +
                    claim.metadata.namespace_ + "/" + name +
                    " from api server: " + cgot.status().message());
  }
  const auto content = api::FromJsonLoose<api::VolumeSnapshotContent>(cgot->value);
  if (!content.status || !content.status->snapshotHandle) {
    return Wait(kind, name, "snapshot handle is missing from snapshotcontent " + contentName);
  }
  if (content.spec.driver != drv.Name()) {
    return Wait(kind, name,
                "snapshotcontent " + contentName + " is of driver " + content.spec.driver +
                    ", not " + drv.Name() + ": a volume is restored by the driver that took it");
  }
  if (dynamic_cast<driver::Snapshotter*>(&drv) == nullptr) {
    return Wait(kind, name, "the driver " + drv.Name() + " cannot restore snapshots");
  }
  if (snap.status->restoreSize) {
    const int64_t want = ClaimRequest(claim).Value();
    const int64_t size = snap.status->restoreSize->Value();
    if (want < size) {
      return Wait(kind, name,
                  "requested volume size " + std::to_string(want) + " is less than the size " +
                      std::to_string(size) + " for the source snapshot " + name);
    }
  }
  DataSourceDecision d;
  d.source = driver::CreateVolumeRequest::ContentSource{*content.status->snapshotHandle, ""};
  return d;
}

DataSourceDecision FromClaim(PVCInformer& pvcs, PVInformer& pvs,
                             const api::PersistentVolumeClaim& claim, const std::string& name,
                             driver::ControllerDriver& drv) {
  const std::string kind = "PersistentVolumeClaim";
  auto src = pvcs.Get(store::KeyFor("persistentvolumeclaims", claim.metadata.namespace_, name));
  if (!src) {
    return Wait(kind, name,
                "error getting PVC " + name + " (namespace \"" + claim.metadata.namespace_ +
                    "\") from api server: persistentvolumeclaims \"" + name + "\" not found");
  }
  const api::PersistentVolumeClaim& s = src->obj;
  if (s.status.phase != "Bound") {
    return Wait(kind, name,
                "the PVC DataSource " + name + " must have a status of Bound. Got " +
                    (s.status.phase.empty() ? "Pending" : s.status.phase));
  }
  if (s.metadata.deletionTimestamp) {
    return Wait(kind, name, "the PVC DataSource " + name + " is currently being deleted");
  }
  if (ModeOf(s.spec.volumeMode) != ModeOf(claim.spec.volumeMode)) {
    return Wait(kind, name,
                "the source PVC and destination PVCs must have the same volume mode for "
                "cloning.  Source is " +
                    ModeOf(s.spec.volumeMode) + ".  Destination is " +
                    ModeOf(claim.spec.volumeMode));
  }
  api::Quantity srcSize = ClaimRequest(s);
  if (auto it = s.status.capacity.find("storage"); it != s.status.capacity.end()) {
    srcSize = it->second;
  }
  const api::Quantity want = ClaimRequest(claim);
  if (want < srcSize) {
    return Wait(kind, name,
                "error, new PVC request must be greater than or equal in size to the specified "
                "PVC data source, requested " +
                    want.ToString() + " but source is " + srcSize.ToString());
  }
  auto pv = pvs.Get(store::KeyFor("persistentvolumes", "", s.spec.volumeName));
  if (!pv) {
    return Wait(kind, name,
                "error getting PV " + s.spec.volumeName + " from api server: persistentvolumes \"" +
                    s.spec.volumeName + "\" not found");
  }
  if (!pv->obj.spec.csi || pv->obj.spec.csi->driver != drv.Name()) {
    return Wait(kind, name,
                "the source PVC " + name + " is not a volume of driver " + drv.Name() +
                    ": a volume is cloned by its own driver");
  }
  auto* cloner = dynamic_cast<driver::VolumeCloner*>(&drv);
  if (cloner == nullptr) {
    return Wait(kind, name, "the driver " + drv.Name() + " cannot clone volumes");
  }
  if (!cloner->CanClone(pv->obj.spec.csi->volumeHandle)) {
    return Wait(kind, name,
                "the volume " + pv->obj.spec.csi->volumeHandle + " of PVC " + name +
                    " cannot be cloned now");
  }
  DataSourceDecision d;
  d.source = driver::CreateVolumeRequest::ContentSource{"", pv->obj.spec.csi->volumeHandle};
  return d;
}

}  // namespace

DataSourceDecision ResolveDataSource(store::Store& st, PVCInformer& pvcs, PVInformer& pvs,
                                     const api::PersistentVolumeClaim& claim,
                                     driver::ControllerDriver& drv) {
  std::string group, kind, name;
  if (claim.spec.dataSourceRef) {
    group = claim.spec.dataSourceRef->apiGroup.value_or("");
    kind = claim.spec.dataSourceRef->kind;
    name = claim.spec.dataSourceRef->name;
  } else if (claim.spec.dataSource) {
    group = claim.spec.dataSource->apiGroup.value_or("");
    kind = claim.spec.dataSource->kind;
    name = claim.spec.dataSource->name;
  } else {
    return {};
  }
  if (kind == "VolumeSnapshot" && group == kSnapshotGroup)
    return FromSnapshot(st, claim, name, drv);
  if (kind == "PersistentVolumeClaim" && group.empty()) {
    return FromClaim(pvcs, pvs, claim, name, drv);
  }
  return {};  // a volume populator's kind: not ours
}

}  // namespace kvol::controller
