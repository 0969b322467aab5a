// Server-side apply through the REST handler (PATCH application/apply-patch+yaml) with the real
// Scheme: create-or-update, kube's conflict Status, force, Update entries of other writes and the
// upgrade of a client-side-applied object.
#include <gtest/gtest.h>

#include "kvol/api/scheme.h"
#include "kvol/apiserver/handler.h"
#include "kvol/patch/apply.h"

// fake_store.h names `json` unqualified inside kvol::testing.
namespace kvol::testing {
using json = api::json;
}  // namespace kvol::testing
#include "testing/fake_store.h"

namespace kvol::apiserver {
namespace {

using api::json;

constexpr const char* kToken = "t0k3n";
constexpr const char* kCm = "/api/v1/namespaces/default/configmaps";
constexpr const char* kPvc = "/api/v1/namespaces/default/persistentvolumeclaims";

class ServerSideApplyTest : public ::testing::Test {
 protected:
  ServerSideApplyTest() {
    HandlerOptions o;
    o.store = &store_;
    o.scheme = &api::Scheme::Default();
    o.token = kToken;
    o.now = [this] { return now_; };
    handler_ = std::make_unique<ApiHandler>(o);
    EXPECT_EQ(Call("POST", "/api/v1/namespaces", {{"metadata", {{"name", "default"}}}},
                   "application/json")
                  .status,
              201);
  }
  Response Call(const std::string& method, const std::string& target, const json& body,
                const std::string& type) {
    std::map<std::string, std::string> h = {{"authorization", std::string("Bearer ") + kToken},
                                            {"content-type", type},
                                            {"user-agent", "kubectl/v1.32.4 (linux/amd64)"}};
    return handler_->Handle(Request::Make(method, target, body.is_null() ? "" : body.dump(), h))
        .response;
  }
  Response Apply(const std::string& target, const json& body, const std::string& manager,
                 bool force = false) {
    return Call("PATCH",
                target + "?fieldManager=" + manager +
                    "&fieldValidation=Strict&force=" + (force ? "true" : "false"),
                body, "application/apply-patch+yaml");
  }
  static json Body(const Response& r) { return json::parse(r.body); }
  static json Cm(const json& data) {
    return {{"apiVersion", "v1"},
            {"kind", "ConfigMap"},
            {"metadata", {{"name", "x"}, {"namespace", "default"}}},
            {"data", data}};
  }
  static json Managers(const json& obj) {
    json out = json::array();
    for (const auto& e : obj["metadata"].value("managedFields", json::array())) {
      out.push_back(e["manager"].get<std::string>() + "/" + e["operation"].get<std::string>());
    }
    return out;
  }
  static json FieldsOf(const json& obj, const std::string& manager) {
    for (const auto& e : obj["metadata"].value("managedFields", json::array())) {
      if (e["manager"] == manager) return e["fieldsV1"];
    }
    return nullptr;
  }

  kvol::testing::FakeStore store_;
  int64_t now_ = 1714564800;  // 2024-05-01T12:00:00Z
  std::unique_ptr<ApiHandler> handler_;
};

TEST_F(ServerSideApplyTest, CreatesThenUpdatesAndPrunes) {
  std::string url = std::string(kCm) + "/x";
  Response created = Apply(url, Cm({{"a", "1"}, {"b", "2"}}), "kubectl");
  ASSERT_EQ(created.status, 201) << created.body;
  json c = Body(created);
  EXPECT_EQ(c["data"], json({{"a", "1"}, {"b", "2"}}));
  EXPECT_FALSE(c["metadata"].value("uid", "").empty());
  EXPECT_EQ(c["metadata"]["managedFields"], json::parse(R"([{"manager":"kubectl",
      "operation":"Apply","apiVersion":"v1","time":"2024-05-01T12:00:00Z","fieldsType":"FieldsV1",
      "fieldsV1":{"f:data":{"f:a":{},"f:b":{}}}}])"));

  Response updated = Apply(url, Cm({{"a", "changed"}}), "kubectl");
  ASSERT_EQ(updated.status, 200) << updated.body;
  EXPECT_EQ(Body(updated)["data"], json({{"a", "changed"}}));
  EXPECT_NE(Body(updated)["metadata"]["resourceVersion"], c["metadata"]["resourceVersion"]);

  // The same apply again writes nothing.
  Response same = Apply(url, Cm({{"a", "changed"}}), "kubectl");
  ASSERT_EQ(same.status, 200) << same.body;
  EXPECT_EQ(Body(same)["metadata"]["resourceVersion"],
            Body(updated)["metadata"]["resourceVersion"]);

  // YAML bodies are accepted too; GET shows the managedFields.
  Response viaYaml =
      handler_
          ->Handle(Request::Make(
              "PATCH", url + "?fieldManager=kubectl",
              "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\ndata:\n  a: z\n",
              {{"authorization", std::string("Bearer ") + kToken},
               {"content-type", "application/apply-patch+yaml"}}))
          .response;
  ASSERT_EQ(viaYaml.status, 200) << viaYaml.body;
  Response got = Call("GET", url, nullptr, "application/json");
  EXPECT_EQ(Body(got)["data"], json({{"a", "z"}}));
  EXPECT_EQ(Managers(Body(got)), json({"kubectl/Apply"}));
}

TEST_F(ServerSideApplyTest, ConflictIsKubernetesStatusAndForceMovesOwnership) {
  Response created = Call("POST", std::string(kCm) + "?fieldManager=kubectl-client-side-apply",
                          Cm({{"key", "v1"}}), "application/json");
  ASSERT_EQ(created.status, 201) << created.body;
  EXPECT_EQ(FieldsOf(Body(created), "kubectl-client-side-apply"),
            json::parse(R"({"f:data":{".":{},"f:key":{}}})"));

  std::string url = std::string(kCm) + "/x";
  Response conflict = Apply(url, Cm({{"key", "v2"}}), "other");
  ASSERT_EQ(conflict.status, 409);
  EXPECT_EQ(Body(conflict), json::parse(R"({"kind":"Status","apiVersion":"v1","metadata":{},
      "status":"Failure","message":"Apply failed with 1 conflict: conflict with \"kubectl-client-side-apply\" using v1: .data.key",
      "reason":"Conflict","details":{"causes":[{"type":"FieldManagerConflict",
      "message":"conflict with \"kubectl-client-side-apply\" using v1","field":".data.key"}]},
      "code":409})"));
  EXPECT_EQ(Body(Call("GET", url, nullptr, "application/json"))["data"]["key"], "v1");

  Response forced = Apply(url, Cm({{"key", "v2"}}), "other", /*force=*/true);
  ASSERT_EQ(forced.status, 200) << forced.body;
  json f = Body(forced);
  EXPECT_EQ(f["data"]["key"], "v2");
  EXPECT_EQ(Managers(f), json({"other/Apply", "kubectl-client-side-apply/Update"}));
  EXPECT_EQ(FieldsOf(f, "other"), json::parse(R"({"f:data":{"f:key":{}}})"));
  EXPECT_EQ(FieldsOf(f, "kubectl-client-side-apply"), json::parse(R"({"f:data":{}})"));
}

TEST_F(ServerSideApplyTest, NonApplyWritesRecordUpdateEntries) {
  ASSERT_EQ(Call("POST", kCm, Cm({{"k", "1"}}), "application/json").status, 201);
  std::string url = std::string(kCm) + "/x";
  // No fieldManager: the User-Agent's product name.
  Response p = Call("PATCH", url + "?fieldManager=kubectl-edit", {{"data", {{"k", "2"}}}},
                    "application/merge-patch+json");
  ASSERT_EQ(p.status, 200) << p.body;
  EXPECT_EQ(Managers(Body(p)), json({"kubectl/Update", "kubectl-edit/Update"}));
  EXPECT_EQ(FieldsOf(Body(p), "kubectl-edit"), json::parse(R"({"f:data":{"f:k":{}}})"));
  // A patch that changes nothing writes nothing.
  Response same = Call("PATCH", url + "?fieldManager=kubectl-patch", {{"data", {{"k", "2"}}}},
                       "application/merge-patch+json");
  EXPECT_EQ(Body(same)["metadata"]["resourceVersion"], Body(p)["metadata"]["resourceVersion"]);
  // kubectl's client-side-apply migration: a JSON patch replacing managedFields is stored.
  json mf = json::parse(R"([{"manager":"kubectl","operation":"Apply","apiVersion":"v1",
      "time":"2024-05-01T12:00:00Z","fieldsType":"FieldsV1","fieldsV1":{"f:data":{"f:k":{}}}}])");
  Response jp =
      Call("PATCH", url,
           json::array({{{"op", "replace"}, {"path", "/metadata/managedFields"}, {"value", mf}}}),
           "application/json-patch+json");
  ASSERT_EQ(jp.status, 200) << jp.body;
  EXPECT_EQ(Body(jp)["metadata"]["managedFields"], mf);
}

TEST_F(ServerSideApplyTest, ClaimsGoThroughAdmissionAndStatusIsNotOwned) {
  json pvc = {
      {"apiVersion", "v1"},
      {"kind", "PersistentVolumeClaim"},
      {"metadata", {{"name", "data"}, {"labels", {{"app", "db"}}}}},
      {"spec",
       {{"accessModes", {"ReadWriteOnce"}}, {"resources", {{"requests", {{"storage", "1Gi"}}}}}}}};
  std::string url = std::string(kPvc) + "/data";
  Response created = Apply(url, pvc, "kubectl");
  ASSERT_EQ(created.status, 201) << created.body;
  json c = Body(created);
  EXPECT_EQ(c["metadata"]["finalizers"], json({"kubernetes.io/pvc-protection"}));
  EXPECT_EQ(c["status"]["phase"], "Pending");
  EXPECT_EQ(FieldsOf(c, "kubectl"), json::parse(R"({"f:metadata":{"f:labels":{"f:app":{}}},
      "f:spec":{"f:accessModes":{},"f:resources":{"f:requests":{"f:storage":{}}}}})"));

  // Another manager growing the claim conflicts; with force it takes the field.
  json grow = {{"apiVersion", "v1"},
               {"kind", "PersistentVolumeClaim"},
               {"metadata", {{"name", "data"}}},
               {"spec", {{"resources", {{"requests", {{"storage", "2Gi"}}}}}}}};
  Response conflict = Apply(url, grow, "resizer");
  ASSERT_EQ(conflict.status, 409) << conflict.body;
  EXPECT_EQ(Body(conflict)["message"],
            "Apply failed with 1 conflict: conflict with \"kubectl\": "
            ".spec.resources.requests.storage");
  // Invalid results are still refused with the kind's validation.
  json bad = grow;
  bad["spec"]["accessModes"] = {"Sometimes"};
  EXPECT_EQ(Apply(url, bad, "resizer", true).status, 422);
  // Unknown fields follow fieldValidation=Strict.
  json unknown = grow;
  unknown["spec"]["bogus"] = 1;
  Response strict = Apply(url, unknown, "resizer", true);
  EXPECT_EQ(strict.status, 400) << strict.body;
  // A name that is not the URL's.
  json other = grow;
  other["metadata"]["name"] = "else";
  EXPECT_EQ(Body(Apply(url, other, "resizer"))["message"],
            "the name of the object (else) does not match the name on the URL (data)");
}

TEST_F(ServerSideApplyTest, ClientSideAppliedObjectUpgradesWithoutConflict) {
  json cfg = Cm({{"key", "v1"}});
  json withAnnotation = cfg;
  withAnnotation["metadata"]["annotations"] = {{patch::kLastAppliedAnnotation, cfg.dump() + "\n"}};
  ASSERT_EQ(Call("POST", std::string(kCm) + "?fieldManager=kubectl-client-side-apply",
                 withAnnotation, "application/json")
                .status,
            201);
  std::string url = std::string(kCm) + "/x";
  Response r = Apply(url, Cm({{"key", "v2"}}), "kubectl");
  ASSERT_EQ(r.status, 200) << r.body;
  json o = Body(r);
  EXPECT_EQ(o["data"]["key"], "v2");
  EXPECT_EQ(o["metadata"]["annotations"][patch::kLastAppliedAnnotation],
            Cm({{"key", "v2"}}).dump() + "\n");
  EXPECT_EQ(FieldsOf(o, "kubectl"), json::parse(R"({"f:data":{"f:key":{}}})"));
}

TEST_F(ServerSideApplyTest, RequestErrors) {
  std::string url = std::string(kCm) + "/x";
  Response noManager = Call("PATCH", url, Cm({{"a", "1"}}), "application/apply-patch+yaml");
  EXPECT_EQ(noManager.status, 422);
  EXPECT_EQ(Body(noManager)["message"],
            "PatchOptions.meta.k8s.io \"\" is invalid: fieldManager: Required value: is required "
            "for apply patch");
  Response notObject = Apply(url, json::array({1}), "kubectl");
  EXPECT_EQ(notObject.status, 400);
  json wrongKind = Cm({{"a", "1"}});
  wrongKind["kind"] = "Secret";
  EXPECT_EQ(Apply(url, wrongKind, "kubectl").status, 400);
}

}  // namespace
}  // namespace kvol::apiserver
