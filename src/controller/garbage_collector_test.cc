// Tests of the garbage collector (ownerReferences): background, foreground and orphan
// propagation, cascades, recreated owners, dangling references and graceful pod deletion over the
// FakeStore run deterministically; and the ControllerManager collecting on the SQLite store.
#include "kvol/controller/garbage_collector.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <thread>

#include "kvol/controller/manager.h"
#include "kvol/store/sqlite_store.h"
#include "src/controller/controller_test_util.h"

namespace kvol::controller {
namespace {

using namespace testutil;  // NOLINT
using ::testing::ElementsAre;

json Ref(const std::string& kind, const std::string& name, const std::string& uid,
         std::optional<bool> block = std::nullopt) {
  json r = {{"apiVersion", kind == "Deployment" ? "apps/v1" : "v1"},
            {"kind", kind},
            {"name", name},
            {"uid", uid}};
  if (block) r["blockOwnerDeletion"] = *block;
  return r;
}

json Obj(const std::string& kind, const std::string& name, const std::string& uid,
         std::vector<json> owners = {}, std::vector<std::string> finalizers = {},
         const std::string& ns = "default") {
  json o = {{"apiVersion", "v1"}, {"kind", kind}, {"metadata", {{"name", name}, {"uid", uid}}}};
  if (!ns.empty()) o["metadata"]["namespace"] = ns;
  if (!owners.empty()) o["metadata"]["ownerReferences"] = owners;
  if (!finalizers.empty()) o["metadata"]["finalizers"] = finalizers;
  return o;
}

std::string CM(const std::string& n, const std::string& ns = "default") {
  return store::KeyFor("configmaps", ns, n);
}
std::string Sec(const std::string& n) { return store::KeyFor("secrets", "default", n); }

class GcTest : public ::testing::Test {
 protected:
  GcTest() {
    GarbageCollectorOptions o;
    o.now = [] { return std::string("2026-01-01T00:00:00Z"); };
    gc_ = std::make_unique<GarbageCollector>(s_, o);
    gc_->RegisterHandlers();
  }

  void Put(const std::string& key, const json& v) { ASSERT_TRUE(s_.Create(key, v).ok()) << key; }
  // Relists and drains the queue (retries included) until nothing changes.
  void Run() {
    for (int i = 0; i < 100; ++i) {
      ASSERT_TRUE(gc_->informer().Relist().ok());
      gc_->queue().FlushDelayedForTest();
      auto keys = gc_->queue().TryGetBatch(1000);
      if (keys.empty()) return;
      for (const auto& k : keys) {
        Status st = Sync(k);
        st.ok() ? gc_->queue().Forget(k) : gc_->queue().AddRateLimited(k);
        gc_->queue().Done(k);
      }
    }
    FAIL() << "the collector did not settle";
  }
  Status Sync(const std::string& uid) { return gc_->Sync(uid); }
  bool Exists(const std::string& key) { return s_.Get(key).ok(); }
  json Get(const std::string& key) {
    auto r = s_.Get(key);
    return r.ok() ? r->value : json();
  }
  // The API server's DELETE with a propagation policy, as the store sees it: the finalizer and
  // the deletion mark in one write (Background is a plain delete).
  void DeleteWith(const std::string& key, const char* finalizer) {
    json v = Get(key);
    v["metadata"]["finalizers"].push_back(finalizer);
    ASSERT_TRUE(s_.Update(key, v).ok());
    ASSERT_TRUE(s_.Delete(key).ok());
  }
  void ReleaseHold(const std::string& key) {
    json v = Get(key);
    v["metadata"]["finalizers"] = json::array();
    ASSERT_TRUE(s_.Update(key, v).ok());
  }

  kvol::testing::FakeStore s_;
  std::unique_ptr<GarbageCollector> gc_;
};

TEST_F(GcTest, BackgroundDeletesDependentsOfADeletedOwner) {
  Put(CM("owner"), Obj("ConfigMap", "owner", "u-owner"));
  Put(CM("other"), Obj("ConfigMap", "other", "u-other"));
  Put(CM("dep"), Obj("ConfigMap", "dep", "u-dep", {Ref("ConfigMap", "owner", "u-owner")}));
  Put(Sec("dep"), Obj("Secret", "dep", "u-sdep", {Ref("ConfigMap", "owner", "u-owner", true)}));
  Put(CM("two"), Obj("ConfigMap", "two", "u-two",
                     {Ref("ConfigMap", "owner", "u-owner"), Ref("ConfigMap", "other", "u-other")}));
  Run();
  EXPECT_THAT(gc_->DependentsOf("u-owner"), ElementsAre("u-dep", "u-sdep", "u-two"));
  EXPECT_TRUE(Exists(CM("dep")));  // the owner is alive: nothing collected

  ASSERT_TRUE(s_.Delete(CM("owner")).ok());
  Run();
  EXPECT_FALSE(Exists(CM("dep")));
  EXPECT_FALSE(Exists(Sec("dep")));
  // A dependent with another live owner only loses the reference to the deleted one.
  EXPECT_EQ(Get(CM("two"))["metadata"]["ownerReferences"],
            json::array({Ref("ConfigMap", "other", "u-other")}));
  EXPECT_TRUE(Exists(CM("other")));
  EXPECT_TRUE(gc_->DependentsOf("u-owner").empty());
}

TEST_F(GcTest, ForegroundKeepsTheOwnerUntilBlockingDependentsAreGone) {
  Put(CM("owner"), Obj("ConfigMap", "owner", "u-owner"));
  Put(CM("blocking"), Obj("ConfigMap", "blocking", "u-b",
                          {Ref("ConfigMap", "owner", "u-owner", true)}, {"example.com/hold"}));
  Put(CM("loose"), Obj("ConfigMap", "loose", "u-l", {Ref("ConfigMap", "owner", "u-owner")}));
  Run();
  DeleteWith(CM("owner"), kFinalizerDeleteDependents);
  Run();
  // Every dependent is deleted; the blocking one is held by its own finalizer, so the owner
  // stays, marked, with the collector's finalizer.
  EXPECT_FALSE(Exists(CM("loose")));
  json b = Get(CM("blocking"));
  EXPECT_EQ(b["metadata"]["deletionTimestamp"], "2026-01-01T00:00:00Z");
  json owner = Get(CM("owner"));
  ASSERT_TRUE(owner.is_object());
  EXPECT_TRUE(owner["metadata"].contains("deletionTimestamp"));
  EXPECT_EQ(owner["metadata"]["finalizers"], json::array({"foregroundDeletion"}));

  ReleaseHold(CM("blocking"));
  Run();
  EXPECT_FALSE(Exists(CM("blocking")));
  EXPECT_FALSE(Exists(CM("owner")));
}

TEST_F(GcTest, ForegroundDoesNotWaitForNonBlockingDependents) {
  Put(CM("owner"), Obj("ConfigMap", "owner", "u-owner"));
  Put(CM("held"), Obj("ConfigMap", "held", "u-h", {Ref("ConfigMap", "owner", "u-owner", false)},
                      {"example.com/hold"}));
  Run();
  DeleteWith(CM("owner"), kFinalizerDeleteDependents);
  Run();
  EXPECT_FALSE(Exists(CM("owner")));
  EXPECT_TRUE(Get(CM("held"))["metadata"].contains("deletionTimestamp"));  // deleted too
}

TEST_F(GcTest, OrphanRemovesTheReferenceAndKeepsDependents) {
  Put(CM("owner"), Obj("ConfigMap", "owner", "u-owner"));
  Put(CM("other"), Obj("ConfigMap", "other", "u-other"));
  Put(CM("dep"), Obj("ConfigMap", "dep", "u-dep", {Ref("ConfigMap", "owner", "u-owner", true)}));
  Put(Sec("dep"),
      Obj("Secret", "dep", "u-sdep",
          {Ref("ConfigMap", "owner", "u-owner"), Ref("ConfigMap", "other", "u-other")}));
  Run();
  DeleteWith(CM("owner"), kFinalizerOrphanDependents);
  Run();
  EXPECT_FALSE(Exists(CM("owner")));
  ASSERT_TRUE(Exists(CM("dep")));
  EXPECT_FALSE(Get(CM("dep"))["metadata"].contains("ownerReferences"));
  EXPECT_EQ(Get(Sec("dep"))["metadata"]["ownerReferences"],
            json::array({Ref("ConfigMap", "other", "u-other")}));
  EXPECT_FALSE(Get(CM("dep"))["metadata"].contains("deletionTimestamp"));
}

TEST_F(GcTest, BackgroundCascadesToDependentsOfDependents) {
  Put(CM("a"), Obj("ConfigMap", "a", "u-a"));
  Put(CM("b"), Obj("ConfigMap", "b", "u-b", {Ref("ConfigMap", "a", "u-a")}));
  Put(Sec("c"), Obj("Secret", "c", "u-c", {Ref("ConfigMap", "b", "u-b")}));
  Put(CM("d"), Obj("ConfigMap", "d", "u-d", {Ref("Secret", "c", "u-c")}));
  Run();
  ASSERT_TRUE(s_.Delete(CM("a")).ok());
  Run();
  EXPECT_FALSE(Exists(CM("b")));
  EXPECT_FALSE(Exists(Sec("c")));
  EXPECT_FALSE(Exists(CM("d")));
}

TEST_F(GcTest, ForegroundCascadesThroughDependentsThatHaveDependents) {
  Put(CM("a"), Obj("ConfigMap", "a", "u-a"));
  Put(CM("b"), Obj("ConfigMap", "b", "u-b", {Ref("ConfigMap", "a", "u-a", true)}));
  Put(Sec("c"),
      Obj("Secret", "c", "u-c", {Ref("ConfigMap", "b", "u-b", true)}, {"example.com/hold"}));
  Run();
  DeleteWith(CM("a"), kFinalizerDeleteDependents);
  Run();
  // b is deleted in the foreground (it has a dependent), c is marked and holds both.
  EXPECT_EQ(Get(CM("b"))["metadata"]["finalizers"], json::array({"foregroundDeletion"}));
  EXPECT_TRUE(Get(CM("b"))["metadata"].contains("deletionTimestamp"));
  EXPECT_TRUE(Get(Sec("c"))["metadata"].contains("deletionTimestamp"));
  EXPECT_TRUE(Exists(CM("a")));
  ReleaseHold(Sec("c"));
  Run();
  EXPECT_FALSE(Exists(Sec("c")));
  EXPECT_FALSE(Exists(CM("b")));
  EXPECT_FALSE(Exists(CM("a")));
}

TEST_F(GcTest, OwnerRecreatedWithTheSameNameDoesNotKeepOldDependents) {
  Put(CM("owner"), Obj("ConfigMap", "owner", "u-old"));
  Put(CM("dep-old"), Obj("ConfigMap", "dep-old", "u-d1", {Ref("ConfigMap", "owner", "u-old")}));
  Run();
  // Deleted and recreated between two looks of the collector: same name, another uid.
  ASSERT_TRUE(s_.Delete(CM("owner")).ok());
  Put(CM("owner"), Obj("ConfigMap", "owner", "u-new"));
  Put(CM("dep-new"), Obj("ConfigMap", "dep-new", "u-d2", {Ref("ConfigMap", "owner", "u-new")}));
  Run();
  EXPECT_FALSE(Exists(CM("dep-old")));
  EXPECT_TRUE(Exists(CM("dep-new")));
  EXPECT_TRUE(Exists(CM("owner")));
}

TEST_F(GcTest, DanglingReferencesAreResolvedInTheDependentsNamespace) {
  Put(CM("owner"), Obj("ConfigMap", "owner", "u-owner"));
  Put(store::KeyFor("persistentvolumes", "", "pv1"),
      Obj("PersistentVolume", "pv1", "u-pv", {}, {}, ""));
  // A ConfigMap named "owner" exists only in "default": in "other" the reference dangles.
  Put(CM("dep", "other"),
      Obj("ConfigMap", "dep", "u-x", {Ref("ConfigMap", "owner", "u-owner")}, {}, "other"));
  Put(CM("never"), Obj("ConfigMap", "never", "u-n", {Ref("ConfigMap", "ghost", "u-ghost")}));
  // A cluster-scoped owner is found from a namespaced dependent.
  Put(CM("of-pv"), Obj("ConfigMap", "of-pv", "u-p", {Ref("PersistentVolume", "pv1", "u-pv")}));
  // Unknown kinds and cluster-scoped dependents of namespaced kinds are never collected.
  json unknown = Ref("Widget", "w", "u-w");
  unknown["apiVersion"] = "example.com/v1";
  Put(CM("of-widget"), Obj("ConfigMap", "of-widget", "u-wd", {unknown}));
  Put(store::KeyFor("persistentvolumes", "", "pv2"),
      Obj("PersistentVolume", "pv2", "u-pv2", {Ref("ConfigMap", "owner", "u-owner")}, {}, ""));
  Run();
  EXPECT_FALSE(Exists(CM("dep", "other")));
  EXPECT_FALSE(Exists(CM("never")));
  EXPECT_TRUE(Exists(CM("of-pv")));
  EXPECT_TRUE(Exists(CM("of-widget")));
  EXPECT_TRUE(Exists(store::KeyFor("persistentvolumes", "", "pv2")));
}

TEST_F(GcTest, PodsOnANodeAreDeletedGracefullyAndOthersAtOnce) {
  Put(CM("owner"), Obj("ConfigMap", "owner", "u-owner"));
  json running = Obj("Pod", "running", "u-p1", {Ref("ConfigMap", "owner", "u-owner")});
  running["spec"] = {{"nodeName", "node-1"}, {"terminationGracePeriodSeconds", 10}};
  running["status"] = {{"phase", "Running"}};
  Put(PodKey("running"), running);
  json pending = Obj("Pod", "pending", "u-p2", {Ref("ConfigMap", "owner", "u-owner")});
  pending["spec"] = json::object();
  Put(PodKey("pending"), pending);
  Run();
  ASSERT_TRUE(s_.Delete(CM("owner")).ok());
  Run();
  EXPECT_FALSE(Exists(PodKey("pending")));
  json p = Get(PodKey("running"));
  EXPECT_EQ(p["metadata"]["deletionTimestamp"], "2026-01-01T00:00:10Z");
  EXPECT_EQ(p["metadata"]["deletionGracePeriodSeconds"], 10);
}

TEST_F(GcTest, DeleteObjectHonoursPropagationAndUid) {
  Put(CM("x"), Obj("ConfigMap", "x", "u-x", {}, {"example.com/keep"}));
  ASSERT_TRUE(
      gc_->DeleteObject(CM("x"), "u-other", GarbageCollector::Propagation::kBackground).ok());
  EXPECT_FALSE(Get(CM("x"))["metadata"].contains("deletionTimestamp"));  // another object
  ASSERT_TRUE(gc_->DeleteObject(CM("x"), "u-x", GarbageCollector::Propagation::kOrphan).ok());
  EXPECT_EQ(Get(CM("x"))["metadata"]["finalizers"], json::array({"example.com/keep", "orphan"}));
  ASSERT_TRUE(gc_->DeleteObject(CM("x"), "u-x", GarbageCollector::Propagation::kForeground).ok());
  EXPECT_EQ(Get(CM("x"))["metadata"]["finalizers"],
            json::array({"example.com/keep", "foregroundDeletion"}));
  Put(CM("y"), Obj("ConfigMap", "y", "u-y", {}, {"orphan"}));
  ASSERT_TRUE(gc_->DeleteObject(CM("y"), "u-y", GarbageCollector::Propagation::kBackground).ok());
  EXPECT_FALSE(Exists(CM("y")));  // only the collector's finalizer was on it
  EXPECT_TRUE(gc_->DeleteObject(CM("gone"), "u", GarbageCollector::Propagation::kBackground).ok());
}

TEST_F(GcTest, SecretDataIsNotCached) {
  json sec = Obj("Secret", "s", "u-s");
  sec["data"] = {{"password", "c2VjcmV0"}};
  Put(Sec("s"), sec);
  Put(store::KeyFor("events", "default", "e"), Obj("Event", "e", "u-e"));
  Run();
  auto item = gc_->informer().Get(Sec("s"));
  ASSERT_TRUE(item);
  EXPECT_FALSE(item->raw.contains("data"));
  EXPECT_EQ(item->obj.metadata.uid, "u-s");
  EXPECT_FALSE(gc_->informer().Get(store::KeyFor("events", "default", "e")));  // ignored
}

bool Eventually(const std::function<bool()>& f) {
  for (int i = 0; i < 500; ++i) {
    if (f()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return f();
}

TEST(GarbageCollectorManager, CollectsOnSqlite) {
  std::string dir = TempDir();
  auto opened = store::OpenSqliteStore(dir + "/store.db");
  ASSERT_TRUE(opened.ok()) << opened.status().ToString();
  store::Store& s = **opened;
  ASSERT_TRUE(s.Create(CM("owner"), Obj("ConfigMap", "owner", "u-owner")).ok());
  ASSERT_TRUE(
      s.Create(CM("dep"), Obj("ConfigMap", "dep", "u-dep", {Ref("ConfigMap", "owner", "u-owner")}))
          .ok());
  ControllerManagerOptions o;
  o.nodeName = "node-1";
  o.resyncPeriod = std::chrono::milliseconds(200);
  o.enableScheduler = false;
  ControllerManager m(s, o);
  ASSERT_TRUE(m.Start().ok());
  ASSERT_TRUE(s.Create(Sec("live"),
                       Obj("Secret", "live", "u-l", {Ref("ConfigMap", "owner", "u-owner", true)}))
                  .ok());
  ASSERT_TRUE(s.Delete(CM("owner")).ok());
  EXPECT_TRUE(Eventually([&] { return s.Get(CM("dep")).status().IsNotFound(); }));
  EXPECT_TRUE(Eventually([&] { return s.Get(Sec("live")).status().IsNotFound(); }));
  m.Stop();
  opened->reset();
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace kvol::controller
