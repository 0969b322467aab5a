// Validation of PersistentVolume and PersistentVolumeClaim, following
// pkg/apis/core/validation/validation.go (ValidatePersistentVolume*,
// ValidatePersistentVolumeClaim*) with the feature gates of a current cluster: ReadWriteOncePod,
// VolumeAttributesClass and RecoverVolumeExpansionFailure on, MutablePVNodeAffinity off.
#include <set>
#include <string>

#include "kvol/api/validation.h"
#include "kvol/api/validation_util.h"

namespace kvol::api {
namespace {

const std::vector<std::string> kSupportedAccessModes = {kReadOnlyMany, kReadWriteMany,
                                                        kReadWriteOnce, kReadWriteOncePod};
const std::vector<std::string> kSupportedReclaimPolicies = {"Delete", "Recycle", "Retain"};
const std::vector<std::string> kSupportedVolumeModes = {kVolumeModeBlock, kVolumeModeFilesystem};
constexpr const char* kPDPartitionErrorMsg = "must be between 1 and 255, inclusive";
constexpr const char* kInlineForbidden = "may not be specified in the context of inline volumes";
constexpr const char* kBetaStorageClassAnnotation = "volume.beta.kubernetes.io/storage-class";

bool Contains(const std::vector<std::string>& v, const std::string& s) {
  for (const auto& e : v)
    if (e == s) return true;
  return false;
}

void Append(ErrorList& to, ErrorList from) {
  for (auto& e : from) to.push_back(std::move(e));
}

// ValidateClassName (= NameIsDNSSubdomain) as field errors at `path`.
void ValidateClassNameAt(const std::string& name, const Path& path, ErrorList& errs) {
  for (auto& msg : NameIsDNSSubdomain(name, false)) errs.push_back(InvalidValue(path, name, msg));
}

void ValidateDNS1123SubdomainAt(const std::string& v, const Path& path, ErrorList& errs) {
  for (auto& msg : IsDNS1123Subdomain(v)) errs.push_back(InvalidValue(path, v, msg));
}

void ValidateDNS1123LabelAt(const std::string& v, const Path& path, ErrorList& errs) {
  for (auto& msg : IsDNS1123Label(v)) errs.push_back(InvalidValue(path, v, msg));
}

// Access modes: required (with `requiredDetail`), each supported, ReadWriteOncePod alone.
void ValidateAccessModes(const std::vector<std::string>& modes, const Path& path,
                         const std::string& requiredDetail, ErrorList& errs) {
  if (modes.empty()) errs.push_back(Required(path, requiredDetail));
  bool rwop = false, other = false;
  for (const auto& m : modes) {
    if (!Contains(kSupportedAccessModes, m)) {
      errs.push_back(NotSupported(path, m, kSupportedAccessModes));
    }
    if (m == kReadWriteOncePod) {
      rwop = true;
    } else if (Contains(kSupportedAccessModes, m)) {
      other = true;
    }
  }
  if (rwop && other) {
    errs.push_back(Forbidden(path, "may not use ReadWriteOncePod with other access modes"));
  }
}

void ValidatePVSecretReference(const SecretReference& ref, const Path& path, ErrorList& errs) {
  if (ref.name.empty()) {
    errs.push_back(Required(path.Child("name"), ""));
  } else {
    ValidateDNS1123SubdomainAt(ref.name, path.Child("name"), errs);
  }
  if (ref.namespace_.empty()) {
    errs.push_back(Required(path.Child("namespace"), ""));
  } else {
    ValidateDNS1123LabelAt(ref.namespace_, path.Child("namespace"), errs);
  }
}

void ValidateCSIPersistentVolumeSource(const CSIPersistentVolumeSource& csi, const Path& path,
                                       ErrorList& errs) {
  Append(errs, ValidateStorageDriverName(csi.driver, path.Child("driver")));
  if (csi.volumeHandle.empty()) errs.push_back(Required(path.Child("volumeHandle"), ""));
  struct Ref {
    const std::optional<SecretReference>& ref;
    const char* name;
  };
  for (const Ref& r : {Ref{csi.controllerPublishSecretRef, "controllerPublishSecretRef"},
                       Ref{csi.controllerExpandSecretRef, "controllerExpandSecretRef"},
                       Ref{csi.nodePublishSecretRef, "nodePublishSecretRef"},
                       Ref{csi.nodeExpandSecretRef, "nodeExpandSecretRef"}}) {
    if (r.ref) ValidatePVSecretReference(*r.ref, path.Child(r.name), errs);
  }
}

void ValidateGCEPersistentDisk(const GCEPersistentDiskVolumeSource& pd, const Path& path,
                               ErrorList& errs) {
  if (pd.pdName.empty()) errs.push_back(Required(path.Child("pdName"), ""));
  if (pd.partition < 0 || pd.partition > 255) {
    errs.push_back(InvalidValue(path.Child("partition"), pd.partition, kPDPartitionErrorMsg));
  }
}

void ValidateAWSElasticBlockStore(const AWSElasticBlockStoreVolumeSource& ebs, const Path& path,
                                  ErrorList& errs) {
  if (ebs.volumeID.empty()) errs.push_back(Required(path.Child("volumeID"), ""));
  if (ebs.partition < 0 || ebs.partition > 255) {
    errs.push_back(InvalidValue(path.Child("partition"), ebs.partition, kPDPartitionErrorMsg));
  }
}

void ValidateAzureDisk(const AzureDiskVolumeSource& ad, const Path& path, ErrorList& errs) {
  static const std::vector<std::string> kCachingModes = {"None", "ReadOnly", "ReadWrite"};
  static const std::vector<std::string> kDiskKinds = {"Dedicated", "Managed", "Shared"};
  if (ad.diskName.empty()) errs.push_back(Required(path.Child("diskName"), ""));
  if (ad.diskURI.empty()) errs.push_back(Required(path.Child("diskURI"), ""));
  if (ad.cachingMode && !Contains(kCachingModes, *ad.cachingMode)) {
    errs.push_back(NotSupported(path.Child("cachingMode"), *ad.cachingMode, kCachingModes));
  }
  if (ad.kind && !Contains(kDiskKinds, *ad.kind)) {
    errs.push_back(NotSupported(path.Child("kind"), *ad.kind, kDiskKinds));
  }
  if (ad.kind && *ad.kind == "Managed" && ad.diskURI.rfind("/subscriptions/", 0) != 0) {
    errs.push_back(NotSupported(
        path.Child("diskURI"), ad.diskURI,
        {"/subscriptions/{sub-id}/resourcegroups/{group-name}/providers/microsoft.compute/disks/"
         "{disk-id}"}));
  }
  if (ad.kind && *ad.kind != "Managed" && ad.diskURI.rfind("https://", 0) != 0) {
    errs.push_back(NotSupported(path.Child("diskURI"), ad.diskURI,
                                {"https://{account-name}.blob.core.windows.net/{container-name}/"
                                 "{disk-name}.vhd"}));
  }
}

void ValidateLocalVolumeSource(const LocalVolumeSource& local, const Path& path, ErrorList& errs) {
  if (local.path.empty()) {
    errs.push_back(Required(path.Child("path"), ""));
    return;
  }
  Append(errs, ValidatePathNoBacksteps(local.path, path.Child("path")));
}

// path.Clean(p) == "/" for the hostPath-of-root rule: only slashes and "." elements.
bool CleansToRoot(const std::string& p) {
  if (p.empty() || p[0] != '/') return false;
  size_t i = 0;
  while (i < p.size()) {
    size_t j = p.find('/', i);
    if (j == std::string::npos) j = p.size();
    std::string elem = p.substr(i, j - i);
    if (!elem.empty() && elem != "." && elem != "..") return false;
    i = j + 1;
  }
  return true;
}

// A cmp.Diff-like listing of the top-level fields that differ between two objects.
std::string Diff(const json& oldV, const json& newV) {
  std::set<std::string> keys;
  if (oldV.is_object())
    for (auto it = oldV.begin(); it != oldV.end(); ++it) keys.insert(it.key());
  if (newV.is_object())
    for (auto it = newV.begin(); it != newV.end(); ++it) keys.insert(it.key());
  std::string out = "  {\n";
  for (const auto& k : keys) {
    json a = oldV.is_object() && oldV.contains(k) ? oldV[k] : json();
    json b = newV.is_object() && newV.contains(k) ? newV[k] : json();
    if (a == b) continue;
    if (!a.is_null()) out += "- \t" + json(k).dump() + ": " + a.dump() + ",\n";
    if (!b.is_null()) out += "+ \t" + json(k).dump() + ": " + b.dump() + ",\n";
  }
  out += "  }\n";
  return out;
}

// The inline PersistentVolumeSource of a PV spec, as JSON.
json VolumeSourceJson(const PersistentVolumeSpec& s) {
  json o = json::object();
  if (s.gcePersistentDisk) o["gcePersistentDisk"] = ToJson(*s.gcePersistentDisk);
  if (s.awsElasticBlockStore) o["awsElasticBlockStore"] = ToJson(*s.awsElasticBlockStore);
  if (s.hostPath) o["hostPath"] = ToJson(*s.hostPath);
  if (s.nfs) o["nfs"] = ToJson(*s.nfs);
  if (s.azureDisk) o["azureDisk"] = ToJson(*s.azureDisk);
  if (s.local) o["local"] = ToJson(*s.local);
  if (s.csi) o["csi"] = ToJson(*s.csi);
  return o;
}

// validateDataSource / validateDataSourceRef (shared part).
void ValidateTypedReference(const std::optional<std::string>& apiGroupOpt, const std::string& kind,
                            const std::string& name, const Path& path, ErrorList& errs) {
  if (name.empty()) errs.push_back(Required(path.Child("name"), ""));
  if (kind.empty()) errs.push_back(Required(path.Child("kind"), ""));
  std::string apiGroup = apiGroupOpt.value_or("");
  if (apiGroup.empty() && kind != "PersistentVolumeClaim") {
    errs.push_back(InvalidValue(
        path, kind, "must be 'PersistentVolumeClaim' when referencing the default apiGroup"));
  }
  if (!apiGroup.empty()) ValidateDNS1123SubdomainAt(apiGroup, path.Child("apiGroup"), errs);
}

Quantity StorageOf(const ResourceList& l) {
  auto it = l.find("storage");
  return it == l.end() ? Quantity() : it->second;
}

}  // namespace

// ---- PersistentVolume ---------------------------------------------------------------------------

ErrorList ValidateStorageDriverName(const std::string& driver, const Path& path) {
  constexpr std::string_view kKvolPrefix = "kvol.io/";
  if (driver.rfind(kKvolPrefix, 0) == 0 &&
      IsDNS1123Label(std::string_view(driver).substr(kKvolPrefix.size())).empty()) {
    return {};
  }
  return ValidateCSIDriverName(driver, path);
}

ErrorList ValidatePersistentVolumeSpec(const PersistentVolumeSpec& spec, bool inlineSpec,
                                       const Path& path) {
  ErrorList errs;
  if (inlineSpec) {
    if (spec.claimRef) errs.push_back(Forbidden(path.Child("claimRef"), kInlineForbidden));
    if (!spec.capacity.empty()) errs.push_back(Forbidden(path.Child("capacity"), kInlineForbidden));
    if (!spec.csi) {
      errs.push_back(
          Required(path.Child("csi"), "has to be specified in the context of inline volumes"));
    }
  }

  ValidateAccessModes(spec.accessModes, path.Child("accessModes"), "", errs);

  if (!inlineSpec) {
    Path capPath = path.Child("capacity");
    if (spec.capacity.empty()) errs.push_back(Required(capPath, ""));
    if (spec.capacity.count("storage") == 0 || spec.capacity.size() > 1) {
      errs.push_back(NotSupported(capPath, spec.capacity.empty() ? json() : ToJson(spec.capacity),
                                  {"storage"}));
    }
    for (const auto& [r, q] : spec.capacity) {
      if (q.Value() < 0) {
        errs.push_back(
            InvalidValue(capPath.Key(r), q.Value(), "must be a valid resource quantity"));
      }
      Append(errs, ValidatePositiveQuantity(q, capPath.Key(r)));
    }
  }

  const std::string& policy = spec.persistentVolumeReclaimPolicy;
  if (!policy.empty()) {
    Path p = path.Child("persistentVolumeReclaimPolicy");
    if (inlineSpec) {
      if (policy != "Retain") {
        errs.push_back(Forbidden(p, "may only be Retain in the context of inline volumes"));
      }
    } else if (!Contains(kSupportedReclaimPolicies, policy)) {
      errs.push_back(NotSupported(p, policy, kSupportedReclaimPolicies));
    }
  }

  bool nodeAffinitySpecified = false;
  if (spec.nodeAffinity) {
    Path p = path.Child("nodeAffinity");
    if (inlineSpec) {
      errs.push_back(Forbidden(p, kInlineForbidden));
    } else {
      nodeAffinitySpecified = true;
      if (spec.nodeAffinity->required) {
        Append(errs, ValidateNodeSelector(*spec.nodeAffinity->required, p.Child("required")));
      } else {
        errs.push_back(Required(p.Child("required"), "must specify required node constraints"));
      }
    }
  }

  // Exactly one volume source, in Kubernetes' order; a second one is "may not specify more than 1
  // volume type" at its own field.
  int numVolumes = 0;
  auto source = [&](bool present, const char* name, auto&& validate) {
    if (!present) return;
    if (numVolumes > 0) {
      errs.push_back(Forbidden(path.Child(name), "may not specify more than 1 volume type"));
      return;
    }
    ++numVolumes;
    validate();
  };
  source(spec.hostPath.has_value(), "hostPath", [&] {
    Append(errs, ValidateHostPathVolumeSource(*spec.hostPath, path.Child("hostPath")));
  });
  source(spec.gcePersistentDisk.has_value(), "gcePersistentDisk", [&] {
    // Kubernetes reports this source's fields under "persistentDisk".
    ValidateGCEPersistentDisk(*spec.gcePersistentDisk, path.Child("persistentDisk"), errs);
  });
  source(spec.awsElasticBlockStore.has_value(), "awsElasticBlockStore", [&] {
    ValidateAWSElasticBlockStore(*spec.awsElasticBlockStore, path.Child("awsElasticBlockStore"),
                                 errs);
  });
  source(spec.nfs.has_value(), "nfs",
         [&] { Append(errs, ValidateNFSVolumeSource(*spec.nfs, path.Child("nfs"))); });
  source(spec.azureDisk.has_value(), "azureDisk",
         [&] { ValidateAzureDisk(*spec.azureDisk, path.Child("azureDisk"), errs); });
  source(spec.local.has_value(), "local", [&] {
    ValidateLocalVolumeSource(*spec.local, path.Child("local"), errs);
    if (!nodeAffinitySpecified) {
      errs.push_back(Required(path.Child("nodeAffinity"), "Local volume requires node affinity"));
    }
  });
  source(spec.csi.has_value(), "csi",
         [&] { ValidateCSIPersistentVolumeSource(*spec.csi, path.Child("csi"), errs); });
  if (numVolumes == 0) errs.push_back(Required(path, "must specify a volume type"));

  if (spec.hostPath && CleansToRoot(spec.hostPath->path) && policy == "Recycle") {
    errs.push_back(Forbidden(path.Child("persistentVolumeReclaimPolicy"),
                             "may not be 'recycle' for a hostPath mount of '/'"));
  }

  if (!spec.storageClassName.empty()) {
    if (inlineSpec) {
      errs.push_back(Forbidden(path.Child("storageClassName"), kInlineForbidden));
    } else {
      ValidateClassNameAt(spec.storageClassName, path.Child("storageClassName"), errs);
    }
  }
  if (spec.volumeMode) {
    Path p = path.Child("volumeMode");
    if (inlineSpec) {
      if (*spec.volumeMode != kVolumeModeFilesystem) {
        errs.push_back(Forbidden(p,
                                 "may not specify volumeMode other than Filesystem in the "
                                 "context of inline volumes"));
      }
    } else if (!Contains(kSupportedVolumeModes, *spec.volumeMode)) {
      errs.push_back(NotSupported(p, *spec.volumeMode, kSupportedVolumeModes));
    }
  }
  if (spec.volumeAttributesClassName) {
    Path p = path.Child("volumeAttributesClassName");
    if (spec.volumeAttributesClassName->empty()) {
      errs.push_back(Required(p, "an empty string is disallowed"));
    } else {
      ValidateClassNameAt(*spec.volumeAttributesClassName, p, errs);
    }
    if (!spec.csi) {
      errs.push_back(
          Required(path.Child("csi"), "has to be specified when using volumeAttributesClassName"));
    }
  }
  return errs;
}

ErrorList ValidatePersistentVolume(const PersistentVolume& pv) {
  ErrorList errs = ValidateObjectMeta(pv.metadata, false, NameIsDNSSubdomain, Path("metadata"));
  Append(errs, ValidatePersistentVolumeSpec(pv.spec, false, Path("spec")));
  return errs;
}

ErrorList ValidatePersistentVolumeUpdate(const PersistentVolume& pv, const PersistentVolume& old) {
  ErrorList errs = ValidateObjectMetaUpdate(pv.metadata, old.metadata, Path("metadata"));

  PersistentVolumeSpec newSpec = pv.spec;
  // A controllerExpandSecretRef may be added to a CSI volume that had none.
  if (old.spec.csi && !old.spec.csi->controllerExpandSecretRef && newSpec.csi &&
      newSpec.csi->controllerExpandSecretRef) {
    newSpec.csi->controllerExpandSecretRef.reset();
  }
  json oldSource = VolumeSourceJson(old.spec), newSource = VolumeSourceJson(newSpec);
  if (oldSource != newSource) {
    errs.push_back(Forbidden(
        Path("spec").Child("persistentvolumesource"),
        "spec.persistentvolumesource is immutable after creation\n" + Diff(oldSource, newSource)));
  }
  Append(errs, ValidateImmutableField(ToJson(pv.spec.volumeMode), ToJson(old.spec.volumeMode),
                                      Path("volumeMode")));
  if (old.spec.nodeAffinity) {
    Append(errs, ValidateImmutableField(ToJson(pv.spec.nodeAffinity), ToJson(old.spec.nodeAffinity),
                                        Path("nodeAffinity")));
  }
  if (old.spec.volumeAttributesClassName && !pv.spec.volumeAttributesClassName) {
    errs.push_back(Forbidden(Path("spec").Child("volumeAttributesClassName"),
                             "update from non-nil value to nil is forbidden"));
  }
  return errs;
}

// ---- PersistentVolumeClaim ----------------------------------------------------------------------

ErrorList ValidatePersistentVolumeClaimSpec(const PersistentVolumeClaimSpec& spec,
                                            const Path& path) {
  ErrorList errs;
  if (spec.accessModes.empty()) {
    errs.push_back(Required(path.Child("accessModes"), "at least 1 access mode is required"));
  }
  if (spec.selector) Append(errs, ValidateLabelSelector(*spec.selector, path.Child("selector")));
  // (the empty list was reported above with its own detail)
  if (!spec.accessModes.empty()) {
    ValidateAccessModes(spec.accessModes, path.Child("accessModes"), "", errs);
  }

  Path storagePath = path.Child("resources").Key("storage");
  auto it = spec.resources.requests.find("storage");
  if (it == spec.resources.requests.end()) {
    errs.push_back(Required(storagePath, ""));
  } else {
    Append(errs, ValidatePositiveQuantity(it->second, storagePath));
  }

  if (spec.storageClassName && !spec.storageClassName->empty()) {
    ValidateClassNameAt(*spec.storageClassName, path.Child("storageClassName"), errs);
  }
  if (spec.volumeMode && !Contains(kSupportedVolumeModes, *spec.volumeMode)) {
    errs.push_back(NotSupported(path.Child("volumeMode"), *spec.volumeMode, kSupportedVolumeModes));
  }

  if (spec.dataSource) {
    const auto& ds = *spec.dataSource;
    ValidateTypedReference(ds.apiGroup, ds.kind, ds.name, path.Child("dataSource"), errs);
  }
  if (spec.dataSourceRef) {
    const auto& ref = *spec.dataSourceRef;
    Path p = path.Child("dataSourceRef");
    ValidateTypedReference(ref.apiGroup, ref.kind, ref.name, p, errs);
    if (ref.namespace_ && !ref.namespace_->empty()) {
      for (auto& msg : ValidateNamespaceName(*ref.namespace_, false)) {
        errs.push_back(InvalidValue(p.Child("namespace"), *ref.namespace_, msg));
      }
    }
  }
  if (spec.dataSourceRef && spec.dataSourceRef->namespace_ &&
      !spec.dataSourceRef->namespace_->empty()) {
    if (spec.dataSource) {
      errs.push_back(
          InvalidValue(path, path.Child("dataSource").str(),
                       "may not be specified when dataSourceRef.namespace is specified"));
    }
  } else if (spec.dataSource && spec.dataSourceRef) {
    const auto& a = *spec.dataSource;
    const auto& b = *spec.dataSourceRef;
    if (a.apiGroup != b.apiGroup || a.kind != b.kind || a.name != b.name) {
      errs.push_back(
          InvalidValue(path, path.Child("dataSource").str(), "must match dataSourceRef"));
    }
  }
  if (spec.volumeAttributesClassName && !spec.volumeAttributesClassName->empty()) {
    ValidateClassNameAt(*spec.volumeAttributesClassName, path.Child("volumeAttributesClassName"),
                        errs);
  }
  return errs;
}

ErrorList ValidatePersistentVolumeClaim(const PersistentVolumeClaim& pvc) {
  ErrorList errs = ValidateObjectMeta(pvc.metadata, true, NameIsDNSSubdomain, Path("metadata"));
  Append(errs, ValidatePersistentVolumeClaimSpec(pvc.spec, Path("spec")));
  return errs;
}

ErrorList ValidatePersistentVolumeClaimUpdate(const PersistentVolumeClaim& pvc,
                                              const PersistentVolumeClaim& old) {
  ErrorList errs = ValidateObjectMetaUpdate(pvc.metadata, old.metadata, Path("metadata"));
  PersistentVolumeClaimSpec newSpec = pvc.spec;
  PersistentVolumeClaimSpec oldSpec = old.spec;

  // The binder sets volumeName once.
  if (old.spec.volumeName.empty()) oldSpec.volumeName = newSpec.volumeName;

  // The beta storage-class annotation may be upgraded to spec.storageClassName (or a nil class
  // set), as Kubernetes allows.
  const auto& oldAnn = old.metadata.annotations;
  const auto& newAnn = pvc.metadata.annotations;
  auto oldA = oldAnn.find(kBetaStorageClassAnnotation);
  auto newA = newAnn.find(kBetaStorageClassAnnotation);
  bool upgradeFromAnnotation = oldA != oldAnn.end() && !old.spec.storageClassName &&
                               pvc.spec.storageClassName &&
                               *pvc.spec.storageClassName == oldA->second &&
                               (newA == newAnn.end() || newA->second == oldA->second);
  if (upgradeFromAnnotation) {
    newSpec.storageClassName.reset();
  } else {
    std::string oldV = oldA == oldAnn.end() ? "" : oldA->second;
    std::string newV = newA == newAnn.end() ? "" : newA->second;
    if (oldV != newV) {
      errs.push_back(
          InvalidValue(Path("metadata").Child("annotations").Child(kBetaStorageClassAnnotation),
                       newV, kFieldImmutableErrorMsg));
    }
    if (pvc.spec.storageClassName && !old.spec.storageClassName &&
        (oldA == oldAnn.end() || *pvc.spec.storageClassName == oldA->second)) {
      newSpec.storageClassName = oldSpec.storageClassName;
    }
  }

  bool bound = pvc.status.phase == "Bound";
  if (bound && !newSpec.resources.requests.empty()) {
    auto o = old.spec.resources.requests.find("storage");
    if (o != old.spec.resources.requests.end()) {
      newSpec.resources.requests["storage"] = o->second;
    } else {
      newSpec.resources.requests.erase("storage");
    }
  }
  if (bound && newSpec.volumeAttributesClassName) {
    newSpec.volumeAttributesClassName = oldSpec.volumeAttributesClassName;
  }

  json newJ = ToJson(newSpec), oldJ = ToJson(oldSpec);
  if (newJ != oldJ) {
    errs.push_back(Forbidden(Path("spec"),
                             "spec is immutable after creation except resources.requests and "
                             "volumeAttributesClassName for bound claims\n" +
                                 Diff(oldJ, newJ)));
  }

  Quantity oldSize = StorageOf(old.spec.resources.requests);
  Quantity newSize = StorageOf(pvc.spec.resources.requests);
  Quantity statusSize = StorageOf(old.status.capacity);
  if (newSize < oldSize && newSize <= statusSize) {
    errs.push_back(Forbidden(Path("spec").Child("resources").Child("requests").Child("storage"),
                             "field can not be less than status.capacity"));
  }

  Append(errs, ValidateImmutableField(ToJson(pvc.spec.volumeMode), ToJson(old.spec.volumeMode),
                                      Path("volumeMode")));

  if (old.spec.volumeAttributesClassName &&
      old.spec.volumeAttributesClassName != pvc.spec.volumeAttributesClassName) {
    Path p = Path("spec").Child("volumeAttributesClassName");
    if (!pvc.spec.volumeAttributesClassName) {
      errs.push_back(Forbidden(p, "update from non-nil value to nil is forbidden"));
    } else if (pvc.spec.volumeAttributesClassName->empty()) {
      errs.push_back(Forbidden(p, "update from non-nil value to an empty string is forbidden"));
    }
  }
  return errs;
}

}  // namespace kvol::api
