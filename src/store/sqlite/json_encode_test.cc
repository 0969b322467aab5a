#include "src/store/sqlite/json_encode.h"

#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <limits>
#include <random>

namespace kvol::store::sqlite {
namespace {

std::string Encode(const json& v) {
  std::string out;
  AppendJson(out, v);
  return out;
}

TEST(JsonEncode, SameBytesAsDumpForEveryKind) {
  const json cases[] = {
      json::object(),
      json::array(),
      nullptr,
      true,
      false,
      0,
      -1,
      std::numeric_limits<int64_t>::min(),
      std::numeric_limits<int64_t>::max(),
      std::numeric_limits<uint64_t>::max(),
      1.0,
      0.1,
      -0.0,
      1e300,
      2.5e-8,
      std::nan(""),
      std::numeric_limits<double>::infinity(),
      "",
      "plain ascii ~ with DEL \x7f",
      "quote \" and backslash \\ and slash /",
      "tab\tnewline\ncr\rbell\x07 nul-free control \x1f",
      "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80",
      json::binary({1, 2, 3}),
      {{"apiVersion", "v1"},
       {"metadata", {{"name", "pv-1"}, {"labels", json::object()}, {"finalizers", json::array()}}},
       {"spec", {{"capacity", {{"storage", "5Gi"}}}, {"accessModes", {"ReadWriteOnce"}}}},
       {"status", {{"phase", "Bound"}, {"ratio", 0.5}, {"count", 3u}}},
       {"\xc3\xa9t\"key\n", {nullptr, true, {1, {2, json::object()}}}}},
  };
  for (const json& c : cases) EXPECT_EQ(Encode(c), c.dump()) << c.dump();
}

TEST(JsonEncode, AppendsToWhatIsThere) {
  std::string out = "x=";
  AppendJson(out, json{{"a", 1}});
  EXPECT_EQ(out, "x={\"a\":1}");
}

TEST(JsonEncode, InvalidUtf8ThrowsAsDumpDoes) {
  json bad = {{"k", std::string("\xff\xfe")}};
  EXPECT_THROW(bad.dump(), json::type_error);
  std::string out;
  EXPECT_THROW(AppendJson(out, bad), json::type_error);
}

TEST(JsonEncode, RandomTreesMatchDump) {
  std::mt19937_64 rng(7);
  const std::string alphabet = std::string("abcXYZ09 _-./:\"\\\t\n\x01\x7f") + "\xc3\xa9";
  auto randomString = [&] {
    std::string s;
    for (int n = int(rng() % 8); n > 0; --n) {
      size_t i = rng() % alphabet.size();
      if (i >= alphabet.size() - 2) {
        s += "\xc3\xa9";  // a whole two-byte character, never half of one
      } else {
        s += alphabet[i];
      }
    }
    return s;
  };
  std::function<json(int)> gen = [&](int depth) -> json {
    switch (rng() % (depth > 3 ? 6 : 8)) {
      case 0:
        return randomString();
      case 1:
        return int64_t(rng()) >> (rng() % 64);
      case 2:
        return uint64_t(rng());
      case 3:
        return double(int64_t(rng() % 2000000) - 1000000) / double(1 + rng() % 1000);
      case 4:
        return rng() % 2 == 0;
      case 5:
        return nullptr;
      case 6: {
        json o = json::object();
        for (int n = int(rng() % 5); n > 0; --n) o[randomString()] = gen(depth + 1);
        return o;
      }
      default: {
        json a = json::array();
        for (int n = int(rng() % 5); n > 0; --n) a.push_back(gen(depth + 1));
        return a;
      }
    }
  };
  for (int i = 0; i < 2000; ++i) {
    json v = gen(0);
    ASSERT_EQ(Encode(v), v.dump());
  }
}

}  // namespace
}  // namespace kvol::store::sqlite
