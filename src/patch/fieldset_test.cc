// FieldSet and its fieldsV1 codec, against managedFields as a real cluster writes them.
#include "fieldset.h"

#include <gtest/gtest.h>

namespace kvol::patch {
namespace {

// A Deployment created by `kubectl apply` (client-side), as kube-apiserver 1.32 stores it.
const char* kDeploymentFieldsV1 = R"({
  "f:metadata": {"f:annotations": {".": {},
                                   "f:kubectl.kubernetes.io/last-applied-configuration": {}},
                 "f:labels": {".": {}, "f:app": {}}},
  "f:spec": {
    "f:progressDeadlineSeconds": {}, "f:replicas": {}, "f:revisionHistoryLimit": {},
    "f:selector": {},
    "f:strategy": {"f:rollingUpdate": {".": {}, "f:maxSurge": {}, "f:maxUnavailable": {}},
                   "f:type": {}},
    "f:template": {
      "f:metadata": {"f:labels": {".": {}, "f:app": {}}},
      "f:spec": {
        "f:containers": {
          "k:{\"name\":\"postgres\"}": {
            ".": {}, "f:image": {}, "f:name": {},
            "f:ports": {".": {}, "k:{\"containerPort\":5432,\"protocol\":\"TCP\"}": {
                ".": {}, "f:containerPort": {}, "f:protocol": {}}}}},
        "f:dnsPolicy": {}}}}})";

std::vector<std::string> Texts(const FieldSet& s) {
  std::vector<std::string> out;
  for (const auto& p : s.Members()) out.push_back(PathString(p));
  return out;
}

TEST(FieldSetTest, RealFieldsV1RoundTrips) {
  json in = json::parse(kDeploymentFieldsV1);
  Result<FieldSet> s = FieldSet::FromFieldsV1(in);
  ASSERT_TRUE(s.ok()) << s.status().message();
  EXPECT_EQ(s->ToFieldsV1(), in);
  EXPECT_TRUE(s->Has(
      {"f:spec", "f:template", "f:spec", "f:containers", "k:{\"name\":\"postgres\"}", "f:image"}));
  EXPECT_TRUE(s->Has({"f:metadata", "f:labels"}));  // ".": {}
  EXPECT_FALSE(s->Has({"f:spec", "f:strategy"}));   // a parent only
  EXPECT_FALSE(s->Has({"f:spec", "f:template", "f:spec", "f:containers"}));
}

TEST(FieldSetTest, MembersPrintAsKubernetesPaths) {
  Result<FieldSet> s = FieldSet::FromFieldsV1(json::parse(kDeploymentFieldsV1));
  ASSERT_TRUE(s.ok());
  std::vector<std::string> got = Texts(*s);
  // Member children before subtrees at every level, each group in element order.
  std::vector<std::string> want = {
      ".metadata.annotations",
      ".metadata.labels",
      ".metadata.annotations.kubectl.kubernetes.io/last-applied-configuration",
      ".metadata.labels.app",
      ".spec.progressDeadlineSeconds",
      ".spec.replicas",
      ".spec.revisionHistoryLimit",
      ".spec.selector",
      ".spec.strategy.rollingUpdate",
      ".spec.strategy.type",
      ".spec.strategy.rollingUpdate.maxSurge",
      ".spec.strategy.rollingUpdate.maxUnavailable",
      ".spec.template.metadata.labels",
      ".spec.template.metadata.labels.app",
      ".spec.template.spec.dnsPolicy",
      ".spec.template.spec.containers[name=\"postgres\"]",
      ".spec.template.spec.containers[name=\"postgres\"].image",
      ".spec.template.spec.containers[name=\"postgres\"].name",
      ".spec.template.spec.containers[name=\"postgres\"].ports",
      ".spec.template.spec.containers[name=\"postgres\"].ports[containerPort=5432,protocol="
      "\"TCP\"]",
      ".spec.template.spec.containers[name=\"postgres\"].ports[containerPort=5432,protocol=\"TCP\"]"
      ".containerPort",
      ".spec.template.spec.containers[name=\"postgres\"].ports[containerPort=5432,protocol=\"TCP\"]"
      ".protocol",
  };
  EXPECT_EQ(got, want);
  EXPECT_EQ(
      PathString({"f:metadata", "f:finalizers", ValueElement("kubernetes.io/pvc-protection")}),
      ".metadata.finalizers[=\"kubernetes.io/pvc-protection\"]");
  EXPECT_EQ(PathString({"f:x", "i:3"}), ".x[3]");
}

TEST(FieldSetTest, EncodingMarksMembersWithChildrenWithDot) {
  FieldSet s;
  s.Insert({"f:data"});
  s.Insert({"f:data", "f:key"});
  s.Insert({"f:metadata", "f:finalizers", ValueElement("a")});
  EXPECT_EQ(s.ToFieldsV1(), json::parse(R"({"f:data":{".":{},"f:key":{}},
      "f:metadata":{"f:finalizers":{"v:\"a\"":{}}}})"));
  EXPECT_EQ(KeyElement({{"protocol", "TCP"}, {"containerPort", 80}}),
            "k:{\"containerPort\":80,\"protocol\":\"TCP\"}");
}

TEST(FieldSetTest, DecodingFollowsStructuredMergeDiff) {
  // Unknown element types are dropped; a node with no known children is a member.
  Result<FieldSet> s = FieldSet::FromFieldsV1(json::parse(R"({"x:y":{},"f:a":{"z:q":{}}})"));
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(Texts(*s), std::vector<std::string>{".a"});
  // Keys are canonicalised (sorted, compact).
  s = FieldSet::FromFieldsV1(json::parse(R"({"k:{ \"b\":1, \"a\":2 }":{}})"));
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s->ToFieldsV1(), json::parse(R"({"k:{\"a\":2,\"b\":1}":{}})"));
  EXPECT_TRUE(FieldSet::FromFieldsV1(nullptr).ok());
  for (const char* bad : {R"([])", R"({"f:a":1})", R"({"k:[1]":{}})", R"({"k:{":{}})",
                          R"({"v:nope":{}})", R"({"i:x":{}})", R"({"i:-1":{}})"}) {
    Result<FieldSet> r = FieldSet::FromFieldsV1(json::parse(bad));
    EXPECT_FALSE(r.ok()) << bad;
    if (!r.ok()) {
      EXPECT_EQ(r.status().code(), Code::kBadRequest) << bad;
    }
  }
}

TEST(FieldSetTest, SetOperations) {
  FieldSet a, b;
  a.Insert({"f:data", "f:x"});
  a.Insert({"f:data", "f:y"});
  a.Insert({"f:spec"});
  b.Insert({"f:data", "f:y"});
  b.Insert({"f:data", "f:z"});
  EXPECT_EQ(Texts(a.Difference(b)), (std::vector<std::string>{".spec", ".data.x"}));
  EXPECT_EQ(Texts(a.Intersection(b)), std::vector<std::string>{".data.y"});
  EXPECT_EQ(Texts(a.Union(b)),
            (std::vector<std::string>{".spec", ".data.x", ".data.y", ".data.z"}));
  FieldSet data;
  data.Insert({"f:data"});
  EXPECT_EQ(Texts(a.RecursiveDifference(data)), std::vector<std::string>{".spec"});
  EXPECT_EQ(Texts(a.Difference(data)).size(), 3u);  // only the member .data itself
  EXPECT_TRUE(a.HasAtOrBelow({"f:data"}));
  EXPECT_FALSE(a.HasAtOrBelow({"f:status"}));
  EXPECT_TRUE(FieldSet().Empty());
  EXPECT_TRUE(a.Difference(a).Empty());
}

}  // namespace
}  // namespace kvol::patch
