// Kubernetes' shared validators: names, label keys/values, ObjectMeta, label selectors and
// quantities, with Kubernetes' exact wording (k8s.io/apimachinery/pkg/util/validation,
// pkg/api/validation/objectmeta.go, apis/meta/v1/validation).
//
// The Is* functions return Kubernetes' message list (empty = valid), e.g. IsDNS1123Subdomain
// ("Bad_Name") -> {"a lowercase RFC 1123 subdomain must consist of ... (e.g. 'example.com', regex
// used for validation is '...')"}. The Validate* functions return an ErrorList of FieldErrors with
// the path given, e.g. `metadata.name: Invalid value: "Bad_Name": a lowercase RFC 1123 ...`.
//
// Thread safety: pure functions.
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "kvol/api/field_errors.h"
#include "kvol/api/meta.h"
#include "kvol/api/quantity.h"

namespace kvol::api {

// ---- Messages and limits (k8s.io/apimachinery/pkg/util/validation) ---------------------------
inline constexpr size_t kDNS1123LabelMaxLength = 63;
inline constexpr size_t kDNS1123SubdomainMaxLength = 253;
inline constexpr size_t kQualifiedNameMaxLength = 63;
inline constexpr size_t kLabelValueMaxLength = 63;
inline constexpr size_t kTotalAnnotationSizeLimitB = 256 * 1024;
inline constexpr const char* kFieldImmutableErrorMsg = "field is immutable";
inline constexpr const char* kIsNegativeErrorMsg = "must be greater than or equal to 0";

// "must be no more than 63 characters"
std::string MaxLenError(size_t length);
// "must be non-empty"
std::string EmptyError();
// msg + " (e.g. 'a',  or 'b', regex used for validation is 'fmt')" — Kubernetes' exact shape,
// including its double space before "or".
std::string RegexError(std::string_view msg, std::string_view fmt,
                       const std::vector<std::string>& examples);

// ---- Name checks: message lists, empty when valid -------------------------------------------
std::vector<std::string> IsDNS1123Label(std::string_view value);
std::vector<std::string> IsDNS1123Subdomain(std::string_view value);
// Label and annotation keys: [prefix/]name; prefix a DNS subdomain, name <= 63 characters.
std::vector<std::string> IsQualifiedName(std::string_view value);
std::vector<std::string> IsValidLabelValue(std::string_view value);

// ValidateNameFunc: `prefix` is true when checking a generateName (a trailing '-' is allowed).
using NameValidator = std::function<std::vector<std::string>(std::string_view name, bool prefix)>;
// Most kinds (PV, PVC, ConfigMap, Secret, Pod, StorageClass...).
std::vector<std::string> NameIsDNSSubdomain(std::string_view name, bool prefix);
// Namespaces, Services.
std::vector<std::string> NameIsDNSLabel(std::string_view name, bool prefix);
// Namespace names (= NameIsDNSLabel).
std::vector<std::string> ValidateNamespaceName(std::string_view name, bool prefix);

// ---- Field-path-aware helpers ---------------------------------------------------------------
// metadata on create: name (required unless generateName is set; checked with `nameFn`),
// generateName, namespace (required iff `namespaced`, else "Forbidden: not allowed on this type"),
// generation >= 0, labels, annotations (qualified keys, total size 256KiB), ownerReferences,
// finalizers (qualified names).
ErrorList ValidateObjectMeta(const ObjectMeta& meta, bool namespaced, const NameValidator& nameFn,
                             const Path& path);
// metadata on update: name, namespace, uid, creationTimestamp, deletionTimestamp,
// deletionGracePeriodSeconds, selfLink are immutable ("field is immutable"); resourceVersion
// must be set ("must be specified for an update": the caller copies the stored one in first
// for unconditional updates, as Kubernetes does); generation must not decrease; no new
// finalizers once deletionTimestamp is set; labels, annotations, ownerReferences re-checked.
ErrorList ValidateObjectMetaUpdate(const ObjectMeta& newMeta, const ObjectMeta& oldMeta,
                                   const Path& path);

// Labels map: keys qualified names, values valid label values; errors at `path` itself.
ErrorList ValidateLabels(const std::map<std::string, std::string>& labels, const Path& path);
ErrorList ValidateAnnotations(const std::map<std::string, std::string>& annotations,
                              const Path& path);
ErrorList ValidateOwnerReferences(const std::vector<OwnerReference>& refs, const Path& path);
ErrorList ValidateFinalizers(const std::vector<std::string>& finalizers, const Path& path);
// metav1.LabelSelector: matchLabels, matchExpressions[i].{operator,values,key}.
ErrorList ValidateLabelSelector(const LabelSelector& selector, const Path& path);

// Quantities and integers: "must be greater than or equal to 0".
ErrorList ValidateNonNegativeQuantity(const Quantity& q, const Path& path);
// "must be greater than zero".
ErrorList ValidatePositiveQuantity(const Quantity& q, const Path& path);
ErrorList ValidateNonNegativeField(int64_t value, const Path& path);
// `field is immutable` when newValue != oldValue.
ErrorList ValidateImmutableField(const json& newValue, const json& oldValue, const Path& path);

}  // namespace kvol::api
