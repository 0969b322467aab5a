// WorkQueue: a queue of object keys for level-triggered controllers (client-go's workqueue +
// ItemExponentialFailureRateLimiter).
//
// - De-duplication: a key added several times before a worker takes it is handed out once. A key
//   added while a worker processes it is handed out again after Done() (never to two workers at
//   the same time).
// - AddRateLimited(key): re-adds after a per-key exponential backoff (base * 2^failures, capped at
//   maxDelay); Forget(key) resets the key's failure count (call it after a successful sync).
// - AddAfter(key, d): adds once `d` has passed.
// - Get/GetBatch block until work is ready or ShutDown(); TryGetBatch never blocks.
// - FlushDelayedForTest(): makes every delayed key ready now (deterministic retry in tests).
// - Metrics (client-go's, kvol/metrics default registry) for a queue with Options::name set:
//   workqueue_depth, workqueue_adds_total, workqueue_queue_duration_seconds (add -> Get),
//   workqueue_work_duration_seconds (Get -> Done), workqueue_retries_total (AddAfter and
//   AddRateLimited calls), labelled {name}. Unnamed queues (tests) export nothing.
//
// Thread safety: every method may be called from any thread.
#pragma once

#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "kvol/common/status.h"

namespace kvol::controller {

class WorkQueue {
 public:
  using Clock = std::chrono::steady_clock;
  struct Options {
    std::chrono::milliseconds baseDelay{5};
    std::chrono::milliseconds maxDelay{60000};
    // The metrics' name label ("": no metrics). Initialized so that Options{base, max} draws no
    // -Wmissing-field-initializers.
    std::string name = "";
  };

  WorkQueue() : WorkQueue(Options{}) {}
  explicit WorkQueue(Options opts);
  ~WorkQueue();

  void Add(const std::string& key);
  void AddAfter(const std::string& key, std::chrono::milliseconds delay);
  void AddRateLimited(const std::string& key);
  void Forget(const std::string& key);
  int NumRequeues(const std::string& key);

  // Blocks until a key is ready; false after ShutDown().
  bool Get(std::string* key);
  // Blocks until at least one key is ready, then takes up to `max` ready keys; empty after
  // ShutDown().
  std::vector<std::string> GetBatch(size_t max);
  // Takes up to `max` ready keys without blocking.
  std::vector<std::string> TryGetBatch(size_t max);
  void Done(const std::string& key);

  void ShutDown();
  bool ShuttingDown();
  // Ready keys (not counting delayed or in-process ones).
  size_t Len();
  // Ready + delayed + in process.
  bool Idle();
  void FlushDelayedForTest();

 private:
  void AddLocked(const std::string& key);
  void PromoteDueLocked(Clock::time_point now);
  std::vector<std::string> TakeLocked(size_t max);

  Options opts_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::string> queue_;
  std::unordered_set<std::string> dirty_;
  std::unordered_set<std::string> processing_;
  std::multimap<Clock::time_point, std::string> delayed_;
  std::unordered_map<std::string, int> failures_;
  bool shutdown_ = false;
  struct Metrics;                     // workqueue.cc; null for an unnamed queue
  std::unique_ptr<Metrics> metrics_;  // its per-key times are guarded by mu_
};

// One key of a controller's worker loop: sync(key) OK, or NotFound (the object went meanwhile),
// forgets the key's backoff; another error re-queues it rate-limited. Then Done(key).
void ProcessWorkKey(WorkQueue& q, const std::string& key,
                    const std::function<Status(const std::string&)>& sync);
// The worker loop every controller runs: keys until ShutDown(), each through ProcessWorkKey, then
// afterEach (may be empty; e.g. an EventRecorder's Flush).
void RunWorker(WorkQueue& q, const std::function<Status(const std::string&)>& sync,
               const std::function<void()>& afterEach = nullptr);

}  // namespace kvol::controller
