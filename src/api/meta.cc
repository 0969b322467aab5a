#include "kvol/api/meta.h"

#include <chrono>
#include <cstdio>
#include <ctime>

namespace kvol::api {

Time FormatTime(int64_t unixSeconds) {
  std::time_t t = static_cast<std::time_t>(unixSeconds);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

Time Now() {
  auto now = std::chrono::system_clock::now();
  return FormatTime(
      std::chrono::duration_cast<std::chrono::seconds>(now.time_since_epoch()).count());
}

int64_t ParseTime(const Time& t) {
  std::tm tm{};
  int y, mo, d, h, mi, s;
  if (std::sscanf(t.c_str(), "%d-%d-%dT%d:%d:%d", &y, &mo, &d, &h, &mi, &s) != 6) return 0;
  tm.tm_year = y - 1900;
  tm.tm_mon = mo - 1;
  tm.tm_mday = d;
  tm.tm_hour = h;
  tm.tm_min = mi;
  tm.tm_sec = s;
  return static_cast<int64_t>(timegm(&tm));
}

}  // namespace kvol::api
