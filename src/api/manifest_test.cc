#include "kvol/api/manifest.h"

#include <gtest/gtest.h>

namespace kvol::api {
namespace {

using nlohmann::json;

TEST(Manifest, MultiDocumentYamlWithList) {
  auto r = DecodeManifests(R"(
apiVersion: v1
kind: PersistentVolumeClaim
metadata:
  name: a
---
apiVersion: v1
kind: List
items:
- apiVersion: v1
  kind: ConfigMap
  metadata: {name: b}
- apiVersion: storage.k8s.io/v1
  kind: StorageClass
  metadata: {name: c}
)",
                           "app.yaml");
  ASSERT_TRUE(r.ok()) << r.status().message();
  ASSERT_EQ(r->size(), 3u);
  EXPECT_EQ((*r)[0].object["metadata"]["name"], "a");
  EXPECT_EQ((*r)[0].documentIndex, 0);
  EXPECT_EQ((*r)[1].object["kind"], "ConfigMap");
  EXPECT_EQ((*r)[1].documentIndex, 1);
  EXPECT_EQ((*r)[2].object["kind"], "StorageClass");
  EXPECT_EQ((*r)[2].documentIndex, 1);
  EXPECT_EQ((*r)[2].source, "app.yaml");
}

TEST(Manifest, JsonObjectsAndStreams) {
  auto one =
      DecodeManifests(R"({"apiVersion":"v1","kind":"Secret","metadata":{"name":"s"}})", "s.json");
  ASSERT_TRUE(one.ok()) << one.status().message();
  ASSERT_EQ(one->size(), 1u);
  auto stream = DecodeManifests(
      "{\"apiVersion\":\"v1\",\"kind\":\"A\"}\n{\"apiVersion\":\"v1\",\"kind\":\"B\"}", "x.json");
  ASSERT_TRUE(stream.ok()) << stream.status().message();
  ASSERT_EQ(stream->size(), 2u);
  EXPECT_EQ((*stream)[1].object["kind"], "B");
  EXPECT_EQ((*stream)[1].documentIndex, 1);
  auto typedList = DecodeManifests(
      R"({"apiVersion":"v1","kind":"PodList","items":[{"apiVersion":"v1","kind":"Pod"}]})", "l");
  ASSERT_TRUE(typedList.ok());
  ASSERT_EQ(typedList->size(), 1u);
  EXPECT_EQ((*typedList)[0].object["kind"], "Pod");
}

TEST(Manifest, MissingKindOrApiVersionReadsLikeKubectl) {
  auto noKind = DecodeManifests("apiVersion: v1\nmetadata:\n  name: x\n", "pvc.yaml");
  ASSERT_FALSE(noKind.ok());
  EXPECT_EQ(noKind.status().code(), Code::kBadRequest);
  EXPECT_EQ(noKind.status().message(),
            "unable to decode \"pvc.yaml\": Object 'Kind' is missing in "
            "'{\"apiVersion\":\"v1\",\"metadata\":{\"name\":\"x\"}}'");
  auto noVersion = DecodeManifests("kind: Pod\n", "pod.yaml");
  ASSERT_FALSE(noVersion.ok());
  EXPECT_EQ(
      noVersion.status().message(),
      "unable to decode \"pod.yaml\": Object 'apiVersion' is missing in '{\"kind\":\"Pod\"}'");
  auto scalar = DecodeManifests("hello\n", "h.yaml");
  ASSERT_FALSE(scalar.ok());
  EXPECT_EQ(scalar.status().message(),
            "unable to decode \"h.yaml\": json: cannot unmarshal string into Go value of type "
            "map[string]interface {}");
  auto badItem = DecodeManifests("apiVersion: v1\nkind: List\nitems:\n- kind: Pod\n", "l.yaml");
  ASSERT_FALSE(badItem.ok());
  EXPECT_NE(badItem.status().message().find("Object 'apiVersion' is missing"), std::string::npos);
}

TEST(Manifest, SyntaxErrorsNameTheFileAndLine) {
  auto r = DecodeManifests("apiVersion: v1\nkind: Pod\nmetadata:\n  name: [x\n", "bad.yaml");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message().rfind(
                "error parsing bad.yaml: error converting YAML to JSON: yaml: line ", 0),
            0u)
      << r.status().message();
  auto j = DecodeManifests("{\"kind\": ", "bad.json");
  ASSERT_FALSE(j.ok());
  EXPECT_EQ(j.status().message().rfind("error parsing bad.json: ", 0), 0u);
}

TEST(Manifest, EmptyInputGivesNoObjects) {
  auto r = DecodeManifests("\n---\n# nothing\n", "empty.yaml");
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->empty());
  EXPECT_TRUE(DecodeManifests("", "e")->empty());
}

}  // namespace
}  // namespace kvol::api
