// FakeStore: an in-memory kvol::store::Store for controller unit tests (header-only).
//
// Faithful to the Store contract (include/kvol/store/store.h): one global revision, per-Op
// preconditions through the shared PlanOp (so the finalizer rule is the real one), all-or-nothing
// Txns, TxnBatch, List at the latest revision (snapshots at older revisions are not kept:
// List(revision != 0) returns kExpired unless it is the current revision), Watch through the
// shared WatchHub with gap-free replay of the full history, Compact.
//
// Test hooks:
// - AddReactor(fn): before each Txn is applied, every reactor sees its ops; the first non-OK
//   Status returned fails the whole Txn with that Status and nothing is written (like
//   framework_test.go's injected API errors). Reactors may count calls and return OK afterwards.
// - Txns(): every committed Txn's ops, in order (for asserting the number and shape of writes).
// - SetNow(t): the deletionTimestamp PlanOp writes (default "2026-01-01T00:00:00Z").
//
// Thread safety: every method may be called from any thread.
#pragma once

#include <algorithm>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "kvol/store/op_plan.h"
#include "kvol/store/store.h"
#include "kvol/store/watch_hub.h"

namespace kvol::testing {

class FakeStore : public store::Store {
 public:
  using Reactor = std::function<Status(const std::vector<store::Op>&)>;

  FakeStore() : hub_(store::WatchHub::Start(0)) {}
  ~FakeStore() override { hub_->Stop(); }

  void AddReactor(Reactor r) {
    std::lock_guard<std::mutex> lk(mu_);
    reactors_.push_back(std::move(r));
  }
  void ClearReactors() {
    std::lock_guard<std::mutex> lk(mu_);
    reactors_.clear();
  }
  std::vector<std::vector<store::Op>> Txns() {
    std::lock_guard<std::mutex> lk(mu_);
    return committed_;
  }
  void SetNow(std::string now) {
    std::lock_guard<std::mutex> lk(mu_);
    now_ = std::move(now);
  }

  Result<store::Object> Get(const std::string& key) override {
    std::lock_guard<std::mutex> lk(mu_);
    auto it = data_.find(key);
    if (it == data_.end()) return NotFound("key \"" + key + "\" not found");
    return it->second;
  }

  Result<store::ListResult> List(const store::ListOptions& opts) override {
    std::lock_guard<std::mutex> lk(mu_);
    if (opts.revision != 0 && opts.revision != rev_) {
      return Expired("fake store keeps no snapshots: revision " + std::to_string(opts.revision));
    }
    store::ListResult out;
    out.revision = rev_;
    for (auto it = data_.lower_bound(opts.prefix);
         it != data_.end() && it->first.compare(0, opts.prefix.size(), opts.prefix) == 0; ++it) {
      if (opts.filter && !opts.filter(it->second.value)) continue;
      out.items.push_back(it->second);
    }
    return out;
  }

  Result<store::TxnResult> Txn(std::vector<store::Op> ops) override {
    // pubMu_ keeps Publish calls in revision order without holding mu_ (the hub's replay takes
    // mu_ under the hub's lock).
    std::lock_guard<std::mutex> pub(pubMu_);
    std::vector<store::HubEventPtr> events;
    Result<store::TxnResult> r = ApplyLocked(std::move(ops), &events);
    if (r.ok() && !events.empty()) hub_->Publish(std::move(events), r->revision);
    return r;
  }

  std::vector<Result<store::TxnResult>> TxnBatch(
      std::vector<std::vector<store::Op>> txns) override {
    std::vector<Result<store::TxnResult>> out;
    out.reserve(txns.size());
    for (auto& t : txns) out.push_back(Txn(std::move(t)));
    return out;
  }

  Result<std::unique_ptr<store::WatchHandle>> Watch(
      const store::WatchOptions& opts, std::function<void(const store::WatchEvent&)> onEvent,
      std::function<void(const Status&)> onClose) override {
    {
      std::lock_guard<std::mutex> lk(mu_);
      if (opts.afterRevision > 0 && opts.afterRevision < compacted_) {
        return Expired("too old resource version: " + std::to_string(opts.afterRevision) + " (" +
                       std::to_string(compacted_) + ")");
      }
    }
    Revision after = opts.afterRevision;
    std::string prefix = opts.prefix;
    return hub_->Add(
        opts, std::move(onEvent), std::move(onClose),
        [this, after, prefix](Revision upTo) -> Result<std::vector<store::HubEventPtr>> {
          std::lock_guard<std::mutex> lk(mu_);
          std::vector<store::HubEventPtr> out;
          for (const auto& e : history_) {
            const auto& ev = e->event;
            if (ev.revision <= after || ev.revision > upTo) continue;
            if (ev.object.key.compare(0, prefix.size(), prefix) != 0) continue;
            out.push_back(e);
          }
          return out;
        });
  }

  store::Revision CurrentRevision() override {
    std::lock_guard<std::mutex> lk(mu_);
    return rev_;
  }
  Status Compact(store::Revision rev) override {
    std::lock_guard<std::mutex> lk(mu_);
    if (rev <= compacted_) return Status::Ok();
    compacted_ = rev;
    std::erase_if(history_, [&](const store::HubEventPtr& e) { return e->event.revision <= rev; });
    return Status::Ok();
  }
  store::Revision CompactedRevision() override {
    std::lock_guard<std::mutex> lk(mu_);
    return compacted_;
  }

 private:
  using Revision = store::Revision;

  Result<store::TxnResult> ApplyLocked(std::vector<store::Op> ops,
                                       std::vector<store::HubEventPtr>* events) {
    std::lock_guard<std::mutex> lk(mu_);
    for (const auto& r : reactors_) KVOL_RETURN_IF_ERROR(r(ops));
    // Plan every op against the state as left by the ops before it (all or nothing).
    std::map<std::string, std::optional<store::Object>> staged;
    auto current = [&](const std::string& key) -> const store::Object* {
      auto s = staged.find(key);
      if (s != staged.end()) return s->second ? &*s->second : nullptr;
      auto it = data_.find(key);
      return it == data_.end() ? nullptr : &it->second;
    };
    const Revision next = rev_ + 1;
    store::TxnResult result;
    result.revision = next;
    struct Change {
      store::WatchEvent::Type type;
      store::Object obj;
      std::shared_ptr<const store::json> prev;
    };
    std::vector<Change> changes;
    for (const auto& op : ops) {
      const store::Object* cur = current(op.key);
      KVOL_ASSIGN_OR_RETURN(store::PlannedWrite w, store::PlanOp(op, cur, now_));
      std::shared_ptr<const store::json> prev =
          cur ? std::make_shared<const store::json>(cur->value) : nullptr;
      switch (w.kind) {
        case store::PlannedWrite::Kind::kNone: {
          result.objects.push_back(*cur);
          result.deleted.push_back(false);
          break;
        }
        case store::PlannedWrite::Kind::kPut: {
          store::Object o;
          o.key = op.key;
          o.value = std::move(w.value);
          o.createRevision = cur ? cur->createRevision : next;
          o.modRevision = next;
          store::SetResourceVersion(o.value, next);
          changes.push_back(
              {cur ? store::WatchEvent::Type::kModified : store::WatchEvent::Type::kAdded, o,
               prev});
          result.objects.push_back(o);
          result.deleted.push_back(false);
          staged[op.key] = std::move(o);
          break;
        }
        case store::PlannedWrite::Kind::kDelete: {
          store::Object o;
          o.key = op.key;
          o.value = std::move(w.value);
          o.createRevision = cur ? cur->createRevision : next;
          o.modRevision = next;
          store::SetResourceVersion(o.value, next);
          changes.push_back({store::WatchEvent::Type::kDeleted, o, prev});
          result.objects.push_back(o);
          result.deleted.push_back(true);
          staged[op.key] = std::nullopt;
          break;
        }
      }
    }
    if (changes.empty()) {
      result.revision = rev_;
      return result;
    }
    rev_ = next;
    for (auto& [key, o] : staged) {
      if (o) {
        data_[key] = *o;
      } else {
        data_.erase(key);
      }
    }
    for (auto& c : changes) {
      auto e = std::make_shared<store::HubEvent>();
      e->event.type = c.type;
      e->event.object = std::move(c.obj);
      e->event.revision = next;
      e->prevValue = std::move(c.prev);
      history_.push_back(e);
      events->push_back(std::move(e));
    }
    committed_.push_back(std::move(ops));
    return result;
  }

  std::mutex pubMu_;
  std::mutex mu_;
  std::map<std::string, store::Object> data_;
  std::vector<store::HubEventPtr> history_;
  std::vector<std::vector<store::Op>> committed_;
  std::vector<Reactor> reactors_;
  Revision rev_ = 0;
  Revision compacted_ = 0;
  std::string now_ = "2026-01-01T00:00:00Z";
  std::shared_ptr<store::WatchHub> hub_;
};

}  // namespace kvol::testing
