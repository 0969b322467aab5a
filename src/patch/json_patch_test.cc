#include <gtest/gtest.h>

#include "kvol/patch/patch.h"

namespace kvol::patch {
namespace {

struct Case {
  const char* name;
  const char* doc;
  const char* patch;
  const char* want;  // nullptr: error expected
  Code code;         // expected code when want == nullptr
  const char* message;
};

TEST(JsonPatchTest, Table) {
  const Case cases[] = {
      {"add member", R"({"a":1})", R"([{"op":"add","path":"/b","value":2}])", R"({"a":1,"b":2})",
       Code::kOk, ""},
      {"add replaces member", R"({"a":1})", R"([{"op":"add","path":"/a","value":[3]}])",
       R"({"a":[3]})", Code::kOk, ""},
      {"add inserts into array", R"({"l":["a","c"]})",
       R"([{"op":"add","path":"/l/1","value":"b"}])", R"({"l":["a","b","c"]})", Code::kOk, ""},
      {"add - appends", R"({"l":["a"]})", R"([{"op":"add","path":"/l/-","value":"z"}])",
       R"({"l":["a","z"]})", Code::kOk, ""},
      {"add at end index", R"({"l":["a"]})", R"([{"op":"add","path":"/l/1","value":"z"}])",
       R"({"l":["a","z"]})", Code::kOk, ""},
      {"add whole doc", R"({"a":1})", R"([{"op":"add","path":"","value":{"b":2}}])", R"({"b":2})",
       Code::kOk, ""},
      {"escaped ~1 and ~0", R"({"metadata":{"annotations":{}}})",
       R"([{"op":"add","path":"/metadata/annotations/example.com~1a~0b","value":"v"}])",
       R"({"metadata":{"annotations":{"example.com/a~b":"v"}}})", Code::kOk, ""},
      {"~01 is ~1 not /", R"({"~1":1,"/":2})", R"([{"op":"remove","path":"/~01"}])", R"({"/":2})",
       Code::kOk, ""},
      {"remove member", R"({"a":1,"b":2})", R"([{"op":"remove","path":"/a"}])", R"({"b":2})",
       Code::kOk, ""},
      {"remove array element", R"({"l":[1,2,3]})", R"([{"op":"remove","path":"/l/1"}])",
       R"({"l":[1,3]})", Code::kOk, ""},
      {"replace", R"({"spec":{"replicas":1}})",
       R"([{"op":"replace","path":"/spec/replicas","value":3}])", R"({"spec":{"replicas":3}})",
       Code::kOk, ""},
      {"move", R"({"a":{"x":1},"b":{}})", R"([{"op":"move","from":"/a/x","path":"/b/y"}])",
       R"({"a":{},"b":{"y":1}})", Code::kOk, ""},
      {"copy", R"({"a":[1]})", R"([{"op":"copy","from":"/a","path":"/b"}])", R"({"a":[1],"b":[1]})",
       Code::kOk, ""},
      {"test passes then replace", R"({"metadata":{"labels":{"A":"true"}}})",
       R"([{"op":"test","path":"/metadata/labels/A","value":"true"},
           {"op":"replace","path":"/metadata/labels/A","value":"false"}])",
       R"({"metadata":{"labels":{"A":"false"}}})", Code::kOk, ""},
      {"failed test", R"({"metadata":{"labels":{"A":"no"}}})",
       R"([{"op":"test","path":"/metadata/labels/A","value":"true"},
           {"op":"replace","path":"/metadata/labels/A","value":"false"}])",
       nullptr, Code::kInvalid,
       "json patch operation 0 (test /metadata/labels/A): testing value /metadata/labels/A failed"},
      {"test of missing path", R"({})", R"([{"op":"test","path":"/x","value":1}])", nullptr,
       Code::kInvalid, "json patch operation 0 (test /x): testing value /x failed: missing value"},
      {"replace missing", R"({"a":1})",
       R"([{"op":"add","path":"/b","value":1},{"op":"replace","path":"/c","value":2}])", nullptr,
       Code::kInvalid,
       "json patch operation 1 (replace /c): replace operation does not apply: doc is missing key: "
       "/c"},
      {"remove missing", R"({"a":1})", R"([{"op":"remove","path":"/z"}])", nullptr, Code::kInvalid,
       "json patch operation 0 (remove /z): remove operation does not apply: doc is missing path: "
       "\"/z\""},
      {"add under missing parent", R"({})", R"([{"op":"add","path":"/a/b","value":1}])", nullptr,
       Code::kInvalid,
       "json patch operation 0 (add /a/b): add operation does not apply: doc is missing path: "
       "\"/a/b\""},
      {"index out of range", R"({"l":[1]})", R"([{"op":"add","path":"/l/5","value":1}])", nullptr,
       Code::kInvalid,
       "json patch operation 0 (add /l/5): add operation does not apply: index out of range: "
       "\"/l/5\""},
      {"leading zero index", R"({"l":[1,2]})", R"([{"op":"remove","path":"/l/01"}])", nullptr,
       Code::kInvalid,
       "json patch operation 0 (remove /l/01): remove operation does not apply: doc is missing "
       "path: \"/l/01\""},
      {"unknown op", R"({})", R"([{"op":"frob","path":"/a"}])", nullptr, Code::kInvalid,
       "json patch operation 0 (frob /a): Unexpected kind: frob"},
      {"move into itself", R"({"a":{"b":1}})", R"([{"op":"move","from":"/a","path":"/a/b/c"}])",
       nullptr, Code::kInvalid,
       "json patch operation 0 (move /a/b/c): move operation does not apply: \"from\" is a prefix "
       "of \"path\""},
      {"bad pointer", R"({})", R"([{"op":"add","path":"a","value":1}])", nullptr, Code::kInvalid,
       "json patch operation 0 (add a): JSON pointer must be empty or start with '/': \"a\""},
      {"not an array", R"({})", R"({"op":"add"})", nullptr, Code::kBadRequest,
       "json: cannot unmarshal object into Go value of type jsonpatch.Patch"},
      {"element not an object", R"({})", R"([1])", nullptr, Code::kBadRequest,
       "json: cannot unmarshal number into Go value of type jsonpatch.Operation"},
  };
  for (const auto& c : cases) {
    json doc = json::parse(c.doc);
    auto got = ApplyJsonPatch(doc, json::parse(c.patch));
    if (c.want) {
      ASSERT_TRUE(got.ok()) << c.name << ": " << got.status().ToString();
      EXPECT_EQ(*got, json::parse(c.want)) << c.name;
    } else {
      ASSERT_FALSE(got.ok()) << c.name;
      EXPECT_EQ(got.status().code(), c.code) << c.name;
      EXPECT_EQ(got.status().message(), c.message) << c.name;
    }
    EXPECT_EQ(doc, json::parse(c.doc)) << c.name << ": input modified";
  }
}

}  // namespace
}  // namespace kvol::patch
