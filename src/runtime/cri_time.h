// Time stamps of the runtime (kvol::runtime, internal): wall-clock nanoseconds since the epoch,
// formatted as RFC 3339 in UTC, with 9 fraction digits (the CRI log's RFC3339Nano, fixed width as
// the kubelet writes it) or none (the API's startedAt/finishedAt).
// Thread safety: pure functions.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace kvol::runtime {

int64_t NowRealtime();                         // CLOCK_REALTIME in ns
std::string FormatRfc3339Nano(int64_t nanos);  // "2026-11-27T07:24:34.123456789Z"
std::string FormatRfc3339(int64_t nanos);      // "2026-11-27T07:24:34Z"
// Parses "YYYY-MM-DDTHH:MM:SS[.frac](Z|+hh:mm|-hh:mm)"; nullopt when malformed.
std::optional<int64_t> ParseRfc3339Nano(std::string_view s);

}  // namespace kvol::runtime
