// Informer<T>: a list+watch cache of one resource prefix of the Store, decoded into T
// (client-go's shared informer, in process).
//
// - Start(): lists the prefix, fills the cache (handlers' onAdd for every object), then watches
//   from the list's revision. When the watch ends with kExpired (compaction) or another error it
//   relists (diffing against the cache: adds, updates and deletes are reported) and re-watches.
// - The cache maps store key -> shared_ptr<const Item> (immutable: hold it as long as you like).
//   Items carry the raw JSON (with metadata.resourceVersion; `raw` refers into `src`, the store's
//   immutable object, shared rather than copied when the store offers it: ListShared /
//   TxnBatchShared) and the decoded T.
// - A change is applied only when its modRevision is newer than the cached one, so a writer may
//   Assume() what it just wrote (the later watch event for the same revision is then ignored),
//   as the PV controller's storeObjectUpdate does.
// - Handlers run on the thread that applied the change (the store's watch thread, or the caller
//   of Assume/Relist), after the cache is updated, without any informer lock held. They must not
//   block; typically they put keys on a WorkQueue.
// - Relist() re-reads the prefix synchronously (used by tests to make progress deterministic).
// - BeginWrites(keys) / EndWrites(keys): a writer that will Assume() the results of its own writes
//   brackets them with these; meanwhile the watch's events for those keys are not decoded (the
//   writer's Assume brings the same revision), only their revision is noted. EndWrites() fetches
//   the key from the store (the latest state) when the watch saw a revision newer than the cached
//   one (someone else's write, or a write that failed), so no change is lost.
// - AssumeDecoded(o, typed): Assume with the typed object supplied by the writer (who applied
//   its JSON edits to a copy of the cached typed object too) instead of a decode.
//
// Thread safety: every method may be called from any thread. Handlers must be added before
// Start().
#pragma once

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <future>
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
    explicit Item(store::SharedObject o)
        : src(std::move(o)),
          key(src->key),
          raw(src->value),
          obj(api::FromJsonLoose<T>(src->value)),
          createRevision(src->createRevision),
          modRevision(src->modRevision) {}
    // With the decoded object given (see AssumeDecoded) instead of decoding src->value.
    Item(store::SharedObject o, T decoded)
        : src(std::move(o)),
          key(src->key),
          raw(src->value),
          obj(std::move(decoded)),
          createRevision(src->createRevision),
          modRevision(src->modRevision) {}
    store::SharedObject src;  // the stored object `key` and `raw` refer to (shared, immutable)
    const std::string& key;
    const store::json& raw;
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
  void Assume(const store::Object& o) { Apply(o, false, nullptr, nullptr, false); }
  // Same, but may move o.value into the cache instead of copying it.
  void Assume(store::Object&& o) { Apply(o, false, nullptr, &o.value, false); }
  // Same, sharing the store's object (Store::TxnBatchShared) instead of copying it.
  void Assume(const store::SharedObject& o) { Apply(*o, false, o, nullptr, false); }
  // Same, with `decoded` = what decoding o->value gives, except metadata.resourceVersion (set
  // here from o's revision): a writer that built its JSON by editing a cached object applies the
  // same edits to the cached typed object, which is much cheaper than decoding. Debug builds
  // check it against a real decode (and abort, naming the object, when they differ).
  void AssumeDecoded(const store::SharedObject& o, T decoded) {
    decoded.metadata.resourceVersion = std::to_string(o->modRevision);
#ifndef NDEBUG
    if (!(decoded == api::FromJsonLoose<T>(o->value))) {
      std::fprintf(stderr,
                   "Informer::AssumeDecoded: typed edit differs from decode for %s:\n%s\n%s\n",
                   o->key.c_str(), api::ToJson(decoded).dump().c_str(),
                   api::ToJson(api::FromJsonLoose<T>(o->value)).dump().c_str());
      std::abort();
    }
#endif
    Apply(*o, false, nullptr, nullptr, false, std::make_shared<Item>(o, std::move(decoded)));
  }
  // Records that `key` was deleted at `rev`.
  void AssumeDeleted(const store::Object& last) { Apply(last, true, nullptr, nullptr, false); }

  void BeginWrites(const std::vector<std::string>& keys) {
    std::lock_guard<std::mutex> lk(mu_);
    for (const auto& k : keys) ++inFlight_[k].count;
  }
  void EndWrites(const std::vector<std::string>& keys) {
    std::vector<std::pair<std::string, store::Revision>> missed;
    {
      std::lock_guard<std::mutex> lk(mu_);
      for (const auto& k : keys) {
        auto f = inFlight_.find(k);
        if (f == inFlight_.end()) continue;
        const store::Revision seen = f->second.seen;
        if (--f->second.count == 0) inFlight_.erase(f);
        if (seen == 0 || StaleLocked(k, seen)) continue;
        missed.emplace_back(k, seen);
      }
    }
    for (auto& [k, seen] : missed) {
      Result<store::Object> o = store_.Get(k);
      if (o.ok()) {
        Apply(*o, false, nullptr, &o->value, false);
      } else if (o.status().code() == Code::kNotFound) {
        store::Object gone;
        gone.key = k;
        gone.modRevision = seen;
        Apply(gone, true, nullptr, nullptr, false);
      } else {
        std::lock_guard<std::mutex> lk(mu_);
        needRewatch_ = true;  // relisted at the next resync tick
      }
    }
  }

  static ItemPtr MakeItem(const store::Object& o) { return MakeItem(o, nullptr); }
  // take: when set, o.value's storage, moved into the item instead of copied.
  static ItemPtr MakeItem(const store::Object& o, store::json* take) {
    auto so = std::make_shared<store::Object>();
    so->key = o.key;
    so->value = take ? std::move(*take) : o.value;
    so->createRevision = o.createRevision;
    so->modRevision = o.modRevision;
    return MakeItem(store::SharedObject(std::move(so)));
  }
  static ItemPtr MakeItem(store::SharedObject o) { return std::make_shared<Item>(std::move(o)); }

 private:
  // True when the cache holds revision `rev` of `key` or newer (or a newer deletion).
  bool StaleLocked(const std::string& key, store::Revision rev) const {
    auto it = cache_.find(key);
    if (it != cache_.end()) return it->second->modRevision >= rev;
    auto tomb = tombstones_.find(key);
    return tomb != tombstones_.end() && tomb->second >= rev;
  }

  // fromWatch: a watch event (skipped, only noted, while its key is in a BeginWrites bracket).
  // The item's JSON comes from `shared` (the store's object) when set, else from o (moving *take
  // when set, else copying).
  // premade: the new item, already built (AssumeDecoded).
  void Apply(const store::Object& o, bool deleted, const store::SharedObject& shared,
             store::json* take, bool fromWatch, ItemPtr premade = nullptr) {
    ItemPtr old;
    ItemPtr neu = std::move(premade);
    if (!deleted && !neu) {
      // Decode outside the lock; a revision already cached is skipped before decoding.
      {
        std::lock_guard<std::mutex> lk(mu_);
        if (fromWatch && NoteInFlightLocked(o)) return;
        if (StaleLocked(o.key, o.modRevision)) return;
      }
      neu = shared ? MakeItem(shared) : MakeItem(o, take);
    }
    {
      std::lock_guard<std::mutex> lk(mu_);
      if (fromWatch && NoteInFlightLocked(o)) return;
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

  // A watch event for a key in a BeginWrites bracket: notes its revision; true when so.
  bool NoteInFlightLocked(const store::Object& o) {
    auto f = inFlight_.find(o.key);
    if (f == inFlight_.end()) return false;
    f->second.seen = std::max(f->second.seen, o.modRevision);
    return true;
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
    KVOL_ASSIGN_OR_RETURN(store::SharedList lr, store_.ListShared(prefix_));
    // Decode (outside the lock; a large list on two threads) what the cache lacks.
    std::vector<ItemPtr> decoded(lr.items.size());
    std::vector<size_t> todo;
    {
      std::lock_guard<std::mutex> lk(mu_);
      for (size_t i = 0; i < lr.items.size(); ++i) {
        if (!StaleLocked(lr.items[i]->key, lr.items[i]->modRevision)) todo.push_back(i);
      }
    }
    auto decode = [&](size_t from, size_t to) {
      for (size_t j = from; j < to; ++j) decoded[todo[j]] = MakeItem(lr.items[todo[j]]);
    };
    if (todo.size() >= kParallelDecode) {
      auto half = std::async(std::launch::async | std::launch::deferred, decode, todo.size() / 2,
                             todo.size());
      decode(0, todo.size() / 2);
      half.get();
    } else {
      decode(0, todo.size());
    }
    std::vector<std::pair<ItemPtr, ItemPtr>> changes;
    {
      std::lock_guard<std::mutex> lk(mu_);
      std::map<std::string, ItemPtr> next;
      for (size_t i = 0; i < lr.items.size(); ++i) {
        const store::Object& o = *lr.items[i];
        auto it = cache_.find(o.key);
        if (it != cache_.end() && it->second->modRevision >= o.modRevision) {
          next.emplace(o.key, it->second);
          continue;
        }
        ItemPtr n = decoded[i] ? std::move(decoded[i]) : MakeItem(lr.items[i]);
        changes.emplace_back(it == cache_.end() ? nullptr : it->second, n);
        next.emplace(o.key, std::move(n));
      }
      for (auto& [k, v] : cache_) {
        if (!next.count(k)) changes.emplace_back(v, nullptr);
      }
      cache_.swap(next);
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
          Apply(e.object, e.type == store::WatchEvent::Type::kDeleted, nullptr, nullptr, true);
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
  // Lists with at least this many objects to decode are decoded on two threads.
  static constexpr size_t kParallelDecode = 2000;

  store::Store& store_;
  std::string prefix_;
  std::vector<Handlers> handlers_;
  mutable std::mutex mu_;
  std::map<std::string, ItemPtr> cache_;
  std::unordered_map<std::string, store::Revision> tombstones_;
  struct InFlight {
    int count = 0;
    store::Revision seen = 0;  // the newest watch revision noted meanwhile
  };
  std::unordered_map<std::string, InFlight> inFlight_;
  std::unique_ptr<store::WatchHandle> watch_;
  bool stopped_ = false;
  bool needRewatch_ = false;
};

}  // namespace kvol::controller
