// Informer<T>: a list+watch cache of one resource prefix of the Store, decoded into T
// (client-go's shared informer, in process).
//
// - Start(): lists the prefix, fills the cache (handlers' onAdd for every object), then watches
//   from the list's revision. When the watch ends with kExpired (compaction) or another error it
//   relists (diffing against the cache: adds, updates and deletes are reported) and re-watches.
// - The cache maps store key -> shared_ptr<const Item> (immutable: hold it as long as you like).
//   Items carry the raw JSON (with metadata.resourceVersion) and the decoded T.
// - A change is applied only when its modRevision is newer than the cached one, so a writer may
//   Assume() what it just wrote (the later watch event for the same revision is then ignored),
//   as the PV controller's storeObjectUpdate does.
// - Handlers run on the thread that applied the change (the store's watch thread, or the caller
//   of Assume/Relist), after the cache is updated, without any informer lock held. They must not
//   block; typically they put keys on a WorkQueue.
// - Relist() re-reads the prefix synchronously (used by tests to make progress deterministic).
//
// Thread safety: every method may be called from any thread. Handlers must be added before
// Start().
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "kvol/api/scheme.h"
#include "kvol/store/store.h"

namespace kvol::controller {

template <class T>
class Informer {
 public:
  struct Item {
    std::string key;
    store::json raw;
    T obj;
    store::Revision createRevision = 0;
    store::Revision modRevision = 0;
  };
  using ItemPtr = std::shared_ptr<const Item>;
  struct Handlers {
    std::function<void(const ItemPtr&)> onAdd;
    std::function<void(const ItemPtr& oldItem, const ItemPtr& newItem)> onUpdate;
    std::function<void(const ItemPtr& last)> onDelete;
  };

  Informer(store::Store& s, std::string prefix) : store_(s), prefix_(std::move(prefix)) {}
  ~Informer() { Stop(); }
  Informer(const Informer&) = delete;
  Informer& operator=(const Informer&) = delete;

  void AddHandlers(Handlers h) { handlers_.push_back(std::move(h)); }

  Status Start() {
    KVOL_ASSIGN_OR_RETURN(store::Revision rev, RelistInternal());
    return StartWatch(rev);
  }

  void Stop() {
    std::unique_ptr<store::WatchHandle> w;
    {
      std::lock_guard<std::mutex> lk(mu_);
      stopped_ = true;
      w = std::move(watch_);
    }
    w.reset();
  }

  Status Relist() { return RelistInternal().status(); }

  ItemPtr Get(const std::string& key) const {
    std::lock_guard<std::mutex> lk(mu_);
    auto it = cache_.find(key);
    return it == cache_.end() ? nullptr : it->second;
  }
  std::vector<ItemPtr> List() const {
    std::lock_guard<std::mutex> lk(mu_);
    std::vector<ItemPtr> out;
    out.reserve(cache_.size());
    for (const auto& [k, v] : cache_) out.push_back(v);
    return out;
  }
  std::vector<std::string> Keys() const {
    std::lock_guard<std::mutex> lk(mu_);
    std::vector<std::string> out;
    out.reserve(cache_.size());
    for (const auto& [k, v] : cache_) out.push_back(k);
    return out;
  }
  size_t Size() const {
    std::lock_guard<std::mutex> lk(mu_);
    return cache_.size();
  }
  const std::string& prefix() const { return prefix_; }

  // Applies an object this process just wrote (or read), when newer than the cached one.
  void Assume(const store::Object& o) { Apply(o, false); }
  // Records that `key` was deleted at `rev`.
  void AssumeDeleted(const store::Object& last) { Apply(last, true); }

  static ItemPtr MakeItem(const store::Object& o) {
    auto item = std::make_shared<Item>();
    item->key = o.key;
    item->raw = o.value;
    item->obj = api::FromJsonLoose<T>(o.value);
    item->createRevision = o.createRevision;
    item->modRevision = o.modRevision;
    return item;
  }

 private:
  void Apply(const store::Object& o, bool deleted) {
    ItemPtr old;
    ItemPtr neu;
    {
      std::lock_guard<std::mutex> lk(mu_);
      auto it = cache_.find(o.key);
      auto tomb = tombstones_.find(o.key);
      if (it != cache_.end() && it->second->modRevision >= o.modRevision) return;
      if (it == cache_.end() && tomb != tombstones_.end() && tomb->second >= o.modRevision) return;
      if (deleted) {
        if (it == cache_.end()) {
          tombstones_[o.key] = o.modRevision;
          return;
        }
        old = it->second;
        cache_.erase(it);
        tombstones_[o.key] = o.modRevision;
      } else {
        neu = MakeItem(o);
        if (it != cache_.end()) {
          old = it->second;
          it->second = neu;
        } else {
          cache_.emplace(o.key, neu);
          if (tomb != tombstones_.end()) tombstones_.erase(tomb);
        }
      }
    }
    Notify(old, neu);
  }

  void Notify(const ItemPtr& old, const ItemPtr& neu) {
    for (const auto& h : handlers_) {
      if (old && neu) {
        if (h.onUpdate) h.onUpdate(old, neu);
      } else if (neu) {
        if (h.onAdd) h.onAdd(neu);
      } else if (old) {
        if (h.onDelete) h.onDelete(old);
      }
    }
  }

  Result<store::Revision> RelistInternal() {
    store::ListOptions lo;
    lo.prefix = prefix_;
    KVOL_ASSIGN_OR_RETURN(store::ListResult lr, store_.List(lo));
    std::vector<std::pair<ItemPtr, ItemPtr>> changes;
    {
      std::lock_guard<std::mutex> lk(mu_);
      std::map<std::string, ItemPtr> next;
      for (auto& o : lr.items) {
        auto it = cache_.find(o.key);
        if (it != cache_.end() && it->second->modRevision >= o.modRevision) {
          next.emplace(o.key, it->second);
          continue;
        }
        ItemPtr n = MakeItem(o);
        changes.emplace_back(it == cache_.end() ? nullptr : it->second, n);
        next.emplace(o.key, std::move(n));
      }
      for (auto& [k, v] : cache_) {
        if (!next.count(k)) changes.emplace_back(v, nullptr);
      }
      cache_.clear();
      for (auto& [k, v] : next) cache_.emplace(k, std::move(v));
      tombstones_.clear();
    }
    for (auto& [o, n] : changes) Notify(o, n);
    return lr.revision;
  }

  Status StartWatch(store::Revision rev) {
    store::WatchOptions wo;
    wo.prefix = prefix_;
    wo.afterRevision = rev;
    auto r = store_.Watch(
        wo,
        [this](const store::WatchEvent& e) {
          Apply(e.object, e.type == store::WatchEvent::Type::kDeleted);
        },
        [this](const Status&) {
          // The watch ended (compaction or store error): relist and re-watch on another thread
          // (callbacks must not call back into the store).
          std::lock_guard<std::mutex> lk(mu_);
          if (stopped_) return;
          needRewatch_ = true;
        });
    if (!r.ok()) return r.status();
    std::lock_guard<std::mutex> lk(mu_);
    watch_ = std::move(r).value();
    return Status::Ok();
  }

 public:
  // Called periodically by the owner (the manager's resync tick): re-establishes a watch that
  // ended. Returns true when it had to.
  bool RecoverWatchIfNeeded() {
    {
      std::lock_guard<std::mutex> lk(mu_);
      if (!needRewatch_ || stopped_) return false;
      needRewatch_ = false;
    }
    Result<store::Revision> rev = RelistInternal();
    if (!rev.ok() || !StartWatch(*rev).ok()) {
      std::lock_guard<std::mutex> lk(mu_);
      needRewatch_ = true;
    }
    return true;
  }

 private:
  store::Store& store_;
  std::string prefix_;
  std::vector<Handlers> handlers_;
  mutable std::mutex mu_;
  std::map<std::string, ItemPtr> cache_;
  std::unordered_map<std::string, store::Revision> tombstones_;
  std::unique_ptr<store::WatchHandle> watch_;
  bool stopped_ = false;
  bool needRewatch_ = false;
};

}  // namespace kvol::controller
