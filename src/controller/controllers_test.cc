// Tests of the controller machinery (work queue, informer, events), the volume index against
// the reference rule, protection, the scheduler, and the ControllerManager end to end on the
// real SQLite store.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <random>
#include <thread>

#include "kvol/controller/manager.h"
#include "kvol/controller/protection.h"
#include "kvol/controller/scheduler.h"
#include "kvol/controller/volume_index.h"
#include "kvol/store/sqlite_store.h"
#include "src/controller/controller_test_util.h"

namespace kvol::controller {
namespace {

using namespace testutil;  // NOLINT
using ::testing::Contains;
using ::testing::ElementsAre;

// ---- work queue -------------------------------------------------------------------------------

TEST(WorkQueue, DeduplicatesAndRequeuesKeyAddedWhileProcessing) {
  WorkQueue q;
  q.Add("a");
  q.Add("a");
  q.Add("b");
  auto batch = q.TryGetBatch(10);
  EXPECT_THAT(batch, ElementsAre("a", "b"));
  q.Add("a");                              // while "a" is processed
  EXPECT_TRUE(q.TryGetBatch(10).empty());  // not handed out twice at once
  q.Done("a");
  q.Done("b");
  EXPECT_THAT(q.TryGetBatch(10), ElementsAre("a"));
}

TEST(WorkQueue, RateLimitedBackoffGrowsAndForgetResets) {
  WorkQueue q(WorkQueue::Options{std::chrono::milliseconds(20), std::chrono::milliseconds(1000)});
  q.AddRateLimited("k");
  EXPECT_EQ(q.NumRequeues("k"), 1);
  EXPECT_TRUE(q.TryGetBatch(1).empty());  // delayed 20 ms
  std::this_thread::sleep_for(std::chrono::milliseconds(40));
  EXPECT_THAT(q.TryGetBatch(1), ElementsAre("k"));
  q.Done("k");
  q.AddRateLimited("k");  // 40 ms now
  std::this_thread::sleep_for(std::chrono::milliseconds(25));
  EXPECT_TRUE(q.TryGetBatch(1).empty());
  q.Forget("k");
  EXPECT_EQ(q.NumRequeues("k"), 0);
}

TEST(WorkQueue, ShutDownWakesBlockedGet) {
  WorkQueue q;
  std::thread t([&] {
    std::string k;
    EXPECT_FALSE(q.Get(&k));
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  q.ShutDown();
  t.join();
}

// ---- informer ---------------------------------------------------------------------------------

TEST(Informer, ListsWatchesAndReportsAddUpdateDelete) {
  kvol::testing::FakeStore s;
  ASSERT_TRUE(s.Create(PVKey("a"), PV("a", "1Gi")).ok());
  PVInformer inf(s, store::PrefixFor("persistentvolumes"));
  std::mutex mu;
  std::vector<std::string> seen;
  PVInformer::Handlers h;
  h.onAdd = [&](const PVInformer::ItemPtr& i) {
    std::lock_guard<std::mutex> lk(mu);
    seen.push_back("add " + i->obj.metadata.name);
  };
  h.onUpdate = [&](const PVInformer::ItemPtr&, const PVInformer::ItemPtr& i) {
    std::lock_guard<std::mutex> lk(mu);
    seen.push_back("update " + i->obj.spec.capacity.at("storage").ToString());
  };
  h.onDelete = [&](const PVInformer::ItemPtr& i) {
    std::lock_guard<std::mutex> lk(mu);
    seen.push_back("delete " + i->obj.metadata.name);
  };
  inf.AddHandlers(h);
  ASSERT_TRUE(inf.Start().ok());
  ASSERT_TRUE(s.Update(PVKey("a"), PV("a", "2Gi")).ok());
  ASSERT_TRUE(s.Create(PVKey("b"), PV("b", "1Gi")).ok());
  ASSERT_TRUE(s.Delete(PVKey("a")).ok());
  for (int i = 0; i < 200; ++i) {
    {
      std::lock_guard<std::mutex> lk(mu);
      if (seen.size() >= 4) break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  std::lock_guard<std::mutex> lk(mu);
  EXPECT_THAT(seen, ElementsAre("add a", "update 2Gi", "add b", "delete a"));
  EXPECT_EQ(inf.Size(), 1u);
  EXPECT_EQ(inf.Get(PVKey("b"))->obj.metadata.name, "b");
}

TEST(Informer, AssumeIgnoresStaleEvents) {
  kvol::testing::FakeStore s;
  auto created = s.Create(PVKey("a"), PV("a", "1Gi"));
  ASSERT_TRUE(created.ok());
  PVInformer inf(s, store::PrefixFor("persistentvolumes"));
  ASSERT_TRUE(inf.Relist().ok());
  auto updated = s.Update(PVKey("a"), PV("a", "3Gi"));
  ASSERT_TRUE(updated.ok());
  inf.Assume(*updated);
  inf.Assume(*created);  // older: ignored
  EXPECT_EQ(inf.Get(PVKey("a"))->obj.spec.capacity.at("storage").ToString(), "3Gi");
}

// ---- events -----------------------------------------------------------------------------------

TEST(EventRecorder, AggregatesSameReasonAndMessage) {
  kvol::testing::FakeStore s;
  EventRecorder rec(s, "persistentvolume-controller");
  int64_t t = 1767225600LL * 1000000000LL;
  rec.SetClockForTest([&] { return t; });
  json pvc = PVC("data", "1Gi");
  rec.Event(pvc, kEventWarning, "FailedBinding", "m1");
  t += 120LL * 1000000000LL;
  rec.Event(pvc, kEventWarning, "FailedBinding", "m1");
  rec.Event(pvc, kEventNormal, "Other", "m2");
  store::ListOptions lo;
  lo.prefix = "/registry/events/default/";
  auto l = s.List(lo);
  ASSERT_TRUE(l.ok());
  ASSERT_EQ(l->items.size(), 2u);
  const json& e =
      l->items[0].value["reason"] == "FailedBinding" ? l->items[0].value : l->items[1].value;
  EXPECT_EQ(e["count"], 2);
  EXPECT_EQ(e["firstTimestamp"], "2026-01-01T00:00:00Z");
  EXPECT_EQ(e["lastTimestamp"], "2026-01-01T00:02:00Z");
  EXPECT_EQ(e["type"], "Warning");
  EXPECT_EQ(e["source"]["component"], "persistentvolume-controller");
  EXPECT_EQ(e["involvedObject"]["kind"], "PersistentVolumeClaim");
  EXPECT_EQ(e["involvedObject"]["namespace"], "default");
  EXPECT_EQ(e["involvedObject"]["name"], "data");
  EXPECT_EQ(e["involvedObject"]["uid"], "uid-data");
  EXPECT_EQ(e["metadata"]["name"].get<std::string>().rfind("data.", 0), 0u);
}

TEST(EventRecorder, ClusterScopedObjectEventsGoToDefaultNamespace) {
  kvol::testing::FakeStore s;
  EventRecorder rec(s, "persistentvolume-controller");
  rec.Event(PV("pv-1", "1Gi"), kEventNormal, "VolumeRecycled", "Volume recycled");
  store::ListOptions lo;
  lo.prefix = "/registry/events/default/";
  EXPECT_EQ(s.List(lo)->items.size(), 1u);
}

// ---- index == reference rule ------------------------------------------------------------------

TEST(VolumeIndex, AgreesWithLinearRuleOnRandomInputs) {
  std::mt19937_64 rng(7);
  const std::vector<std::string> classes = {"", "a", "b"};
  const std::vector<std::vector<std::string>> modeSets = {
      {"ReadWriteOnce"},
      {"ReadWriteOnce", "ReadOnlyMany"},
      {"ReadWriteMany"},
      {"ReadOnlyMany"},
      {"ReadWriteOnce", "ReadWriteMany", "ReadOnlyMany"}};
  const std::vector<std::string> phases = {"Available", "Available", "Available", "Bound", ""};
  for (int round = 0; round < 20; ++round) {
    VolumeIndex idx;
    std::vector<PVInformer::ItemPtr> items;
    for (int i = 0; i < 60; ++i) {
      json pv = PV("pv-" + std::to_string(i), std::to_string(1 + rng() % 8) + "Gi",
                   modeSets[rng() % modeSets.size()], classes[rng() % classes.size()],
                   phases[rng() % phases.size()]);
      if (rng() % 7 == 0) pv["spec"]["volumeMode"] = "Block";
      if (rng() % 5 == 0) pv["metadata"]["labels"] = {{"tier", rng() % 2 ? "gold" : "silver"}};
      if (rng() % 9 == 0) {
        pv["spec"]["claimRef"] = {{"namespace", "default"},
                                  {"name", "c" + std::to_string(rng() % 10)}};
      }
      store::Object o;
      o.key = PVKey(pv["metadata"]["name"]);
      o.value = pv;
      o.modRevision = i + 1;
      items.push_back(PVInformer::MakeItem(o));
      idx.Upsert(items.back());
    }
    std::vector<const api::PersistentVolume*> all;
    for (auto& it : items) all.push_back(&it->obj);
    for (int k = 0; k < 40; ++k) {
      const ClaimQuery q = RandomClaimQuery(rng, modeSets, 4, classes);
      ASSERT_TRUE(q.selector.ok());
      const MatchInput in = q.Input();
      const api::PersistentVolume* want = FindMatchingVolumeLinear(in, all);
      auto got = idx.Find(in);
      SCOPED_TRACE(q.raw.dump());
      EXPECT_EQ(got ? got->obj.metadata.name : "", want ? want->metadata.name : "");
    }
  }
}

// ---- protection -------------------------------------------------------------------------------

struct ProtectionHarness {
  explicit ProtectionHarness(store::Store& s)
      : pvs(s, store::PrefixFor("persistentvolumes")),
        pvcs(s, store::PrefixFor("persistentvolumeclaims")),
        pods(s, store::PrefixFor("pods")),
        ctl(s, pvs, pvcs, pods) {
    ctl.RegisterHandlers();
  }
  void Run() {
    for (int i = 0; i < 20; ++i) {
      (void)pods.Relist();
      (void)pvs.Relist();
      (void)pvcs.Relist();
      auto keys = ctl.queue().TryGetBatch(1000);
      if (keys.empty()) return;
      for (auto& k : keys) {
        (void)ctl.Sync(k);
        ctl.queue().Done(k);
      }
    }
  }
  PVInformer pvs;
  PVCInformer pvcs;
  PodInformer pods;
  ProtectionController ctl;
};

TEST(Protection, ClaimInUseKeepsFinalizerUntilPodFinishes) {
  kvol::testing::FakeStore s;
  json c = PVC("data", "1Gi");
  c["metadata"]["finalizers"] = {"kubernetes.io/pvc-protection"};
  ASSERT_TRUE(s.Create(PVCKey("data"), c).ok());
  ASSERT_TRUE(s.Create(PodKey("p"), PodUsing("p", "data")).ok());
  ASSERT_TRUE(s.Delete(PVCKey("data")).ok());  // only marks it
  ProtectionHarness h(s);
  h.Run();
  auto got = s.Get(PVCKey("data"));
  ASSERT_TRUE(got.ok());
  EXPECT_TRUE(got->value["metadata"].contains("deletionTimestamp"));
  // The pod finishes: the finalizer goes and the claim with it.
  ASSERT_TRUE(s.Update(PodKey("p"), PodUsing("p", "data", "Succeeded")).ok());
  h.Run();
  EXPECT_TRUE(s.Get(PVCKey("data")).status().IsNotFound());
}

TEST(Protection, BoundVolumeKeepsFinalizerReleasedOneGoes) {
  kvol::testing::FakeStore s;
  json v = PV("pv-1", "1Gi", {"ReadWriteOnce"}, "", "Bound");
  v["metadata"]["finalizers"] = {"kubernetes.io/pv-protection"};
  ASSERT_TRUE(s.Create(PVKey("pv-1"), v).ok());
  ASSERT_TRUE(s.Delete(PVKey("pv-1")).ok());
  ProtectionHarness h(s);
  h.Run();
  ASSERT_TRUE(s.Get(PVKey("pv-1")).ok());
  ASSERT_TRUE(s.GuaranteedUpdate(PVKey("pv-1"), [](json& o) {
                 o["status"]["phase"] = "Released";
                 return Status::Ok();
               }).ok());
  h.Run();
  EXPECT_TRUE(s.Get(PVKey("pv-1")).status().IsNotFound());
}

// ---- scheduler --------------------------------------------------------------------------------

TEST(Scheduler, PicksTheOnlyReadyNode) {
  kvol::testing::FakeStore s;
  ASSERT_TRUE(s.Create(NodeKey("down"), Node("down", false)).ok());
  ASSERT_TRUE(s.Create(NodeKey("up"), Node("up", true)).ok());
  json p = PodUsing("p", "x");
  p["spec"].erase("volumes");
  ASSERT_TRUE(s.Create(PodKey("p"), p).ok());
  SchedulerHarness h(s);
  h.Run();
  json got = s.Get(PodKey("p"))->value;
  EXPECT_EQ(got["spec"]["nodeName"], "up");
  EXPECT_EQ(got["status"]["conditions"][0]["type"], "PodScheduled");
  EXPECT_EQ(got["status"]["conditions"][0]["status"], "True");
}

TEST(Scheduler, VolumeNodeAffinityConflictIsExplained) {
  kvol::testing::FakeStore s;
  ASSERT_TRUE(s.Create(NodeKey("node-1"), Node("node-1")).ok());
  ASSERT_TRUE(s.Create(NodeKey("node-2"), Node("node-2", true, {{"disk", "ssd"}})).ok());
  json v = PV("pv-1", "1Gi", {"ReadWriteOnce"}, "", "Bound");
  v["spec"]["nodeAffinity"] = json::parse(
      R"({"required":{"nodeSelectorTerms":[{"matchExpressions":[{"key":"kubernetes.io/hostname","operator":"In","values":["node-1"]}]}]}})");
  ASSERT_TRUE(s.Create(PVKey("pv-1"), v).ok());
  json c = PVC("data", "1Gi");
  c["spec"]["volumeName"] = "pv-1";
  c["status"] = {{"phase", "Bound"}};
  ASSERT_TRUE(s.Create(PVCKey("data"), c).ok());
  json p = PodUsing("p", "data", "Pending");
  p["spec"]["nodeSelector"] = {{"disk", "ssd"}};
  ASSERT_TRUE(s.Create(PodKey("p"), p).ok());
  SchedulerHarness h(s);
  h.Run();
  json got = s.Get(PodKey("p"))->value;
  EXPECT_FALSE(got["spec"].contains("nodeName"));
  const json& cond = got["status"]["conditions"][0];
  EXPECT_EQ(cond["status"], "False");
  EXPECT_EQ(cond["reason"], "Unschedulable");
  EXPECT_EQ(cond["message"],
            "0/2 nodes are available: 1 node(s) didn't match Pod's node affinity/selector, 1 "
            "node(s) had volume node affinity conflict.");
}

TEST(Scheduler, MissingClaimAndUnboundImmediateClaim) {
  kvol::testing::FakeStore s;
  ASSERT_TRUE(s.Create(NodeKey("node-1"), Node("node-1")).ok());
  ASSERT_TRUE(s.Create(PodKey("p"), PodUsing("p", "nope", "Pending")).ok());
  ASSERT_TRUE(s.Create(PVCKey("unbound"), PVC("unbound", "1Gi")).ok());
  ASSERT_TRUE(s.Create(PodKey("q"), PodUsing("q", "unbound", "Pending")).ok());
  SchedulerHarness h(s);
  h.Run();
  EXPECT_EQ(s.Get(PodKey("p"))->value["status"]["conditions"][0]["message"],
            "0/1 nodes are available: persistentvolumeclaim \"nope\" not found.");
  EXPECT_EQ(s.Get(PodKey("q"))->value["status"]["conditions"][0]["message"],
            "0/1 nodes are available: pod has unbound immediate PersistentVolumeClaims.");
}

TEST(Scheduler, WaitForFirstConsumerClaimGetsSelectedNodeBeforePodBinds) {
  kvol::testing::FakeStore s;
  ASSERT_TRUE(s.Create(NodeKey("node-1"), Node("node-1")).ok());
  ASSERT_TRUE(
      s.Create(ClassKey("local"), Class("local", "kvol.io/local", "WaitForFirstConsumer")).ok());
  ASSERT_TRUE(
      s.Create(PVCKey("data"), PVC("data", "1Gi", {"ReadWriteOnce"}, std::string("local"))).ok());
  ASSERT_TRUE(s.Create(PodKey("p"), PodUsing("p", "data", "Pending")).ok());
  SchedulerHarness h(s);
  h.Run();
  EXPECT_EQ(
      s.Get(PVCKey("data"))->value["metadata"]["annotations"]["volume.kubernetes.io/selected-node"],
      "node-1");
  EXPECT_FALSE(s.Get(PodKey("p"))->value["spec"].contains("nodeName"));  // waits for the bind
  // The binder provisions and binds; then the pod is bound.
  std::string dir = TempDir();
  BinderHarness b(s, dir, "node-1");
  b.Run();
  EXPECT_EQ(s.Get(PVCKey("data"))->value["status"]["phase"], "Bound");
  h.Run();
  EXPECT_EQ(s.Get(PodKey("p"))->value["spec"]["nodeName"], "node-1");
  std::filesystem::remove_all(dir);
}

// ---- the manager, threads and all, on the real SQLite store -------------------------------------

template <class F>
bool Eventually(F f, int ms = 5000) {
  for (int i = 0; i < ms / 5; ++i) {
    if (f()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return f();
}

TEST(ControllerManager, ProvisionsSchedulesAndReclaimsOnSqlite) {
  std::string dir = TempDir();
  auto opened = store::OpenSqliteStore(dir + "/store.db");
  ASSERT_TRUE(opened.ok()) << opened.status().ToString();
  store::Store& s = **opened;
  ASSERT_TRUE(s.Create(NodeKey("node-1"), Node("node-1")).ok());
  ASSERT_TRUE(s.Create(ClassKey("local"),
                       Class("local", "kvol.io/local", "WaitForFirstConsumer", "Delete", true))
                  .ok());
  ControllerManagerOptions o;
  o.nodeName = "node-1";
  o.dataDir = dir;
  o.resyncPeriod = std::chrono::milliseconds(200);
  ControllerManager m(s, o);
  ASSERT_TRUE(m.Start().ok());
  // A claim without a class gets the default class, waits for its pod, then is provisioned.
  ASSERT_TRUE(s.Create(PVCKey("data"), PVC("data", "1Gi", {"ReadWriteOnce"}, std::nullopt)).ok());
  ASSERT_TRUE(s.Create(PodKey("p"), PodUsing("p", "data", "Pending")).ok());
  ASSERT_TRUE(Eventually([&] {
    auto p = s.Get(PodKey("p"));
    return p.ok() && p->value["spec"].value("nodeName", "") == "node-1";
  }));
  json c = s.Get(PVCKey("data"))->value;
  EXPECT_EQ(c["status"]["phase"], "Bound");
  const std::string pv = c["spec"]["volumeName"];
  EXPECT_EQ(pv, "pvc-uid-data");
  EXPECT_TRUE(std::filesystem::is_directory(dir + "/local/" + pv));
  // Delete pod and claim: protection lets the claim go, the volume is Released and deleted.
  ASSERT_TRUE(s.Delete(PVCKey("data")).ok());
  ASSERT_TRUE(s.Delete(PodKey("p")).ok());
  ASSERT_TRUE(Eventually([&] { return s.Get(PVKey(pv)).status().IsNotFound(); }))
      << s.Get(PVKey(pv))->value.dump() << "\n"
      << (s.Get(PVCKey("data")).ok() ? s.Get(PVCKey("data"))->value.dump() : "claim gone");
  EXPECT_TRUE(s.Get(PVCKey("data")).status().IsNotFound());
  EXPECT_FALSE(std::filesystem::exists(dir + "/local/" + pv));
  m.Stop();
  opened->reset();
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace kvol::controller
