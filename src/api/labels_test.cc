#include "kvol/api/labels.h"

#include <gtest/gtest.h>

namespace kvol::api {
namespace {

using Labels = std::map<std::string, std::string>;

LabelSelectorExpr MustParse(std::string_view s) {
  auto r = LabelSelectorExpr::Parse(s);
  EXPECT_TRUE(r.ok()) << s << ": " << r.status().message();
  return r.ok() ? std::move(r).value() : LabelSelectorExpr();
}

TEST(LabelSelector, ParsesEveryOperatorAndPrintsCanonically) {
  auto s = MustParse("a=b,c==d,e!=f,g in (y,x),h notin (z),i,!j");
  EXPECT_EQ(s.ToString(), "a=b,c==d,e!=f,g in (x,y),h notin (z),i,!j");  // sorted by key
  EXPECT_EQ(s.Requirements().size(), 7u);
  EXPECT_EQ(MustParse("  x  in  ( a , b )  ").ToString(), "x in (a,b)");
  EXPECT_EQ(MustParse("k>5").ToString(), "k>5");
  EXPECT_EQ(MustParse("environment in (production,qa),tier notin (frontend,backend)").ToString(),
            "environment in (production,qa),tier notin (backend,frontend)");
  EXPECT_EQ(MustParse("app=").ToString(), "app=");
}

TEST(LabelSelector, MatchesWithKubernetesSemantics) {
  auto s = MustParse("a=b,e!=f,g in (x,y),h notin (z),i,!j");
  EXPECT_TRUE(s.Matches(Labels{{"a", "b"}, {"g", "x"}, {"i", ""}}));
  EXPECT_TRUE(s.Matches(Labels{{"a", "b"}, {"g", "y"}, {"i", "1"}, {"e", "g"}, {"h", "w"}}));
  EXPECT_FALSE(s.Matches(Labels{{"a", "b"}, {"g", "x"}, {"i", ""}, {"j", ""}}));   // !j
  EXPECT_FALSE(s.Matches(Labels{{"a", "b"}, {"g", "x"}}));                         // i missing
  EXPECT_FALSE(s.Matches(Labels{{"a", "b"}, {"g", "x"}, {"i", ""}, {"e", "f"}}));  // e!=f
  EXPECT_FALSE(s.Matches(Labels{{"a", "b"}, {"g", "x"}, {"i", ""}, {"h", "z"}}));  // notin
  EXPECT_FALSE(s.Matches(Labels{{"a", "c"}, {"g", "x"}, {"i", ""}}));
  EXPECT_FALSE(s.Matches(Labels{{"a", "b"}, {"i", ""}}));  // in needs the key

  EXPECT_TRUE(MustParse("k>5").Matches(Labels{{"k", "6"}}));
  EXPECT_FALSE(MustParse("k>5").Matches(Labels{{"k", "5"}}));
  EXPECT_FALSE(MustParse("k<5").Matches(Labels{{"k", "abc"}}));
  EXPECT_TRUE(MustParse("app=").Matches(Labels{{"app", ""}}));
  EXPECT_FALSE(MustParse("app=").Matches(Labels{}));
}

TEST(LabelSelector, EmptySelectorMatchesEverything) {
  auto s = MustParse("");
  EXPECT_TRUE(s.Empty());
  EXPECT_TRUE(s.Matches(Labels{}));
  EXPECT_TRUE(s.Matches(Labels{{"x", "y"}}));
  EXPECT_EQ(s.ToString(), "");
  auto fromEmpty = LabelSelectorExpr::FromLabelSelector(LabelSelector{});
  ASSERT_TRUE(fromEmpty.ok());
  EXPECT_TRUE(fromEmpty->Empty());
  EXPECT_TRUE(fromEmpty->Matches(Labels{{"a", "b"}}));
}

TEST(LabelSelector, ParseErrors) {
  auto err = [](std::string_view s) {
    auto r = LabelSelectorExpr::Parse(s);
    return r.ok() ? std::string("ok") : r.status().message();
  };
  EXPECT_EQ(err("a=b c"), "found 'c', expected: ',' or 'end of string'");
  EXPECT_EQ(err("a in b"), "unable to parse requirement: found 'b' expected: '('");
  EXPECT_EQ(err("a in (b"), "unable to parse requirement: found '', expected: ',' or ')'");
  EXPECT_EQ(err(",a"), "found ',', expected: !, identifier, or 'end of string'");
  EXPECT_EQ(err("a,"), "found '', expected: identifier after ','");
  EXPECT_EQ(err("a=b=c"), "found '=', expected: ',' or 'end of string'");
  EXPECT_EQ(err("k>x"),
            "unable to parse requirement: values[0]: Invalid value: \"x\": for 'Gt', 'Lt' "
            "operators, the value must be an integer");
  EXPECT_EQ(err("a=b c").empty(), false);
  EXPECT_EQ(err("bad key!=x"),
            "unable to parse requirement: found 'key', expected: in, notin, =, ==, !=, gt, lt");
  EXPECT_EQ(err("-a=b").substr(0, 57),
            "unable to parse requirement: <nil>: Invalid value: \"-a\": ");
  EXPECT_EQ(err("a=-b").substr(0, 57), "unable to parse requirement: values[0][a]: Invalid value:");
  EXPECT_EQ(LabelSelectorExpr::Parse("a=b").status().code(), Code::kOk);
  EXPECT_EQ(LabelSelectorExpr::Parse("a in").status().code(), Code::kBadRequest);
}

TEST(LabelSelector, FromLabelSelector) {
  LabelSelector ls;
  ls.matchLabels = {{"app", "db"}};
  ls.matchExpressions.push_back({"tier", "In", {"gold", "silver"}});
  ls.matchExpressions.push_back({"legacy", "DoesNotExist", {}});
  auto s = LabelSelectorExpr::FromLabelSelector(ls);
  ASSERT_TRUE(s.ok()) << s.status().message();
  EXPECT_EQ(s->ToString(), "app=db,!legacy,tier in (gold,silver)");
  EXPECT_TRUE(s->Matches(Labels{{"app", "db"}, {"tier", "gold"}}));
  EXPECT_FALSE(s->Matches(Labels{{"app", "db"}, {"tier", "gold"}, {"legacy", "1"}}));
  EXPECT_EQ(s->RequiresExactMatch("app"), std::optional<std::string>("db"));
  EXPECT_EQ(s->RequiresExactMatch("tier"), std::nullopt);

  ls.matchExpressions.push_back({"x", "Near", {}});
  auto bad = LabelSelectorExpr::FromLabelSelector(ls);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().message(), "\"Near\" is not a valid label selector operator");

  LabelSelector empty;
  empty.matchExpressions.push_back({"x", "In", {}});
  EXPECT_FALSE(LabelSelectorExpr::FromLabelSelector(empty).ok());
}

TEST(LabelSelector, FromSet) {
  auto s = LabelSelectorExpr::FromSet({{"b", "2"}, {"a", "1"}});
  EXPECT_EQ(s.ToString(), "a=1,b=2");
  EXPECT_TRUE(s.Matches(Labels{{"a", "1"}, {"b", "2"}, {"c", "3"}}));
}

}  // namespace
}  // namespace kvol::api
