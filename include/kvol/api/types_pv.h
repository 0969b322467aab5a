// core/v1 PersistentVolume and PersistentVolumeClaim: exactly Kubernetes' field names and shapes
// (k8s.io/api/core/v1/types.go). The PV's volume source is Go's inline PersistentVolumeSource,
// flattened into the spec. Plain value types.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "kvol/api/meta.h"
#include "kvol/api/types_volume.h"

namespace kvol::api {

struct SecretReference {
  std::string name;
  std::string namespace_;
  KVOL_REFLECT(SecretReference, name, namespace_)
};

struct CSIPersistentVolumeSource {
  std::string driver;
  std::string volumeHandle;
  bool readOnly = false;
  std::string fsType;
  std::map<std::string, std::string> volumeAttributes;
  std::optional<SecretReference> controllerPublishSecretRef;
  std::optional<SecretReference> nodeStageSecretRef;
  std::optional<SecretReference> nodePublishSecretRef;
  std::optional<SecretReference> controllerExpandSecretRef;
  std::optional<SecretReference> nodeExpandSecretRef;
  KVOL_REFLECT(CSIPersistentVolumeSource, driver, volumeHandle, readOnly, fsType, volumeAttributes,
               controllerPublishSecretRef, nodeStageSecretRef, nodePublishSecretRef,
               controllerExpandSecretRef, nodeExpandSecretRef)
};

struct LocalVolumeSource {
  std::string path;
  std::optional<std::string> fsType;
  KVOL_REFLECT(LocalVolumeSource, path, fsType)
};

struct VolumeNodeAffinity {
  std::optional<NodeSelector> required;
  KVOL_REFLECT(VolumeNodeAffinity, required)
};

struct PersistentVolumeSpec {
  ResourceList capacity;
  // PersistentVolumeSource (inline): exactly one of these.
  std::optional<GCEPersistentDiskVolumeSource> gcePersistentDisk;
  std::optional<AWSElasticBlockStoreVolumeSource> awsElasticBlockStore;
  std::optional<HostPathVolumeSource> hostPath;
  std::optional<NFSVolumeSource> nfs;
  std::optional<AzureDiskVolumeSource> azureDisk;
  std::optional<LocalVolumeSource> local;
  std::optional<CSIPersistentVolumeSource> csi;
  // The rest of the spec.
  std::vector<std::string> accessModes;
  std::optional<ObjectReference> claimRef;
  std::string persistentVolumeReclaimPolicy;  // Retain | Delete | Recycle
  std::string storageClassName;
  std::vector<std::string> mountOptions;
  std::optional<std::string> volumeMode;
  std::optional<VolumeNodeAffinity> nodeAffinity;
  std::optional<std::string> volumeAttributesClassName;
  KVOL_REFLECT(PersistentVolumeSpec, capacity, gcePersistentDisk, awsElasticBlockStore, hostPath,
               nfs, azureDisk, local, csi, accessModes, claimRef, persistentVolumeReclaimPolicy,
               storageClassName, mountOptions, volumeMode, nodeAffinity, volumeAttributesClassName)
};

struct PersistentVolumeStatus {
  std::string phase;  // Pending | Available | Bound | Released | Failed
  std::string message;
  std::string reason;
  std::optional<Time> lastPhaseTransitionTime;
  KVOL_REFLECT(PersistentVolumeStatus, phase, message, reason, lastPhaseTransitionTime)
};

struct PersistentVolume {
  std::string apiVersion;
  std::string kind;
  ObjectMeta metadata;
  PersistentVolumeSpec spec;
  PersistentVolumeStatus status;
  KVOL_REFLECT(PersistentVolume, apiVersion, kind, metadata, spec, status)
};

struct PersistentVolumeClaimCondition {
  std::string type;  // Resizing | FileSystemResizePending | ControllerResizeError | NodeResizeError
                     // (kvol adds Pending with the reason a claim cannot bind)
  std::string status;
  Time lastProbeTime;
  Time lastTransitionTime;
  std::string reason;
  std::string message;
  KVOL_REFLECT(PersistentVolumeClaimCondition, type, status, lastProbeTime, lastTransitionTime,
               reason, message)
};

struct PersistentVolumeClaimStatus {
  std::string phase;  // Pending | Bound | Lost
  std::vector<std::string> accessModes;
  ResourceList capacity;
  std::vector<PersistentVolumeClaimCondition> conditions;
  ResourceList allocatedResources;
  std::map<std::string, std::string> allocatedResourceStatuses;
  std::optional<std::string> currentVolumeAttributesClassName;
  json modifyVolumeStatus;
  KVOL_REFLECT(PersistentVolumeClaimStatus, phase, accessModes, capacity, conditions,
               allocatedResources, allocatedResourceStatuses, currentVolumeAttributesClassName,
               modifyVolumeStatus)
};

struct PersistentVolumeClaim {
  std::string apiVersion;
  std::string kind;
  ObjectMeta metadata;
  PersistentVolumeClaimSpec spec;
  PersistentVolumeClaimStatus status;
  KVOL_REFLECT(PersistentVolumeClaim, apiVersion, kind, metadata, spec, status)
};

// Well-known annotations and finalizers of the PV controller (k8s component-helpers).
inline constexpr const char* kAnnBindCompleted = "pv.kubernetes.io/bind-completed";
inline constexpr const char* kAnnBoundByController = "pv.kubernetes.io/bound-by-controller";
inline constexpr const char* kAnnProvisionedBy = "pv.kubernetes.io/provisioned-by";
inline constexpr const char* kAnnStorageProvisioner = "volume.kubernetes.io/storage-provisioner";
inline constexpr const char* kAnnBetaStorageProvisioner =
    "volume.beta.kubernetes.io/storage-provisioner";
inline constexpr const char* kAnnSelectedNode = "volume.kubernetes.io/selected-node";
inline constexpr const char* kAnnDefaultStorageClass =
    "storageclass.kubernetes.io/is-default-class";
inline constexpr const char* kFinalizerPVCProtection = "kubernetes.io/pvc-protection";
inline constexpr const char* kFinalizerPVProtection = "kubernetes.io/pv-protection";

}  // namespace kvol::api
