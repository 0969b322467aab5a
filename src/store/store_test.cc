#include <gtest/gtest.h>

#include "kvol/store/continue_token.h"
#include "kvol/store/op_plan.h"
#include "kvol/store/store.h"

namespace kvol::store {
namespace {

TEST(KeysTest, KeyForAndPrefixFor) {
  EXPECT_EQ(KeyFor("persistentvolumeclaims", "default", "data"),
            "/registry/persistentvolumeclaims/default/data");
  EXPECT_EQ(KeyFor("persistentvolumes", "", "pv1"), "/registry/persistentvolumes/pv1");
  EXPECT_EQ(PrefixFor("persistentvolumeclaims"), "/registry/persistentvolumeclaims/");
  EXPECT_EQ(PrefixFor("persistentvolumeclaims", "ns1"), "/registry/persistentvolumeclaims/ns1/");
  EXPECT_EQ(PrefixEnd("/registry/pods/"), "/registry/pods0");
  EXPECT_EQ(PrefixEnd(""), "\xff");
}

TEST(ContinueTokenTest, RoundTripsInKubeApiserverFormat) {
  std::string t = EncodeContinue(42, "/registry/pods/", "/registry/pods/ns/p1");
  EXPECT_EQ(t.find('='), std::string::npos);  // unpadded base64url
  auto pos = DecodeContinue(t, "/registry/pods/");
  ASSERT_TRUE(pos.ok()) << pos.status().ToString();
  EXPECT_EQ(pos->revision, 42);
  EXPECT_EQ(pos->startAfter, "/registry/pods/ns/p1");
  // {"rv":42,"start":"ns/p1\u0000","v":"meta.k8s.io/v1"}: kube-apiserver's fields.
  EXPECT_EQ(t, "eyJydiI6NDIsInN0YXJ0IjoibnMvcDFcdTAwMDAiLCJ2IjoibWV0YS5rOHMuaW8vdjEifQ");
}

TEST(ContinueTokenTest, RejectsGarbage) {
  auto bad = DecodeContinue("!!!", "/registry/pods/");
  EXPECT_EQ(bad.status().code(), Code::kBadRequest);
  EXPECT_EQ(bad.status().message(), "continue key is not valid: illegal base64 data");
  // {"v":"meta.k8s.io/v1","rv":1,"start":"../x\u0000"}
  std::string escape = EncodeContinue(1, "/registry/pods/", "/registry/pods/../x");
  EXPECT_EQ(DecodeContinue(escape, "/registry/pods/").status().message(),
            "continue key is not valid: key provided is not valid");
}

json Obj(std::vector<std::string> finalizers = {}) {
  json v = {{"metadata", {{"name", "a"}, {"resourceVersion", "7"}, {"generation", 1}}}};
  if (!finalizers.empty()) v["metadata"]["finalizers"] = finalizers;
  return v;
}

TEST(PlanOpTest, PreconditionsNameTheKey) {
  Object cur{"/k", Obj(), 3, 7};
  EXPECT_EQ(PlanOp(Op::Create("/k", Obj()), &cur, "T").status().message(),
            "key \"/k\" already exists");
  EXPECT_EQ(PlanOp(Op::Update("/k", Obj()), nullptr, "T").status().message(),
            "key \"/k\" not found");
  auto stale = PlanOp(Op::Update("/k", Obj(), 6), &cur, "T");
  EXPECT_EQ(stale.status().code(), Code::kConflict);
  EXPECT_EQ(stale.status().message(),
            "key \"/k\": the object has been modified (expected resourceVersion 6, current 7)");
  auto ok = PlanOp(Op::Update("/k", Obj(), 7), &cur, "T");
  ASSERT_TRUE(ok.ok());
  EXPECT_FALSE(ok->value["metadata"].contains("resourceVersion"));
  EXPECT_EQ(PlanOp(Op::Create("/k", json::array()), nullptr, "T").status().code(),
            Code::kBadRequest);
}

TEST(PlanOpTest, FinalizerRule) {
  const std::string now = "2026-01-02T03:04:05Z";
  Object plain{"/k", Obj(), 3, 7};
  auto del = PlanOp(Op::Delete("/k"), &plain, now);
  ASSERT_TRUE(del.ok());
  EXPECT_EQ(del->kind, PlannedWrite::Kind::kDelete);

  Object held{"/k", Obj({"kubernetes.io/pv-protection"}), 3, 7};
  auto mark = PlanOp(Op::Delete("/k"), &held, now);
  ASSERT_TRUE(mark.ok());
  EXPECT_EQ(mark->kind, PlannedWrite::Kind::kPut);
  EXPECT_EQ(mark->value["metadata"]["deletionTimestamp"], now);
  EXPECT_EQ(mark->value["metadata"]["deletionGracePeriodSeconds"], 0);
  EXPECT_EQ(mark->value["metadata"]["generation"], 2);

  Object marked{"/k", mark->value, 3, 8};
  EXPECT_EQ(PlanOp(Op::Delete("/k"), &marked, now)->kind, PlannedWrite::Kind::kNone);
  Op force = Op::Delete("/k");
  force.force = true;
  EXPECT_EQ(PlanOp(force, &held, now)->kind, PlannedWrite::Kind::kDelete);

  json released = mark->value;
  released["metadata"]["finalizers"] = json::array();
  EXPECT_EQ(PlanOp(Op::Update("/k", released), &marked, now)->kind, PlannedWrite::Kind::kDelete);
  json stillHeld = mark->value;
  EXPECT_EQ(PlanOp(Op::Update("/k", stillHeld), &marked, now)->kind, PlannedWrite::Kind::kPut);
}

}  // namespace
}  // namespace kvol::store
