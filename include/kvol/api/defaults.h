// Kubernetes' defaulting for every kind kvol serves, one function per kind
// (pkg/apis/core/v1/defaults.go, pkg/apis/apps/v1/defaults.go, plus the few create-time defaults
// the registry strategies apply: Namespace finalizers and phase, Pod phase and QoS class,
// Secret stringData folded into data).
//
// Every defaulter is idempotent: defaulting an already defaulted object changes nothing. They
// fill only unset fields; a value the user gave is never replaced (except Secret.stringData, which
// is write-only and always folded into data and cleared).
//
// Thread safety: pure functions on the object passed in.
#pragma once

#include "kvol/api/types_pod.h"
#include "kvol/api/types_pv.h"
#include "kvol/api/types_storage.h"
#include "kvol/api/types_volume.h"

namespace kvol::api {

// ---- Pod-side kinds (src/api/defaults_pod.cc) --------------------------------------------------

// restartPolicy Always, dnsPolicy ClusterFirst, schedulerName default-scheduler,
// terminationGracePeriodSeconds 30, securityContext {}, enableServiceLinks true, status.phase
// Pending, status.qosClass; containers, volumes and probes as below; container requests default to
// their limits.
void DefaultPod(Pod& pod);
// What every PodSpec gets, inside a Pod or a workload template (no enableServiceLinks: Kubernetes
// sets that on Pods only).
void DefaultPodSpec(PodSpec& spec);
void DefaultPodTemplateSpec(PodTemplateSpec& tmpl);
// imagePullPolicy (Always for ":latest" or untagged images, IfNotPresent for a tag or digest),
// terminationMessagePath /dev/termination-log, terminationMessagePolicy File, ports protocol TCP,
// probe timeouts/periods/thresholds, httpGet path "/" and scheme HTTP, env fieldRef apiVersion v1.
void DefaultContainer(Container& c);
// A volume with no source becomes emptyDir {}; configMap/secret/downwardAPI/projected defaultMode
// 0644; hostPath type ""; azureDisk cachingMode/fsType/readOnly/kind; ephemeral claim templates
// volumeMode Filesystem.
void DefaultVolume(Volume& v);
// The image pull policy Kubernetes derives from an image reference.
std::string DefaultImagePullPolicy(const std::string& image);

// status.phase Active, spec.finalizers ["kubernetes"].
void DefaultNamespace(Namespace& ns);
// status.allocatable = status.capacity when unset.
void DefaultNode(Node& node);
// type Opaque; stringData base64-encoded into data (stringData wins), then cleared.
void DefaultSecret(Secret& secret);
void DefaultConfigMap(ConfigMap& cm);
void DefaultEvent(Event& ev);

// replicas 1, podManagementPolicy OrderedReady, updateStrategy RollingUpdate partition 0,
// revisionHistoryLimit 10, persistentVolumeClaimRetentionPolicy Retain/Retain, template as a pod
// spec, volumeClaimTemplates volumeMode Filesystem and status.phase Pending.
void DefaultStatefulSet(StatefulSet& sts);
// replicas 1, strategy RollingUpdate 25%/25%, revisionHistoryLimit 10, progressDeadlineSeconds 600.
void DefaultDeployment(Deployment& d);

// Standard base64 (RFC 4648, padded), as Go's encoding/json writes []byte.
std::string Base64Encode(std::string_view raw);

// ---- PV-side kinds (defined in src/api/defaults_pv*.cc by the storage engineer) ----------------

// persistentVolumeReclaimPolicy Retain, volumeMode Filesystem, status.phase Pending, and the
// spec's volume source defaults (hostPath type "", azureDisk cachingMode/kind/fsType/readOnly).
void DefaultPersistentVolume(PersistentVolume& pv);
// The PersistentVolume spec alone (also a VolumeAttachment's inlineVolumeSpec).
void DefaultPersistentVolumeSpec(PersistentVolumeSpec& spec);
// spec.volumeMode Filesystem, status.phase Pending.
void DefaultPersistentVolumeClaim(PersistentVolumeClaim& pvc);
// volumeMode Filesystem (claim templates of StatefulSets and ephemeral volumes use it too).
void DefaultPersistentVolumeClaimSpec(PersistentVolumeClaimSpec& spec);
// reclaimPolicy Delete, volumeBindingMode Immediate (src/api/defaults_storage.cc).
void DefaultStorageClass(StorageClass& sc);
// attachRequired true, podInfoOnMount false, storageCapacity false, fsGroupPolicy
// ReadWriteOnceWithFSType, volumeLifecycleModes [Persistent], requiresRepublish false,
// seLinuxMount false.
void DefaultCSIDriver(CSIDriver& d);

}  // namespace kvol::api
