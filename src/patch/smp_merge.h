// Strategic merge patch: merging a patch map into an original map (strategicpatch.mergeMap).
// Used server-side (apply a patch: directives are executed and stripped) and client-side
// (combine the deletions patch with the changes patch in a three-way diff: directives kept).
// Stateless functions; thread-safe.
#pragma once

#include <nlohmann/json.hpp>

#include "kvol/common/status.h"
#include "smp_schema.h"

namespace kvol::patch::internal {

using json = nlohmann::json;

inline constexpr const char* kDirectiveMarker = "$patch";
inline constexpr const char* kRetainKeys = "$retainKeys";
inline constexpr const char* kDeleteFromPrimitiveListPrefix = "$deleteFromPrimitiveList";
inline constexpr const char* kSetElementOrderPrefix = "$setElementOrder";

struct MergeOptions {
  // true server-side: execute $deleteFromPrimitiveList/$retainKeys/$setElementOrder, drop nulls
  // and strip every directive from the result. false when merging two patches (client side).
  bool server = true;
};

// Merges `patch` (an object) into `original` (an object) following `schema`.
// Errors carry kube-apiserver's status codes and messages (see patch.h).
Result<json> MergeMap(json original, json patch, const TypeSchema& schema, const MergeOptions& opts,
                      int depth = 0);

}  // namespace kvol::patch::internal
