// AppendJson: serializes a JSON value exactly as nlohmann's dump() does (compact, no indent,
// UTF-8 kept as is), appending to `out`, without dump()'s per-string escaping pass: the common
// case (objects, arrays, integers, booleans, ASCII strings with nothing to escape) is copied
// straight; floats, binary values and strings that need escaping or UTF-8 validation are handed
// to dump() itself, so the bytes (and the exception on invalid UTF-8) are the same.
//
// Thread safety: pure function. Used by the SQLite store's write path.
#pragma once

#include <string>

#include "kvol/store/store.h"

namespace kvol::store::sqlite {

void AppendJson(std::string& out, const json& v);

}  // namespace kvol::store::sqlite
