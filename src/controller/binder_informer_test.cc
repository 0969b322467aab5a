// Informer behaviour the binder's batched writes rely on, over a real SQLite store and its watch:
// BeginWrites/EndWrites (the watch's copy of an own write is not applied a second time; someone
// else's write during the bracket is not lost), a relist decoded on two threads, and the binder's
// pipelined commits.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <mutex>
#include <thread>

#include "kvol/controller/binder.h"
#include "kvol/store/sqlite_store.h"
#include "src/controller/controller_test_util.h"

namespace kvol::controller {
namespace {

using ::testing::ElementsAre;
using testutil::PV;

std::string PVKey(const std::string& name) { return store::KeyFor("persistentvolumes", "", name); }

class InformerWritesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string t = (std::filesystem::temp_directory_path() / "kvol-informer-XXXXXX").string();
    ASSERT_NE(::mkdtemp(t.data()), nullptr);
    dir_ = t;
    auto s = store::OpenSqliteStore(dir_ + "/store.db");
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    store_ = std::move(*s);
  }
  void TearDown() override {
    store_.reset();
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
  // Waits until a watch registered after the informer's saw `n` events: the informer's own watch
  // callback (same dispatcher thread, registered first) has then run for them too.
  void WaitForWatch(size_t n) {
    for (int i = 0; i < 2000; ++i) {
      {
        std::lock_guard<std::mutex> lk(mu_);
        if (watched_ >= n) return;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    FAIL() << "watch did not deliver " << n << " events";
  }
  std::unique_ptr<store::WatchHandle> Follow() {
    store::WatchOptions wo;
    wo.prefix = store::PrefixFor("persistentvolumes");
    auto w = store_->Watch(wo, [this](const store::WatchEvent&) {
      std::lock_guard<std::mutex> lk(mu_);
      ++watched_;
    });
    EXPECT_TRUE(w.ok());
    return w.ok() ? std::move(*w) : nullptr;
  }
  void Record(PVInformer& inf) {
    PVInformer::Handlers h;
    h.onAdd = [this](const PVInformer::ItemPtr& v) { Seen("add " + v->obj.metadata.name); };
    h.onUpdate = [this](const PVInformer::ItemPtr&, const PVInformer::ItemPtr& v) {
      Seen("update " + v->obj.metadata.name + "@" + std::to_string(v->modRevision));
    };
    h.onDelete = [this](const PVInformer::ItemPtr& v) { Seen("delete " + v->obj.metadata.name); };
    inf.AddHandlers(std::move(h));
  }
  void Seen(const std::string& s) {
    std::lock_guard<std::mutex> lk(mu_);
    seen_.push_back(s);
  }
  std::vector<std::string> SeenSoFar() {
    std::lock_guard<std::mutex> lk(mu_);
    return seen_;
  }

  std::string dir_;
  std::unique_ptr<store::Store> store_;
  std::mutex mu_;
  size_t watched_ = 0;
  std::vector<std::string> seen_;
};

TEST_F(InformerWritesTest, OwnWriteIsAppliedOnceAndOthersWriteDuringBracketIsFetched) {
  ASSERT_TRUE(store_->Create(PVKey("a"), PV("a", "1Gi")).ok());  // rev 1
  ASSERT_TRUE(store_->Create(PVKey("b"), PV("b", "1Gi")).ok());  // rev 2
  PVInformer inf(*store_, store::PrefixFor("persistentvolumes"));
  Record(inf);
  ASSERT_TRUE(inf.Start().ok());
  auto follow = Follow();
  EXPECT_THAT(SeenSoFar(), ElementsAre("add a", "add b"));

  const std::vector<std::string> keys = {PVKey("a"), PVKey("b")};
  inf.BeginWrites(keys);
  // Our write of "a", built into an item as the binder does, and someone else's write of "b".
  std::vector<std::vector<store::Op>> txns;
  txns.push_back({store::Op::Update(PVKey("a"), PV("a", "2Gi"), 1)});
  auto rs = store_->TxnBatchShared(std::move(txns));
  ASSERT_TRUE(rs[0].ok());
  ASSERT_TRUE(store_->Update(PVKey("b"), PV("b", "5Gi")).ok());  // rev 4
  WaitForWatch(2);
  // Both watch events arrived during the bracket: neither was applied.
  EXPECT_EQ(inf.Get(PVKey("a"))->modRevision, 1);
  EXPECT_EQ(inf.Get(PVKey("b"))->modRevision, 2);
  inf.Assume(rs[0]->shared[0]);
  EXPECT_EQ(inf.Get(PVKey("a"))->raw["metadata"]["resourceVersion"], "3");
  inf.EndWrites(keys);
  EXPECT_EQ(inf.Get(PVKey("b"))->obj.spec.capacity.at("storage").ToString(), "5Gi");
  EXPECT_THAT(SeenSoFar(), ElementsAre("add a", "add b", "update a@3", "update b@4"));

  // After the bracket, watch events apply as usual.
  ASSERT_TRUE(store_->Delete(PVKey("a")).ok());
  WaitForWatch(3);
  EXPECT_EQ(inf.Get(PVKey("a")), nullptr);
  EXPECT_THAT(SeenSoFar(), ElementsAre("add a", "add b", "update a@3", "update b@4", "delete a"));
}

TEST_F(InformerWritesTest, DeleteByOthersDuringBracketIsFetched) {
  ASSERT_TRUE(store_->Create(PVKey("a"), PV("a", "1Gi")).ok());
  PVInformer inf(*store_, store::PrefixFor("persistentvolumes"));
  Record(inf);
  ASSERT_TRUE(inf.Start().ok());
  auto follow = Follow();
  inf.BeginWrites({PVKey("a")});
  ASSERT_TRUE(store_->Delete(PVKey("a")).ok());
  WaitForWatch(1);
  EXPECT_NE(inf.Get(PVKey("a")), nullptr);  // noted, not applied yet
  inf.EndWrites({PVKey("a")});
  EXPECT_EQ(inf.Get(PVKey("a")), nullptr);
  EXPECT_THAT(SeenSoFar(), ElementsAre("add a", "delete a"));
}

TEST_F(InformerWritesTest, LargeRelistDecodesEveryObject) {
  std::vector<std::vector<store::Op>> txns;
  for (int i = 0; i < 2500; ++i) {
    std::string name = "pv-" + std::to_string(i);
    txns.push_back({store::Op::Create(PVKey(name), PV(name, std::to_string(i + 1) + "Gi"))});
  }
  for (auto& r : store_->TxnBatch(std::move(txns))) ASSERT_TRUE(r.ok());
  PVInformer inf(*store_, store::PrefixFor("persistentvolumes"));
  ASSERT_TRUE(inf.Relist().ok());
  ASSERT_EQ(inf.Size(), 2500u);
  for (int i = 0; i < 2500; i += 97) {
    std::string name = "pv-" + std::to_string(i);
    auto v = inf.Get(PVKey(name));
    ASSERT_NE(v, nullptr);
    EXPECT_EQ(v->obj.metadata.name, name);
    EXPECT_EQ(v->obj.spec.capacity.at("storage").ToString(), std::to_string(i + 1) + "Gi");
    EXPECT_EQ(v->raw["metadata"]["name"], name);
  }
}

// More staged writes than one commit chunk: the binder commits while it syncs (pipelined); the
// result must be what one big commit gives, claim by claim in creation order.
TEST_F(InformerWritesTest, PipelinedPassBindsEveryClaimInCreationOrder) {
  constexpr int kN = 2300;  // > 2 chunks of writes in each phase
  std::vector<std::vector<store::Op>> txns;
  for (int i = 0; i < kN; ++i) {
    std::string name = "pv-" + std::to_string(i);
    // New volumes (no phase yet), so the volume phase writes every one of them too.
    txns.push_back({store::Op::Create(
        PVKey(name), PV(name, std::to_string(i + 1) + "Gi", {"ReadWriteOnce"}, "", ""))});
  }
  for (auto& r : store_->TxnBatch(std::move(txns))) ASSERT_TRUE(r.ok());
  txns.clear();
  for (int i = 0; i < kN; ++i) {  // one Txn each, in order: creation order = i
    std::string name = "claim-" + std::to_string(i);
    txns.push_back({store::Op::Create(testutil::PVCKey(name),
                                      testutil::PVC(name, std::to_string(i + 1) + "Gi"))});
  }
  for (auto& r : store_->TxnBatch(std::move(txns))) ASSERT_TRUE(r.ok());
  testutil::BinderHarness h(*store_);
  h.Run();
  store::ListOptions lo;
  lo.prefix = store::PrefixFor("persistentvolumeclaims");
  auto claims = store_->List(lo);
  ASSERT_TRUE(claims.ok());
  ASSERT_EQ(claims->items.size(), size_t(kN));
  int wrong = 0;
  for (const auto& o : claims->items) {
    const std::string name = o.value["metadata"]["name"];
    const std::string want = "pv-" + name.substr(6);
    if (o.value["spec"].value("volumeName", "") != want ||
        o.value["status"].value("phase", "") != "Bound")
      ++wrong;
  }
  EXPECT_EQ(wrong, 0);
  auto pv = store_->Get(PVKey("pv-1234"));
  ASSERT_TRUE(pv.ok());
  EXPECT_EQ(pv->value["spec"]["claimRef"]["name"], "claim-1234");
  EXPECT_EQ(pv->value["status"]["phase"], "Bound");
  // The caches hold what the store holds.
  EXPECT_EQ(h.pvs.Get(PVKey("pv-1234"))->modRevision, pv->modRevision);
  EXPECT_EQ(h.pvs.Get(PVKey("pv-1234"))->obj.status.phase, "Bound");
}

}  // namespace
}  // namespace kvol::controller
