// Tests of the SnapshotController (dynamic and pre-provisioned snapshots, deletion policies, error
// messages) and of the binder's restore/clone data sources, over a FakeStore with an in-memory
// driver that has the Snapshotter and VolumeCloner capabilities (the real kvol.io/block driver is
// tested on real loop devices in src/driver/block and end to end in test/e2e/snapshots.sh).
#include "kvol/controller/snapshot_controller.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "src/controller/controller_test_util.h"

namespace kvol::controller {
namespace {

using namespace testutil;  // NOLINT
using ::testing::Contains;
using ::testing::ElementsAre;

constexpr const char* kNow = "2026-01-01T00:00:00Z";
constexpr int64_t kGi = int64_t{1} << 30;

class SnapDriver : public driver::ControllerDriver,
                   public driver::Snapshotter,
                   public driver::VolumeCloner {
 public:
  std::string Name() const override { return "fake.io/snap"; }
  Result<driver::VolumeInfo> CreateVolume(const driver::CreateVolumeRequest& r) override {
    std::string from;
    if (r.contentSource) {
      from = r.contentSource->snapshotId.empty() ? " clone-of " + r.contentSource->volumeId
                                                 : " from-snapshot " + r.contentSource->snapshotId;
    }
    created.push_back(r.name + from);
    volumes[r.name] = r.capacity.requiredBytes;
    return driver::VolumeInfo{r.name, r.capacity.requiredBytes, {}, {}};
  }
  Status DeleteVolume(const std::string& id) override {
    volumes.erase(id);
    return Status::Ok();
  }
  Result<int64_t> ControllerExpandVolume(const std::string&,
                                         const driver::CapacityRange& r) override {
    return r.requiredBytes;
  }
  Result<driver::SnapshotInfo> CreateSnapshot(const driver::CreateSnapshotRequest& r) override {
    auto v = volumes.find(r.sourceVolumeId);
    if (v == volumes.end()) return NotFound("volume " + r.sourceVolumeId + " not found");
    driver::SnapshotInfo i{r.name, r.sourceVolumeId, v->second, 1767225600'000000000, true};
    snapshots[r.name] = i;
    return i;
  }
  Status DeleteSnapshot(const std::string& id) override {
    snapshots.erase(id);
    deletedSnapshots.push_back(id);
    return Status::Ok();
  }
  Result<driver::SnapshotInfo> GetSnapshot(const std::string& id) override {
    auto it = snapshots.find(id);
    if (it == snapshots.end()) return NotFound("snapshot " + id + " not found");
    return it->second;
  }
  bool CanClone(const std::string& id) override { return volumes.count(id) > 0; }

  std::vector<std::string> created;
  std::map<std::string, int64_t> volumes;
  std::map<std::string, driver::SnapshotInfo> snapshots;
  std::vector<std::string> deletedSnapshots;
};

// A driver without the snapshot capabilities.
class PlainDriver : public driver::ControllerDriver {
 public:
  std::string Name() const override { return "fake.io/plain"; }
  Result<driver::VolumeInfo> CreateVolume(const driver::CreateVolumeRequest& r) override {
    return driver::VolumeInfo{r.name, r.capacity.requiredBytes, {}, {}};
  }
  Status DeleteVolume(const std::string&) override { return Status::Ok(); }
  Result<int64_t> ControllerExpandVolume(const std::string&,
                                         const driver::CapacityRange& r) override {
    return r.requiredBytes;
  }
};

std::string SnapKey(const std::string& n) { return store::KeyFor("volumesnapshots", "default", n); }
std::string ContentKey(const std::string& n) {
  return store::KeyFor("volumesnapshotcontents", "", n);
}

json SnapClass(const std::string& name, const std::string& drv, const std::string& policy,
               bool isDefault) {
  json c = {{"apiVersion", "snapshot.storage.k8s.io/v1"},
            {"kind", "VolumeSnapshotClass"},
            {"metadata", {{"name", name}}},
            {"driver", drv},
            {"deletionPolicy", policy}};
  if (isDefault) {
    c["metadata"]["annotations"] = {{"snapshot.storage.kubernetes.io/is-default-class", "true"}};
  }
  return c;
}

json Snapshot(const std::string& name, const std::string& claim, const std::string& cls = "") {
  json s = {{"apiVersion", "snapshot.storage.k8s.io/v1"},
            {"kind", "VolumeSnapshot"},
            {"metadata", {{"name", name}, {"namespace", "default"}, {"uid", "uid-" + name}}},
            {"spec", {{"source", {{"persistentVolumeClaimName", claim}}}}}};
  if (!cls.empty()) s["spec"]["volumeSnapshotClassName"] = cls;
  return s;
}

json WithSource(json pvc, const std::string& kind, const std::string& name) {
  pvc["spec"]["dataSource"] = {{"kind", kind}, {"name", name}};
  if (kind == "VolumeSnapshot") pvc["spec"]["dataSource"]["apiGroup"] = "snapshot.storage.k8s.io";
  return pvc;
}

struct Harness {
  explicit Harness(testing::FakeStore& s)
      : st(s),
        pvs(s, store::PrefixFor("persistentvolumes")),
        pvcs(s, store::PrefixFor("persistentvolumeclaims")),
        classes(s, store::PrefixFor("storageclasses")),
        nodes(s, store::PrefixFor("nodes")),
        snapshots(s, store::PrefixFor("volumesnapshots")),
        contents(s, store::PrefixFor("volumesnapshotcontents")),
        snapClasses(s, store::PrefixFor("volumesnapshotclasses")),
        binderEvents(s, "persistentvolume-controller", "", /*buffered=*/true),
        snapEvents(s, "snapshot-controller") {
    std::map<std::string, driver::ControllerDriver*> drivers{{drv.Name(), &drv},
                                                             {plain.Name(), &plain}};
    BinderOptions bo;
    bo.nodeName = "node-1";
    bo.now = [] { return std::string(kNow); };
    binder = std::make_unique<Binder>(s, pvs, pvcs, classes, nodes, binderEvents, drivers, bo);
    binder->RegisterHandlers();
    SnapshotControllerOptions so;
    so.now = [] { return std::string(kNow); };
    int n = 0;
    so.newUID = [n]() mutable { return "content-uid-" + std::to_string(++n); };
    ctl = std::make_unique<SnapshotController>(s, pvs, pvcs, snapshots, contents, snapClasses,
                                               snapEvents, drivers, so);
    ctl->RegisterHandlers();
    Put(Class("fast", "fake.io/snap"));
    Put(Class("plain", "fake.io/plain"));
  }

  void Put(const json& obj) {
    const std::string kind = obj.value("kind", "");
    const json& md = obj["metadata"];
    std::string key;
    if (kind == "StorageClass") key = ClassKey(md["name"]);
    if (kind == "PersistentVolumeClaim") key = PVCKey(md["name"]);
    if (kind == "VolumeSnapshot") key = SnapKey(md["name"]);
    if (kind == "VolumeSnapshotContent") key = ContentKey(md["name"]);
    if (kind == "VolumeSnapshotClass") {
      key = store::KeyFor("volumesnapshotclasses", "", md["name"]);
    }
    ASSERT_FALSE(key.empty()) << kind;
    ASSERT_TRUE(st.Txn({store::Op::Create(key, obj)}).ok()) << key;
  }

  void Run() {
    for (int i = 0; i < 60; ++i) {
      (void)pvs.Relist();
      (void)pvcs.Relist();
      (void)classes.Relist();
      (void)nodes.Relist();
      (void)snapClasses.Relist();
      (void)contents.Relist();
      (void)snapshots.Relist();
      binder->queue().FlushDelayedForTest();
      ctl->queue().FlushDelayedForTest();
      auto keys = binder->queue().TryGetBatch(100000);
      auto skeys = ctl->queue().TryGetBatch(100000);
      if (keys.empty() && skeys.empty()) return;
      if (!keys.empty()) binder->ProcessKeys(std::move(keys));
      for (const auto& k : skeys) ctl->ProcessKey(k);
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
    return out;
  }

  store::Store& st;
  SnapDriver drv;
  PlainDriver plain;
  PVInformer pvs;
  PVCInformer pvcs;
  ClassInformer classes;
  NodeInformer nodes;
  SnapshotInformer snapshots;
  SnapshotContentInformer contents;
  SnapshotClassInformer snapClasses;
  EventRecorder binderEvents;
  EventRecorder snapEvents;
  std::unique_ptr<Binder> binder;
  std::unique_ptr<SnapshotController> ctl;
};

class SnapshotControllerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    h_.Put(SnapClass("snap-delete", "fake.io/snap", "Delete", /*isDefault=*/true));
    h_.Put(SnapClass("snap-retain", "fake.io/snap", "Retain", false));
    h_.Put(PVC("data", "1Gi", {"ReadWriteOnce"}, std::string("fast")));
    h_.Run();
    ASSERT_EQ(h_.Get(PVCKey("data"))["status"].value("phase", ""), "Bound");
  }
  testing::FakeStore st_;
  Harness h_{st_};
};

TEST_F(SnapshotControllerTest, DynamicSnapshotWithTheDefaultClassBecomesReady) {
  h_.Put(Snapshot("snap1", "data"));
  h_.Run();
  json c = h_.Get(ContentKey("snapcontent-uid-snap1"));
  ASSERT_TRUE(c.is_object());
  EXPECT_EQ(c["spec"]["deletionPolicy"], "Delete");
  EXPECT_EQ(c["spec"]["driver"], "fake.io/snap");
  EXPECT_EQ(c["spec"]["volumeSnapshotClassName"], "snap-delete");
  EXPECT_EQ(c["spec"]["source"], json({{"volumeHandle", "pvc-uid-data"}}));
  EXPECT_EQ(c["spec"]["sourceVolumeMode"], "Filesystem");
  EXPECT_EQ(c["spec"]["volumeSnapshotRef"]["uid"], "uid-snap1");
  EXPECT_EQ(c["spec"]["volumeSnapshotRef"]["name"], "snap1");
  EXPECT_EQ(c["metadata"]["finalizers"], json({kFinalizerContentBound}));
  EXPECT_EQ(c["status"], json({{"snapshotHandle", "snapcontent-uid-snap1"},
                               {"creationTime", 1767225600'000000000},
                               {"restoreSize", kGi},
                               {"readyToUse", true}}));

  json s = h_.Get(SnapKey("snap1"));
  EXPECT_EQ(s["spec"]["volumeSnapshotClassName"], "snap-delete");  // the default, written in
  EXPECT_EQ(s["metadata"]["finalizers"], json({kFinalizerSnapshotBound}));
  EXPECT_EQ(s["status"], json({{"boundVolumeSnapshotContentName", "snapcontent-uid-snap1"},
                               {"readyToUse", true},
                               {"creationTime", "2026-01-01T00:00:00Z"},
                               {"restoreSize", "1Gi"}}));
  auto events = h_.Events();
  EXPECT_THAT(events, Contains("Normal CreatingSnapshot snap1: Waiting for a snapshot "
                               "default/snap1 to be created by the CSI driver."));
  EXPECT_THAT(events, Contains("Normal SnapshotCreated snap1: Snapshot default/snap1 was "
                               "successfully created by the CSI driver."));
  EXPECT_THAT(events, Contains("Normal SnapshotReady snap1: Snapshot default/snap1 is ready to "
                               "use."));
}

TEST_F(SnapshotControllerTest, RestoreAndCloneProvisionFromTheirSources) {
  h_.Put(Snapshot("snap1", "data"));
  h_.Run();
  h_.Put(WithSource(PVC("restored", "2Gi", {"ReadWriteOnce"}, std::string("fast")),
                    "VolumeSnapshot", "snap1"));
  h_.Put(WithSource(PVC("clone", "1Gi", {"ReadWriteOnce"}, std::string("fast")),
                    "PersistentVolumeClaim", "data"));
  h_.Run();
  EXPECT_EQ(h_.Get(PVCKey("restored"))["status"].value("phase", ""), "Bound");
  EXPECT_EQ(h_.Get(PVCKey("clone"))["status"].value("phase", ""), "Bound");
  EXPECT_THAT(h_.drv.created, Contains("pvc-uid-restored from-snapshot snapcontent-uid-snap1"));
  EXPECT_THAT(h_.drv.created, Contains("pvc-uid-clone clone-of pvc-uid-data"));
}

TEST_F(SnapshotControllerTest, ClaimsWaitWithTheReasonWhileTheSourceIsNotUsable) {
  auto pending = [&](const std::string& claim) {
    json c = h_.Get(PVCKey(claim));
    for (const auto& cond : c["status"].value("conditions", json::array())) {
      if (cond.value("type", "") == "Pending") return cond.value("message", "");
    }
    return c["status"].value("phase", "") + " without a Pending condition";
  };
  const std::string prefix =
      "failed to provision volume with StorageClass \"fast\": error getting handle for DataSource ";
  h_.Put(WithSource(PVC("r1", "1Gi", {"ReadWriteOnce"}, std::string("fast")), "VolumeSnapshot",
                    "later"));
  h_.Put(WithSource(PVC("c1", "512Mi", {"ReadWriteOnce"}, std::string("fast")),
                    "PersistentVolumeClaim", "data"));
  json block = PVC("c2", "1Gi", {"ReadWriteOnce"}, std::string("fast"));
  block["spec"]["volumeMode"] = "Block";
  h_.Put(WithSource(block, "PersistentVolumeClaim", "data"));
  h_.Put(WithSource(PVC("c3", "1Gi", {"ReadWriteOnce"}, std::string("fast")),
                    "PersistentVolumeClaim", "nothere"));
  h_.Run();
  EXPECT_EQ(pending("r1"), prefix +
                               "Type VolumeSnapshot by Name later: error getting snapshot later "
                               "from api server: volumesnapshots.snapshot.storage.k8s.io "
                               "\"later\" not found");
  EXPECT_EQ(pending("c1"), prefix +
                               "Type PersistentVolumeClaim by Name data: error, new PVC request "
                               "must be greater than or equal in size to the specified PVC data "
                               "source, requested 512Mi but source is 1Gi");
  EXPECT_EQ(pending("c2"), prefix +
                               "Type PersistentVolumeClaim by Name data: the source PVC and "
                               "destination PVCs must have the same volume mode for cloning.  "
                               "Source is Filesystem.  Destination is Block");
  EXPECT_EQ(pending("c3"), prefix +
                               "Type PersistentVolumeClaim by Name nothere: error getting PVC "
                               "nothere (namespace \"default\") from api server: "
                               "persistentvolumeclaims \"nothere\" not found");
  EXPECT_THAT(h_.Events(), Contains("Warning ProvisioningFailed r1: " + pending("r1")));

  // The snapshot appears and becomes ready: the waiting claim provisions from it. A smaller
  // claim than its restoreSize keeps waiting.
  h_.Put(WithSource(PVC("r2", "100Mi", {"ReadWriteOnce"}, std::string("fast")), "VolumeSnapshot",
                    "later"));
  h_.Put(Snapshot("later", "data"));
  h_.Run();
  EXPECT_EQ(h_.Get(PVCKey("r1"))["status"].value("phase", ""), "Bound");
  EXPECT_EQ(pending("r2"), prefix +
                               "Type VolumeSnapshot by Name later: requested volume size "
                               "104857600 is less than the size 1073741824 for the source "
                               "snapshot later");
}

TEST_F(SnapshotControllerTest, ErrorsSayWhyASnapshotCannotBeTaken) {
  h_.Put(PVC("unbound", "1Gi", {"ReadWriteOnce"}, std::string("nosuchclass")));
  h_.Put(PVC("plaindata", "1Gi", {"ReadWriteOnce"}, std::string("plain")));
  h_.Put(Snapshot("s-missing", "nothere"));
  h_.Put(Snapshot("s-unbound", "unbound"));
  h_.Put(Snapshot("s-plain", "plaindata"));
  h_.Put(Snapshot("s-class", "data", "nosuchsnapclass"));
  h_.Run();
  auto err = [&](const std::string& s) {
    json st = h_.Get(SnapKey(s))["status"];
    EXPECT_EQ(st.value("readyToUse", true), false) << s;
    return st["error"].value("message", "");
  };
  EXPECT_EQ(err("s-missing"),
            "Failed to create snapshot content with error failed to get input parameters to "
            "create snapshot s-missing: \"failed to retrieve PVC nothere from the lister: "
            "\\\"persistentvolumeclaim \\\\\\\"nothere\\\\\\\" not found\\\"\"");
  EXPECT_EQ(err("s-unbound"),
            "Failed to create snapshot content with error failed to get input parameters to "
            "create snapshot s-unbound: \"the PVC unbound is not yet bound to a PV, will not "
            "attempt to take a snapshot\"");
  EXPECT_EQ(err("s-plain"),
            "Failed to set default snapshot class with error cannot find default snapshot class "
            "for driver fake.io/plain");
  EXPECT_EQ(err("s-class"),
            "Failed to create snapshot content with error failed to get input parameters to "
            "create snapshot s-class: \"failed to retrieve snapshot class nosuchsnapclass from "
            "the informer: \\\"volumesnapshotclass.snapshot.storage.k8s.io \\\\\\\"nosuchsnapclass"
            "\\\\\\\" not found\\\"\"");
  EXPECT_THAT(h_.Events(),
              Contains("Warning SnapshotContentCreationFailed s-unbound: " + err("s-unbound")));

  // A class for the plain driver: it has no Snapshotter, and the error says so.
  h_.Put(SnapClass("plain-snap", "fake.io/plain", "Delete", true));
  h_.ctl->EnqueueAll();
  h_.Run();
  EXPECT_EQ(err("s-plain"),
            "Failed to create snapshot: the driver fake.io/plain of PV pvc-uid-plaindata cannot "
            "take snapshots");
}

TEST_F(SnapshotControllerTest, DeletionPolicyDeleteRemovesContentAndDriverSnapshot) {
  h_.Put(Snapshot("snap1", "data"));
  h_.Run();
  ASSERT_EQ(h_.drv.snapshots.size(), 1u);
  // kubectl delete: the finalizer keeps it with a deletionTimestamp until the controller is done.
  ASSERT_TRUE(st_.Delete(SnapKey("snap1")).ok());
  EXPECT_TRUE(h_.Get(SnapKey("snap1")).is_object());
  h_.Run();
  EXPECT_TRUE(h_.Get(SnapKey("snap1")).is_null());
  EXPECT_TRUE(h_.Get(ContentKey("snapcontent-uid-snap1")).is_null());
  EXPECT_THAT(h_.drv.deletedSnapshots, ElementsAre("snapcontent-uid-snap1"));
  EXPECT_TRUE(h_.drv.snapshots.empty());
}

TEST_F(SnapshotControllerTest, DeletionPolicyRetainKeepsContentAndDriverSnapshot) {
  h_.Put(Snapshot("snap1", "data", "snap-retain"));
  h_.Run();
  json c = h_.Get(ContentKey("snapcontent-uid-snap1"));
  EXPECT_EQ(c["spec"]["deletionPolicy"], "Retain");
  EXPECT_FALSE(c["metadata"].contains("finalizers"));
  ASSERT_TRUE(st_.Delete(SnapKey("snap1")).ok());
  h_.Run();
  EXPECT_TRUE(h_.Get(SnapKey("snap1")).is_null());
  EXPECT_TRUE(h_.Get(ContentKey("snapcontent-uid-snap1")).is_object());
  EXPECT_TRUE(h_.drv.deletedSnapshots.empty());
  EXPECT_EQ(h_.drv.snapshots.size(), 1u);
}

TEST_F(SnapshotControllerTest, PreProvisionedContentBindsAndReportsTheDriversSnapshot) {
  h_.drv.snapshots["pre-1"] = {"pre-1", "", 2 * kGi, 1767225600'000000000, true};
  json content = {{"apiVersion", "snapshot.storage.k8s.io/v1"},
                  {"kind", "VolumeSnapshotContent"},
                  {"metadata", {{"name", "pre-content"}, {"uid", "uid-pre-content"}}},
                  {"spec",
                   {{"deletionPolicy", "Retain"},
                    {"driver", "fake.io/snap"},
                    {"source", {{"snapshotHandle", "pre-1"}}},
                    {"volumeSnapshotRef", {{"name", "pre"}, {"namespace", "default"}}}}}};
  h_.Put(content);
  json snap = {{"apiVersion", "snapshot.storage.k8s.io/v1"},
               {"kind", "VolumeSnapshot"},
               {"metadata", {{"name", "pre"}, {"namespace", "default"}, {"uid", "uid-pre"}}},
               {"spec", {{"source", {{"volumeSnapshotContentName", "pre-content"}}}}}};
  h_.Put(snap);
  json other = snap;
  other["metadata"] = {{"name", "thief"}, {"namespace", "default"}, {"uid", "uid-thief"}};
  h_.Put(other);
  h_.Run();
  json s = h_.Get(SnapKey("pre"));
  EXPECT_EQ(s["status"], json({{"boundVolumeSnapshotContentName", "pre-content"},
                               {"readyToUse", true},
                               {"creationTime", "2026-01-01T00:00:00Z"},
                               {"restoreSize", "2Gi"}}));
  json c = h_.Get(ContentKey("pre-content"));
  EXPECT_EQ(c["spec"]["volumeSnapshotRef"]["uid"], "uid-pre");
  EXPECT_EQ(c["status"]["snapshotHandle"], "pre-1");
  EXPECT_EQ(h_.Get(SnapKey("thief"))["status"]["error"].value("message", ""),
            "Snapshot failed to bind VolumeSnapshotContent pre-content: it is bound to another "
            "snapshot (default/pre)");
}

}  // namespace
}  // namespace kvol::controller
