#include "kvol/store/sqlite_store.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <set>
#include <thread>

#include "src/store/sqlite/test_util.h"

namespace kvol::store {
namespace {

using testing::Collector;
using testing::Describe;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using testing::TempDir;

json Pvc(const std::string& name, const std::string& phase = "Pending") {
  return {{"apiVersion", "v1"},
          {"kind", "PersistentVolumeClaim"},
          {"metadata", {{"name", name}, {"namespace", "default"}}},
          {"status", {{"phase", phase}}}};
}

WatchOptions WO(std::string prefix, Revision after = 0,
                std::function<bool(const json&)> filter = nullptr) {
  WatchOptions o;
  o.prefix = std::move(prefix);
  o.afterRevision = after;
  o.filter = std::move(filter);
  return o;
}

ListOptions LO(std::string prefix, int64_t limit = 0, Revision rev = 0,
               std::function<bool(const json&)> filter = nullptr) {
  ListOptions o;
  o.prefix = std::move(prefix);
  o.limit = limit;
  o.revision = rev;
  o.filter = std::move(filter);
  return o;
}

std::string K(const std::string& name) { return KeyFor("persistentvolumeclaims", "default", name); }

class SqliteStoreTest : public ::testing::Test {
 protected:
  void SetUp() override { Reopen(); }
  void Reopen() {
    store_.reset();
    auto s = OpenSqliteStore(dir_.File("kvol.db"));
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    store_ = std::move(*s);
  }
  TempDir dir_;
  std::unique_ptr<Store> store_;
};

TEST_F(SqliteStoreTest, CreateGetAndAlreadyExists) {
  auto created = store_->Create(K("a"), Pvc("a"));
  ASSERT_TRUE(created.ok()) << created.status().ToString();
  EXPECT_EQ(created->modRevision, 1);
  EXPECT_EQ(created->createRevision, 1);
  EXPECT_EQ(created->value["metadata"]["resourceVersion"], "1");

  auto got = store_->Get(K("a"));
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->value, created->value);

  auto again = store_->Create(K("a"), Pvc("a"));
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.status().code(), Code::kAlreadyExists);
  EXPECT_EQ(again.status().message(),
            "key \"/registry/persistentvolumeclaims/default/a\" already exists");
  EXPECT_EQ(store_->CurrentRevision(), 1);

  auto missing = store_->Get(K("nope"));
  EXPECT_EQ(missing.status().code(), Code::kNotFound);
  EXPECT_EQ(store_->Update(K("nope"), Pvc("nope")).status().code(), Code::kNotFound);
  EXPECT_EQ(store_->Delete(K("nope")).status().code(), Code::kNotFound);
}

TEST_F(SqliteStoreTest, OptimisticConcurrencyTwoWritersOneConflict) {
  auto created = store_->Create(K("a"), Pvc("a"));
  ASSERT_TRUE(created.ok());
  // Both writers read revision 1; the first update wins, the second is stale.
  auto first = store_->Update(K("a"), Pvc("a", "Bound"), created->modRevision);
  ASSERT_TRUE(first.ok());
  EXPECT_EQ(first->modRevision, 2);
  EXPECT_EQ(first->createRevision, 1);
  auto second = store_->Update(K("a"), Pvc("a", "Lost"), created->modRevision);
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.status().code(), Code::kConflict);
  EXPECT_THAT(second.status().message(),
              HasSubstr("key \"/registry/persistentvolumeclaims/default/a\""));
  EXPECT_EQ(store_->Get(K("a"))->value["status"]["phase"], "Bound");
  EXPECT_EQ(store_->CurrentRevision(), 2);
}

TEST_F(SqliteStoreTest, FailedPreconditionInTxnChangesNothingAndWatchersSeeNothing) {
  ASSERT_TRUE(store_->Create(K("a"), Pvc("a")).ok());
  Collector c;
  auto w = store_->Watch(WO(PrefixFor("persistentvolumeclaims")), c.Fn());
  ASSERT_TRUE(w.ok());
  auto r = store_->Txn({Op::Create(K("b"), Pvc("b")), Op::Update(K("a"), Pvc("a", "Bound"), 99)});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Code::kConflict);
  EXPECT_EQ(store_->Get(K("b")).status().code(), Code::kNotFound);
  EXPECT_EQ(store_->Get(K("a"))->value["status"]["phase"], "Pending");
  EXPECT_EQ(store_->CurrentRevision(), 1);
  // A later write is the first thing the watcher sees.
  ASSERT_TRUE(store_->Create(K("marker"), Pvc("marker")).ok());
  auto events = c.WaitFor(1);
  EXPECT_THAT(Describe(events),
              ElementsAre("ADDED /registry/persistentvolumeclaims/default/marker@2"));
}

TEST_F(SqliteStoreTest, TxnCommitsAllOpsAtOneRevision) {
  ASSERT_TRUE(store_->Create(K("a"), Pvc("a")).ok());
  auto r = store_->Txn({Op::Create(K("b"), Pvc("b")), Op::Update(K("a"), Pvc("a", "Bound"), 1)});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->revision, 2);
  ASSERT_EQ(r->objects.size(), 2u);
  EXPECT_EQ(r->objects[0].modRevision, 2);
  EXPECT_EQ(r->objects[1].modRevision, 2);
  auto dup = store_->Txn({Op::Create(K("c"), Pvc("c")), Op::Update(K("c"), Pvc("c"))});
  EXPECT_EQ(dup.status().code(), Code::kBadRequest);
}

TEST_F(SqliteStoreTest, FinalizerDeleteMarksThenRemovingLastFinalizerDeletes) {
  json v = Pvc("a");
  v["metadata"]["finalizers"] = {"kubernetes.io/pvc-protection"};
  ASSERT_TRUE(store_->Create(K("a"), v).ok());
  Collector c;
  auto w = store_->Watch(WO(K("a")), c.Fn());
  ASSERT_TRUE(w.ok());

  bool deleted = true;
  auto marked = store_->Delete(K("a"), kAnyRevision, &deleted);
  ASSERT_TRUE(marked.ok()) << marked.status().ToString();
  EXPECT_FALSE(deleted);
  const json& meta = marked->value["metadata"];
  ASSERT_TRUE(meta.contains("deletionTimestamp"));
  EXPECT_EQ(meta["deletionTimestamp"].get<std::string>().size(), 20u);  // 2026-01-02T03:04:05Z
  EXPECT_EQ(meta["deletionTimestamp"].get<std::string>().back(), 'Z');
  EXPECT_EQ(meta["deletionGracePeriodSeconds"], 0);
  EXPECT_TRUE(store_->Get(K("a")).ok());

  // Deleting again while finalizers remain writes nothing.
  auto again = store_->Delete(K("a"), kAnyRevision, &deleted);
  ASSERT_TRUE(again.ok());
  EXPECT_FALSE(deleted);
  EXPECT_EQ(again->modRevision, marked->modRevision);

  // The controller removes its finalizer: the object goes away.
  json edited = marked->value;
  edited["metadata"]["finalizers"] = json::array();
  auto removed = store_->Txn({Op::Update(K("a"), edited, marked->modRevision)});
  ASSERT_TRUE(removed.ok()) << removed.status().ToString();
  EXPECT_TRUE(removed->deleted[0]);
  EXPECT_EQ(store_->Get(K("a")).status().code(), Code::kNotFound);

  auto events = c.WaitFor(2);
  EXPECT_THAT(Describe(events),
              ElementsAre("MODIFIED /registry/persistentvolumeclaims/default/a@2",
                          "DELETED /registry/persistentvolumeclaims/default/a@3"));
  EXPECT_TRUE(events[0].object.value["metadata"].contains("deletionTimestamp"));
  EXPECT_EQ(events[1].object.value["metadata"]["resourceVersion"], "3");
  EXPECT_EQ(events[1].object.value["metadata"]["finalizers"], json::array());
}

TEST_F(SqliteStoreTest, ForceDeleteIgnoresFinalizers) {
  json v = Pvc("a");
  v["metadata"]["finalizers"] = {"x"};
  ASSERT_TRUE(store_->Create(K("a"), v).ok());
  Op op = Op::Delete(K("a"));
  op.force = true;
  auto r = store_->Txn({op});
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->deleted[0]);
  EXPECT_EQ(store_->Get(K("a")).status().code(), Code::kNotFound);
}

TEST_F(SqliteStoreTest, ListPaginationReadsOneRevisionWhileWritesGoOn) {
  for (int i = 0; i < 10; ++i)
    ASSERT_TRUE(store_->Create(K("p" + std::to_string(i)), Pvc("x")).ok());
  ASSERT_TRUE(store_->Create(KeyFor("persistentvolumes", "", "pv"), Pvc("pv")).ok());
  ListOptions opts = LO(PrefixFor("persistentvolumeclaims", "default"), 4);
  auto page1 = store_->List(opts);
  ASSERT_TRUE(page1.ok());
  EXPECT_EQ(page1->revision, 11);
  ASSERT_EQ(page1->items.size(), 4u);
  EXPECT_EQ(page1->remainingItemCount, 6);
  ASSERT_FALSE(page1->continueToken.empty());

  // Writes between pages: a new key, a delete, an update. The pages still show revision 11.
  ASSERT_TRUE(store_->Create(K("p45"), Pvc("new")).ok());
  ASSERT_TRUE(store_->Delete(K("p5")).ok());
  ASSERT_TRUE(store_->Update(K("p6"), Pvc("x", "Bound")).ok());

  std::vector<std::string> names;
  for (auto& o : page1->items) names.push_back(o.key.substr(o.key.rfind('/') + 1));
  std::string token = page1->continueToken;
  while (!token.empty()) {
    ListOptions next = opts;
    next.continueToken = token;
    auto page = store_->List(next);
    ASSERT_TRUE(page.ok()) << page.status().ToString();
    EXPECT_EQ(page->revision, 11);
    for (auto& o : page->items) {
      names.push_back(o.key.substr(o.key.rfind('/') + 1));
      EXPECT_EQ(o.value["status"]["phase"], "Pending");
      EXPECT_EQ(o.value["metadata"]["resourceVersion"], std::to_string(o.modRevision));
    }
    token = page->continueToken;
  }
  EXPECT_THAT(names, ElementsAre("p0", "p1", "p2", "p3", "p4", "p5", "p6", "p7", "p8", "p9"));

  // The latest list sees the writes.
  auto latest = store_->List(LO(opts.prefix));
  ASSERT_TRUE(latest.ok());
  EXPECT_EQ(latest->items.size(), 10u);
  EXPECT_EQ(latest->revision, 14);
  EXPECT_TRUE(latest->continueToken.empty());

  // A filter counts only matching objects.
  auto bound = store_->List(
      LO(opts.prefix, 0, 0, [](const json& v) { return v["status"]["phase"] == "Bound"; }));
  ASSERT_TRUE(bound.ok());
  ASSERT_EQ(bound->items.size(), 1u);
  EXPECT_EQ(bound->items[0].key, K("p6"));

  // After compaction past 11, the token is too old.
  ASSERT_TRUE(store_->Compact(13).ok());
  ListOptions stale = opts;
  stale.continueToken = page1->continueToken;
  EXPECT_EQ(store_->List(stale).status().code(), Code::kExpired);
  auto at11 = store_->List(LO(opts.prefix, 0, 11));
  EXPECT_EQ(at11.status().code(), Code::kExpired);
  EXPECT_EQ(at11.status().message(), "too old resource version: 11 (13)");
  // A snapshot at the compacted revision is still whole: p45 created, p5 deleted, p6 pending.
  auto at13 = store_->List(LO(opts.prefix, 0, 13));
  ASSERT_TRUE(at13.ok()) << at13.status().ToString();
  EXPECT_EQ(at13->items.size(), 10u);
  for (auto& o : at13->items) {
    EXPECT_NE(o.key, K("p5"));
    EXPECT_EQ(o.value["status"]["phase"], "Pending");
  }
}

TEST_F(SqliteStoreTest, WatchFromOldRevisionReplaysMissedEventsThenLive) {
  auto a = store_->Create(K("a"), Pvc("a"));                                           // 1
  ASSERT_TRUE(store_->Create(KeyFor("persistentvolumes", "", "pv"), Pvc("pv")).ok());  // 2
  ASSERT_TRUE(store_->Update(K("a"), Pvc("a", "Bound")).ok());                         // 3
  ASSERT_TRUE(store_->Create(K("b"), Pvc("b")).ok());                                  // 4
  ASSERT_TRUE(store_->Delete(K("b")).ok());                                            // 5
  Collector c;
  auto w = store_->Watch(WO(PrefixFor("persistentvolumeclaims"), 1), c.Fn());
  ASSERT_TRUE(w.ok()) << w.status().ToString();
  ASSERT_TRUE(store_->Update(K("a"), Pvc("a", "Lost")).ok());  // 6
  auto events = c.WaitFor(4);
  EXPECT_THAT(Describe(events),
              ElementsAre("MODIFIED /registry/persistentvolumeclaims/default/a@3",
                          "ADDED /registry/persistentvolumeclaims/default/b@4",
                          "DELETED /registry/persistentvolumeclaims/default/b@5",
                          "MODIFIED /registry/persistentvolumeclaims/default/a@6"));
  EXPECT_EQ(events[0].object.value["status"]["phase"], "Bound");
  EXPECT_EQ(events[2].object.value["metadata"]["resourceVersion"], "5");
  EXPECT_EQ(events[2].object.modRevision, 5);
  EXPECT_EQ(events[3].object.value["status"]["phase"], "Lost");
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  EXPECT_EQ(c.Events().size(), 4u);  // exactly once
}

TEST_F(SqliteStoreTest, WatchReplayRacingWritersIsGapFreeAndExactlyOnce) {
  std::atomic<bool> stop{false};
  std::thread writer([&] {
    for (int i = 0; !stop; ++i)
      ASSERT_TRUE(store_->Create(K("w" + std::to_string(i)), Pvc("w")).ok());
  });
  while (store_->CurrentRevision() < 20) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  Collector c;
  auto w = store_->Watch(WO("", 5), c.Fn());
  ASSERT_TRUE(w.ok());
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  stop = true;
  writer.join();
  Revision last = store_->CurrentRevision();
  auto events = c.WaitFor(size_t(last - 5));
  ASSERT_EQ(events.size(), size_t(last - 5));
  for (size_t i = 0; i < events.size(); ++i) EXPECT_EQ(events[i].revision, Revision(6 + i));
}

TEST_F(SqliteStoreTest, WatchFromCompactedRevisionIsExpired) {
  for (int i = 0; i < 5; ++i)
    ASSERT_TRUE(store_->Create(K("c" + std::to_string(i)), Pvc("c")).ok());
  ASSERT_TRUE(store_->Update(K("c0"), Pvc("c0", "Bound")).ok());  // 6
  ASSERT_TRUE(store_->Compact(4).ok());
  EXPECT_EQ(store_->CompactedRevision(), 4);
  Collector c;
  auto w = store_->Watch(WO("", 3), c.Fn());
  ASSERT_FALSE(w.ok());
  EXPECT_EQ(w.status().code(), Code::kExpired);
  EXPECT_EQ(w.status().message(), "too old resource version: 3 (4)");
  auto ok = store_->Watch(WO("", 4), c.Fn());
  ASSERT_TRUE(ok.ok());
  EXPECT_THAT(Describe(c.WaitFor(2)),
              ElementsAre("ADDED /registry/persistentvolumeclaims/default/c4@5",
                          "MODIFIED /registry/persistentvolumeclaims/default/c0@6"));
  EXPECT_TRUE(store_->Compact(2).ok());  // already compacted: no-op
  EXPECT_EQ(store_->Compact(100).code(), Code::kBadRequest);
  // Automatic policy: keep the last 1 revision.
  EXPECT_TRUE(store_->CompactKeepingLast(1).ok());
  EXPECT_EQ(store_->CompactedRevision(), 5);
  EXPECT_EQ(store_->Get(K("c1"))->modRevision, 2);  // live keys keep their latest row
}

TEST_F(SqliteStoreTest, WatchFilterTurnsTransitionsIntoAddedAndDeleted) {
  auto bound = [](const json& v) { return v["status"]["phase"] == "Bound"; };
  ASSERT_TRUE(store_->Create(K("a"), Pvc("a")).ok());
  Collector c;
  auto w = store_->Watch(WO("", 0, bound), c.Fn());
  ASSERT_TRUE(w.ok());
  ASSERT_TRUE(store_->Update(K("a"), Pvc("a", "Bound")).ok());    // enters: ADDED
  ASSERT_TRUE(store_->Update(K("a"), Pvc("a", "Bound")).ok());    // stays: MODIFIED
  ASSERT_TRUE(store_->Update(K("a"), Pvc("a", "Lost")).ok());     // leaves: DELETED
  ASSERT_TRUE(store_->Update(K("a"), Pvc("a", "Pending")).ok());  // outside: nothing
  ASSERT_TRUE(store_->Create(K("z"), Pvc("z", "Bound")).ok());
  EXPECT_THAT(Describe(c.WaitFor(4)),
              ElementsAre("ADDED /registry/persistentvolumeclaims/default/a@2",
                          "MODIFIED /registry/persistentvolumeclaims/default/a@3",
                          "DELETED /registry/persistentvolumeclaims/default/a@4",
                          "ADDED /registry/persistentvolumeclaims/default/z@6"));
  // The same from history.
  Collector h;
  auto hw = store_->Watch(WO("", 1, bound), h.Fn());
  ASSERT_TRUE(hw.ok());
  EXPECT_EQ(Describe(h.WaitFor(4)), Describe(c.Events()));
}

TEST_F(SqliteStoreTest, TxnBatchSharedHandsOutTheStoredObjects) {
  ASSERT_TRUE(store_->Create(K("a"), Pvc("a")).ok());
  std::vector<std::vector<Op>> txns;
  txns.push_back({Op::Update(K("a"), Pvc("a", "Bound"), 1), Op::Create(K("b"), Pvc("b"))});
  txns.push_back({Op::Update(K("a"), Pvc("a", "Lost"), 1)});  // stale precondition
  auto rs = store_->TxnBatchShared(std::move(txns));
  ASSERT_EQ(rs.size(), 2u);
  ASSERT_TRUE(rs[0].ok()) << rs[0].status().ToString();
  EXPECT_TRUE(rs[0]->objects.empty());
  ASSERT_EQ(rs[0]->shared.size(), 2u);
  EXPECT_THAT(rs[0]->deleted, ElementsAre(false, false));
  EXPECT_EQ(rs[0]->shared[0]->key, K("a"));
  EXPECT_EQ(rs[0]->shared[0]->modRevision, 2);
  EXPECT_EQ(rs[0]->shared[0]->value["status"]["phase"], "Bound");
  EXPECT_EQ(rs[0]->shared[0]->value["metadata"]["resourceVersion"], "2");
  EXPECT_EQ(rs[0]->shared[1]->createRevision, 2);
  EXPECT_EQ(rs[1].status().code(), Code::kConflict);
  // The same objects Get and List return, and ListShared shares them.
  auto got = store_->Get(K("a"));
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->value, rs[0]->shared[0]->value);
  auto ls = store_->ListShared(PrefixFor("persistentvolumeclaims"));
  ASSERT_TRUE(ls.ok());
  EXPECT_EQ(ls->revision, 2);
  ASSERT_EQ(ls->items.size(), 2u);
  EXPECT_EQ(ls->items[0], rs[0]->shared[0]);  // the very object, not a copy
  EXPECT_EQ(ls->items[1]->key, K("b"));
}

TEST_F(SqliteStoreTest, StoredStatesDoNotKeepEarlierStatesAlive) {
  // The current state shares its JSON with its watch event, whose prevValue (the earlier state)
  // is dropped once delivered: a key updated many times holds one state, not a chain.
  auto bound = [](const json& v) { return v["status"]["phase"] == "Bound"; };
  ASSERT_TRUE(store_->Create(K("a"), Pvc("a")).ok());
  Collector c;
  auto w = store_->Watch(WO("", 0, bound), c.Fn());
  ASSERT_TRUE(w.ok());
  std::weak_ptr<const Object> first;
  {
    auto ls = store_->ListShared(K("a"));
    ASSERT_TRUE(ls.ok());
    ASSERT_EQ(ls->items.size(), 1u);
    first = ls->items[0];
  }
  ASSERT_TRUE(store_->Update(K("a"), Pvc("a", "Bound")).ok());
  ASSERT_TRUE(store_->Update(K("a"), Pvc("a", "Lost")).ok());
  EXPECT_THAT(Describe(c.WaitFor(2)),
              ElementsAre("ADDED /registry/persistentvolumeclaims/default/a@2",
                          "DELETED /registry/persistentvolumeclaims/default/a@3"));
  for (int i = 0; i < 200 && !first.expired(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  EXPECT_TRUE(first.expired());
}

TEST_F(SqliteStoreTest, ThousandsOfWatchersEachGetTheirOwnEvents) {
  constexpr int kWatchers = 2000, kNamespaces = 20;
  std::vector<std::atomic<int>> counts(kWatchers);
  std::vector<std::unique_ptr<WatchHandle>> handles;
  for (int i = 0; i < kWatchers; ++i) {
    auto w = store_->Watch(WO(PrefixFor("pods", "ns" + std::to_string(i % kNamespaces))),
                           [&counts, i](const WatchEvent&) { ++counts[i]; });
    ASSERT_TRUE(w.ok());
    handles.push_back(std::move(*w));
  }
  Collector done;
  auto all = store_->Watch(WO(""), done.Fn());
  // 3 pods in each namespace.
  for (int n = 0; n < kNamespaces; ++n) {
    for (int p = 0; p < 3; ++p) {
      ASSERT_TRUE(
          store_
              ->Create(KeyFor("pods", "ns" + std::to_string(n), "p" + std::to_string(p)), Pvc("p"))
              .ok());
    }
  }
  ASSERT_EQ(done.WaitFor(kNamespaces * 3).size(), size_t(kNamespaces * 3));
  handles.clear();
  for (int i = 0; i < kWatchers; ++i) EXPECT_EQ(counts[i].load(), 3) << "watcher " << i;
}

TEST_F(SqliteStoreTest, DestroyedHandleGetsNoMoreCallbacks) {
  std::atomic<int> calls{0};
  std::atomic<bool> destroyed{false};
  std::atomic<bool> lateCall{false};
  auto w = store_->Watch(WO(""), [&](const WatchEvent&) {
    if (destroyed) lateCall = true;
    std::this_thread::sleep_for(std::chrono::microseconds(200));
    ++calls;
  });
  ASSERT_TRUE(w.ok());
  std::thread writer([&] {
    for (int i = 0; i < 200; ++i)
      ASSERT_TRUE(store_->Create(K("d" + std::to_string(i)), Pvc("d")).ok());
  });
  while (calls < 5) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  w->reset();
  destroyed = true;
  writer.join();
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  EXPECT_FALSE(lateCall);
}

TEST_F(SqliteStoreTest, HandleMayBeDestroyedInsideItsOwnCallback) {
  Collector after;
  std::unique_ptr<WatchHandle> self;
  std::mutex mu;
  std::atomic<int> calls{0};
  auto w = store_->Watch(WO(""), [&](const WatchEvent&) {
    ++calls;
    std::lock_guard<std::mutex> lk(mu);
    self.reset();
  });
  ASSERT_TRUE(w.ok());
  {
    std::lock_guard<std::mutex> lk(mu);
    self = std::move(*w);
  }
  auto other = store_->Watch(WO(""), after.Fn());
  ASSERT_TRUE(store_->Create(K("x"), Pvc("x")).ok());
  ASSERT_TRUE(store_->Create(K("y"), Pvc("y")).ok());
  after.WaitFor(2);
  EXPECT_EQ(calls.load(), 1);
}

TEST_F(SqliteStoreTest, StoreCloseEndsWatchesWithOnClose) {
  std::atomic<int> closed{0};
  Status why;
  auto w = store_->Watch(
      WO(""), [](const WatchEvent&) {},
      [&](const Status& s) {
        why = s;
        ++closed;
      });
  ASSERT_TRUE(w.ok());
  store_.reset();
  EXPECT_EQ(closed.load(), 1);
  EXPECT_EQ(why.code(), Code::kUnavailable);
  w->reset();  // the handle outlives the store safely
}

TEST_F(SqliteStoreTest, TxnBatchTxnsSucceedOrFailIndependently) {
  ASSERT_TRUE(store_->Create(K("a"), Pvc("a")).ok());
  std::vector<std::vector<Op>> txns;
  txns.push_back({Op::Create(K("b"), Pvc("b"))});
  txns.push_back({Op::Create(K("a"), Pvc("a"))});  // exists
  txns.push_back({Op::Update(K("a"), Pvc("a", "Bound"), 1), Op::Create(K("c"), Pvc("c"))});
  txns.push_back({Op::Update(K("a"), Pvc("a", "Lost"), 1)});   // stale after the previous txn
  txns.push_back({Op::Update(K("b"), Pvc("b", "Bound"), 2)});  // sees the first txn
  auto before = GetSqliteStats(*store_);
  auto rs = store_->TxnBatch(std::move(txns));
  auto after = GetSqliteStats(*store_);
  EXPECT_EQ(after.commits - before.commits, 1);
  ASSERT_EQ(rs.size(), 5u);
  ASSERT_TRUE(rs[0].ok());
  EXPECT_EQ(rs[0]->revision, 2);
  EXPECT_EQ(rs[1].status().code(), Code::kAlreadyExists);
  ASSERT_TRUE(rs[2].ok());
  EXPECT_EQ(rs[2]->revision, 3);
  EXPECT_EQ(rs[3].status().code(), Code::kConflict);
  ASSERT_TRUE(rs[4].ok()) << rs[4].status().ToString();
  EXPECT_EQ(rs[4]->revision, 4);
  EXPECT_EQ(store_->Get(K("a"))->value["status"]["phase"], "Bound");
  EXPECT_EQ(store_->Get(K("b"))->value["status"]["phase"], "Bound");
  EXPECT_TRUE(store_->Get(K("c")).ok());
}

TEST_F(SqliteStoreTest, ReopenKeepsRevisionAndData) {
  ASSERT_TRUE(store_->Create(K("a"), Pvc("a")).ok());
  ASSERT_TRUE(store_->Create(K("b"), Pvc("b")).ok());
  ASSERT_TRUE(store_->Delete(K("b")).ok());  // 3: the last write is a delete
  ASSERT_TRUE(store_->Compact(3).ok());      // its tombstone is gone from the log
  Reopen();
  EXPECT_EQ(store_->CurrentRevision(), 3);
  EXPECT_EQ(store_->CompactedRevision(), 3);
  auto a = store_->Get(K("a"));
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(a->value["metadata"]["resourceVersion"], "1");
  EXPECT_EQ(store_->Get(K("b")).status().code(), Code::kNotFound);
  auto c = store_->Create(K("c"), Pvc("c"));
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->modRevision, 4);
}

TEST_F(SqliteStoreTest, ManyConcurrentWritersAllSucceedWithUniqueRevisionsAndShareCommits) {
  constexpr int kThreads = 8, kPerThread = 40;
  std::mutex mu;
  std::set<Revision> revs;
  std::vector<std::thread> ts;
  auto before = GetSqliteStats(*store_);
  for (int t = 0; t < kThreads; ++t) {
    ts.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        auto r = store_->Create(K("t" + std::to_string(t) + "-" + std::to_string(i)), Pvc("t"));
        ASSERT_TRUE(r.ok()) << r.status().ToString();
        std::lock_guard<std::mutex> lk(mu);
        EXPECT_TRUE(revs.insert(r->modRevision).second);
      }
    });
  }
  for (auto& t : ts) t.join();
  auto after = GetSqliteStats(*store_);
  EXPECT_EQ(revs.size(), size_t(kThreads * kPerThread));
  EXPECT_EQ(store_->CurrentRevision(), kThreads * kPerThread);
  EXPECT_EQ(after.txns - before.txns, kThreads * kPerThread);
  EXPECT_LT(after.commits - before.commits, kThreads * kPerThread);  // fsyncs were shared
  auto list = store_->List(LO(PrefixFor("persistentvolumeclaims")));
  ASSERT_TRUE(list.ok());
  EXPECT_EQ(list->items.size(), size_t(kThreads * kPerThread));
}

TEST_F(SqliteStoreTest, GuaranteedUpdateRetriesOnConflictAndSkipsNoOps) {
  ASSERT_TRUE(store_->Create(K("a"), json{{"metadata", {{"name", "a"}}}, {"n", 0}}).ok());
  constexpr int kThreads = 4, kEach = 25;
  std::vector<std::thread> ts;
  for (int t = 0; t < kThreads; ++t) {
    ts.emplace_back([&] {
      for (int i = 0; i < kEach; ++i) {
        auto r = store_->GuaranteedUpdate(K("a"), [](json& v) {
          v["n"] = v["n"].get<int>() + 1;
          return Status::Ok();
        });
        ASSERT_TRUE(r.ok()) << r.status().ToString();
      }
    });
  }
  for (auto& t : ts) t.join();
  EXPECT_EQ(store_->Get(K("a"))->value["n"], kThreads * kEach);
  Revision rev = store_->CurrentRevision();
  auto same = store_->GuaranteedUpdate(K("a"), [](json&) { return Status::Ok(); });
  ASSERT_TRUE(same.ok());
  EXPECT_EQ(store_->CurrentRevision(), rev);
  auto aborted = store_->GuaranteedUpdate(K("a"), [](json&) { return Invalid("no"); });
  EXPECT_EQ(aborted.status().code(), Code::kInvalid);
}

}  // namespace
}  // namespace kvol::store
