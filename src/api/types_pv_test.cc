// Round trips of the storage kinds through the scheme, with manifests from Kubernetes' and
// external-snapshotter's documentation, and the kinds' registration (names, scope, status).
#include <gtest/gtest.h>

#include "kvol/api/register.h"
#include "kvol/api/scheme.h"

namespace kvol::api {
namespace {

const Scheme& StorageScheme() {
  static const Scheme* s = [] {
    auto* sc = new Scheme();
    RegisterPersistentVolumeKinds(*sc);
    RegisterStorageV1(*sc);
    RegisterSnapshotV1(*sc);
    return sc;
  }();
  return *s;
}

const KindOps& OpsFor(const json& obj) {
  const KindOps* ops = StorageScheme().ByKind(obj.value("apiVersion", ""), obj.value("kind", ""));
  EXPECT_NE(ops, nullptr) << obj.dump();
  return *ops;
}

// Decodes, re-encodes, checks nothing was lost or unknown, then that the defaulted manifest is
// valid.
void ExpectRoundTripAndValid(const char* manifest) {
  json in = json::parse(manifest);
  const KindOps& ops = OpsFor(in);
  Decoded d = ops.Normalize(in);
  EXPECT_TRUE(d.unknownFields.empty()) << d.unknownFields[0];
  EXPECT_TRUE(d.errors.empty()) << Join(d.errors);
  EXPECT_EQ(d.object, in) << d.object.dump(2);
  json defaulted = ops.Default(d.object);
  ErrorList errs = ops.ValidateCreate(defaulted);
  EXPECT_TRUE(errs.empty()) << Join(errs);
  // Defaulting is idempotent and an unchanged object is a valid update of itself.
  EXPECT_EQ(ops.Default(defaulted), defaulted);
  json withRV = defaulted;
  withRV["metadata"]["resourceVersion"] = "1";
  errs = ops.ValidateUpdate(withRV, withRV);
  EXPECT_TRUE(errs.empty()) << Join(errs);
}

TEST(StorageTypesRoundTrip, NfsPersistentVolume) {
  ExpectRoundTripAndValid(R"({
    "apiVersion": "v1", "kind": "PersistentVolume",
    "metadata": {"name": "pv0003"},
    "spec": {
      "capacity": {"storage": "5Gi"},
      "volumeMode": "Filesystem",
      "accessModes": ["ReadWriteOnce"],
      "persistentVolumeReclaimPolicy": "Recycle",
      "storageClassName": "slow",
      "mountOptions": ["hard", "nfsvers=4.1"],
      "nfs": {"path": "/tmp", "server": "172.17.0.2"}
    }})");
}

TEST(StorageTypesRoundTrip, HostPathPersistentVolume) {
  ExpectRoundTripAndValid(R"({
    "apiVersion": "v1", "kind": "PersistentVolume",
    "metadata": {"name": "task-pv-volume", "labels": {"type": "local"}},
    "spec": {
      "storageClassName": "manual",
      "capacity": {"storage": "10Gi"},
      "accessModes": ["ReadWriteOnce"],
      "hostPath": {"path": "/mnt/data"}
    }})");
}

TEST(StorageTypesRoundTrip, LocalPersistentVolumeWithNodeAffinity) {
  ExpectRoundTripAndValid(R"({
    "apiVersion": "v1", "kind": "PersistentVolume",
    "metadata": {"name": "example-pv"},
    "spec": {
      "capacity": {"storage": "100Gi"},
      "volumeMode": "Filesystem",
      "accessModes": ["ReadWriteOnce"],
      "persistentVolumeReclaimPolicy": "Delete",
      "storageClassName": "local-storage",
      "local": {"path": "/mnt/disks/ssd1"},
      "nodeAffinity": {"required": {"nodeSelectorTerms": [{"matchExpressions": [
        {"key": "kubernetes.io/hostname", "operator": "In", "values": ["example-node"]}]}]}}
    }})");
}

TEST(StorageTypesRoundTrip, CsiPersistentVolumeBoundToAClaim) {
  ExpectRoundTripAndValid(R"({
    "apiVersion": "v1", "kind": "PersistentVolume",
    "metadata": {"name": "pvc-6d1c4e0e", "annotations": {"pv.kubernetes.io/provisioned-by": "kvol.io/block"},
                 "finalizers": ["kubernetes.io/pv-protection"]},
    "spec": {
      "capacity": {"storage": "1Gi"},
      "accessModes": ["ReadWriteOncePod"],
      "claimRef": {"apiVersion": "v1", "kind": "PersistentVolumeClaim", "namespace": "default",
                   "name": "data", "uid": "6d1c4e0e-1111-2222-3333-444455556666"},
      "csi": {"driver": "kvol.io/block", "volumeHandle": "vol-1", "fsType": "ext4",
              "volumeAttributes": {"zone": "a"},
              "nodeStageSecretRef": {"name": "stage-secret", "namespace": "kube-system"}},
      "persistentVolumeReclaimPolicy": "Delete",
      "storageClassName": "block",
      "volumeMode": "Block",
      "nodeAffinity": {"required": {"nodeSelectorTerms": [{"matchExpressions": [
        {"key": "topology.kubernetes.io/zone", "operator": "In", "values": ["a"]}]}]}}
    },
    "status": {"phase": "Bound", "lastPhaseTransitionTime": "2026-01-02T03:04:05Z"}})");
}

TEST(StorageTypesRoundTrip, ClaimWithSelector) {
  ExpectRoundTripAndValid(R"({
    "apiVersion": "v1", "kind": "PersistentVolumeClaim",
    "metadata": {"name": "myclaim", "namespace": "default"},
    "spec": {
      "accessModes": ["ReadWriteOnce"],
      "volumeMode": "Filesystem",
      "resources": {"requests": {"storage": "8Gi"}},
      "storageClassName": "slow",
      "selector": {"matchLabels": {"release": "stable"},
                   "matchExpressions": [{"key": "environment", "operator": "In", "values": ["dev"]}]}
    }})");
}

TEST(StorageTypesRoundTrip, ClaimRestoredFromASnapshot) {
  ExpectRoundTripAndValid(R"({
    "apiVersion": "v1", "kind": "PersistentVolumeClaim",
    "metadata": {"name": "restore-pvc", "namespace": "default"},
    "spec": {
      "storageClassName": "csi-hostpath-sc",
      "dataSource": {"name": "new-snapshot-test", "kind": "VolumeSnapshot",
                     "apiGroup": "snapshot.storage.k8s.io"},
      "dataSourceRef": {"name": "new-snapshot-test", "kind": "VolumeSnapshot",
                        "apiGroup": "snapshot.storage.k8s.io"},
      "accessModes": ["ReadWriteOnce"],
      "resources": {"requests": {"storage": "10Gi"}}
    },
    "status": {"phase": "Bound", "accessModes": ["ReadWriteOnce"], "capacity": {"storage": "10Gi"}}})");
}

TEST(StorageTypesRoundTrip, StorageClassWithTopologyAndParameters) {
  ExpectRoundTripAndValid(R"({
    "apiVersion": "storage.k8s.io/v1", "kind": "StorageClass",
    "metadata": {"name": "standard",
                 "annotations": {"storageclass.kubernetes.io/is-default-class": "true"}},
    "provisioner": "kubernetes.io/example",
    "parameters": {"type": "pd-standard"},
    "reclaimPolicy": "Retain",
    "allowVolumeExpansion": true,
    "mountOptions": ["debug"],
    "volumeBindingMode": "WaitForFirstConsumer",
    "allowedTopologies": [{"matchLabelExpressions": [
      {"key": "topology.kubernetes.io/zone", "values": ["us-central-1a", "us-central-1b"]}]}]})");
}

TEST(StorageTypesRoundTrip, VolumeSnapshot) {
  ExpectRoundTripAndValid(R"({
    "apiVersion": "snapshot.storage.k8s.io/v1", "kind": "VolumeSnapshot",
    "metadata": {"name": "new-snapshot-test", "namespace": "default"},
    "spec": {"volumeSnapshotClassName": "csi-hostpath-snapclass",
             "source": {"persistentVolumeClaimName": "pvc-test"}},
    "status": {"boundVolumeSnapshotContentName": "snapcontent-1", "readyToUse": true,
               "restoreSize": "1Gi", "creationTime": "2026-01-02T03:04:05Z"}})");
}

TEST(StorageTypesRoundTrip, VolumeSnapshotContent) {
  ExpectRoundTripAndValid(R"({
    "apiVersion": "snapshot.storage.k8s.io/v1", "kind": "VolumeSnapshotContent",
    "metadata": {"name": "new-snapshot-content-test"},
    "spec": {
      "deletionPolicy": "Delete",
      "driver": "hostpath.csi.k8s.io",
      "source": {"snapshotHandle": "7bdd0de3-aaeb-11e8-9aae-0242ac110002"},
      "sourceVolumeMode": "Filesystem",
      "volumeSnapshotRef": {"name": "new-snapshot-test", "namespace": "default"}
    },
    "status": {"snapshotHandle": "7bdd0de3-aaeb-11e8-9aae-0242ac110002",
               "creationTime": 1700000000000000000, "restoreSize": 1073741824,
               "readyToUse": true}})");
}

TEST(StorageTypesRoundTrip, VolumeSnapshotClass) {
  ExpectRoundTripAndValid(R"({
    "apiVersion": "snapshot.storage.k8s.io/v1", "kind": "VolumeSnapshotClass",
    "metadata": {"name": "csi-hostpath-snapclass"},
    "driver": "hostpath.csi.k8s.io",
    "deletionPolicy": "Delete",
    "parameters": {"csi.storage.k8s.io/snapshotter-secret-name": "s"}})");
}

TEST(StorageTypesRoundTrip, VolumeAttachment) {
  ExpectRoundTripAndValid(R"({
    "apiVersion": "storage.k8s.io/v1", "kind": "VolumeAttachment",
    "metadata": {"name": "csi-0123456789abcdef"},
    "spec": {"attacher": "ebs.csi.aws.com", "nodeName": "node-1",
             "source": {"persistentVolumeName": "pv-1"}},
    "status": {"attached": true, "attachmentMetadata": {"devicePath": "/dev/xvdba"}}})");
}

TEST(StorageTypesRoundTrip, CSIDriver) {
  ExpectRoundTripAndValid(R"({
    "apiVersion": "storage.k8s.io/v1", "kind": "CSIDriver",
    "metadata": {"name": "mycsidriver.example.com"},
    "spec": {"attachRequired": true, "podInfoOnMount": true, "fsGroupPolicy": "File",
             "volumeLifecycleModes": ["Persistent", "Ephemeral"],
             "tokenRequests": [{"audience": "gcp"}, {"audience": "vault", "expirationSeconds": 3600}],
             "requiresRepublish": true, "seLinuxMount": true, "storageCapacity": false}})");
}

TEST(StorageTypesRoundTrip, UnknownFieldsAreReportedWithTheirPath) {
  json in = json::parse(R"({"apiVersion": "v1", "kind": "PersistentVolume",
    "metadata": {"name": "x"},
    "spec": {"capacity": {"storage": "1Gi"}, "hostPath": {"path": "/x", "typo": 1},
             "acessModes": ["ReadWriteOnce"]}})");
  Decoded d = OpsFor(in).Normalize(in);
  EXPECT_EQ(d.unknownFields, (std::vector<std::string>{"spec.acessModes", "spec.hostPath.typo"}));
}

TEST(StorageRegistration, NamesScopesAndSubresources) {
  struct Want {
    const char* name;
    const char* group;
    const char* kind;
    const char* resource;
    bool namespaced;
    bool hasStatus;
  };
  for (const Want& w : {
           Want{"pv", "", "PersistentVolume", "persistentvolumes", false, true},
           Want{"pvc", "", "PersistentVolumeClaim", "persistentvolumeclaims", true, true},
           Want{"sc", "storage.k8s.io", "StorageClass", "storageclasses", false, false},
           Want{"va", "storage.k8s.io", "VolumeAttachment", "volumeattachments", false, true},
           Want{"csidriver", "storage.k8s.io", "CSIDriver", "csidrivers", false, false},
           Want{"vs", "snapshot.storage.k8s.io", "VolumeSnapshot", "volumesnapshots", true, true},
           Want{"vsc", "snapshot.storage.k8s.io", "VolumeSnapshotContent", "volumesnapshotcontents",
                false, true},
           Want{"vscs", "snapshot.storage.k8s.io", "VolumeSnapshotContent",
                "volumesnapshotcontents", false, true},
           Want{"vsclass", "snapshot.storage.k8s.io", "VolumeSnapshotClass",
                "volumesnapshotclasses", false, false},
           Want{"vsclasses", "snapshot.storage.k8s.io", "VolumeSnapshotClass",
                "volumesnapshotclasses", false, false},
           Want{"volumesnapshots.snapshot.storage.k8s.io", "snapshot.storage.k8s.io",
                "VolumeSnapshot", "volumesnapshots", true, true},
       }) {
    const KindOps* ops = StorageScheme().ByName(w.name);
    ASSERT_NE(ops, nullptr) << w.name;
    const ResourceInfo& i = ops->info();
    EXPECT_EQ(i.group, w.group) << w.name;
    EXPECT_EQ(i.version, "v1") << w.name;
    EXPECT_EQ(i.kind, w.kind) << w.name;
    EXPECT_EQ(i.resource, w.resource) << w.name;
    EXPECT_EQ(i.namespaced, w.namespaced) << w.name;
    EXPECT_EQ(i.hasStatus, w.hasStatus) << w.name;
    EXPECT_TRUE(i.selectableFields.empty()) << w.name;
  }
  EXPECT_EQ(StorageScheme().ByResource("storage.k8s.io", "v1", "storageclasses")->info().kind,
            "StorageClass");
  EXPECT_EQ(StorageScheme().all().size(), 8u);
}

TEST(StorageRegistration, DefaultSchemeServesTheStorageKinds) {
  for (const char* name : {"pv", "pvc", "sc", "va", "csidrivers", "vs", "vsc", "vsclass"}) {
    EXPECT_NE(Scheme::Default().ByName(name), nullptr) << name;
  }
}

}  // namespace
}  // namespace kvol::api
