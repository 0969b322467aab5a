// WatchHub: fans one in-memory stream of committed changes out to many watchers, for any Store
// backend.
//
// - The backend calls Publish() after each commit, in revision order, with every event of the
//   commit. Watchers match by key prefix (a string compare per watcher and event); events are
//   shared (one copy whatever the number of watchers), so thousands of watchers are cheap.
// - Add() registers a watcher atomically with respect to Publish(): it calls `replay(upTo)` with
//   the hub's last published revision while holding the hub lock; the backend returns the
//   history events in (afterRevision, upTo], and every event published later follows live.
//   Together: gap-free, in order, exactly once. Events at or below afterRevision are never
//   delivered.
// - One dispatcher thread (owned by the hub) runs every callback, one event at a time per
//   watcher. Destroying a handle cancels the watch; after its destructor returns no callback of
//   that watch runs (when destroyed on the dispatcher thread itself, from a callback, it returns
//   at once and no later callback runs).
// - Filters: applied to the new state (for a delete, to the last state). A MODIFIED event whose
//   old state matched and new state does not becomes DELETED; the reverse becomes ADDED, as
//   kube-apiserver's watch cache does.
// - Stop() delivers what was published, calls onClose(kUnavailable "store is closed") on live
//   watches and joins the thread. Handles may outlive the hub's owner (they hold the hub).
//
// Thread safety: every method may be called from any thread.
#pragma once

#include <atomic>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "kvol/store/store.h"

namespace kvol::store {

struct HubEvent {
  WatchEvent event;
  // The state before the change (nullptr for creates). Only filtered watchers read it; the hub
  // resets it once the event is delivered (or dropped for want of watchers), so a backend may keep
  // the event itself as its current state without chaining every earlier state.
  mutable std::shared_ptr<const json> prevValue;
};
using HubEventPtr = std::shared_ptr<const HubEvent>;

class WatchHub : public std::enable_shared_from_this<WatchHub> {
 public:
  static std::shared_ptr<WatchHub> Start(Revision publishedRevision);
  ~WatchHub();

  using ReplayFn = std::function<Result<std::vector<HubEventPtr>>(Revision upTo)>;
  Result<std::unique_ptr<WatchHandle>> Add(const WatchOptions& opts,
                                           std::function<void(const WatchEvent&)> onEvent,
                                           std::function<void(const Status&)> onClose,
                                           const ReplayFn& replay);
  // Events of one commit (or several, in order), all with revision <= `revision`.
  void Publish(std::vector<HubEventPtr> events, Revision revision);
  void Stop();

  size_t WatcherCount();

 private:
  struct Watcher;
  class Handle;
  WatchHub() = default;
  void Run();
  void Remove(const std::shared_ptr<Watcher>& w);
  static void Deliver(Watcher& w, const HubEvent& e);

  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;
  bool stopped_ = false;
  bool hasBacklog_ = false;
  Revision published_ = 0;
  uint64_t nextSeq_ = 1;
  std::vector<std::pair<uint64_t, HubEventPtr>> pending_;
  std::vector<std::shared_ptr<Watcher>> watchers_;
  std::thread thread_;
  std::atomic<std::thread::id> dispatcherId_{};
};

}  // namespace kvol::store
