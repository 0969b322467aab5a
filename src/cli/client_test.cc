#include "kvol/cli/client.h"

#include <gtest/gtest.h>

#include <cstdlib>

#include "kvol/apiserver/table.h"

namespace kvol::cli {
namespace {

TEST(Kubeconfig, PicksCurrentContextClusterAndUser) {
  auto cfg = ParseKubeconfig(R"(apiVersion: v1
kind: Config
clusters:
- name: other
  cluster: {server: "http://10.0.0.1:1"}
- name: kvol
  cluster:
    server: http://127.0.0.1:41234/
contexts:
- name: kvol
  context: {cluster: kvol, user: kvol, namespace: team-a}
current-context: kvol
users:
- name: kvol
  user:
    token: 0123abcd
)");
  ASSERT_TRUE(cfg.ok()) << cfg.status().ToString();
  EXPECT_EQ(cfg->server, "http://127.0.0.1:41234");
  EXPECT_EQ(cfg->token, "0123abcd");
  EXPECT_EQ(cfg->ns, "team-a");
}

TEST(Kubeconfig, Errors) {
  auto missing = ParseKubeconfig("current-context: nope\ncontexts: []\n");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().message(), "error: context \"nope\" does not exist");
  EXPECT_FALSE(ParseKubeconfig("a: [").ok());
  EXPECT_FALSE(ParseKubeconfig("kind: Config\n").ok());
}

TEST(Kubeconfig, PathPrecedence) {
  setenv("KUBECONFIG", "/tmp/a:/tmp/b", 1);
  EXPECT_EQ(KubeconfigPath("/x/flag"), "/x/flag");
  EXPECT_EQ(KubeconfigPath(""), "/tmp/a");
  unsetenv("KUBECONFIG");
  setenv("HOME", "/home/u", 1);
  EXPECT_EQ(KubeconfigPath(""), "/home/u/.kube/config");
}

TEST(TabFormat, MatchesGoTabwriter) {
  // Columns widen to the widest cell plus padding; the last cell of a line is not padded.
  EXPECT_EQ(TabFormat("NAME\tSTATUS\tAGE\ndata\tBound\t5m\nlonger-name\tPending\t2d\n", 6, 3),
            "NAME          STATUS    AGE\n"
            "data          Bound     5m\n"
            "longer-name   Pending   2d\n");
  // minwidth applies to short columns.
  EXPECT_EQ(TabFormat("A\tB\nx\ty\n", 6, 3), "A     B\nx     y\n");
  // A line without tabs ends the column block: the blocks align separately.
  EXPECT_EQ(
      TabFormat("Name:\tx\nAccess Modes:\tRWO\nEvents:\n  Type\tReason\n  ----\t------\n", 0, 2),
      "Name:          x\n"
      "Access Modes:  RWO\n"
      "Events:\n"
      "  Type  Reason\n"
      "  ----  ------\n");
}

TEST(RenderTable, KubectlGetLayout) {
  api::ResourceInfo info;
  info.version = "v1";
  info.kind = "PersistentVolumeClaim";
  const int64_t now = *apiserver::ParseTimestamp("2024-05-01T12:00:00Z");
  auto pvc = [](const char* name, const char* ns, const char* phase) {
    return json{
        {"metadata",
         {{"name", name}, {"namespace", ns}, {"creationTimestamp", "2024-05-01T11:55:00Z"}}},
        {"spec", {{"storageClassName", "local"}}},
        {"status", {{"phase", phase}}}};
  };
  json t = apiserver::BuildTable(
      info, {pvc("data", "default", "Pending"), pvc("logs-claim", "b", "Pending")}, true, now);
  EXPECT_EQ(RenderTable(t, {}),
            "NAME         STATUS    VOLUME   CAPACITY   ACCESS MODES   STORAGECLASS   "
            "VOLUMEATTRIBUTESCLASS   AGE\n"
            "data         Pending                                      local          <unset>      "
            "           5m\n"
            "logs-claim   Pending                                      local          <unset>      "
            "           5m\n");
  TableRenderOptions wideAll;
  wideAll.wide = true;
  wideAll.withNamespace = true;
  std::string s = RenderTable(t, wideAll);
  EXPECT_EQ(s.substr(0, s.find('\n')),
            "NAMESPACE   NAME         STATUS    VOLUME   CAPACITY   ACCESS MODES   STORAGECLASS   "
            "VOLUMEATTRIBUTESCLASS   AGE   VOLUMEMODE");
  EXPECT_NE(s.find("\nb           logs-claim   Pending"), std::string::npos) << s;
  TableRenderOptions kind;
  kind.kindPrefix = "persistentvolumeclaim";
  EXPECT_NE(RenderTable(t, kind).find("\npersistentvolumeclaim/data   "), std::string::npos);

  // Null cells print empty, booleans as true/false, integers as numbers.
  json custom = {
      {"columnDefinitions", json::array({{{"name", "Name"}, {"type", "string"}, {"format", "name"}},
                                         {{"name", "Ready"}, {"type", "boolean"}},
                                         {{"name", "Size"}, {"type", "integer"}},
                                         {{"name", "Msg"}, {"type", "string"}}})},
      {"rows", json::array({{{"cells", json::array({"a", true, 3, "line1\nline2"})}},
                            {{"cells", json::array({"b", nullptr, nullptr, ""})}}})}};
  EXPECT_EQ(RenderTable(custom, {}),
            "NAME   READY   SIZE   MSG\n"
            "a      true    3      line1...\n"
            "b                     \n");
}

TEST(FormatServerError, KubectlWording) {
  HttpResult nf{404, "application/json",
                R"({"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure",
                    "message":"persistentvolumeclaims \"x\" not found","reason":"NotFound",
                    "details":{"name":"x","kind":"persistentvolumeclaims"},"code":404})"};
  EXPECT_EQ(FormatServerError(nf),
            "Error from server (NotFound): persistentvolumeclaims \"x\" not found");
  EXPECT_EQ(FormatServerError(nf, "deleting", "pvc.yaml"),
            "Error from server (NotFound): error when deleting \"pvc.yaml\": "
            "persistentvolumeclaims \"x\" not found");
  HttpResult inv{422, "application/json",
                 R"({"kind":"Status","status":"Failure","reason":"Invalid","message":"m",
                     "details":{"name":"bad","kind":"PersistentVolumeClaim","causes":[
                       {"field":"spec.accessModes","message":"Required value"},
                       {"field":"spec.resources[storage]","message":"Required value"}]},
                     "code":422})"};
  EXPECT_EQ(FormatServerError(inv, "creating", "f.yaml"),
            "The PersistentVolumeClaim \"bad\" is invalid: \n"
            "* spec.accessModes: Required value\n"
            "* spec.resources[storage]: Required value");
  HttpResult noReason{500, "application/json", R"({"kind":"Status","message":"boom"})"};
  EXPECT_EQ(FormatServerError(noReason), "Error from server: boom");
  EXPECT_EQ(FormatTransportError({"http://127.0.0.1:1", "", "", "", false},
                                 Status(Code::kUnavailable, "refused")),
            "The connection to the server 127.0.0.1:1 was refused - did you specify the right "
            "host or port?");
}

TEST(Manifests, YamlScalarsAndDocuments) {
  auto docs = ParseManifests(R"(apiVersion: v1
kind: PersistentVolumeClaim
metadata:
  name: data
  annotations: {a: "true", b: yes, c: "007"}
spec:
  resources: {requests: {storage: 1Gi}}
  replicas: 3
  ratio: 1.5
  none: ~
---
---
apiVersion: v1
kind: List
items:
- {apiVersion: v1, kind: ConfigMap, metadata: {name: a}}
- {apiVersion: v1, kind: ConfigMap, metadata: {name: b}}
)");
  ASSERT_TRUE(docs.ok()) << docs.status().ToString();
  ASSERT_EQ(docs->size(), 3u);
  const json& d = (*docs)[0];
  EXPECT_EQ(d["metadata"]["annotations"]["a"], "true");
  EXPECT_EQ(d["metadata"]["annotations"]["b"], true);
  EXPECT_EQ(d["metadata"]["annotations"]["c"], "007");
  EXPECT_EQ(d["spec"]["replicas"], 3);
  EXPECT_EQ(d["spec"]["ratio"], 1.5);
  EXPECT_TRUE(d["spec"]["none"].is_null());
  EXPECT_EQ((*docs)[2]["metadata"]["name"], "b");
  EXPECT_FALSE(ParseManifests("a: [").ok());
  // Malformed flow that yaml-cpp 0.7 looped on forever: an error, at once.
  EXPECT_FALSE(ParseManifests("\"x\",i").ok());
  // As kubectl: a document without kind is refused.
  EXPECT_FALSE(ParseManifests("apiVersion: v1\nmetadata: {name: x}\n").ok());
}

TEST(Manifests, JsonToYamlLikeKubectl) {
  json o = json::parse(R"({"apiVersion":"v1","kind":"PersistentVolumeClaim",
    "metadata":{"name":"data","creationTimestamp":"2024-05-01T10:00:00Z","annotations":{"storageclass.kubernetes.io/is-default-class":"true",
      "kubectl.kubernetes.io/last-applied-configuration":"{\"a\":1}\n","star":"*"},"labels":{}},
    "spec":{"accessModes":["ReadWriteOnce"],"resources":{"requests":{"storage":"1Gi"}},
            "containers":[{"name":"a","ports":[{"containerPort":80}]}]}})");
  EXPECT_EQ(JsonToYaml(o),
            "apiVersion: v1\n"
            "kind: PersistentVolumeClaim\n"
            "metadata:\n"
            "  annotations:\n"
            "    kubectl.kubernetes.io/last-applied-configuration: |\n"
            "      {\"a\":1}\n"
            "    star: '*'\n"
            "    storageclass.kubernetes.io/is-default-class: \"true\"\n"
            "  creationTimestamp: \"2024-05-01T10:00:00Z\"\n"
            "  labels: {}\n"
            "  name: data\n"
            "spec:\n"
            "  accessModes:\n"
            "  - ReadWriteOnce\n"
            "  containers:\n"
            "  - name: a\n"
            "    ports:\n"
            "    - containerPort: 80\n"
            "  resources:\n"
            "    requests:\n"
            "      storage: 1Gi\n");
  auto back = ParseManifests(JsonToYaml(o));
  ASSERT_TRUE(back.ok());
  EXPECT_EQ((*back)[0], o);
}

}  // namespace
}  // namespace kvol::cli
