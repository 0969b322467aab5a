// ApiHandler over a FakeStore and a small JSON test scheme: routing, auth, error shapes,
// admission, update strategies, patch, delete with finalizers, list selectors and watch.
#include "kvol/apiserver/handler.h"

#include <gtest/gtest.h>

#include <condition_variable>
#include <mutex>
#include <regex>

#include "kvol/apiserver/admission.h"
#include "kvol/apiserver/discovery.h"
#include "kvol/store/store.h"
#include "test_scheme.h"

// fake_store.h names `json` unqualified inside kvol::testing.
namespace kvol::testing {
using json = api::json;
}  // namespace kvol::testing
#include "testing/fake_store.h"

namespace kvol::apiserver {
namespace {

using api::json;

constexpr const char* kToken = "s3cret";

class HandlerTest : public ::testing::Test {
 protected:
  HandlerTest() {
    HandlerOptions o;
    o.store = &store_;
    o.scheme = &testing::TestScheme();
    o.token = kToken;
    o.now = [this] { return now_; };
    handler_ = std::make_unique<ApiHandler>(o);
    for (const char* ns : {"default", "kube-system"}) {
      EXPECT_EQ(Call("POST", "/api/v1/namespaces", {{"metadata", {{"name", ns}}}}).status, 201);
    }
  }

  Response Call(const std::string& method, const std::string& target, const json& body = nullptr,
                std::map<std::string, std::string> headers = {}) {
    if (!headers.count("authorization")) headers["authorization"] = std::string("Bearer ") + kToken;
    if (!headers.count("content-type")) headers["content-type"] = "application/json";
    return handler_
        ->Handle(Request::Make(method, target, body.is_null() ? "" : body.dump(), headers))
        .response;
  }
  Response Patch(const std::string& target, const json& body, const std::string& type) {
    return Call("PATCH", target, body, {{"content-type", type}});
  }
  static json Body(const Response& r) { return json::parse(r.body); }

  static json Pvc(const std::string& name) {
    return {{"apiVersion", "v1"},
            {"kind", "PersistentVolumeClaim"},
            {"metadata", {{"name", name}, {"labels", {{"app", "demo"}}}}},
            {"spec",
             {{"accessModes", {"ReadWriteOnce"}},
              {"resources", {{"requests", {{"storage", "1Gi"}}}}}}}};
  }
  json CreatePvc(const std::string& name, json obj = nullptr) {
    Response r = Call("POST", "/api/v1/namespaces/default/persistentvolumeclaims",
                      obj.is_null() ? Pvc(name) : obj);
    EXPECT_EQ(r.status, 201) << r.body;
    return Body(r);
  }
  void CreateClass(const std::string& name, bool isDefault, int64_t at) {
    int64_t saved = now_;
    now_ = at;
    json meta = {{"name", name}};
    if (isDefault) meta["annotations"] = {{kDefaultClassAnnotation, "true"}};
    Response r = Call("POST", "/apis/storage.k8s.io/v1/storageclasses",
                      {{"metadata", meta}, {"provisioner", "kvol.io/local"}});
    EXPECT_EQ(r.status, 201) << r.body;
    now_ = saved;
  }

  kvol::testing::FakeStore store_;
  int64_t now_ = 1714564800;  // 2024-05-01T12:00:00Z
  std::unique_ptr<ApiHandler> handler_;
};

TEST_F(HandlerTest, MissingOrWrongTokenIs401StatusButHealthAndVersionAreOpen) {
  Response r = Call("GET", "/api/v1/persistentvolumes", nullptr, {{"authorization", ""}});
  EXPECT_EQ(r.status, 401);
  EXPECT_EQ(Body(r), json::parse(R"({"kind":"Status","apiVersion":"v1","metadata":{},
      "status":"Failure","message":"Unauthorized","reason":"Unauthorized","code":401})"));
  EXPECT_EQ(Call("GET", "/api", nullptr, {{"authorization", "Bearer nope"}}).status, 401);
  EXPECT_EQ(Call("GET", "/api", nullptr, {{"authorization", "Basic s3cret"}}).status, 401);
  for (const char* p : {"/healthz", "/readyz", "/livez"}) {
    Response h = Call("GET", p, nullptr, {{"authorization", ""}});
    EXPECT_EQ(h.status, 200) << p;
    EXPECT_EQ(h.body, "ok");
  }
  // Loopback trust is off unless asked for.
  Request local = Request::Make("GET", "/api");
  local.fromLoopback = true;
  EXPECT_EQ(handler_->Handle(local).response.status, 401);
  Response v = Call("GET", "/version?timeout=5s", nullptr, {{"authorization", ""}});
  EXPECT_EQ(v.status, 200);
  EXPECT_EQ(Body(v)["gitVersion"], "v1.32.0-kvol");
  EXPECT_EQ(Body(v)["minor"], "32");
}

TEST_F(HandlerTest, LoopbackPeersWithoutATokenAreTrustedWhenConfigured) {
  HandlerOptions o = handler_->options();
  o.trustLoopback = true;
  ApiHandler h(o);
  Request req = Request::Make("GET", "/api/v1/namespaces/default");
  req.fromLoopback = true;
  EXPECT_EQ(h.Handle(req).response.status, 200);
  req.headers["authorization"] = "Bearer wrong";
  EXPECT_EQ(h.Handle(req).response.status, 401);  // a wrong token is refused even from loopback
  Request remote = Request::Make("GET", "/api/v1/namespaces/default");
  EXPECT_EQ(h.Handle(remote).response.status, 401);
}

TEST_F(HandlerTest, AggregatedDiscoveryHasTheExactContentTypeAndShortNames) {
  std::string accept =
      "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/"
      "json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList,application/json";
  Response core = Call("GET", "/api?timeout=32s", nullptr, {{"accept", accept}});
  EXPECT_EQ(core.contentType,
            "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList");
  json items = Body(core)["items"];
  ASSERT_EQ(items.size(), 1u);
  EXPECT_EQ(items[0]["metadata"]["name"], "");
  json pvc;
  for (const auto& r : items[0]["versions"][0]["resources"])
    if (r["resource"] == "persistentvolumeclaims") pvc = r;
  EXPECT_EQ(pvc["shortNames"], json::array({"pvc"}));
  EXPECT_EQ(pvc["scope"], "Namespaced");
  EXPECT_EQ(pvc["responseKind"],
            json::parse(R"({"group":"","version":"v1","kind":"PersistentVolumeClaim"})"));
  EXPECT_EQ(pvc["subresources"][0]["subresource"], "status");

  Response apis = Call("GET", "/apis", nullptr, {{"accept", accept}});
  EXPECT_EQ(Body(apis)["items"][0]["metadata"]["name"], "storage.k8s.io");

  // Legacy forms when aggregation is not asked for.
  EXPECT_EQ(Body(Call("GET", "/api"))["versions"], json::array({"v1"}));
  Response groups = Call("GET", "/apis");
  EXPECT_EQ(groups.contentType, "application/json");
  EXPECT_EQ(Body(groups)["groups"][0]["preferredVersion"]["groupVersion"], "storage.k8s.io/v1");
  json rl = Body(Call("GET", "/api/v1"));
  EXPECT_EQ(rl["kind"], "APIResourceList");
  bool sawStatus = false;
  for (const auto& r : rl["resources"]) sawStatus |= r["name"] == "persistentvolumeclaims/status";
  EXPECT_TRUE(sawStatus);
  EXPECT_EQ(Call("GET", "/apis/nothing.io/v1").status, 404);
}

TEST_F(HandlerTest, OpenApiV3DeclaresFieldValidationOnEachPatch) {
  json root = Body(Call("GET", "/openapi/v3"));
  EXPECT_EQ(root["paths"]["api/v1"]["serverRelativeURL"], "/openapi/v3/api/v1");
  EXPECT_TRUE(root["paths"].contains("apis/storage.k8s.io/v1"));
  json gv = Body(Call("GET", "/openapi/v3/api/v1?hash=abc"));
  json op = gv["paths"]["/api/v1/namespaces/{namespace}/persistentvolumeclaims/{name}"]["patch"];
  EXPECT_EQ(op["x-kubernetes-group-version-kind"]["kind"], "PersistentVolumeClaim");
  EXPECT_EQ(op["parameters"][0]["name"], "fieldValidation");
  json sc = Body(Call("GET", "/openapi/v3/apis/storage.k8s.io/v1"));
  EXPECT_TRUE(sc["paths"].contains("/apis/storage.k8s.io/v1/storageclasses/{name}"));
  EXPECT_EQ(Call("GET", "/openapi/v2").status, 404);
}

TEST_F(HandlerTest, RoutingErrors) {
  Response r = Call("GET", "/api/v1/widgets");
  EXPECT_EQ(r.status, 404);
  EXPECT_EQ(Body(r)["message"], "the server could not find the requested resource");
  EXPECT_EQ(Body(r)["reason"], "NotFound");
  Response m = Call("POST", "/api/v1/namespaces/default/persistentvolumeclaims/x", Pvc("x"));
  EXPECT_EQ(m.status, 405);
  EXPECT_EQ(Body(m)["reason"], "MethodNotAllowed");
  // StorageClass has no status subresource.
  EXPECT_EQ(Call("GET", "/apis/storage.k8s.io/v1/storageclasses/x/status").status, 404);
  EXPECT_EQ(Call("GET", "/api/v1/namespaces/default/persistentvolumeclaims/x/scale").status, 404);
}

TEST_F(HandlerTest, CreateFillsSystemMetadataAndProtectionFinalizer) {
  json o = CreatePvc("data");
  EXPECT_EQ(o["kind"], "PersistentVolumeClaim");
  EXPECT_EQ(o["apiVersion"], "v1");
  EXPECT_EQ(o["metadata"]["namespace"], "default");
  EXPECT_TRUE(std::regex_match(
      o["metadata"]["uid"].get<std::string>(),
      std::regex("[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}")))
      << o["metadata"]["uid"];
  EXPECT_EQ(o["metadata"]["creationTimestamp"], "2024-05-01T12:00:00Z");
  EXPECT_EQ(o["metadata"]["generation"], 1);
  EXPECT_EQ(o["metadata"]["finalizers"], json::array({"kubernetes.io/pvc-protection"}));
  EXPECT_FALSE(o["metadata"]["resourceVersion"].get<std::string>().empty());
  EXPECT_EQ(o["spec"]["volumeMode"], "Filesystem");  // the kind's defaulting ran
  EXPECT_EQ(o["status"]["phase"], "Pending");
  EXPECT_FALSE(o["spec"].contains("storageClassName"));  // no default class exists

  Response pv = Call("POST", "/api/v1/persistentvolumes", {{"metadata", {{"name", "pv1"}}}});
  EXPECT_EQ(Body(pv)["metadata"]["finalizers"], json::array({"kubernetes.io/pv-protection"}));
  EXPECT_FALSE(Body(pv)["metadata"].contains("namespace"));
}

TEST_F(HandlerTest, DefaultStorageClassIsTheNewestMarkedOneAndOnlyForAbsentClassName) {
  CreateClass("old-default", true, now_ - 100);
  CreateClass("new-default", true, now_ - 10);
  CreateClass("plain", false, now_);
  json a = CreatePvc("a");
  EXPECT_EQ(a["spec"]["storageClassName"], "new-default");
  json empty = Pvc("b");
  empty["spec"]["storageClassName"] = "";
  EXPECT_EQ(CreatePvc("b", empty)["spec"]["storageClassName"], "");
  json explicitClass = Pvc("c");
  explicitClass["spec"]["storageClassName"] = "plain";
  EXPECT_EQ(CreatePvc("c", explicitClass)["spec"]["storageClassName"], "plain");
  json nullClass = Pvc("d");
  nullClass["spec"]["storageClassName"] = nullptr;
  EXPECT_EQ(CreatePvc("d", nullClass)["spec"]["storageClassName"], "new-default");
}

TEST_F(HandlerTest, CreateErrorsHaveKubernetesMessages) {
  Response ns = Call("POST", "/api/v1/namespaces/nope/persistentvolumeclaims", Pvc("x"));
  EXPECT_EQ(ns.status, 404);
  EXPECT_EQ(Body(ns)["message"], "namespaces \"nope\" not found");

  CreatePvc("dup");
  Response dup = Call("POST", "/api/v1/namespaces/default/persistentvolumeclaims", Pvc("dup"));
  EXPECT_EQ(dup.status, 409);
  EXPECT_EQ(Body(dup), json::parse(R"({"kind":"Status","apiVersion":"v1","metadata":{},
      "status":"Failure","message":"persistentvolumeclaims \"dup\" already exists",
      "reason":"AlreadyExists","details":{"name":"dup","kind":"persistentvolumeclaims"},
      "code":409})"));

  json bad = Pvc("bad-claim");
  bad["spec"].erase("accessModes");
  bad["spec"].erase("resources");
  Response inv = Call("POST", "/api/v1/namespaces/default/persistentvolumeclaims", bad);
  EXPECT_EQ(inv.status, 422);
  json b = Body(inv);
  EXPECT_EQ(b["reason"], "Invalid");
  EXPECT_EQ(b["message"],
            "PersistentVolumeClaim \"bad-claim\" is invalid: [spec.accessModes: Required value, "
            "spec.resources.requests[storage]: Required value]");
  EXPECT_EQ(b["details"]["kind"], "PersistentVolumeClaim");
  EXPECT_EQ(
      b["details"]["causes"][0],
      json::parse(
          R"({"reason":"FieldValueRequired","message":"Required value","field":"spec.accessModes"})"));

  Response other = Call("POST", "/api/v1/namespaces/kube-system/persistentvolumeclaims", [] {
    json p = Pvc("x");
    p["metadata"]["namespace"] = "default";
    return p;
  }());
  EXPECT_EQ(other.status, 400);
  EXPECT_EQ(
      Body(other)["message"],
      "the namespace of the provided object does not match the namespace sent on the request");

  // Protobuf bodies decode only for Namespace, ConfigMap and Secret (protobuf_body_test.cc).
  Response proto = Call("POST", "/api/v1/namespaces/default/persistentvolumeclaims", nullptr,
                        {{"content-type", "application/vnd.kubernetes.protobuf"}});
  EXPECT_EQ(proto.status, 415);

  Response noName = Call("POST", "/api/v1/namespaces/default/persistentvolumeclaims",
                         {{"spec", Pvc("x")["spec"]}});
  EXPECT_EQ(noName.status, 422);
  EXPECT_EQ(Body(noName)["message"],
            "PersistentVolumeClaim \"\" is invalid: metadata.name: Required value: name or "
            "generateName is required");
}

TEST_F(HandlerTest, GenerateNameAddsFiveCharacters) {
  json p = Pvc("");
  p["metadata"].erase("name");
  p["metadata"]["generateName"] = "data-";
  json o = CreatePvc("", p);
  EXPECT_TRUE(std::regex_match(o["metadata"]["name"].get<std::string>(),
                               std::regex("data-[bcdfghjklmnpqrstvwxz2456789]{5}")))
      << o["metadata"]["name"];
}

TEST_F(HandlerTest, UnknownFieldsFollowFieldValidation) {
  json p = Pvc("u");
  p["spec"]["foo"] = 1;
  Response strict =
      Call("POST", "/api/v1/namespaces/default/persistentvolumeclaims?fieldValidation=Strict", p);
  EXPECT_EQ(strict.status, 400);
  EXPECT_EQ(Body(strict)["message"],
            "PersistentVolumeClaim in version \"v1\" cannot be handled as a PersistentVolumeClaim: "
            "strict decoding error: unknown field \"spec.foo\"");
  Response warn = Call("POST", "/api/v1/namespaces/default/persistentvolumeclaims", p);
  EXPECT_EQ(warn.status, 201);
  ASSERT_EQ(warn.headers.size(), 1u);
  EXPECT_EQ(warn.headers[0].first, "Warning");
  EXPECT_EQ(warn.headers[0].second, "299 - \"unknown field \\\"spec.foo\\\"\"");
  EXPECT_FALSE(Body(warn)["spec"].contains("foo"));
  p["metadata"]["name"] = "u2";
  Response ignore =
      Call("POST", "/api/v1/namespaces/default/persistentvolumeclaims?fieldValidation=Ignore", p);
  EXPECT_EQ(ignore.status, 201);
  EXPECT_TRUE(ignore.headers.empty());
}

TEST_F(HandlerTest, GetNotFoundNamesTheQualifiedResource) {
  Response r = Call("GET", "/api/v1/namespaces/default/persistentvolumeclaims/x");
  EXPECT_EQ(Body(r), json::parse(R"({"kind":"Status","apiVersion":"v1","metadata":{},
      "status":"Failure","message":"persistentvolumeclaims \"x\" not found","reason":"NotFound",
      "details":{"name":"x","kind":"persistentvolumeclaims"},"code":404})"));
  Response sc = Call("GET", "/apis/storage.k8s.io/v1/storageclasses/fast");
  EXPECT_EQ(Body(sc)["message"], "storageclasses.storage.k8s.io \"fast\" not found");
  EXPECT_EQ(Body(sc)["details"]["group"], "storage.k8s.io");
}

TEST_F(HandlerTest, UpdateWithoutResourceVersionIsUnconditional) {
  // kube-apiserver allows it for the built-in kinds (AllowUnconditionalUpdate): `curl -X PUT` of
  // a manifest without metadata.resourceVersion replaces the current version.
  json o = CreatePvc("c");
  std::string url = "/api/v1/namespaces/default/persistentvolumeclaims/c";
  json upd = o;
  upd["metadata"].erase("resourceVersion");
  upd["metadata"]["labels"]["tier"] = "gold";
  Response ok = Call("PUT", url, upd);
  ASSERT_EQ(ok.status, 200) << ok.body;
  EXPECT_EQ(Body(ok)["metadata"]["labels"]["tier"], "gold");
  EXPECT_NE(Body(ok)["metadata"]["resourceVersion"], o["metadata"]["resourceVersion"]);
}

TEST_F(HandlerTest, UpdateWithStaleResourceVersionIsConflict) {
  json o = CreatePvc("c");
  std::string url = "/api/v1/namespaces/default/persistentvolumeclaims/c";
  json upd = o;
  upd["metadata"]["labels"]["tier"] = "gold";
  Response ok = Call("PUT", url, upd);
  EXPECT_EQ(ok.status, 200) << ok.body;
  EXPECT_NE(Body(ok)["metadata"]["resourceVersion"], o["metadata"]["resourceVersion"]);
  Response stale = Call("PUT", url, upd);  // still carries the old resourceVersion
  EXPECT_EQ(stale.status, 409);
  EXPECT_EQ(Body(stale)["message"],
            "Operation cannot be fulfilled on persistentvolumeclaims \"c\": the object has been "
            "modified; please apply your changes to the latest version and try again");
  EXPECT_EQ(Body(stale)["reason"], "Conflict");
  json wrongName = Body(ok);
  wrongName["metadata"]["name"] = "d";
  EXPECT_EQ(Body(Call("PUT", url, wrongName))["message"],
            "the name of the object (d) does not match the name on the URL (c)");
  json immut = Body(ok);
  immut["spec"]["storageClassName"] = "other";
  Response inv = Call("PUT", url, immut);
  EXPECT_EQ(inv.status, 422);
  EXPECT_EQ(Body(inv)["message"],
            "PersistentVolumeClaim \"c\" is invalid: spec: Forbidden: spec is immutable after "
            "creation");
}

TEST_F(HandlerTest, StatusSubresourceWritesOnlyStatusAndMainWritesKeepIt) {
  json o = CreatePvc("s");
  std::string url = "/api/v1/namespaces/default/persistentvolumeclaims/s";
  json withStatus = o;
  withStatus["status"] = {{"phase", "Bound"}};
  withStatus["metadata"]["labels"]["sneaky"] = "yes";
  withStatus["metadata"].erase("resourceVersion");
  Response st = Call("PUT", url + "/status", withStatus);
  ASSERT_EQ(st.status, 200) << st.body;
  EXPECT_EQ(Body(st)["status"]["phase"], "Bound");
  EXPECT_FALSE(Body(st)["metadata"]["labels"].contains("sneaky"));
  EXPECT_EQ(Body(st)["metadata"]["generation"], 1);

  json main = Body(st);
  main["status"] = {{"phase", "Lost"}};
  main["metadata"]["labels"]["x"] = "y";
  Response m = Call("PUT", url, main);
  ASSERT_EQ(m.status, 200) << m.body;
  EXPECT_EQ(Body(m)["status"]["phase"], "Bound");
  EXPECT_EQ(Body(m)["metadata"]["labels"]["x"], "y");
  EXPECT_EQ(Body(m)["metadata"]["generation"], 1);  // metadata-only change

  Response sp =
      Patch(url + "/status", {{"status", {{"phase", "Lost"}}}}, "application/merge-patch+json");
  EXPECT_EQ(Body(sp)["status"]["phase"], "Lost");
}

TEST_F(HandlerTest, PatchTypesNoChangeAndGeneration) {
  json o = CreatePvc("p");
  std::string url = "/api/v1/namespaces/default/persistentvolumeclaims/p";
  Response same = Patch(url, {{"metadata", {{"labels", {{"app", "demo"}}}}}},
                        "application/strategic-merge-patch+json");
  ASSERT_EQ(same.status, 200) << same.body;
  EXPECT_EQ(Body(same)["metadata"]["resourceVersion"], o["metadata"]["resourceVersion"]);

  Response merge = Patch(url, {{"spec", {{"resources", {{"requests", {{"storage", "2Gi"}}}}}}}},
                         "application/merge-patch+json");
  ASSERT_EQ(merge.status, 200) << merge.body;
  EXPECT_EQ(Body(merge)["spec"]["resources"]["requests"]["storage"], "2Gi");
  EXPECT_EQ(Body(merge)["metadata"]["generation"], 2);

  Response jp = Patch(
      url, json::array({{{"op", "replace"}, {"path", "/metadata/labels/app"}, {"value", "x"}}}),
      "application/json-patch+json");
  ASSERT_EQ(jp.status, 200) << jp.body;
  EXPECT_EQ(Body(jp)["metadata"]["labels"]["app"], "x");
  EXPECT_EQ(Body(jp)["metadata"]["generation"], 2);

  Response failed = Patch(
      url, json::array({{{"op", "test"}, {"path", "/metadata/labels/app"}, {"value", "nope"}}}),
      "application/json-patch+json");
  EXPECT_EQ(failed.status, 422) << failed.body;

  Response apply = Patch(url, Pvc("p"), "application/apply-patch+yaml");  // no fieldManager
  EXPECT_EQ(apply.status, 422);
  EXPECT_EQ(Body(apply)["reason"], "Invalid");

  Response strict = Call("PATCH", url + "?fieldValidation=Strict", {{"spec", {{"bar", 1}}}},
                         {{"content-type", "application/merge-patch+json"}});
  EXPECT_EQ(strict.status, 400);
  EXPECT_EQ(Body(strict)["message"],
            "PersistentVolumeClaim in version \"v1\" cannot be handled as a "
            "PersistentVolumeClaim: strict decoding error: unknown field \"spec.bar\"");
  EXPECT_EQ(Patch("/api/v1/namespaces/default/persistentvolumeclaims/zz", json::object(),
                  "application/merge-patch+json")
                .status,
            404);
}

TEST_F(HandlerTest, DeleteWithFinalizerWaitsForItsRemoval) {
  CreatePvc("f");
  std::string url = "/api/v1/namespaces/default/persistentvolumeclaims/f";
  Response d = Call("DELETE", url, {{"propagationPolicy", "Background"}});
  ASSERT_EQ(d.status, 200) << d.body;
  EXPECT_TRUE(Body(d)["metadata"].contains("deletionTimestamp"));
  EXPECT_EQ(Call("GET", url).status, 200);
  Response p =
      Patch(url, {{"metadata", {{"finalizers", nullptr}}}}, "application/merge-patch+json");
  EXPECT_EQ(p.status, 200) << p.body;
  EXPECT_EQ(Call("GET", url).status, 404);
  EXPECT_EQ(Body(Call("DELETE", url))["message"], "persistentvolumeclaims \"f\" not found");

  Response sc = Call("POST", "/apis/storage.k8s.io/v1/storageclasses",
                     {{"metadata", {{"name", "gone"}}}, {"provisioner", "x"}});
  ASSERT_EQ(sc.status, 201);
  json pre = {{"preconditions", {{"uid", "not-it"}}}};
  Response pc = Call("DELETE", "/apis/storage.k8s.io/v1/storageclasses/gone", pre);
  EXPECT_EQ(pc.status, 409);
  EXPECT_EQ(Body(pc)["message"],
            "Operation cannot be fulfilled on storageclasses.storage.k8s.io \"gone\": "
            "Precondition failed: UID in precondition: not-it, UID in object meta: " +
                Body(sc)["metadata"]["uid"].get<std::string>());
  EXPECT_EQ(
      Call("DELETE", "/apis/storage.k8s.io/v1/storageclasses/gone?gracePeriodSeconds=0").status,
      200);
  EXPECT_EQ(Call("GET", "/apis/storage.k8s.io/v1/storageclasses/gone").status, 404);
}

TEST_F(HandlerTest, DeletingAScheduledPodIsGraceful) {
  const std::string pods = "/api/v1/namespaces/default/pods";
  auto pod = [](const std::string& name, const std::string& node, json extra = json::object()) {
    json spec = {{"containers", {{{"name", "c"}, {"image", "busybox"}}}}};
    if (!node.empty()) spec["nodeName"] = node;
    spec.update(extra);
    return json{{"metadata", {{"name", name}}}, {"spec", spec}};
  };
  ASSERT_EQ(Call("POST", pods, pod("p", "n1")).status, 201);
  // Default grace: 30 s from now; the pod stays until its node deletes it with grace 0.
  Response d = Call("DELETE", pods + "/p");
  ASSERT_EQ(d.status, 200) << d.body;
  EXPECT_EQ(Body(d)["kind"], "Pod");
  EXPECT_EQ(Body(d)["metadata"]["deletionTimestamp"], "2024-05-01T12:00:30Z");
  EXPECT_EQ(Body(d)["metadata"]["deletionGracePeriodSeconds"], 30);
  EXPECT_EQ(Call("GET", pods + "/p").status, 200);
  // A longer or unspecified grace period leaves the pending deletion alone; a shorter one
  // moves the deadline earlier, counted from the first request's start.
  now_ += 5;
  Response again = Call("DELETE", pods + "/p?gracePeriodSeconds=60");
  EXPECT_EQ(Body(again)["metadata"]["deletionTimestamp"], "2024-05-01T12:00:30Z");
  EXPECT_EQ(Body(Call("DELETE", pods + "/p"))["metadata"]["deletionGracePeriodSeconds"], 30);
  Response shorter = Call("DELETE", pods + "/p", {{"gracePeriodSeconds", 10}});
  EXPECT_EQ(Body(shorter)["metadata"]["deletionTimestamp"], "2024-05-01T12:00:10Z");
  EXPECT_EQ(Body(shorter)["metadata"]["deletionGracePeriodSeconds"], 10);
  // The node's final delete.
  EXPECT_EQ(Call("DELETE", pods + "/p?gracePeriodSeconds=0").status, 200);
  EXPECT_EQ(Call("GET", pods + "/p").status, 404);

  // spec.terminationGracePeriodSeconds, and the query over the body's DeleteOptions.
  ASSERT_EQ(Call("POST", pods, pod("t", "n1", {{"terminationGracePeriodSeconds", 7}})).status, 201);
  EXPECT_EQ(Body(Call("DELETE", pods + "/t"))["metadata"]["deletionGracePeriodSeconds"], 7);
  ASSERT_EQ(Call("POST", pods, pod("q", "n1")).status, 201);
  Response q = Call("DELETE", pods + "/q?gracePeriodSeconds=3", {{"gracePeriodSeconds", 9}});
  EXPECT_EQ(Body(q)["metadata"]["deletionGracePeriodSeconds"], 3);
  EXPECT_EQ(Body(q)["metadata"]["deletionTimestamp"], "2024-05-01T12:00:08Z");

  // Not scheduled, already finished, or grace 0: gone at once.
  ASSERT_EQ(Call("POST", pods, pod("u", "")).status, 201);
  EXPECT_FALSE(
      Body(Call("DELETE", pods + "/u"))["metadata"].contains("deletionGracePeriodSeconds"));
  EXPECT_EQ(Call("GET", pods + "/u").status, 404);
  ASSERT_EQ(Call("POST", pods, pod("s", "n1")).status, 201);
  json done = Body(Call("GET", pods + "/s"));
  done["status"] = {{"phase", "Succeeded"}};
  ASSERT_EQ(Call("PUT", pods + "/s/status", done).status, 200);
  EXPECT_EQ(Call("DELETE", pods + "/s").status, 200);
  EXPECT_EQ(Call("GET", pods + "/s").status, 404);
  ASSERT_EQ(Call("POST", pods, pod("z", "n1")).status, 201);
  EXPECT_EQ(Call("DELETE", pods + "/z", {{"gracePeriodSeconds", 0}}).status, 200);
  EXPECT_EQ(Call("GET", pods + "/z").status, 404);
  // A negative grace period means one second, as in Kubernetes; garbage is a 400.
  ASSERT_EQ(Call("POST", pods, pod("m", "n1")).status, 201);
  EXPECT_EQ(Body(Call("DELETE",
                      pods + "/m?gracePeriodSeconds=-5"))["metadata"]["deletionGracePeriodSeconds"],
            1);
  Response bad = Call("DELETE", pods + "/m?gracePeriodSeconds=soon");
  EXPECT_EQ(bad.status, 400);
  EXPECT_EQ(Body(bad)["message"], "strconv.ParseInt: parsing \"soon\": invalid syntax");

  // Finalizers still hold the final delete.
  json fin = pod("f", "n1");
  fin["metadata"]["finalizers"] = {"example.com/hold"};
  ASSERT_EQ(Call("POST", pods, fin).status, 201);
  EXPECT_EQ(Call("DELETE", pods + "/f").status, 200);
  EXPECT_EQ(Call("DELETE", pods + "/f?gracePeriodSeconds=0").status, 200);
  EXPECT_EQ(Call("GET", pods + "/f").status, 200);
  EXPECT_EQ(
      Patch(pods + "/f", {{"metadata", {{"finalizers", nullptr}}}}, "application/merge-patch+json")
          .status,
      200);
  EXPECT_EQ(Call("GET", pods + "/f").status, 404);
}

TEST_F(HandlerTest, ListSelectorsAndAllNamespaces) {
  CreatePvc("a");
  json b = Pvc("b");
  b["metadata"]["labels"] = {{"app", "other"}};
  CreatePvc("b", b);
  json inSys = Pvc("c");
  ASSERT_EQ(Call("POST", "/api/v1/namespaces/kube-system/persistentvolumeclaims", inSys).status,
            201);

  json l = Body(Call("GET", "/api/v1/namespaces/default/persistentvolumeclaims?limit=500"));
  EXPECT_EQ(l["kind"], "PersistentVolumeClaimList");
  EXPECT_EQ(l["items"].size(), 2u);
  EXPECT_FALSE(l["metadata"]["resourceVersion"].get<std::string>().empty());
  EXPECT_EQ(Body(Call("GET", "/api/v1/persistentvolumeclaims"))["items"].size(), 3u);
  json sel = Body(Call("GET", "/api/v1/persistentvolumeclaims?labelSelector=app%3Ddemo"));
  EXPECT_EQ(sel["items"].size(), 2u);
  json byName = Body(Call(
      "GET", "/api/v1/namespaces/default/persistentvolumeclaims?fieldSelector=metadata.name%3Db"));
  ASSERT_EQ(byName["items"].size(), 1u);
  EXPECT_EQ(byName["items"][0]["metadata"]["name"], "b");
  json byNs = Body(
      Call("GET", "/api/v1/persistentvolumeclaims?fieldSelector=metadata.namespace%3Dkube-system"));
  EXPECT_EQ(byNs["items"].size(), 1u);
  Response bad = Call("GET", "/api/v1/persistentvolumeclaims?fieldSelector=spec.foo%3Dx");
  EXPECT_EQ(bad.status, 400);
  EXPECT_EQ(Body(bad)["message"], "field label not supported: spec.foo");
  EXPECT_EQ(Call("GET", "/api/v1/pods?fieldSelector=spec.nodeName%3Dn1").status, 200);
  EXPECT_EQ(Call("GET", "/api/v1/persistentvolumeclaims?labelSelector=a%20in%20(").status, 400);
  // A namespace nobody created lists empty.
  EXPECT_EQ(Body(Call("GET", "/api/v1/namespaces/ghost/persistentvolumeclaims"))["items"].size(),
            0u);
}

TEST_F(HandlerTest, TableWhenAskedFor) {
  CreatePvc("t");
  std::string accept = "application/json;as=Table;v=v1;g=meta.k8s.io,application/json";
  json t = Body(Call("GET", "/api/v1/namespaces/default/persistentvolumeclaims", nullptr,
                     {{"accept", accept}}));
  EXPECT_EQ(t["kind"], "Table");
  ASSERT_EQ(t["rows"].size(), 1u);
  EXPECT_EQ(t["rows"][0]["cells"][0], "t");
  EXPECT_EQ(t["rows"][0]["object"]["kind"], "PartialObjectMetadata");
  EXPECT_FALSE(t["metadata"]["resourceVersion"].get<std::string>().empty());
  json full =
      Body(Call("GET", "/api/v1/namespaces/default/persistentvolumeclaims?includeObject=Object",
                nullptr, {{"accept", accept}}));
  EXPECT_EQ(full["rows"][0]["object"]["kind"], "PersistentVolumeClaim");
  json one = Body(Call("GET", "/api/v1/namespaces/default/persistentvolumeclaims/t", nullptr,
                       {{"accept", accept}}));
  EXPECT_EQ(one["rows"].size(), 1u);
}

// Collects a watch's lines.
struct Lines {
  std::mutex mu;
  std::condition_variable cv;
  std::vector<json> lines;
  bool ended = false;
  void Add(const std::string& l) {
    std::lock_guard<std::mutex> g(mu);
    EXPECT_EQ(l.back(), '\n');
    lines.push_back(json::parse(l));
    cv.notify_all();
  }
  bool WaitFor(size_t n) {
    std::unique_lock<std::mutex> g(mu);
    return cv.wait_for(g, std::chrono::seconds(5), [&] { return lines.size() >= n; });
  }
};

TEST_F(HandlerTest, WatchFromZeroSendsCurrentStateThenChanges) {
  json a = CreatePvc("a");
  Reply r = handler_->Handle(Request::Make(
      "GET",
      "/api/v1/namespaces/default/persistentvolumeclaims?watch=true&fieldSelector=metadata.name%3Da"
      "&allowWatchBookmarks=true&timeoutSeconds=5",
      "", {{"authorization", std::string("Bearer ") + kToken}}));
  ASSERT_TRUE(r.watch);
  EXPECT_EQ(r.watch->timeoutSeconds, 5);
  EXPECT_TRUE(r.watch->allowBookmarks);
  Lines got;
  ASSERT_TRUE(r.watch->Start([&](std::string l) { got.Add(l); }, [&] {}).ok());
  ASSERT_TRUE(got.WaitFor(1));
  EXPECT_EQ(got.lines[0]["type"], "ADDED");
  EXPECT_EQ(got.lines[0]["object"]["metadata"]["name"], "a");
  CreatePvc("b");  // filtered out
  Patch("/api/v1/namespaces/default/persistentvolumeclaims/a",
        {{"metadata", {{"labels", {{"x", "1"}}}}}}, "application/merge-patch+json");
  ASSERT_TRUE(got.WaitFor(2));
  EXPECT_EQ(got.lines[1]["type"], "MODIFIED");
  EXPECT_EQ(got.lines[1]["object"]["metadata"]["labels"]["x"], "1");
  json bm = json::parse(r.watch->BookmarkLine());
  EXPECT_EQ(bm["type"], "BOOKMARK");
  EXPECT_EQ(bm["object"]["metadata"]["resourceVersion"],
            got.lines[1]["object"]["metadata"]["resourceVersion"]);
  EXPECT_EQ(bm["object"]["kind"], "PersistentVolumeClaim");
  r.watch.reset();
}

TEST_F(HandlerTest, WatchFromAResourceVersionSendsOnlyLaterEventsAsTables) {
  json a = CreatePvc("a");
  std::string rv = a["metadata"]["resourceVersion"];
  CreatePvc("b");
  Reply r = handler_->Handle(Request::Make(
      "GET", "/api/v1/namespaces/default/persistentvolumeclaims?watch=true&resourceVersion=" + rv,
      "",
      {{"authorization", std::string("Bearer ") + kToken},
       {"accept", "application/json;as=Table;v=v1;g=meta.k8s.io,application/json"}}));
  ASSERT_TRUE(r.watch);
  Lines got;
  ASSERT_TRUE(r.watch->Start([&](std::string l) { got.Add(l); }, [&] {}).ok());
  ASSERT_TRUE(got.WaitFor(1));
  EXPECT_EQ(got.lines[0]["type"], "ADDED");
  EXPECT_EQ(got.lines[0]["object"]["kind"], "Table");
  EXPECT_EQ(got.lines[0]["object"]["rows"][0]["cells"][0], "b");
  Call("DELETE", "/api/v1/namespaces/default/persistentvolumeclaims/b");
  Patch("/api/v1/namespaces/default/persistentvolumeclaims/b",
        {{"metadata", {{"finalizers", nullptr}}}}, "application/merge-patch+json");
  ASSERT_TRUE(got.WaitFor(3));
  EXPECT_EQ(got.lines[1]["type"], "MODIFIED");
  EXPECT_EQ(got.lines[2]["type"], "DELETED");
}

TEST_F(HandlerTest, WatchFromACompactedVersionIsExpired) {
  json a = CreatePvc("a");
  CreatePvc("b");
  ASSERT_TRUE(store_.Compact(store_.CurrentRevision()).ok());
  Reply r = handler_->Handle(
      Request::Make("GET",
                    "/api/v1/namespaces/default/persistentvolumeclaims?watch=1&resourceVersion=" +
                        a["metadata"]["resourceVersion"].get<std::string>(),
                    "", {{"authorization", std::string("Bearer ") + kToken}}));
  ASSERT_TRUE(r.watch);
  Lines got;
  bool ended = false;
  ASSERT_TRUE(r.watch->Start([&](std::string l) { got.Add(l); }, [&] { ended = true; }).ok());
  ASSERT_TRUE(got.WaitFor(1));
  EXPECT_EQ(got.lines[0]["type"], "ERROR");
  EXPECT_EQ(got.lines[0]["object"]["code"], 410);
  EXPECT_EQ(got.lines[0]["object"]["reason"], "Expired");
  EXPECT_TRUE(ended);
}

}  // namespace
}  // namespace kvol::apiserver
