// Defaulting of PersistentVolume and PersistentVolumeClaim (pkg/apis/core/v1/defaults.go:
// SetDefaults_PersistentVolume, SetDefaults_PersistentVolumeClaim(Spec), and the volume source
// defaulters the PV spec's sources get).
#include "kvol/api/defaults.h"

namespace kvol::api {
namespace {

void DefaultHostPath(HostPathVolumeSource& hp) {
  if (!hp.type) hp.type = "";
}

// SetDefaults_AzureDiskVolumeSource.
void DefaultAzureDisk(AzureDiskVolumeSource& ad) {
  if (!ad.cachingMode) ad.cachingMode = "ReadWrite";
  if (!ad.kind) ad.kind = "Shared";
  if (!ad.fsType) ad.fsType = "ext4";
  if (!ad.readOnly) ad.readOnly = false;
}

}  // namespace

void DefaultPersistentVolumeSpec(PersistentVolumeSpec& spec) {
  if (spec.persistentVolumeReclaimPolicy.empty()) spec.persistentVolumeReclaimPolicy = "Retain";
  if (!spec.volumeMode) spec.volumeMode = kVolumeModeFilesystem;
  if (spec.hostPath) DefaultHostPath(*spec.hostPath);
  if (spec.azureDisk) DefaultAzureDisk(*spec.azureDisk);
}

void DefaultPersistentVolume(PersistentVolume& pv) {
  if (pv.status.phase.empty()) pv.status.phase = "Pending";
  DefaultPersistentVolumeSpec(pv.spec);
}

void DefaultPersistentVolumeClaimSpec(PersistentVolumeClaimSpec& spec) {
  if (!spec.volumeMode) spec.volumeMode = kVolumeModeFilesystem;
}

// pvcutil.NormalizeDataSources (the registry's PrepareForCreate, AnyVolumeDataSource on): the
// old dataSource and the new dataSourceRef mirror each other unless the ref names a namespace.
static void NormalizeDataSources(PersistentVolumeClaimSpec& spec) {
  if (spec.dataSource && !spec.dataSourceRef) {
    TypedObjectReference ref;
    ref.apiGroup = spec.dataSource->apiGroup;
    ref.kind = spec.dataSource->kind;
    ref.name = spec.dataSource->name;
    spec.dataSourceRef = std::move(ref);
  } else if (spec.dataSourceRef && !spec.dataSource &&
             spec.dataSourceRef->namespace_.value_or("").empty()) {
    TypedLocalObjectReference ds;
    ds.apiGroup = spec.dataSourceRef->apiGroup;
    ds.kind = spec.dataSourceRef->kind;
    ds.name = spec.dataSourceRef->name;
    spec.dataSource = std::move(ds);
  }
}

void DefaultPersistentVolumeClaim(PersistentVolumeClaim& pvc) {
  DefaultPersistentVolumeClaimSpec(pvc.spec);
  NormalizeDataSources(pvc.spec);
  if (pvc.status.phase.empty()) pvc.status.phase = "Pending";
}

}  // namespace kvol::api
