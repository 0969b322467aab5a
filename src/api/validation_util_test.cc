#include "kvol/api/validation_util.h"

#include <gtest/gtest.h>

namespace kvol::api {
namespace {

constexpr const char* kSubdomainMsg =
    "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or "
    "'.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used "
    "for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')";

std::vector<std::string> Strings(const ErrorList& errs) {
  std::vector<std::string> out;
  for (const auto& e : errs) out.push_back(e.ToString());
  return out;
}

ObjectMeta Meta(std::string name, std::string ns = "") {
  ObjectMeta m;
  m.name = std::move(name);
  m.namespace_ = std::move(ns);
  return m;
}

TEST(ValidationUtil, NameValidatorsGiveKubernetesMessages) {
  EXPECT_TRUE(IsDNS1123Subdomain("example.com").empty());
  EXPECT_TRUE(IsDNS1123Subdomain("pv-1").empty());
  EXPECT_EQ(IsDNS1123Subdomain("Bad_Name"), std::vector<std::string>{kSubdomainMsg});
  EXPECT_EQ(IsDNS1123Subdomain("a..b").size(), 1u);
  EXPECT_EQ(IsDNS1123Subdomain(std::string(254, 'a')),
            std::vector<std::string>{"must be no more than 253 characters"});

  EXPECT_TRUE(IsDNS1123Label("my-name").empty());
  EXPECT_EQ(IsDNS1123Label("-x"),
            std::vector<std::string>{
                "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or "
                "'-', and must start and end with an alphanumeric character (e.g. 'my-name',  or "
                "'123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')"});
  EXPECT_EQ(IsDNS1123Label("a.b"), std::vector<std::string>{"must not contain dots"});
  EXPECT_EQ(IsDNS1123Label(std::string(64, 'a')),
            std::vector<std::string>{"must be no more than 63 characters"});
}

TEST(ValidationUtil, QualifiedNamesAndLabelValues) {
  EXPECT_TRUE(IsQualifiedName("app").empty());
  EXPECT_TRUE(IsQualifiedName("kubernetes.io/metadata.name").empty());
  EXPECT_TRUE(IsQualifiedName("Example.com/My_Name").size() == 1);  // prefix must be lower case
  EXPECT_EQ(IsQualifiedName("/a"), std::vector<std::string>{"prefix part must be non-empty"});
  EXPECT_EQ(
      IsQualifiedName("a/"),
      (std::vector<std::string>{
          "name part must be non-empty",
          "name part must consist of alphanumeric characters, '-', '_' or '.', and must "
          "start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or "
          "'123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')"}));
  EXPECT_EQ(IsQualifiedName("a/b/c").size(), 1u);
  EXPECT_EQ(IsQualifiedName("a/b/c")[0].substr(0, 38), "a qualified name must consist of alpha");

  EXPECT_TRUE(IsValidLabelValue("").empty());
  EXPECT_TRUE(IsValidLabelValue("my_value-1.x").empty());
  EXPECT_EQ(IsValidLabelValue("a b"),
            std::vector<std::string>{
                "a valid label must be an empty string or consist of alphanumeric characters, "
                "'-', '_' or '.', and must start and end with an alphanumeric character (e.g. "
                "'MyValue',  or 'my_value',  or '12345', regex used for validation is "
                "'(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')"});
}

TEST(ValidationUtil, ObjectMetaOnCreate) {
  Path md("metadata");
  EXPECT_TRUE(ValidateObjectMeta(Meta("data", "default"), true, NameIsDNSSubdomain, md).empty());
  EXPECT_EQ(Strings(ValidateObjectMeta(Meta("Bad_Name", "default"), true, NameIsDNSSubdomain, md)),
            std::vector<std::string>{std::string("metadata.name: Invalid value: \"Bad_Name\": ") +
                                     kSubdomainMsg});
  EXPECT_EQ(
      Strings(ValidateObjectMeta(Meta(""), false, NameIsDNSSubdomain, md)),
      std::vector<std::string>{"metadata.name: Required value: name or generateName is required"});
  ObjectMeta gen = Meta("", "ns");
  gen.generateName = "pvc-";
  EXPECT_TRUE(ValidateObjectMeta(gen, true, NameIsDNSSubdomain, md).empty());

  EXPECT_EQ(Strings(ValidateObjectMeta(Meta("a"), true, NameIsDNSSubdomain, md)),
            std::vector<std::string>{"metadata.namespace: Required value"});
  EXPECT_EQ(Strings(ValidateObjectMeta(Meta("a", "ns"), false, NameIsDNSSubdomain, md)),
            std::vector<std::string>{"metadata.namespace: Forbidden: not allowed on this type"});

  ObjectMeta m = Meta("a", "ns");
  m.labels["bad key"] = "v";
  m.annotations["big"] = std::string(256 * 1024, 'x');
  m.finalizers = {"kubernetes.io/pvc-protection", "bad/fin/alizer"};
  m.ownerReferences.push_back({"v1", "Pod", "", "", std::nullopt, std::nullopt});
  auto errs = Strings(ValidateObjectMeta(m, true, NameIsDNSSubdomain, md));
  ASSERT_EQ(errs.size(), 5u) << Join(ValidateObjectMeta(m, true, NameIsDNSSubdomain, md));
  EXPECT_EQ(errs[0].substr(0, 64),
            "metadata.labels: Invalid value: \"bad key\": name part must consis");
  EXPECT_EQ(errs[1], "metadata.annotations: Too long: may not be more than 262144 bytes");
  EXPECT_EQ(errs[2], "metadata.ownerReferences.name: Invalid value: \"\": name must not be empty");
  EXPECT_EQ(errs[3], "metadata.ownerReferences.uid: Invalid value: \"\": uid must not be empty");
  EXPECT_EQ(errs[4].substr(0, 54), "metadata.finalizers: Invalid value: \"bad/fin/alizer\": ");
}

TEST(ValidationUtil, ObjectMetaOnUpdate) {
  ObjectMeta old = Meta("a", "ns");
  old.uid = "u1";
  old.resourceVersion = "5";
  old.creationTimestamp = "2026-01-01T00:00:00Z";
  ObjectMeta now = old;
  EXPECT_TRUE(ValidateObjectMetaUpdate(now, old, Path("metadata")).empty());
  now.name = "b";
  now.uid = "u2";
  now.resourceVersion = "";
  EXPECT_EQ(Strings(ValidateObjectMetaUpdate(now, old, Path("metadata"))),
            (std::vector<std::string>{
                "metadata.resourceVersion: Invalid value: \"\": must be specified for an update",
                "metadata.name: Invalid value: \"b\": field is immutable",
                "metadata.uid: Invalid value: \"u2\": field is immutable"}));

  ObjectMeta deleting = old;
  deleting.deletionTimestamp = "2026-01-02T00:00:00Z";
  ObjectMeta added = deleting;
  added.finalizers = {"example.com/new"};
  EXPECT_EQ(Strings(ValidateObjectMetaUpdate(added, deleting, Path("metadata"))),
            std::vector<std::string>{
                "metadata.finalizers: Forbidden: no new finalizers can be added if the object is "
                "being deleted, found new finalizers []string{\"example.com/new\"}"});
}

TEST(ValidationUtil, LabelSelector) {
  LabelSelector s;
  s.matchLabels["app"] = "web";
  s.matchExpressions.push_back({"tier", "In", {}});
  s.matchExpressions.push_back({"env", "Exists", {"x"}});
  s.matchExpressions.push_back({"zone", "Near", {"a"}});
  EXPECT_EQ(Strings(ValidateLabelSelector(s, Path("spec.selector"))),
            (std::vector<std::string>{
                "spec.selector.matchExpressions[0].values: Required value: must be specified when "
                "`operator` is 'In' or 'NotIn'",
                "spec.selector.matchExpressions[1].values: Forbidden: may not be specified when "
                "`operator` is 'Exists' or 'DoesNotExist'",
                "spec.selector.matchExpressions[2].operator: Invalid value: \"Near\": not a valid "
                "selector operator"}));
}

TEST(ValidationUtil, Quantities) {
  EXPECT_TRUE(ValidateNonNegativeQuantity(Quantity::MustParse("0"), Path("x")).empty());
  EXPECT_EQ(Strings(ValidateNonNegativeQuantity(Quantity::MustParse("-1Gi"),
                                                Path("spec.capacity[storage]"))),
            std::vector<std::string>{"spec.capacity[storage]: Invalid value: \"-1Gi\": must be "
                                     "greater than or equal to 0"});
  EXPECT_EQ(Strings(ValidatePositiveQuantity(Quantity::MustParse("0"), Path("q"))),
            std::vector<std::string>{"q: Invalid value: \"0\": must be greater than zero"});
}

}  // namespace
}  // namespace kvol::api
