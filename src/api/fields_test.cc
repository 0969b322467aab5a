#include "kvol/api/fields.h"

#include <gtest/gtest.h>

namespace kvol::api {
namespace {

using nlohmann::json;

FieldSelector MustParse(std::string_view s) {
  auto r = FieldSelector::Parse(s);
  EXPECT_TRUE(r.ok()) << s << ": " << r.status().message();
  return r.ok() ? std::move(r).value() : FieldSelector();
}

const json kPod = json::parse(R"({
  "metadata": {"name": "web-0", "namespace": "default"},
  "spec": {"nodeName": "node-1", "unschedulable": true, "priority": 3},
  "status": {"phase": "Running"}})");

TEST(FieldSelector, MatchesDottedPaths) {
  EXPECT_TRUE(MustParse("metadata.name=web-0").Matches(kPod));
  EXPECT_TRUE(MustParse("metadata.name==web-0,status.phase!=Pending").Matches(kPod));
  EXPECT_FALSE(MustParse("metadata.name=web-1").Matches(kPod));
  EXPECT_FALSE(MustParse("status.phase!=Running").Matches(kPod));
  EXPECT_TRUE(MustParse("spec.unschedulable=true,spec.priority=3").Matches(kPod));
  // A missing field reads as "".
  EXPECT_TRUE(MustParse("spec.serviceAccountName=").Matches(kPod));
  EXPECT_FALSE(MustParse("spec.nodeName=").Matches(kPod));
  EXPECT_TRUE(MustParse("").Matches(kPod));
  EXPECT_TRUE(MustParse("").Empty());
}

TEST(FieldSelector, FieldsAndExactMatch) {
  auto s = MustParse("status.phase!=Bound,metadata.name=x,metadata.name=x");
  EXPECT_EQ(s.Fields(), (std::vector<std::string>{"metadata.name", "status.phase"}));
  EXPECT_EQ(s.RequiresExactMatch("metadata.name"), std::optional<std::string>("x"));
  EXPECT_EQ(s.RequiresExactMatch("status.phase"), std::nullopt);
  EXPECT_EQ(s.ToString(), "metadata.name=x,metadata.name=x,status.phase!=Bound");
}

TEST(FieldSelector, EscapesAndErrors) {
  auto s = MustParse(R"(metadata.name=a\,b\=c\\d)");
  EXPECT_EQ(s.RequiresExactMatch("metadata.name"), std::optional<std::string>(R"(a,b=c\d)"));
  EXPECT_EQ(s.ToString(), R"(metadata.name=a\,b\=c\\d)");

  auto bad = FieldSelector::Parse("metadata.name");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().code(), Code::kBadRequest);
  EXPECT_EQ(bad.status().message(),
            "invalid selector: 'metadata.name'; can't understand 'metadata.name'");
  EXPECT_FALSE(FieldSelector::Parse(R"(a=b\x)").ok());
  EXPECT_FALSE(FieldSelector::Parse("a=b=c").ok());
}

}  // namespace
}  // namespace kvol::api
