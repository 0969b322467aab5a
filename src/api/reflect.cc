#include "kvol/api/reflect.h"

namespace kvol::api::detail {

void TypeError(const json& j, const Path& p, const char* want, DecodeContext& ctx) {
  ctx.errors.push_back(TypeInvalid(p, j.is_structured() ? json(j.type_name()) : j,
                                   std::string("expected ") + want + ", got " + j.type_name()));
}

}  // namespace kvol::api::detail
