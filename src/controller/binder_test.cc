// Table-driven binder tests in the style of Kubernetes' framework_test.go: initial objects ->
// sync until idle -> expected objects and events. [Unit test set N] as in pv_controller.go.
#include "kvol/controller/binder.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "src/controller/controller_test_util.h"

namespace kvol::controller {
namespace {

using namespace testutil;  // NOLINT
using ::testing::Contains;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

struct Expect {
  std::string claim;   // claim name
  std::string volume;  // expected spec.volumeName ("" = stays Pending)
};

struct BindCase {
  std::string name;
  std::vector<json> volumes;
  std::vector<json> claims;
  std::vector<json> classes;
  std::vector<Expect> expect;
};

class BindTable : public ::testing::TestWithParam<BindCase> {};

TEST_P(BindTable, ChoosesKubernetesVolume) {
  const BindCase& tc = GetParam();
  kvol::testing::FakeStore s;
  for (auto& c : tc.classes) ASSERT_TRUE(s.Create(ClassKey(c["metadata"]["name"]), c).ok());
  for (auto& v : tc.volumes) ASSERT_TRUE(s.Create(PVKey(v["metadata"]["name"]), v).ok());
  for (auto& c : tc.claims) ASSERT_TRUE(s.Create(PVCKey(c["metadata"]["name"]), c).ok());
  BinderHarness h(s);
  h.Run();
  for (const auto& e : tc.expect) {
    json c = h.Get(PVCKey(e.claim));
    SCOPED_TRACE(e.claim);
    if (e.volume.empty()) {
      EXPECT_EQ(c["status"].value("phase", ""), "Pending");
      EXPECT_EQ(c["spec"].value("volumeName", ""), "");
    } else {
      EXPECT_EQ(c["spec"].value("volumeName", ""), e.volume);
      EXPECT_EQ(c["status"].value("phase", ""), "Bound");
      json v = h.Get(PVKey(e.volume));
      EXPECT_EQ(v["status"].value("phase", ""), "Bound");
      EXPECT_EQ(v["spec"]["claimRef"].value("name", ""), e.claim);
      EXPECT_EQ(v["spec"]["claimRef"].value("uid", ""), "uid-" + e.claim);
    }
  }
}

json PreboundPV(json pv, const std::string& claim) {
  pv["spec"]["claimRef"] = {
      {"kind", "PersistentVolumeClaim"}, {"namespace", "default"}, {"name", claim}};
  return pv;
}
json Labeled(json o, const std::string& k, const std::string& v) {
  o["metadata"]["labels"][k] = v;
  return o;
}
json WithSelector(json c, const std::string& k, const std::string& v) {
  c["spec"]["selector"] = {{"matchLabels", {{k, v}}}};
  return c;
}
json WithVolumeName(json c, const std::string& v) {
  c["spec"]["volumeName"] = v;
  return c;
}
json Block(json o) {
  o["spec"]["volumeMode"] = "Block";
  return o;
}

INSTANTIATE_TEST_SUITE_P(
    Binder, BindTable,
    ::testing::Values(BindCase{"SmallestFit",
                               {PV("pv-1g", "1Gi"), PV("pv-10g", "10Gi"), PV("pv-5g", "5Gi")},
                               {PVC("c", "3Gi")},
                               {},
                               {{"c", "pv-5g"}}},
                      BindCase{"ExactSizeWins",
                               {PV("pv-a", "2Gi"), PV("pv-b", "2048Mi")},
                               {PVC("c", "2Gi")},
                               {},
                               {{"c", "pv-a"}}},
                      BindCase{"FewestModesBucketFirst",
                               {PV("pv-rwo-rwx", "1Gi", {"ReadWriteOnce", "ReadWriteMany"}),
                                PV("pv-rwo", "10Gi", {"ReadWriteOnce"})},
                               {PVC("c", "1Gi", {"ReadWriteOnce"})},
                               {},
                               {{"c", "pv-rwo"}}},
                      BindCase{"ModesMustAllBePresent",
                               {PV("pv-rwo", "1Gi", {"ReadWriteOnce"}),
                                PV("pv-rwx", "5Gi", {"ReadWriteMany", "ReadOnlyMany"})},
                               {PVC("c", "1Gi", {"ReadWriteMany"})},
                               {},
                               {{"c", "pv-rwx"}}},
                      BindCase{
                          "ClassMustMatch",
                          {PV("pv-fast", "1Gi", {"ReadWriteOnce"}, "fast"), PV("pv-none", "1Gi")},
                          {PVC("c-fast", "1Gi", {"ReadWriteOnce"}, std::string("fast")),
                           PVC("c-none", "1Gi")},
                          {},
                          {{"c-fast", "pv-fast"}, {"c-none", "pv-none"}}},
                      BindCase{"SelectorFilters",
                               {PV("pv-a", "1Gi"), Labeled(PV("pv-b", "5Gi"), "tier", "gold")},
                               {WithSelector(PVC("c", "1Gi"), "tier", "gold")},
                               {},
                               {{"c", "pv-b"}}},
                      BindCase{"VolumeModeMustMatch",
                               {PV("pv-fs", "1Gi"), Block(PV("pv-blk", "5Gi"))},
                               {Block(PVC("c", "1Gi"))},
                               {},
                               {{"c", "pv-blk"}}},
                      BindCase{"PreboundVolumeWinsOverSmaller",
                               {PV("pv-small", "1Gi"), PreboundPV(PV("pv-big", "10Gi"), "c")},
                               {PVC("c", "1Gi")},
                               {},
                               {{"c", "pv-big"}}},
                      BindCase{"PreboundVolumeIgnoresClassAndPhase",
                               {PreboundPV(PV("pv-x", "1Gi", {"ReadWriteOnce"}, "other", ""), "c")},
                               {PVC("c", "1Gi")},
                               {},
                               {{"c", "pv-x"}}},
                      BindCase{"PreboundToOtherClaimIsSkipped",
                               {PreboundPV(PV("pv-x", "1Gi"), "someone-else")},
                               {PVC("c", "1Gi")},
                               {},
                               {{"c", ""}}},
                      BindCase{"ClaimNamesVolume",
                               {PV("pv-a", "1Gi"), PV("pv-b", "50Gi")},
                               {WithVolumeName(PVC("c", "1Gi"), "pv-b")},
                               {},
                               {{"c", "pv-b"}}},
                      BindCase{"TwoClaimsOneVolume",
                               {PV("pv-a", "1Gi")},
                               {PVC("first", "1Gi"), PVC("second", "1Gi")},
                               {},
                               {{"first", "pv-a"}, {"second", ""}}},
                      BindCase{"CreationOrderDecides",
                               {PV("pv-2g", "2Gi"), PV("pv-5g", "5Gi")},
                               {PVC("zz-first", "1Gi"), PVC("aa-second", "3Gi")},
                               {},
                               {{"zz-first", "pv-2g"}, {"aa-second", "pv-5g"}}}),
    [](const auto& info) { return info.param.name; });

TEST(Binder, BindIsOneTxnWithPreconditionsAndKubernetesAnnotations) {
  kvol::testing::FakeStore s;
  ASSERT_TRUE(s.Create(PVKey("pv-1"), PV("pv-1", "5Gi")).ok());
  ASSERT_TRUE(s.Create(PVCKey("c"), PVC("c", "1Gi")).ok());
  BinderHarness h(s);
  h.Run();
  auto txns = s.Txns();
  ASSERT_EQ(txns.size(), 4u);  // 2 creates, pv-protection on the volume, the bind
  const auto& bind = txns[3];
  ASSERT_EQ(bind.size(), 2u);
  EXPECT_EQ(bind[0].key, PVKey("pv-1"));
  EXPECT_EQ(bind[0].expectedRevision, 3);
  EXPECT_EQ(bind[1].key, PVCKey("c"));
  EXPECT_EQ(bind[1].expectedRevision, 2);

  json v = h.Get(PVKey("pv-1"));
  EXPECT_EQ(v["metadata"]["annotations"]["pv.kubernetes.io/bound-by-controller"], "yes");
  EXPECT_THAT(v["metadata"]["finalizers"], Contains("kubernetes.io/pv-protection"));
  json c = h.Get(PVCKey("c"));
  EXPECT_EQ(c["metadata"]["annotations"]["pv.kubernetes.io/bind-completed"], "yes");
  EXPECT_EQ(c["metadata"]["annotations"]["pv.kubernetes.io/bound-by-controller"], "yes");
  EXPECT_EQ(c["status"]["capacity"]["storage"], "5Gi");
  EXPECT_EQ(c["status"]["accessModes"], json({"ReadWriteOnce"}));
  EXPECT_THAT(c["metadata"]["finalizers"], Contains("kubernetes.io/pvc-protection"));
  EXPECT_FALSE(c["status"].contains("conditions"));
}

TEST(Binder, BoundClaimKeepsItsCapacityWhileTheFilesystemGrows) {
  // Expansion raised the volume to 10Gi; the node has not grown the filesystem yet, so the claim
  // still says 5Gi (FileSystemResizePending). A binder pass must not copy the volume's size.
  kvol::testing::FakeStore s;
  ASSERT_TRUE(s.Create(PVKey("pv-1"), PV("pv-1", "5Gi")).ok());
  ASSERT_TRUE(s.Create(PVCKey("c"), PVC("c", "1Gi")).ok());
  BinderHarness h(s);
  h.Run();
  ASSERT_EQ(h.Get(PVCKey("c"))["status"]["capacity"]["storage"], "5Gi");
  json v = h.Get(PVKey("pv-1"));
  v["spec"]["capacity"]["storage"] = "10Gi";
  ASSERT_TRUE(s.Update(PVKey("pv-1"), v).ok());
  json c = h.Get(PVCKey("c"));
  c["status"]["conditions"] =
      json::array({{{"type", "FileSystemResizePending"}, {"status", "True"}}});
  ASSERT_TRUE(s.Update(PVCKey("c"), c).ok());
  h.Run();
  EXPECT_EQ(h.Get(PVCKey("c"))["status"]["capacity"]["storage"], "5Gi");
  EXPECT_EQ(h.Get(PVCKey("c"))["status"]["phase"], "Bound");
}

TEST(Binder, UserPreboundVolumeGetsNoBoundByControllerAnnotation) {
  kvol::testing::FakeStore s;
  json pv = PV("pv-1", "5Gi");
  pv["spec"]["claimRef"] = {{"namespace", "default"}, {"name", "c"}};
  ASSERT_TRUE(s.Create(PVKey("pv-1"), pv).ok());
  ASSERT_TRUE(s.Create(PVCKey("c"), WithVolumeName(PVC("c", "1Gi"), "pv-1")).ok());
  BinderHarness h(s);
  h.Run();
  json v = h.Get(PVKey("pv-1"));
  EXPECT_FALSE(v["metadata"].contains("annotations") &&
               v["metadata"]["annotations"].contains("pv.kubernetes.io/bound-by-controller"));
  json c = h.Get(PVCKey("c"));
  EXPECT_EQ(c["status"]["phase"], "Bound");
  EXPECT_FALSE(c["metadata"]["annotations"].contains("pv.kubernetes.io/bound-by-controller"));
}

TEST(Binder, PreboundToMissingClaimStaysAvailable) {
  kvol::testing::FakeStore s;
  json pv = PV("pv-1", "5Gi", {"ReadWriteOnce"}, "", "");
  pv["spec"]["claimRef"] = {{"namespace", "default"}, {"name", "not-yet"}};
  ASSERT_TRUE(s.Create(PVKey("pv-1"), pv).ok());
  BinderHarness h(s);
  h.Run();
  EXPECT_EQ(h.Get(PVKey("pv-1"))["status"]["phase"], "Available");
  // The claim arrives later and binds to it.
  ASSERT_TRUE(s.Create(PVCKey("not-yet"), PVC("not-yet", "1Gi")).ok());
  h.Run();
  EXPECT_EQ(h.Get(PVCKey("not-yet"))["spec"]["volumeName"], "pv-1");
}

TEST(Binder, PendingClaimExplainsNearMisses) {
  kvol::testing::FakeStore s;
  ASSERT_TRUE(s.Create(PVKey("pv-7"), PV("pv-7", "1Gi")).ok());
  ASSERT_TRUE(s.Create(PVKey("pv-9"), PV("pv-9", "10Gi", {"ReadWriteOnce"})).ok());
  ASSERT_TRUE(
      s.Create(PVKey("pv-3"), PreboundPV(PV("pv-3", "10Gi", {"ReadWriteMany"}), "other")).ok());
  ASSERT_TRUE(s.Create(PVKey("pv-c"), PV("pv-c", "10Gi", {"ReadWriteMany"}, "gold")).ok());
  ASSERT_TRUE(s.Create(PVCKey("c"), PVC("c", "5Gi", {"ReadWriteMany"})).ok());
  BinderHarness h(s);
  h.Run();
  json c = h.Get(PVCKey("c"));
  EXPECT_EQ(c["status"]["phase"], "Pending");
  ASSERT_EQ(c["status"]["conditions"].size(), 1u);
  const json& cond = c["status"]["conditions"][0];
  EXPECT_EQ(cond["type"], "Pending");
  EXPECT_EQ(cond["status"], "True");
  EXPECT_EQ(cond["reason"], "FailedBinding");
  EXPECT_EQ(cond["message"],
            "no persistent volumes available for this claim and no storage class is set; "
            "candidates: pv-7: access modes [ReadWriteOnce] lack ReadWriteMany, "
            "pv-9: access modes [ReadWriteOnce] lack ReadWriteMany, "
            "pv-c: storage class \"gold\" != \"\"");
  EXPECT_THAT(h.Events(),
              Contains(HasSubstr("Normal FailedBinding c: no persistent volumes available for this "
                                 "claim and no storage class is set; candidates: pv-7")));
}

TEST(Binder, CapacityNearMissIsNamed) {
  kvol::testing::FakeStore s;
  ASSERT_TRUE(s.Create(PVKey("pv-7"), PV("pv-7", "1Gi")).ok());
  ASSERT_TRUE(s.Create(PVCKey("c"), PVC("c", "5Gi")).ok());
  BinderHarness h(s);
  h.Run();
  EXPECT_THAT(h.Get(PVCKey("c"))["status"]["conditions"][0]["message"].get<std::string>(),
              HasSubstr("candidates: pv-7: capacity 1Gi < request 5Gi"));
}

TEST(Binder, VolumeBoundElsewhereIsNamed) {
  kvol::testing::FakeStore s;
  ASSERT_TRUE(s.Create(PVKey("pv-3"), PreboundPV(PV("pv-3", "10Gi"), "other")).ok());
  ASSERT_TRUE(s.Create(PVCKey("c"), PVC("c", "5Gi")).ok());
  BinderHarness h(s);
  h.Run();
  EXPECT_THAT(h.Get(PVCKey("c"))["status"]["conditions"][0]["message"].get<std::string>(),
              HasSubstr("candidates: pv-3: bound to claim default/other"));
}

TEST(Binder, RepeatedSyncAggregatesEvent) {
  kvol::testing::FakeStore s;
  ASSERT_TRUE(s.Create(PVCKey("c"), PVC("c", "5Gi")).ok());
  BinderHarness h(s);
  h.Run();
  h.binder->EnqueueAll();
  h.Run();
  h.binder->EnqueueAll();
  h.Run();
  EXPECT_THAT(h.Events(),
              ElementsAre("Normal FailedBinding c: no persistent volumes available for this claim "
                          "and no storage class is set (x3)"));
}

TEST(Binder, ClaimNamingVolumeBoundElsewhereStaysPending) {
  kvol::testing::FakeStore s;
  ASSERT_TRUE(s.Create(PVKey("pv-1"), PV("pv-1", "5Gi")).ok());
  ASSERT_TRUE(s.Create(PVCKey("a"), PVC("a", "1Gi")).ok());
  BinderHarness h(s);
  h.Run();
  ASSERT_TRUE(s.Create(PVCKey("b"), WithVolumeName(PVC("b", "1Gi"), "pv-1")).ok());
  h.Run();
  json b = h.Get(PVCKey("b"));
  EXPECT_EQ(b["status"]["phase"], "Pending");
  EXPECT_EQ(b["status"]["conditions"][0]["message"],
            "volume \"pv-1\" already bound to a different claim.");
  EXPECT_THAT(
      h.Events(),
      Contains("Warning FailedBinding b: volume \"pv-1\" already bound to a different claim."));
  EXPECT_EQ(h.Get(PVKey("pv-1"))["spec"]["claimRef"]["name"], "a");
}

TEST(Binder, ClaimNamingTooSmallVolume) {
  kvol::testing::FakeStore s;
  ASSERT_TRUE(s.Create(PVKey("pv-1"), PV("pv-1", "1Gi")).ok());
  ASSERT_TRUE(s.Create(PVCKey("c"), WithVolumeName(PVC("c", "5Gi"), "pv-1")).ok());
  BinderHarness h(s);
  h.Run();
  EXPECT_THAT(h.Events(), Contains("Warning VolumeMismatch c: Cannot bind to requested volume "
                                   "\"pv-1\": requested PV is too small"));
  EXPECT_EQ(h.Get(PVKey("pv-1"))["status"]["phase"], "Available");
}

TEST(Binder, DefaultClassAssignedRetroactivelyThenWaitsForFirstConsumer) {
  kvol::testing::FakeStore s;
  ASSERT_TRUE(s.Create(ClassKey("local"),
                       Class("local", "kvol.io/local", "WaitForFirstConsumer", "Delete", true))
                  .ok());
  ASSERT_TRUE(s.Create(PVCKey("c"), PVC("c", "1Gi", {"ReadWriteOnce"}, std::nullopt)).ok());
  BinderHarness h(s);
  h.Run();
  json c = h.Get(PVCKey("c"));
  EXPECT_EQ(c["spec"]["storageClassName"], "local");
  EXPECT_EQ(c["status"]["conditions"][0]["reason"], "WaitForFirstConsumer");
  EXPECT_THAT(h.Events(), Contains("Normal WaitForFirstConsumer c: waiting for first consumer to "
                                   "be created before binding"));
}

TEST(Binder, EmptyClassIsNotDefaulted) {
  kvol::testing::FakeStore s;
  ASSERT_TRUE(
      s.Create(ClassKey("local"), Class("local", "kvol.io/local", "Immediate", "Delete", true))
          .ok());
  ASSERT_TRUE(s.Create(PVCKey("c"), PVC("c", "1Gi")).ok());
  BinderHarness h(s);
  h.Run();
  EXPECT_EQ(h.Get(PVCKey("c"))["spec"]["storageClassName"], "");
}

TEST(Binder, ExternalProvisionerAnnotatesAndWaits) {
  kvol::testing::FakeStore s;
  ASSERT_TRUE(s.Create(ClassKey("ebs"), Class("ebs", "ebs.csi.aws.com")).ok());
  ASSERT_TRUE(s.Create(PVCKey("c"), PVC("c", "1Gi", {"ReadWriteOnce"}, std::string("ebs"))).ok());
  BinderHarness h(s);
  h.Run();
  json c = h.Get(PVCKey("c"));
  EXPECT_EQ(c["metadata"]["annotations"]["volume.kubernetes.io/storage-provisioner"],
            "ebs.csi.aws.com");
  EXPECT_EQ(c["metadata"]["annotations"]["volume.beta.kubernetes.io/storage-provisioner"],
            "ebs.csi.aws.com");
  EXPECT_EQ(c["status"]["conditions"][0]["reason"], "ExternalProvisioning");
  EXPECT_THAT(
      h.Events(),
      Contains("Normal ExternalProvisioning c: Waiting for a volume to be created either by "
               "the external provisioner 'ebs.csi.aws.com' or manually by the system "
               "administrator. If volume creation is delayed, please verify that the "
               "provisioner is running and correctly registered."));
}

TEST(Binder, ProvisionsLocalVolumeImmediate) {
  kvol::testing::FakeStore s;
  std::string dir = TempDir();
  json sc = Class("fast", "kvol.io/local", "Immediate", "Retain");
  ASSERT_TRUE(s.Create(ClassKey("fast"), sc).ok());
  ASSERT_TRUE(s.Create(PVCKey("c"), PVC("c", "2Gi", {"ReadWriteOnce"}, std::string("fast"))).ok());
  BinderHarness h(s, dir, "node-1");
  h.Run();
  json v = h.Get(PVKey("pvc-uid-c"));
  ASSERT_FALSE(v.is_null());
  EXPECT_EQ(v["spec"]["csi"]["driver"], "kvol.io/local");
  EXPECT_EQ(v["spec"]["csi"]["volumeHandle"], "pvc-uid-c");
  EXPECT_EQ(v["spec"]["persistentVolumeReclaimPolicy"], "Retain");
  EXPECT_EQ(v["spec"]["storageClassName"], "fast");
  EXPECT_EQ(v["spec"]["capacity"]["storage"], "2Gi");
  EXPECT_EQ(v["spec"]["nodeAffinity"]["required"]["nodeSelectorTerms"][0]["matchExpressions"][0],
            json({{"key", "kubernetes.io/hostname"}, {"operator", "In"}, {"values", {"node-1"}}}));
  EXPECT_EQ(v["metadata"]["annotations"]["pv.kubernetes.io/provisioned-by"], "kvol.io/local");
  EXPECT_EQ(v["status"]["phase"], "Bound");
  EXPECT_TRUE(std::filesystem::is_directory(dir + "/local/pvc-uid-c"));
  json c = h.Get(PVCKey("c"));
  EXPECT_EQ(c["spec"]["volumeName"], "pvc-uid-c");
  EXPECT_EQ(c["status"]["phase"], "Bound");
  EXPECT_THAT(
      h.Events(),
      Contains("Normal ProvisioningSucceeded c: Successfully provisioned volume pvc-uid-c"));
  std::filesystem::remove_all(dir);
}

TEST(Binder, FailedBindOfProvisionedVolumeDeletesItWhenClaimGoes) {
  kvol::testing::FakeStore s;
  std::string dir = TempDir();
  ASSERT_TRUE(s.Create(ClassKey("fast"), Class("fast", "kvol.io/local")).ok());
  ASSERT_TRUE(s.Create(PVCKey("c"), PVC("c", "1Gi", {"ReadWriteOnce"}, std::string("fast"))).ok());
  bool failBind = true;
  s.AddReactor([&](const std::vector<store::Op>& ops) {
    for (const auto& op : ops) {
      if (failBind && op.key == PVKey("pvc-uid-c")) return Unavailable("injected: store down");
    }
    return Status::Ok();
  });
  BinderHarness h(s, dir, "node-1");
  h.Run(1);  // CreateVolume made the directory; the PV+bind Txn failed
  EXPECT_TRUE(std::filesystem::is_directory(dir + "/local/pvc-uid-c"));
  EXPECT_FALSE(h.Exists(PVKey("pvc-uid-c")));
  // The user deletes the claim before the retry could commit: no PV will ever name the
  // directory, so the binder deletes it instead of leaking it.
  failBind = false;
  ASSERT_TRUE(s.Delete(PVCKey("c")).ok());
  h.Run();
  EXPECT_FALSE(std::filesystem::exists(dir + "/local/pvc-uid-c"));
  EXPECT_FALSE(h.Exists(PVKey("pvc-uid-c")));
  std::filesystem::remove_all(dir);
}

TEST(Binder, FailedBindIsRetriedWithTheSameVolume) {
  kvol::testing::FakeStore s;
  std::string dir = TempDir();
  ASSERT_TRUE(s.Create(ClassKey("fast"), Class("fast", "kvol.io/local")).ok());
  ASSERT_TRUE(s.Create(PVCKey("c"), PVC("c", "1Gi", {"ReadWriteOnce"}, std::string("fast"))).ok());
  int failures = 0;
  s.AddReactor([&](const std::vector<store::Op>& ops) {
    for (const auto& op : ops) {
      if (op.key == PVKey("pvc-uid-c") && failures < 1) {
        ++failures;
        return Unavailable("injected: store down");
      }
    }
    return Status::Ok();
  });
  BinderHarness h(s, dir, "node-1");
  h.Run();
  EXPECT_EQ(failures, 1);
  EXPECT_EQ(h.Get(PVCKey("c"))["spec"]["volumeName"], "pvc-uid-c");
  EXPECT_TRUE(std::filesystem::is_directory(dir + "/local/pvc-uid-c"));
  std::filesystem::remove_all(dir);
}

TEST(Binder, WaitForFirstConsumerProvisionsOnSelectedNode) {
  kvol::testing::FakeStore s;
  std::string dir = TempDir();
  ASSERT_TRUE(
      s.Create(ClassKey("local"), Class("local", "kvol.io/local", "WaitForFirstConsumer")).ok());
  json c = PVC("c", "1Gi", {"ReadWriteOnce"}, std::string("local"));
  ASSERT_TRUE(s.Create(PVCKey("c"), c).ok());
  BinderHarness h(s, dir, "node-1");
  h.Run();
  EXPECT_FALSE(h.Exists(PVKey("pvc-uid-c")));
  // The scheduler picks the node.
  ASSERT_TRUE(s.GuaranteedUpdate(PVCKey("c"), [](json& o) {
                 o["metadata"]["annotations"]["volume.kubernetes.io/selected-node"] = "node-1";
                 return Status::Ok();
               }).ok());
  h.Run();
  EXPECT_EQ(h.Get(PVCKey("c"))["status"]["phase"], "Bound");
  EXPECT_TRUE(std::filesystem::is_directory(dir + "/local/pvc-uid-c"));
  std::filesystem::remove_all(dir);
}

TEST(Binder, WaitForFirstConsumerUsesStaticVolumeOnSelectedNode) {
  kvol::testing::FakeStore s;
  ASSERT_TRUE(s.Create(ClassKey("manual"),
                       Class("manual", "kubernetes.io/no-provisioner", "WaitForFirstConsumer"))
                  .ok());
  json far = PV("pv-far", "1Gi", {"ReadWriteOnce"}, "manual");
  far["spec"]["nodeAffinity"] = json::parse(
      R"({"required":{"nodeSelectorTerms":[{"matchExpressions":[{"key":"kubernetes.io/hostname","operator":"In","values":["node-2"]}]}]}})");
  json near = far;
  near["metadata"]["name"] = "pv-near";
  near["spec"]["capacity"]["storage"] = "5Gi";
  near["spec"]["nodeAffinity"]["required"]["nodeSelectorTerms"][0]["matchExpressions"][0]
      ["values"] = {"node-1"};
  ASSERT_TRUE(s.Create(PVKey("pv-far"), far).ok());
  ASSERT_TRUE(s.Create(PVKey("pv-near"), near).ok());
  json c = PVC("c", "1Gi", {"ReadWriteOnce"}, std::string("manual"));
  c["metadata"]["annotations"] = {{"volume.kubernetes.io/selected-node", "node-1"}};
  ASSERT_TRUE(s.Create(PVCKey("c"), c).ok());
  BinderHarness h(s);
  h.Run();
  EXPECT_EQ(h.Get(PVCKey("c"))["spec"]["volumeName"], "pv-near");
}

TEST(Binder, ConflictIsRetriedWithBackoff) {
  kvol::testing::FakeStore s;
  ASSERT_TRUE(s.Create(PVKey("pv-1"), PV("pv-1", "1Gi")).ok());
  ASSERT_TRUE(s.Create(PVCKey("c"), PVC("c", "1Gi")).ok());
  int injected = 0;
  s.AddReactor([&](const std::vector<store::Op>& ops) {
    if (ops.size() == 2 && injected < 2) {
      ++injected;
      return Conflict("injected conflict");
    }
    return Status::Ok();
  });
  BinderHarness h(s);
  h.Run();
  EXPECT_EQ(injected, 2);
  EXPECT_EQ(h.Get(PVCKey("c"))["spec"]["volumeName"], "pv-1");
  EXPECT_EQ(h.binder->queue().NumRequeues(PVCKey("c")), 0);  // forgotten after success
}

TEST(Binder, ConcurrentWriterNeverBindsVolumeTwice) {
  kvol::testing::FakeStore s;
  ASSERT_TRUE(s.Create(PVKey("pv-1"), PV("pv-1", "1Gi")).ok());
  ASSERT_TRUE(s.Create(PVCKey("a"), PVC("a", "1Gi")).ok());
  BinderHarness h(s);
  (void)h.pvs.Relist();
  (void)h.pvcs.Relist();
  // Someone else binds pv-1 behind the binder's cache.
  ASSERT_TRUE(s.GuaranteedUpdate(PVKey("pv-1"), [](json& o) {
                 o["spec"]["claimRef"] = {{"namespace", "x"}, {"name", "y"}, {"uid", "u"}};
                 return Status::Ok();
               }).ok());
  auto keys = h.binder->queue().TryGetBatch(100);
  h.binder->ProcessKeys(keys);  // bind attempt from the stale cache fails its precondition
  EXPECT_EQ(h.Get(PVKey("pv-1"))["spec"]["claimRef"]["name"], "y");
  h.Run();
  EXPECT_EQ(h.Get(PVKey("pv-1"))["spec"]["claimRef"]["name"], "y");
  EXPECT_EQ(h.Get(PVCKey("a"))["status"]["phase"], "Pending");
}

TEST(Binder, DeletedClaimReleasesRetainVolume) {
  kvol::testing::FakeStore s;
  ASSERT_TRUE(s.Create(PVKey("pv-1"), PV("pv-1", "1Gi")).ok());
  ASSERT_TRUE(s.Create(PVCKey("c"), PVC("c", "1Gi")).ok());
  BinderHarness h(s);
  h.Run();
  ASSERT_TRUE(s.Txn({store::Op::Delete(PVCKey("c"))}).ok());
  json c = h.Get(PVCKey("c"));  // pvc-protection keeps it: remove the finalizer as protection would
  c["metadata"].erase("finalizers");
  ASSERT_TRUE(s.Update(PVCKey("c"), c).ok());
  h.Run();
  json v = h.Get(PVKey("pv-1"));
  EXPECT_EQ(v["status"]["phase"], "Released");
  EXPECT_EQ(v["spec"]["claimRef"]["name"], "c");  // Retain: kept for the admin
}

json LocalPV(const std::string& name, const std::string& policy) {
  json pv = PV(name, "1Gi", {"ReadWriteOnce"}, "", "Bound");
  pv["spec"].erase("hostPath");
  pv["spec"]["csi"] = {{"driver", "kvol.io/local"}, {"volumeHandle", name}};
  pv["spec"]["persistentVolumeReclaimPolicy"] = policy;
  pv["spec"]["claimRef"] = {{"namespace", "default"}, {"name", "gone"}, {"uid", "uid-gone"}};
  pv["metadata"]["annotations"] = {{"pv.kubernetes.io/bound-by-controller", "yes"}};
  pv["metadata"]["finalizers"] = {"kubernetes.io/pv-protection"};
  return pv;
}

TEST(Binder, DeleteReclaimRemovesDirectoryAndObject) {
  kvol::testing::FakeStore s;
  std::string dir = TempDir();
  std::filesystem::create_directories(dir + "/local/pv-d");
  std::ofstream(dir + "/local/pv-d/data") << "x";
  ASSERT_TRUE(s.Create(PVKey("pv-d"), LocalPV("pv-d", "Delete")).ok());
  BinderHarness h(s, dir);
  h.Run();
  EXPECT_FALSE(h.Exists(PVKey("pv-d")));
  EXPECT_FALSE(std::filesystem::exists(dir + "/local/pv-d"));
  std::filesystem::remove_all(dir);
}

TEST(Binder, DeleteReclaimWithoutDriverFails) {
  kvol::testing::FakeStore s;
  json pv = LocalPV("pv-h", "Delete");
  pv["spec"].erase("csi");
  pv["spec"]["hostPath"] = {{"path", "/srv/x"}};
  ASSERT_TRUE(s.Create(PVKey("pv-h"), pv).ok());
  BinderHarness h(s);
  h.Run();
  json v = h.Get(PVKey("pv-h"));
  EXPECT_EQ(v["status"]["phase"], "Failed");
  EXPECT_EQ(v["status"]["message"],
            "error getting deleter volume plugin for volume \"pv-h\": no deletable volume plugin "
            "matched");
}

TEST(Binder, RecycleScrubsAndMakesAvailable) {
  kvol::testing::FakeStore s;
  std::string dir = TempDir();
  std::filesystem::create_directories(dir + "/local/pv-r/sub");
  std::ofstream(dir + "/local/pv-r/sub/data") << "x";
  ASSERT_TRUE(s.Create(PVKey("pv-r"), LocalPV("pv-r", "Recycle")).ok());
  BinderHarness h(s, dir);
  h.Run();
  json v = h.Get(PVKey("pv-r"));
  EXPECT_EQ(v["status"]["phase"], "Available");
  EXPECT_FALSE(v["spec"].contains("claimRef"));
  EXPECT_TRUE(std::filesystem::is_empty(dir + "/local/pv-r"));
  EXPECT_THAT(h.Events(), Contains("Normal VolumeRecycled pv-r: Volume recycled"));
  std::filesystem::remove_all(dir);
}

TEST(Binder, VolumeDeletedMakesClaimLost) {
  kvol::testing::FakeStore s;
  ASSERT_TRUE(s.Create(PVKey("pv-1"), PV("pv-1", "1Gi")).ok());
  ASSERT_TRUE(s.Create(PVCKey("c"), PVC("c", "1Gi")).ok());
  BinderHarness h(s);
  h.Run();
  store::Op del = store::Op::Delete(PVKey("pv-1"));
  del.force = true;
  ASSERT_TRUE(s.Txn({del}).ok());
  h.Run();
  EXPECT_EQ(h.Get(PVCKey("c"))["status"]["phase"], "Lost");
  EXPECT_THAT(h.Events(),
              Contains("Warning ClaimLost c: Bound claim has lost its PersistentVolume. "
                       "Data on the volume is lost!"));
}

TEST(Binder, NewVolumeBecomesAvailable) {
  kvol::testing::FakeStore s;
  ASSERT_TRUE(s.Create(PVKey("pv-1"), PV("pv-1", "1Gi", {"ReadWriteOnce"}, "", "")).ok());
  BinderHarness h(s);
  h.Run();
  json v = h.Get(PVKey("pv-1"));
  EXPECT_EQ(v["status"]["phase"], "Available");
  EXPECT_THAT(v["metadata"]["finalizers"], Contains("kubernetes.io/pv-protection"));
}

}  // namespace
}  // namespace kvol::controller
