// Internal to kvol_node: one pod worker's state (pod_worker_pool.h).
// The records (init, regular...) are written only by the worker's own thread (and by
// Reconstruct before that thread starts); what other threads read (the log server) is copied
// into `published` under `mu`.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "pod_worker_pool.h"

namespace kvol::node {

struct PodWorkers::Worker {
  using Clock = std::chrono::steady_clock;
  std::string uid;

  // Shared with other threads, under mu.
  std::mutex mu;
  std::condition_variable cv;
  api::Pod pod;  // the latest from the watch
  bool gone = false, dirty = true, shutdown = false, clean = false;
  std::set<std::string> exited;  // container ids the runtime reported exited
  Clock::time_point wakeAt = Clock::now();
  struct Published {
    int restartCount = 0;
    std::string id;
    bool running = false;
    std::string waitingReason;
  };
  std::map<std::string, Published> published;
  bool finishedFlag = false;
  std::thread thread;

  // The worker thread's own.
  std::vector<ContainerRecord> init, regular;
  bool sandboxReady = false;
  runtime::Sandbox sandbox;
  std::string addedRv;
  std::optional<api::PodStatus> lastStatus;
  std::string lastStatusJson;
  std::mutex startMu;  // containers of one pod start in parallel: guards the five below
  bool hostsWritten = false;
  struct DeferredEvent {
    std::string type, reason, message;
  };
  bool deferEvents = false;  // set by Sync while containers start; WriteStatus sends them
  std::vector<DeferredEvent> deferredEvents;
  std::map<std::string, Backoff> imageBackoff;
  std::map<std::string, int> imageFailures;

  void Publish() {
    std::lock_guard<std::mutex> l(mu);
    for (const auto* list : {&init, &regular}) {
      for (const auto& r : *list) {
        Published p;
        p.restartCount = r.restartCount;
        p.id = r.id;
        p.running = !r.id.empty() && (r.rt.state == runtime::State::kRunning ||
                                      r.rt.state == runtime::State::kCreated);
        p.waitingReason = r.waitingReason;
        published[r.name] = p;
      }
    }
  }
  void Finish() {
    Publish();
    std::lock_guard<std::mutex> l(mu);
    finishedFlag = true;
  }
  // Wake the worker by `t` at the latest.
  void WakeBy(Clock::time_point t) {
    std::lock_guard<std::mutex> l(mu);
    if (t < wakeAt) wakeAt = t;
  }
};

}  // namespace kvol::node
