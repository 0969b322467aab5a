// Patch library: the three PATCH body types kube-apiserver accepts, applied to JSON objects,
// plus the patch computation kvol's own CLI needs for `kvol apply`.
//
//   application/merge-patch+json           -> ApplyMergePatch          (RFC 7386)
//   application/json-patch+json            -> ApplyJsonPatch           (RFC 6902)
//   application/strategic-merge-patch+json -> ApplyStrategicMergePatch (Kubernetes SMP)
//
// Contract:
// - Pure functions over values: inputs are never modified; no global mutable state; safe to
//   call from any thread at once.
// - Never throw: malformed input becomes a non-OK Status.
// - Status codes follow kube-apiserver (staging/src/k8s.io/apiserver/pkg/endpoints/handlers/
//   patch.go, interpretStrategicMergePatchError):
//     * JSON patch: a body that is not an array of objects -> kBadRequest; any operation that
//       cannot be applied (path missing, index out of range, failed "test", unknown op) ->
//       kInvalid, message "json patch operation <i> (<op> <path>): <why>", e.g.
//       `json patch operation 0 (test /metadata/labels/A): testing value /metadata/labels/A
//       failed`. kube-apiserver answers these with 422 reason Invalid, message "the server
//       rejected our request due to an error in our request" and no causes (kubectl prints
//       `The request is invalid: the server rejected our request due to an error in our
//       request`); our message is the detail to log.
//     * SMP: malformed directives ("invalid patch format of retainKeys|primitive list|
//       setElementOrder list") and a non-object patch -> kBadRequest; lists of lists ->
//       kInvalid (422); everything else kube answers 500 with the raw message -> kInternal
//       (missing merge key "map: {...} does not contain declared merge key: name", unknown
//       `$patch` value, `$patch: merge` in a list, $setElementOrder order mismatch).
//     * Patches nested deeper than 256 levels -> kBadRequest.
// - Strategic merge patch directives (`$patch`, `$retainKeys`, `$setElementOrder/<f>`,
//   `$deleteFromPrimitiveList/<f>`) are honoured and never appear in the result.
// - The "no change" check is the caller's: compare the result with the input (operator==).
//
// Schemas: SMP merge keys / strategies are hard-coded per kind (see smp_schema.cc) for Pod,
// PodTemplate, StatefulSet, Deployment, ReplicaSet, DaemonSet, Job, CronJob, Node,
// PersistentVolume(Claim), StorageClass, ConfigMap, Secret, Namespace, Event, VolumeAttachment,
// CSIDriver, CSINode. metadata.ownerReferences (key uid) and metadata.finalizers (primitive
// union) merge for every built-in kind. A kind of a non-built-in group (CRDs such as
// snapshot.storage.k8s.io VolumeSnapshot) is patched with an empty schema: maps merge as in
// RFC 7386, every list is replaced, directives are still honoured and stripped — for a patch
// without `$` keys that is exactly a JSON merge patch. HasStrategicMergeSchema() tells the API
// server whether a kind is built-in, so it can answer 415 for CRDs like kube-apiserver does.
#pragma once

#include <string_view>

#include <nlohmann/json.hpp>

#include "kvol/common/status.h"

namespace kvol::patch {

using json = nlohmann::json;

// RFC 7386 JSON merge patch (application/merge-patch+json). A non-object patch replaces the
// target (the caller must reject a result that is not an object). Fails only on nesting.
Result<json> ApplyMergePatch(const json& target, const json& patch);

// RFC 6902 JSON patch (application/json-patch+json): add, remove, replace, move, copy, test.
// Pointers follow RFC 6901 (~0 is '~', ~1 is '/'); "-" appends to an array for add/move/copy.
// All operations apply or none (the target is untouched on error).
Result<json> ApplyJsonPatch(const json& target, const json& patch);

// True when (apiVersion, kind) is a built-in kind kube-apiserver accepts SMP for.
bool HasStrategicMergeSchema(std::string_view apiVersion, std::string_view kind);

// Strategic merge patch (application/strategic-merge-patch+json). apiVersion + kind select the
// schema of list merge keys / strategies (see the header comment for kinds without one).
Result<json> ApplyStrategicMergePatch(const json& target, const json& patch,
                                      std::string_view apiVersion, std::string_view kind);

// Computes an RFC 7386 merge patch turning `from` into `to`: ApplyMergePatch(from, result) == to
// whenever `to` holds no null values inside objects. Identical inputs give {}.
json CreateMergePatch(const json& from, const json& to);

// Computes a three-way strategic merge patch like kubectl's client-side apply
// (strategicpatch.CreateThreeWayMergePatch with overwrite=true):
//   original = last-applied configuration, modified = the new manifest, current = live object.
// Fields in `original` but not in `modified` are deleted (null / `$patch: delete` /
// `$deleteFromPrimitiveList`); fields present in `modified` are set to their value;
// fields set by others (in `current` only) are left alone. Merged lists carry
// `$setElementOrder/<field>`. Returns {} when nothing needs to change.
// Errors (kBadRequest) when the inputs are not objects.
Result<json> CreateThreeWayStrategicPatch(const json& original, const json& modified,
                                          const json& current, std::string_view apiVersion,
                                          std::string_view kind);

}  // namespace kvol::patch
