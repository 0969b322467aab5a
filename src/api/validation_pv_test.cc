// PersistentVolume and PersistentVolumeClaim validation: every rule with Kubernetes' exact path
// and message (pkg/apis/core/validation/validation.go).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "kvol/api/defaults.h"
#include "kvol/api/scheme.h"
#include "kvol/api/validation.h"

namespace kvol::api {
namespace {

using ::testing::Contains;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::StartsWith;

std::vector<std::string> Strings(const ErrorList& errs) {
  std::vector<std::string> out;
  for (const auto& e : errs) out.push_back(e.ToString());
  return out;
}

PersistentVolume PV(const char* spec) {
  json j = {{"apiVersion", "v1"},
            {"kind", "PersistentVolume"},
            {"metadata", {{"name", "pv1"}, {"resourceVersion", "7"}}},
            {"spec", json::parse(spec)}};
  PersistentVolume pv = FromJsonLoose<PersistentVolume>(j);
  DefaultPersistentVolume(pv);
  return pv;
}

constexpr const char* kHostPathSpec =
    R"({"capacity": {"storage": "1Gi"}, "accessModes": ["ReadWriteOnce"],
        "hostPath": {"path": "/mnt/a"}})";

std::vector<std::string> PVErrors(const char* spec) {
  return Strings(ValidatePersistentVolume(PV(spec)));
}

TEST(ValidatePersistentVolume, ValidVolumesPass) {
  EXPECT_THAT(PVErrors(kHostPathSpec), IsEmpty());
  EXPECT_THAT(PVErrors(R"({"capacity": {"storage": "5Gi"}, "accessModes": ["ReadWriteMany"],
                           "nfs": {"server": "10.0.0.1", "path": "/exports"},
                           "persistentVolumeReclaimPolicy": "Recycle", "mountOptions": ["hard"]})"),
              IsEmpty());
  EXPECT_THAT(PVErrors(R"({"capacity": {"storage": "1Gi"}, "accessModes": ["ReadWriteOncePod"],
                           "csi": {"driver": "kvol.io/block", "volumeHandle": "v-1"},
                           "volumeAttributesClassName": "gold"})"),
              IsEmpty());
}

TEST(ValidatePersistentVolume, NameMustBeADNSSubdomain) {
  PersistentVolume pv = PV(kHostPathSpec);
  pv.metadata.name = "Bad_Name";
  auto errs = Strings(ValidatePersistentVolume(pv));
  ASSERT_EQ(errs.size(), 1u);
  EXPECT_THAT(errs[0],
              StartsWith("metadata.name: Invalid value: \"Bad_Name\": a lowercase RFC 1123 "
                         "subdomain must consist of"));
}

TEST(ValidatePersistentVolume, NamespaceIsNotAllowed) {
  PersistentVolume pv = PV(kHostPathSpec);
  pv.metadata.namespace_ = "default";
  EXPECT_THAT(Strings(ValidatePersistentVolume(pv)),
              ElementsAre("metadata.namespace: Forbidden: not allowed on this type"));
}

TEST(ValidatePersistentVolume, CapacityIsRequiredAndPositive) {
  EXPECT_THAT(PVErrors(R"({"accessModes": ["ReadWriteOnce"], "hostPath": {"path": "/a"}})"),
              ElementsAre("spec.capacity: Required value",
                          "spec.capacity: Unsupported value: null: supported values: \"storage\""));
  EXPECT_THAT(
      PVErrors(R"({"capacity": {"storage": "0"}, "accessModes": ["ReadWriteOnce"],
                           "hostPath": {"path": "/a"}})"),
      ElementsAre("spec.capacity[storage]: Invalid value: \"0\": must be greater than zero"));
  EXPECT_THAT(PVErrors(R"({"capacity": {"storage": "1Gi", "cpu": "1"},
                           "accessModes": ["ReadWriteOnce"], "hostPath": {"path": "/a"}})"),
              ElementsAre("spec.capacity: Unsupported value: {\"cpu\":\"1\",\"storage\":\"1Gi\"}: "
                          "supported values: \"storage\""));
}

TEST(ValidatePersistentVolume, AccessModes) {
  EXPECT_THAT(PVErrors(R"({"capacity": {"storage": "1Gi"}, "hostPath": {"path": "/a"}})"),
              ElementsAre("spec.accessModes: Required value"));
  // Kubernetes reports an unsupported mode at the list, not at its index.
  EXPECT_THAT(PVErrors(R"({"capacity": {"storage": "1Gi"}, "hostPath": {"path": "/a"},
                           "accessModes": ["ReadWriteOnce", "ReadWriteSometimes"]})"),
              ElementsAre("spec.accessModes: Unsupported value: \"ReadWriteSometimes\": supported "
                          "values: \"ReadOnlyMany\", \"ReadWriteMany\", \"ReadWriteOnce\", "
                          "\"ReadWriteOncePod\""));
  EXPECT_THAT(PVErrors(R"({"capacity": {"storage": "1Gi"}, "hostPath": {"path": "/a"},
                           "accessModes": ["ReadWriteOncePod", "ReadOnlyMany"]})"),
              ElementsAre("spec.accessModes: Forbidden: may not use ReadWriteOncePod with other "
                          "access modes"));
}

TEST(ValidatePersistentVolume, ExactlyOneVolumeSource) {
  EXPECT_THAT(PVErrors(R"({"capacity": {"storage": "1Gi"}, "accessModes": ["ReadWriteOnce"]})"),
              ElementsAre("spec: Required value: must specify a volume type"));
  EXPECT_THAT(PVErrors(R"({"capacity": {"storage": "1Gi"}, "accessModes": ["ReadWriteOnce"],
                           "hostPath": {"path": "/a"}, "nfs": {"server": "s", "path": "/e"},
                           "csi": {"driver": "d.example.com", "volumeHandle": "h"}})"),
              ElementsAre("spec.nfs: Forbidden: may not specify more than 1 volume type",
                          "spec.csi: Forbidden: may not specify more than 1 volume type"));
}

TEST(ValidatePersistentVolume, ReclaimPolicy) {
  EXPECT_THAT(PVErrors(R"({"capacity": {"storage": "1Gi"}, "accessModes": ["ReadWriteOnce"],
                           "hostPath": {"path": "/a"}, "persistentVolumeReclaimPolicy": "Destroy"})"),
              ElementsAre("spec.persistentVolumeReclaimPolicy: Unsupported value: \"Destroy\": "
                          "supported values: \"Delete\", \"Recycle\", \"Retain\""));
  EXPECT_THAT(PVErrors(R"({"capacity": {"storage": "1Gi"}, "accessModes": ["ReadWriteOnce"],
                           "hostPath": {"path": "//./"}, "persistentVolumeReclaimPolicy": "Recycle"})"),
              ElementsAre("spec.persistentVolumeReclaimPolicy: Forbidden: may not be 'recycle' "
                          "for a hostPath mount of '/'"));
}

TEST(ValidatePersistentVolume, HostPathAndNfsSources) {
  EXPECT_THAT(
      PVErrors(R"({"capacity": {"storage": "1Gi"}, "accessModes": ["ReadWriteOnce"],
                           "hostPath": {"path": "/a/../etc"}})"),
      ElementsAre("spec.hostPath.path: Invalid value: \"/a/../etc\": must not contain '..'"));
  EXPECT_THAT(PVErrors(R"({"capacity": {"storage": "1Gi"}, "accessModes": ["ReadWriteOnce"],
                           "hostPath": {"path": "/a", "type": "Folder"}})"),
              ElementsAre(StartsWith("spec.hostPath.type: Unsupported value: \"Folder\"")));
  EXPECT_THAT(PVErrors(R"({"capacity": {"storage": "1Gi"}, "accessModes": ["ReadWriteMany"],
                           "nfs": {"server": "s", "path": "exports"}})"),
              ElementsAre("spec.nfs.path: Invalid value: \"exports\": must be an absolute path"));
  EXPECT_THAT(PVErrors(R"({"capacity": {"storage": "1Gi"}, "accessModes": ["ReadWriteMany"],
                           "nfs": {"path": "/exports"}})"),
              ElementsAre("spec.nfs.server: Required value"));
}

TEST(ValidatePersistentVolume, LocalVolumesNeedNodeAffinity) {
  EXPECT_THAT(
      PVErrors(R"({"capacity": {"storage": "1Gi"}, "accessModes": ["ReadWriteOnce"],
                           "local": {"path": "/mnt/disks/ssd1"}})"),
      ElementsAre("spec.nodeAffinity: Required value: Local volume requires node affinity"));
  EXPECT_THAT(PVErrors(R"({"capacity": {"storage": "1Gi"}, "accessModes": ["ReadWriteOnce"],
                           "local": {"path": "/mnt/disks/ssd1"}, "nodeAffinity": {}})"),
              ElementsAre("spec.nodeAffinity.required: Required value: must specify required node "
                          "constraints"));
  EXPECT_THAT(PVErrors(R"({"capacity": {"storage": "1Gi"}, "accessModes": ["ReadWriteOnce"],
                           "local": {"path": ""}, "nodeAffinity": {"required": {"nodeSelectorTerms": [
                             {"matchExpressions": [{"key": "kubernetes.io/hostname",
                               "operator": "In", "values": ["n1"]}]}]}}})"),
              ElementsAre("spec.local.path: Required value"));
}

TEST(ValidatePersistentVolume, NodeAffinityTerms) {
  EXPECT_THAT(
      PVErrors(R"({"capacity": {"storage": "1Gi"}, "accessModes": ["ReadWriteOnce"],
                           "hostPath": {"path": "/a"}, "nodeAffinity": {"required": {}}})"),
      ElementsAre(StartsWith("spec.nodeAffinity.required.nodeSelectorTerms: Required value")));
  EXPECT_THAT(PVErrors(R"({"capacity": {"storage": "1Gi"}, "accessModes": ["ReadWriteOnce"],
                           "hostPath": {"path": "/a"}, "nodeAffinity": {"required": {
                             "nodeSelectorTerms": [{"matchExpressions": [
                               {"key": "zone", "operator": "In"}]}]}}})"),
              ElementsAre(StartsWith("spec.nodeAffinity.required.nodeSelectorTerms[0]."
                                     "matchExpressions[0].values: Required value")));
}

TEST(ValidatePersistentVolume, CsiSource) {
  EXPECT_THAT(PVErrors(R"({"capacity": {"storage": "1Gi"}, "accessModes": ["ReadWriteOnce"],
                           "csi": {"driver": "kvol.io/block"}})"),
              ElementsAre("spec.csi.volumeHandle: Required value"));
  auto errs = PVErrors(R"({"capacity": {"storage": "1Gi"}, "accessModes": ["ReadWriteOnce"],
                           "csi": {"driver": "bad_driver!", "volumeHandle": "h"}})");
  ASSERT_EQ(errs.size(), 1u);
  EXPECT_THAT(errs[0], StartsWith("spec.csi.driver: Invalid value: \"bad_driver!\": a lowercase "
                                  "RFC 1123 subdomain"));
  EXPECT_THAT(PVErrors(R"({"capacity": {"storage": "1Gi"}, "accessModes": ["ReadWriteOnce"],
                           "csi": {"driver": "d.example.com", "volumeHandle": "h",
                                   "nodeStageSecretRef": {"name": "s"},
                                   "nodePublishSecretRef": {"name": "s"}}})"),
              ElementsAre("spec.csi.nodePublishSecretRef.namespace: Required value"));
  EXPECT_THAT(PVErrors(R"({"capacity": {"storage": "1Gi"}, "accessModes": ["ReadWriteOnce"],
                           "csi": {"driver": "d.example.com", "volumeHandle": "h"},
                           "volumeAttributesClassName": ""})"),
              ElementsAre("spec.volumeAttributesClassName: Required value: an empty string is "
                          "disallowed"));
  EXPECT_THAT(PVErrors(R"({"capacity": {"storage": "1Gi"}, "accessModes": ["ReadWriteOnce"],
                           "hostPath": {"path": "/a"}, "volumeAttributesClassName": "gold"})"),
              ElementsAre("spec.csi: Required value: has to be specified when using "
                          "volumeAttributesClassName"));
}

TEST(ValidatePersistentVolume, KvolBuiltInDriverNamesAreAcceptedOthersFollowKubernetes) {
  EXPECT_THAT(PVErrors(R"({"capacity": {"storage": "1Gi"}, "accessModes": ["ReadWriteOnce"],
                           "csi": {"driver": "kvol.io/local", "volumeHandle": "h"}})"),
              IsEmpty());
  auto errs = PVErrors(R"({"capacity": {"storage": "1Gi"}, "accessModes": ["ReadWriteOnce"],
                           "csi": {"driver": "example.com/driver", "volumeHandle": "h"}})");
  ASSERT_EQ(errs.size(), 1u);
  EXPECT_THAT(errs[0], StartsWith("spec.csi.driver: Invalid value: \"example.com/driver\""));
  errs = PVErrors(R"({"capacity": {"storage": "1Gi"}, "accessModes": ["ReadWriteOnce"],
                      "csi": {"driver": "kvol.io/Bad_Name", "volumeHandle": "h"}})");
  EXPECT_EQ(errs.size(), 1u);
}

TEST(ValidatePersistentVolume, CloudDiskSources) {
  // Kubernetes reports gcePersistentDisk's fields under "persistentDisk".
  EXPECT_THAT(PVErrors(R"({"capacity": {"storage": "1Gi"}, "accessModes": ["ReadWriteOnce"],
                           "gcePersistentDisk": {"partition": 300}})"),
              ElementsAre("spec.persistentDisk.pdName: Required value",
                          "spec.persistentDisk.partition: Invalid value: 300: must be between 1 "
                          "and 255, inclusive"));
  EXPECT_THAT(PVErrors(R"({"capacity": {"storage": "1Gi"}, "accessModes": ["ReadWriteOnce"],
                           "awsElasticBlockStore": {"fsType": "ext4"}})"),
              ElementsAre("spec.awsElasticBlockStore.volumeID: Required value"));
}

TEST(ValidatePersistentVolume, ClassNameAndVolumeMode) {
  auto errs = PVErrors(R"({"capacity": {"storage": "1Gi"}, "accessModes": ["ReadWriteOnce"],
                           "hostPath": {"path": "/a"}, "storageClassName": "Fast_Disks"})");
  ASSERT_EQ(errs.size(), 1u);
  EXPECT_THAT(errs[0], StartsWith("spec.storageClassName: Invalid value: \"Fast_Disks\": a "
                                  "lowercase RFC 1123 subdomain"));
  EXPECT_THAT(PVErrors(R"({"capacity": {"storage": "1Gi"}, "accessModes": ["ReadWriteOnce"],
                           "hostPath": {"path": "/a"}, "volumeMode": "Raw"})"),
              ElementsAre("spec.volumeMode: Unsupported value: \"Raw\": supported values: "
                          "\"Block\", \"Filesystem\""));
}

TEST(ValidatePersistentVolumeSpec, InlineSpecsOfVolumeAttachments) {
  PersistentVolumeSpec spec = PV(R"({"capacity": {"storage": "1Gi"},
      "accessModes": ["ReadWriteOnce"], "hostPath": {"path": "/a"}, "storageClassName": "x",
      "claimRef": {"name": "c"}, "persistentVolumeReclaimPolicy": "Delete"})")
                                  .spec;
  EXPECT_THAT(
      Strings(ValidatePersistentVolumeSpec(spec, true, Path("spec"))),
      ElementsAre("spec.claimRef: Forbidden: may not be specified in the context of inline "
                  "volumes",
                  "spec.capacity: Forbidden: may not be specified in the context of inline "
                  "volumes",
                  "spec.csi: Required value: has to be specified in the context of inline "
                  "volumes",
                  "spec.persistentVolumeReclaimPolicy: Forbidden: may only be Retain in the "
                  "context of inline volumes",
                  "spec.storageClassName: Forbidden: may not be specified in the context of "
                  "inline volumes"));
}

// ---- updates ------------------------------------------------------------------------------------

std::vector<std::string> PVUpdate(const PersistentVolume& now, const PersistentVolume& before) {
  return Strings(ValidatePersistentVolumeUpdate(now, before));
}

TEST(ValidatePersistentVolumeUpdate, BinderAndPolicyChangesAreAllowed) {
  PersistentVolume old = PV(kHostPathSpec);
  PersistentVolume now = old;
  now.spec.claimRef = ObjectReference{};
  now.spec.claimRef->name = "data";
  now.spec.claimRef->namespace_ = "default";
  now.spec.persistentVolumeReclaimPolicy = "Delete";
  now.spec.capacity["storage"] = Quantity::MustParse("2Gi");
  now.status.phase = "Bound";
  now.metadata.annotations["pv.kubernetes.io/bound-by-controller"] = "yes";
  EXPECT_THAT(PVUpdate(now, old), IsEmpty());
}

TEST(ValidatePersistentVolumeUpdate, VolumeSourceIsImmutable) {
  PersistentVolume old = PV(kHostPathSpec);
  PersistentVolume now = old;
  now.spec.hostPath->path = "/mnt/b";
  auto errs = PVUpdate(now, old);
  ASSERT_EQ(errs.size(), 1u);
  EXPECT_THAT(errs[0], StartsWith("spec.persistentvolumesource: Forbidden: "
                                  "spec.persistentvolumesource is immutable after creation\n"));
  EXPECT_THAT(errs[0], HasSubstr("- \t\"hostPath\": {\"path\":\"/mnt/a\",\"type\":\"\"}"));
  EXPECT_THAT(errs[0], HasSubstr("+ \t\"hostPath\": {\"path\":\"/mnt/b\",\"type\":\"\"}"));
}

TEST(ValidatePersistentVolumeUpdate, ControllerExpandSecretRefMayBeAdded) {
  PersistentVolume old = PV(R"({"capacity": {"storage": "1Gi"}, "accessModes": ["ReadWriteOnce"],
                                "csi": {"driver": "d.example.com", "volumeHandle": "h"}})");
  PersistentVolume now = old;
  now.spec.csi->controllerExpandSecretRef = SecretReference{"s", "kube-system"};
  EXPECT_THAT(PVUpdate(now, old), IsEmpty());
  // ... but not changed once set.
  PersistentVolume later = now;
  later.spec.csi->controllerExpandSecretRef->name = "other";
  EXPECT_THAT(PVUpdate(later, now),
              ElementsAre(StartsWith("spec.persistentvolumesource: Forbidden")));
}

TEST(ValidatePersistentVolumeUpdate, VolumeModeAndNodeAffinity) {
  PersistentVolume old = PV(kHostPathSpec);
  PersistentVolume now = old;
  now.spec.volumeMode = "Block";
  EXPECT_THAT(PVUpdate(now, old),
              ElementsAre("volumeMode: Invalid value: \"Block\": field is immutable"));

  // nodeAffinity may be set once, then not changed.
  PersistentVolume withAffinity = PV(R"({"capacity": {"storage": "1Gi"},
      "accessModes": ["ReadWriteOnce"], "hostPath": {"path": "/mnt/a"},
      "nodeAffinity": {"required": {"nodeSelectorTerms": [{"matchExpressions": [
        {"key": "kubernetes.io/hostname", "operator": "In", "values": ["n1"]}]}]}}})");
  EXPECT_THAT(PVUpdate(withAffinity, old), IsEmpty());
  PersistentVolume moved = withAffinity;
  moved.spec.nodeAffinity->required->nodeSelectorTerms[0].matchExpressions[0].values = {"n2"};
  auto errs = PVUpdate(moved, withAffinity);
  ASSERT_EQ(errs.size(), 1u);
  EXPECT_THAT(errs[0], StartsWith("nodeAffinity: Invalid value: "));
  EXPECT_THAT(errs[0], HasSubstr("n2"));
  EXPECT_THAT(errs[0], testing::EndsWith(": field is immutable"));
}

TEST(ValidatePersistentVolumeUpdate, MetadataRulesApply) {
  PersistentVolume old = PV(kHostPathSpec);
  PersistentVolume now = old;
  now.metadata.name = "pv2";
  EXPECT_THAT(PVUpdate(now, old),
              Contains("metadata.name: Invalid value: \"pv2\": field is immutable"));
}

// ---- PersistentVolumeClaim ----------------------------------------------------------------------

PersistentVolumeClaim PVC(const char* spec, const char* status = "{}") {
  json j = {{"apiVersion", "v1"},
            {"kind", "PersistentVolumeClaim"},
            {"metadata", {{"name", "data"}, {"namespace", "default"}, {"resourceVersion", "3"}}},
            {"spec", json::parse(spec)},
            {"status", json::parse(status)}};
  PersistentVolumeClaim pvc = FromJsonLoose<PersistentVolumeClaim>(j);
  DefaultPersistentVolumeClaim(pvc);
  return pvc;
}

std::vector<std::string> PVCErrors(const char* spec) {
  return Strings(ValidatePersistentVolumeClaim(PVC(spec)));
}

constexpr const char* kClaimSpec =
    R"({"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}},
        "storageClassName": "local"})";

TEST(ValidatePersistentVolumeClaim, ValidClaimsPass) {
  EXPECT_THAT(PVCErrors(kClaimSpec), IsEmpty());
  EXPECT_THAT(PVCErrors(R"({"accessModes": ["ReadWriteOncePod"], "storageClassName": "",
                            "resources": {"requests": {"storage": "500Mi"}, "limits": {"storage": "1Gi"}},
                            "dataSource": {"kind": "PersistentVolumeClaim", "name": "src"}})"),
              IsEmpty());
}

TEST(ValidatePersistentVolumeClaim, NamespaceIsRequired) {
  PersistentVolumeClaim pvc = PVC(kClaimSpec);
  pvc.metadata.namespace_ = "";
  EXPECT_THAT(Strings(ValidatePersistentVolumeClaim(pvc)),
              ElementsAre("metadata.namespace: Required value"));
}

TEST(ValidatePersistentVolumeClaim, AccessModes) {
  EXPECT_THAT(PVCErrors(R"({"resources": {"requests": {"storage": "1Gi"}}})"),
              ElementsAre("spec.accessModes: Required value: at least 1 access mode is required"));
  EXPECT_THAT(PVCErrors(R"({"accessModes": ["ReadWriteOnce", "ReadWriteSometimes"],
                            "resources": {"requests": {"storage": "1Gi"}}})"),
              ElementsAre("spec.accessModes: Unsupported value: \"ReadWriteSometimes\": supported "
                          "values: \"ReadOnlyMany\", \"ReadWriteMany\", \"ReadWriteOnce\", "
                          "\"ReadWriteOncePod\""));
  EXPECT_THAT(PVCErrors(R"({"accessModes": ["ReadWriteOncePod", "ReadWriteOnce"],
                            "resources": {"requests": {"storage": "1Gi"}}})"),
              ElementsAre("spec.accessModes: Forbidden: may not use ReadWriteOncePod with other "
                          "access modes"));
}

TEST(ValidatePersistentVolumeClaim, StorageRequest) {
  EXPECT_THAT(PVCErrors(R"({"accessModes": ["ReadWriteOnce"]})"),
              ElementsAre("spec.resources[storage]: Required value"));
  EXPECT_THAT(PVCErrors(R"({"accessModes": ["ReadWriteOnce"],
                            "resources": {"limits": {"storage": "1Gi"}}})"),
              ElementsAre("spec.resources[storage]: Required value"));
  EXPECT_THAT(PVCErrors(R"({"accessModes": ["ReadWriteOnce"],
                            "resources": {"requests": {"storage": "-1Gi"}}})"),
              ElementsAre("spec.resources[storage]: Invalid value: \"-1Gi\": must be greater than "
                          "zero"));
}

TEST(ValidatePersistentVolumeClaim, SelectorClassAndVolumeMode) {
  EXPECT_THAT(PVCErrors(R"({"accessModes": ["ReadWriteOnce"],
                            "resources": {"requests": {"storage": "1Gi"}},
                            "selector": {"matchExpressions": [{"key": "tier", "operator": "In"}]}})"),
              ElementsAre(StartsWith("spec.selector.matchExpressions[0].values: Required value")));
  auto errs = PVCErrors(R"({"accessModes": ["ReadWriteOnce"], "storageClassName": "Fast!",
                            "resources": {"requests": {"storage": "1Gi"}}})");
  ASSERT_EQ(errs.size(), 1u);
  EXPECT_THAT(errs[0], StartsWith("spec.storageClassName: Invalid value: \"Fast!\": a lowercase "
                                  "RFC 1123 subdomain"));
  EXPECT_THAT(PVCErrors(R"({"accessModes": ["ReadWriteOnce"], "volumeMode": "Raw",
                            "resources": {"requests": {"storage": "1Gi"}}})"),
              ElementsAre("spec.volumeMode: Unsupported value: \"Raw\": supported values: "
                          "\"Block\", \"Filesystem\""));
}

TEST(ValidatePersistentVolumeClaim, DataSources) {
  EXPECT_THAT(PVCErrors(R"({"accessModes": ["ReadWriteOnce"],
                            "resources": {"requests": {"storage": "1Gi"}},
                            "dataSource": {"kind": "VolumeSnapshot", "name": "snap"}})"),
              ElementsAre("spec.dataSource: Invalid value: \"VolumeSnapshot\": must be "
                          "'PersistentVolumeClaim' when referencing the default apiGroup",
                          // dataSource was mirrored into dataSourceRef by defaulting; Kubernetes
                          // reports both too.
                          "spec.dataSourceRef: Invalid value: \"VolumeSnapshot\": must be "
                          "'PersistentVolumeClaim' when referencing the default apiGroup"));
  EXPECT_THAT(
      PVCErrors(R"({"accessModes": ["ReadWriteOnce"],
                            "resources": {"requests": {"storage": "1Gi"}},
                            "dataSource": {"apiGroup": "snapshot.storage.k8s.io"}})"),
      ElementsAre("spec.dataSource.name: Required value", "spec.dataSource.kind: Required value",
                  "spec.dataSourceRef.name: Required value",
                  "spec.dataSourceRef.kind: Required value"));
  auto errs = PVCErrors(R"({"accessModes": ["ReadWriteOnce"],
                            "resources": {"requests": {"storage": "1Gi"}},
                            "dataSource": {"apiGroup": "Snapshots", "kind": "VolumeSnapshot",
                                           "name": "s"}})");
  ASSERT_EQ(errs.size(), 2u);
  EXPECT_THAT(errs[0], StartsWith("spec.dataSource.apiGroup: Invalid value: \"Snapshots\": a "
                                  "lowercase RFC 1123 subdomain"));
  EXPECT_THAT(errs[1], StartsWith("spec.dataSourceRef.apiGroup: Invalid value: \"Snapshots\""));
  EXPECT_THAT(PVCErrors(R"({"accessModes": ["ReadWriteOnce"],
                            "resources": {"requests": {"storage": "1Gi"}},
                            "dataSource": {"kind": "PersistentVolumeClaim", "name": "a"},
                            "dataSourceRef": {"kind": "PersistentVolumeClaim", "name": "b"}})"),
              ElementsAre("spec: Invalid value: \"spec.dataSource\": must match dataSourceRef"));
  EXPECT_THAT(PVCErrors(R"({"accessModes": ["ReadWriteOnce"],
                            "resources": {"requests": {"storage": "1Gi"}},
                            "dataSource": {"kind": "PersistentVolumeClaim", "name": "a"},
                            "dataSourceRef": {"kind": "PersistentVolumeClaim", "name": "a",
                                              "namespace": "other"}})"),
              ElementsAre("spec: Invalid value: \"spec.dataSource\": may not be specified when "
                          "dataSourceRef.namespace is specified"));
}

// ---- claim updates ------------------------------------------------------------------------------

std::vector<std::string> PVCUpdate(const PersistentVolumeClaim& now,
                                   const PersistentVolumeClaim& before) {
  return Strings(ValidatePersistentVolumeClaimUpdate(now, before));
}

TEST(ValidatePersistentVolumeClaimUpdate, BinderMaySetVolumeNameOnce) {
  PersistentVolumeClaim old = PVC(kClaimSpec);
  PersistentVolumeClaim now = old;
  now.spec.volumeName = "pv-1";
  now.status.phase = "Bound";
  now.metadata.annotations["pv.kubernetes.io/bind-completed"] = "yes";
  EXPECT_THAT(PVCUpdate(now, old), IsEmpty());
  PersistentVolumeClaim rebound = now;
  rebound.spec.volumeName = "pv-2";
  auto errs = PVCUpdate(rebound, now);
  ASSERT_EQ(errs.size(), 1u);
  EXPECT_THAT(errs[0], StartsWith("spec: Forbidden: spec is immutable after creation except "
                                  "resources.requests and volumeAttributesClassName for bound "
                                  "claims\n"));
  EXPECT_THAT(errs[0], HasSubstr("- \t\"volumeName\": \"pv-1\""));
  EXPECT_THAT(errs[0], HasSubstr("+ \t\"volumeName\": \"pv-2\""));
}

TEST(ValidatePersistentVolumeClaimUpdate, SpecIsImmutableWhilePending) {
  PersistentVolumeClaim old = PVC(kClaimSpec);
  PersistentVolumeClaim now = old;
  now.spec.storageClassName = "block";
  EXPECT_THAT(PVCUpdate(now, old),
              ElementsAre(StartsWith("spec: Forbidden: spec is immutable after creation")));
  // Growing a claim that is not bound is a spec change too.
  now = old;
  now.spec.resources.requests["storage"] = Quantity::MustParse("2Gi");
  EXPECT_THAT(PVCUpdate(now, old),
              ElementsAre(StartsWith("spec: Forbidden: spec is immutable after creation")));
}

TEST(ValidatePersistentVolumeClaimUpdate, BoundClaimsMayGrowButNotShrinkBelowCapacity) {
  PersistentVolumeClaim old = PVC(
      R"({"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "10Gi"}},
          "volumeName": "pv-1"})",
      R"({"phase": "Bound", "capacity": {"storage": "5Gi"}})");
  PersistentVolumeClaim now = old;
  now.spec.resources.requests["storage"] = Quantity::MustParse("20Gi");
  EXPECT_THAT(PVCUpdate(now, old), IsEmpty());
  // Recovering from a failed expansion: back down, but above status.capacity.
  now.spec.resources.requests["storage"] = Quantity::MustParse("8Gi");
  EXPECT_THAT(PVCUpdate(now, old), IsEmpty());
  now.spec.resources.requests["storage"] = Quantity::MustParse("5Gi");
  EXPECT_THAT(PVCUpdate(now, old),
              ElementsAre("spec.resources.requests.storage: Forbidden: field can not be less "
                          "than status.capacity"));
}

TEST(ValidatePersistentVolumeClaimUpdate, VolumeModeIsImmutable) {
  PersistentVolumeClaim old = PVC(kClaimSpec);
  PersistentVolumeClaim now = old;
  now.spec.volumeMode = "Block";
  auto errs = PVCUpdate(now, old);
  ASSERT_EQ(errs.size(), 2u);
  EXPECT_THAT(errs[0], StartsWith("spec: Forbidden: spec is immutable after creation"));
  EXPECT_EQ(errs[1], "volumeMode: Invalid value: \"Block\": field is immutable");
}

TEST(ValidatePersistentVolumeClaimUpdate, VolumeAttributesClass) {
  PersistentVolumeClaim old = PVC(
      R"({"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}},
          "volumeAttributesClassName": "silver", "volumeName": "pv-1"})",
      R"({"phase": "Bound", "capacity": {"storage": "1Gi"}})");
  PersistentVolumeClaim now = old;
  now.spec.volumeAttributesClassName = "gold";
  EXPECT_THAT(PVCUpdate(now, old), IsEmpty());
  now.spec.volumeAttributesClassName = "";
  EXPECT_THAT(PVCUpdate(now, old),
              Contains("spec.volumeAttributesClassName: Forbidden: update from non-nil value to "
                       "an empty string is forbidden"));
  now.spec.volumeAttributesClassName.reset();
  EXPECT_THAT(PVCUpdate(now, old),
              Contains("spec.volumeAttributesClassName: Forbidden: update from non-nil value to "
                       "nil is forbidden"));
}

TEST(ValidatePersistentVolumeClaimUpdate, StorageClassMaySetFromNilOrBetaAnnotation) {
  PersistentVolumeClaim old =
      PVC(R"({"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}}})");
  PersistentVolumeClaim now = old;
  now.spec.storageClassName = "local";  // the default class, assigned retroactively
  EXPECT_THAT(PVCUpdate(now, old), IsEmpty());

  PersistentVolumeClaim annotated = old;
  annotated.metadata.annotations["volume.beta.kubernetes.io/storage-class"] = "fast";
  PersistentVolumeClaim upgraded = annotated;
  upgraded.spec.storageClassName = "fast";
  EXPECT_THAT(PVCUpdate(upgraded, annotated), IsEmpty());
  PersistentVolumeClaim other = annotated;
  other.spec.storageClassName = "slow";
  EXPECT_THAT(PVCUpdate(other, annotated),
              ElementsAre(StartsWith("spec: Forbidden: spec is immutable after creation")));
  PersistentVolumeClaim reannotated = annotated;
  reannotated.metadata.annotations["volume.beta.kubernetes.io/storage-class"] = "slow";
  EXPECT_THAT(PVCUpdate(reannotated, annotated),
              ElementsAre("metadata.annotations.volume.beta.kubernetes.io/storage-class: Invalid "
                          "value: \"slow\": field is immutable"));
}

}  // namespace
}  // namespace kvol::api
