#include "kvol/api/quantity.h"

#include <gtest/gtest.h>

namespace kvol::api {
namespace {

std::string Canon(std::string_view s) {
  auto q = Quantity::Parse(s);
  if (!q.ok()) return "error: " + q.status().message();
  return q->ToString();
}

// Kubernetes' TestQuantityParseEmit and TestQuantityString alternates.
TEST(Quantity, CanonicalFormsMatchKubernetes) {
  const std::pair<const char*, const char*> cases[] = {
      {"1Ki", "1Ki"},
      {"1Mi", "1Mi"},
      {"1Gi", "1Gi"},
      {"1024Mi", "1Gi"},
      {"1000M", "1G"},
      {".001Ki", "1024m"},
      {".000001Ki", "1024u"},
      {".000000001Ki", "1024n"},
      {".000000000001Ki", "2n"},
      {"1.5Gi", "1536Mi"},
      {"500M", "500M"},
      {"100m", "100m"},
      {"1e3", "1e3"},
      {"0.5", "500m"},
      {"12e6", "12e6"},
      {"307200Ki", "300Mi"},
      {"1025024Mi", "1001Gi"},
      {"5000m", "5"},
      {"0.001T", "1G"},
      {"1000u", "1m"},
      {"1.08", "1080m"},
      {"1080000000n", "1080m"},
      {".001e12", "1e9"},
      {"0.001e0", "1e-3"},
      {"1000e-12", "1e-9"},
      {"00", "0"},
      {"0", "0"},
      {"0Ki", "0"},
      {"-5", "-5"},
      {"0.1Gi", "107374182400m"},
      {"1.5n", "2n"},
      {"3.001n", "4n"},
      {"0.00000012345", "124n"},
      {"9Ei", "9223372036854775807"},  // capped at 2^63-1, not a multiple of 1024
      {"1.3E+6", "1300e3"},
      {"1.0010k", "1001"},
      {"2.5P", "2500T"},
  };
  for (const auto& [in, want] : cases) EXPECT_EQ(Canon(in), want) << in;
  // Negative versions print with a leading '-'.
  EXPECT_EQ(Canon("-1.5Gi"), "-1536Mi");
  EXPECT_EQ(Canon("-.000000000001Ki"), "-2n");
}

TEST(Quantity, ParsedCanonicalTextIsKeptAsWritten) {
  // Kubernetes reuses the input string when it is already canonical: "+5Ki" stays "+5Ki".
  EXPECT_EQ(Canon("+5Ki"), "+5Ki");
  EXPECT_EQ(Canon("5Mi"), "5Mi");
  EXPECT_EQ(Canon("1.G"), "1.G");
  EXPECT_EQ(Canon("100.035k"), "100.035k");
  EXPECT_EQ(Canon("10.035M"), "10.035M");
  // ...but not after arithmetic.
  Quantity q = Quantity::MustParse("+5Ki");
  q += Quantity::MustParse("0");
  EXPECT_EQ(q.ToString(), "5Ki");
}

TEST(Quantity, InvalidInputsGiveKubernetesErrors) {
  const char* formatWrong[] = {"",   "1.1.M",  "1+1.0M",  "0.1mi", "0.1am", "aoeu", ".5i",
                               "1i", "-3.01i", "-3.01e-", " 1",    "1 ",    "1Gx",  "1KB"};
  for (const char* s : formatWrong) {
    auto q = Quantity::Parse(s);
    ASSERT_FALSE(q.ok()) << s;
  }
  EXPECT_EQ(Quantity::Parse("1Gx").status().message(),
            "quantities must match the regular expression "
            "'^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'");
  EXPECT_EQ(Quantity::Parse("1kk").status().message(), "unable to parse quantity's suffix");
  EXPECT_EQ(Quantity::Parse("1e").status().message(), "unable to parse quantity's suffix");
}

TEST(Quantity, CompareIsNumeric) {
  EXPECT_EQ(Quantity::MustParse("5Mi"), Quantity::MustParse("5242880"));
  EXPECT_EQ(Quantity::MustParse("1Gi"), Quantity::MustParse("1073741824"));
  EXPECT_LT(Quantity::MustParse("1k"), Quantity::MustParse("1Ki"));
  EXPECT_GT(Quantity::MustParse("100m"), Quantity::MustParse("50m"));
  EXPECT_GT(Quantity::MustParse("10000T"), Quantity::MustParse("100Gi"));
  EXPECT_LT(Quantity::MustParse("-1"), Quantity::MustParse("0"));
  EXPECT_LT(Quantity::MustParse("-2"), Quantity::MustParse("-1"));
  EXPECT_EQ(Quantity::MustParse("0"), Quantity::MustParse("0Gi"));
  EXPECT_LT(Quantity::MustParse("999999999999999999999"), Quantity::MustParse("1e21"));
}

TEST(Quantity, ValueAndMilliValueRoundAwayFromZero) {
  EXPECT_EQ(Quantity::MustParse("1Gi").Value(), 1073741824);
  EXPECT_EQ(Quantity::MustParse("100m").Value(), 1);
  EXPECT_EQ(Quantity::MustParse("100m").MilliValue(), 100);
  EXPECT_EQ(Quantity::MustParse("9.01").Value(), 10);
  EXPECT_EQ(Quantity::MustParse("-9.01").Value(), -10);
  EXPECT_EQ(Quantity::MustParse("1n").MilliValue(), 1);
  EXPECT_EQ(Quantity::MustParse("1e30").Value(), std::numeric_limits<int64_t>::max());
  EXPECT_EQ(Quantity::MustParse("9Ei").Value(), std::numeric_limits<int64_t>::max());
}

TEST(Quantity, AddAndSubKeepFormatLikeKubernetes) {
  Quantity a = Quantity::MustParse("1Gi");
  a += Quantity::MustParse("512Mi");
  EXPECT_EQ(a.ToString(), "1536Mi");
  a -= Quantity::MustParse("1536Mi");
  EXPECT_TRUE(a.IsZero());
  EXPECT_EQ(a.ToString(), "0");
  // Zero takes the other operand's format (TestQuantityAddZeroPreservesSuffix).
  Quantity z = Quantity::MustParse("0");
  z += Quantity::MustParse("100m");
  EXPECT_EQ(z.ToString(), "100m");
  Quantity z2 = Quantity::MustParse("0");
  z2 -= Quantity::MustParse("1Gi");
  EXPECT_EQ(z2.ToString(), "-1Gi");
  Quantity d = Quantity::MustParse("10");
  d -= Quantity::MustParse("1");
  EXPECT_EQ(d.ToString(), "9");
}

TEST(Quantity, FromIntPrintsLikeNewQuantity) {
  EXPECT_EQ(Quantity::FromInt(1, Quantity::Format::kDecimalSI).ToString(), "1");
  EXPECT_EQ(Quantity::FromInt(1000, Quantity::Format::kDecimalSI).ToString(), "1k");
  EXPECT_EQ(Quantity::FromInt(1234000, Quantity::Format::kDecimalSI).ToString(), "1234k");
  EXPECT_EQ(Quantity::FromInt(1024, Quantity::Format::kBinarySI).ToString(), "1Ki");
  EXPECT_EQ(Quantity::FromInt(1000000, Quantity::Format::kDecimalExponent).ToString(), "1e6");
  EXPECT_EQ(Quantity::FromInt(1025, Quantity::Format::kBinarySI).ToString(), "1025");
}

TEST(Quantity, JsonDecodeReportsTheFieldLikeKubernetes) {
  DecodeContext ctx;
  std::map<std::string, Quantity> requests;
  FromJson(json::parse(R"({"storage":"1Gx"})"), requests, ctx, Path("spec.resources.requests"));
  ASSERT_EQ(ctx.errors.size(), 1u);
  EXPECT_EQ(ctx.errors[0].ToString(),
            "spec.resources.requests[storage]: Invalid value: \"1Gx\": quantities must match the "
            "regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'");

  DecodeContext ok;
  FromJson(json::parse(R"({"a":" 1 ","b":10,"c":"2Gi","d":1.5})"), requests, ok);
  EXPECT_TRUE(ok.errors.empty());
  EXPECT_EQ(requests["a"].ToString(), "1");
  EXPECT_EQ(requests["b"].ToString(), "10");
  EXPECT_EQ(ToJson(requests["c"]), json("2Gi"));
  EXPECT_EQ(requests["d"].ToString(), "1500m");
}

TEST(Quantity, HugeAndTinyInputsDoNotCrash) {
  EXPECT_EQ(Canon("1e-2000000000"), "1e-9");
  EXPECT_EQ(Canon("1n"), "1n");
  EXPECT_EQ(Canon("1e999"), "1e999");
  EXPECT_FALSE(Quantity::Parse(std::string(60, '7')).ok());
  EXPECT_EQ(Canon(std::string(60, '7') + "Ki"), "9223372036854775807");
  EXPECT_EQ(Canon("0." + std::string(5000, '0') + "1"), "1n");
}

}  // namespace
}  // namespace kvol::api
