#include "kvol/store/sqlite_store.h"

#include <atomic>
#include <condition_variable>
#include <map>
#include <mutex>
#include <shared_mutex>
#include <thread>
#include <unordered_map>
#include <unordered_set>

#include "kvol/api/meta.h"
#include "kvol/metrics/metrics.h"
#include "kvol/store/continue_token.h"
#include "kvol/store/op_plan.h"
#include "kvol/store/watch_hub.h"
#include "src/store/sqlite/commit_metrics.h"
#include "src/store/sqlite/db.h"
#include "src/store/sqlite/json_encode.h"

namespace kvol::store {
namespace {

using sqlite::AppendJson;
using sqlite::Db;
using sqlite::Stmt;
using ObjectPtr = std::shared_ptr<const Object>;

// One row per key written by a Txn; every row of one Txn has the Txn's revision. A delete
// writes a tombstone row (deleted=1) carrying the object's last state.
constexpr const char* kSchema = R"sql(
CREATE TABLE IF NOT EXISTS kine(
  id INTEGER PRIMARY KEY,
  rev INTEGER NOT NULL,
  name TEXT NOT NULL,
  created INTEGER NOT NULL,
  deleted INTEGER NOT NULL,
  create_revision INTEGER NOT NULL,
  prev_revision INTEGER NOT NULL,
  value TEXT NOT NULL);
CREATE UNIQUE INDEX IF NOT EXISTS kine_name_rev ON kine(name, rev);
CREATE INDEX IF NOT EXISTS kine_rev ON kine(rev);
CREATE TABLE IF NOT EXISTS kvol_meta(k TEXT PRIMARY KEY, v INTEGER NOT NULL) WITHOUT ROWID;
INSERT OR IGNORE INTO kvol_meta(k, v) VALUES ('schema', 1), ('revision', 0), ('compacted', 0);
)sql";

// The latest row at or below a revision for every key in a range (SQLite takes the bare
// columns from the row holding MAX(rev)).
constexpr const char* kListAt =
    "SELECT name, MAX(rev), create_revision, deleted, value FROM kine "
    "WHERE name > ?1 AND name < ?2 AND rev <= ?3 GROUP BY name ORDER BY name";

constexpr const char* kHistory =
    "SELECT k.rev, k.name, k.created, k.deleted, k.create_revision, k.value, p.value "
    "FROM kine k LEFT JOIN kine p ON p.name = k.name AND p.rev = k.prev_revision "
    "WHERE k.rev > ?1 AND k.rev <= ?2 AND k.name >= ?3 AND k.name < ?4 ORDER BY k.rev, k.id";

// Deletes every row at or below ?1 that a later row at or below ?1 supersedes, and tombstones
// at or below ?1 (nothing at or above the compacted revision can need them).
constexpr const char* kCompact =
    "DELETE FROM kine WHERE rev <= ?1 AND (deleted = 1 OR rev < (SELECT MAX(k2.rev) FROM kine k2 "
    "WHERE k2.name = kine.name AND k2.rev <= ?1))";

std::string KeyMsg(const std::string& key) { return "key \"" + key + "\""; }

Result<json> ParseValue(std::string_view text, std::string_view key) {
  json v = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (v.is_discarded()) return Internal("store: corrupt value for " + std::string(key));
  return v;
}

// Read-only connections for snapshot lists and watch history, one per concurrent reader.
class ReaderPool {
 public:
  ReaderPool(std::string path, bool full) : path_(std::move(path)), full_(full) {}

  Result<std::unique_ptr<Db>> Acquire() {
    {
      std::lock_guard<std::mutex> lk(mu_);
      if (!free_.empty()) {
        auto db = std::move(free_.back());
        free_.pop_back();
        return db;
      }
    }
    auto db = std::make_unique<Db>();
    KVOL_RETURN_IF_ERROR(db->Open(path_, /*create=*/false, full_));
    KVOL_RETURN_IF_ERROR(db->Exec("PRAGMA query_only=1"));
    return db;
  }
  void Release(std::unique_ptr<Db> db) {
    std::lock_guard<std::mutex> lk(mu_);
    if (free_.size() < 8) free_.push_back(std::move(db));
  }

 private:
  std::string path_;
  bool full_;
  std::mutex mu_;
  std::vector<std::unique_ptr<Db>> free_;
};

class SqliteStore : public Store {
 public:
  SqliteStore(std::string path, SqliteOptions opts)
      : path_(std::move(path)), opts_(opts), readers_(path_, opts.synchronousFull) {}

  ~SqliteStore() override {
    {
      std::lock_guard<std::mutex> lk(qMu_);
      stopping_ = true;
    }
    qCv_.notify_all();
    if (committer_.joinable()) committer_.join();
    if (hub_) hub_->Stop();
  }

  Status Open();

  Result<Object> Get(const std::string& key) override {
    std::shared_lock<std::shared_mutex> lk(stateMu_);
    auto it = current_.find(key);
    if (it == current_.end()) return NotFound(KeyMsg(key) + " not found");
    return *it->second;
  }

  Result<ListResult> List(const ListOptions& opts) override;
  Result<TxnResult> Txn(std::vector<Op> ops) override {
    std::vector<std::vector<Op>> one;
    one.push_back(std::move(ops));
    return std::move(TxnBatch(std::move(one))[0]);
  }
  std::vector<Result<TxnResult>> TxnBatch(std::vector<std::vector<Op>> txns) override {
    return Submit(std::move(txns), /*shared=*/false);
  }
  std::vector<Result<TxnResult>> TxnBatchShared(std::vector<std::vector<Op>> txns) override {
    return Submit(std::move(txns), /*shared=*/true);
  }
  Result<SharedList> ListShared(const std::string& prefix) override {
    SharedList out;
    std::shared_lock<std::shared_mutex> lk(stateMu_);
    out.revision = revision_.load();
    for (auto it = current_.lower_bound(prefix);
         it != current_.end() && it->first.compare(0, prefix.size(), prefix) == 0; ++it) {
      out.items.push_back(it->second);
    }
    return out;
  }
  Result<std::unique_ptr<WatchHandle>> Watch(const WatchOptions& opts,
                                             std::function<void(const WatchEvent&)> onEvent,
                                             std::function<void(const Status&)> onClose) override;
  Revision CurrentRevision() override { return revision_.load(); }
  Status Compact(Revision rev) override;
  Revision CompactedRevision() override { return compacted_.load(); }

  SqliteStats Stats() const { return {commits_.load(), txnsCommitted_.load()}; }

 private:
  struct Request {
    std::vector<std::vector<Op>> txns;
    bool shared = false;  // results carry SharedObjects (TxnBatchShared)
    std::vector<Result<TxnResult>> results;
    bool done = false;
  };
  // Pending changes of the batch being committed: key -> new state (nullptr: deleted).
  using Overlay = std::unordered_map<std::string, ObjectPtr>;

  void RunCommitter();
  void CommitBatch(std::vector<Request*>& batch);
  std::vector<Result<TxnResult>> Submit(std::vector<std::vector<Op>> txns, bool shared);
  // Moves the ops' values into the written objects. `shared`: see TxnBatchShared.
  Result<TxnResult> ApplyTxn(std::vector<Op>& ops, bool shared, Revision& rev, Overlay& overlay,
                             std::vector<HubEventPtr>& events, const std::string& now,
                             Status& dbError);
  Result<ListResult> ListLog(const ListOptions& opts, Revision rev, const std::string& startAfter,
                             bool fromToken);
  Result<std::vector<HubEventPtr>> ReadHistory(const std::string& prefix, Revision after,
                                               Revision upTo, bool withPrev);

  const std::string path_;
  const SqliteOptions opts_;
  ReaderPool readers_;

  std::mutex writeMu_;  // the writer connection and its statements
  Db writer_;
  Stmt insert_, setRevision_;
  std::string encodeBuf_;  // ApplyTxn's serialized value (reused: no allocation per write)

  std::shared_mutex stateMu_;                 // current_ (written only by the committer)
  std::map<std::string, ObjectPtr> current_;  // the latest state of every live key
  std::atomic<Revision> revision_{0};
  std::atomic<Revision> compacted_{0};
  std::shared_mutex compactMu_;  // exclusive while compacting; shared by readers of history

  std::shared_ptr<WatchHub> hub_;

  std::mutex qMu_;
  std::condition_variable qCv_, doneCv_;
  std::vector<Request*> queue_;
  bool stopping_ = false;
  std::thread committer_;
  std::atomic<int64_t> commits_{0}, txnsCommitted_{0};
};

Status SqliteStore::Open() {
  KVOL_RETURN_IF_ERROR(writer_.Open(path_, /*create=*/true, opts_.synchronousFull));
  KVOL_RETURN_IF_ERROR(writer_.Exec(kSchema));
  Revision metaRev = 0, maxRev = 0, compacted = 0;
  {
    Stmt s;
    KVOL_RETURN_IF_ERROR(s.Prepare(
        writer_,
        "SELECT (SELECT v FROM kvol_meta WHERE k='revision'), (SELECT v FROM kvol_meta WHERE "
        "k='compacted'), (SELECT IFNULL(MAX(rev), 0) FROM kine)"));
    if (s.Step() != SQLITE_ROW) return writer_.Error("read revision");
    metaRev = s.Int(0);
    compacted = s.Int(1);
    maxRev = s.Int(2);
  }
  revision_ = std::max(metaRev, maxRev);
  compacted_ = compacted;
  {
    Stmt s;
    KVOL_RETURN_IF_ERROR(s.Prepare(
        writer_, "SELECT name, MAX(rev), create_revision, deleted, value FROM kine GROUP BY name"));
    int rc;
    while ((rc = s.Step()) == SQLITE_ROW) {
      if (s.Int(3)) continue;
      auto obj = std::make_shared<Object>();
      obj->key = std::string(s.Text(0));
      obj->modRevision = s.Int(1);
      obj->createRevision = s.Int(2);
      KVOL_ASSIGN_OR_RETURN(obj->value, ParseValue(s.Text(4), obj->key));
      SetResourceVersion(obj->value, obj->modRevision);
      current_.emplace(obj->key, std::move(obj));
    }
    if (rc != SQLITE_DONE) return writer_.Error("load current state");
  }
  KVOL_RETURN_IF_ERROR(insert_.Prepare(
      writer_,
      "INSERT INTO kine(rev, name, created, deleted, create_revision, prev_revision, value) "
      "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)"));
  KVOL_RETURN_IF_ERROR(
      setRevision_.Prepare(writer_, "UPDATE kvol_meta SET v = ?1 WHERE k = 'revision'"));
  hub_ = WatchHub::Start(revision_.load());
  committer_ = std::thread([this] { RunCommitter(); });
  return Status::Ok();
}

std::vector<Result<TxnResult>> SqliteStore::Submit(std::vector<std::vector<Op>> txns, bool shared) {
  if (txns.empty()) return {};
  Request req;
  req.txns = std::move(txns);
  req.shared = shared;
  {
    std::unique_lock<std::mutex> lk(qMu_);
    if (stopping_) {
      std::vector<Result<TxnResult>> out;
      for (size_t i = 0; i < req.txns.size(); ++i) out.emplace_back(Unavailable("store is closed"));
      return out;
    }
    queue_.push_back(&req);
    qCv_.notify_one();
    doneCv_.wait(lk, [&] { return req.done; });
  }
  return std::move(req.results);
}

void SqliteStore::RunCommitter() {
  for (;;) {
    std::vector<Request*> batch;
    {
      std::unique_lock<std::mutex> lk(qMu_);
      qCv_.wait(lk, [&] { return stopping_ || !queue_.empty(); });
      if (queue_.empty()) return;  // stopping, and everything queued is done
      batch.swap(queue_);
    }
    CommitBatch(batch);
    {
      std::lock_guard<std::mutex> lk(qMu_);
      for (Request* r : batch) r->done = true;
    }
    doneCv_.notify_all();
  }
}

void SqliteStore::CommitBatch(std::vector<Request*>& batch) {
  std::lock_guard<std::mutex> wlk(writeMu_);
  const std::string now = api::Now();
  auto failAll = [&](const Status& st) {
    for (Request* r : batch) {
      r->results.clear();
      for (size_t i = 0; i < r->txns.size(); ++i) r->results.emplace_back(st);
    }
  };
  const auto commitStart = std::chrono::steady_clock::now();  // for RecordCommit
  Status dbError = writer_.Exec("BEGIN IMMEDIATE");
  if (!dbError.ok()) return failAll(dbError);

  Revision rev = revision_.load();
  const Revision startRev = rev;
  Overlay overlay;
  std::vector<HubEventPtr> events;
  int64_t txns = 0;
  for (Request* r : batch) {
    r->results.reserve(r->txns.size());
    for (auto& ops : r->txns) {
      r->results.push_back(ApplyTxn(ops, r->shared, rev, overlay, events, now, dbError));
      ++txns;
      if (!dbError.ok()) break;
    }
    if (!dbError.ok()) break;
  }
  if (dbError.ok() && rev != startRev) {
    setRevision_.Bind(1, rev);
    if (setRevision_.Step() != SQLITE_DONE) dbError = writer_.Error("update revision");
    setRevision_.Reset();
  }
  if (dbError.ok()) dbError = writer_.Exec("COMMIT");
  if (!dbError.ok()) {
    (void)writer_.Exec("ROLLBACK");
    return failAll(dbError);
  }
  commits_.fetch_add(1);
  txnsCommitted_.fetch_add(txns);
  RecordCommit(metrics::SecondsSince(commitStart), txns);
  if (rev == startRev) return;
  {
    std::unique_lock<std::shared_mutex> lk(stateMu_);
    for (auto& [key, obj] : overlay) {
      if (obj) {
        current_[key] = obj;
      } else {
        current_.erase(key);
      }
    }
    revision_.store(rev);
  }
  hub_->Publish(std::move(events), rev);
}

Result<TxnResult> SqliteStore::ApplyTxn(std::vector<Op>& ops, bool shared, Revision& rev,
                                        Overlay& overlay, std::vector<HubEventPtr>& events,
                                        const std::string& now, Status& dbError) {
  std::unordered_set<std::string_view> keys;
  for (const Op& op : ops) {
    if (!keys.insert(op.key).second)
      return BadRequest(KeyMsg(op.key) + " appears more than once in one transaction");
  }
  // Plan every op against the state as of this Txn (committed state + earlier Txns of the batch).
  std::vector<ObjectPtr> currents;
  std::vector<PlannedWrite> plans;
  bool anyWrite = false;
  for (Op& op : ops) {
    ObjectPtr cur;
    if (auto o = overlay.find(op.key); o != overlay.end()) {
      cur = o->second;
    } else if (auto c = current_.find(op.key); c != current_.end()) {
      cur = c->second;  // current_ is written only by this thread: no lock needed
    }
    KVOL_ASSIGN_OR_RETURN(PlannedWrite w, PlanOp(std::move(op), cur.get(), now));
    anyWrite |= w.kind != PlannedWrite::Kind::kNone;
    currents.push_back(std::move(cur));
    plans.push_back(std::move(w));
  }
  const Revision newRev = anyWrite ? rev + 1 : rev;
  TxnResult result;
  result.revision = newRev;
  for (size_t i = 0; i < ops.size(); ++i) {
    const ObjectPtr& cur = currents[i];
    PlannedWrite& w = plans[i];
    if (w.kind == PlannedWrite::Kind::kNone) {
      if (shared) {
        result.shared.push_back(cur);
      } else {
        result.objects.push_back(*cur);
      }
      result.deleted.push_back(false);
      continue;
    }
    const bool del = w.kind == PlannedWrite::Kind::kDelete;
    insert_.Bind(1, newRev);
    insert_.Bind(2, ops[i].key);
    insert_.Bind(3, int64_t(w.created));
    insert_.Bind(4, int64_t(del));
    insert_.Bind(5, w.created ? newRev : cur->createRevision);
    insert_.Bind(6, cur ? cur->modRevision : 0);
    encodeBuf_.clear();
    AppendJson(encodeBuf_, w.value);
    insert_.Bind(7, encodeBuf_);
    int rc = insert_.Step();
    insert_.Reset();
    if (rc != SQLITE_DONE) {
      dbError = writer_.Error("insert " + ops[i].key);
      return dbError;
    }
    // One copy of the written object, shared by the watch event and the current state (an
    // aliasing pointer into the event; the hub drops prevValue once the event is delivered, so
    // states do not chain up).
    auto ev = std::make_shared<HubEvent>();
    Object& obj = ev->event.object;
    obj.key = std::move(ops[i].key);
    obj.value = std::move(w.value);
    SetResourceVersion(obj.value, newRev);
    obj.createRevision = w.created ? newRev : cur->createRevision;
    obj.modRevision = newRev;
    ev->event.type = w.created ? WatchEvent::Type::kAdded
                     : del     ? WatchEvent::Type::kDeleted
                               : WatchEvent::Type::kModified;
    ev->event.revision = newRev;
    if (cur) ev->prevValue = std::shared_ptr<const json>(cur, &cur->value);
    ObjectPtr stored(ev, &ev->event.object);
    if (shared) {
      result.shared.push_back(stored);
    } else {
      result.objects.push_back(obj);
    }
    result.deleted.push_back(del);
    overlay[obj.key] = del ? nullptr : std::move(stored);
    events.push_back(std::move(ev));
  }
  rev = newRev;
  return result;
}

Result<ListResult> SqliteStore::List(const ListOptions& opts) {
  if (!opts.continueToken.empty()) {
    KVOL_ASSIGN_OR_RETURN(ContinuePosition pos, DecodeContinue(opts.continueToken, opts.prefix));
    return ListLog(opts, pos.revision, pos.startAfter, /*fromToken=*/true);
  }
  if (opts.limit < 0) return BadRequest("limit must be >= 0");
  {
    // The latest state, from memory.
    std::vector<ObjectPtr> items;
    ListResult out;
    bool more = false;
    int64_t remaining = 0;
    {
      std::shared_lock<std::shared_mutex> lk(stateMu_);
      out.revision = revision_.load();
      if (opts.revision == 0 || opts.revision == out.revision) {
        for (auto it = current_.lower_bound(opts.prefix);
             it != current_.end() && it->first.compare(0, opts.prefix.size(), opts.prefix) == 0;
             ++it) {
          if (opts.filter && !opts.filter(it->second->value)) continue;
          if (opts.limit > 0 && int64_t(items.size()) == opts.limit) {
            more = true;
            if (opts.filter) break;
            ++remaining;
            continue;
          }
          items.push_back(it->second);
        }
      } else {
        out.revision = -1;
      }
    }
    if (out.revision >= 0) {
      out.items.reserve(items.size());
      for (auto& o : items) out.items.push_back(*o);
      if (more) {
        out.continueToken = EncodeContinue(out.revision, opts.prefix, items.back()->key);
        if (!opts.filter) out.remainingItemCount = remaining;
      }
      return out;
    }
  }
  return ListLog(opts, opts.revision, opts.prefix, /*fromToken=*/false);
}

Result<ListResult> SqliteStore::ListLog(const ListOptions& opts, Revision rev,
                                        const std::string& startAfter, bool fromToken) {
  std::shared_lock<std::shared_mutex> clk(compactMu_);
  const Revision current = revision_.load(), compacted = compacted_.load();
  if (rev > current) {
    return Status(Code::kTimeout, "Too large resource version: " + std::to_string(rev) +
                                      ", current: " + std::to_string(current));
  }
  if (rev < compacted) {
    if (fromToken) {
      return Expired(
          "The provided continue parameter is too old to display a consistent list result. You "
          "can start a new list without the continue parameter.");
    }
    return Expired("too old resource version: " + std::to_string(rev) + " (" +
                   std::to_string(compacted) + ")");
  }
  KVOL_ASSIGN_OR_RETURN(std::unique_ptr<Db> db, readers_.Acquire());
  ListResult out;
  out.revision = rev;
  Status st;
  {
    Stmt s;
    st = s.Prepare(*db, kListAt);
    if (st.ok()) {
      const std::string end = PrefixEnd(opts.prefix);
      s.Bind(1, startAfter);
      s.Bind(2, end);
      s.Bind(3, rev);
      bool more = false;
      int64_t remaining = 0;
      int rc;
      while ((rc = s.Step()) == SQLITE_ROW) {
        if (s.Int(3)) continue;  // deleted at this revision
        const bool full = opts.limit > 0 && int64_t(out.items.size()) == opts.limit;
        if (full && !opts.filter) {
          more = true;
          ++remaining;
          continue;
        }
        Object obj;
        obj.key = std::string(s.Text(0));
        obj.modRevision = s.Int(1);
        obj.createRevision = s.Int(2);
        auto v = ParseValue(s.Text(4), obj.key);
        if (!v.ok()) {
          st = v.status();
          break;
        }
        obj.value = std::move(*v);
        if (opts.filter && !opts.filter(obj.value)) continue;
        if (full) {
          more = true;
          break;
        }
        SetResourceVersion(obj.value, obj.modRevision);
        out.items.push_back(std::move(obj));
      }
      if (st.ok() && rc != SQLITE_ROW && rc != SQLITE_DONE) st = db->Error("list");
      if (more) {
        out.continueToken = EncodeContinue(rev, opts.prefix, out.items.back().key);
        if (!opts.filter) out.remainingItemCount = remaining;
      }
    }
  }
  readers_.Release(std::move(db));
  if (!st.ok()) return st;
  return out;
}

Result<std::vector<HubEventPtr>> SqliteStore::ReadHistory(const std::string& prefix, Revision after,
                                                          Revision upTo, bool withPrev) {
  std::vector<HubEventPtr> events;
  KVOL_ASSIGN_OR_RETURN(std::unique_ptr<Db> db, readers_.Acquire());
  Status st;
  {
    Stmt s;
    st = s.Prepare(*db, kHistory);
    if (st.ok()) {
      const std::string end = PrefixEnd(prefix);
      s.Bind(1, after);
      s.Bind(2, upTo);
      s.Bind(3, prefix);
      s.Bind(4, end);
      int rc;
      while ((rc = s.Step()) == SQLITE_ROW) {
        auto ev = std::make_shared<HubEvent>();
        WatchEvent& e = ev->event;
        e.revision = s.Int(0);
        e.type = s.Int(3)   ? WatchEvent::Type::kDeleted
                 : s.Int(2) ? WatchEvent::Type::kAdded
                            : WatchEvent::Type::kModified;
        e.object.key = std::string(s.Text(1));
        e.object.createRevision = s.Int(4);
        e.object.modRevision = e.revision;
        auto v = ParseValue(s.Text(5), e.object.key);
        if (!v.ok()) {
          st = v.status();
          break;
        }
        e.object.value = std::move(*v);
        SetResourceVersion(e.object.value, e.revision);
        if (withPrev && !s.IsNull(6)) {
          auto p = ParseValue(s.Text(6), e.object.key);
          if (p.ok()) ev->prevValue = std::make_shared<const json>(std::move(*p));
        }
        events.push_back(std::move(ev));
      }
      if (st.ok() && rc != SQLITE_DONE) st = db->Error("read history");
    }
  }
  readers_.Release(std::move(db));
  if (!st.ok()) return st;
  return events;
}

Result<std::unique_ptr<WatchHandle>> SqliteStore::Watch(
    const WatchOptions& opts, std::function<void(const WatchEvent&)> onEvent,
    std::function<void(const Status&)> onClose) {
  if (!onEvent) return BadRequest("watch needs an event callback");
  std::shared_lock<std::shared_mutex> clk(compactMu_);
  const Revision after = opts.afterRevision, compacted = compacted_.load();
  if (after < 0) return BadRequest("afterRevision must be >= 0");
  if (after > 0 && after < compacted) {
    return Expired("too old resource version: " + std::to_string(after) + " (" +
                   std::to_string(compacted) + ")");
  }
  const bool withPrev = bool(opts.filter);
  return hub_->Add(opts, std::move(onEvent), std::move(onClose),
                   [&](Revision upTo) { return ReadHistory(opts.prefix, after, upTo, withPrev); });
}

Status SqliteStore::Compact(Revision rev) {
  if (rev <= 0) return BadRequest("compact revision must be > 0");
  std::unique_lock<std::shared_mutex> clk(compactMu_);
  if (rev <= compacted_.load()) return Status::Ok();
  if (rev > revision_.load()) {
    return BadRequest("compact revision " + std::to_string(rev) +
                      " is a future revision (current " + std::to_string(revision_.load()) + ")");
  }
  std::lock_guard<std::mutex> wlk(writeMu_);
  KVOL_RETURN_IF_ERROR(writer_.Exec("BEGIN IMMEDIATE"));
  Status st;
  {
    Stmt del, meta;
    st = del.Prepare(writer_, kCompact);
    if (st.ok()) st = meta.Prepare(writer_, "UPDATE kvol_meta SET v = ?1 WHERE k = 'compacted'");
    if (st.ok()) {
      del.Bind(1, rev);
      if (del.Step() != SQLITE_DONE) st = writer_.Error("compact");
    }
    if (st.ok()) {
      meta.Bind(1, rev);
      if (meta.Step() != SQLITE_DONE) st = writer_.Error("record compaction");
    }
  }
  if (st.ok()) st = writer_.Exec("COMMIT");
  if (!st.ok()) {
    (void)writer_.Exec("ROLLBACK");
    return st;
  }
  compacted_.store(rev);
  return Status::Ok();
}

}  // namespace

Result<std::unique_ptr<Store>> OpenSqliteStore(const std::string& path, const SqliteOptions& opts) {
  auto store = std::make_unique<SqliteStore>(path, opts);
  KVOL_RETURN_IF_ERROR(store->Open());
  return std::unique_ptr<Store>(std::move(store));
}

SqliteStats GetSqliteStats(Store& store) {
  auto* s = dynamic_cast<SqliteStore*>(&store);
  return s ? s->Stats() : SqliteStats{};
}

}  // namespace kvol::store
