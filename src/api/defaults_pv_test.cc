// Defaulting of the storage kinds: exactly Kubernetes' defaults, user values kept, idempotent.
#include <gtest/gtest.h>

#include "kvol/api/defaults.h"
#include "kvol/api/scheme.h"

namespace kvol::api {
namespace {

TEST(DefaultPersistentVolume, FillsReclaimPolicyVolumeModePhaseAndHostPathType) {
  PersistentVolume pv = FromJsonLoose<PersistentVolume>(json::parse(R"({
    "apiVersion": "v1", "kind": "PersistentVolume", "metadata": {"name": "pv1"},
    "spec": {"capacity": {"storage": "1Gi"}, "accessModes": ["ReadWriteOnce"],
             "hostPath": {"path": "/mnt/data"}}})"));
  DefaultPersistentVolume(pv);
  json out = ToJson(pv);
  EXPECT_EQ(out["spec"]["persistentVolumeReclaimPolicy"], "Retain");
  EXPECT_EQ(out["spec"]["volumeMode"], "Filesystem");
  EXPECT_EQ(out["status"], json::parse(R"({"phase": "Pending"})"));
  // hostPath.type "" is written out, as Kubernetes does.
  EXPECT_EQ(out["spec"]["hostPath"], json::parse(R"({"path": "/mnt/data", "type": ""})"));
  PersistentVolume again = pv;
  DefaultPersistentVolume(again);
  EXPECT_EQ(ToJson(again), out);
}

TEST(DefaultPersistentVolume, KeepsWhatTheUserSet) {
  PersistentVolume pv;
  pv.spec.persistentVolumeReclaimPolicy = "Delete";
  pv.spec.volumeMode = "Block";
  pv.spec.hostPath = HostPathVolumeSource{"/dev/sdb", "BlockDevice"};
  pv.status.phase = "Bound";
  DefaultPersistentVolume(pv);
  EXPECT_EQ(pv.spec.persistentVolumeReclaimPolicy, "Delete");
  EXPECT_EQ(pv.spec.volumeMode, "Block");
  EXPECT_EQ(pv.spec.hostPath->type, "BlockDevice");
  EXPECT_EQ(pv.status.phase, "Bound");
}

TEST(DefaultPersistentVolume, AzureDiskGetsKubernetesDefaults) {
  PersistentVolume pv;
  pv.spec.azureDisk = AzureDiskVolumeSource{};
  DefaultPersistentVolume(pv);
  EXPECT_EQ(ToJson(*pv.spec.azureDisk),
            json::parse(R"({"cachingMode": "ReadWrite", "fsType": "ext4", "kind": "Shared",
                            "readOnly": false})"));
}

TEST(DefaultPersistentVolume, CsiSourceHasNoDefaults) {
  PersistentVolume pv;
  pv.spec.csi = CSIPersistentVolumeSource{};
  pv.spec.csi->driver = "kvol.io/local";
  pv.spec.csi->volumeHandle = "v1";
  DefaultPersistentVolume(pv);
  EXPECT_EQ(ToJson(*pv.spec.csi),
            json::parse(R"({"driver": "kvol.io/local", "volumeHandle": "v1"})"));
}

TEST(DefaultPersistentVolumeClaim, FillsVolumeModeAndPhaseOnly) {
  PersistentVolumeClaim pvc = FromJsonLoose<PersistentVolumeClaim>(json::parse(R"({
    "apiVersion": "v1", "kind": "PersistentVolumeClaim",
    "metadata": {"name": "data", "namespace": "default"},
    "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}}}})"));
  DefaultPersistentVolumeClaim(pvc);
  json out = ToJson(pvc);
  EXPECT_EQ(out["spec"], json::parse(R"({"accessModes": ["ReadWriteOnce"],
      "resources": {"requests": {"storage": "1Gi"}}, "volumeMode": "Filesystem"})"));
  EXPECT_EQ(out["status"], json::parse(R"({"phase": "Pending"})"));
  // No storage class is chosen here: a missing storageClassName stays missing (the default class
  // is admission's business), and an explicit "" stays "".
  EXPECT_FALSE(pvc.spec.storageClassName.has_value());
}

TEST(DefaultPersistentVolumeClaim, KeepsBlockModeAndEmptyClass) {
  PersistentVolumeClaim pvc;
  pvc.spec.volumeMode = "Block";
  pvc.spec.storageClassName = "";
  pvc.status.phase = "Bound";
  DefaultPersistentVolumeClaim(pvc);
  EXPECT_EQ(pvc.spec.volumeMode, "Block");
  EXPECT_EQ(pvc.spec.storageClassName, "");
  EXPECT_EQ(pvc.status.phase, "Bound");
}

TEST(DefaultPersistentVolumeClaim, DataSourceAndDataSourceRefMirrorEachOther) {
  PersistentVolumeClaim old;
  old.spec.dataSource =
      TypedLocalObjectReference{"snapshot.storage.k8s.io", "VolumeSnapshot", "s1"};
  DefaultPersistentVolumeClaim(old);
  EXPECT_EQ(ToJson(old.spec.dataSourceRef),
            json::parse(R"({"apiGroup": "snapshot.storage.k8s.io", "kind": "VolumeSnapshot",
                            "name": "s1"})"));
  PersistentVolumeClaim neu;
  neu.spec.dataSourceRef = TypedObjectReference{std::nullopt, "PersistentVolumeClaim", "src", {}};
  DefaultPersistentVolumeClaim(neu);
  EXPECT_EQ(ToJson(neu.spec.dataSource),
            json::parse(R"({"kind": "PersistentVolumeClaim", "name": "src"})"));
  // A cross-namespace reference has no dataSource counterpart.
  PersistentVolumeClaim cross;
  cross.spec.dataSourceRef =
      TypedObjectReference{std::nullopt, "PersistentVolumeClaim", "src", "other"};
  DefaultPersistentVolumeClaim(cross);
  EXPECT_FALSE(cross.spec.dataSource.has_value());
}

TEST(DefaultStorageClass, DeleteAndImmediate) {
  StorageClass sc;
  sc.provisioner = "kvol.io/local";
  DefaultStorageClass(sc);
  EXPECT_EQ(ToJson(sc), json::parse(R"({"provisioner": "kvol.io/local", "reclaimPolicy": "Delete",
                                        "volumeBindingMode": "Immediate"})"));
  StorageClass wffc;
  wffc.reclaimPolicy = "Retain";
  wffc.volumeBindingMode = "WaitForFirstConsumer";
  DefaultStorageClass(wffc);
  EXPECT_EQ(wffc.reclaimPolicy, "Retain");
  EXPECT_EQ(wffc.volumeBindingMode, "WaitForFirstConsumer");
}

TEST(DefaultCSIDriver, EveryOptionalFieldGetsKubernetesDefault) {
  CSIDriver d;
  d.metadata.name = "kvol.io.block";
  DefaultCSIDriver(d);
  EXPECT_EQ(ToJson(d.spec), json::parse(R"({"attachRequired": true, "podInfoOnMount": false,
      "storageCapacity": false, "fsGroupPolicy": "ReadWriteOnceWithFSType",
      "volumeLifecycleModes": ["Persistent"], "requiresRepublish": false,
      "seLinuxMount": false})"));
  CSIDriver set;
  set.spec.attachRequired = false;
  set.spec.fsGroupPolicy = "File";
  set.spec.volumeLifecycleModes = {"Ephemeral"};
  DefaultCSIDriver(set);
  EXPECT_EQ(set.spec.attachRequired, false);
  EXPECT_EQ(set.spec.fsGroupPolicy, "File");
  EXPECT_EQ(set.spec.volumeLifecycleModes, std::vector<std::string>{"Ephemeral"});
}

}  // namespace
}  // namespace kvol::api
