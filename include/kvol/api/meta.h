// meta/v1 types every object shares: ObjectMeta, OwnerReference, ManagedFieldsEntry,
// LabelSelector, ListMeta. Field names and shapes are exactly Kubernetes'.
//
// Timestamps are RFC 3339 strings in UTC with second precision ("2026-11-27T04:49:44Z"), as the
// API writes them; kvol::api::Now() makes one.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "kvol/api/reflect.h"

namespace kvol::api {

using Time = std::string;  // RFC 3339, UTC, e.g. "2026-11-27T04:49:44Z"; empty when unset
Time Now();
// Seconds since the epoch for a Time; 0 when empty or malformed.
int64_t ParseTime(const Time& t);
Time FormatTime(int64_t unixSeconds);

struct OwnerReference {
  std::string apiVersion;
  std::string kind;
  std::string name;
  std::string uid;
  std::optional<bool> controller;
  std::optional<bool> blockOwnerDeletion;
  KVOL_REFLECT(OwnerReference, apiVersion, kind, name, uid, controller, blockOwnerDeletion)
};

struct ManagedFieldsEntry {
  std::string manager;
  std::string operation;  // Apply | Update
  std::string apiVersion;
  Time time;
  std::string fieldsType;  // FieldsV1
  json fieldsV1;
  std::string subresource;
  KVOL_REFLECT(ManagedFieldsEntry, manager, operation, apiVersion, time, fieldsType, fieldsV1,
               subresource)
};

struct ObjectMeta {
  std::string name;
  std::string generateName;
  std::string namespace_;
  std::string selfLink;
  std::string uid;
  std::string resourceVersion;
  int64_t generation = 0;
  Time creationTimestamp;
  std::optional<Time> deletionTimestamp;
  std::optional<int64_t> deletionGracePeriodSeconds;
  std::map<std::string, std::string> labels;
  std::map<std::string, std::string> annotations;
  std::vector<OwnerReference> ownerReferences;
  std::vector<std::string> finalizers;
  std::vector<ManagedFieldsEntry> managedFields;
  KVOL_REFLECT(ObjectMeta, name, generateName, namespace_, selfLink, uid, resourceVersion,
               generation, creationTimestamp, deletionTimestamp, deletionGracePeriodSeconds, labels,
               annotations, ownerReferences, finalizers, managedFields)
};

struct ListMeta {
  std::string resourceVersion;
  std::string continue_;
  std::optional<int64_t> remainingItemCount;
  KVOL_REFLECT(ListMeta, resourceVersion, continue_, remainingItemCount)
};

struct LabelSelectorRequirement {
  std::string key;
  std::string operator_;  // In | NotIn | Exists | DoesNotExist
  std::vector<std::string> values;
  KVOL_REFLECT(LabelSelectorRequirement, key, operator_, values)
};

struct LabelSelector {
  std::map<std::string, std::string> matchLabels;
  std::vector<LabelSelectorRequirement> matchExpressions;
  KVOL_REFLECT(LabelSelector, matchLabels, matchExpressions)
};

// metav1.Condition (used by newer types); core/v1 objects have their own condition structs.
struct Condition {
  std::string type;
  std::string status;  // True | False | Unknown
  int64_t observedGeneration = 0;
  Time lastTransitionTime;
  std::string reason;
  std::string message;
  KVOL_REFLECT(Condition, type, status, observedGeneration, lastTransitionTime, reason, message)
};

// TypedLocalObjectReference / TypedObjectReference (PVC dataSource, dataSourceRef).
struct TypedLocalObjectReference {
  std::optional<std::string> apiGroup;
  std::string kind;
  std::string name;
  KVOL_REFLECT(TypedLocalObjectReference, apiGroup, kind, name)
};

struct TypedObjectReference {
  std::optional<std::string> apiGroup;
  std::string kind;
  std::string name;
  std::optional<std::string> namespace_;
  KVOL_REFLECT(TypedObjectReference, apiGroup, kind, name, namespace_)
};

// core/v1 ObjectReference (PV claimRef, Event involvedObject).
struct ObjectReference {
  std::string kind;
  std::string namespace_;
  std::string name;
  std::string uid;
  std::string apiVersion;
  std::string resourceVersion;
  std::string fieldPath;
  KVOL_REFLECT(ObjectReference, kind, namespace_, name, uid, apiVersion, resourceVersion, fieldPath)
};

struct LocalObjectReference {
  std::string name;
  KVOL_REFLECT(LocalObjectReference, name)
};

}  // namespace kvol::api
