#include <gtest/gtest.h>

#include "kvol/patch/patch.h"

namespace kvol::patch {
namespace {

struct MergeCase {
  const char* target;
  const char* patch;
  const char* want;
};

// RFC 7386 Appendix A, every example.
TEST(MergePatchTest, Rfc7386AppendixA) {
  const MergeCase cases[] = {
      {R"({"a":"b"})", R"({"a":"c"})", R"({"a":"c"})"},
      {R"({"a":"b"})", R"({"b":"c"})", R"({"a":"b","b":"c"})"},
      {R"({"a":"b"})", R"({"a":null})", R"({})"},
      {R"({"a":"b","b":"c"})", R"({"a":null})", R"({"b":"c"})"},
      {R"({"a":["b"]})", R"({"a":"c"})", R"({"a":"c"})"},
      {R"({"a":"c"})", R"({"a":["b"]})", R"({"a":["b"]})"},
      {R"({"a":{"b":"c"}})", R"({"a":{"b":"d","c":null}})", R"({"a":{"b":"d"}})"},
      {R"({"a":[{"b":"c"}]})", R"({"a":[1]})", R"({"a":[1]})"},
      {R"(["a","b"])", R"(["c","d"])", R"(["c","d"])"},
      {R"({"a":"b"})", R"(["c"])", R"(["c"])"},
      {R"({"a":"foo"})", R"(null)", R"(null)"},
      {R"({"a":"foo"})", R"("bar")", R"("bar")"},
      {R"({"e":null})", R"({"a":1})", R"({"e":null,"a":1})"},
      {R"([1,2])", R"({"a":"b","c":null})", R"({"a":"b"})"},
      {R"({})", R"({"a":{"bb":{"ccc":null}}})", R"({"a":{"bb":{}}})"},
  };
  for (const auto& c : cases) {
    auto got = ApplyMergePatch(json::parse(c.target), json::parse(c.patch));
    ASSERT_TRUE(got.ok()) << c.patch;
    EXPECT_EQ(*got, json::parse(c.want)) << c.target << " + " << c.patch;
  }
}

TEST(MergePatchTest, MergePatchDropsListElementsOfStatefulSet) {
  // Why SMP exists: a plain merge patch replaces the containers list whole.
  json sts = json::parse(
      R"({"spec":{"template":{"spec":{"containers":[{"name":"db","image":"postgres:16",
          "volumeMounts":[{"name":"data","mountPath":"/var/lib/postgresql"}]}]}}}})");
  auto got = ApplyMergePatch(
      sts,
      json::parse(
          R"({"spec":{"template":{"spec":{"containers":[{"name":"db","image":"postgres:17"}]}}}})"));
  ASSERT_TRUE(got.ok());
  EXPECT_FALSE((*got)["spec"]["template"]["spec"]["containers"][0].contains("volumeMounts"));
}

TEST(MergePatchTest, CreateMergePatchRoundTrips) {
  json from =
      json::parse(R"({"metadata":{"labels":{"a":"1","b":"2"},"name":"x"},"spec":{"r":[1]}})");
  json to =
      json::parse(R"({"metadata":{"labels":{"a":"1","c":"3"},"name":"x"},"spec":{"r":[2]},"n":1})");
  json p = CreateMergePatch(from, to);
  EXPECT_EQ(p, json::parse(R"({"metadata":{"labels":{"b":null,"c":"3"}},"spec":{"r":[2]},"n":1})"));
  auto back = ApplyMergePatch(from, p);
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(*back, to);
  EXPECT_EQ(CreateMergePatch(to, to), json::object());
}

}  // namespace
}  // namespace kvol::patch
