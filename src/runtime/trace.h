// Internal to kvol_runtime: KVOL_NODE_TRACE=1 timeline lines for the container start path, in the
// same format and clock as the node agent's (src/node/pod_worker_state.h): "kvol node trace:
// <CLOCK_MONOTONIC ms> <id> <what>" on stderr (the agent's, or the shim's shim.log). Costs one
// getenv per process when off.
//
// Thread safety: safe from any thread (one fprintf per line).
#pragma once

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>

namespace kvol::runtime {

inline bool TraceOn() {
  static const bool on = std::getenv("KVOL_NODE_TRACE") != nullptr;
  return on;
}

inline void RtTrace(const std::string& id, const char* what) {
  if (!TraceOn()) return;
  auto ms =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now().time_since_epoch())
          .count();
  std::fprintf(stderr, "kvol node trace: %.3f %s %s\n", ms, id.c_str(), what);
}

}  // namespace kvol::runtime
