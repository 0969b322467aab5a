#include "kvol/controller/workqueue.h"

#include <algorithm>

#include "kvol/metrics/metrics.h"

namespace kvol::controller {

// client-go's workqueue metrics (k8s.io/component-base/metrics/prometheus/workqueue), resolved
// once per queue; the per-key times are guarded by the queue's mu_.
struct WorkQueue::Metrics {
  explicit Metrics(const std::string& name) {
    auto& r = metrics::Registry::Default();
    const auto buckets = metrics::ExponentialBuckets(10e-9, 10, 10);
    depth = &r.AddGauge("workqueue_depth", "Current depth of workqueue", {"name"}).With({name});
    adds =
        &r.AddCounter("workqueue_adds_total", "Total number of adds handled by workqueue", {"name"})
             .With({name});
    queueSeconds = &r.AddHistogram("workqueue_queue_duration_seconds",
                                   "How long in seconds an item stays in workqueue before being "
                                   "requested.",
                                   {"name"}, buckets)
                        .With({name});
    workSeconds = &r.AddHistogram("workqueue_work_duration_seconds",
                                  "How long in seconds processing an item from workqueue takes.",
                                  {"name"}, buckets)
                       .With({name});
    retries = &r.AddCounter("workqueue_retries_total",
                            "Total number of retries handled by workqueue", {"name"})
                   .With({name});
  }
  metrics::Gauge* depth;
  metrics::Counter* adds;
  metrics::Histogram* queueSeconds;
  metrics::Histogram* workSeconds;
  metrics::Counter* retries;
  std::unordered_map<std::string, Clock::time_point> added, started;
};

WorkQueue::WorkQueue(Options opts) : opts_(std::move(opts)) {
  if (!opts_.name.empty()) metrics_ = std::make_unique<Metrics>(opts_.name);
}

WorkQueue::~WorkQueue() = default;

void WorkQueue::AddLocked(const std::string& key) {
  if (shutdown_) return;
  if (!dirty_.insert(key).second) return;  // already waiting
  if (metrics_) {
    metrics_->adds->Inc();
    metrics_->depth->Inc();
    metrics_->added.try_emplace(key, Clock::now());
  }
  if (processing_.count(key)) return;  // re-queued by Done()
  queue_.push_back(key);
  cv_.notify_one();
}

void WorkQueue::Add(const std::string& key) {
  std::lock_guard<std::mutex> lk(mu_);
  AddLocked(key);
}

void WorkQueue::AddAfter(const std::string& key, std::chrono::milliseconds delay) {
  std::lock_guard<std::mutex> lk(mu_);
  if (shutdown_) return;
  if (metrics_) metrics_->retries->Inc();
  if (delay.count() <= 0) {
    AddLocked(key);
    return;
  }
  delayed_.emplace(Clock::now() + delay, key);
  cv_.notify_all();
}

void WorkQueue::AddRateLimited(const std::string& key) {
  std::chrono::milliseconds d;
  {
    std::lock_guard<std::mutex> lk(mu_);
    int n = failures_[key]++;
    int64_t ms = opts_.baseDelay.count();
    for (int i = 0; i < n && ms < opts_.maxDelay.count(); ++i) ms *= 2;
    d = std::chrono::milliseconds(std::min<int64_t>(ms, opts_.maxDelay.count()));
  }
  AddAfter(key, d);
}

void WorkQueue::Forget(const std::string& key) {
  std::lock_guard<std::mutex> lk(mu_);
  failures_.erase(key);
}

int WorkQueue::NumRequeues(const std::string& key) {
  std::lock_guard<std::mutex> lk(mu_);
  auto it = failures_.find(key);
  return it == failures_.end() ? 0 : it->second;
}

void WorkQueue::PromoteDueLocked(Clock::time_point now) {
  while (!delayed_.empty() && delayed_.begin()->first <= now) {
    std::string k = delayed_.begin()->second;
    delayed_.erase(delayed_.begin());
    AddLocked(k);
  }
}

std::vector<std::string> WorkQueue::TakeLocked(size_t max) {
  std::vector<std::string> out;
  while (!queue_.empty() && out.size() < max) {
    std::string k = std::move(queue_.front());
    queue_.pop_front();
    dirty_.erase(k);
    processing_.insert(k);
    if (metrics_) {
      auto now = Clock::now();
      metrics_->depth->Dec();
      if (auto a = metrics_->added.find(k); a != metrics_->added.end()) {
        metrics_->queueSeconds->Observe(std::chrono::duration<double>(now - a->second).count());
        metrics_->added.erase(a);
      }
      metrics_->started[k] = now;
    }
    out.push_back(std::move(k));
  }
  return out;
}

std::vector<std::string> WorkQueue::GetBatch(size_t max) {
  std::unique_lock<std::mutex> lk(mu_);
  for (;;) {
    PromoteDueLocked(Clock::now());
    if (shutdown_) return {};
    if (!queue_.empty()) return TakeLocked(max);
    if (delayed_.empty()) {
      cv_.wait(lk);
    } else {
      cv_.wait_until(lk, delayed_.begin()->first);
    }
  }
}

bool WorkQueue::Get(std::string* key) {
  std::vector<std::string> b = GetBatch(1);
  if (b.empty()) return false;
  *key = std::move(b[0]);
  return true;
}

std::vector<std::string> WorkQueue::TryGetBatch(size_t max) {
  std::lock_guard<std::mutex> lk(mu_);
  PromoteDueLocked(Clock::now());
  return TakeLocked(max);
}

void WorkQueue::Done(const std::string& key) {
  std::lock_guard<std::mutex> lk(mu_);
  processing_.erase(key);
  if (metrics_) {
    if (auto st = metrics_->started.find(key); st != metrics_->started.end()) {
      metrics_->workSeconds->Observe(metrics::SecondsSince(st->second));
      metrics_->started.erase(st);
    }
  }
  if (dirty_.count(key) && !shutdown_) {
    queue_.push_back(key);
    cv_.notify_one();
  }
}

void WorkQueue::ShutDown() {
  std::lock_guard<std::mutex> lk(mu_);
  shutdown_ = true;
  cv_.notify_all();
}

bool WorkQueue::ShuttingDown() {
  std::lock_guard<std::mutex> lk(mu_);
  return shutdown_;
}

size_t WorkQueue::Len() {
  std::lock_guard<std::mutex> lk(mu_);
  return queue_.size();
}

bool WorkQueue::Idle() {
  std::lock_guard<std::mutex> lk(mu_);
  return queue_.empty() && delayed_.empty() && processing_.empty();
}

void WorkQueue::FlushDelayedForTest() {
  std::lock_guard<std::mutex> lk(mu_);
  PromoteDueLocked(Clock::time_point::max());
}

void ProcessWorkKey(WorkQueue& q, const std::string& key,
                    const std::function<Status(const std::string&)>& sync) {
  Status s = sync(key);
  if (s.ok() || s.IsNotFound()) {
    q.Forget(key);
  } else {
    q.AddRateLimited(key);
  }
  q.Done(key);
}

void RunWorker(WorkQueue& q, const std::function<Status(const std::string&)>& sync,
               const std::function<void()>& afterEach) {
  std::string key;
  while (q.Get(&key)) {
    ProcessWorkKey(q, key, sync);
    if (afterEach) afterEach();
  }
}

}  // namespace kvol::controller
