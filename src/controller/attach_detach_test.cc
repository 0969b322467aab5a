// The attach/detach controller, the node lifecycle controller, the scheduler's access-mode,
// taint and topology filters, and the provisioning topology, run deterministically on a
// FakeStore.
#include "kvol/controller/attach_detach.h"

#include <gtest/gtest.h>

#include "kvol/api/attachment.h"
#include "kvol/controller/node_lifecycle.h"
#include "kvol/controller/scheduler.h"
#include "kvol/controller/topology.h"
#include "src/controller/controller_test_util.h"

namespace kvol::controller {
namespace {

using namespace testutil;

constexpr const char* kDriver = "kvol.io/block";

json BlockPV(const std::string& name, std::vector<std::string> modes, const std::string& claim) {
  json pv = PV(name, "1Gi", std::move(modes), "standard", "Bound");
  pv["spec"].erase("hostPath");
  pv["spec"]["csi"] = {{"driver", kDriver}, {"volumeHandle", name}};
  pv["spec"]["claimRef"] = {{"namespace", "default"}, {"name", claim}, {"uid", "uid-" + claim}};
  return pv;
}

json BoundClaim(const std::string& name, const std::string& pv,
                std::vector<std::string> modes = {"ReadWriteOnce"}) {
  json c = PVC(name, "1Gi", std::move(modes), std::string("standard"));
  c["spec"]["volumeName"] = pv;
  c["status"] = {{"phase", "Bound"}};
  return c;
}

std::string VAKey(const std::string& pv, const std::string& node) {
  return store::KeyFor("volumeattachments", "", api::VolumeAttachmentName(pv, kDriver, node));
}

std::vector<std::string> EventsOf(store::Store& s, const std::string& reason) {
  store::ListOptions lo;
  lo.prefix = "/registry/events/";
  std::vector<std::string> out;
  auto r = s.List(lo);
  if (!r.ok()) return out;
  for (auto& o : r->items) {
    if (o.value.value("reason", "") != reason) continue;
    out.push_back(o.value["involvedObject"].value("name", "") + ": " +
                  o.value.value("message", ""));
  }
  return out;
}

struct AttachHarness {
  explicit AttachHarness(store::Store& s)
      : st(s),
        pods(s, store::PrefixFor("pods")),
        nodes(s, store::PrefixFor("nodes")),
        pvcs(s, store::PrefixFor("persistentvolumeclaims")),
        pvs(s, store::PrefixFor("persistentvolumes")),
        vas(s, store::PrefixFor("volumeattachments")),
        drivers(s, store::PrefixFor("csidrivers")),
        events(s, "attachdetach-controller", "", /*buffered=*/true),
        ctl(s, pods, nodes, pvcs, pvs, vas, drivers, events) {
    ctl.RegisterHandlers();
  }
  void Run() {
    for (int i = 0; i < 20; ++i) {
      (void)drivers.Relist();
      (void)nodes.Relist();
      (void)pvs.Relist();
      (void)pvcs.Relist();
      (void)pods.Relist();
      (void)vas.Relist();
      ctl.EnqueueAll();
      auto keys = ctl.queue().TryGetBatch(100000);
      if (keys.empty()) return;
      for (auto& k : keys) {
        EXPECT_TRUE(ctl.Sync(k).ok()) << k;
        ctl.queue().Done(k);
      }
      events.Flush();
      if (i > 3) return;  // EnqueueAll keeps the queue busy: a few rounds reach the fixpoint
    }
  }
  bool Attached(const std::string& pv, const std::string& node) {
    auto r = st.Get(VAKey(pv, node));
    return r.ok() && r->value["status"].value("attached", false) &&
           r->value["spec"].value("nodeName", "") == node;
  }
  void SetInUse(const std::string& node, std::vector<std::string> volumes) {
    auto r = st.GuaranteedUpdate(NodeKey(node), [&](json& n) {
      n["status"]["volumesInUse"] = volumes;
      return Status::Ok();
    });
    ASSERT_TRUE(r.ok());
  }

  store::Store& st;
  PodInformer pods;
  NodeInformer nodes;
  PVCInformer pvcs;
  PVInformer pvs;
  VolumeAttachmentInformer vas;
  CSIDriverInformer drivers;
  EventRecorder events;
  AttachDetachController ctl;
};

class AttachDetachTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(s_.Create(NodeKey("node-1"), Node("node-1")).ok());
    ASSERT_TRUE(s_.Create(NodeKey("node-2"), Node("node-2")).ok());
  }
  kvol::testing::FakeStore s_;
};

TEST_F(AttachDetachTest, ReadWriteOnceMovesOnlyAfterTheFirstNodeUnmounted) {
  ASSERT_TRUE(s_.Create(PVKey("pv-1"), BlockPV("pv-1", {"ReadWriteOnce"}, "data")).ok());
  ASSERT_TRUE(s_.Create(PVCKey("data"), BoundClaim("data", "pv-1")).ok());
  ASSERT_TRUE(s_.Create(PodKey("first"), PodUsing("first", "data", "Running", "node-1")).ok());
  AttachHarness h(s_);
  h.Run();
  ASSERT_TRUE(h.Attached("pv-1", "node-1"));
  const std::string unique = api::UniqueVolumeName(kDriver, "pv-1");
  EXPECT_EQ(s_.Get(NodeKey("node-1"))->value["status"]["volumesAttached"],
            json::parse(R"([{"name":")" + unique + R"(","devicePath":""}])"));

  // A second pod on another node waits, and says why.
  ASSERT_TRUE(s_.Create(PodKey("second"), PodUsing("second", "data", "Running", "node-2")).ok());
  h.SetInUse("node-1", {unique});
  h.Run();
  EXPECT_FALSE(h.Attached("pv-1", "node-2"));
  auto ev = EventsOf(s_, "FailedAttachVolume");
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_EQ(ev[0].rfind("second: Multi-Attach error for volume \"pv-1\" Volume is already "
                        "exclusively attached to one node and can't be attached to another "
                        "(attached to node \"node-1\"",
                        0),
            0u)
      << ev[0];

  // The first pod goes, but node-1 still has the volume mounted: nothing moves yet.
  ASSERT_TRUE(s_.Delete(PodKey("first")).ok());
  h.Run();
  EXPECT_TRUE(h.Attached("pv-1", "node-1"));
  EXPECT_FALSE(h.Attached("pv-1", "node-2"));
  // node-1 reports it unmounted: detached there, attached on node-2.
  h.SetInUse("node-1", {});
  h.Run();
  EXPECT_FALSE(s_.Get(VAKey("pv-1", "node-1")).ok());
  EXPECT_TRUE(h.Attached("pv-1", "node-2"));
  EXPECT_FALSE(s_.Get(NodeKey("node-1"))->value["status"].contains("volumesAttached"));
}

TEST_F(AttachDetachTest, SamePodsNodeSharesAndReadOnlyManyAttachesEverywhere) {
  ASSERT_TRUE(s_.Create(PVKey("pv-rwo"), BlockPV("pv-rwo", {"ReadWriteOnce"}, "rwo")).ok());
  ASSERT_TRUE(s_.Create(PVCKey("rwo"), BoundClaim("rwo", "pv-rwo")).ok());
  ASSERT_TRUE(s_.Create(PVKey("pv-rox"), BlockPV("pv-rox", {"ReadOnlyMany"}, "rox")).ok());
  ASSERT_TRUE(s_.Create(PVCKey("rox"), BoundClaim("rox", "pv-rox", {"ReadOnlyMany"})).ok());
  ASSERT_TRUE(s_.Create(PodKey("a"), PodUsing("a", "rwo", "Running", "node-1")).ok());
  ASSERT_TRUE(s_.Create(PodKey("b"), PodUsing("b", "rwo", "Running", "node-1")).ok());
  ASSERT_TRUE(s_.Create(PodKey("c"), PodUsing("c", "rox", "Running", "node-1")).ok());
  ASSERT_TRUE(s_.Create(PodKey("d"), PodUsing("d", "rox", "Running", "node-2")).ok());
  AttachHarness h(s_);
  h.Run();
  EXPECT_TRUE(h.Attached("pv-rwo", "node-1"));
  EXPECT_TRUE(h.Attached("pv-rox", "node-1"));
  EXPECT_TRUE(h.Attached("pv-rox", "node-2"));
  EXPECT_TRUE(EventsOf(s_, "FailedAttachVolume").empty());
}

TEST_F(AttachDetachTest, LocalVolumesAndFinishedPodsNeedNoAttachment) {
  json local = BlockPV("pv-l", {"ReadWriteOnce"}, "l");
  local["spec"]["csi"]["driver"] = "kvol.io/local";
  ASSERT_TRUE(s_.Create(PVKey("pv-l"), local).ok());
  ASSERT_TRUE(s_.Create(PVCKey("l"), BoundClaim("l", "pv-l")).ok());
  ASSERT_TRUE(s_.Create(PodKey("a"), PodUsing("a", "l", "Running", "node-1")).ok());
  ASSERT_TRUE(s_.Create(PVKey("pv-1"), BlockPV("pv-1", {"ReadWriteOnce"}, "data")).ok());
  ASSERT_TRUE(s_.Create(PVCKey("data"), BoundClaim("data", "pv-1")).ok());
  ASSERT_TRUE(s_.Create(PodKey("done"), PodUsing("done", "data", "Succeeded", "node-1")).ok());
  AttachHarness h(s_);
  h.Run();
  store::ListOptions lo;
  lo.prefix = store::PrefixFor("volumeattachments");
  EXPECT_TRUE(s_.List(lo)->items.empty());
  // A CSIDriver object saying attachRequired: true makes kvol.io/local attach too.
  ASSERT_TRUE(s_.Create(store::KeyFor("csidrivers", "", "kvol.io/local"),
                        {{"apiVersion", "storage.k8s.io/v1"},
                         {"kind", "CSIDriver"},
                         {"metadata", {{"name", "kvol.io/local"}}},
                         {"spec", {{"attachRequired", true}}}})
                  .ok());
  h.Run();
  EXPECT_TRUE(s_.Get(store::KeyFor("volumeattachments", "",
                                   api::VolumeAttachmentName("pv-l", "kvol.io/local", "node-1")))
                  .ok());
}

TEST_F(AttachDetachTest, OutOfServiceNodeReleasesAtOnce) {
  ASSERT_TRUE(s_.Create(PVKey("pv-1"), BlockPV("pv-1", {"ReadWriteOnce"}, "data")).ok());
  ASSERT_TRUE(s_.Create(PVCKey("data"), BoundClaim("data", "pv-1")).ok());
  json dying = PodUsing("first", "data", "Running", "node-1");
  dying["metadata"]["deletionTimestamp"] = "2026-01-01T00:00:00Z";
  ASSERT_TRUE(s_.Create(PodKey("first"), dying).ok());
  ASSERT_TRUE(s_.Create(PodKey("second"), PodUsing("second", "data", "Running", "node-2")).ok());
  AttachHarness h(s_);
  h.SetInUse("node-1", {api::UniqueVolumeName(kDriver, "pv-1")});
  h.Run();
  // Being deleted on a silent node: its containers may still write; the volume stays.
  EXPECT_TRUE(h.Attached("pv-1", "node-1"));
  EXPECT_FALSE(h.Attached("pv-1", "node-2"));
  // The operator says the machine is down.
  ASSERT_TRUE(s_.GuaranteedUpdate(NodeKey("node-1"), [](json& n) {
                  n["spec"]["taints"] = {{{"key", kOutOfServiceTaint},
                                          {"value", "nodeshutdown"},
                                          {"effect", "NoExecute"}}};
                  return Status::Ok();
                }).ok());
  h.Run();
  EXPECT_FALSE(s_.Get(VAKey("pv-1", "node-1")).ok());
  EXPECT_TRUE(h.Attached("pv-1", "node-2"));
}

// ---- node lifecycle ---------------------------------------------------------------------------

struct LifecycleHarness {
  explicit LifecycleHarness(store::Store& s)
      : nodes(s, store::PrefixFor("nodes")),
        pods(s, store::PrefixFor("pods")),
        events(s, "node-controller", "", /*buffered=*/true),
        ctl(s, nodes, pods, events, NodeLifecycleOptions{std::chrono::milliseconds(40000), {}}) {
    ctl.RegisterHandlers();
  }
  void Run() {
    (void)nodes.Relist();
    (void)pods.Relist();
    ctl.EnqueueAll();
    for (auto& k : ctl.queue().TryGetBatch(1000)) {
      EXPECT_TRUE(ctl.Sync(k).ok());
      ctl.queue().Done(k);
    }
    events.Flush();
  }
  NodeInformer nodes;
  PodInformer pods;
  EventRecorder events;
  NodeLifecycleController ctl;
};

json NodeWithHeartbeat(const std::string& name, const std::string& when) {
  json n = Node(name);
  n["status"]["conditions"][0]["lastHeartbeatTime"] = when;
  return n;
}

TEST(NodeLifecycle, SilentNodeBecomesUnknownAndComesBack) {
  kvol::testing::FakeStore s;
  ASSERT_TRUE(s.Create(NodeKey("old"), NodeWithHeartbeat("old", "2020-01-01T00:00:00Z")).ok());
  ASSERT_TRUE(s.Create(NodeKey("fresh"), NodeWithHeartbeat("fresh", api::Now())).ok());
  ASSERT_TRUE(s.Create(PodKey("p"), PodUsing("p", "x", "Running", "old")).ok());
  LifecycleHarness h(s);
  h.Run();
  json old = s.Get(NodeKey("old"))->value;
  EXPECT_EQ(old["status"]["conditions"][0]["status"], "Unknown");
  EXPECT_EQ(old["status"]["conditions"][0]["reason"], "NodeStatusUnknown");
  EXPECT_EQ(old["status"]["conditions"][0]["message"], "Kubelet stopped posting node status.");
  EXPECT_EQ(old["spec"]["taints"][0]["key"], kUnreachableTaint);
  EXPECT_EQ(s.Get(NodeKey("fresh"))->value["status"]["conditions"][0]["status"], "True");
  EXPECT_TRUE(s.Get(PodKey("p")).ok());  // its pods stay: their containers may still run
  // The agent posts again: Ready, and the taint goes.
  ASSERT_TRUE(s.GuaranteedUpdate(NodeKey("old"), [](json& n) {
                 n["status"]["conditions"][0] = {
                     {"type", "Ready"}, {"status", "True"}, {"lastHeartbeatTime", api::Now()}};
                 return Status::Ok();
               }).ok());
  h.Run();
  EXPECT_FALSE(s.Get(NodeKey("old"))->value["spec"].contains("taints"));
}

TEST(NodeLifecycle, OutOfServiceNotReadyNodeLosesItsPods) {
  kvol::testing::FakeStore s;
  json n = NodeWithHeartbeat("dead", "2020-01-01T00:00:00Z");
  n["spec"]["taints"] = {
      {{"key", kOutOfServiceTaint}, {"value", "nodeshutdown"}, {"effect", "NoExecute"}}};
  ASSERT_TRUE(s.Create(NodeKey("dead"), n).ok());
  ASSERT_TRUE(s.Create(NodeKey("live"), NodeWithHeartbeat("live", api::Now())).ok());
  ASSERT_TRUE(s.Create(PodKey("gone"), PodUsing("gone", "x", "Running", "dead")).ok());
  ASSERT_TRUE(s.Create(PodKey("kept"), PodUsing("kept", "x", "Running", "live")).ok());
  LifecycleHarness h(s);
  h.Run();
  h.Run();
  EXPECT_FALSE(s.Get(PodKey("gone")).ok());
  EXPECT_TRUE(s.Get(PodKey("kept")).ok());
  auto ev = EventsOf(s, "NodeOutOfService");
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_EQ(ev[0],
            "gone: Deleted pod default/gone at once: node \"dead\" is not ready and tainted "
            "node.kubernetes.io/out-of-service; its volumes are detached");
}

// ---- scheduler: ReadWriteOncePod, taints, allowedTopologies -----------------------------------

TEST(SchedulerAccess, ReadWriteOncePodAdmitsOnePodClusterWide) {
  kvol::testing::FakeStore s;
  ASSERT_TRUE(s.Create(NodeKey("node-1"), Node("node-1")).ok());
  ASSERT_TRUE(s.Create(NodeKey("node-2"), Node("node-2")).ok());
  ASSERT_TRUE(s.Create(PVKey("pv-1"), BlockPV("pv-1", {"ReadWriteOncePod"}, "solo")).ok());
  ASSERT_TRUE(s.Create(PVCKey("solo"), BoundClaim("solo", "pv-1", {"ReadWriteOncePod"})).ok());
  ASSERT_TRUE(s.Create(PodKey("first"), PodUsing("first", "solo", "Running", "node-1")).ok());
  ASSERT_TRUE(s.Create(PodKey("second"), PodUsing("second", "solo", "Pending")).ok());
  SchedulerHarness h(s);
  h.Run();
  json got = s.Get(PodKey("second"))->value;
  EXPECT_FALSE(got["spec"].contains("nodeName"));
  EXPECT_EQ(got["status"]["conditions"][0]["message"],
            "0/2 nodes are available: 2 node(s) unavailable: node has pod using "
            "PersistentVolumeClaim with the same name and ReadWriteOncePod access mode (claim "
            "\"solo\" is used by pod \"first\" on node \"node-1\").");
  // The first pod goes: the second is placed.
  ASSERT_TRUE(s.Delete(PodKey("first")).ok());
  h.Run();
  EXPECT_TRUE(s.Get(PodKey("second"))->value["spec"].contains("nodeName"));
}

TEST(SchedulerAccess, UntoleratedTaintAndAllowedTopologiesFilterNodes) {
  kvol::testing::FakeStore s;
  json tainted = Node("node-a1", true, {{"topology.kubernetes.io/zone", "a"}});
  tainted["spec"]["taints"] = {
      {{"key", kOutOfServiceTaint}, {"value", "nodeshutdown"}, {"effect", "NoExecute"}}};
  ASSERT_TRUE(s.Create(NodeKey("node-a1"), tainted).ok());
  ASSERT_TRUE(
      s.Create(NodeKey("node-a2"), Node("node-a2", true, {{"topology.kubernetes.io/zone", "a"}}))
          .ok());
  ASSERT_TRUE(
      s.Create(NodeKey("node-b"), Node("node-b", true, {{"topology.kubernetes.io/zone", "b"}}))
          .ok());
  json cls = Class("zoned", kDriver, "WaitForFirstConsumer");
  cls["allowedTopologies"] = json::parse(
      R"([{"matchLabelExpressions":[{"key":"topology.kubernetes.io/zone","values":["b"]}]}])");
  ASSERT_TRUE(s.Create(ClassKey("zoned"), cls).ok());
  ASSERT_TRUE(s.Create(PVCKey("z"), PVC("z", "1Gi", {"ReadWriteOnce"}, std::string("zoned"))).ok());
  json pinned = PodUsing("pinned", "z", "Pending");
  pinned["spec"]["nodeSelector"] = {{"topology.kubernetes.io/zone", "a"}};
  ASSERT_TRUE(s.Create(PodKey("pinned"), pinned).ok());
  SchedulerHarness h(s);
  h.Run();
  EXPECT_EQ(s.Get(PodKey("pinned"))->value["status"]["conditions"][0]["message"],
            "0/3 nodes are available: 1 node(s) didn't find available persistent volumes to "
            "bind, 1 node(s) didn't match Pod's node affinity/selector, 1 node(s) had untolerated "
            "taint {node.kubernetes.io/out-of-service: nodeshutdown}.");
  EXPECT_FALSE(s.Get(PVCKey("z"))->value["metadata"].contains("annotations"));
  // The claim says why it waits: the pod's own reason.
  auto waiting = EventsOf(s, "WaitForPodScheduled");
  ASSERT_EQ(waiting.size(), 1u);
  EXPECT_EQ(
      waiting[0],
      "z: waiting for pod pinned to be scheduled: 0/3 nodes are available: 1 node(s) didn't "
      "find available persistent volumes to bind, 1 node(s) didn't match Pod's node "
      "affinity/selector, 1 node(s) had untolerated taint {node.kubernetes.io/out-of-service: "
      "nodeshutdown}.");
  // Without the pin, zone b is chosen for the claim.
  ASSERT_TRUE(s.Delete(PodKey("pinned")).ok());
  ASSERT_TRUE(s.Create(PodKey("free"), PodUsing("free", "z", "Pending")).ok());
  h.Run();
  EXPECT_EQ(
      s.Get(PVCKey("z"))->value["metadata"]["annotations"]["volume.kubernetes.io/selected-node"],
      "node-b");
}

// ---- provisioning topology --------------------------------------------------------------------

TEST(Topology, RequisiteFromTheNodeOrTheClass) {
  NodeInfo n{"node-b", {{"topology.kubernetes.io/zone", "b"}}};
  auto one = ProvisionRequisite(&n, {});
  ASSERT_EQ(one.size(), 1u);
  EXPECT_EQ(one[0], (driver::Topology{{"kubernetes.io/hostname", "node-b"},
                                      {"topology.kubernetes.io/zone", "b"}}));
  std::vector<api::TopologySelectorTerm> allowed(1);
  allowed[0].matchLabelExpressions = {{"topology.kubernetes.io/zone", {"a", "c"}}};
  auto two = ProvisionRequisite(nullptr, allowed);
  ASSERT_EQ(two.size(), 2u);
  EXPECT_EQ(two[1], (driver::Topology{{"topology.kubernetes.io/zone", "c"}}));
  EXPECT_FALSE(AllowedTopologiesMatch(allowed, n));
  EXPECT_TRUE(AllowedTopologiesMatch({}, n));
  EXPECT_TRUE(
      AllowedTopologiesMatch(allowed, NodeInfo{"x", {{"topology.kubernetes.io/zone", "c"}}}));
}

}  // namespace
}  // namespace kvol::controller
