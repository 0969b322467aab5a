// Schema-driven walks over JSON objects for server-side apply (structured-merge-diff's typed
// package): the field set of an applied configuration, merging it into a live object,
// comparing two objects, and removing owned fields.
//
// The schema is the strategic-merge-patch one (smp_schema.h): a list with a merge key is an
// associative list (path elements k:{...}; containers.ports are keyed by containerPort and
// protocol, protocol defaulting to "TCP" as in k8s.io/api), a merge list without a key is a set
// (v:...), every other list is atomic (owned and replaced whole). A few struct fields that
// k8s.io/api marks +structType=atomic (label selectors, claimRef, dataSource[Ref]) are atomic.
//
// Internal to kvol_patch. Pure functions; thread-safe.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "fieldset.h"
#include "kvol/common/status.h"

namespace kvol::patch::internal {

struct TypeSchema;

enum class ListType { kAtomic, kSet, kMap };

struct KeyField {
  std::string name;
  json dflt;  // null: the key field is required
};

// How one JSON value is walked.
struct Shape {
  const TypeSchema* type = nullptr;  // fields of an object, or of the items of a kMap list
  bool atomic = false;               // an object owned and replaced whole
  ListType list = ListType::kAtomic;
  std::vector<KeyField> keys;  // kMap
};

Shape RootShape(std::string_view apiVersion, std::string_view kind);

// The set of fields `config` sets (typed.ToFieldSet). Errors (kBadRequest) for list items of
// an associative list without their key fields, and duplicate items.
Result<FieldSet> ToFieldSet(const json& config, const Shape& shape);

// `config` merged into `live` (typed.Merge): objects merge field by field, associative lists by
// key (live order, new items appended), sets are united, everything else is replaced.
Result<json> Merge(const json& live, const json& config, const Shape& shape);

struct Comparison {
  FieldSet added, modified, removed;
};
// What changed from lhs to rhs (typed.Compare). Fields that Go's zero value of the parent struct
// always carries (metadata, spec, containers...) count as present when absent, so adding into
// them does not own the parent itself.
Comparison Compare(const json& lhs, const json& rhs, const Shape& shape);

// `obj` without the members of `set` (each removed with everything below it). With `owned`,
// objects and lists emptied by the removal go too unless something at or below them is owned.
json RemoveItems(const json& obj, const FieldSet& set, const Shape& shape,
                 const FieldSet* owned = nullptr);

// Removes null values inside objects (an applied `field: null` unsets the field).
void DropNulls(json& v);

}  // namespace kvol::patch::internal
