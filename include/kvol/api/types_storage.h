// storage.k8s.io/v1 StorageClass, VolumeAttachment, CSIDriver; apps/v1 StatefulSet, Deployment;
// snapshot.storage.k8s.io/v1 VolumeSnapshot, VolumeSnapshotContent, VolumeSnapshotClass.
// Exactly Kubernetes' (and external-snapshotter's) field names and shapes. Plain value types.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "kvol/api/meta.h"
#include "kvol/api/types_pod.h"
#include "kvol/api/types_pv.h"

namespace kvol::api {

// ---- storage.k8s.io/v1 ------------------------------------------------------------------------

struct TopologySelectorLabelRequirement {
  std::string key;
  std::vector<std::string> values;
  KVOL_REFLECT(TopologySelectorLabelRequirement, key, values)
};

struct TopologySelectorTerm {
  std::vector<TopologySelectorLabelRequirement> matchLabelExpressions;
  KVOL_REFLECT(TopologySelectorTerm, matchLabelExpressions)
};

struct StorageClass {
  std::string apiVersion;
  std::string kind;
  ObjectMeta metadata;
  std::string provisioner;
  std::map<std::string, std::string> parameters;
  std::optional<std::string> reclaimPolicy;  // Delete (default) | Retain
  std::vector<std::string> mountOptions;
  std::optional<bool> allowVolumeExpansion;
  std::optional<std::string> volumeBindingMode;  // Immediate (default) | WaitForFirstConsumer
  std::vector<TopologySelectorTerm> allowedTopologies;
  KVOL_REFLECT(StorageClass, apiVersion, kind, metadata, provisioner, parameters, reclaimPolicy,
               mountOptions, allowVolumeExpansion, volumeBindingMode, allowedTopologies)
};

struct VolumeAttachmentSource {
  std::optional<std::string> persistentVolumeName;
  json inlineVolumeSpec;  // a PersistentVolumeSpec, kept verbatim
  KVOL_REFLECT(VolumeAttachmentSource, persistentVolumeName, inlineVolumeSpec)
};

struct VolumeAttachmentSpec {
  std::string attacher;
  VolumeAttachmentSource source;
  std::string nodeName;
  KVOL_REFLECT(VolumeAttachmentSpec, attacher, source, nodeName)
};

struct VolumeError {
  Time time;
  std::string message;
  std::optional<int32_t> errorCode;
  KVOL_REFLECT(VolumeError, time, message, errorCode)
};

struct VolumeAttachmentStatus {
  bool attached = false;
  std::map<std::string, std::string> attachmentMetadata;
  std::optional<VolumeError> attachError;
  std::optional<VolumeError> detachError;
  KVOL_REFLECT(VolumeAttachmentStatus, attached, attachmentMetadata, attachError, detachError)
};

struct VolumeAttachment {
  std::string apiVersion;
  std::string kind;
  ObjectMeta metadata;
  VolumeAttachmentSpec spec;
  VolumeAttachmentStatus status;
  KVOL_REFLECT(VolumeAttachment, apiVersion, kind, metadata, spec, status)
};

struct TokenRequest {
  std::string audience;
  std::optional<int64_t> expirationSeconds;
  KVOL_REFLECT(TokenRequest, audience, expirationSeconds)
};

struct CSIDriverSpec {
  std::optional<bool> attachRequired;
  std::optional<bool> podInfoOnMount;
  std::vector<std::string> volumeLifecycleModes;  // Persistent | Ephemeral
  std::optional<bool> storageCapacity;
  std::optional<std::string> fsGroupPolicy;
  std::vector<TokenRequest> tokenRequests;
  std::optional<bool> requiresRepublish;
  std::optional<bool> seLinuxMount;
  std::optional<int64_t> nodeAllocatableUpdatePeriodSeconds;
  KVOL_REFLECT(CSIDriverSpec, attachRequired, podInfoOnMount, volumeLifecycleModes, storageCapacity,
               fsGroupPolicy, tokenRequests, requiresRepublish, seLinuxMount,
               nodeAllocatableUpdatePeriodSeconds)
};

struct CSIDriver {
  std::string apiVersion;
  std::string kind;
  ObjectMeta metadata;
  CSIDriverSpec spec;
  KVOL_REFLECT(CSIDriver, apiVersion, kind, metadata, spec)
};

// ---- apps/v1 ----------------------------------------------------------------------------------

struct RollingUpdateStatefulSetStrategy {
  std::optional<int32_t> partition;
  std::optional<IntOrString> maxUnavailable;
  KVOL_REFLECT(RollingUpdateStatefulSetStrategy, partition, maxUnavailable)
};

struct StatefulSetUpdateStrategy {
  std::string type;  // RollingUpdate | OnDelete
  std::optional<RollingUpdateStatefulSetStrategy> rollingUpdate;
  KVOL_REFLECT(StatefulSetUpdateStrategy, type, rollingUpdate)
};

struct StatefulSetPersistentVolumeClaimRetentionPolicy {
  std::string whenDeleted;  // Retain | Delete
  std::string whenScaled;
  KVOL_REFLECT(StatefulSetPersistentVolumeClaimRetentionPolicy, whenDeleted, whenScaled)
};

struct StatefulSetOrdinals {
  int32_t start = 0;
  KVOL_REFLECT(StatefulSetOrdinals, start)
};

struct StatefulSetSpec {
  std::optional<int32_t> replicas;
  std::optional<LabelSelector> selector;
  PodTemplateSpec template_;
  std::vector<PersistentVolumeClaim> volumeClaimTemplates;
  std::string serviceName;
  std::string podManagementPolicy;  // OrderedReady | Parallel
  StatefulSetUpdateStrategy updateStrategy;
  std::optional<int32_t> revisionHistoryLimit;
  int32_t minReadySeconds = 0;
  std::optional<StatefulSetPersistentVolumeClaimRetentionPolicy>
      persistentVolumeClaimRetentionPolicy;
  std::optional<StatefulSetOrdinals> ordinals;
  KVOL_REFLECT(StatefulSetSpec, replicas, selector, template_, volumeClaimTemplates, serviceName,
               podManagementPolicy, updateStrategy, revisionHistoryLimit, minReadySeconds,
               persistentVolumeClaimRetentionPolicy, ordinals)
};

struct WorkloadCondition {
  std::string type;
  std::string status;
  Time lastUpdateTime;
  Time lastTransitionTime;
  std::string reason;
  std::string message;
  KVOL_REFLECT(WorkloadCondition, type, status, lastUpdateTime, lastTransitionTime, reason, message)
};

struct StatefulSetStatus {
  int64_t observedGeneration = 0;
  int32_t replicas = 0;
  int32_t readyReplicas = 0;
  int32_t currentReplicas = 0;
  int32_t updatedReplicas = 0;
  std::string currentRevision;
  std::string updateRevision;
  std::optional<int32_t> collisionCount;
  std::vector<WorkloadCondition> conditions;
  int32_t availableReplicas = 0;
  KVOL_REFLECT(StatefulSetStatus, observedGeneration, replicas, readyReplicas, currentReplicas,
               updatedReplicas, currentRevision, updateRevision, collisionCount, conditions,
               availableReplicas)
};

struct StatefulSet {
  std::string apiVersion;
  std::string kind;
  ObjectMeta metadata;
  StatefulSetSpec spec;
  StatefulSetStatus status;
  KVOL_REFLECT(StatefulSet, apiVersion, kind, metadata, spec, status)
};

struct RollingUpdateDeployment {
  std::optional<IntOrString> maxUnavailable;
  std::optional<IntOrString> maxSurge;
  KVOL_REFLECT(RollingUpdateDeployment, maxUnavailable, maxSurge)
};

struct DeploymentStrategy {
  std::string type;  // Recreate | RollingUpdate
  std::optional<RollingUpdateDeployment> rollingUpdate;
  KVOL_REFLECT(DeploymentStrategy, type, rollingUpdate)
};

struct DeploymentSpec {
  std::optional<int32_t> replicas;
  std::optional<LabelSelector> selector;
  PodTemplateSpec template_;
  DeploymentStrategy strategy;
  int32_t minReadySeconds = 0;
  std::optional<int32_t> revisionHistoryLimit;
  bool paused = false;
  std::optional<int32_t> progressDeadlineSeconds;
  KVOL_REFLECT(DeploymentSpec, replicas, selector, template_, strategy, minReadySeconds,
               revisionHistoryLimit, paused, progressDeadlineSeconds)
};

struct DeploymentStatus {
  int64_t observedGeneration = 0;
  int32_t replicas = 0;
  int32_t updatedReplicas = 0;
  int32_t readyReplicas = 0;
  int32_t availableReplicas = 0;
  int32_t unavailableReplicas = 0;
  std::vector<WorkloadCondition> conditions;
  std::optional<int32_t> collisionCount;
  KVOL_REFLECT(DeploymentStatus, observedGeneration, replicas, updatedReplicas, readyReplicas,
               availableReplicas, unavailableReplicas, conditions, collisionCount)
};

struct Deployment {
  std::string apiVersion;
  std::string kind;
  ObjectMeta metadata;
  DeploymentSpec spec;
  DeploymentStatus status;
  KVOL_REFLECT(Deployment, apiVersion, kind, metadata, spec, status)
};

// ---- snapshot.storage.k8s.io/v1 ---------------------------------------------------------------

struct VolumeSnapshotSource {
  std::optional<std::string> persistentVolumeClaimName;
  std::optional<std::string> volumeSnapshotContentName;
  KVOL_REFLECT(VolumeSnapshotSource, persistentVolumeClaimName, volumeSnapshotContentName)
};

struct VolumeSnapshotSpec {
  VolumeSnapshotSource source;
  std::optional<std::string> volumeSnapshotClassName;
  KVOL_REFLECT(VolumeSnapshotSpec, source, volumeSnapshotClassName)
};

struct SnapshotError {
  std::optional<Time> time;
  std::optional<std::string> message;
  KVOL_REFLECT(SnapshotError, time, message)
};

struct VolumeSnapshotStatus {
  std::optional<std::string> boundVolumeSnapshotContentName;
  std::optional<Time> creationTime;
  std::optional<bool> readyToUse;
  std::optional<Quantity> restoreSize;
  std::optional<SnapshotError> error;
  std::optional<std::string> volumeGroupSnapshotName;
  KVOL_REFLECT(VolumeSnapshotStatus, boundVolumeSnapshotContentName, creationTime, readyToUse,
               restoreSize, error, volumeGroupSnapshotName)
};

struct VolumeSnapshot {
  std::string apiVersion;
  std::string kind;
  ObjectMeta metadata;
  VolumeSnapshotSpec spec;
  std::optional<VolumeSnapshotStatus> status;
  KVOL_REFLECT(VolumeSnapshot, apiVersion, kind, metadata, spec, status)
};

struct VolumeSnapshotContentSource {
  std::optional<std::string> volumeHandle;
  std::optional<std::string> snapshotHandle;
  KVOL_REFLECT(VolumeSnapshotContentSource, volumeHandle, snapshotHandle)
};

struct VolumeSnapshotContentSpec {
  ObjectReference volumeSnapshotRef;
  std::string deletionPolicy;  // Delete | Retain
  std::string driver;
  std::optional<std::string> volumeSnapshotClassName;
  VolumeSnapshotContentSource source;
  std::optional<std::string> sourceVolumeMode;
  KVOL_REFLECT(VolumeSnapshotContentSpec, volumeSnapshotRef, deletionPolicy, driver,
               volumeSnapshotClassName, source, sourceVolumeMode)
};

struct VolumeSnapshotContentStatus {
  std::optional<std::string> snapshotHandle;
  std::optional<int64_t> creationTime;  // nanoseconds since the epoch
  std::optional<int64_t> restoreSize;   // bytes
  std::optional<bool> readyToUse;
  std::optional<SnapshotError> error;
  std::optional<std::string> volumeGroupSnapshotHandle;
  KVOL_REFLECT(VolumeSnapshotContentStatus, snapshotHandle, creationTime, restoreSize, readyToUse,
               error, volumeGroupSnapshotHandle)
};

struct VolumeSnapshotContent {
  std::string apiVersion;
  std::string kind;
  ObjectMeta metadata;
  VolumeSnapshotContentSpec spec;
  std::optional<VolumeSnapshotContentStatus> status;
  KVOL_REFLECT(VolumeSnapshotContent, apiVersion, kind, metadata, spec, status)
};

struct VolumeSnapshotClass {
  std::string apiVersion;
  std::string kind;
  ObjectMeta metadata;
  std::string driver;
  std::map<std::string, std::string> parameters;
  std::string deletionPolicy;  // Delete | Retain
  KVOL_REFLECT(VolumeSnapshotClass, apiVersion, kind, metadata, driver, parameters, deletionPolicy)
};

}  // namespace kvol::api
