// Validation of pod volumes and the path/selector helpers they share with PV validation
// (pkg/apis/core/validation/validation.go: ValidateVolumes, validateVolumeSource and friends).
// Field paths reproduce Kubernetes' own, quirks included (gcePersistentDisk errors name
// "persistentDisk", downwardAPI item errors are not indexed), so messages match a real cluster.
#include <algorithm>
#include <set>

#include "validation_internal.h"

namespace kvol::api {

using internal::Append;

namespace internal {

ErrorList ValidateDNS1123Label(const std::string& value, const Path& path) {
  ErrorList errs;
  for (auto& m : IsDNS1123Label(value)) errs.push_back(InvalidValue(path, value, m));
  return errs;
}

ErrorList ValidateDNS1123Subdomain(const std::string& value, const Path& path) {
  ErrorList errs;
  for (auto& m : IsDNS1123Subdomain(value)) errs.push_back(InvalidValue(path, value, m));
  return errs;
}

ErrorList ValidateQualifiedName(const std::string& value, const Path& path) {
  ErrorList errs;
  for (auto& m : IsQualifiedName(value)) errs.push_back(InvalidValue(path, value, m));
  return errs;
}

std::string InclusiveRangeError(int64_t lo, int64_t hi) {
  return "must be between " + std::to_string(lo) + " and " + std::to_string(hi) + ", inclusive";
}

ErrorList ValidateLocalNonReservedPath(const std::string& target, const Path& path) {
  ErrorList errs = ValidateLocalDescendingPath(target, path);
  if (target.rfind("..", 0) == 0 && target.rfind("../", 0) != 0)
    errs.push_back(InvalidValue(path, target, "must not start with '..'"));
  return errs;
}

ErrorList ValidateTemplateObjectMeta(const ObjectMeta& meta, const Path& path) {
  ErrorList errs = ValidateAnnotations(meta.annotations, path.Child("annotations"));
  Append(errs, ValidateLabels(meta.labels, path.Child("labels")));
  json j = ToJson(meta);
  for (auto it = j.begin(); it != j.end(); ++it) {
    if (it.key() == "labels" || it.key() == "annotations") continue;
    errs.push_back(Forbidden(path.Child(it.key()), "cannot be set"));
  }
  return errs;
}

}  // namespace internal

namespace {

using internal::InclusiveRangeError;
using internal::ValidateLocalNonReservedPath;

constexpr const char* kFileModeErrorMsg =
    "must be a number between 0 and 0777 (octal), both inclusive";

void CheckMode(const std::optional<int32_t>& mode, const Path& path, ErrorList& errs) {
  if (mode && (*mode > 0777 || *mode < 0))
    errs.push_back(InvalidValue(path, *mode, kFileModeErrorMsg));
}

ErrorList ValidateKeyToPath(const KeyToPath& kp, const Path& path) {
  ErrorList errs;
  if (kp.key.empty()) errs.push_back(Required(path.Child("key")));
  if (kp.path.empty()) errs.push_back(Required(path.Child("path")));
  Append(errs, ValidateLocalNonReservedPath(kp.path, path.Child("path")));
  CheckMode(kp.mode, path.Child("mode"), errs);
  return errs;
}

// pods/helper ConvertDownwardAPIFieldLabel + SplitMaybeSubscriptedPath + the volume's allowed set.
ErrorList ValidateObjectFieldSelector(const ObjectFieldSelector& fs,
                                      const std::vector<std::string>& allowed, const Path& path) {
  ErrorList errs;
  if (fs.apiVersion.empty()) return {Required(path.Child("apiVersion"))};
  if (fs.fieldPath.empty()) return {Required(path.Child("fieldPath"))};
  if (fs.apiVersion != "v1") {
    return {InvalidValue(path.Child("fieldPath"), fs.fieldPath,
                         "error converting fieldPath: unsupported pod version: " + fs.apiVersion)};
  }
  std::string p = fs.fieldPath, subscript;
  bool subscripted = false;
  if (auto open = p.find("['");
      open != std::string::npos && p.size() >= 2 && p.compare(p.size() - 2, 2, "']") == 0) {
    subscript = p.substr(open + 2, p.size() - open - 4);
    p = p.substr(0, open);
    subscripted = true;
  }
  static const std::set<std::string> kConvertible = {
      "metadata.annotations", "metadata.labels", "metadata.name",      "metadata.namespace",
      "metadata.uid",         "spec.nodeName",   "spec.restartPolicy", "spec.serviceAccountName",
      "spec.schedulerName",   "status.phase",    "status.hostIP",      "status.hostIPs",
      "status.podIP",         "status.podIPs"};
  if (!kConvertible.count(p) ||
      (subscripted && p != "metadata.annotations" && p != "metadata.labels")) {
    return {InvalidValue(path.Child("fieldPath"), fs.fieldPath,
                         "error converting fieldPath: field label not supported: " + fs.fieldPath)};
  }
  if (subscripted) {
    std::string key = subscript;
    if (p == "metadata.annotations")
      std::transform(key.begin(), key.end(), key.begin(),
                     [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    Append(errs, internal::ValidateQualifiedName(key, path));
  } else if (std::find(allowed.begin(), allowed.end(), p) == allowed.end()) {
    errs.push_back(NotSupported(path.Child("fieldPath"), p, allowed));
  }
  return errs;
}

ErrorList ValidateResourceFieldSelector(const ResourceFieldSelector& fs, bool volume,
                                        const Path& path) {
  static const std::vector<std::string> kAllowed = {
      "limits.cpu",   "limits.ephemeral-storage",   "limits.memory",
      "requests.cpu", "requests.ephemeral-storage", "requests.memory"};
  ErrorList errs;
  if (volume && fs.containerName.empty()) {
    errs.push_back(Required(path.Child("containerName")));
  } else if (fs.resource.empty()) {
    errs.push_back(Required(path.Child("resource")));
  } else if (std::find(kAllowed.begin(), kAllowed.end(), fs.resource) == kAllowed.end() &&
             fs.resource.rfind("requests.hugepages-", 0) != 0 &&
             fs.resource.rfind("limits.hugepages-", 0) != 0) {
    errs.push_back(NotSupported(path.Child("resource"), fs.resource, kAllowed));
  }
  return errs;
}

const std::vector<std::string> kVolumeFieldPaths = {"metadata.annotations", "metadata.labels",
                                                    "metadata.name", "metadata.namespace",
                                                    "metadata.uid"};

// Kubernetes validates every item at the downwardAPI path itself (no items[i]).
ErrorList ValidateDownwardAPIVolumeFile(const DownwardAPIVolumeFile& f, const Path& path) {
  ErrorList errs;
  if (f.path.empty()) errs.push_back(Required(path.Child("path")));
  Append(errs, ValidateLocalNonReservedPath(f.path, path.Child("path")));
  if (f.fieldRef) {
    Append(errs,
           ValidateObjectFieldSelector(*f.fieldRef, kVolumeFieldPaths, path.Child("fieldRef")));
    if (f.resourceFieldRef)
      errs.push_back(InvalidValue(
          path, "resource", "fieldRef and resourceFieldRef can not be specified simultaneously"));
  } else if (f.resourceFieldRef) {
    Append(errs, ValidateResourceFieldSelector(*f.resourceFieldRef, true,
                                               path.Child("resourceFieldRef")));
  } else {
    errs.push_back(Required(path, "one of fieldRef and resourceFieldRef is required"));
  }
  CheckMode(f.mode, path.Child("mode"), errs);
  return errs;
}

ErrorList ValidateProjected(const ProjectedVolumeSource& pv, const Path& path) {
  ErrorList errs;
  CheckMode(pv.defaultMode, path.Child("defaultMode"), errs);
  std::set<std::string> allPaths;
  auto addPath = [&](const std::string& p, const json& value) {
    if (p.empty()) return;
    if (!allPaths.insert(p).second)
      errs.push_back(InvalidValue(path, value, "conflicting duplicate paths"));
  };
  for (size_t i = 0; i < pv.sources.size(); ++i) {
    const VolumeProjection& s = pv.sources[i];
    Path src = path.Child("sources").Index(i);
    int n = 0;
    if (s.secret) {
      ++n;
      Path pp = src.Child("secret");
      if (s.secret->name.empty()) errs.push_back(Required(pp.Child("name")));
      for (size_t k = 0; k < s.secret->items.size(); ++k) {
        Append(errs, ValidateKeyToPath(s.secret->items[k], pp.Child("items").Index(k)));
        addPath(s.secret->items[k].path, s.secret->name);
      }
    }
    if (s.configMap) {
      ++n;
      Path pp = src.Child("configMap");
      if (s.configMap->name.empty()) errs.push_back(Required(pp.Child("name")));
      for (size_t k = 0; k < s.configMap->items.size(); ++k) {
        Append(errs, ValidateKeyToPath(s.configMap->items[k], pp.Child("items").Index(k)));
        addPath(s.configMap->items[k].path, s.configMap->name);
      }
    }
    if (s.downwardAPI) {
      ++n;
      for (const auto& f : s.downwardAPI->items) {
        Append(errs, ValidateDownwardAPIVolumeFile(f, src.Child("downwardAPI")));
        addPath(f.path, f.path);
      }
    }
    if (s.serviceAccountToken) {
      ++n;
      const auto& t = *s.serviceAccountToken;
      int64_t exp = t.expirationSeconds.value_or(3600);
      Path pp = src.Child("serviceAccountToken");
      if (exp < 10 * 60)
        errs.push_back(InvalidValue(pp.Child("expirationSeconds"), exp,
                                    "may not specify a duration less than 10 minutes"));
      if (exp > (int64_t{1} << 32))
        errs.push_back(InvalidValue(pp.Child("expirationSeconds"), exp,
                                    "may not specify a duration larger than 2^32 seconds"));
      if (t.path.empty()) {
        errs.push_back(Required(path.Child("path")));
      } else {
        Append(errs, ValidateLocalNonReservedPath(t.path, path.Child("path")));
      }
    }
    if (n > 1) errs.push_back(Forbidden(src, "may not specify more than 1 volume type per source"));
  }
  return errs;
}

ErrorList ValidateAzureDisk(const AzureDiskVolumeSource& a, const Path& path) {
  ErrorList errs;
  if (a.diskName.empty()) errs.push_back(Required(path.Child("diskName")));
  if (a.diskURI.empty()) errs.push_back(Required(path.Child("diskURI")));
  static const std::vector<std::string> kCaching = {"None", "ReadOnly", "ReadWrite"};
  static const std::vector<std::string> kKinds = {"Dedicated", "Managed", "Shared"};
  if (a.cachingMode &&
      std::find(kCaching.begin(), kCaching.end(), *a.cachingMode) == kCaching.end())
    errs.push_back(NotSupported(path.Child("cachingMode"), *a.cachingMode, kCaching));
  if (a.kind && std::find(kKinds.begin(), kKinds.end(), *a.kind) == kKinds.end())
    errs.push_back(NotSupported(path.Child("kind"), *a.kind, kKinds));
  if (a.kind && *a.kind == "Managed" && a.diskURI.rfind("/subscriptions/", 0) != 0)
    errs.push_back(NotSupported(
        path.Child("diskURI"), a.diskURI,
        {"/subscriptions/{sub-id}/resourcegroups/{group-name}/providers/microsoft.compute/disks/"
         "{disk-id}"}));
  if (a.kind && *a.kind != "Managed" && a.diskURI.rfind("https://", 0) != 0)
    errs.push_back(NotSupported(
        path.Child("diskURI"), a.diskURI,
        {"https://{account-name}.blob.core.windows.net/{container-name}/{disk-name}.vhd"}));
  return errs;
}

ErrorList ValidateEphemeral(const EphemeralVolumeSource& e, const Path& path) {
  ErrorList errs;
  if (!e.volumeClaimTemplate) return {Required(path.Child("volumeClaimTemplate"))};
  Path t = path.Child("volumeClaimTemplate");
  Append(errs, internal::ValidateTemplateObjectMeta(e.volumeClaimTemplate->metadata,
                                                    t.Child("metadata")));
  Append(errs, ValidatePersistentVolumeClaimSpec(e.volumeClaimTemplate->spec, t.Child("spec")));
  return errs;
}

ErrorList ValidateVolumeSource(const Volume& v, const Path& path, const ObjectMeta* podMeta) {
  ErrorList errs;
  int n = 0;
  // Counts one source; a second one is "may not specify more than 1 volume type" at its path.
  auto one = [&](bool present, const char* name) {
    if (!present) return false;
    if (n > 0) {
      errs.push_back(Forbidden(path.Child(name), "may not specify more than 1 volume type"));
      return false;
    }
    ++n;
    return true;
  };
  if (v.emptyDir) {
    ++n;
    const auto& e = *v.emptyDir;
    if (e.medium != "" && e.medium != "Memory")  // kvol: Kubernetes leaves this to the kubelet
      errs.push_back(
          NotSupported(path.Child("emptyDir").Child("medium"), e.medium, {"", "Memory"}));
    if (e.sizeLimit && e.sizeLimit->Sign() < 0)
      errs.push_back(Forbidden(path.Child("emptyDir").Child("sizeLimit"),
                               "SizeLimit field must be a valid resource quantity"));
  }
  if (one(v.hostPath.has_value(), "hostPath"))
    Append(errs, ValidateHostPathVolumeSource(*v.hostPath, path.Child("hostPath")));
  if (one(v.gitRepo.has_value(), "gitRepo")) {
    Path p = path.Child("gitRepo");
    if (v.gitRepo->repository.empty()) errs.push_back(Required(p.Child("repository")));
    Append(errs, ValidateLocalDescendingPath(v.gitRepo->directory, p.Child("directory")));
  }
  if (one(v.gcePersistentDisk.has_value(), "gcePersistentDisk")) {
    Path p = path.Child("persistentDisk");  // sic, as Kubernetes names it
    if (v.gcePersistentDisk->pdName.empty()) errs.push_back(Required(p.Child("pdName")));
    if (v.gcePersistentDisk->partition < 0 || v.gcePersistentDisk->partition > 255)
      errs.push_back(InvalidValue(p.Child("partition"), v.gcePersistentDisk->partition,
                                  InclusiveRangeError(1, 255)));
  }
  if (one(v.awsElasticBlockStore.has_value(), "awsElasticBlockStore")) {
    Path p = path.Child("awsElasticBlockStore");
    if (v.awsElasticBlockStore->volumeID.empty()) errs.push_back(Required(p.Child("volumeID")));
    if (v.awsElasticBlockStore->partition < 0 || v.awsElasticBlockStore->partition > 255)
      errs.push_back(InvalidValue(p.Child("partition"), v.awsElasticBlockStore->partition,
                                  InclusiveRangeError(1, 255)));
  }
  if (one(v.secret.has_value(), "secret")) {
    Path p = path.Child("secret");
    if (v.secret->secretName.empty()) errs.push_back(Required(p.Child("secretName")));
    CheckMode(v.secret->defaultMode, p.Child("defaultMode"), errs);
    for (size_t i = 0; i < v.secret->items.size(); ++i)
      Append(errs, ValidateKeyToPath(v.secret->items[i], p.Child("items").Index(i)));
  }
  if (one(v.nfs.has_value(), "nfs"))
    Append(errs, ValidateNFSVolumeSource(*v.nfs, path.Child("nfs")));
  if (one(v.persistentVolumeClaim.has_value(), "persistentVolumeClaim")) {
    if (v.persistentVolumeClaim->claimName.empty())
      errs.push_back(Required(path.Child("persistentVolumeClaim").Child("claimName")));
  }
  if (one(v.downwardAPI.has_value(), "downwarAPI")) {  // sic: Kubernetes' typo in this path
    Path p = path.Child("downwardAPI");
    CheckMode(v.downwardAPI->defaultMode, p.Child("defaultMode"), errs);
    for (const auto& f : v.downwardAPI->items) Append(errs, ValidateDownwardAPIVolumeFile(f, p));
  }
  if (one(v.configMap.has_value(), "configMap")) {
    Path p = path.Child("configMap");
    if (v.configMap->name.empty()) errs.push_back(Required(p.Child("name")));
    CheckMode(v.configMap->defaultMode, p.Child("defaultMode"), errs);
    for (size_t i = 0; i < v.configMap->items.size(); ++i)
      Append(errs, ValidateKeyToPath(v.configMap->items[i], p.Child("items").Index(i)));
  }
  if (one(v.azureDisk.has_value(), "azureDisk"))
    Append(errs, ValidateAzureDisk(*v.azureDisk, path.Child("azureDisk")));
  if (one(v.projected.has_value(), "projected"))
    Append(errs, ValidateProjected(*v.projected, path.Child("projected")));
  if (one(v.csi.has_value(), "csi")) {
    Path p = path.Child("csi");
    Append(errs, ValidateCSIDriverName(v.csi->driver, p.Child("driver")));
    if (v.csi->nodePublishSecretRef) {
      const std::string& n2 = v.csi->nodePublishSecretRef->name;
      if (n2.empty()) {
        errs.push_back(Required(p.Child("nodePublishSecretRef").Child("name")));
      } else {
        for (auto& m : NameIsDNSSubdomain(n2, false))
          errs.push_back(InvalidValue(p.Child("name"), n2, m));
      }
    }
  }
  if (one(v.ephemeral.has_value(), "ephemeral")) {
    Append(errs, ValidateEphemeral(*v.ephemeral, path.Child("ephemeral")));
    if (podMeta && !podMeta->name.empty() && !v.name.empty()) {
      std::string pvcName = podMeta->name + "-" + v.name;
      for (auto& m : NameIsDNSSubdomain(pvcName, false))
        errs.push_back(
            InvalidValue(path.Child("name"), v.name, "PVC name \"" + pvcName + "\": " + m));
    }
  }
  if (n == 0) errs.push_back(Required(path, "must specify a volume type"));
  return errs;
}

}  // namespace

ErrorList ValidatePathNoBacksteps(const std::string& target, const Path& path) {
  size_t start = 0;
  while (true) {
    size_t slash = target.find('/', start);
    std::string_view part(target.data() + start,
                          (slash == std::string::npos ? target.size() : slash) - start);
    if (part == "..") return {InvalidValue(path, target, "must not contain '..'")};
    if (slash == std::string::npos) return {};
    start = slash + 1;
  }
}

ErrorList ValidateLocalDescendingPath(const std::string& target, const Path& path) {
  ErrorList errs;
  if (!target.empty() && target[0] == '/')
    errs.push_back(InvalidValue(path, target, "must be a relative path"));
  Append(errs, ValidatePathNoBacksteps(target, path));
  return errs;
}

ErrorList ValidateHostPathVolumeSource(const HostPathVolumeSource& hp, const Path& path) {
  if (hp.path.empty()) return {Required(path.Child("path"))};
  ErrorList errs = ValidatePathNoBacksteps(hp.path, path.Child("path"));
  static const std::vector<std::string> kTypes = {
      "",     "BlockDevice",  "CharDevice", "Directory", "DirectoryOrCreate",
      "File", "FileOrCreate", "Socket"};
  if (hp.type && std::find(kTypes.begin(), kTypes.end(), *hp.type) == kTypes.end())
    errs.push_back(NotSupported(path.Child("type"), *hp.type, kTypes));
  return errs;
}

ErrorList ValidateNFSVolumeSource(const NFSVolumeSource& nfs, const Path& path) {
  ErrorList errs;
  if (nfs.server.empty()) errs.push_back(Required(path.Child("server")));
  if (nfs.path.empty()) errs.push_back(Required(path.Child("path")));
  if (nfs.path.empty() || nfs.path[0] != '/')
    errs.push_back(InvalidValue(path.Child("path"), nfs.path, "must be an absolute path"));
  return errs;
}

ErrorList ValidateCSIDriverName(const std::string& driver, const Path& path) {
  ErrorList errs;
  if (driver.empty()) errs.push_back(Required(path));
  if (driver.size() > 63) errs.push_back(TooLong(path, "", 63));
  std::string lower = driver;
  std::transform(lower.begin(), lower.end(), lower.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  for (auto& m : IsDNS1123Subdomain(lower)) errs.push_back(InvalidValue(path, driver, m));
  return errs;
}

namespace {

ErrorList ValidateNodeSelectorRequirement(const NodeSelectorRequirement& r, const Path& path) {
  ErrorList errs;
  const std::string& op = r.operator_;
  if (op == "In" || op == "NotIn") {
    if (r.values.empty())
      errs.push_back(
          Required(path.Child("values"), "must be specified when `operator` is 'In' or 'NotIn'"));
  } else if (op == "Exists" || op == "DoesNotExist") {
    if (!r.values.empty())
      errs.push_back(
          Forbidden(path.Child("values"),
                    "may not be specified when `operator` is 'Exists' or 'DoesNotExist'"));
  } else if (op == "Gt" || op == "Lt") {
    if (r.values.size() != 1)
      errs.push_back(Required(path.Child("values"),
                              "must be specified single value when `operator` is 'Lt' or 'Gt'"));
  } else {
    errs.push_back(InvalidValue(path.Child("operator"), op, "not a valid selector operator"));
  }
  Append(errs, internal::ValidateQualifiedName(r.key, path.Child("key")));
  for (size_t i = 0; i < r.values.size(); ++i)
    for (auto& m : IsValidLabelValue(r.values[i]))
      errs.push_back(InvalidValue(path.Child("values").Index(i), r.values[i], m));
  return errs;
}

ErrorList ValidateNodeFieldSelectorRequirement(const NodeSelectorRequirement& r, const Path& path) {
  ErrorList errs;
  if (r.operator_ == "In" || r.operator_ == "NotIn") {
    if (r.values.size() != 1)
      errs.push_back(Required(
          path.Child("values"),
          "must be only one value when `operator` is 'In' or 'NotIn' for node field selector"));
  } else {
    errs.push_back(
        InvalidValue(path.Child("operator"), r.operator_, "not a valid selector operator"));
  }
  if (r.key != "metadata.name") {
    errs.push_back(InvalidValue(path.Child("key"), r.key, "not a valid field selector key"));
  } else {
    for (size_t i = 0; i < r.values.size(); ++i)
      for (auto& m : NameIsDNSSubdomain(r.values[i], false))
        errs.push_back(InvalidValue(path.Child("values").Index(i), r.values[i], m));
  }
  return errs;
}

}  // namespace

ErrorList ValidateNodeSelector(const NodeSelector& selector, const Path& path) {
  Path terms = path.Child("nodeSelectorTerms");
  if (selector.nodeSelectorTerms.empty())
    return {Required(terms, "must have at least one node selector term")};
  ErrorList errs;
  for (size_t i = 0; i < selector.nodeSelectorTerms.size(); ++i) {
    const auto& t = selector.nodeSelectorTerms[i];
    for (size_t j = 0; j < t.matchExpressions.size(); ++j)
      Append(errs, ValidateNodeSelectorRequirement(
                       t.matchExpressions[j], terms.Index(i).Child("matchExpressions").Index(j)));
    for (size_t j = 0; j < t.matchFields.size(); ++j)
      Append(errs, ValidateNodeFieldSelectorRequirement(
                       t.matchFields[j], terms.Index(i).Child("matchFields").Index(j)));
  }
  return errs;
}

namespace internal {

ErrorList ValidateVolumes(const std::vector<Volume>& volumes, const ObjectMeta* podMeta,
                          const Path& path, VolumeMap* out) {
  ErrorList all;
  std::set<std::string> names, createdPVCs;
  if (podMeta && !podMeta->name.empty())
    for (const auto& v : volumes)
      if (v.ephemeral) createdPVCs.insert(podMeta->name + "-" + v.name);
  for (size_t i = 0; i < volumes.size(); ++i) {
    const Volume& v = volumes[i];
    Path idx = path.Index(i);
    Path namePath = idx.Child("name");
    ErrorList el = ValidateVolumeSource(v, idx, podMeta);
    if (v.name.empty()) {
      el.push_back(Required(namePath));
    } else {
      Append(el, ValidateDNS1123Label(v.name, namePath));
    }
    if (names.count(v.name)) el.push_back(Duplicate(namePath, v.name));
    if (el.empty()) {
      names.insert(v.name);
      if (out) (*out)[v.name] = &v;
    } else {
      Append(all, std::move(el));
    }
    if (v.persistentVolumeClaim && createdPVCs.count(v.persistentVolumeClaim->claimName))
      all.push_back(InvalidValue(idx.Child("persistentVolumeClaim").Child("claimName"),
                                 v.persistentVolumeClaim->claimName,
                                 "must not reference a PVC that gets created for an ephemeral "
                                 "volume"));
  }
  return all;
}

}  // namespace internal
}  // namespace kvol::api
