#include <gtest/gtest.h>

#include "kvol/patch/patch.h"

namespace kvol::patch {
namespace {

struct SmpCase {
  const char* name;
  const char* apiVersion;
  const char* kind;
  const char* target;
  const char* patch;
  const char* want;  // nullptr: error expected
  Code code = Code::kOk;
  const char* message = "";
};

void RunTable(const std::vector<SmpCase>& cases) {
  for (const auto& c : cases) {
    json target = json::parse(c.target);
    auto got = ApplyStrategicMergePatch(target, json::parse(c.patch), c.apiVersion, c.kind);
    if (c.want) {
      ASSERT_TRUE(got.ok()) << c.name << ": " << got.status().ToString();
      EXPECT_EQ(*got, json::parse(c.want)) << c.name << "\n got: " << got->dump();
    } else {
      ASSERT_FALSE(got.ok()) << c.name << " got " << got->dump();
      EXPECT_EQ(got.status().code(), c.code) << c.name;
      EXPECT_EQ(got.status().message(), c.message) << c.name;
    }
    EXPECT_EQ(target, json::parse(c.target)) << c.name << ": input modified";
  }
}

TEST(StrategicMergePatchTest, PodAndWorkloadLists) {
  RunTable({
      // kubectl-protocol.md section 3: what `kubectl apply` sends for an image change.
      {"statefulset image change keeps volumeMounts", "apps/v1", "StatefulSet",
       R"({"spec":{"serviceName":"db","template":{"spec":{"containers":[{"name":"db","image":"postgres:16",
           "volumeMounts":[{"name":"data","mountPath":"/var/lib/postgresql/data"}]}]}},
           "volumeClaimTemplates":[{"metadata":{"name":"data"}}]}})",
       R"({"spec":{"template":{"spec":{"$setElementOrder/containers":[{"name":"db"}],
           "containers":[{"image":"postgres:17","name":"db"}]}}}})",
       R"({"spec":{"serviceName":"db","template":{"spec":{"containers":[{"name":"db","image":"postgres:17",
           "volumeMounts":[{"name":"data","mountPath":"/var/lib/postgresql/data"}]}]}},
           "volumeClaimTemplates":[{"metadata":{"name":"data"}}]}})"},
      {"container env merges by name", "v1", "Pod",
       R"({"spec":{"containers":[{"name":"app","env":[{"name":"A","value":"1"},{"name":"B","value":"2"}]}]}})",
       R"({"spec":{"containers":[{"name":"app","env":[{"name":"B","value":"3"},{"name":"C","value":"4"}]}]}})",
       R"({"spec":{"containers":[{"name":"app","env":[{"name":"A","value":"1"},{"name":"B","value":"3"},
           {"name":"C","value":"4"}]}]}})"},
      {"volumeMount removed with $patch delete", "apps/v1", "Deployment",
       R"({"spec":{"template":{"spec":{"containers":[{"name":"app","volumeMounts":[
           {"name":"a","mountPath":"/a"},{"name":"b","mountPath":"/b"}]}]}}}})",
       R"({"spec":{"template":{"spec":{"containers":[{"name":"app","volumeMounts":[
           {"$patch":"delete","mountPath":"/a"}]}]}}}})",
       R"({"spec":{"template":{"spec":{"containers":[{"name":"app","volumeMounts":[
           {"name":"b","mountPath":"/b"}]}]}}}})"},
      {"$setElementOrder reorders containers", "v1", "Pod",
       R"({"spec":{"containers":[{"name":"a","image":"1"},{"name":"b","image":"2"}]}})",
       R"({"spec":{"$setElementOrder/containers":[{"name":"b"},{"name":"a"}],
           "containers":[{"name":"a","image":"9"}]}})",
       R"({"spec":{"containers":[{"name":"b","image":"2"},{"name":"a","image":"9"}]}})"},
      {"$setElementOrder with an item missing from the list", "v1", "Pod",
       R"({"spec":{"containers":[{"name":"1"},{"name":"3"}]}})",
       R"({"spec":{"$setElementOrder/containers":[{"name":"3"},{"name":"2"},{"name":"1"}],
           "containers":[{"name":"3","image":"x3"},{"name":"1","image":"x1"}]}})",
       R"({"spec":{"containers":[{"name":"3","image":"x3"},{"name":"1","image":"x1"}]}})"},
      {"patch order is kept, server-only items stay before", "v1", "Pod",
       R"({"spec":{"containers":[{"name":"1"},{"name":"2","image":"b"},{"name":"3"}]}})",
       R"({"spec":{"containers":[{"name":"3","image":"c"},{"name":"1","image":"a"}]}})",
       R"({"spec":{"containers":[{"name":"2","image":"b"},{"name":"3","image":"c"},{"name":"1","image":"a"}]}})"},
      {"ports merge by containerPort", "v1", "Pod",
       R"({"spec":{"containers":[{"name":"c","ports":[{"containerPort":80,"name":"http"}]}]}})",
       R"({"spec":{"containers":[{"name":"c","ports":[{"containerPort":80,"protocol":"TCP"},{"containerPort":443}]}]}})",
       R"({"spec":{"containers":[{"name":"c","ports":[{"containerPort":80,"name":"http","protocol":"TCP"},
           {"containerPort":443}]}]}})"},
      {"$patch replace on a merging list", "v1", "Pod",
       R"({"spec":{"volumes":[{"name":"a","emptyDir":{}},{"name":"b","emptyDir":{}}]}})",
       R"({"spec":{"volumes":[{"$patch":"replace"},{"name":"c","emptyDir":{}}]}})",
       R"({"spec":{"volumes":[{"name":"c","emptyDir":{}}]}})"},
      {"$retainKeys drops the other volume source", "v1", "Pod",
       R"({"spec":{"volumes":[{"name":"v","emptyDir":{}}]}})",
       R"({"spec":{"$setElementOrder/volumes":[{"name":"v"}],
           "volumes":[{"$retainKeys":["hostPath","name"],"hostPath":{"path":"/x"},"name":"v"}]}})",
       R"({"spec":{"volumes":[{"name":"v","hostPath":{"path":"/x"}}]}})"},
      {"$retainKeys on deployment strategy", "apps/v1", "Deployment",
       R"({"spec":{"strategy":{"type":"RollingUpdate","rollingUpdate":{"maxSurge":1}}}})",
       R"({"spec":{"strategy":{"$retainKeys":["type"],"type":"Recreate"}}})",
       R"({"spec":{"strategy":{"type":"Recreate"}}})"},
      {"tolerations are replaced whole", "v1", "Pod",
       R"({"spec":{"tolerations":[{"key":"a","operator":"Exists"}]}})",
       R"({"spec":{"tolerations":[{"key":"b","operator":"Exists"}]}})",
       R"({"spec":{"tolerations":[{"key":"b","operator":"Exists"}]}})"},
      {"volumeClaimTemplates are replaced whole", "apps/v1", "StatefulSet",
       R"({"spec":{"volumeClaimTemplates":[{"metadata":{"name":"a"}},{"metadata":{"name":"b"}}]}})",
       R"({"spec":{"volumeClaimTemplates":[{"metadata":{"name":"c"}}]}})",
       R"({"spec":{"volumeClaimTemplates":[{"metadata":{"name":"c"}}]}})"},
      {"new subtree stores no directives", "v1", "Pod", R"({"spec":{}})",
       R"({"spec":{"$setElementOrder/containers":[{"name":"a"}],"containers":[{"name":"a",
           "$setElementOrder/env":[{"name":"X"}],"env":[{"name":"X","value":"1"},{"$patch":"delete","name":"Y"}],
           "resources":{"limits":null,"requests":{"cpu":"1"}}}]}})",
       R"({"spec":{"containers":[{"name":"a","env":[{"name":"X","value":"1"}],"resources":{"requests":{"cpu":"1"}}}]}})"},
      {"node addresses merge by type", "v1", "Node",
       R"({"status":{"addresses":[{"type":"InternalIP","address":"10.0.0.1"},{"type":"Hostname","address":"n1"}]}})",
       R"({"status":{"addresses":[{"type":"InternalIP","address":"10.0.0.2"}]}})",
       R"({"status":{"addresses":[{"type":"InternalIP","address":"10.0.0.2"},{"type":"Hostname","address":"n1"}]}})"},
  });
}

TEST(StrategicMergePatchTest, MetadataAndStorageKinds) {
  RunTable({
      {"null deletes a map key", "v1", "PersistentVolumeClaim",
       R"({"metadata":{"name":"c","labels":{"a":"1","b":"2"}}})",
       R"({"metadata":{"labels":{"a":null,"c":"3"}}})",
       R"({"metadata":{"name":"c","labels":{"b":"2","c":"3"}}})"},
      {"null for a missing key is ignored", "v1", "ConfigMap", R"({"data":{"a":"1"}})",
       R"({"data":{"zz":null},"binaryData":null})", R"({"data":{"a":"1"}})"},
      {"$deleteFromPrimitiveList removes a finalizer", "v1", "PersistentVolumeClaim",
       R"({"metadata":{"finalizers":["kubernetes.io/pvc-protection","example.com/x"]}})",
       R"({"metadata":{"$deleteFromPrimitiveList/finalizers":["kubernetes.io/pvc-protection"]}})",
       R"({"metadata":{"finalizers":["example.com/x"]}})"},
      {"finalizers are a union", "v1", "PersistentVolume",
       R"({"metadata":{"finalizers":["a","b"]}})", R"({"metadata":{"finalizers":["b","c"]}})",
       R"({"metadata":{"finalizers":["a","b","c"]}})"},
      {"primitive merge list keeps the patch order", "v1", "Namespace",
       R"({"metadata":{"finalizers":["1","2","3"]}})", R"({"metadata":{"finalizers":["3","1"]}})",
       R"({"metadata":{"finalizers":["2","3","1"]}})"},
      {"finalizer removal with $setElementOrder keeps others", "v1", "PersistentVolumeClaim",
       R"({"metadata":{"finalizers":["a","b","c"]}})",
       R"({"metadata":{"$deleteFromPrimitiveList/finalizers":["b"],"$setElementOrder/finalizers":["a"]}})",
       R"({"metadata":{"finalizers":["a","c"]}})"},
      {"ownerReferences merge by uid", "storage.k8s.io/v1", "VolumeAttachment",
       R"({"metadata":{"ownerReferences":[{"uid":"1","name":"a"}]}})",
       R"({"metadata":{"ownerReferences":[{"uid":"2","name":"b"}]}})",
       R"({"metadata":{"ownerReferences":[{"uid":"2","name":"b"},{"uid":"1","name":"a"}]}})"},
      {"pvc accessModes are replaced", "v1", "PersistentVolumeClaim",
       R"({"spec":{"accessModes":["ReadWriteOnce"]}})",
       R"({"spec":{"accessModes":["ReadWriteMany"]}})",
       R"({"spec":{"accessModes":["ReadWriteMany"]}})"},
      {"pvc status conditions merge by type", "v1", "PersistentVolumeClaim",
       R"({"status":{"conditions":[{"type":"Resizing","status":"True"}]}})",
       R"({"status":{"conditions":[{"type":"FileSystemResizePending","status":"True"}]}})",
       R"({"status":{"conditions":[{"type":"FileSystemResizePending","status":"True"},{"type":"Resizing","status":"True"}]}})"},
      {"storageclass mountOptions replaced", "storage.k8s.io/v1", "StorageClass",
       R"({"mountOptions":["a","b"]})", R"({"mountOptions":["c"]})", R"({"mountOptions":["c"]})"},
      {"$patch replace on a map", "v1", "ConfigMap", R"({"data":{"a":"1","b":"2"}})",
       R"({"data":{"$patch":"replace","c":"3"}})", R"({"data":{"c":"3"}})"},
      {"$patch delete on a map", "v1", "Secret", R"({"data":{"a":"MQ=="},"type":"Opaque"})",
       R"({"data":{"$patch":"delete"}})", R"({"data":{},"type":"Opaque"})"},
      {"CRD: lists replaced like a merge patch", "snapshot.storage.k8s.io/v1", "VolumeSnapshot",
       R"({"metadata":{"finalizers":["a"]},"spec":{"source":{"persistentVolumeClaimName":"p"}}})",
       R"({"metadata":{"finalizers":["b"],"labels":{"x":"y"}},"spec":{"volumeSnapshotClassName":"c"}})",
       R"({"metadata":{"finalizers":["b"],"labels":{"x":"y"}},"spec":{"source":{"persistentVolumeClaimName":"p"},
           "volumeSnapshotClassName":"c"}})"},
  });
}

TEST(StrategicMergePatchTest, Errors) {
  RunTable({
      {"merge key missing", "v1", "Pod", R"({"spec":{"containers":[{"name":"a"}]}})",
       R"({"spec":{"containers":[{"image":"x"}]}})", nullptr, Code::kInternal,
       R"(map: {"image":"x"} does not contain declared merge key: name)"},
      {"unknown $patch on a map", "v1", "Pod", R"({"spec":{}})", R"({"spec":{"$patch":"frob"}})",
       nullptr, Code::kInternal, R"(unknown patch type: frob in map: {"$patch":"frob"})"},
      {"$patch merge in a list", "v1", "Pod", R"({"spec":{"containers":[{"name":"a"}]}})",
       R"({"spec":{"containers":[{"$patch":"merge"}]}})", nullptr, Code::kInternal,
       "merging lists cannot yet be specified in the patch"},
      {"key outside $retainKeys", "apps/v1", "Deployment", R"({"spec":{"strategy":{}}})",
       R"({"spec":{"strategy":{"$retainKeys":["type"],"rollingUpdate":{}}}})", nullptr,
       Code::kBadRequest, "invalid patch format of retainKeys"},
      {"bad $setElementOrder value", "v1", "Pod", R"({"spec":{"containers":[{"name":"a"}]}})",
       R"({"spec":{"$setElementOrder/containers":"a"}})", nullptr, Code::kInternal,
       "expected a []interface {}, but received a string"},
      {"$setElementOrder not matching the patch order", "v1", "Pod",
       R"({"spec":{"containers":[{"name":"1"},{"name":"3"},{"name":"2"}]}})",
       R"({"spec":{"$setElementOrder/containers":[{"name":"1"},{"name":"2"},{"name":"3"}],
           "containers":[{"name":"3","image":"3"},{"name":"1","image":"1"}]}})",
       nullptr, Code::kInternal,
       "The order in patch "
       "list:\n[{\"image\":\"3\",\"name\":\"3\"},{\"image\":\"1\",\"name\":\"1\"}]\n"
       " doesn't match $setElementOrder "
       "list:\n[{\"name\":\"1\"},{\"name\":\"2\"},{\"name\":\"3\"}]\n"},
      {"bad $deleteFromPrimitiveList key", "v1", "Pod", R"({"metadata":{}})",
       R"({"metadata":{"$deleteFromPrimitiveListfinalizers":["a"]}})", nullptr, Code::kBadRequest,
       "invalid patch format of primitive list"},
      {"list of lists", "v1", "Node", R"({"spec":{"podCIDRs":[["a"]]}})",
       R"({"spec":{"podCIDRs":[["b"]]}})", nullptr, Code::kInvalid,
       "lists of lists are not supported"},
      {"patch not an object", "v1", "Pod", R"({})", R"([1])", nullptr, Code::kBadRequest,
       "json: cannot unmarshal array into Go value of type map[string]interface {}"},
  });
}

TEST(StrategicMergePatchTest, BuiltinKindsHaveASchemaCrdsDoNot) {
  EXPECT_TRUE(HasStrategicMergeSchema("v1", "PersistentVolumeClaim"));
  EXPECT_TRUE(HasStrategicMergeSchema("apps/v1", "StatefulSet"));
  EXPECT_TRUE(HasStrategicMergeSchema("storage.k8s.io/v1", "CSIDriver"));
  EXPECT_FALSE(HasStrategicMergeSchema("snapshot.storage.k8s.io/v1", "VolumeSnapshot"));
  EXPECT_FALSE(HasStrategicMergeSchema("snapshot.storage.k8s.io/v1", "VolumeSnapshotContent"));
}

TEST(StrategicMergePatchTest, DeepNestingIsRejectedNotCrashing) {
  json patch = json::object();
  json* cur = &patch;
  for (int i = 0; i < 3000; ++i) cur = &((*cur)["a"] = json::object());
  auto got = ApplyStrategicMergePatch(json::object(), patch, "v1", "ConfigMap");
  ASSERT_FALSE(got.ok());
  EXPECT_EQ(got.status().code(), Code::kBadRequest);
}

}  // namespace
}  // namespace kvol::patch
