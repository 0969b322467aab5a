// Defaulting of the Pod-side kinds: the exact objects Kubernetes' defaulters produce.
#include <gtest/gtest.h>

#include "kvol/api/defaults.h"
#include "kvol/api/scheme.h"

namespace kvol::api {
namespace {

template <class T>
T Parse(const char* j) {
  return FromJsonLoose<T>(json::parse(j));
}

TEST(DefaultsPod, MinimalPodGetsKubernetesDefaults) {
  Pod pod = Parse<Pod>(R"({"metadata":{"name":"p"},"spec":{"containers":[
      {"name":"c","image":"busybox","ports":[{"containerPort":80}],
       "resources":{"limits":{"cpu":"500m","memory":"128Mi"}}}]}})");
  DefaultPod(pod);
  EXPECT_EQ(ToJson(pod), json::parse(R"({"metadata":{"name":"p"},"spec":{
      "containers":[{"name":"c","image":"busybox","ports":[{"containerPort":80,"protocol":"TCP"}],
        "resources":{"limits":{"cpu":"500m","memory":"128Mi"},"requests":{"cpu":"500m","memory":"128Mi"}},
        "terminationMessagePath":"/dev/termination-log","terminationMessagePolicy":"File",
        "imagePullPolicy":"Always"}],
      "restartPolicy":"Always","terminationGracePeriodSeconds":30,"dnsPolicy":"ClusterFirst",
      "securityContext":{},"schedulerName":"default-scheduler","enableServiceLinks":true},
      "status":{"phase":"Pending","qosClass":"Guaranteed"}})"));
  Pod again = pod;
  DefaultPod(again);
  EXPECT_EQ(ToJson(again), ToJson(pod));  // idempotent
}

TEST(DefaultsPod, UserValuesAreKept) {
  Pod pod = Parse<Pod>(R"({"spec":{"restartPolicy":"Never","terminationGracePeriodSeconds":0,
      "dnsPolicy":"Default","schedulerName":"mine","enableServiceLinks":false,
      "containers":[{"name":"c","image":"busybox","imagePullPolicy":"Never",
      "terminationMessagePolicy":"FallbackToLogsOnError"}]}})");
  DefaultPod(pod);
  EXPECT_EQ(pod.spec.restartPolicy, "Never");
  EXPECT_EQ(pod.spec.terminationGracePeriodSeconds, 0);
  EXPECT_EQ(pod.spec.dnsPolicy, "Default");
  EXPECT_EQ(pod.spec.schedulerName, "mine");
  EXPECT_EQ(pod.spec.enableServiceLinks, false);
  EXPECT_EQ(pod.spec.containers[0].imagePullPolicy, "Never");
  EXPECT_EQ(pod.spec.containers[0].terminationMessagePolicy, "FallbackToLogsOnError");
  EXPECT_EQ(pod.status.qosClass, "BestEffort");
}

TEST(DefaultsPod, ImagePullPolicyFollowsTheTag) {
  EXPECT_EQ(DefaultImagePullPolicy("busybox"), "Always");
  EXPECT_EQ(DefaultImagePullPolicy("busybox:latest"), "Always");
  EXPECT_EQ(DefaultImagePullPolicy("busybox:1.36"), "IfNotPresent");
  EXPECT_EQ(DefaultImagePullPolicy("localhost:5000/busybox"), "Always");
  EXPECT_EQ(DefaultImagePullPolicy("localhost:5000/busybox:v2"), "IfNotPresent");
  EXPECT_EQ(DefaultImagePullPolicy("busybox@sha256:0123456789abcdef"), "IfNotPresent");
  EXPECT_EQ(DefaultImagePullPolicy("busybox:latest@sha256:0123456789abcdef"), "Always");
}

TEST(DefaultsPod, VolumesGetModesTypesAndClaimModes) {
  Pod pod = Parse<Pod>(R"({"spec":{"containers":[{"name":"c","image":"x:1"}],"volumes":[
      {"name":"cm","configMap":{"name":"a"}},
      {"name":"s","secret":{"secretName":"b","defaultMode":256}},
      {"name":"d","downwardAPI":{"items":[{"path":"n","fieldRef":{"fieldPath":"metadata.name"}}]}},
      {"name":"p","projected":{"sources":[{"serviceAccountToken":{"path":"token"}}]}},
      {"name":"h","hostPath":{"path":"/data"}},
      {"name":"e","emptyDir":{}},
      {"name":"none"},
      {"name":"eph","ephemeral":{"volumeClaimTemplate":{"spec":{"accessModes":["ReadWriteOnce"]}}}}]}})");
  DefaultPod(pod);
  EXPECT_EQ(ToJson(pod.spec.volumes), json::parse(R"([
      {"name":"cm","configMap":{"name":"a","defaultMode":420}},
      {"name":"s","secret":{"secretName":"b","defaultMode":256}},
      {"name":"d","downwardAPI":{"items":[{"path":"n","fieldRef":{"apiVersion":"v1","fieldPath":"metadata.name"}}],"defaultMode":420}},
      {"name":"p","projected":{"sources":[{"serviceAccountToken":{"path":"token","expirationSeconds":3600}}],"defaultMode":420}},
      {"name":"h","hostPath":{"path":"/data","type":""}},
      {"name":"e","emptyDir":{}},
      {"name":"none","emptyDir":{}},
      {"name":"eph","ephemeral":{"volumeClaimTemplate":{"spec":{"accessModes":["ReadWriteOnce"],"volumeMode":"Filesystem"}}}}])"));
}

TEST(DefaultsPod, ProbesGetTimeoutsAndHttpDefaults) {
  Container c =
      Parse<Container>(R"({"name":"c","image":"x","livenessProbe":{"httpGet":{"port":8080}}})");
  DefaultContainer(c);
  EXPECT_EQ(ToJson(*c.livenessProbe),
            json::parse(R"({"httpGet":{"path":"/","port":8080,"scheme":"HTTP"},
      "timeoutSeconds":1,"periodSeconds":10,"successThreshold":1,"failureThreshold":3})"));
}

TEST(DefaultsPod, HostNetworkCopiesContainerPortsToHostPorts) {
  Pod pod = Parse<Pod>(
      R"({"spec":{"hostNetwork":true,"containers":[{"name":"c","image":"x","ports":[{"containerPort":8080}]}]}})");
  DefaultPod(pod);
  EXPECT_EQ(pod.spec.containers[0].ports[0].hostPort, 8080);
}

TEST(DefaultsPod, BurstableWhenOnlyRequests) {
  Pod pod = Parse<Pod>(
      R"({"spec":{"containers":[{"name":"c","image":"x","resources":{"requests":{"cpu":"1"}}}]}})");
  DefaultPod(pod);
  EXPECT_EQ(pod.status.qosClass, "Burstable");
}

TEST(DefaultsPod, SecretStringDataIsFoldedIntoDataAndWins) {
  Secret s = Parse<Secret>(R"({"metadata":{"name":"s"},"data":{"a":"b2xk","keep":"eA=="},
      "stringData":{"a":"new","b":"hello world","c":"ab"}})");
  DefaultSecret(s);
  EXPECT_EQ(ToJson(s), json::parse(R"({"metadata":{"name":"s"},"type":"Opaque",
      "data":{"a":"bmV3","b":"aGVsbG8gd29ybGQ=","c":"YWI=","keep":"eA=="}})"));
  EXPECT_EQ(Base64Encode(""), "");
  EXPECT_EQ(Base64Encode("f"), "Zg==");
  EXPECT_EQ(Base64Encode("foobar"), "Zm9vYmFy");
}

TEST(DefaultsPod, NamespaceIsActiveWithTheKubernetesFinalizer) {
  Namespace ns = Parse<Namespace>(R"({"metadata":{"name":"team"}})");
  DefaultNamespace(ns);
  EXPECT_EQ(ToJson(ns),
            json::parse(R"({"metadata":{"name":"team"},"spec":{"finalizers":["kubernetes"]},
      "status":{"phase":"Active"}})"));
  DefaultNamespace(ns);
  EXPECT_EQ(ns.spec.finalizers.size(), 1u);
}

TEST(DefaultsPod, NodeAllocatableDefaultsToCapacity) {
  Node n = Parse<Node>(R"({"status":{"capacity":{"cpu":"2","memory":"4Gi"}}})");
  DefaultNode(n);
  EXPECT_EQ(ToJson(n.status.allocatable), json::parse(R"({"cpu":"2","memory":"4Gi"})"));
}

TEST(DefaultsApps, StatefulSetDefaults) {
  StatefulSet sts = Parse<StatefulSet>(R"({"metadata":{"name":"web"},"spec":{
      "selector":{"matchLabels":{"app":"web"}},"serviceName":"web",
      "template":{"metadata":{"labels":{"app":"web"}},"spec":{"containers":[{"name":"c","image":"nginx:1.25"}]}},
      "volumeClaimTemplates":[{"metadata":{"name":"www"},"spec":{"accessModes":["ReadWriteOnce"],
        "resources":{"requests":{"storage":"1Gi"}}}}]}})");
  DefaultStatefulSet(sts);
  EXPECT_EQ(ToJson(sts.spec), json::parse(R"({"replicas":1,"selector":{"matchLabels":{"app":"web"}},
      "template":{"metadata":{"labels":{"app":"web"}},"spec":{"containers":[{"name":"c","image":"nginx:1.25",
        "terminationMessagePath":"/dev/termination-log","terminationMessagePolicy":"File",
        "imagePullPolicy":"IfNotPresent"}],"restartPolicy":"Always","terminationGracePeriodSeconds":30,
        "dnsPolicy":"ClusterFirst","securityContext":{},"schedulerName":"default-scheduler"}},
      "volumeClaimTemplates":[{"metadata":{"name":"www"},"spec":{"accessModes":["ReadWriteOnce"],
        "resources":{"requests":{"storage":"1Gi"}},"volumeMode":"Filesystem"},"status":{"phase":"Pending"}}],
      "serviceName":"web","podManagementPolicy":"OrderedReady",
      "updateStrategy":{"type":"RollingUpdate","rollingUpdate":{"partition":0}},
      "revisionHistoryLimit":10,
      "persistentVolumeClaimRetentionPolicy":{"whenDeleted":"Retain","whenScaled":"Retain"}})"));
}

TEST(DefaultsApps, DeploymentDefaults) {
  Deployment d = Parse<Deployment>(R"({"metadata":{"name":"web"},"spec":{
      "selector":{"matchLabels":{"app":"web"}},
      "template":{"metadata":{"labels":{"app":"web"}},"spec":{"containers":[{"name":"c","image":"nginx"}]}}}})");
  DefaultDeployment(d);
  json spec = ToJson(d.spec);
  EXPECT_EQ(spec["replicas"], 1);
  EXPECT_EQ(
      spec["strategy"],
      json::parse(
          R"({"type":"RollingUpdate","rollingUpdate":{"maxUnavailable":"25%","maxSurge":"25%"}})"));
  EXPECT_EQ(spec["revisionHistoryLimit"], 10);
  EXPECT_EQ(spec["progressDeadlineSeconds"], 600);
  EXPECT_EQ(spec["template"]["spec"]["containers"][0]["imagePullPolicy"], "Always");
  EXPECT_FALSE(spec["template"]["spec"].contains("enableServiceLinks"));  // Pods only
}

TEST(DefaultsApps, RecreateDeploymentGetsNoRollingUpdate) {
  Deployment d = Parse<Deployment>(R"({"spec":{"strategy":{"type":"Recreate"}}})");
  DefaultDeployment(d);
  EXPECT_FALSE(d.spec.strategy.rollingUpdate.has_value());
}

TEST(DefaultsPod, SchemeDefaultRunsTheDefaulter) {
  const KindOps* secrets = Scheme::Default().ByName("secret");
  json out = secrets->Default(json::parse(
      R"({"apiVersion":"v1","kind":"Secret","metadata":{"name":"s"},"stringData":{"k":"v"}})"));
  EXPECT_EQ(
      out,
      json::parse(
          R"({"apiVersion":"v1","kind":"Secret","metadata":{"name":"s"},"data":{"k":"dg=="},"type":"Opaque"})"));
}

}  // namespace
}  // namespace kvol::api
