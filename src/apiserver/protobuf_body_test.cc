// DecodeProtobufBody on request bodies captured from kubectl 1.32.4 (src/apiserver/testdata/*.pb,
// `kubectl create ...` through a logging proxy), on bodies encoded here with every field set, on
// malformed bodies, and end to end through ApiHandler's create path.
#include "kvol/apiserver/protobuf_body.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "k8s_subset.pb.h"
#include "kvol/apiserver/handler.h"

// fake_store.h names `json` unqualified inside kvol::testing.
namespace kvol::testing {
using json = api::json;
}  // namespace kvol::testing
#include "testing/fake_store.h"

namespace kvol::apiserver {
namespace {

using api::json;

std::string TestData(const std::string& name) {
  // KVOL_SOURCE_DIR, not __FILE__: ccache (CCACHE_BASEDIR) makes __FILE__ relative to the build.
  auto path = std::filesystem::path(KVOL_SOURCE_DIR) / "src/apiserver/testdata" / name;
  std::ifstream in(path, std::ios::binary);
  EXPECT_TRUE(in) << "missing " << path;
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// "k8s\0" + Unknown{typeMeta{v1, kind}, raw = obj}.
std::string Envelope(const std::string& kind, const google::protobuf::Message& obj,
                     const std::string& apiVersion = "v1") {
  k8s::Unknown u;
  u.mutable_typemeta()->set_apiversion(apiVersion);
  u.mutable_typemeta()->set_kind(kind);
  u.set_raw(obj.SerializeAsString());
  return std::string("k8s\0", 4) + u.SerializeAsString();
}

json Decoded(const std::string& body, const std::string& kind) {
  Result<json> r = DecodeProtobufBody(body, kind);
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  return r.ok() ? *r : json();
}

TEST(ProtobufBody, KubectlCreateNamespace) {
  EXPECT_EQ(Decoded(TestData("kubectl_create_namespace.pb"), "Namespace"),
            json::parse(R"({"apiVersion":"v1","kind":"Namespace","metadata":{"name":"team-a"}})"));
}

TEST(ProtobufBody, KubectlCreateConfigMap) {
  // kubectl create configmap app --from-literal=a=b --from-literal=mode=prod -n team-a
  EXPECT_EQ(Decoded(TestData("kubectl_create_configmap.pb"), "ConfigMap"),
            json::parse(R"({"apiVersion":"v1","kind":"ConfigMap",
                            "metadata":{"name":"app","namespace":"team-a"},
                            "data":{"a":"b","mode":"prod"}})"));
}

TEST(ProtobufBody, KubectlCreateConfigMapBinaryAndEmptyValue) {
  // kubectl create configmap bincm --from-file=blob=bin.dat --from-literal=empty=
  // with bin.dat = "\x00\xff\xfe binary\n": the empty value is kept, the bytes are base64.
  EXPECT_EQ(Decoded(TestData("kubectl_create_configmap_binary.pb"), "ConfigMap"),
            json::parse(R"({"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"bincm"},
                            "data":{"empty":""},"binaryData":{"blob":"AP/+IGJpbmFyeQo="}})"));
}

TEST(ProtobufBody, KubectlCreateSecretGeneric) {
  // kubectl create secret generic s --from-literal=password=hunter2 (no type: the server
  // defaults it).
  EXPECT_EQ(Decoded(TestData("kubectl_create_secret.pb"), "Secret"),
            json::parse(R"({"apiVersion":"v1","kind":"Secret","metadata":{"name":"s"},
                            "data":{"password":"aHVudGVyMg=="}})"));
}

TEST(ProtobufBody, KubectlCreateSecretWithType) {
  // kubectl create secret generic typed --type=kubernetes.io/basic-auth
  //   --from-literal=username=admin --from-file=password=bin.dat
  EXPECT_EQ(Decoded(TestData("kubectl_create_secret_basic_auth.pb"), "Secret"),
            json::parse(R"({"apiVersion":"v1","kind":"Secret","metadata":{"name":"typed"},
                            "type":"kubernetes.io/basic-auth",
                            "data":{"username":"YWRtaW4=","password":"AP/+IGJpbmFyeQo="}})"));
}

TEST(ProtobufBody, KindsWithoutProtobufSupportAre415) {
  // kubectl create deployment web --image=nginx
  Result<json> r = DecodeProtobufBody(TestData("kubectl_create_deployment.pb"), "Deployment");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Code::kUnsupportedMedia);
  EXPECT_EQ(r.status().message(),
            "the body of the request was in an unknown format - accepted media types include: "
            "application/json (kvol accepts application/vnd.kubernetes.protobuf only for kinds "
            "ConfigMap, Namespace, Secret, not Deployment)");
  // The body names a kind kvol cannot decode although the URL's kind is decodable.
  Result<json> named = DecodeProtobufBody(TestData("kubectl_create_deployment.pb"), "ConfigMap");
  ASSERT_FALSE(named.ok());
  EXPECT_EQ(named.status().code(), Code::kUnsupportedMedia);
  EXPECT_EQ(ProtobufKinds(), (std::vector<std::string>{"ConfigMap", "Namespace", "Secret"}));
}

TEST(ProtobufBody, EveryObjectMetaField) {
  k8s::ConfigMap cm;
  k8s::ObjectMeta* m = cm.mutable_metadata();
  m->set_name("full");
  m->set_generatename("full-");
  m->set_namespace_("ns1");
  m->set_selflink("/api/v1/namespaces/ns1/configmaps/full");
  m->set_uid("0c5e2a4e-0000-4000-8000-000000000001");
  m->set_resourceversion("42");
  m->set_generation(3);
  m->mutable_creationtimestamp()->set_seconds(1795761000);  // 2026-11-27T06:30:00Z
  m->mutable_deletiontimestamp()->set_seconds(1795761030);
  m->mutable_deletiontimestamp()->set_nanos(999);  // metav1.Time's JSON has seconds precision
  m->set_deletiongraceperiodseconds(0);            // a Go pointer: 0 is kept
  (*m->mutable_labels())["app"] = "demo";
  (*m->mutable_annotations())["note"] = "";
  k8s::OwnerReference* o = m->add_ownerreferences();
  o->set_apiversion("apps/v1");
  o->set_kind("StatefulSet");
  o->set_name("db");
  o->set_uid("u-1");
  o->set_controller(false);  // a Go pointer: false is kept
  m->add_finalizers("kvol.io/keep");
  k8s::ManagedFieldsEntry* mf = m->add_managedfields();
  mf->set_manager("kubectl-create");
  mf->set_operation("Update");
  mf->set_apiversion("v1");
  mf->mutable_time()->set_seconds(1795761000);
  mf->set_fieldstype("FieldsV1");
  mf->mutable_fieldsv1()->set_raw(R"({"f:data":{".":{},"f:k":{}}})");
  (*cm.mutable_data())["k"] = "v";
  cm.set_immutable(false);

  EXPECT_EQ(Decoded(Envelope("ConfigMap", cm), "ConfigMap"), json::parse(R"({
    "apiVersion":"v1","kind":"ConfigMap",
    "metadata":{
      "name":"full","generateName":"full-","namespace":"ns1",
      "selfLink":"/api/v1/namespaces/ns1/configmaps/full",
      "uid":"0c5e2a4e-0000-4000-8000-000000000001","resourceVersion":"42","generation":3,
      "creationTimestamp":"2026-11-27T06:30:00Z","deletionTimestamp":"2026-11-27T06:30:30Z",
      "deletionGracePeriodSeconds":0,
      "labels":{"app":"demo"},"annotations":{"note":""},
      "ownerReferences":[{"apiVersion":"apps/v1","kind":"StatefulSet","name":"db","uid":"u-1",
                          "controller":false}],
      "finalizers":["kvol.io/keep"],
      "managedFields":[{"manager":"kubectl-create","operation":"Update","apiVersion":"v1",
                        "time":"2026-11-27T06:30:00Z","fieldsType":"FieldsV1",
                        "fieldsV1":{"f:data":{".":{},"f:k":{}}}}]},
    "data":{"k":"v"},"immutable":false})"));
}

TEST(ProtobufBody, NamespaceSpecStatusAndSecretStringData) {
  k8s::Namespace ns;
  ns.mutable_metadata()->set_name("n");
  ns.mutable_spec()->add_finalizers("kubernetes");
  ns.mutable_status()->set_phase("Terminating");
  k8s::NamespaceCondition* c = ns.mutable_status()->add_conditions();
  c->set_type("NamespaceDeletionContentFailure");
  c->set_status("False");
  c->mutable_lasttransitiontime()->set_seconds(0);  // zero time: left out
  c->set_reason("ContentDeleted");
  EXPECT_EQ(Decoded(Envelope("Namespace", ns), "Namespace"), json::parse(R"({
    "apiVersion":"v1","kind":"Namespace","metadata":{"name":"n"},
    "spec":{"finalizers":["kubernetes"]},
    "status":{"phase":"Terminating","conditions":[{"type":"NamespaceDeletionContentFailure",
              "status":"False","reason":"ContentDeleted"}]}})"));

  k8s::Secret s;
  s.mutable_metadata()->set_name("s");
  (*s.mutable_stringdata())["token"] = "abc";
  s.set_type("Opaque");
  s.set_immutable(true);
  EXPECT_EQ(Decoded(Envelope("Secret", s), "Secret"), json::parse(R"({
    "apiVersion":"v1","kind":"Secret","metadata":{"name":"s"},"stringData":{"token":"abc"},
    "type":"Opaque","immutable":true})"));
}

TEST(ProtobufBody, BodyKindIsReturnedForTheCallerToCheck) {
  // A Secret posted to the configmaps URL decodes as a Secret; create's kind check answers it.
  json j = Decoded(TestData("kubectl_create_secret.pb"), "ConfigMap");
  EXPECT_EQ(j["kind"], "Secret");
  // No kind in typeMeta: the URL's kind.
  k8s::ConfigMap cm;
  cm.mutable_metadata()->set_name("x");
  k8s::Unknown u;
  u.set_raw(cm.SerializeAsString());
  EXPECT_EQ(Decoded(std::string("k8s\0", 4) + u.SerializeAsString(), "ConfigMap"),
            json::parse(R"({"kind":"ConfigMap","metadata":{"name":"x"}})"));
}

Status DecodeError(const std::string& body, const std::string& kind = "ConfigMap") {
  Result<json> r = DecodeProtobufBody(body, kind);
  EXPECT_FALSE(r.ok()) << (r.ok() ? r->dump() : "");
  return r.ok() ? Status() : r.status();
}

TEST(ProtobufBody, MalformedBodiesAre400) {
  Status noMagic = DecodeError(R"({"kind":"ConfigMap"})");
  EXPECT_EQ(noMagic.code(), Code::kBadRequest);
  EXPECT_EQ(noMagic.message(),
            "provided data does not appear to be a protobuf message, expected prefix "
            "[107 56 115 0]");
  EXPECT_EQ(DecodeError("").code(), Code::kBadRequest);

  std::string cm = TestData("kubectl_create_configmap.pb");
  Status truncated = DecodeError(cm.substr(0, cm.size() - 20));
  EXPECT_EQ(truncated.code(), Code::kBadRequest);
  EXPECT_EQ(truncated.message(),
            "error decoding application/vnd.kubernetes.protobuf body: not a runtime.Unknown "
            "message");

  k8s::Unknown badRaw;
  badRaw.mutable_typemeta()->set_kind("ConfigMap");
  badRaw.set_raw(std::string("\x0a\x05") + "ab");  // metadata, length 5, 2 bytes follow
  EXPECT_EQ(DecodeError(std::string("k8s\0", 4) + badRaw.SerializeAsString()).message(),
            "error decoding application/vnd.kubernetes.protobuf body: not a valid ConfigMap "
            "message");

  k8s::ConfigMap utf;
  (*utf.mutable_data())["k"] = "\xff\xfe";
  EXPECT_EQ(DecodeError(Envelope("ConfigMap", utf)).message(),
            "error decoding application/vnd.kubernetes.protobuf body: a string is not valid "
            "UTF-8");

  k8s::ConfigMap fields;
  fields.mutable_metadata()->add_managedfields()->mutable_fieldsv1()->set_raw("[1]");
  EXPECT_EQ(DecodeError(Envelope("ConfigMap", fields)).message(),
            "error decoding application/vnd.kubernetes.protobuf body: "
            "managedFields[].fieldsV1 is not a JSON object");

  k8s::ConfigMap late;
  late.mutable_metadata()->mutable_creationtimestamp()->set_seconds(253402300800);  // year 10000
  EXPECT_EQ(DecodeError(Envelope("ConfigMap", late)).message(),
            "error decoding application/vnd.kubernetes.protobuf body: a timestamp is outside "
            "years 0001 to 9999");

  k8s::Unknown gz;
  gz.mutable_typemeta()->set_kind("ConfigMap");
  gz.set_contentencoding("gzip");
  EXPECT_EQ(DecodeError(std::string("k8s\0", 4) + gz.SerializeAsString()).message(),
            "error decoding application/vnd.kubernetes.protobuf body: contentEncoding \"gzip\" "
            "is not supported");
}

// The create path: ApiHandler with the real scheme over a FakeStore.
class ProtobufCreateTest : public ::testing::Test {
 protected:
  ProtobufCreateTest() {
    HandlerOptions o;
    o.store = &store_;
    o.scheme = &api::Scheme::Default();
    o.now = [] { return int64_t{1795761000}; };
    handler_ = std::make_unique<ApiHandler>(o);
    EXPECT_EQ(
        Post("/api/v1/namespaces", R"({"metadata":{"name":"default"}})", "application/json").status,
        201);
  }
  Response Post(const std::string& target, const std::string& body,
                const std::string& type = kProtobufMediaType) {
    return handler_
        ->Handle(Request::Make(
            "POST", target + "?fieldManager=kubectl-create&fieldValidation=Strict", body,
            {{"content-type", type},
             {"accept", "application/vnd.kubernetes.protobuf,application/json"}}))
        .response;
  }
  json Get(const std::string& target) {
    Response r = handler_->Handle(Request::Make("GET", target, "", {})).response;
    EXPECT_EQ(r.status, 200) << r.body;
    return json::parse(r.body);
  }

  kvol::testing::FakeStore store_;
  std::unique_ptr<ApiHandler> handler_;
};

TEST_F(ProtobufCreateTest, KubectlBodiesCreateObjects) {
  Response ns = Post("/api/v1/namespaces", TestData("kubectl_create_namespace.pb"));
  ASSERT_EQ(ns.status, 201) << ns.body;
  EXPECT_EQ(json::parse(ns.body)["metadata"]["name"], "team-a");
  EXPECT_EQ(Get("/api/v1/namespaces/team-a")["status"]["phase"], "Active");

  Response cm =
      Post("/api/v1/namespaces/team-a/configmaps", TestData("kubectl_create_configmap.pb"));
  ASSERT_EQ(cm.status, 201) << cm.body;
  EXPECT_EQ(Get("/api/v1/namespaces/team-a/configmaps/app")["data"],
            json::parse(R"({"a":"b","mode":"prod"})"));

  // The secret's namespace comes from the URL (kubectl leaves it empty).
  Response s = Post("/api/v1/namespaces/default/secrets", TestData("kubectl_create_secret.pb"));
  ASSERT_EQ(s.status, 201) << s.body;
  json secret = Get("/api/v1/namespaces/default/secrets/s");
  EXPECT_EQ(secret["data"], json::parse(R"({"password":"aHVudGVyMg=="})"));
  EXPECT_EQ(secret["type"], "Opaque");
  EXPECT_EQ(secret["metadata"]["namespace"], "default");
}

TEST_F(ProtobufCreateTest, UpdateTakesProtobufToo) {
  k8s::ConfigMap cm;
  cm.mutable_metadata()->set_name("cfg");
  (*cm.mutable_data())["mode"] = "blue";
  Response created = Post("/api/v1/namespaces/default/configmaps", Envelope("ConfigMap", cm));
  ASSERT_EQ(created.status, 201) << created.body;
  cm.mutable_metadata()->set_resourceversion(
      json::parse(created.body)["metadata"]["resourceVersion"].get<std::string>());
  (*cm.mutable_data())["mode"] = "green";
  Response put =
      handler_
          ->Handle(Request::Make("PUT", "/api/v1/namespaces/default/configmaps/cfg",
                                 Envelope("ConfigMap", cm), {{"content-type", kProtobufMediaType}}))
          .response;
  ASSERT_EQ(put.status, 200) << put.body;
  EXPECT_EQ(Get("/api/v1/namespaces/default/configmaps/cfg")["data"]["mode"], "green");
}

TEST_F(ProtobufCreateTest, ErrorsAreStatuses) {
  Response dep = Post("/apis/apps/v1/namespaces/default/deployments",
                      TestData("kubectl_create_deployment.pb"));
  EXPECT_EQ(dep.status, 415);
  EXPECT_EQ(json::parse(dep.body)["reason"], "UnsupportedMediaType");

  Response wrongKind =
      Post("/api/v1/namespaces/default/configmaps", TestData("kubectl_create_secret.pb"));
  EXPECT_EQ(wrongKind.status, 400);
  EXPECT_EQ(json::parse(wrongKind.body)["message"],
            "the kind in the data (Secret) does not match the expected kind (ConfigMap)");

  Response garbage = Post("/api/v1/namespaces/default/configmaps", "not protobuf");
  EXPECT_EQ(garbage.status, 400);
  EXPECT_EQ(json::parse(garbage.body)["reason"], "BadRequest");

  Response dup = Post("/api/v1/namespaces/default/secrets", TestData("kubectl_create_secret.pb"));
  ASSERT_EQ(dup.status, 201);
  dup = Post("/api/v1/namespaces/default/secrets", TestData("kubectl_create_secret.pb"));
  EXPECT_EQ(dup.status, 409);
  EXPECT_EQ(json::parse(dup.body)["message"], "secrets \"s\" already exists");
}

}  // namespace
}  // namespace kvol::apiserver
