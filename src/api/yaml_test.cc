#include "kvol/api/yaml.h"

#include <gtest/gtest.h>

namespace kvol::api {
namespace {

using nlohmann::json;

json One(std::string_view text) {
  auto r = ParseYaml(text);
  EXPECT_TRUE(r.ok()) << r.status().message();
  if (!r.ok() || r->size() != 1) return json("<not one document>");
  return (*r)[0];
}

TEST(Yaml, ResolvesScalarsLikeGoYamlV2) {
  json j = One(R"(
t1: true
t2: yes
t3: On
t4: y
f1: False
f2: no
f3: off
n1: null
n2: ~
n3:
i1: 42
i2: -7
i3: 0644
i4: 0x1F
i5: 1_000
i6: +5
i7: 0b101
u1: 18446744073709551615
fl: 1.5
fe: 1e3
fd: .5
s1: "true"
s2: '0644'
s3: hello world
s4: 2024-01-02T03:04:05Z
s5: 1.2.3
s6: !!str 123
s7: 08x
)");
  json want = json::parse(R"({
    "t1": true, "t2": true, "t3": true, "t4": true, "f1": false, "f2": false, "f3": false,
    "n1": null, "n2": null, "n3": null,
    "i1": 42, "i2": -7, "i3": 420, "i4": 31, "i5": 1000, "i6": 5, "i7": 5,
    "u1": 18446744073709551615, "fl": 1.5, "fe": 1000, "fd": 0.5,
    "s1": "true", "s2": "0644", "s3": "hello world", "s4": "2024-01-02T03:04:05Z",
    "s5": "1.2.3", "s6": "123", "s7": "08x"})");
  EXPECT_EQ(j, want) << j.dump(1);
  EXPECT_TRUE(j["fe"].is_number_integer());
}

TEST(Yaml, MultiDocumentSkipsEmptyDocumentsAndKeepsStructure) {
  auto r = ParseYaml("---\n# just a comment\n---\na: 1\n---\n---\nb:\n- x\n- {c: [1, 2]}\n...\n");
  ASSERT_TRUE(r.ok()) << r.status().message();
  ASSERT_EQ(r->size(), 2u);
  EXPECT_EQ((*r)[0], json::parse(R"({"a":1})"));
  EXPECT_EQ((*r)[1], json::parse(R"({"b":["x",{"c":[1,2]}]})"));
}

TEST(Yaml, KeysAnchorsAndMerges) {
  json j = One(R"(
base: &b {x: 1, z: 2}
derived:
  <<: *b
  z: 3
y: 1
1: one
true: yes
list: [*b, *b]
)");
  EXPECT_EQ(j["derived"], json::parse(R"({"x":1,"z":3})"));
  EXPECT_EQ(j["true"], true);  // go-yaml v2: the key `y` is the boolean true, as is `true`
  EXPECT_EQ(j["1"], "one");
  EXPECT_EQ(j["list"].size(), 2u);
}

TEST(Yaml, ErrorsCarryLineNumbers) {
  auto r = ParseYaml("a: 1\nb: [1, 2\nc: 3\n");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Code::kBadRequest);
  EXPECT_EQ(r.status().message().rfind("error converting YAML to JSON: yaml: line ", 0), 0u)
      << r.status().message();
  auto bad = ParseYaml("a: b: c\n");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("line 1:"), std::string::npos) << bad.status().message();
  auto nan = ParseYaml("a: .nan\n");
  ASSERT_FALSE(nan.ok());
  EXPECT_EQ(nan.status().message(), "error converting YAML to JSON: json: unsupported value: NaN");
}

TEST(Yaml, AliasBombIsRefused) {
  std::string bomb = "a: &a [x, x, x, x, x, x, x, x, x, x]\n";
  std::string prev = "a";
  for (int i = 0; i < 9; ++i) {
    std::string name = "l" + std::to_string(i);
    bomb += name + ": &" + name + " [";
    for (int k = 0; k < 10; ++k) bomb += (k ? ", *" : "*") + prev;
    bomb += "]\n";
    prev = name;
  }
  auto r = ParseYaml(bomb);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message(),
            "error converting YAML to JSON: yaml: document contains excessive aliasing");
}

TEST(Yaml, ToYamlLooksLikeKubectl) {
  json pvc = json::parse(R"({
    "apiVersion": "v1", "kind": "PersistentVolumeClaim",
    "metadata": {"name": "data", "namespace": "default", "resourceVersion": "42",
                 "creationTimestamp": "2026-11-27T04:49:44Z", "labels": {},
                 "annotations": {"note": "line one\nline two\n", "empty": "", "star": "*",
                                 "colon": "a: b", "flag": "true", "mode": "0644",
                                 "json": "{\"a\":1}", "tab": "a\tb", "num": "1.5",
                                 "lead": " x", "hash": "a #b", "url": "http://x:80/a"},
                 "finalizers": ["kubernetes.io/pvc-protection"]},
    "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}},
             "volumeMode": "Filesystem", "items": [], "ratio": 0.25, "big": 1234567.0,
             "containers": [{"name": "a", "args": ["-c", "echo hi"], "ports": [{"containerPort": 80}]}],
             "matrix": [[1, 2], []], "none": null, "ok": false}})");
  EXPECT_EQ(ToYaml(pvc), R"(apiVersion: v1
kind: PersistentVolumeClaim
metadata:
  annotations:
    colon: 'a: b'
    empty: ""
    flag: "true"
    hash: 'a #b'
    json: '{"a":1}'
    lead: ' x'
    mode: "0644"
    note: |
      line one
      line two
    num: "1.5"
    star: '*'
    tab: "a\tb"
    url: http://x:80/a
  creationTimestamp: "2026-11-27T04:49:44Z"
  finalizers:
  - kubernetes.io/pvc-protection
  labels: {}
  name: data
  namespace: default
  resourceVersion: "42"
spec:
  accessModes:
  - ReadWriteOnce
  big: 1.234567e+06
  containers:
  - args:
    - -c
    - echo hi
    name: a
    ports:
    - containerPort: 80
  items: []
  matrix:
  - - 1
    - 2
  - []
  none: null
  ok: false
  ratio: 0.25
  resources:
    requests:
      storage: 1Gi
  volumeMode: Filesystem
)");
}

TEST(Yaml, ToYamlRoundTripsThroughParseYaml) {
  json v = json::parse(R"({"a":["yes","no","~","",
      "multi\nline","x: y","- z","08",".5","1e3","2024-01-01"," pad ","trail\n\n",
      "q'uote","d\"q"],"b":{"c":{"d":[{"e":1,"f":[true]}]}}})");
  auto back = ParseYaml(ToYaml(v));
  ASSERT_TRUE(back.ok()) << back.status().message() << "\n" << ToYaml(v);
  ASSERT_EQ(back->size(), 1u);
  EXPECT_EQ((*back)[0], v) << ToYaml(v);
  EXPECT_EQ(ToYaml(json::object()), "{}\n");
  EXPECT_EQ(ToYaml(json("x")), "x\n");
}

TEST(Yaml, MalformedFlowAfterRootNodeFailsInsteadOfHanging) {
  // yaml-cpp 0.7 looped forever on these (found by the manifest fuzzer); libyaml refuses them.
  for (const char* text : {"\"x\",i", "[1],x", "'x',i"}) {
    auto r = ParseYaml(text);
    ASSERT_FALSE(r.ok()) << text;
    EXPECT_EQ(r.status().code(), Code::kBadRequest);
    EXPECT_EQ(r.status().message(),
              "error converting YAML to JSON: yaml: line 1: did not find expected <document start>")
        << text;
  }
  auto comma = ParseYaml("a: 1\n---\n,{a}\n");
  ASSERT_FALSE(comma.ok());
  EXPECT_EQ(comma.status().message(),
            "error converting YAML to JSON: yaml: line 3: did not find expected node content");
}

TEST(Yaml, AnchorErrorsAndExplicitTags) {
  auto unknown = ParseYaml("a: *nope\n");
  ASSERT_FALSE(unknown.ok());
  EXPECT_EQ(unknown.status().message(),
            "error converting YAML to JSON: yaml: unknown anchor 'nope' referenced");
  auto cycle = ParseYaml("a: &a [1, *a]\n");
  ASSERT_FALSE(cycle.ok());
  EXPECT_EQ(cycle.status().message(),
            "error converting YAML to JSON: yaml: anchor 'a' value contains itself");
  // Anchors do not leak into the next document.
  EXPECT_FALSE(ParseYaml("a: &x 1\n---\nb: *x\n").ok());
  json j = One("q: \"\"\nt: !!int \"7\"\ns: !!str\nk: &k key\n*k : 1\n");
  EXPECT_EQ(j, json::parse(R"({"q": "", "t": 7, "s": "", "k": "key", "key": 1})")) << j.dump();
  auto mapKey = ParseYaml("m: &m {k: v}\n*m : 1\n");
  ASSERT_FALSE(mapKey.ok());
  EXPECT_EQ(mapKey.status().message(),
            "error converting YAML to JSON: yaml: line 1: unsupported map key: not a scalar");
}

TEST(Yaml, ParseJsonOrYaml) {
  auto j = ParseJsonOrYaml(R"(  {"a": 1.0, "b": [1]})");
  ASSERT_TRUE(j.ok());
  EXPECT_EQ((*j)["b"], json::parse("[1]"));
  auto y = ParseJsonOrYaml("a: 1\n");
  ASSERT_TRUE(y.ok());
  EXPECT_EQ(*y, json::parse(R"({"a":1})"));
  EXPECT_TRUE(ParseJsonOrYaml("").ok());
  EXPECT_TRUE(ParseJsonOrYaml("")->is_null());
  EXPECT_FALSE(ParseJsonOrYaml("{\"a\":").ok());
  EXPECT_FALSE(ParseJsonOrYaml("a: 1\n---\nb: 2\n").ok());
}

}  // namespace
}  // namespace kvol::api
