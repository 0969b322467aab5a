// Scheme: every kind kvol serves, what the API server and the CLI need to know about it, and
// the typed operations on its JSON (decode/normalise, default, validate).
//
// The list of kinds is explicit (RegisterAllKinds calls one Register<Group> function per API
// group, each in its own file), not self-registration. A kind is looked up by
// (group, version, resource) for REST paths, by (apiVersion, kind) for manifests, and by short name
// or plural/singular name for the CLI.
//
// Thread safety: built once at start-up (Default()), read-only afterwards.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "kvol/api/field_errors.h"
#include "kvol/api/reflect.h"
#include "kvol/common/status.h"

namespace kvol::api {

struct ResourceInfo {
  std::string group;     // "" for the core group
  std::string version;   // "v1"
  std::string kind;      // "PersistentVolumeClaim"
  std::string resource;  // "persistentvolumeclaims"
  std::string singular;  // "persistentvolumeclaim"
  bool namespaced = true;
  std::vector<std::string> shortNames;  // {"pvc"}
  std::vector<std::string> categories;  // {"all"}
  bool hasStatus = false;               // has a /status subresource
  // Field selectors the API accepts for this kind besides metadata.name and metadata.namespace
  // (e.g. "spec.nodeName", "status.phase", "involvedObject.name").
  std::vector<std::string> selectableFields;

  std::string ApiVersion() const { return group.empty() ? version : group + "/" + version; }
  std::string ListKind() const { return kind + "List"; }
};

// The outcome of decoding one object: the canonical JSON (typed decode, then encode), the
// unknown fields it dropped (full paths), and type errors.
struct Decoded {
  json object;
  std::vector<std::string> unknownFields;
  ErrorList errors;
};

// Typed operations of one kind, over its JSON.
class KindOps {
 public:
  virtual ~KindOps() = default;
  virtual const ResourceInfo& info() const = 0;
  // Decodes into the typed struct and encodes it back.
  virtual Decoded Normalize(const json& in) const = 0;
  // Kubernetes' defaulting, on a canonical object (also folds Secret stringData into data).
  virtual json Default(const json& obj) const = 0;
  // Validation of a new object (after defaulting).
  virtual ErrorList ValidateCreate(const json& obj) const = 0;
  // Validation of an update: everything ValidateCreate checks plus immutable fields.
  virtual ErrorList ValidateUpdate(const json& obj, const json& old) const = 0;
};

class Scheme {
 public:
  Status Register(std::unique_ptr<KindOps> ops);  // error on a duplicate kind or resource

  const KindOps* ByResource(std::string_view group, std::string_view version,
                            std::string_view resource) const;
  const KindOps* ByKind(std::string_view apiVersion, std::string_view kind) const;
  // "pvc", "persistentvolumeclaim", "persistentvolumeclaims", "PersistentVolumeClaim",
  // "pvc.v1.", "volumesnapshots.snapshot.storage.k8s.io" ... as kubectl resolves them.
  const KindOps* ByName(std::string_view name) const;
  const std::vector<std::unique_ptr<KindOps>>& all() const { return kinds_; }

  // The scheme with every kind kvol serves.
  static const Scheme& Default();

 private:
  std::vector<std::unique_ptr<KindOps>> kinds_;
};

// One function per API group, each in its own file (types_<group>.cc / register_<group>.cc).
void RegisterCoreV1(Scheme& s);      // Namespace, Node, Pod, PV, PVC, ConfigMap, Secret, Event
void RegisterStorageV1(Scheme& s);   // StorageClass, VolumeAttachment, CSIDriver
void RegisterAppsV1(Scheme& s);      // StatefulSet, Deployment
void RegisterSnapshotV1(Scheme& s);  // VolumeSnapshot, VolumeSnapshotContent, VolumeSnapshotClass

// TypedKindOps<T>: KindOps for a reflected struct T with its defaulter and validators.
template <class T>
class TypedKindOps : public KindOps {
 public:
  using Defaulter = void (*)(T&);
  using Validator = ErrorList (*)(const T&);
  using UpdateValidator = ErrorList (*)(const T& obj, const T& old);

  TypedKindOps(ResourceInfo info, Defaulter d, Validator v, UpdateValidator u)
      : info_(std::move(info)), default_(d), validate_(v), validateUpdate_(u) {}

  const ResourceInfo& info() const override { return info_; }

  Decoded Normalize(const json& in) const override {
    Decoded out;
    DecodeContext ctx;
    T obj{};
    FromJson(in, obj, ctx);
    out.object = ToJson(obj);
    out.unknownFields = std::move(ctx.unknownFields);
    out.errors = std::move(ctx.errors);
    return out;
  }
  json Default(const json& in) const override {
    T obj = Decode(in);
    if (default_) default_(obj);
    return ToJson(obj);
  }
  ErrorList ValidateCreate(const json& in) const override {
    return validate_ ? validate_(Decode(in)) : ErrorList{};
  }
  ErrorList ValidateUpdate(const json& in, const json& old) const override {
    T a = Decode(in);
    ErrorList errs = validate_ ? validate_(a) : ErrorList{};
    if (validateUpdate_) {
      ErrorList more = validateUpdate_(a, Decode(old));
      errs.insert(errs.end(), more.begin(), more.end());
    }
    return errs;
  }

  static T Decode(const json& in) {
    DecodeContext ctx;
    T obj{};
    FromJson(in, obj, ctx);
    return obj;
  }

 private:
  ResourceInfo info_;
  Defaulter default_;
  Validator validate_;
  UpdateValidator validateUpdate_;
};

// Decodes a canonical object into its typed struct (unknown fields ignored).
template <class T>
T FromJsonLoose(const json& in) {
  return TypedKindOps<T>::Decode(in);
}

}  // namespace kvol::api
