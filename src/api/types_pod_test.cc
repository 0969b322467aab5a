// Pod manifests from Kubernetes' documentation (concepts/storage/volumes, projected volumes,
// downward API, ephemeral volumes), one per volume type: each must decode with no unknown field,
// encode back to exactly the same JSON, and be valid once defaulted. Also the scheme entries of
// the Pod-side kinds.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "kvol/api/defaults.h"
#include "kvol/api/scheme.h"
#include "kvol/api/types_pod.h"
#include "kvol/api/validation.h"
#include "kvol/api/yaml.h"

namespace kvol::api {
namespace {

json PodWith(const std::string& volumeJson, const std::string& mountJson,
             const std::string& image = "registry.k8s.io/test-webserver") {
  return json::parse(
      R"({"apiVersion":"v1","kind":"Pod","metadata":{"name":"test-pd","namespace":"default"},
    "spec":{"containers":[{"name":"test-container","image":")" +
      image + R"(","volumeMounts":[)" + mountJson + R"(]}],"volumes":[)" + volumeJson + "]}}");
}

struct Manifest {
  const char* name;
  json pod;
};

std::vector<Manifest> DocManifests() {
  return {
      {"emptyDir",
       PodWith(R"({"name":"cache-volume","emptyDir":{"medium":"Memory","sizeLimit":"500Mi"}})",
               R"({"mountPath":"/cache","name":"cache-volume"})")},
      {"hostPath",
       PodWith(R"({"name":"test-volume","hostPath":{"path":"/data","type":"Directory"}})",
               R"({"mountPath":"/test-pd","name":"test-volume"})")},
      {"gitRepo",
       PodWith(
           R"({"name":"git-volume","gitRepo":{"repository":"git@somewhere:me/my-git-repository.git",
                   "revision":"22f1d8406d464b0c0874075539c1f2e96c253775"}})",
           R"({"mountPath":"/mypath","name":"git-volume"})")},
      {"nfs", PodWith(R"({"name":"test-volume","nfs":{"server":"my-nfs-server.example.com",
                          "path":"/my-nfs-volume","readOnly":true}})",
                      R"({"mountPath":"/my-nfs-data","name":"test-volume"})")},
      {"configMap", PodWith(R"({"name":"config-vol","configMap":{"name":"log-config",
                   "items":[{"key":"log_level","path":"log_level.conf"}]}})",
                            R"({"name":"config-vol","mountPath":"/etc/config"})", "busybox:1.28")},
      {"secret", PodWith(R"({"name":"foo","secret":{"secretName":"mysecret",
                             "items":[{"key":"username","path":"my-group/my-username","mode":256}]}})",
                         R"({"name":"foo","mountPath":"/etc/foo","readOnly":true})", "redis")},
      {"persistentVolumeClaim",
       PodWith(R"({"name":"mypd","persistentVolumeClaim":{"claimName":"myclaim"}})",
               R"({"mountPath":"/var/www/html","name":"mypd"})", "nginx")},
      {"awsElasticBlockStore",
       PodWith(R"({"name":"test-volume","awsElasticBlockStore":{"volumeID":"vol-0123456789abcdef0",
                   "fsType":"ext4"}})",
               R"({"mountPath":"/test-ebs","name":"test-volume"})")},
      {"gcePersistentDisk",
       PodWith(
           R"({"name":"test-volume","gcePersistentDisk":{"pdName":"my-data-disk","fsType":"ext4"}})",
           R"({"mountPath":"/test-pd","name":"test-volume"})")},
      {"azureDisk", PodWith(R"({"name":"azure","azureDisk":{"kind":"Managed","diskName":"myAKSDisk",
                   "diskURI":"/subscriptions/sub/resourceGroups/rg/providers/Microsoft.Compute/disks/myAKSDisk",
                   "cachingMode":"ReadOnly","fsType":"ext4","readOnly":false}})",
                            R"({"name":"azure","mountPath":"/mnt/azure"})", "nginx")},
      {"csi", PodWith(R"({"name":"my-csi-inline-vol","csi":{"driver":"inline.storage.kubernetes.io",
                          "volumeAttributes":{"foo":"bar"},"nodePublishSecretRef":{"name":"csi-secret"}}})",
                      R"({"name":"my-csi-inline-vol","mountPath":"/data"})", "busybox:1.28")},
      {"projected",
       PodWith(R"({"name":"all-in-one","projected":{"sources":[
                   {"secret":{"name":"mysecret","items":[{"key":"username","path":"my-group/my-username"}]}},
                   {"downwardAPI":{"items":[{"path":"labels","fieldRef":{"fieldPath":"metadata.labels"}},
                     {"path":"cpu_limit","resourceFieldRef":{"containerName":"container-test","resource":"limits.cpu"}}]}},
                   {"configMap":{"name":"myconfigmap","items":[{"key":"config","path":"my-group/my-config"}]}}]}})",
               R"({"name":"all-in-one","mountPath":"/projected-volume","readOnly":true})",
               "busybox:1.28")},
      {"downwardAPI", PodWith(R"({"name":"podinfo","downwardAPI":{"items":[
                   {"path":"labels","fieldRef":{"fieldPath":"metadata.labels"}},
                   {"path":"annotations","fieldRef":{"fieldPath":"metadata.annotations"}}]}})",
                              R"({"name":"podinfo","mountPath":"/etc/podinfo"})",
                              "registry.k8s.io/busybox:1.27.2")},
      {"ephemeral", PodWith(R"({"name":"scratch-volume","ephemeral":{"volumeClaimTemplate":{
                   "metadata":{"labels":{"type":"my-frontend-volume"}},
                   "spec":{"accessModes":["ReadWriteOnce"],"storageClassName":"scratch-storage-class",
                           "resources":{"requests":{"storage":"1Gi"}}}}}})",
                            R"({"mountPath":"/scratch","name":"scratch-volume"})", "busybox:1.28")},
  };
}

TEST(TypesPod, EveryDocumentedVolumeTypeRoundTripsExactly) {
  const KindOps* pods = Scheme::Default().ByKind("v1", "Pod");
  ASSERT_NE(pods, nullptr);
  for (const auto& m : DocManifests()) {
    SCOPED_TRACE(m.name);
    Decoded d = pods->Normalize(m.pod);
    EXPECT_THAT(d.unknownFields, testing::IsEmpty());
    EXPECT_THAT(Join(d.errors), "");
    EXPECT_EQ(d.object, m.pod) << d.object.dump();
  }
}

TEST(TypesPod, EveryDocumentedVolumeTypeIsValidOnceDefaulted) {
  const KindOps* pods = Scheme::Default().ByKind("v1", "Pod");
  ASSERT_NE(pods, nullptr);
  for (const auto& m : DocManifests()) {
    SCOPED_TRACE(m.name);
    json defaulted = pods->Default(pods->Normalize(m.pod).object);
    EXPECT_EQ(Join(pods->ValidateCreate(defaulted)), "");
  }
}

// The secret example of concepts/configuration/secret, as YAML: octal modes and every field kept.
TEST(TypesPod, YamlManifestFromTheDocsRoundTrips) {
  auto docs = ParseYaml(R"(apiVersion: v1
kind: Pod
metadata:
  name: mypod
spec:
  containers:
  - name: mypod
    image: redis
    volumeMounts:
    - name: foo
      mountPath: "/etc/foo"
      readOnly: true
  volumes:
  - name: foo
    secret:
      secretName: mysecret
      defaultMode: 0400
      items:
      - key: username
        path: my-group/my-username
        mode: 0777
      optional: false
)");
  ASSERT_TRUE(docs.ok());
  ASSERT_EQ(docs->size(), 1u);
  const json& in = (*docs)[0];
  EXPECT_EQ(in["spec"]["volumes"][0]["secret"]["defaultMode"], 256);
  Decoded d = Scheme::Default().ByKind("v1", "Pod")->Normalize(in);
  EXPECT_THAT(d.unknownFields, testing::IsEmpty());
  EXPECT_EQ(d.object, in);  // optional: false survives
}

TEST(TypesPod, EmptyDirWithoutFieldsStaysAnEmptyObject) {
  json in = PodWith(R"({"name":"v","emptyDir":{}})", R"({"name":"v","mountPath":"/v"})");
  const KindOps* pods = Scheme::Default().ByKind("v1", "Pod");
  json out = pods->Default(pods->Normalize(in).object);
  EXPECT_EQ(out["spec"]["volumes"][0], json::parse(R"({"name":"v","emptyDir":{}})"));
}

TEST(TypesPod, ContainerStatusZeroesAreWrittenAsKubernetesDoes) {
  // Go's ContainerStatus.ready/restartCount and ContainerStateTerminated.exitCode have no
  // omitempty: `kubectl get pod -o jsonpath={..exitCode}` of a container that exited 0 prints 0.
  ContainerStatus cs;
  cs.name = "app";
  cs.state.terminated = ContainerStateTerminated{};
  cs.state.terminated->reason = "Completed";
  json j = ToJson(cs);
  EXPECT_EQ(j, json::parse(R"({"name":"app","ready":false,"restartCount":0,
                               "state":{"terminated":{"exitCode":0,"reason":"Completed"}},
                               "lastState":{}})"));
}

TEST(TypesPod, UnknownVolumeFieldIsReportedWithItsPath) {
  json in = PodWith(R"({"name":"v","hostPath":{"path":"/x","tipe":"Directory"}})",
                    R"({"name":"v","mountPath":"/v"})");
  Decoded d = Scheme::Default().ByKind("v1", "Pod")->Normalize(in);
  EXPECT_EQ(d.unknownFields, std::vector<std::string>{"spec.volumes[0].hostPath.tipe"});
}

TEST(TypesPod, WorkloadKindsRoundTrip) {
  json sts = json::parse(R"({"apiVersion":"apps/v1","kind":"StatefulSet",
    "metadata":{"name":"web","namespace":"default"},
    "spec":{"serviceName":"nginx","replicas":0,"minReadySeconds":10,
      "selector":{"matchLabels":{"app":"nginx"}},
      "template":{"metadata":{"labels":{"app":"nginx"}},"spec":{"terminationGracePeriodSeconds":10,
        "containers":[{"name":"nginx","image":"registry.k8s.io/nginx-slim:0.24",
          "ports":[{"containerPort":80,"name":"web"}],
          "volumeMounts":[{"name":"www","mountPath":"/usr/share/nginx/html"}]}]}},
      "volumeClaimTemplates":[{"metadata":{"name":"www"},"spec":{"accessModes":["ReadWriteOnce"],
        "storageClassName":"my-storage-class","resources":{"requests":{"storage":"1Gi"}}}}]}})");
  Decoded d = Scheme::Default().ByKind("apps/v1", "StatefulSet")->Normalize(sts);
  EXPECT_THAT(d.unknownFields, testing::IsEmpty());
  EXPECT_EQ(d.object, sts);  // replicas: 0 survives
}

TEST(TypesPod, SchemeKnowsThePodSideKinds) {
  const Scheme& s = Scheme::Default();
  struct Want {
    const char* name;
    const char* kind;
    bool namespaced;
  };
  for (const Want& w :
       {Want{"po", "Pod", true}, Want{"ns", "Namespace", false}, Want{"no", "Node", false},
        Want{"cm", "ConfigMap", true}, Want{"secrets", "Secret", true}, Want{"ev", "Event", true},
        Want{"sts", "StatefulSet", true}, Want{"deploy", "Deployment", true},
        Want{"pvc", "PersistentVolumeClaim", true}}) {
    SCOPED_TRACE(w.name);
    const KindOps* k = s.ByName(w.name);
    ASSERT_NE(k, nullptr);
    EXPECT_EQ(k->info().kind, w.kind);
    EXPECT_EQ(k->info().namespaced, w.namespaced);
  }
  const ResourceInfo& pod = s.ByResource("", "v1", "pods")->info();
  EXPECT_TRUE(pod.hasStatus);
  EXPECT_EQ(pod.categories, std::vector<std::string>{"all"});
  EXPECT_THAT(pod.selectableFields, testing::Contains("spec.nodeName"));
  EXPECT_THAT(pod.selectableFields, testing::Contains("status.nominatedNodeName"));
  EXPECT_EQ(s.ByResource("apps", "v1", "statefulsets")->info().categories,
            std::vector<std::string>{"all"});
  EXPECT_THAT(s.ByName("secret")->info().selectableFields, testing::ElementsAre("type"));
  EXPECT_THAT(s.ByName("events")->info().selectableFields, testing::Contains("involvedObject.uid"));
  EXPECT_EQ(s.ByName("deployments.apps")->info().ApiVersion(), "apps/v1");
}

}  // namespace
}  // namespace kvol::api
