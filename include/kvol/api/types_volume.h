// core/v1 volume sources and the types shared by Pod and PersistentVolume specs: every volume
// type the seed names (emptyDir, hostPath, gitRepo, nfs, configMap, secret, persistentVolumeClaim,
// awsElasticBlockStore, gcePersistentDisk, azureDisk, csi, projected, downwardAPI, ephemeral),
// node selectors, and the PVC spec (used inline by ephemeral volumes and StatefulSet templates).
//
// Field names and shapes are exactly Kubernetes' (k8s.io/api/core/v1/types.go). Go pointer fields
// are std::optional so presence survives a round trip. Plain value types; no behaviour.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "kvol/api/meta.h"
#include "kvol/api/quantity.h"
#include "kvol/api/reflect.h"

namespace kvol::api {

using ResourceList = std::map<std::string, Quantity>;

struct HostPathVolumeSource {
  std::string path;
  std::optional<std::string> type;  // "", DirectoryOrCreate, Directory, FileOrCreate, File, Socket,
                                    // CharDevice, BlockDevice
  KVOL_REFLECT(HostPathVolumeSource, path, type)
};

struct EmptyDirVolumeSource {
  std::string medium;  // "" or "Memory"
  std::optional<Quantity> sizeLimit;
  KVOL_REFLECT(EmptyDirVolumeSource, medium, sizeLimit)
};

struct GitRepoVolumeSource {
  std::string repository;
  std::string revision;
  std::string directory;
  KVOL_REFLECT(GitRepoVolumeSource, repository, revision, directory)
};

struct NFSVolumeSource {
  std::string server;
  std::string path;
  bool readOnly = false;
  KVOL_REFLECT(NFSVolumeSource, server, path, readOnly)
};

struct KeyToPath {
  std::string key;
  std::string path;
  std::optional<int32_t> mode;
  KVOL_REFLECT(KeyToPath, key, path, mode)
};

struct ConfigMapVolumeSource {
  std::string name;
  std::vector<KeyToPath> items;
  std::optional<int32_t> defaultMode;
  std::optional<bool> optional;
  KVOL_REFLECT(ConfigMapVolumeSource, name, items, defaultMode, optional)
};

struct SecretVolumeSource {
  std::string secretName;
  std::vector<KeyToPath> items;
  std::optional<int32_t> defaultMode;
  std::optional<bool> optional;
  KVOL_REFLECT(SecretVolumeSource, secretName, items, defaultMode, optional)
};

struct PersistentVolumeClaimVolumeSource {
  std::string claimName;
  bool readOnly = false;
  KVOL_REFLECT(PersistentVolumeClaimVolumeSource, claimName, readOnly)
};

struct AWSElasticBlockStoreVolumeSource {
  std::string volumeID;
  std::string fsType;
  int32_t partition = 0;
  bool readOnly = false;
  KVOL_REFLECT(AWSElasticBlockStoreVolumeSource, volumeID, fsType, partition, readOnly)
};

struct GCEPersistentDiskVolumeSource {
  std::string pdName;
  std::string fsType;
  int32_t partition = 0;
  bool readOnly = false;
  KVOL_REFLECT(GCEPersistentDiskVolumeSource, pdName, fsType, partition, readOnly)
};

struct AzureDiskVolumeSource {
  std::string diskName;
  std::string diskURI;
  std::optional<std::string> cachingMode;
  std::optional<std::string> fsType;
  std::optional<bool> readOnly;
  std::optional<std::string> kind;
  KVOL_REFLECT(AzureDiskVolumeSource, diskName, diskURI, cachingMode, fsType, readOnly, kind)
};

struct CSIVolumeSource {
  std::string driver;
  std::optional<bool> readOnly;
  std::optional<std::string> fsType;
  std::map<std::string, std::string> volumeAttributes;
  std::optional<LocalObjectReference> nodePublishSecretRef;
  KVOL_REFLECT(CSIVolumeSource, driver, readOnly, fsType, volumeAttributes, nodePublishSecretRef)
};

struct ObjectFieldSelector {
  std::string apiVersion;
  std::string fieldPath;
  KVOL_REFLECT(ObjectFieldSelector, apiVersion, fieldPath)
};

struct ResourceFieldSelector {
  std::string containerName;
  std::string resource;
  std::optional<Quantity> divisor;
  KVOL_REFLECT(ResourceFieldSelector, containerName, resource, divisor)
};

struct DownwardAPIVolumeFile {
  std::string path;
  std::optional<ObjectFieldSelector> fieldRef;
  std::optional<ResourceFieldSelector> resourceFieldRef;
  std::optional<int32_t> mode;
  KVOL_REFLECT(DownwardAPIVolumeFile, path, fieldRef, resourceFieldRef, mode)
};

struct DownwardAPIVolumeSource {
  std::vector<DownwardAPIVolumeFile> items;
  std::optional<int32_t> defaultMode;
  KVOL_REFLECT(DownwardAPIVolumeSource, items, defaultMode)
};

struct ConfigMapProjection {
  std::string name;
  std::vector<KeyToPath> items;
  std::optional<bool> optional;
  KVOL_REFLECT(ConfigMapProjection, name, items, optional)
};

struct SecretProjection {
  std::string name;
  std::vector<KeyToPath> items;
  std::optional<bool> optional;
  KVOL_REFLECT(SecretProjection, name, items, optional)
};

struct DownwardAPIProjection {
  std::vector<DownwardAPIVolumeFile> items;
  KVOL_REFLECT(DownwardAPIProjection, items)
};

struct ServiceAccountTokenProjection {
  std::string audience;
  std::optional<int64_t> expirationSeconds;
  std::string path;
  KVOL_REFLECT(ServiceAccountTokenProjection, audience, expirationSeconds, path)
};

struct VolumeProjection {
  std::optional<SecretProjection> secret;
  std::optional<DownwardAPIProjection> downwardAPI;
  std::optional<ConfigMapProjection> configMap;
  std::optional<ServiceAccountTokenProjection> serviceAccountToken;
  KVOL_REFLECT(VolumeProjection, secret, downwardAPI, configMap, serviceAccountToken)
};

struct ProjectedVolumeSource {
  std::vector<VolumeProjection> sources;
  std::optional<int32_t> defaultMode;
  KVOL_REFLECT(ProjectedVolumeSource, sources, defaultMode)
};

// ---- node selection ---------------------------------------------------------------------------

struct NodeSelectorRequirement {
  std::string key;
  std::string operator_;  // In, NotIn, Exists, DoesNotExist, Gt, Lt
  std::vector<std::string> values;
  KVOL_REFLECT(NodeSelectorRequirement, key, operator_, values)
};

struct NodeSelectorTerm {
  std::vector<NodeSelectorRequirement> matchExpressions;
  std::vector<NodeSelectorRequirement> matchFields;
  KVOL_REFLECT(NodeSelectorTerm, matchExpressions, matchFields)
};

struct NodeSelector {
  std::vector<NodeSelectorTerm> nodeSelectorTerms;
  KVOL_REFLECT(NodeSelector, nodeSelectorTerms)
};

// ---- claims -----------------------------------------------------------------------------------

struct VolumeResourceRequirements {
  ResourceList limits;
  ResourceList requests;
  KVOL_REFLECT(VolumeResourceRequirements, limits, requests)
};

struct PersistentVolumeClaimSpec {
  std::vector<std::string> accessModes;
  std::optional<LabelSelector> selector;
  VolumeResourceRequirements resources;
  std::string volumeName;
  std::optional<std::string> storageClassName;
  std::optional<std::string> volumeMode;  // Filesystem | Block
  std::optional<TypedLocalObjectReference> dataSource;
  std::optional<TypedObjectReference> dataSourceRef;
  std::optional<std::string> volumeAttributesClassName;
  KVOL_REFLECT(PersistentVolumeClaimSpec, accessModes, selector, resources, volumeName,
               storageClassName, volumeMode, dataSource, dataSourceRef, volumeAttributesClassName)
};

struct PersistentVolumeClaimTemplate {
  ObjectMeta metadata;
  PersistentVolumeClaimSpec spec;
  KVOL_REFLECT(PersistentVolumeClaimTemplate, metadata, spec)
};

struct EphemeralVolumeSource {
  std::optional<PersistentVolumeClaimTemplate> volumeClaimTemplate;
  KVOL_REFLECT(EphemeralVolumeSource, volumeClaimTemplate)
};

// A pod volume: its name and exactly one source (Go's inline VolumeSource, flattened).
struct Volume {
  std::string name;
  std::optional<HostPathVolumeSource> hostPath;
  std::optional<EmptyDirVolumeSource> emptyDir;
  std::optional<GCEPersistentDiskVolumeSource> gcePersistentDisk;
  std::optional<AWSElasticBlockStoreVolumeSource> awsElasticBlockStore;
  std::optional<GitRepoVolumeSource> gitRepo;
  std::optional<SecretVolumeSource> secret;
  std::optional<NFSVolumeSource> nfs;
  std::optional<PersistentVolumeClaimVolumeSource> persistentVolumeClaim;
  std::optional<DownwardAPIVolumeSource> downwardAPI;
  std::optional<ConfigMapVolumeSource> configMap;
  std::optional<AzureDiskVolumeSource> azureDisk;
  std::optional<ProjectedVolumeSource> projected;
  std::optional<CSIVolumeSource> csi;
  std::optional<EphemeralVolumeSource> ephemeral;
  KVOL_REFLECT(Volume, name, hostPath, emptyDir, gcePersistentDisk, awsElasticBlockStore, gitRepo,
               secret, nfs, persistentVolumeClaim, downwardAPI, configMap, azureDisk, projected,
               csi, ephemeral)
};

// Access modes, volume modes and reclaim policies as Kubernetes spells them.
inline constexpr const char* kReadWriteOnce = "ReadWriteOnce";
inline constexpr const char* kReadOnlyMany = "ReadOnlyMany";
inline constexpr const char* kReadWriteMany = "ReadWriteMany";
inline constexpr const char* kReadWriteOncePod = "ReadWriteOncePod";
inline constexpr const char* kVolumeModeFilesystem = "Filesystem";
inline constexpr const char* kVolumeModeBlock = "Block";

}  // namespace kvol::api
