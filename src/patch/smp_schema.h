// Strategic-merge-patch schema: for each field of a built-in kind, how lists and maps merge
// (the Go struct tags patchStrategy / patchMergeKey of k8s.io/api, hard-coded here).
//
// A TypeSchema describes one JSON object type: its fields that have a patch strategy or a nested
// type that does. Fields not listed have no strategy: maps merge, lists are replaced.
// Schemas are built once (function-local statics) and immutable: safe from any thread.
#pragma once

#include <map>
#include <string>
#include <string_view>

namespace kvol::patch::internal {

struct TypeSchema;

struct FieldMeta {
  bool merge = false;       // patchStrategy "merge" (lists: merge by key / union of primitives)
  bool replace = false;     // patchStrategy "replace" (maps: take the patch value whole)
  bool retainKeys = false;  // patchStrategy "retainKeys" (alone or with merge)
  std::string mergeKey;     // patchMergeKey; empty for lists of primitives
  const TypeSchema* type = nullptr;  // schema of the map, or of a list's elements
};

struct TypeSchema {
  std::map<std::string, FieldMeta, std::less<>> fields;
  // The metadata of `name`, or the empty (no strategy, no nested type) metadata.
  const FieldMeta& Field(std::string_view name) const;
};

// An empty schema: everything merges as RFC 7386, every list is replaced.
const TypeSchema& EmptySchema();

// The schema of a whole object of (apiVersion, kind); EmptySchema() for unknown kinds.
const TypeSchema& SchemaFor(std::string_view apiVersion, std::string_view kind);

// True for the API groups of kube-apiserver's built-in kinds.
bool IsBuiltinGroup(std::string_view apiVersion);

}  // namespace kvol::patch::internal
