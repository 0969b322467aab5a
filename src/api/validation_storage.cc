// Validation of storage.k8s.io/v1 kinds (pkg/apis/storage/validation/validation.go) and of the
// snapshot.storage.k8s.io/v1 kinds, whose rules are external-snapshotter's CRD schema: required
// fields, enums, and CEL rules reported as the API server reports them
// (`spec.source: Invalid value: "object": exactly one of ...`).
#include <algorithm>
#include <cctype>
#include <limits>
#include <set>

#include "kvol/api/validation.h"
#include "kvol/api/validation_util.h"

namespace kvol::api {
namespace {

constexpr size_t kMaxProvisionerParameterSize = 256 * 1024;
constexpr size_t kMaxProvisionerParameterLen = 512;
constexpr size_t kMaxAttachedVolumeMetadataSize = 256 * 1024;
constexpr size_t kMaxVolumeErrorMessageSize = 1024;

void Append(ErrorList& to, ErrorList from) {
  for (auto& e : from) to.push_back(std::move(e));
}

bool Contains(const std::vector<std::string>& v, const std::string& s) {
  return std::find(v.begin(), v.end(), s) != v.end();
}

std::string Lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  return s;
}

// ValidateQualifiedName / ValidateLabelName.
void ValidateQualifiedNameAt(const std::string& v, const Path& path, ErrorList& errs) {
  for (auto& msg : IsQualifiedName(v)) errs.push_back(InvalidValue(path, v, msg));
}

// A CRD CEL rule failure: the value is the JSON type of the field the rule sits on.
FieldError CelError(const Path& path, const char* type, const std::string& message) {
  return InvalidValue(path, type, message);
}

void ValidateProvisioner(const std::string& provisioner, const Path& path, ErrorList& errs) {
  if (provisioner.empty()) {
    errs.push_back(Required(path, ""));
  } else {
    ValidateQualifiedNameAt(Lower(provisioner), path, errs);
  }
}

void ValidateParameters(const std::map<std::string, std::string>& params, const Path& path,
                        ErrorList& errs) {
  if (params.size() > kMaxProvisionerParameterLen) {
    errs.push_back(TooLong(path, "", kMaxProvisionerParameterLen));
    return;
  }
  size_t total = 0;
  for (const auto& [k, v] : params) {
    if (k.empty()) errs.push_back(InvalidValue(path, k, "field can not be empty."));
    total += k.size() + v.size();
  }
  if (total > kMaxProvisionerParameterSize) {
    errs.push_back(TooLong(path, "", kMaxProvisionerParameterSize));
  }
}

// ValidateTopologySelectorTerm: each requirement needs values (a set) and a qualified key; keys
// unique within a term. Returns the term as key -> value set.
std::map<std::string, std::set<std::string>> ValidateTopologyTerm(const TopologySelectorTerm& term,
                                                                  const Path& path,
                                                                  ErrorList& errs) {
  std::map<std::string, std::set<std::string>> exprs;
  Path exprPath = path.Child("matchLabelExpressions");
  for (size_t i = 0; i < term.matchLabelExpressions.size(); ++i) {
    const auto& req = term.matchLabelExpressions[i];
    Path idx = exprPath.Index(i);
    std::set<std::string> values;
    Path valuesPath = idx.Child("values");
    if (req.values.empty()) errs.push_back(Required(valuesPath, ""));
    for (size_t j = 0; j < req.values.size(); ++j) {
      if (!values.insert(req.values[j]).second) {
        errs.push_back(Duplicate(valuesPath.Index(j), req.values[j]));
      }
    }
    ValidateQualifiedNameAt(req.key, idx.Child("key"), errs);
    if (exprs.count(req.key)) errs.push_back(Duplicate(idx.Child("key"), req.key));
    exprs[req.key] = std::move(values);
  }
  return exprs;
}

void ValidateAllowedTopologies(const std::vector<TopologySelectorTerm>& terms, const Path& path,
                               ErrorList& errs) {
  if (terms.empty()) return;
  // Kubernetes starts its list of seen terms with len(terms) empty entries, so a term without
  // expressions is always reported as a duplicate; kvol keeps that behaviour.
  std::vector<std::map<std::string, std::set<std::string>>> seen(terms.size());
  for (size_t i = 0; i < terms.size(); ++i) {
    auto expr = ValidateTopologyTerm(terms[i], path.Index(i), errs);
    for (const auto& t : seen) {
      if (t == expr) {
        errs.push_back(Duplicate(path.Index(i).Child("matchLabelExpressions"), ""));
      }
    }
    seen.push_back(std::move(expr));
  }
}

void ValidateVolumeError(const std::optional<VolumeError>& e, const Path& path, ErrorList& errs) {
  if (!e) return;
  if (e->message.size() > kMaxVolumeErrorMessageSize) {
    // Kubernetes reports the metadata size limit here.
    errs.push_back(TooLong(path.Child("message"), "", kMaxAttachedVolumeMetadataSize));
  }
  if (e->errorCode && *e->errorCode < 0) {
    errs.push_back(InvalidValue(path.Child("errorCode"), *e->errorCode,
                                "must be between 0 and " +
                                    std::to_string(std::numeric_limits<int32_t>::max()) +
                                    ", inclusive"));
  }
}

const std::vector<std::string> kDeletionPolicies = {"Delete", "Retain"};

void ValidateDeletionPolicy(const std::string& policy, const Path& path, ErrorList& errs) {
  if (policy.empty()) {
    errs.push_back(Required(path, ""));
  } else if (!Contains(kDeletionPolicies, policy)) {
    errs.push_back(NotSupported(path, policy, kDeletionPolicies));
  }
}

// "exactly one of a and b must be set" on a CRD source object (absent entirely: Required).
void ValidateOneOf(bool a, bool b, const Path& path, const std::string& message, ErrorList& errs) {
  if (!a && !b) {
    errs.push_back(Required(path, ""));
  } else if (a && b) {
    errs.push_back(CelError(path, "object", message));
  }
}

// CEL transition rules on an optional string member `name` of the object at `path`: required
// once set, and immutable.
void ValidateImmutableMember(const std::optional<std::string>& now,
                             const std::optional<std::string>& before, const Path& path,
                             const std::string& name, ErrorList& errs) {
  if (before && !now) {
    errs.push_back(CelError(path, "object", name + " is required once set"));
  } else if (before && now && *before != *now) {
    errs.push_back(CelError(path.Child(name), "string", name + " is immutable"));
  }
}

}  // namespace

// ---- StorageClass -------------------------------------------------------------------------------

ErrorList ValidateStorageClass(const StorageClass& sc) {
  ErrorList errs = ValidateObjectMeta(sc.metadata, false, NameIsDNSSubdomain, Path("metadata"));
  ValidateProvisioner(sc.provisioner, Path("provisioner"), errs);
  ValidateParameters(sc.parameters, Path("parameters"), errs);
  const std::string policy = sc.reclaimPolicy.value_or("");
  if (!policy.empty() && !Contains(kDeletionPolicies, policy)) {
    errs.push_back(NotSupported(Path("reclaimPolicy"), policy, kDeletionPolicies));
  }
  static const std::vector<std::string> kBindingModes = {"Immediate", "WaitForFirstConsumer"};
  if (!sc.volumeBindingMode) {
    errs.push_back(Required(Path("volumeBindingMode"), ""));
  } else if (!Contains(kBindingModes, *sc.volumeBindingMode)) {
    errs.push_back(NotSupported(Path("volumeBindingMode"), *sc.volumeBindingMode, kBindingModes));
  }
  ValidateAllowedTopologies(sc.allowedTopologies, Path("allowedTopologies"), errs);
  return errs;
}

ErrorList ValidateStorageClassUpdate(const StorageClass& sc, const StorageClass& old) {
  ErrorList errs = ValidateObjectMetaUpdate(sc.metadata, old.metadata, Path("metadata"));
  if (sc.parameters != old.parameters) {
    errs.push_back(Forbidden(Path("parameters"), "updates to parameters are forbidden."));
  }
  if (sc.provisioner != old.provisioner) {
    errs.push_back(Forbidden(Path("provisioner"), "updates to provisioner are forbidden."));
  }
  if (sc.reclaimPolicy.value_or("") != old.reclaimPolicy.value_or("")) {
    errs.push_back(Forbidden(Path("reclaimPolicy"), "updates to reclaimPolicy are forbidden."));
  }
  Append(errs, ValidateImmutableField(ToJson(sc.volumeBindingMode), ToJson(old.volumeBindingMode),
                                      Path("volumeBindingMode")));
  return errs;
}

// ---- VolumeAttachment ---------------------------------------------------------------------------

ErrorList ValidateVolumeAttachment(const VolumeAttachment& va) {
  ErrorList errs = ValidateObjectMeta(va.metadata, false, NameIsDNSSubdomain, Path("metadata"));
  Path spec("spec");
  const VolumeAttachmentSpec& s = va.spec;
  if (s.attacher.empty()) errs.push_back(Required(spec.Child("attacher"), ""));

  Path src = spec.Child("source");
  bool hasInline = !s.source.inlineVolumeSpec.is_null();
  bool hasPV = s.source.persistentVolumeName.has_value();
  const char* exactlyOne = "must specify exactly one of inlineVolumeSpec and persistentVolumeName";
  if (!hasInline && !hasPV) {
    errs.push_back(Required(src, exactlyOne));
  } else if (hasInline && hasPV) {
    errs.push_back(Forbidden(src, exactlyOne));
  } else if (hasPV) {
    if (s.source.persistentVolumeName->empty()) {
      errs.push_back(Required(src.Child("persistentVolumeName"),
                              "must specify non empty persistentVolumeName"));
    }
  } else {
    DecodeContext ctx;
    PersistentVolumeSpec inlineSpec;
    Path inlinePath = src.Child("inlineVolumeSpec");
    JsonTraits<PersistentVolumeSpec>::Decode(s.source.inlineVolumeSpec, inlinePath, inlineSpec,
                                             ctx);
    Append(errs, std::move(ctx.errors));
    Append(errs, ValidatePersistentVolumeSpec(inlineSpec, true, inlinePath));
  }

  for (auto& msg : NameIsDNSSubdomain(s.nodeName, false)) {
    errs.push_back(InvalidValue(spec.Child("nodeName"), s.nodeName, msg));
  }

  Path status("status");
  size_t metaSize = 0;
  for (const auto& [k, v] : va.status.attachmentMetadata) metaSize += k.size() + v.size();
  if (metaSize > kMaxAttachedVolumeMetadataSize) {
    errs.push_back(TooLong(status.Child("attachmentMetadata"), "", kMaxAttachedVolumeMetadataSize));
  }
  ValidateVolumeError(va.status.attachError, status.Child("attachError"), errs);
  ValidateVolumeError(va.status.detachError, status.Child("detachError"), errs);

  // v1 tightening (ValidateVolumeAttachmentV1).
  Append(errs, ValidateStorageDriverName(s.attacher, spec.Child("attacher")));
  if (hasPV) {
    for (auto& msg : NameIsDNSSubdomain(*s.source.persistentVolumeName, false)) {
      errs.push_back(
          InvalidValue(src.Child("persistentVolumeName"), *s.source.persistentVolumeName, msg));
    }
  }
  return errs;
}

ErrorList ValidateVolumeAttachmentUpdate(const VolumeAttachment& va, const VolumeAttachment& old) {
  ErrorList errs = ValidateObjectMetaUpdate(va.metadata, old.metadata, Path("metadata"));
  json now = ToJson(va.spec);
  if (now != ToJson(old.spec)) {
    errs.push_back(InvalidValue(Path("spec"), now, kFieldImmutableErrorMsg));
  }
  return errs;
}

// ---- CSIDriver ----------------------------------------------------------------------------------

namespace {

void ValidateCSIDriverSpec(const CSIDriverSpec& s, const Path& path, ErrorList& errs) {
  // Kubernetes spells this path "attachedRequired".
  if (!s.attachRequired) errs.push_back(Required(path.Child("attachedRequired"), ""));
  if (!s.podInfoOnMount) errs.push_back(Required(path.Child("podInfoOnMount"), ""));
  if (!s.storageCapacity) errs.push_back(Required(path.Child("storageCapacity"), ""));
  static const std::vector<std::string> kFSGroupPolicies = {"File", "None",
                                                            "ReadWriteOnceWithFSType"};
  if (s.fsGroupPolicy && !Contains(kFSGroupPolicies, *s.fsGroupPolicy)) {
    errs.push_back(NotSupported(path.Child("fsGroupPolicy"), *s.fsGroupPolicy, kFSGroupPolicies));
  }
  std::set<std::string> audiences;
  for (size_t i = 0; i < s.tokenRequests.size(); ++i) {
    const auto& tr = s.tokenRequests[i];
    Path p = path.Child("tokenRequests").Index(i);
    if (!audiences.insert(tr.audience).second) {
      errs.push_back(Duplicate(p.Child("audience"), tr.audience));
      continue;
    }
    if (!tr.expirationSeconds) continue;
    if (*tr.expirationSeconds < 600) {
      errs.push_back(InvalidValue(p.Child("expirationSeconds"), *tr.expirationSeconds,
                                  "may not specify a duration less than 10 minutes"));
    }
    if (*tr.expirationSeconds > (int64_t{1} << 32)) {
      errs.push_back(InvalidValue(p.Child("expirationSeconds"), *tr.expirationSeconds,
                                  "may not specify a duration larger than 2^32 seconds"));
    }
  }
  for (const auto& mode : s.volumeLifecycleModes) {
    if (mode != "Persistent" && mode != "Ephemeral") {
      errs.push_back(
          NotSupported(path.Child("volumeLifecycleModes"), mode, {"Persistent", "Ephemeral"}));
    }
  }
  if (!s.seLinuxMount) errs.push_back(Required(path.Child("seLinuxMount"), ""));
  if (s.nodeAllocatableUpdatePeriodSeconds && *s.nodeAllocatableUpdatePeriodSeconds < 10) {
    errs.push_back(InvalidValue(path.Child("nodeAllocatableUpdatePeriodSeconds"),
                                *s.nodeAllocatableUpdatePeriodSeconds,
                                "must be greater than or equal to 10 seconds"));
  }
}

}  // namespace

ErrorList ValidateCSIDriver(const CSIDriver& d) {
  ErrorList errs = ValidateObjectMeta(d.metadata, false, NameIsDNSSubdomain, Path("metadata"));
  ValidateCSIDriverSpec(d.spec, Path("spec"), errs);
  return errs;
}

ErrorList ValidateCSIDriverUpdate(const CSIDriver& d, const CSIDriver& old) {
  ErrorList errs = ValidateObjectMetaUpdate(d.metadata, old.metadata, Path("metadata"));
  Append(errs,
         ValidateImmutableField(ToJson(d.spec.attachRequired), ToJson(old.spec.attachRequired),
                                Path("spec").Child("attachedRequired")));
  Append(errs, ValidateImmutableField(ToJson(d.spec.volumeLifecycleModes),
                                      ToJson(old.spec.volumeLifecycleModes),
                                      Path("spec").Child("volumeLifecycleModes")));
  return errs;
}

// ---- VolumeSnapshot -----------------------------------------------------------------------------

ErrorList ValidateVolumeSnapshot(const VolumeSnapshot& vs) {
  ErrorList errs = ValidateObjectMeta(vs.metadata, true, NameIsDNSSubdomain, Path("metadata"));
  Path spec("spec");
  const auto& src = vs.spec.source;
  ValidateOneOf(
      src.persistentVolumeClaimName.has_value(), src.volumeSnapshotContentName.has_value(),
      spec.Child("source"),
      "exactly one of volumeSnapshotContentName and persistentVolumeClaimName must be set", errs);
  if (vs.spec.volumeSnapshotClassName && vs.spec.volumeSnapshotClassName->empty()) {
    errs.push_back(CelError(spec.Child("volumeSnapshotClassName"), "string",
                            "volumeSnapshotClassName must not be the empty string when set"));
  }
  return errs;
}

ErrorList ValidateVolumeSnapshotUpdate(const VolumeSnapshot& vs, const VolumeSnapshot& old) {
  ErrorList errs = ValidateObjectMetaUpdate(vs.metadata, old.metadata, Path("metadata"));
  Path src = Path("spec").Child("source");
  ValidateImmutableMember(vs.spec.source.persistentVolumeClaimName,
                          old.spec.source.persistentVolumeClaimName, src,
                          "persistentVolumeClaimName", errs);
  ValidateImmutableMember(vs.spec.source.volumeSnapshotContentName,
                          old.spec.source.volumeSnapshotContentName, src,
                          "volumeSnapshotContentName", errs);
  return errs;
}

// ---- VolumeSnapshotContent ----------------------------------------------------------------------

ErrorList ValidateVolumeSnapshotContent(const VolumeSnapshotContent& c) {
  ErrorList errs = ValidateObjectMeta(c.metadata, false, NameIsDNSSubdomain, Path("metadata"));
  Path spec("spec");
  const auto& s = c.spec;
  ValidateDeletionPolicy(s.deletionPolicy, spec.Child("deletionPolicy"), errs);
  if (s.driver.empty()) errs.push_back(Required(spec.Child("driver"), ""));
  ValidateOneOf(s.source.volumeHandle.has_value(), s.source.snapshotHandle.has_value(),
                spec.Child("source"), "exactly one of volumeHandle and snapshotHandle must be set",
                errs);
  Path ref = spec.Child("volumeSnapshotRef");
  if (ToJson(s.volumeSnapshotRef).empty()) {
    errs.push_back(Required(ref, ""));
  } else if (s.volumeSnapshotRef.name.empty() || s.volumeSnapshotRef.namespace_.empty()) {
    errs.push_back(CelError(
        ref, "object",
        "both spec.volumeSnapshotRef.name and spec.volumeSnapshotRef.namespace must be set"));
  }
  if (s.volumeSnapshotClassName && s.volumeSnapshotClassName->empty()) {
    errs.push_back(CelError(spec.Child("volumeSnapshotClassName"), "string",
                            "volumeSnapshotClassName must not be the empty string when set"));
  }
  return errs;
}

ErrorList ValidateVolumeSnapshotContentUpdate(const VolumeSnapshotContent& c,
                                              const VolumeSnapshotContent& old) {
  ErrorList errs = ValidateObjectMetaUpdate(c.metadata, old.metadata, Path("metadata"));
  Path spec("spec");
  if (old.spec.sourceVolumeMode && !c.spec.sourceVolumeMode) {
    errs.push_back(CelError(spec, "object", "sourceVolumeMode is required once set"));
  } else if (old.spec.sourceVolumeMode && *old.spec.sourceVolumeMode != *c.spec.sourceVolumeMode) {
    errs.push_back(
        CelError(spec.Child("sourceVolumeMode"), "string", "sourceVolumeMode is immutable"));
  }
  Path src = spec.Child("source");
  ValidateImmutableMember(c.spec.source.volumeHandle, old.spec.source.volumeHandle, src,
                          "volumeHandle", errs);
  ValidateImmutableMember(c.spec.source.snapshotHandle, old.spec.source.snapshotHandle, src,
                          "snapshotHandle", errs);
  return errs;
}

// ---- VolumeSnapshotClass ------------------------------------------------------------------------

ErrorList ValidateVolumeSnapshotClass(const VolumeSnapshotClass& c) {
  ErrorList errs = ValidateObjectMeta(c.metadata, false, NameIsDNSSubdomain, Path("metadata"));
  ValidateDeletionPolicy(c.deletionPolicy, Path("deletionPolicy"), errs);
  if (c.driver.empty()) errs.push_back(Required(Path("driver"), ""));
  return errs;
}

ErrorList ValidateVolumeSnapshotClassUpdate(const VolumeSnapshotClass& c,
                                            const VolumeSnapshotClass& old) {
  return ValidateObjectMetaUpdate(c.metadata, old.metadata, Path("metadata"));
}

}  // namespace kvol::api
