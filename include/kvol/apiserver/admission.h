// Mutating admission kvol applies to new objects, as kube-apiserver's default plugins do:
// - DefaultStorageClass: a PersistentVolumeClaim created without spec.storageClassName (absent
//   or null; "" is kept, it means "no class") gets the default class: among the StorageClasses
//   annotated storageclass.kubernetes.io/is-default-class "true" (or the beta annotation), the
//   newest by creationTimestamp (then by name), as Kubernetes picks when several are marked.
// - StorageObjectInUseProtection: kubernetes.io/pvc-protection on new claims and
//   kubernetes.io/pv-protection on new volumes.
//
// Thread safety: stateless; reads the Store.
#pragma once

#include <optional>
#include <string>

#include "kvol/api/scheme.h"
#include "kvol/common/status.h"
#include "kvol/store/store.h"

namespace kvol::apiserver {

inline constexpr const char* kDefaultClassAnnotation =
    "storageclass.kubernetes.io/is-default-class";
inline constexpr const char* kBetaDefaultClassAnnotation =
    "storageclass.beta.kubernetes.io/is-default-class";
inline constexpr const char* kPvcProtectionFinalizer = "kubernetes.io/pvc-protection";
inline constexpr const char* kPvProtectionFinalizer = "kubernetes.io/pv-protection";

// The name of the default StorageClass, or nullopt when none is marked default.
Result<std::optional<std::string>> DefaultStorageClass(store::Store& s);

// Applies the admission plugins above to `obj` (a canonical object of kind `info`) being created.
Status AdmitCreate(store::Store& s, const api::ResourceInfo& info, api::json& obj);

}  // namespace kvol::apiserver
