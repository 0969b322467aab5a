// RFC 3339 time stamps (see cri_time.h).
#include "src/runtime/cri_time.h"

#include "kvol/api/rfc3339.h"

#include <time.h>

#include <cstdio>

namespace kvol::runtime {

namespace {

std::string FormatBase(int64_t nanos, bool withFraction) {
  int64_t secs = nanos / 1000000000;
  int64_t frac = nanos % 1000000000;
  if (frac < 0) {
    frac += 1000000000;
    --secs;
  }
  time_t t = static_cast<time_t>(secs);
  struct tm tm {};
  gmtime_r(&t, &tm);
  char buf[64];
  if (withFraction) {
    std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%09lldZ", tm.tm_year + 1900,
                  tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                  static_cast<long long>(frac));
  } else {
    std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02dZ", tm.tm_year + 1900,
                  tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
  }
  return buf;
}

}  // namespace

int64_t NowRealtime() {
  timespec ts{};
  clock_gettime(CLOCK_REALTIME, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1000000000 + ts.tv_nsec;
}

std::string FormatRfc3339Nano(int64_t nanos) { return FormatBase(nanos, true); }
std::string FormatRfc3339(int64_t nanos) { return FormatBase(nanos, false); }

std::optional<int64_t> ParseRfc3339Nano(std::string_view s) { return api::ParseRfc3339Nanos(s); }

}  // namespace kvol::runtime
