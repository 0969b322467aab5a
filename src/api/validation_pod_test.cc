// Validation of the Pod-side kinds: each rule with the exact line Kubernetes prints.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "kvol/api/defaults.h"
#include "kvol/api/scheme.h"
#include "kvol/api/validation.h"

namespace kvol::api {
namespace {

using testing::Contains;
using testing::ElementsAre;
using testing::HasSubstr;
using testing::IsEmpty;

std::vector<std::string> Lines(const ErrorList& errs) {
  std::vector<std::string> out;
  for (const auto& e : errs) out.push_back(e.ToString());
  return out;
}

// A defaulted, valid pod; `volumes` and `mounts` are JSON arrays.
Pod MakePod(const std::string& volumes = "[]", const std::string& mounts = "[]",
            const std::string& devices = "[]") {
  Pod p = FromJsonLoose<Pod>(json::parse(R"({"metadata":{"name":"p","namespace":"default"},
      "spec":{"containers":[{"name":"c","image":"busybox:1.36","volumeMounts":)" +
                                         mounts + R"(,"volumeDevices":)" + devices +
                                         R"(}],"volumes":)" + volumes + "}}"));
  DefaultPod(p);
  return p;
}

std::vector<std::string> PodErrors(const std::string& volumes, const std::string& mounts = "[]",
                                   const std::string& devices = "[]") {
  return Lines(ValidatePod(MakePod(volumes, mounts, devices)));
}

TEST(ValidatePod, ValidPodHasNoErrors) {
  EXPECT_THAT(
      PodErrors(R"([{"name":"data","emptyDir":{}}])", R"([{"name":"data","mountPath":"/data"}])"),
      IsEmpty());
}

TEST(ValidatePod, VolumeNamesAreUniqueDNSLabels) {
  EXPECT_THAT(PodErrors(R"([{"name":"data","emptyDir":{}},{"name":"data","emptyDir":{}}])"),
              ElementsAre("spec.volumes[1].name: Duplicate value: \"data\""));
  EXPECT_THAT(
      PodErrors(R"([{"name":"Data_1","emptyDir":{}}])"),
      ElementsAre("spec.volumes[0].name: Invalid value: \"Data_1\": a lowercase RFC 1123 "
                  "label must consist of lower case alphanumeric characters or '-', and "
                  "must start and end with an alphanumeric character (e.g. 'my-name',  or "
                  "'123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')"));
  EXPECT_THAT(PodErrors(R"([{"name":"","emptyDir":{}}])"),
              ElementsAre("spec.volumes[0].name: Required value"));
}

TEST(ValidatePod, ExactlyOneVolumeSource) {
  EXPECT_THAT(
      PodErrors(R"([{"name":"v","emptyDir":{},"hostPath":{"path":"/x"}}])"),
      ElementsAre("spec.volumes[0].hostPath: Forbidden: may not specify more than 1 volume type"));
  Pod p = MakePod(R"([{"name":"v","emptyDir":{}}])");
  p.spec.volumes[0].emptyDir.reset();  // what a client sends without defaulting
  EXPECT_THAT(Lines(ValidatePod(p)),
              ElementsAre("spec.volumes[0]: Required value: must specify a volume type"));
}

TEST(ValidatePod, HostPath) {
  EXPECT_THAT(PodErrors(R"([{"name":"v","hostPath":{"path":""}}])"),
              ElementsAre("spec.volumes[0].hostPath.path: Required value"));
  EXPECT_THAT(
      PodErrors(R"([{"name":"v","hostPath":{"path":"/a/../etc"}}])"),
      ElementsAre(
          "spec.volumes[0].hostPath.path: Invalid value: \"/a/../etc\": must not contain '..'"));
  EXPECT_THAT(
      PodErrors(R"([{"name":"v","hostPath":{"path":"/x","type":"Dir"}}])"),
      ElementsAre("spec.volumes[0].hostPath.type: Unsupported value: \"Dir\": supported values: "
                  "\"\", \"BlockDevice\", \"CharDevice\", \"Directory\", \"DirectoryOrCreate\", "
                  "\"File\", \"FileOrCreate\", \"Socket\""));
}

TEST(ValidatePod, EmptyDir) {
  EXPECT_THAT(PodErrors(R"([{"name":"v","emptyDir":{"medium":"Disk"}}])"),
              ElementsAre("spec.volumes[0].emptyDir.medium: Unsupported value: \"Disk\": supported "
                          "values: \"\", \"Memory\""));
  EXPECT_THAT(PodErrors(R"([{"name":"v","emptyDir":{"sizeLimit":"-1Gi"}}])"),
              ElementsAre("spec.volumes[0].emptyDir.sizeLimit: Forbidden: SizeLimit field must be "
                          "a valid resource quantity"));
}

TEST(ValidatePod, ItemPathsAndModes) {
  EXPECT_THAT(
      PodErrors(R"([{"name":"v","configMap":{"name":"c","items":[{"key":"k","path":"../x"}]}}])"),
      ElementsAre("spec.volumes[0].configMap.items[0].path: Invalid value: \"../x\": must not "
                  "contain '..'"));
  EXPECT_THAT(
      PodErrors(
          R"([{"name":"v","secret":{"secretName":"s","items":[{"key":"k","path":"/etc/x"}]}}])"),
      ElementsAre("spec.volumes[0].secret.items[0].path: Invalid value: \"/etc/x\": must be a "
                  "relative path"));
  EXPECT_THAT(
      PodErrors(R"([{"name":"v","configMap":{"name":"c","items":[{"key":"k","path":"..x"}]}}])"),
      ElementsAre("spec.volumes[0].configMap.items[0].path: Invalid value: \"..x\": must not start "
                  "with '..'"));
  EXPECT_THAT(PodErrors(R"([{"name":"v","secret":{"secretName":"s","defaultMode":512}}])"),
              ElementsAre("spec.volumes[0].secret.defaultMode: Invalid value: 512: must be a "
                          "number between 0 and 0777 (octal), both inclusive"));
  EXPECT_THAT(
      PodErrors(
          R"([{"name":"v","configMap":{"name":"c","items":[{"key":"k","path":"p","mode":-1}]}}])"),
      ElementsAre("spec.volumes[0].configMap.items[0].mode: Invalid value: -1: must be a number "
                  "between 0 and 0777 (octal), both inclusive"));
  EXPECT_THAT(PodErrors(R"([{"name":"v","configMap":{}}])"),
              ElementsAre("spec.volumes[0].configMap.name: Required value"));
  EXPECT_THAT(
      PodErrors(
          R"([{"name":"v","projected":{"sources":[{"configMap":{"name":"a","items":[{"key":"k","path":"../p"}]}}]}}])"),
      ElementsAre("spec.volumes[0].projected.sources[0].configMap.items[0].path: Invalid value: "
                  "\"../p\": must not contain '..'"));
  EXPECT_THAT(
      PodErrors(
          R"([{"name":"v","downwardAPI":{"items":[{"path":"../n","fieldRef":{"fieldPath":"metadata.name"}}]}}])"),
      ElementsAre(
          "spec.volumes[0].downwardAPI.path: Invalid value: \"../n\": must not contain '..'"));
  EXPECT_THAT(
      PodErrors(
          R"([{"name":"v","downwardAPI":{"items":[{"path":"n","fieldRef":{"fieldPath":"spec.nodeName"}}]}}])"),
      ElementsAre("spec.volumes[0].downwardAPI.fieldRef.fieldPath: Unsupported value: "
                  "\"spec.nodeName\": supported values: "
                  "\"metadata.annotations\", \"metadata.labels\", \"metadata.name\", "
                  "\"metadata.namespace\", \"metadata.uid\""));
}

TEST(ValidatePod, GitRepoNfsClaimCsiEphemeral) {
  EXPECT_THAT(
      PodErrors(R"([{"name":"v","gitRepo":{"repository":"r","directory":"a/../.."}}])"),
      ElementsAre(
          "spec.volumes[0].gitRepo.directory: Invalid value: \"a/../..\": must not contain '..'"));
  EXPECT_THAT(
      PodErrors(R"([{"name":"v","nfs":{"server":"","path":"exports"}}])"),
      ElementsAre(
          "spec.volumes[0].nfs.server: Required value",
          "spec.volumes[0].nfs.path: Invalid value: \"exports\": must be an absolute path"));
  EXPECT_THAT(PodErrors(R"([{"name":"v","persistentVolumeClaim":{"claimName":""}}])"),
              ElementsAre("spec.volumes[0].persistentVolumeClaim.claimName: Required value"));
  EXPECT_THAT(PodErrors(R"([{"name":"v","csi":{"driver":""}}])"),
              Contains("spec.volumes[0].csi.driver: Required value"));
  EXPECT_THAT(PodErrors(R"([{"name":"v","ephemeral":{}}])"),
              ElementsAre("spec.volumes[0].ephemeral.volumeClaimTemplate: Required value"));
  EXPECT_THAT(
      PodErrors(R"([{"name":"v","ephemeral":{"volumeClaimTemplate":{"metadata":{"name":"x"},
                 "spec":{"accessModes":["ReadWriteOnce"],"resources":{"requests":{"storage":"1Gi"}}}}}}])"),
      ElementsAre(
          "spec.volumes[0].ephemeral.volumeClaimTemplate.metadata.name: Forbidden: cannot be set"));
  EXPECT_THAT(PodErrors(R"([{"name":"v","gcePersistentDisk":{"pdName":""}}])"),
              ElementsAre("spec.volumes[0].persistentDisk.pdName: Required value"));
}

TEST(ValidatePod, VolumeMounts) {
  EXPECT_THAT(PodErrors("[]", R"([{"name":"x","mountPath":"/x"}])"),
              ElementsAre("spec.containers[0].volumeMounts[0].name: Not found: \"x\""));
  const char* vols = R"([{"name":"v","emptyDir":{}},{"name":"w","emptyDir":{}}])";
  EXPECT_THAT(PodErrors(vols, R"([{"name":"v","mountPath":""}])"),
              ElementsAre("spec.containers[0].volumeMounts[0].mountPath: Required value"));
  EXPECT_THAT(PodErrors(vols, R"([{"name":"v","mountPath":"data"}])"),
              ElementsAre("spec.containers[0].volumeMounts[0].mountPath: Invalid value: \"data\": "
                          "must be an absolute path"));
  EXPECT_THAT(
      PodErrors(vols, R"([{"name":"v","mountPath":"/d"},{"name":"w","mountPath":"/d"}])"),
      ElementsAre(
          "spec.containers[0].volumeMounts[1].mountPath: Invalid value: \"/d\": must be unique"));
  EXPECT_THAT(PodErrors(vols, R"([{"name":"v","mountPath":"/d","subPath":"../up"}])"),
              ElementsAre("spec.containers[0].volumeMounts.subPath: Invalid value: \"../up\": must "
                          "not contain '..'"));
  EXPECT_THAT(PodErrors(vols, R"([{"name":"v","mountPath":"/d","subPath":"/abs"}])"),
              ElementsAre("spec.containers[0].volumeMounts.subPath: Invalid value: \"/abs\": must "
                          "be a relative path"));
  EXPECT_THAT(
      PodErrors(vols, R"j([{"name":"v","mountPath":"/d","subPath":"a","subPathExpr":"$(POD)"}])j"),
      ElementsAre("spec.containers[0].volumeMounts[0].subPathExpr: Invalid value: \"$(POD)\": "
                  "subPathExpr and subPath are mutually exclusive"));
  EXPECT_THAT(
      PodErrors(vols, R"([{"name":"v","mountPath":"/d","mountPropagation":"Sideways"}])"),
      ElementsAre(
          "spec.containers[0].volumeMounts.mountPropagation: Unsupported value: \"Sideways\": "
          "supported values: \"Bidirectional\", \"HostToContainer\", \"None\""));
  EXPECT_THAT(
      PodErrors(vols, R"([{"name":"v","mountPath":"/d","mountPropagation":"Bidirectional"}])"),
      ElementsAre("spec.containers[0].volumeMounts.mountPropagation: Forbidden: Bidirectional "
                  "mount propagation is available only to privileged containers"));
}

TEST(ValidatePod, VolumeDevices) {
  const char* vols =
      R"([{"name":"blk","persistentVolumeClaim":{"claimName":"c"}},{"name":"e","emptyDir":{}}])";
  EXPECT_THAT(PodErrors(vols, "[]", R"([{"name":"blk","devicePath":"/dev/xvda"}])"), IsEmpty());
  EXPECT_THAT(
      PodErrors(vols, "[]", R"([{"name":"e","devicePath":"/dev/xvda"}])"),
      ElementsAre("spec.containers[0].volumeDevices[0].name: Invalid value: \"e\": can only use "
                  "volume source type of PersistentVolumeClaim or Ephemeral for block mode"));
  EXPECT_THAT(PodErrors(vols, "[]", R"([{"name":"blk","devicePath":"dev/xvda"}])"),
              ElementsAre("spec.containers[0].volumeDevices[0].devicePath: Invalid value: "
                          "\"dev/xvda\": must be an absolute path"));
  EXPECT_THAT(PodErrors(vols, R"([{"name":"blk","mountPath":"/data"}])",
                        R"([{"name":"blk","devicePath":"/dev/xvda"}])"),
              ElementsAre("spec.containers[0].volumeMounts[0].name: Invalid value: \"blk\": must "
                          "not already exist in volumeDevices",
                          "spec.containers[0].volumeDevices[0].name: Invalid value: \"blk\": must "
                          "not already exist in volumeMounts"));
}

TEST(ValidatePod, Containers) {
  Pod p = MakePod();
  p.spec.containers.push_back(p.spec.containers[0]);
  p.spec.containers[0].image = "";
  p.spec.containers[0].imagePullPolicy = "Sometimes";
  p.spec.containers[0].env = {EnvVar{"", "x", std::nullopt}, EnvVar{"A=B", "x", std::nullopt}};
  EXPECT_THAT(
      Lines(ValidatePod(p)),
      ElementsAre("spec.containers[0].image: Required value",
                  "spec.containers[0].env[0].name: Required value",
                  "spec.containers[0].env[1].name: Invalid value: \"A=B\": a valid environment "
                  "variable name must consist only of printable ASCII characters other than '='",
                  "spec.containers[0].imagePullPolicy: Unsupported value: \"Sometimes\": supported "
                  "values: \"Always\", \"IfNotPresent\", \"Never\"",
                  "spec.containers[1].name: Duplicate value: \"c\""));
  Pod none = MakePod();
  none.spec.containers.clear();
  EXPECT_THAT(Lines(ValidatePod(none)), ElementsAre("spec.containers: Required value"));
}

TEST(ValidatePod, SpecFields) {
  Pod p = MakePod();
  p.spec.restartPolicy = "Sometimes";
  p.spec.terminationGracePeriodSeconds = -5;
  p.spec.nodeSelector = {{"bad key", "v"}};
  EXPECT_THAT(Lines(ValidatePod(p)),
              ElementsAre("spec.terminationGracePeriodSeconds: Invalid value: -5: must be greater "
                          "than or equal to 0",
                          "spec.restartPolicy: Unsupported value: \"Sometimes\": supported values: "
                          "\"Always\", \"OnFailure\", \"Never\"",
                          HasSubstr("spec.nodeSelector: Invalid value: \"bad key\": name part must "
                                    "consist of alphanumeric characters")));
}

TEST(ValidatePod, NodeAffinityOperators) {
  Pod p = MakePod();
  p.spec.affinity = FromJsonLoose<Affinity>(
      json::parse(R"({"nodeAffinity":{"requiredDuringSchedulingIgnoredDuringExecution":
      {"nodeSelectorTerms":[{"matchExpressions":[{"key":"zone","operator":"Near","values":["a"]},
                                                 {"key":"zone","operator":"In"}]}]}}})"));
  EXPECT_THAT(
      Lines(ValidatePod(p)),
      ElementsAre("spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution."
                  "nodeSelectorTerms[0].matchExpressions[0].operator: Invalid value: \"Near\": not "
                  "a valid selector operator",
                  "spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution."
                  "nodeSelectorTerms[0].matchExpressions[1].values: Required value: must be "
                  "specified when `operator` is 'In' or 'NotIn'"));
}

TEST(ValidatePodUpdate, OnlyImagesDeadlineAndTolerationAdditionsMayChange) {
  Pod old = MakePod(R"([{"name":"v","emptyDir":{}}])");
  old.metadata.resourceVersion = "5";
  Pod ok = old;
  ok.spec.containers[0].image = "busybox:1.37";
  ok.spec.activeDeadlineSeconds = 60;
  ok.spec.tolerations.push_back(Toleration{"k", "Exists", "", "NoSchedule", std::nullopt});
  EXPECT_THAT(Lines(ValidatePodUpdate(ok, old)), IsEmpty());

  Pod bad = old;
  bad.spec.volumes[0].name = "w";
  auto errs = Lines(ValidatePodUpdate(bad, old));
  ASSERT_EQ(errs.size(), 1u);
  EXPECT_THAT(errs[0],
              HasSubstr("spec: Forbidden: pod updates may not change fields other than "
                        "`spec.containers[*].image`,`spec.initContainers[*].image`,"
                        "`spec.activeDeadlineSeconds`,`spec.tolerations` (only additions to "
                        "existing tolerations),`spec.terminationGracePeriodSeconds` (allow "
                        "it to be set to 1 if it was previously negative)\n"));
  EXPECT_THAT(errs[0], HasSubstr("spec.volumes"));

  Pod more = old;
  more.spec.containers.push_back(old.spec.containers[0]);
  EXPECT_THAT(
      Lines(ValidatePodUpdate(more, old)),
      ElementsAre("spec.containers: Forbidden: pod updates may not add or remove containers"));

  Pod withTol = ok;
  Pod removed = ok;
  removed.spec.tolerations.clear();
  EXPECT_THAT(Lines(ValidatePodUpdate(removed, withTol)),
              ElementsAre("spec.tolerations: Forbidden: existing toleration can not be modified "
                          "except its tolerationSeconds"));
  Pod longer = ok;
  longer.spec.activeDeadlineSeconds = 120;
  EXPECT_THAT(Lines(ValidatePodUpdate(longer, ok)),
              ElementsAre("spec.activeDeadlineSeconds: Invalid value: 120: must be less than or "
                          "equal to previous value"));
}

ConfigMap CM(const char* j) { return FromJsonLoose<ConfigMap>(json::parse(j)); }
Secret Sec(const char* j) {
  Secret s = FromJsonLoose<Secret>(json::parse(j));
  DefaultSecret(s);
  return s;
}

TEST(ValidateConfigMap, KeysDuplicatesSizeAndImmutability) {
  EXPECT_THAT(Lines(ValidateConfigMap(
                  CM(R"({"metadata":{"name":"c","namespace":"d"},"data":{"a b":"x"}})"))),
              ElementsAre("data[a b]: Invalid value: \"a b\": a valid config key must consist of "
                          "alphanumeric characters, '-', '_' or '.' "
                          "(e.g. 'key.name',  or 'KEY_NAME',  or 'key-name', regex used for "
                          "validation is '[-._a-zA-Z0-9]+')"));
  EXPECT_THAT(
      Lines(ValidateConfigMap(CM(
          R"({"metadata":{"name":"c","namespace":"d"},"data":{"k":"x"},"binaryData":{"k":"eA=="}})"))),
      ElementsAre("data[k]: Invalid value: \"k\": duplicate of key present in binaryData"));
  EXPECT_THAT(
      Lines(ValidateConfigMap(
          CM(R"({"metadata":{"name":"c","namespace":"d"},"binaryData":{"b":"eA="}})"))),
      ElementsAre("binaryData[b]: Invalid value: \"eA=\": illegal base64 data at input byte 0"));
  ConfigMap big = CM(R"({"metadata":{"name":"c","namespace":"d"}})");
  big.data["a"] = std::string(1024 * 1024, 'x');
  big.data["b"] = "y";
  EXPECT_THAT(Lines(ValidateConfigMap(big)),
              ElementsAre("Too long: may not be more than 1048576 bytes"));

  ConfigMap old = CM(
      R"({"metadata":{"name":"c","namespace":"d","resourceVersion":"1"},"immutable":true,"data":{"k":"v"}})");
  ConfigMap changed = old;
  changed.data["k"] = "w";
  changed.immutable = false;
  EXPECT_THAT(Lines(ValidateConfigMapUpdate(changed, old)),
              ElementsAre("immutable: Forbidden: field is immutable when `immutable` is set",
                          "data: Forbidden: field is immutable when `immutable` is set"));
}

TEST(ValidateSecret, Base64TypeAndImmutability) {
  EXPECT_THAT(Lines(ValidateSecret(
                  Sec(R"({"metadata":{"name":"s","namespace":"d"},"data":{"k":"not base64!"}})"))),
              ElementsAre("data[k]: Invalid value: \"<secret contents redacted>\": illegal base64 "
                          "data at input byte 3"));
  EXPECT_THAT(
      Lines(ValidateSecret(Sec(
          R"({"metadata":{"name":"s","namespace":"d"},"type":"kubernetes.io/tls","data":{"tls.crt":"eA=="}})"))),
      ElementsAre("data[tls.key]: Required value"));
  EXPECT_THAT(Lines(ValidateSecret(
                  Sec(R"({"metadata":{"name":"s","namespace":"d"},"data":{".":"eA=="}})"))),
              Contains("data[.]: Invalid value: \".\": must not be '.'"));
  Secret old = Sec(
      R"({"metadata":{"name":"s","namespace":"d","resourceVersion":"1"},"immutable":true,"data":{"k":"eA=="}})");
  Secret changed = old;
  changed.type = "kubernetes.io/basic-auth";
  changed.data["k"] = "eQ==";
  EXPECT_THAT(Lines(ValidateSecretUpdate(changed, old)),
              ElementsAre("type: Invalid value: \"kubernetes.io/basic-auth\": field is immutable",
                          "data: Forbidden: field is immutable when `immutable` is set"));
}

TEST(ValidateCore, NamespaceNodeEvent) {
  Namespace ns = FromJsonLoose<Namespace>(json::parse(R"({"metadata":{"name":"Team.A"}})"));
  EXPECT_THAT(
      Lines(ValidateNamespace(ns)),
      Contains(HasSubstr("metadata.name: Invalid value: \"Team.A\": a lowercase RFC 1123 label")));
  Namespace nsns =
      FromJsonLoose<Namespace>(json::parse(R"({"metadata":{"name":"a","namespace":"b"}})"));
  EXPECT_THAT(Lines(ValidateNamespace(nsns)),
              Contains("metadata.namespace: Forbidden: not allowed on this type"));
  Node node = FromJsonLoose<Node>(json::parse(
      R"({"metadata":{"name":"n1"},"spec":{"taints":[{"key":"k","effect":"Never"}]}})"));
  EXPECT_THAT(Lines(ValidateNode(node)),
              ElementsAre("spec.taints[0].effect: Unsupported value: \"Never\": supported values: "
                          "\"NoSchedule\", \"PreferNoSchedule\", \"NoExecute\""));
  Event ev = FromJsonLoose<Event>(json::parse(R"({"metadata":{"name":"e.1","namespace":"default"},
      "involvedObject":{"kind":"Pod","namespace":"other","name":"p"},"reason":"Started"})"));
  EXPECT_THAT(
      Lines(ValidateEvent(ev)),
      ElementsAre(
          "involvedObject.namespace: Invalid value: \"other\": does not match event.namespace"));
}

StatefulSet Sts() {
  StatefulSet s = FromJsonLoose<StatefulSet>(
      json::parse(R"({"metadata":{"name":"web","namespace":"default"},"spec":{
      "selector":{"matchLabels":{"app":"web"}},"serviceName":"web",
      "template":{"metadata":{"labels":{"app":"web"}},"spec":{"containers":[{"name":"c","image":"nginx:1.25",
        "volumeMounts":[{"name":"www","mountPath":"/usr/share/nginx/html"}]}]}},
      "volumeClaimTemplates":[{"metadata":{"name":"www"},"spec":{"accessModes":["ReadWriteOnce"],
        "resources":{"requests":{"storage":"1Gi"}}}}]}})"));
  DefaultStatefulSet(s);
  return s;
}

TEST(ValidateApps, StatefulSet) {
  EXPECT_THAT(Lines(ValidateStatefulSet(Sts())), IsEmpty());  // mounts a claim template
  StatefulSet s = Sts();
  s.spec.replicas = -1;
  s.spec.template_.metadata.labels = {{"app", "other"}};
  s.spec.template_.spec.restartPolicy = "Never";
  EXPECT_THAT(Lines(ValidateStatefulSet(s)),
              ElementsAre("spec.replicas: Invalid value: -1: must be greater than or equal to 0",
                          "spec.template.metadata.labels: Invalid value: {\"app\":\"other\"}: "
                          "`selector` does not match template `labels`",
                          "spec.template.spec.restartPolicy: Unsupported value: \"Never\": "
                          "supported values: \"Always\""));
  StatefulSet nosel = Sts();
  nosel.spec.selector.reset();
  EXPECT_THAT(Lines(ValidateStatefulSet(nosel)), ElementsAre("spec.selector: Required value"));

  StatefulSet old = Sts();
  old.metadata.resourceVersion = "1";
  StatefulSet scaled = old;
  scaled.spec.replicas = 3;
  scaled.spec.template_.spec.containers[0].image = "nginx:1.26";
  EXPECT_THAT(Lines(ValidateStatefulSetUpdate(scaled, old)), IsEmpty());
  StatefulSet bigger = old;
  bigger.spec.volumeClaimTemplates[0].spec.resources.requests["storage"] =
      Quantity::MustParse("2Gi");
  EXPECT_THAT(
      Lines(ValidateStatefulSetUpdate(bigger, old)),
      ElementsAre("spec: Forbidden: updates to statefulset spec for fields other than 'replicas', "
                  "'ordinals', 'template', "
                  "'updateStrategy', 'revisionHistoryLimit', "
                  "'persistentVolumeClaimRetentionPolicy' and 'minReadySeconds' are forbidden"));
}

TEST(ValidateApps, Deployment) {
  Deployment d = FromJsonLoose<Deployment>(
      json::parse(R"({"metadata":{"name":"web","namespace":"default"},"spec":{
      "selector":{"matchLabels":{"app":"web"}},
      "template":{"metadata":{"labels":{"app":"web"}},"spec":{"containers":[{"name":"c","image":"nginx",
        "volumeMounts":[{"name":"data","mountPath":"/data"}]}],"volumes":[{"name":"data","persistentVolumeClaim":{"claimName":"shared"}}]}}}})"));
  DefaultDeployment(d);
  EXPECT_THAT(Lines(ValidateDeployment(d)), IsEmpty());
  Deployment bad = d;
  bad.spec.template_.spec.containers[0].volumeMounts[0].name = "nope";
  bad.spec.selector->matchLabels = {{"app", "api"}};
  EXPECT_THAT(
      Lines(ValidateDeployment(bad)),
      ElementsAre("spec.template.metadata.labels: Invalid value: {\"app\":\"web\"}: `selector` "
                  "does not match template `labels`",
                  "spec.template.spec.containers[0].volumeMounts[0].name: Not found: \"nope\""));
  Deployment old = d;
  old.metadata.resourceVersion = "1";
  Deployment moved = old;
  moved.spec.selector->matchLabels = {{"app", "api"}};
  EXPECT_THAT(
      Lines(ValidateDeploymentUpdate(moved, old)),
      ElementsAre(
          "spec.selector: Invalid value: {\"matchLabels\":{\"app\":\"api\"}}: field is immutable"));
}

TEST(ValidatePod, SchemeValidateUpdateRunsBothChecks) {
  const KindOps* pods = Scheme::Default().ByName("pods");
  Pod old = MakePod();
  old.metadata.resourceVersion = "3";
  Pod next = old;
  next.spec.containers[0].image = "";
  next.spec.nodeName = "n1";
  auto errs = Lines(pods->ValidateUpdate(ToJson(next), ToJson(old)));
  EXPECT_THAT(errs, Contains("spec.containers[0].image: Required value"));
  EXPECT_THAT(errs, Contains(HasSubstr("spec: Forbidden: pod updates may not change fields")));
}

}  // namespace
}  // namespace kvol::api
