// KVOL_NODE_TRACE=1 timeline lines for the pod start path (API server create, scheduler, node
// agent, runtime, shims): one stderr line per step, "kvol node trace: <CLOCK_MONOTONIC ms> <id>
// <what>", so the lines of the server, the agent and its shims (whose stderr is the agent's)
// merge into one timeline. Costs one getenv
// per process when off.
//
// Thread safety: safe from any thread (one fprintf per line).
#pragma once

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string_view>

namespace kvol {

inline bool NodeTraceOn() {
  static const bool on = std::getenv("KVOL_NODE_TRACE") != nullptr;
  return on;
}

inline void NodeTrace(std::string_view id, std::string_view what) {
  if (!NodeTraceOn()) return;
  auto ms =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now().time_since_epoch())
          .count();
  std::fprintf(stderr, "kvol node trace: %.3f %.*s %.*s\n", ms, static_cast<int>(id.size()),
               id.data(), static_cast<int>(what.size()), what.data());
}

}  // namespace kvol
