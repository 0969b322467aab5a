#include "kvol/apiserver/table.h"

#include <gtest/gtest.h>

namespace kvol::apiserver {
namespace {

api::ResourceInfo Info(std::string group, std::string kind, bool namespaced = true) {
  api::ResourceInfo i;
  i.group = std::move(group);
  i.version = "v1";
  i.kind = std::move(kind);
  i.namespaced = namespaced;
  return i;
}

// Compares with a JSON text (a function, so multi-line raw strings stay out of macros).
void ExpectJson(const json& got, const char* want) {
  EXPECT_EQ(got, json::parse(want)) << got.dump();
}

const int64_t kNow = *ParseTimestamp("2024-05-01T12:00:00Z");

std::vector<std::string> ColumnNames(const json& t, int maxPriority = 1) {
  std::vector<std::string> out;
  for (const auto& c : t["columnDefinitions"])
    if (c["priority"].get<int>() <= maxPriority) out.push_back(c["name"]);
  return out;
}

TEST(HumanDuration, MatchesKubernetes) {
  EXPECT_EQ(HumanDuration(-5), "<invalid>");
  EXPECT_EQ(HumanDuration(-1), "0s");
  EXPECT_EQ(HumanDuration(0), "0s");
  EXPECT_EQ(HumanDuration(119), "119s");
  EXPECT_EQ(HumanDuration(120), "2m");
  EXPECT_EQ(HumanDuration(5 * 60 + 30), "5m30s");
  EXPECT_EQ(HumanDuration(10 * 60 + 30), "10m");
  EXPECT_EQ(HumanDuration(179 * 60), "179m");
  EXPECT_EQ(HumanDuration(3 * 3600 + 2 * 60), "3h2m");
  EXPECT_EQ(HumanDuration(5 * 3600), "5h");
  EXPECT_EQ(HumanDuration(47 * 3600 + 59 * 60), "47h");
  EXPECT_EQ(HumanDuration(2 * 86400), "2d");
  EXPECT_EQ(HumanDuration(3 * 86400 + 4 * 3600), "3d4h");
  EXPECT_EQ(HumanDuration(100 * 86400), "100d");
  EXPECT_EQ(HumanDuration(3 * 365 * 86400 + 12 * 86400), "3y12d");
  EXPECT_EQ(HumanDuration(9 * 365 * 86400), "9y");
}

TEST(ParseTimestamp, Rfc3339) {
  EXPECT_EQ(ParseTimestamp("1970-01-01T00:00:00Z"), 0);
  EXPECT_EQ(ParseTimestamp("2024-05-01T12:00:00Z"), 1714564800);
  EXPECT_EQ(ParseTimestamp("2024-05-01T12:00:00.123456Z"), 1714564800);
  EXPECT_EQ(ParseTimestamp("2024-05-01T14:00:00+02:00"), 1714564800);
  EXPECT_EQ(ParseTimestamp("2024-05-01"), std::nullopt);
  EXPECT_EQ(ParseTimestamp("2024-13-01T12:00:00Z"), std::nullopt);
  EXPECT_EQ(ParseTimestamp("2024-05-01T12:00:00"), std::nullopt);
}

TEST(AccessModes, OrderedAndDeduplicated) {
  EXPECT_EQ(AccessModesString(json::array({"ReadWriteOncePod", "ReadWriteMany", "ReadOnlyMany",
                                           "ReadWriteOnce", "ReadWriteOnce"})),
            "RWO,ROX,RWX,RWOP");
  EXPECT_EQ(AccessModesString(json::array()), "");
  EXPECT_EQ(AccessModesString(nullptr), "");
}

TEST(Table, PersistentVolumeClaimBoundAndPending) {
  json bound = json::parse(R"({
    "metadata": {"name": "data", "namespace": "default", "uid": "u1",
                 "creationTimestamp": "2024-05-01T11:55:00Z"},
    "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}},
             "storageClassName": "standard", "volumeName": "pvc-1", "volumeMode": "Filesystem"},
    "status": {"phase": "Bound", "accessModes": ["ReadWriteOnce", "ReadOnlyMany"],
               "capacity": {"storage": "2Gi"}}})");
  json pending = json::parse(R"({
    "metadata": {"name": "wait", "namespace": "default",
                 "creationTimestamp": "2024-04-29T09:00:00Z",
                 "annotations": {"volume.beta.kubernetes.io/storage-class": "beta"}},
    "spec": {"accessModes": ["ReadWriteMany"], "resources": {"requests": {"storage": "1Gi"}},
             "storageClassName": "standard"},
    "status": {"phase": "Pending"}})");
  json t = BuildTable(Info("", "PersistentVolumeClaim"), {bound, pending}, true, kNow);
  EXPECT_EQ(t["kind"], "Table");
  EXPECT_EQ(t["apiVersion"], "meta.k8s.io/v1");
  EXPECT_EQ(ColumnNames(t, 0),
            (std::vector<std::string>{"Name", "Status", "Volume", "Capacity", "Access Modes",
                                      "StorageClass", "VolumeAttributesClass", "Age"}));
  EXPECT_EQ(ColumnNames(t).back(), "VolumeMode");
  EXPECT_EQ(t["columnDefinitions"][0]["format"], "name");
  EXPECT_EQ(t["columnDefinitions"][8]["priority"], 1);
  ASSERT_EQ(t["rows"].size(), 2u);
  ExpectJson(t["rows"][0]["cells"], R"(["data","Bound","pvc-1","2Gi","RWO,ROX",
            "standard","<unset>","5m","Filesystem"])");
  ExpectJson(t["rows"][1]["cells"],
             R"(["wait","Pending","","","","beta","<unset>","2d3h","<unset>"])");
  const json& obj = t["rows"][0]["object"];
  EXPECT_EQ(obj["kind"], "PartialObjectMetadata");
  EXPECT_EQ(obj["apiVersion"], "meta.k8s.io/v1");
  EXPECT_EQ(obj["metadata"]["uid"], "u1");
  EXPECT_FALSE(obj.contains("spec"));
}

TEST(Table, PersistentVolumeTerminatingWithClaim) {
  json pv = json::parse(R"({
    "metadata": {"name": "pv1", "creationTimestamp": "2024-05-01T11:59:30Z",
                 "deletionTimestamp": "2024-05-01T11:59:50Z"},
    "spec": {"capacity": {"storage": "5Gi"}, "accessModes": ["ReadWriteOncePod", "ReadWriteOnce"],
             "persistentVolumeReclaimPolicy": "Retain", "storageClassName": "local",
             "claimRef": {"namespace": "ns1", "name": "c1"}, "volumeMode": "Block",
             "volumeAttributesClassName": "gold"},
    "status": {"phase": "Bound", "reason": ""}})");
  json t = BuildTable(Info("", "PersistentVolume", false), {pv}, true, kNow);
  EXPECT_EQ(ColumnNames(t),
            (std::vector<std::string>{"Name", "Capacity", "Access Modes", "Reclaim Policy",
                                      "Status", "Claim", "StorageClass", "VolumeAttributesClass",
                                      "Reason", "Age", "VolumeMode"}));
  ExpectJson(t["rows"][0]["cells"], R"(["pv1","5Gi","RWO,RWOP","Retain","Terminating",
            "ns1/c1","local","gold","","30s","Block"])");
}

TEST(Table, StorageClassDefaultAndDefaults) {
  json sc = json::parse(R"({
    "metadata": {"name": "standard", "creationTimestamp": "2024-05-01T09:00:00Z",
                 "annotations": {"storageclass.kubernetes.io/is-default-class": "true"}},
    "provisioner": "kvol.io/block", "reclaimPolicy": "Delete",
    "volumeBindingMode": "WaitForFirstConsumer", "allowVolumeExpansion": true})");
  json bare = json::parse(R"({"metadata": {"name": "bare"}, "provisioner": "x"})");
  json t = BuildTable(Info("storage.k8s.io", "StorageClass", false), {sc, bare}, true, kNow);
  EXPECT_EQ(ColumnNames(t),
            (std::vector<std::string>{"Name", "Provisioner", "ReclaimPolicy", "VolumeBindingMode",
                                      "AllowVolumeExpansion", "Age"}));
  ExpectJson(t["rows"][0]["cells"], R"J(["standard (default)","kvol.io/block","Delete",
            "WaitForFirstConsumer",true,"3h"])J");
  ExpectJson(t["rows"][1]["cells"], R"(["bare","x","Delete","Immediate",false,"<unknown>"])");
}

json Pod(const std::string& statusJson, const std::string& extraSpec = "") {
  return json::parse(R"({"metadata": {"name": "p", "namespace": "default",
      "creationTimestamp": "2024-05-01T11:00:00Z"},
      "spec": {)" + extraSpec +
                     R"("containers": [{"name": "a", "image": "busybox"},
                                  {"name": "b", "image": "busybox"}], "nodeName": "n1"},
      "status": )" + statusJson +
                     "}");
}

std::vector<json> PodCells(const json& pod) {
  json t = BuildTable(Info("", "Pod"), {pod}, false, kNow);
  return t["rows"][0]["cells"].get<std::vector<json>>();
}

TEST(Table, PodStatusColumn) {
  // Pending, containers creating.
  auto c = PodCells(Pod(R"({"phase": "Pending", "containerStatuses": [
      {"name": "a", "ready": false, "restartCount": 0,
       "state": {"waiting": {"reason": "ContainerCreating"}}},
      {"name": "b", "ready": false, "restartCount": 0,
       "state": {"waiting": {"reason": "ContainerCreating"}}}]})"));
  EXPECT_EQ(c[1], "0/2");
  EXPECT_EQ(c[2], "ContainerCreating");
  EXPECT_EQ(c[3], "0");
  EXPECT_EQ(c[4], "60m");
  EXPECT_EQ(c[5], "<none>");
  EXPECT_EQ(c[6], "n1");
  EXPECT_EQ(c[7], "<none>");
  EXPECT_EQ(c[8], "<none>");

  // Running, one container crash-looping with restarts.
  c = PodCells(Pod(R"({"phase": "Running", "podIPs": [{"ip": "10.0.0.5"}], "containerStatuses": [
      {"name": "a", "ready": true, "restartCount": 0, "state": {"running": {}}},
      {"name": "b", "ready": false, "restartCount": 3,
       "state": {"waiting": {"reason": "CrashLoopBackOff"}},
       "lastState": {"terminated": {"exitCode": 1, "finishedAt": "2024-05-01T11:58:00Z"}}}]})"));
  EXPECT_EQ(c[1], "1/2");
  EXPECT_EQ(c[2], "CrashLoopBackOff");
  EXPECT_EQ(c[3], "3 (2m ago)");
  EXPECT_EQ(c[5], "10.0.0.5");

  // Succeeded: both containers Completed.
  json done = Pod(R"({"phase": "Succeeded", "containerStatuses": [
      {"name": "a", "ready": false, "restartCount": 0,
       "state": {"terminated": {"exitCode": 0, "reason": "Completed"}}},
      {"name": "b", "ready": false, "restartCount": 0,
       "state": {"terminated": {"exitCode": 0, "reason": "Completed"}}}]})");
  c = PodCells(done);
  EXPECT_EQ(c[1], "0/2");
  EXPECT_EQ(c[2], "Completed");
  json t = BuildTable(Info("", "Pod"), {done}, false, kNow);
  EXPECT_EQ(t["rows"][0]["conditions"][0]["reason"], "Succeeded");
  EXPECT_FALSE(t["rows"][0].contains("object"));

  // Completed container while the other still runs: Running when the pod is Ready.
  c = PodCells(Pod(R"({"phase": "Running", "conditions": [{"type": "Ready", "status": "True"}],
      "containerStatuses": [
      {"name": "a", "ready": false, "restartCount": 0,
       "state": {"terminated": {"exitCode": 0, "reason": "Completed"}}},
      {"name": "b", "ready": true, "restartCount": 0, "state": {"running": {}}}]})"));
  EXPECT_EQ(c[2], "Running");
  EXPECT_EQ(c[1], "1/2");

  // Terminated without reason: ExitCode.
  c = PodCells(Pod(R"({"phase": "Failed", "containerStatuses": [
      {"name": "a", "ready": false, "state": {"terminated": {"exitCode": 2}}},
      {"name": "b", "ready": false, "state": {"terminated": {"exitCode": 0, "signal": 9}}}]})"));
  EXPECT_EQ(c[2], "ExitCode:2");

  // Init containers still running.
  c = PodCells(Pod(R"({"phase": "Pending", "initContainerStatuses": [
      {"name": "i1", "state": {"terminated": {"exitCode": 0, "reason": "Completed"}}},
      {"name": "i2", "state": {"running": {}}}]})",
                   R"("initContainers": [{"name": "i1"}, {"name": "i2"}],)"));
  EXPECT_EQ(c[2], "Init:1/2");
  c = PodCells(Pod(R"({"phase": "Pending", "initContainerStatuses": [
      {"name": "i1", "state": {"terminated": {"exitCode": 3}}}]})",
                   R"("initContainers": [{"name": "i1"}],)"));
  EXPECT_EQ(c[2], "Init:ExitCode:3");

  // Being deleted.
  json del = Pod(R"({"phase": "Running"})");
  del["metadata"]["deletionTimestamp"] = "2024-05-01T11:59:00Z";
  EXPECT_EQ(PodCells(del)[2], "Terminating");
}

TEST(Table, EventNodeNamespaceConfigMapSecret) {
  json ev = json::parse(R"({"metadata": {"name": "data.17a", "namespace": "default"},
      "involvedObject": {"kind": "PersistentVolumeClaim", "name": "data"},
      "reason": "ProvisioningSucceeded", "type": "Normal",
      "message": "Successfully provisioned volume pvc-1 \n",
      "source": {"component": "kvol-provisioner"},
      "firstTimestamp": "2024-05-01T11:50:00Z", "lastTimestamp": "2024-05-01T11:59:00Z",
      "count": 2})");
  json t = BuildTable(Info("", "Event"), {ev}, true, kNow);
  EXPECT_EQ(ColumnNames(t, 0),
            (std::vector<std::string>{"Last Seen", "Type", "Reason", "Object", "Message"}));
  EXPECT_EQ(ColumnNames(t),
            (std::vector<std::string>{"Last Seen", "Type", "Reason", "Object", "Subobject",
                                      "Source", "Message", "First Seen", "Count", "Name"}));
  ExpectJson(t["rows"][0]["cells"], R"(["60s","Normal","ProvisioningSucceeded",
      "persistentvolumeclaim/data","","kvol-provisioner",
      "Successfully provisioned volume pvc-1","10m",2,"data.17a"])");

  json node =
      json::parse(R"({"metadata": {"name": "n1", "creationTimestamp": "2024-05-01T10:00:00Z",
      "labels": {"node-role.kubernetes.io/control-plane": "", "kubernetes.io/hostname": "n1"}},
      "spec": {"unschedulable": true},
      "status": {"conditions": [{"type": "Ready", "status": "True"}],
                 "addresses": [{"type": "InternalIP", "address": "10.1.1.1"}],
                 "nodeInfo": {"kubeletVersion": "v1.32.0-kvol"}}})");
  t = BuildTable(Info("", "Node", false), {node}, true, kNow);
  ExpectJson(t["rows"][0]["cells"],
             R"(["n1","Ready,SchedulingDisabled","control-plane","120m","v1.32.0-kvol",
                "10.1.1.1","<none>","<unknown>","<unknown>","<unknown>"])");

  json ns =
      json::parse(R"({"metadata": {"name": "default", "creationTimestamp": "2024-05-01T11:00:00Z"},
      "status": {"phase": "Active"}})");
  t = BuildTable(Info("", "Namespace", false), {ns}, true, kNow);
  ExpectJson(t["rows"][0]["cells"], R"(["default","Active","60m"])");

  json cm = json::parse(R"({"metadata": {"name": "cfg"}, "data": {"a": "1", "b": "2"},
      "binaryData": {"c": "AA=="}})");
  t = BuildTable(Info("", "ConfigMap"), {cm}, true, kNow);
  ExpectJson(t["rows"][0]["cells"], R"(["cfg",3,"<unknown>"])");

  json sec = json::parse(R"({"metadata": {"name": "s"}, "type": "Opaque", "data": {"k": "dg=="}})");
  t = BuildTable(Info("", "Secret"), {sec}, true, kNow);
  EXPECT_EQ(ColumnNames(t), (std::vector<std::string>{"Name", "Type", "Data", "Age"}));
  ExpectJson(t["rows"][0]["cells"], R"(["s","Opaque",1,"<unknown>"])");
}

TEST(Table, AppsAndStorageV1Kinds) {
  json sts =
      json::parse(R"({"metadata": {"name": "db", "creationTimestamp": "2024-05-01T11:59:00Z"},
      "spec": {"replicas": 3, "template": {"spec": {"containers": [
          {"name": "pg", "image": "postgres:17"}, {"name": "side", "image": "busybox"}]}}},
      "status": {"readyReplicas": 2}})");
  json t = BuildTable(Info("apps", "StatefulSet"), {sts}, true, kNow);
  EXPECT_EQ(ColumnNames(t, 0), (std::vector<std::string>{"Name", "Ready", "Age"}));
  ExpectJson(t["rows"][0]["cells"], R"(["db","2/3","60s","pg,side","postgres:17,busybox"])");

  json dep = json::parse(R"({"metadata": {"name": "web"},
      "spec": {"replicas": 2, "selector": {"matchLabels": {"app": "web"}},
               "template": {"spec": {"containers": [{"name": "c", "image": "nginx"}]}}},
      "status": {"readyReplicas": 1, "updatedReplicas": 2, "availableReplicas": 1}})");
  t = BuildTable(Info("apps", "Deployment"), {dep}, true, kNow);
  EXPECT_EQ(ColumnNames(t, 0),
            (std::vector<std::string>{"Name", "Ready", "Up-to-date", "Available", "Age"}));
  ExpectJson(t["rows"][0]["cells"], R"(["web","1/2",2,1,"<unknown>","c","nginx","app=web"])");

  json va = json::parse(R"({"metadata": {"name": "csi-123"},
      "spec": {"attacher": "kvol.io/block", "nodeName": "n1",
               "source": {"persistentVolumeName": "pv1"}},
      "status": {"attached": true}})");
  t = BuildTable(Info("storage.k8s.io", "VolumeAttachment", false), {va}, true, kNow);
  EXPECT_EQ(ColumnNames(t),
            (std::vector<std::string>{"Name", "Attacher", "PV", "Node", "Attached", "Age"}));
  ExpectJson(t["rows"][0]["cells"], R"(["csi-123","kvol.io/block","pv1","n1",true,"<unknown>"])");

  json drv = json::parse(R"({"metadata": {"name": "kvol.io/local"},
      "spec": {"attachRequired": false, "volumeLifecycleModes": ["Persistent", "Ephemeral"]}})");
  t = BuildTable(Info("storage.k8s.io", "CSIDriver", false), {drv}, true, kNow);
  EXPECT_EQ(ColumnNames(t),
            (std::vector<std::string>{"Name", "AttachRequired", "PodInfoOnMount", "StorageCapacity",
                                      "TokenRequests", "RequiresRepublish", "Modes", "Age"}));
  ExpectJson(t["rows"][0]["cells"], R"(["kvol.io/local",false,false,false,"<unset>",
      false,"Persistent,Ephemeral","<unknown>"])");
}

TEST(Table, VolumeSnapshotCrdColumns) {
  json vs =
      json::parse(R"({"metadata": {"name": "snap", "creationTimestamp": "2024-05-01T11:00:00Z"},
      "spec": {"source": {"persistentVolumeClaimName": "data"},
               "volumeSnapshotClassName": "kvol-snap"},
      "status": {"readyToUse": true, "restoreSize": "1Gi",
                 "boundVolumeSnapshotContentName": "snapcontent-1",
                 "creationTime": "2024-05-01T11:30:00Z"}})");
  json t = BuildTable(Info("snapshot.storage.k8s.io", "VolumeSnapshot"), {vs}, true, kNow);
  EXPECT_EQ(ColumnNames(t),
            (std::vector<std::string>{"Name", "ReadyToUse", "SourcePVC", "SourceSnapshotContent",
                                      "RestoreSize", "SnapshotClass", "SnapshotContent",
                                      "CreationTime", "Age"}));
  ExpectJson(t["rows"][0]["cells"], R"(["snap",true,"data",null,"1Gi","kvol-snap",
      "snapcontent-1","30m","60m"])");

  json vsc = json::parse(R"({"metadata": {"name": "c1"}, "spec": {"deletionPolicy": "Delete",
      "driver": "kvol.io/block", "volumeSnapshotRef": {"name": "snap", "namespace": "default"}},
      "status": {"restoreSize": 1073741824}})");
  t = BuildTable(Info("snapshot.storage.k8s.io", "VolumeSnapshotContent", false), {vsc}, true,
                 kNow);
  ExpectJson(t["rows"][0]["cells"], R"(["c1",null,1073741824,"Delete","kvol.io/block",
      null,"snap","default",null])");

  json cls = json::parse(R"({"metadata": {"name": "k"}, "driver": "kvol.io/block",
      "deletionPolicy": "Retain"})");
  t = BuildTable(Info("snapshot.storage.k8s.io", "VolumeSnapshotClass", false), {cls}, true, kNow);
  ExpectJson(t["rows"][0]["cells"], R"(["k","kvol.io/block","Retain",null])");
}

TEST(Table, UnknownKindNameAgeAndObjectModes) {
  json o = json::parse(R"({"metadata": {"name": "x", "creationTimestamp": "2024-05-01T11:59:58Z"},
      "spec": {"a": 1}})");
  api::ResourceInfo info = Info("example.com", "Widget");
  json t = BuildTable(info, {o}, IncludeObject::kObject, kNow);
  EXPECT_EQ(ColumnNames(t), (std::vector<std::string>{"Name", "Age"}));
  ExpectJson(t["rows"][0]["cells"], R"(["x","2s"])");
  EXPECT_EQ(t["rows"][0]["object"]["kind"], "Widget");
  EXPECT_EQ(t["rows"][0]["object"]["apiVersion"], "example.com/v1");
  EXPECT_EQ(t["rows"][0]["object"]["spec"]["a"], 1);

  json row = BuildTableRow(Info("", "PersistentVolumeClaim"), o, true, kNow);
  EXPECT_EQ(row["rows"].size(), 1u);
  EXPECT_EQ(row["columnDefinitions"].size(), 9u);
  EXPECT_EQ(ParseIncludeObject(""), IncludeObject::kMetadata);
  EXPECT_EQ(ParseIncludeObject("None"), IncludeObject::kNone);
  EXPECT_EQ(ParseIncludeObject("bogus"), std::nullopt);
}

}  // namespace
}  // namespace kvol::apiserver
