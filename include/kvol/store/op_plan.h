// Backend-independent write semantics: what one Op does to one key given the key's current
// state (preconditions, Kubernetes' finalizer rule). Every Store backend plans its writes with
// PlanOp so the rules exist once.
//
// - Create of an existing key: kAlreadyExists `key "<key>" already exists`.
// - Update/Delete of a missing key: kNotFound `key "<key>" not found`.
// - expectedRevision != kAnyRevision and != the current modRevision: kConflict naming the key and
//   both revisions.
// - Delete (not forced) of an object with metadata.finalizers: sets metadata.deletionTimestamp
//   (`now`) and metadata.deletionGracePeriodSeconds = 0 (and bumps a non-zero generation, as the
//   API server does); if it is already marked, nothing is written.
// - Update leaving metadata.deletionTimestamp set and no finalizers: the key is deleted.
// The planned value never carries metadata.resourceVersion (it is not stored).
//
// Thread safety: pure functions.
#pragma once

#include <string>

#include "kvol/store/store.h"

namespace kvol::store {

struct PlannedWrite {
  enum class Kind { kNone, kPut, kDelete };
  Kind kind = Kind::kNone;
  json value;            // kPut: the value to store; kDelete/kNone: the last state
  bool created = false;  // kPut of a key that did not exist
};

// `current` is nullptr when the key does not exist. `now` is an RFC 3339 UTC time.
Result<PlannedWrite> PlanOp(const Op& op, const Object* current, const std::string& now);
// Same, but moves op.value into the plan instead of copying it (op.value is left unspecified;
// on an error it is untouched).
Result<PlannedWrite> PlanOp(Op&& op, const Object* current, const std::string& now);

// Returns `v` without metadata.resourceVersion.
json StripResourceVersion(json v);
// Sets metadata.resourceVersion = decimal `rev` (creating metadata when `v` is an object).
void SetResourceVersion(json& v, Revision rev);
bool HasFinalizers(const json& v);
bool HasDeletionTimestamp(const json& v);

// The smallest string greater than every string starting with `prefix` ("\xff" for "").
std::string PrefixEnd(const std::string& prefix);

}  // namespace kvol::store
