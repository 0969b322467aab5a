// application/strategic-merge-patch+json: the public entry points.
#include <exception>

#include "kvol/patch/patch.h"
#include "smp_merge.h"
#include "smp_schema.h"

namespace kvol::patch {

bool HasStrategicMergeSchema(std::string_view apiVersion, std::string_view kind) {
  return !kind.empty() && internal::IsBuiltinGroup(apiVersion);
}

Result<json> ApplyStrategicMergePatch(const json& target, const json& patch,
                                      std::string_view apiVersion, std::string_view kind) {
  try {
    if (!patch.is_object())
      return BadRequest(std::string("json: cannot unmarshal ") + patch.type_name() +
                        " into Go value of type map[string]interface {}");
    if (!target.is_object() && !target.is_null()) return BadRequest("invalid JSON document");
    internal::MergeOptions opts;
    opts.server = true;
    return internal::MergeMap(target.is_null() ? json::object() : target, patch,
                              internal::SchemaFor(apiVersion, kind), opts);
  } catch (const std::exception& e) {
    return BadRequest(std::string("invalid strategic merge patch: ") + e.what());
  }
}

}  // namespace kvol::patch
