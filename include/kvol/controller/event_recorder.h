// EventRecorder: writes core/v1 Events about objects, aggregated as Kubernetes' recorder does.
//
// - Event(obj, type, reason, message): obj is the involved object's JSON (apiVersion, kind,
//   metadata). The Event lives in the object's namespace ("default" for cluster-scoped objects
//   such as PersistentVolumes, as in Kubernetes), is named "<object-name>.<hex nanoseconds>",
//   and carries involvedObject {kind, namespace, name, uid, apiVersion, resourceVersion},
//   reason, message, type (Normal|Warning), source.component, reportingComponent,
//   firstTimestamp, lastTimestamp and count.
// - The same (object uid, type, reason, message) seen again bumps count and lastTimestamp of the
//   existing Event instead of creating a new one, so `kubectl describe` prints "(x3 over 2m)".
//   The aggregation memory is per recorder (like client-go's per-process cache); if the Event was
//   deleted meanwhile a new one is created.
// - Unbuffered (default): each Event() is written at once (one Txn). Buffered: Event() only
//   queues, and Flush() writes everything queued with one TxnBatch (one fsync) - controllers that
//   work in passes flush at the end of each pass. A failed write is dropped (events are best
//   effort) and counted in Dropped().
//
// Thread safety: every method may be called from any thread.
#pragma once

#include <atomic>
#include <functional>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "kvol/api/meta.h"
#include "kvol/store/store.h"

namespace kvol::controller {

inline constexpr const char* kEventNormal = "Normal";
inline constexpr const char* kEventWarning = "Warning";

class EventRecorder {
 public:
  EventRecorder(store::Store& s, std::string component, std::string host = "",
                bool buffered = false)
      : store_(s), component_(std::move(component)), host_(std::move(host)), buffered_(buffered) {}

  void Event(const store::json& obj, const std::string& type, const std::string& reason,
             const std::string& message);
  // Writes what Event() queued (buffered mode); a no-op otherwise.
  void Flush();

  // Test hook: the clock used for timestamps and names (unix nanoseconds).
  void SetClockForTest(std::function<int64_t()> nowNanos) { nowNanos_ = std::move(nowNanos); }
  int64_t Dropped() const { return dropped_.load(); }

 private:
  struct Seen {
    std::string key;    // store key of the Event
    store::json event;  // as last written
  };
  int64_t NowNanos();
  void FlushLocked();

  store::Store& store_;
  std::string component_;
  std::string host_;
  std::function<int64_t()> nowNanos_;
  std::mutex mu_;
  bool buffered_;
  std::map<std::string, Seen> seen_;   // aggregation key -> event
  std::vector<std::string> dirty_;     // aggregation keys to write
  std::map<std::string, bool> isNew_;  // aggregation key -> not yet in the store
  std::set<std::string> keys_;         // store keys of the Events in seen_
  std::atomic<int64_t> dropped_{0};
};

}  // namespace kvol::controller
