// DELETE with propagationPolicy / orphanDependents: the garbage collector's finalizers
// (foregroundDeletion, orphan) as kube-apiserver's generic registry sets them.
#include <gtest/gtest.h>

#include "kvol/apiserver/handler.h"
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

constexpr int64_t kNow = 1767225600;  // 2026-01-01T00:00:00Z

class DeleteGcTest : public ::testing::Test {
 protected:
  DeleteGcTest() {
    HandlerOptions o;
    o.store = &store_;
    o.scheme = &testing::TestScheme();
    o.now = [] { return kNow; };
    handler_ = std::make_unique<ApiHandler>(o);
    EXPECT_EQ(Call("POST", "/api/v1/namespaces", {{"metadata", {{"name", "default"}}}}).status,
              201);
  }
  Response Call(const std::string& method, const std::string& target, const json& body = nullptr) {
    return handler_
        ->Handle(Request::Make(method, target, body.is_null() ? "" : body.dump(),
                               {{"content-type", "application/json"}}))
        .response;
  }
  static json Body(const Response& r) { return json::parse(r.body); }
  // A StorageClass (no finalizers of its own) named `name`, with `finalizers`.
  std::string Class(const std::string& name, json finalizers = json::array()) {
    json meta = {{"name", name}};
    if (!finalizers.empty()) meta["finalizers"] = finalizers;
    Response r = Call("POST", "/apis/storage.k8s.io/v1/storageclasses",
                      {{"metadata", meta}, {"provisioner", "x"}});
    EXPECT_EQ(r.status, 201) << r.body;
    return "/apis/storage.k8s.io/v1/storageclasses/" + name;
  }

  kvol::testing::FakeStore store_;
  std::unique_ptr<ApiHandler> handler_;
};

TEST_F(DeleteGcTest, ForegroundMarksTheObjectAndAddsTheFinalizer) {
  std::string url = Class("fg");
  Response d = Call("DELETE", url, {{"propagationPolicy", "Foreground"}});
  ASSERT_EQ(d.status, 200) << d.body;
  json got = Body(Call("GET", url));
  EXPECT_EQ(got["metadata"]["finalizers"], json::array({"foregroundDeletion"}));
  EXPECT_EQ(got["metadata"]["deletionTimestamp"], "2026-01-01T00:00:00Z");
  EXPECT_EQ(got["metadata"]["deletionGracePeriodSeconds"], 0);
  EXPECT_EQ(Body(d)["metadata"]["finalizers"], got["metadata"]["finalizers"]);
}

TEST_F(DeleteGcTest, QueryParameterAndOrphan) {
  std::string url = Class("or");
  Response d = Call("DELETE", url + "?propagationPolicy=Orphan");
  ASSERT_EQ(d.status, 200) << d.body;
  EXPECT_EQ(Body(Call("GET", url))["metadata"]["finalizers"], json::array({"orphan"}));
  // Deleting again in the foreground swaps the finalizer; the first deletionTimestamp stays.
  ASSERT_EQ(Call("DELETE", url, {{"propagationPolicy", "Foreground"}}).status, 200);
  json got = Body(Call("GET", url));
  EXPECT_EQ(got["metadata"]["finalizers"], json::array({"foregroundDeletion"}));
  EXPECT_EQ(got["metadata"]["deletionTimestamp"], "2026-01-01T00:00:00Z");
  // Background removes the collector's finalizers: with none left the object goes.
  ASSERT_EQ(Call("DELETE", url, {{"propagationPolicy", "Background"}}).status, 200);
  EXPECT_EQ(Call("GET", url).status, 404);
}

TEST_F(DeleteGcTest, LegacyOrphanDependents) {
  std::string url = Class("legacy");
  ASSERT_EQ(Call("DELETE", url, {{"orphanDependents", true}}).status, 200);
  EXPECT_EQ(Body(Call("GET", url))["metadata"]["finalizers"], json::array({"orphan"}));
  // orphanDependents=false is a cascade; on an object with another finalizer it stays: 202.
  std::string held = Class("held", {"example.com/keep"});
  Response d = Call("DELETE", held + "?orphanDependents=false");
  EXPECT_EQ(d.status, 202) << d.body;
  EXPECT_EQ(Body(Call("GET", held))["metadata"]["finalizers"], json::array({"example.com/keep"}));
  Response both =
      Call("DELETE", url, {{"orphanDependents", true}, {"propagationPolicy", "Orphan"}});
  EXPECT_EQ(both.status, 422);
  EXPECT_EQ(Body(both)["message"],
            "StorageClass \"legacy\" is invalid: propagationPolicy: Invalid value: \"Orphan\": "
            "orphanDependents and deletionPropagation cannot be both set");
}

TEST_F(DeleteGcTest, WithoutAPolicyTheFinalizersOnTheObjectDecide) {
  std::string url = Class("pre", {"orphan"});
  ASSERT_EQ(Call("DELETE", url).status, 200);
  json got = Body(Call("GET", url));
  EXPECT_EQ(got["metadata"]["finalizers"], json::array({"orphan"}));
  EXPECT_TRUE(got["metadata"].contains("deletionTimestamp"));
  // Background without GC finalizers deletes at once.
  std::string plain = Class("plain");
  ASSERT_EQ(Call("DELETE", plain, {{"propagationPolicy", "Background"}}).status, 200);
  EXPECT_EQ(Call("GET", plain).status, 404);
}

TEST_F(DeleteGcTest, OtherFinalizersAreKept) {
  Response c = Call("POST", "/api/v1/namespaces/default/persistentvolumeclaims",
                    {{"metadata", {{"name", "c"}}},
                     {"spec",
                      {{"accessModes", {"ReadWriteOnce"}},
                       {"resources", {{"requests", {{"storage", "1Gi"}}}}}}}});
  ASSERT_EQ(c.status, 201) << c.body;
  std::string url = "/api/v1/namespaces/default/persistentvolumeclaims/c";
  ASSERT_EQ(Call("DELETE", url, {{"propagationPolicy", "Foreground"}}).status, 200);
  EXPECT_EQ(Body(Call("GET", url))["metadata"]["finalizers"],
            json::array({"kubernetes.io/pvc-protection", "foregroundDeletion"}));
}

TEST_F(DeleteGcTest, GracefulPodDeletionCarriesTheFinalizer) {
  Response p = Call("POST", "/api/v1/namespaces/default/pods",
                    {{"metadata", {{"name", "p"}}},
                     {"spec", {{"nodeName", "n1"}, {"terminationGracePeriodSeconds", 20}}}});
  ASSERT_EQ(p.status, 201) << p.body;
  std::string url = "/api/v1/namespaces/default/pods/p";
  ASSERT_EQ(Call("DELETE", url, {{"propagationPolicy", "Foreground"}}).status, 200);
  json got = Body(Call("GET", url));
  EXPECT_EQ(got["metadata"]["finalizers"], json::array({"foregroundDeletion"}));
  EXPECT_EQ(got["metadata"]["deletionGracePeriodSeconds"], 20);
  EXPECT_EQ(got["metadata"]["deletionTimestamp"], "2026-01-01T00:00:20Z");
  // A pending graceful deletion keeps its finalizers (Kubernetes' errAlreadyDeleting).
  ASSERT_EQ(Call("DELETE", url, {{"propagationPolicy", "Orphan"}}).status, 200);
  EXPECT_EQ(Body(Call("GET", url))["metadata"]["finalizers"], json::array({"foregroundDeletion"}));
}

}  // namespace
}  // namespace kvol::apiserver
