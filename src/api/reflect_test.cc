#include "kvol/api/reflect.h"

#include <gtest/gtest.h>

#include "kvol/api/meta.h"

namespace kvol::api {
namespace {

TEST(Reflect, RoundTripKeepsEveryKnownFieldAndOmitsEmpty) {
  json in = json::parse(R"({"name":"a","namespace":"ns","labels":{"x":"y"},
      "ownerReferences":[{"apiVersion":"v1","kind":"Pod","name":"p","uid":"u","controller":false}],
      "deletionGracePeriodSeconds":0,"generation":3})");
  DecodeContext ctx;
  ObjectMeta m;
  FromJson(in, m, ctx);
  EXPECT_TRUE(ctx.unknownFields.empty());
  EXPECT_TRUE(ctx.errors.empty());
  EXPECT_EQ(m.namespace_, "ns");
  ASSERT_TRUE(m.deletionGracePeriodSeconds.has_value());
  EXPECT_EQ(ToJson(m), in);  // optional zero values and optional false survive
}

TEST(Reflect, UnknownFieldsAreReportedWithTheirPath) {
  json in = json::parse(R"({"name":"a","bogus":1,"ownerReferences":[{"name":"x","extra":true}]})");
  DecodeContext ctx;
  ObjectMeta m;
  FromJson(in, m, ctx, Path("metadata"));
  EXPECT_EQ(ctx.unknownFields,
            (std::vector<std::string>{"metadata.bogus", "metadata.ownerReferences[0].extra"}));
  EXPECT_EQ(ToJson(m), json::parse(R"({"name":"a","ownerReferences":[{"name":"x"}]})"));
}

TEST(Reflect, WrongTypeNamesTheField) {
  json in = json::parse(R"({"name":5,"labels":{"a":true}})");
  DecodeContext ctx;
  ObjectMeta m;
  FromJson(in, m, ctx, Path("metadata"));
  ASSERT_EQ(ctx.errors.size(), 2u);
  EXPECT_EQ(ctx.errors[0].ToString(),
            "metadata.labels[a]: Invalid value: true: expected string, got boolean");
  EXPECT_EQ(ctx.errors[1].ToString(),
            "metadata.name: Invalid value: 5: expected string, got number");
}

}  // namespace
}  // namespace kvol::api

namespace kvol::api {
namespace {

TEST(FieldErrors, InvalidUtf8InAValueIsPrintedNotThrown) {
  FieldError e = InvalidValue(Path("metadata").Child("name"), json(std::string("a\xff")), "bad");
  EXPECT_EQ(e.ToString(), "metadata.name: Invalid value: \"a\xEF\xBF\xBD\": bad");
}

}  // namespace
}  // namespace kvol::api
