// Parsing RFC 3339 time stamps as the API and the CRI logs write them (kvol::api):
// "YYYY-MM-DDTHH:MM:SS[.fraction](Z|+hh:mm|-hh:mm)". One parser for the API server's Table ages
// and event ordering and the runtime's log reader.
// Thread safety: pure function.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace kvol::api {

// Nanoseconds since the epoch (fraction digits past the ninth are ignored); nullopt when `s` is
// not such a time stamp. The date and time are separated by 'T' or 't', and also by ' ' when
// spaceSeparator is set.
std::optional<int64_t> ParseRfc3339Nanos(std::string_view s, bool spaceSeparator = false);

}  // namespace kvol::api
