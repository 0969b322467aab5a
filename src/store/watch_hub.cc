#include "kvol/store/watch_hub.h"

#include <algorithm>

namespace kvol::store {

struct WatchHub::Watcher {
  std::string prefix;
  std::function<bool(const json&)> filter;
  std::function<void(const WatchEvent&)> onEvent;
  std::function<void(const Status&)> onClose;
  Revision after = 0;
  uint64_t startSeq = 0;             // live events with seq >= startSeq are for this watcher
  std::vector<HubEventPtr> backlog;  // history to deliver before live events (guarded by hub mu_)
  std::mutex cbMu;                   // held while a callback runs
  std::atomic<bool> cancelled{false};
};

class WatchHub::Handle : public WatchHandle {
 public:
  Handle(std::shared_ptr<WatchHub> hub, std::shared_ptr<Watcher> w)
      : hub_(std::move(hub)), w_(std::move(w)) {}
  ~Handle() override {
    w_->cancelled.store(true);
    if (std::this_thread::get_id() != hub_->dispatcherId_.load()) {
      std::lock_guard<std::mutex> wait(w_->cbMu);  // an in-flight callback finishes first
    }
    hub_->Remove(w_);
  }

 private:
  std::shared_ptr<WatchHub> hub_;
  std::shared_ptr<Watcher> w_;
};

std::shared_ptr<WatchHub> WatchHub::Start(Revision publishedRevision) {
  std::shared_ptr<WatchHub> hub(new WatchHub());
  hub->published_ = publishedRevision;
  hub->thread_ = std::thread([h = hub.get()] { h->Run(); });
  return hub;
}

WatchHub::~WatchHub() { Stop(); }

Result<std::unique_ptr<WatchHandle>> WatchHub::Add(const WatchOptions& opts,
                                                   std::function<void(const WatchEvent&)> onEvent,
                                                   std::function<void(const Status&)> onClose,
                                                   const ReplayFn& replay) {
  auto w = std::make_shared<Watcher>();
  w->prefix = opts.prefix;
  w->filter = opts.filter;
  w->onEvent = std::move(onEvent);
  w->onClose = std::move(onClose);
  {
    std::lock_guard<std::mutex> lk(mu_);
    if (stop_) return Unavailable("store is closed");
    w->after = opts.afterRevision > 0 ? opts.afterRevision : published_;
    if (w->after < published_) {
      KVOL_ASSIGN_OR_RETURN(w->backlog, replay(published_));
      if (!w->backlog.empty()) hasBacklog_ = true;
    }
    w->startSeq = nextSeq_;
    watchers_.push_back(w);
  }
  cv_.notify_one();
  return std::unique_ptr<WatchHandle>(new Handle(shared_from_this(), std::move(w)));
}

void WatchHub::Publish(std::vector<HubEventPtr> events, Revision revision) {
  {
    std::lock_guard<std::mutex> lk(mu_);
    published_ = std::max(published_, revision);
    if (watchers_.empty()) {
      nextSeq_ += events.size();  // nobody can want them: later watchers start after them
      for (auto& e : events) e->prevValue.reset();
      return;
    }
    for (auto& e : events) pending_.emplace_back(nextSeq_++, std::move(e));
  }
  cv_.notify_one();
}

void WatchHub::Stop() {
  {
    std::lock_guard<std::mutex> lk(mu_);
    if (stopped_) return;
    stop_ = stopped_ = true;
  }
  cv_.notify_one();
  if (thread_.joinable()) thread_.join();
}

size_t WatchHub::WatcherCount() {
  std::lock_guard<std::mutex> lk(mu_);
  return watchers_.size();
}

void WatchHub::Remove(const std::shared_ptr<Watcher>& w) {
  std::lock_guard<std::mutex> lk(mu_);
  auto it = std::find(watchers_.begin(), watchers_.end(), w);
  if (it != watchers_.end()) watchers_.erase(it);
}

void WatchHub::Deliver(Watcher& w, const HubEvent& e) {
  const WatchEvent& ev = e.event;
  if (ev.revision <= w.after) return;
  if (ev.object.key.compare(0, w.prefix.size(), w.prefix) != 0) return;
  const WatchEvent* out = &ev;
  WatchEvent rewritten;
  if (w.filter) {
    bool now = w.filter(ev.object.value);
    if (ev.type == WatchEvent::Type::kModified) {
      bool before = e.prevValue && w.filter(*e.prevValue);
      if (!now && !before) return;
      if (now != before) {
        rewritten = ev;
        rewritten.type = now ? WatchEvent::Type::kAdded : WatchEvent::Type::kDeleted;
        out = &rewritten;
      }
    } else if (!now) {
      return;
    }
  }
  std::lock_guard<std::mutex> lk(w.cbMu);
  if (!w.cancelled.load()) w.onEvent(*out);
}

void WatchHub::Run() {
  dispatcherId_.store(std::this_thread::get_id());
  for (;;) {
    std::vector<std::pair<uint64_t, HubEventPtr>> batch;
    std::vector<std::shared_ptr<Watcher>> watchers;
    std::vector<std::pair<std::shared_ptr<Watcher>, std::vector<HubEventPtr>>> backlogs;
    bool stopping;
    {
      std::unique_lock<std::mutex> lk(mu_);
      cv_.wait(lk, [&] { return stop_ || !pending_.empty() || hasBacklog_; });
      stopping = stop_;
      batch.swap(pending_);
      watchers = watchers_;
      if (hasBacklog_) {
        for (auto& w : watchers_) {
          if (!w->backlog.empty()) backlogs.emplace_back(w, std::move(w->backlog));
          w->backlog.clear();
        }
        hasBacklog_ = false;
      }
    }
    for (auto& [w, events] : backlogs) {
      for (auto& e : events) Deliver(*w, *e);
    }
    for (auto& [seq, e] : batch) {
      for (auto& w : watchers) {
        if (seq >= w->startSeq) Deliver(*w, *e);
      }
      e->prevValue.reset();  // delivered to every watcher that can want it
    }
    if (stopping) {
      std::vector<std::shared_ptr<Watcher>> left;
      {
        std::lock_guard<std::mutex> lk(mu_);
        left.swap(watchers_);
      }
      Status closed = Unavailable("store is closed");
      for (auto& w : left) {
        std::lock_guard<std::mutex> lk(w->cbMu);
        if (!w->cancelled.load() && w->onClose) w->onClose(closed);
      }
      return;
    }
  }
}

}  // namespace kvol::store
