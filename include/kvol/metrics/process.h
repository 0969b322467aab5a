// The process metrics the Prometheus Go client exports (process_* from /proc/self), registered as
// scrape-time functions: process_cpu_seconds_total, process_open_fds, process_max_fds,
// process_virtual_memory_bytes, process_resident_memory_bytes, process_start_time_seconds.
//
// Thread safety: RegisterProcessMetrics may be called any number of times from any thread (it
// re-registers the same functions); the functions read /proc at each scrape.
#pragma once

#include "kvol/metrics/metrics.h"

namespace kvol::metrics {

void RegisterProcessMetrics(Registry& r = Registry::Default());

}  // namespace kvol::metrics
