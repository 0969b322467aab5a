// Server-side apply and field management (kube-apiserver's fieldmanager over
// sigs.k8s.io/structured-merge-diff), on JSON objects.
//
// metadata.managedFields holds one entry per field manager:
//   {manager, operation: Apply|Update, apiVersion, time, fieldsType: FieldsV1, fieldsV1
//    [, subresource]}
// A manager is identified by (manager, operation, subresource) and, for Update, apiVersion.
//
// - Apply(live, config): `config` (the applied configuration) is merged into `live` (null:
//   the object does not exist and is being created). The applier's Apply entry becomes exactly
//   the fields of `config`; fields it applied last time but not now are removed from the object
//   unless another manager owns them (or something below them); a field whose value changes and
//   is owned by another manager is a conflict: without force nothing happens and the conflicts
//   are returned (ConflictMessage gives kube's text), with force the other managers lose it.
//   An object without managedFields is first attributed to "before-first-apply" (Update).
//   Client-side apply upgrade, as kube-apiserver does it: when the manager is "kubectl" and
//   the live object carries kubectl.kubernetes.io/last-applied-configuration, conflicts on
//   fields whose live value still equals the last-applied one are forced; after a successful
//   apply by "kubectl" the annotation is rewritten to the applied configuration.
// - TrackUpdate(live, updated): the bookkeeping of a create/update/patch (operation Update):
//   fields added or changed join the manager's entry (its time set to now), fields removed
//   leave every entry. managedFields present in `updated` (set by the client, e.g. kubectl's
//   migration JSON patch) replace the live ones; `[{}]` clears them. Updates of an existing
//   object without managedFields are not tracked (as kube does).
// Fields never owned: apiVersion, kind, metadata.{name, namespace, uid, resourceVersion,
// generation, creationTimestamp, selfLink, managedFields}; `status` when `ignoreStatus`.
//
// Schemas (list merge keys, sets, atomic lists) come from the strategic-merge-patch schema of
// (apiVersion, kind) — see patch.h. Pure functions; thread-safe; never throw.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "kvol/common/status.h"

namespace kvol::patch {

using json = nlohmann::json;

inline constexpr const char* kLastAppliedAnnotation =
    "kubectl.kubernetes.io/last-applied-configuration";

struct FieldManagerOptions {
  std::string apiVersion;     // the object's, e.g. "v1", "storage.k8s.io/v1"
  std::string kind;           // e.g. "ConfigMap"
  std::string manager;        // e.g. "kubectl", "kubectl-client-side-apply"
  std::string subresource;    // "" or "status"
  std::string now;            // RFC 3339, e.g. "2026-11-27T04:49:44Z"
  bool ignoreStatus = false;  // writes of the main resource of a kind with a status subresource
};

struct ApplyConflict {
  std::string manager;  // as kube prints it: "\"kubectl\"" or "\"x\" using v1"
  std::string field;    // as kube prints it: .data.key, .spec.containers[name="db"].image
};

struct ApplyResult {
  json object;                           // the merged object with its new managedFields
  std::vector<ApplyConflict> conflicts;  // non-empty: refused; `object` is unset
};

// Errors (kBadRequest): `config` not an object, associative-list items without their keys or
// duplicated, malformed managedFields on `live`.
Result<ApplyResult> Apply(const json& live, const json& config, const FieldManagerOptions& o,
                          bool force);

// "Apply failed with 1 conflict: conflict with \"m\" using v1: .data.key" (or the N-conflict
// form, managers sorted, one "- <path>" line per field).
std::string ConflictMessage(const std::vector<ApplyConflict>& conflicts);

// `updated` with metadata.managedFields updated for a non-apply write (`live` null: create).
json TrackUpdate(const json& live, const json& updated, const FieldManagerOptions& o);

// The manager of a non-apply write: ?fieldManager= if set, else the User-Agent up to its first
// '/' (printable characters, at most 128), else "unknown".
std::string ManagerFor(std::string_view fieldManager, std::string_view userAgent);

}  // namespace kvol::patch
