// Tests of the ExpandController (volume expansion, control-plane half) over a FakeStore, with the
// real kvol.io/local driver in a temporary directory and a fake driver that needs node expansion.
#include "kvol/controller/expander.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <thread>

#include "kvol/controller/manager.h"
#include "kvol/store/sqlite_store.h"
#include "src/controller/controller_test_util.h"

namespace kvol::controller {
namespace {

using namespace testutil;  // NOLINT
using ::testing::ElementsAre;
using ::testing::IsEmpty;

constexpr const char* kNow = "2026-01-01T00:00:00Z";

// A driver whose volumes need the node to grow the filesystem (like a block driver).
class NodeExpandDriver : public driver::ControllerDriver, public NodeExpansionReporter {
 public:
  std::string Name() const override { return "kvol.io/block"; }
  Result<driver::VolumeInfo> CreateVolume(const driver::CreateVolumeRequest&) override {
    return Internal("not used");
  }
  Status DeleteVolume(const std::string&) override { return Status::Ok(); }
  Result<int64_t> ControllerExpandVolume(const std::string& id,
                                         const driver::CapacityRange& r) override {
    calls.push_back(id + ":" + std::to_string(r.requiredBytes));
    return r.requiredBytes;
  }
  bool NodeExpansionRequired(const std::string&) override { return true; }
  std::vector<std::string> calls;
};

json ExpandClass(const std::string& name, const std::string& provisioner, bool allow) {
  json sc = Class(name, provisioner);
  sc["allowVolumeExpansion"] = allow;
  return sc;
}

// A Bound claim "data" (capacity 1Gi, request `req`) and its PV "pvc-1" of CSI driver `drv`.
void AddBoundPair(testing::FakeStore& st, const std::string& cls, const std::string& drv,
                  const std::string& handle, const std::string& req) {
  json pv = PV("pvc-1", "1Gi", {"ReadWriteOnce"}, cls, "Bound");
  pv["spec"].erase("hostPath");
  pv["spec"]["csi"] = {{"driver", drv}, {"volumeHandle", handle}};
  pv["spec"]["claimRef"] = {{"kind", "PersistentVolumeClaim"},
                            {"namespace", "default"},
                            {"name", "data"},
                            {"uid", "uid-data"}};
  json pvc = PVC("data", req, {"ReadWriteOnce"}, cls);
  pvc["spec"]["volumeName"] = "pvc-1";
  pvc["status"] = {
      {"phase", "Bound"}, {"accessModes", {"ReadWriteOnce"}}, {"capacity", {{"storage", "1Gi"}}}};
  ASSERT_TRUE(st.Txn({store::Op::Create(PVKey("pvc-1"), pv)}).ok());
  ASSERT_TRUE(st.Txn({store::Op::Create(PVCKey("data"), pvc)}).ok());
}

struct ExpandHarness {
  explicit ExpandHarness(testing::FakeStore& s)
      : st(s),
        dir(TempDir()),
        pvs(s, store::PrefixFor("persistentvolumes")),
        pvcs(s, store::PrefixFor("persistentvolumeclaims")),
        classes(s, store::PrefixFor("storageclasses")),
        events(s, "external-resizer"),
        local(dir, "node-1") {
    ExpandOptions o;
    o.now = [] { return std::string(kNow); };
    ctl = std::make_unique<ExpandController>(s, pvs, pvcs, classes, events,
                                             std::map<std::string, driver::ControllerDriver*>{
                                                 {local.Name(), &local}, {block.Name(), &block}},
                                             o);
    ctl->RegisterHandlers();
  }
  ~ExpandHarness() {
    std::error_code ec;
    std::filesystem::remove_all(dir, ec);
  }

  void Run(int maxRounds = 20) {
    for (int i = 0; i < maxRounds; ++i) {
      (void)classes.Relist();
      (void)pvs.Relist();
      (void)pvcs.Relist();
      ctl->queue().FlushDelayedForTest();
      auto keys = ctl->queue().TryGetBatch(1000);
      if (keys.empty()) return;
      for (const auto& k : keys) ctl->ProcessKey(k);
    }
  }

  json Get(const std::string& key) {
    auto r = st.Get(key);
    return r.ok() ? r->value : json();
  }

  std::vector<std::string> Events() {
    store::ListOptions lo;
    lo.prefix = "/registry/events/";
    std::vector<std::string> out;
    auto r = st.List(lo);
    if (!r.ok()) return out;
    for (auto& o : r->items) {
      const json& e = o.value;
      out.push_back(e.value("type", "") + " " + e.value("reason", "") + " " +
                    e["involvedObject"].value("name", "") + ": " + e.value("message", ""));
    }
    std::sort(out.begin(), out.end());
    return out;
  }

  testing::FakeStore& st;
  std::string dir;
  PVInformer pvs;
  PVCInformer pvcs;
  ClassInformer classes;
  EventRecorder events;
  driver::LocalDriver local;
  NodeExpandDriver block;
  std::unique_ptr<ExpandController> ctl;
};

std::string LocalVolume(ExpandHarness& h) {
  driver::CreateVolumeRequest req;
  req.name = "pvc-1";
  req.capacity.requiredBytes = int64_t{1} << 30;
  auto v = h.local.CreateVolume(req);
  EXPECT_TRUE(v.ok()) << v.status().message();
  return v.ok() ? v->volumeId : std::string();
}

TEST(ExpandController, GrowsTheSamePVAndTheClaimCapacity) {
  testing::FakeStore st;
  ExpandHarness h(st);
  ASSERT_TRUE(
      st.Txn({store::Op::Create(ClassKey("fast"), ExpandClass("fast", "kvol.io/local", true))})
          .ok());
  AddBoundPair(st, "fast", "kvol.io/local", LocalVolume(h), "2Gi");
  h.Run();

  json pv = h.Get(PVKey("pvc-1"));
  json pvc = h.Get(PVCKey("data"));
  EXPECT_EQ(pv["spec"]["capacity"]["storage"], "2Gi");
  EXPECT_EQ(pv["spec"]["claimRef"]["name"], "data");  // the same PV, still bound
  EXPECT_EQ(pvc["status"]["capacity"]["storage"], "2Gi");
  EXPECT_EQ(pvc["status"]["allocatedResources"]["storage"], "2Gi");
  EXPECT_FALSE(pvc["status"].contains("conditions")) << pvc.dump();
  EXPECT_EQ(pvc["spec"]["volumeName"], "pvc-1");
  EXPECT_THAT(h.Events(),
              ElementsAre("Normal Resizing data: External resizer is resizing volume pvc-1",
                          "Normal VolumeResizeSuccessful data: resize volume pvc-1 succeeded"));
  // Exactly two writes: Resizing + allocatedResources, then PV and claim together.
  auto txns = st.Txns();
  ASSERT_GE(txns.size(), 5u);  // class, PV, PVC, then ours (events are separate Txns)
  int ours = 0;
  for (const auto& t : txns) {
    bool touchesPair = false;
    for (const auto& op : t) touchesPair |= op.key == PVKey("pvc-1") || op.key == PVCKey("data");
    if (touchesPair) ++ours;
    if (t.size() == 2) {
      EXPECT_EQ(t[0].key, PVKey("pvc-1"));
      EXPECT_EQ(t[1].key, PVCKey("data"));
    }
  }
  EXPECT_EQ(ours, 4);  // 2 creates + 2 controller writes

  // Idempotent: another pass writes nothing.
  size_t before = st.Txns().size();
  h.ctl->EnqueueAll();
  h.Run();
  EXPECT_EQ(st.Txns().size(), before);
}

TEST(ExpandController, ClassWithoutExpansionGetsWarningAndNothingChanges) {
  testing::FakeStore st;
  ExpandHarness h(st);
  ASSERT_TRUE(
      st.Txn({store::Op::Create(ClassKey("slow"), ExpandClass("slow", "kvol.io/local", false))})
          .ok());
  AddBoundPair(st, "slow", "kvol.io/local", LocalVolume(h), "2Gi");
  json pvBefore = h.Get(PVKey("pvc-1"));
  json pvcBefore = h.Get(PVCKey("data"));
  h.Run();
  h.ctl->EnqueueAll();  // a resync does not repeat the warning
  h.Run();

  EXPECT_EQ(h.Get(PVKey("pvc-1")), pvBefore);
  EXPECT_EQ(h.Get(PVCKey("data")), pvcBefore);
  EXPECT_THAT(h.Events(),
              ElementsAre("Warning VolumeResizeFailed data: only dynamically provisioned pvc can "
                          "be resized and the storageclass that provisions the pvc must support "
                          "resize"));
}

TEST(ExpandController, DriverNeedingNodeExpansionLeavesFileSystemResizePending) {
  testing::FakeStore st;
  ExpandHarness h(st);
  ASSERT_TRUE(
      st.Txn({store::Op::Create(ClassKey("block"), ExpandClass("block", "kvol.io/block", true))})
          .ok());
  AddBoundPair(st, "block", "kvol.io/block", "vol-7", "3Gi");
  h.Run();

  json pv = h.Get(PVKey("pvc-1"));
  json pvc = h.Get(PVCKey("data"));
  EXPECT_THAT(h.block.calls, ElementsAre("vol-7:3221225472"));
  EXPECT_EQ(pv["spec"]["capacity"]["storage"], "3Gi");
  EXPECT_EQ(pvc["status"]["capacity"]["storage"], "1Gi");  // the node has not grown it yet
  EXPECT_EQ(pvc["status"]["allocatedResources"]["storage"], "3Gi");
  ASSERT_EQ(pvc["status"]["conditions"].size(), 1u) << pvc.dump();
  EXPECT_EQ(pvc["status"]["conditions"][0]["type"], "FileSystemResizePending");
  EXPECT_EQ(pvc["status"]["conditions"][0]["status"], "True");
  EXPECT_EQ(pvc["status"]["conditions"][0]["lastTransitionTime"], kNow);
  EXPECT_THAT(h.Events(),
              ElementsAre("Normal FileSystemResizeRequired data: Require file system resize of "
                          "volume on node",
                          "Normal Resizing data: External resizer is resizing volume pvc-1"));
  // Waiting for the node: a resync does not call the driver again.
  h.ctl->EnqueueAll();
  h.Run();
  EXPECT_EQ(h.block.calls.size(), 1u);
}

TEST(ExpandController, ConflictOnFinalWriteIsRetriedThroughTheQueue) {
  testing::FakeStore st;
  ExpandHarness h(st);
  ASSERT_TRUE(
      st.Txn({store::Op::Create(ClassKey("fast"), ExpandClass("fast", "kvol.io/local", true))})
          .ok());
  AddBoundPair(st, "fast", "kvol.io/local", LocalVolume(h), "2Gi");
  int conflicts = 0;
  st.AddReactor([&](const std::vector<store::Op>& ops) {
    if (ops.size() == 2 && ops[0].key == PVKey("pvc-1") && conflicts == 0) {
      ++conflicts;
      return Conflict("the object has been modified");
    }
    return Status::Ok();
  });
  h.Run();

  EXPECT_EQ(conflicts, 1);
  EXPECT_EQ(h.ctl->queue().NumRequeues(PVCKey("data")), 0);  // forgotten after success
  json pvc = h.Get(PVCKey("data"));
  EXPECT_EQ(h.Get(PVKey("pvc-1"))["spec"]["capacity"]["storage"], "2Gi");
  EXPECT_EQ(pvc["status"]["capacity"]["storage"], "2Gi");
  EXPECT_FALSE(pvc["status"].contains("conditions")) << pvc.dump();
  EXPECT_THAT(h.Events(),
              ElementsAre("Normal Resizing data: External resizer is resizing volume pvc-1",
                          "Normal VolumeResizeSuccessful data: resize volume pvc-1 succeeded"));
}

TEST(ExpandController, ClaimNotLargerThanCapacityIsLeftAlone) {
  testing::FakeStore st;
  ExpandHarness h(st);
  ASSERT_TRUE(
      st.Txn({store::Op::Create(ClassKey("fast"), ExpandClass("fast", "kvol.io/local", true))})
          .ok());
  AddBoundPair(st, "fast", "kvol.io/local", LocalVolume(h), "1024Mi");
  size_t before = st.Txns().size();
  h.Run();
  EXPECT_EQ(st.Txns().size(), before);
  EXPECT_THAT(h.Events(), IsEmpty());
}

// The manager, threads and all, on the real SQLite store: provision, then grow the claim.
TEST(ExpandController, ManagerExpandsProvisionedLocalVolumeOnSqlite) {
  std::string dir = TempDir();
  auto opened = store::OpenSqliteStore(dir + "/store.db");
  ASSERT_TRUE(opened.ok()) << opened.status().ToString();
  store::Store& s = **opened;
  ASSERT_TRUE(s.Create(NodeKey("node-1"), Node("node-1")).ok());
  ASSERT_TRUE(s.Create(ClassKey("grow"), ExpandClass("grow", "kvol.io/local", true)).ok());
  ControllerManagerOptions o;
  o.nodeName = "node-1";
  o.dataDir = dir;
  o.resyncPeriod = std::chrono::milliseconds(200);
  ControllerManager m(s, o);
  ASSERT_TRUE(m.Start().ok());
  ASSERT_TRUE(
      s.Create(PVCKey("data"), PVC("data", "1Gi", {"ReadWriteOnce"}, std::string("grow"))).ok());
  auto eventually = [](auto f) {
    for (int i = 0; i < 1000 && !f(); ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    return f();
  };
  ASSERT_TRUE(eventually([&] {
    auto c = s.Get(PVCKey("data"));
    return c.ok() && c->value.value(json::json_pointer("/status/phase"), "") == "Bound";
  }));
  const std::string pv = s.Get(PVCKey("data"))->value["spec"]["volumeName"];
  // The user raises the request (retrying on conflicts with the controllers' writes).
  for (int i = 0; i < 100; ++i) {
    auto c = s.Get(PVCKey("data"));
    ASSERT_TRUE(c.ok());
    json obj = c->value;
    obj["spec"]["resources"]["requests"]["storage"] = "5Gi";
    if (s.Txn({store::Op::Update(PVCKey("data"), obj, c->modRevision)}).ok()) break;
  }
  ASSERT_TRUE(eventually([&] {
    auto c = s.Get(PVCKey("data"));
    return c.ok() && c->value.value(json::json_pointer("/status/capacity/storage"), "") == "5Gi";
  })) << s.Get(PVCKey("data"))->value.dump();
  json c = s.Get(PVCKey("data"))->value;
  EXPECT_EQ(c["spec"]["volumeName"], pv);  // the same PV
  EXPECT_FALSE(c["status"].contains("conditions")) << c.dump();
  EXPECT_EQ(s.Get(PVKey(pv))->value["spec"]["capacity"]["storage"], "5Gi");
  store::ListOptions lo;
  lo.prefix = "/registry/persistentvolumes/";
  EXPECT_EQ(s.List(lo)->items.size(), 1u);
  m.Stop();
  opened->reset();
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace kvol::controller
