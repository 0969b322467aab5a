#include <gtest/gtest.h>

#include "kvol/patch/patch.h"

namespace kvol::patch {
namespace {

struct ThreeWayCase {
  const char* name;
  const char* apiVersion;
  const char* kind;
  const char* original;  // last-applied
  const char* modified;  // new manifest
  const char* current;   // live object
  const char* wantPatch;
  const char* wantResult;  // current after the patch
};

TEST(ThreeWayPatchTest, Table) {
  const ThreeWayCase cases[] = {
      {"statefulset image change is what kubectl sends", "apps/v1", "StatefulSet",
       R"({"spec":{"template":{"spec":{"containers":[{"name":"db","image":"postgres:16",
           "volumeMounts":[{"name":"data","mountPath":"/data"}]}]}}}})",
       R"({"spec":{"template":{"spec":{"containers":[{"name":"db","image":"postgres:17",
           "volumeMounts":[{"name":"data","mountPath":"/data"}]}]}}}})",
       R"({"spec":{"replicas":1,"template":{"spec":{"containers":[{"name":"db","image":"postgres:16",
           "imagePullPolicy":"IfNotPresent","volumeMounts":[{"name":"data","mountPath":"/data"}]}]}}},
           "status":{"replicas":1}})",
       R"({"spec":{"template":{"spec":{"$setElementOrder/containers":[{"name":"db"}],
           "containers":[{"image":"postgres:17","name":"db"}]}}}})",
       R"({"spec":{"replicas":1,"template":{"spec":{"containers":[{"name":"db","image":"postgres:17",
           "imagePullPolicy":"IfNotPresent","volumeMounts":[{"name":"data","mountPath":"/data"}]}]}}},
           "status":{"replicas":1}})"},
      {"field dropped from the manifest is deleted, others' fields kept", "v1",
       "PersistentVolumeClaim",
       R"({"metadata":{"name":"c","labels":{"a":"1","b":"2"}},"spec":{"resources":{"requests":{"storage":"1Gi"}}}})",
       R"({"metadata":{"name":"c","labels":{"a":"1"}},"spec":{"resources":{"requests":{"storage":"2Gi"}}}})",
       R"({"metadata":{"name":"c","labels":{"a":"1","b":"2","team":"x"},
           "annotations":{"pv.kubernetes.io/bind-completed":"yes"}},
           "spec":{"resources":{"requests":{"storage":"1Gi"}},"volumeName":"pv1"}})",
       R"({"metadata":{"labels":{"b":null}},"spec":{"resources":{"requests":{"storage":"2Gi"}}}})",
       R"({"metadata":{"name":"c","labels":{"a":"1","team":"x"},
           "annotations":{"pv.kubernetes.io/bind-completed":"yes"}},
           "spec":{"resources":{"requests":{"storage":"2Gi"}},"volumeName":"pv1"}})"},
      {"env var removed from the manifest", "v1", "Pod",
       R"({"spec":{"containers":[{"name":"app","env":[{"name":"A","value":"1"},{"name":"B","value":"2"}]}]}})",
       R"({"spec":{"containers":[{"name":"app","env":[{"name":"A","value":"1"}]}]}})",
       R"({"spec":{"containers":[{"name":"app","env":[{"name":"A","value":"1"},{"name":"B","value":"2"}],
           "terminationMessagePath":"/dev/termination-log"}]}})",
       R"({"spec":{"$setElementOrder/containers":[{"name":"app"}],"containers":[{"$setElementOrder/env":[{"name":"A"}],
           "env":[{"$patch":"delete","name":"B"}],"name":"app"}]}})",
       R"({"spec":{"containers":[{"name":"app","env":[{"name":"A","value":"1"}],
           "terminationMessagePath":"/dev/termination-log"}]}})"},
      {"finalizer removed, a controller's finalizer kept", "v1", "PersistentVolumeClaim",
       R"({"metadata":{"finalizers":["a","b"]}})", R"({"metadata":{"finalizers":["a"]}})",
       R"({"metadata":{"finalizers":["a","b","kubernetes.io/pvc-protection"]}})",
       R"({"metadata":{"$deleteFromPrimitiveList/finalizers":["b"],"$setElementOrder/finalizers":["a"]}})",
       R"({"metadata":{"finalizers":["a","kubernetes.io/pvc-protection"]}})"},
      {"container added", "v1", "Pod", R"({"spec":{"containers":[{"name":"a","image":"x"}]}})",
       R"({"spec":{"containers":[{"name":"a","image":"x"},{"name":"b","image":"y"}]}})",
       R"({"spec":{"containers":[{"name":"a","image":"x"}]}})",
       R"({"spec":{"$setElementOrder/containers":[{"name":"a"},{"name":"b"}],
           "containers":[{"image":"y","name":"b"}]}})",
       R"({"spec":{"containers":[{"name":"a","image":"x"},{"name":"b","image":"y"}]}})"},
      {"volume source switched builds $retainKeys", "v1", "Pod",
       R"({"spec":{"volumes":[{"name":"v","emptyDir":{}}]}})",
       R"({"spec":{"volumes":[{"name":"v","hostPath":{"path":"/x"}}]}})",
       R"({"spec":{"volumes":[{"name":"v","emptyDir":{}}]}})",
       R"({"spec":{"$setElementOrder/volumes":[{"name":"v"}],"volumes":[{"$retainKeys":["hostPath","name"],
           "emptyDir":null,"hostPath":{"path":"/x"},"name":"v"}]}})",
       R"({"spec":{"volumes":[{"name":"v","hostPath":{"path":"/x"}}]}})"},
      {"nothing to do", "v1", "ConfigMap", R"({"data":{"a":"1"}})", R"({"data":{"a":"1"}})",
       R"({"metadata":{"uid":"u"},"data":{"a":"1"}})", R"({})",
       R"({"metadata":{"uid":"u"},"data":{"a":"1"}})"},
      {"no last-applied: additions only", "v1", "ConfigMap", R"(null)", R"({"data":{"a":"2"}})",
       R"({"data":{"a":"1","b":"1"}})", R"({"data":{"a":"2"}})", R"({"data":{"a":"2","b":"1"}})"},
  };
  for (const auto& c : cases) {
    json current = json::parse(c.current);
    auto patch = CreateThreeWayStrategicPatch(json::parse(c.original), json::parse(c.modified),
                                              current, c.apiVersion, c.kind);
    ASSERT_TRUE(patch.ok()) << c.name << ": " << patch.status().ToString();
    EXPECT_EQ(*patch, json::parse(c.wantPatch)) << c.name << "\n got: " << patch->dump();
    auto result = ApplyStrategicMergePatch(current, *patch, c.apiVersion, c.kind);
    ASSERT_TRUE(result.ok()) << c.name << ": " << result.status().ToString();
    EXPECT_EQ(*result, json::parse(c.wantResult)) << c.name << "\n got: " << result->dump();
  }
}

TEST(ThreeWayPatchTest, RejectsNonObjects) {
  auto got =
      CreateThreeWayStrategicPatch(json::object(), json::array(), json::object(), "v1", "Pod");
  ASSERT_FALSE(got.ok());
  EXPECT_EQ(got.status().code(), Code::kBadRequest);
}

}  // namespace
}  // namespace kvol::patch
