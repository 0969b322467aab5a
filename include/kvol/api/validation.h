// Kubernetes' validation for every kind kvol serves, one Validate<Kind> and one
// Validate<Kind>Update per kind (pkg/apis/core/validation/validation.go,
// pkg/apis/apps/validation/validation.go), with Kubernetes' field paths and wording, e.g.
//   spec.volumes[1].name: Duplicate value: "data"
//   spec.containers[0].volumeMounts[0].name: Not found: "x"
//
// Validators run on defaulted objects (defaults.h) and return every error they find (empty =
// valid). Validate<Kind>Update checks only what changes may not do (immutable fields); the
// scheme's ValidateUpdate runs Validate<Kind> on the new object as well.
//
// Where kvol is stricter than Kubernetes it says so on the declaration (e.g. absolute mountPath,
// pod templates of StatefulSets validated as pod specs).
//
// Thread safety: pure functions.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "kvol/api/field_errors.h"
#include "kvol/api/types_pod.h"
#include "kvol/api/types_pv.h"
#include "kvol/api/types_storage.h"
#include "kvol/api/types_volume.h"

namespace kvol::api {

// ---- Pod-side kinds (src/api/validation_pod.cc, validation_volume.cc, validation_core.cc,
// validation_apps.cc) --------------------------------------------------------------------------

// metadata (namespaced, DNS-1123 subdomain name) + spec. kvol also requires every mountPath to be
// absolute ("must be an absolute path") and terminationGracePeriodSeconds >= 0.
ErrorList ValidatePod(const Pod& pod);
// spec is immutable except containers[*].image, initContainers[*].image, activeDeadlineSeconds
// (may only decrease) and tolerations (additions only):
//   spec: Forbidden: pod updates may not change fields other than `spec.containers[*].image`,...
ErrorList ValidatePodUpdate(const Pod& pod, const Pod& old);
// A PodSpec at `path` ("spec", "spec.template.spec"). `podMeta` is the pod's metadata when the
// spec belongs to a Pod (ephemeral volume claim names are checked against it), else null.
ErrorList ValidatePodSpec(const PodSpec& spec, const ObjectMeta* podMeta, const Path& path);
// A workload's pod template: labels, annotations and spec (at path.Child("spec")).
ErrorList ValidatePodTemplateSpec(const PodTemplateSpec& tmpl, const Path& path);

ErrorList ValidateNamespace(const Namespace& ns);
ErrorList ValidateNamespaceUpdate(const Namespace& ns, const Namespace& old);
ErrorList ValidateNode(const Node& node);
ErrorList ValidateNodeUpdate(const Node& node, const Node& old);
// Keys valid config keys, no key in both data and binaryData, binaryData valid base64, total size
// at most 1 MiB.
ErrorList ValidateConfigMap(const ConfigMap& cm);
// An immutable ConfigMap keeps its data, binaryData and immutable flag.
ErrorList ValidateConfigMapUpdate(const ConfigMap& cm, const ConfigMap& old);
// Keys valid config keys, data values valid base64, total size at most 1 MiB, the keys each
// well-known type requires.
ErrorList ValidateSecret(const Secret& secret);
// type immutable; an immutable Secret keeps its data and immutable flag.
ErrorList ValidateSecretUpdate(const Secret& secret, const Secret& old);
ErrorList ValidateEvent(const Event& ev);
ErrorList ValidateEventUpdate(const Event& ev, const Event& old);

// replicas >= 0, selector required and matching the template labels, template validated as a pod
// spec with restartPolicy Always (kvol: the volumeClaimTemplates count as PVC volumes; Kubernetes
// skips the template's pod spec), volumeClaimTemplates validated as claims.
ErrorList ValidateStatefulSet(const StatefulSet& sts);
// spec immutable except replicas, ordinals, template, updateStrategy, revisionHistoryLimit,
// persistentVolumeClaimRetentionPolicy and minReadySeconds.
ErrorList ValidateStatefulSetUpdate(const StatefulSet& sts, const StatefulSet& old);
ErrorList ValidateDeployment(const Deployment& d);
// spec.selector immutable.
ErrorList ValidateDeploymentUpdate(const Deployment& d, const Deployment& old);

// ---- Shared pieces (also used by the PV-side validators) ----------------------------------------

// hostPath: path required, no '..' element, type one of the supported types.
ErrorList ValidateHostPathVolumeSource(const HostPathVolumeSource& hp, const Path& path);
// nfs: server and path required, path absolute.
ErrorList ValidateNFSVolumeSource(const NFSVolumeSource& nfs, const Path& path);
// CSI driver names: required, at most 63 characters, a DNS-1123 subdomain (lower-cased first).
ErrorList ValidateCSIDriverName(const std::string& driver, const Path& path);
// nodeSelectorTerms required; matchExpressions operators and values; matchFields on metadata.name.
ErrorList ValidateNodeSelector(const NodeSelector& selector, const Path& path);
// No element of `target` is "..": "must not contain '..'".
ErrorList ValidatePathNoBacksteps(const std::string& target, const Path& path);
// Relative ("must be a relative path") and no '..' element.
ErrorList ValidateLocalDescendingPath(const std::string& target, const Path& path);
// ConfigMap/Secret keys (k8s.io/apimachinery IsConfigMapKey): messages, empty when valid.
std::vector<std::string> IsConfigMapKey(std::string_view key);

// ---- PV-side kinds (defined in src/api/validation_pv*.cc by the storage engineer) --------------

// A claim spec (PVC, ephemeral volume claim template, StatefulSet volumeClaimTemplates[i].spec).
ErrorList ValidatePersistentVolumeClaimSpec(const PersistentVolumeClaimSpec& spec,
                                            const Path& path);

// The CSI driver name of a PV (spec.csi.driver) or a VolumeAttachment (spec.attacher): Kubernetes'
// ValidateCSIDriverName, except that kvol's built-in drivers "kvol.io/<dns-label>" (DESIGN.md:
// kvol.io/local, kvol.io/block) are accepted, although Kubernetes allows no '/' in CSI driver
// names.
ErrorList ValidateStorageDriverName(const std::string& driver, const Path& path);
// metadata (cluster-scoped, DNS-1123 subdomain name) + spec.
ErrorList ValidatePersistentVolume(const PersistentVolume& pv);
// `inlineSpec`: a VolumeAttachment's inlineVolumeSpec (Kubernetes'
// validateInlinePersistentVolumeSpec: csi only; no capacity, claimRef, nodeAffinity, class).
ErrorList ValidatePersistentVolumeSpec(const PersistentVolumeSpec& spec, bool inlineSpec,
                                       const Path& path);
// metadata update rules; the volume source is immutable
// ("spec.persistentvolumesource: Forbidden: spec.persistentvolumesource is immutable after
// creation" + a diff), volumeMode immutable, nodeAffinity immutable once set.
ErrorList ValidatePersistentVolumeUpdate(const PersistentVolume& pv, const PersistentVolume& old);
// metadata (namespaced, DNS-1123 subdomain name) + spec.
ErrorList ValidatePersistentVolumeClaim(const PersistentVolumeClaim& pvc);
// metadata update rules; spec immutable except volumeName (once, while unset) and, for bound
// claims, resources.requests and volumeAttributesClassName; requests.storage not below
// status.capacity; volumeMode immutable.
ErrorList ValidatePersistentVolumeClaimUpdate(const PersistentVolumeClaim& pvc,
                                              const PersistentVolumeClaim& old);

// ---- storage.k8s.io/v1, snapshot.storage.k8s.io/v1 (src/api/validation_storage.cc) -----------
// Update validators add metadata update rules and the immutable fields Kubernetes (or
// external-snapshotter's CRD CEL rules) enforce.
ErrorList ValidateStorageClass(const StorageClass& sc);
ErrorList ValidateStorageClassUpdate(const StorageClass& sc, const StorageClass& old);
ErrorList ValidateVolumeAttachment(const VolumeAttachment& va);
ErrorList ValidateVolumeAttachmentUpdate(const VolumeAttachment& va, const VolumeAttachment& old);
ErrorList ValidateCSIDriver(const CSIDriver& d);
ErrorList ValidateCSIDriverUpdate(const CSIDriver& d, const CSIDriver& old);
ErrorList ValidateVolumeSnapshot(const VolumeSnapshot& vs);
ErrorList ValidateVolumeSnapshotUpdate(const VolumeSnapshot& vs, const VolumeSnapshot& old);
ErrorList ValidateVolumeSnapshotContent(const VolumeSnapshotContent& c);
ErrorList ValidateVolumeSnapshotContentUpdate(const VolumeSnapshotContent& c,
                                              const VolumeSnapshotContent& old);
ErrorList ValidateVolumeSnapshotClass(const VolumeSnapshotClass& c);
ErrorList ValidateVolumeSnapshotClassUpdate(const VolumeSnapshotClass& c,
                                            const VolumeSnapshotClass& old);

}  // namespace kvol::api
