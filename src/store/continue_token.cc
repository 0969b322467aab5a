#include "kvol/store/continue_token.h"

#include <array>

namespace kvol::store {
namespace {

constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

std::string Base64UrlEncode(const std::string& in) {
  std::string out;
  size_t i = 0;
  for (; i + 2 < in.size(); i += 3) {
    uint32_t n = (uint8_t(in[i]) << 16) | (uint8_t(in[i + 1]) << 8) | uint8_t(in[i + 2]);
    for (int s = 18; s >= 0; s -= 6) out.push_back(kAlphabet[(n >> s) & 63]);
  }
  if (i + 1 == in.size()) {
    uint32_t n = uint8_t(in[i]) << 16;
    out.push_back(kAlphabet[(n >> 18) & 63]);
    out.push_back(kAlphabet[(n >> 12) & 63]);
  } else if (i + 2 == in.size()) {
    uint32_t n = (uint8_t(in[i]) << 16) | (uint8_t(in[i + 1]) << 8);
    out.push_back(kAlphabet[(n >> 18) & 63]);
    out.push_back(kAlphabet[(n >> 12) & 63]);
    out.push_back(kAlphabet[(n >> 6) & 63]);
  }
  return out;
}

// Accepts the URL alphabet, with or without '=' padding (and the standard alphabet's + and /).
bool Base64UrlDecode(const std::string& in, std::string* out) {
  std::array<int, 256> rev;
  rev.fill(-1);
  for (int i = 0; i < 64; ++i) rev[uint8_t(kAlphabet[i])] = i;
  rev['+'] = 62;
  rev['/'] = 63;
  std::string s = in;
  while (!s.empty() && s.back() == '=') s.pop_back();
  if (s.size() % 4 == 1) return false;
  uint32_t acc = 0;
  int bits = 0;
  for (char c : s) {
    int v = rev[uint8_t(c)];
    if (v < 0) return false;
    acc = (acc << 6) | uint32_t(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out->push_back(char((acc >> bits) & 0xff));
    }
  }
  return true;
}

Status Invalid(const std::string& why) { return BadRequest("continue key is not valid: " + why); }

}  // namespace

std::string EncodeContinue(Revision rev, const std::string& prefix, const std::string& lastKey) {
  std::string start =
      lastKey.substr(lastKey.compare(0, prefix.size(), prefix) == 0 ? prefix.size() : 0);
  start.push_back('\0');
  json j = {{"v", "meta.k8s.io/v1"}, {"rv", rev}, {"start", start}};
  return Base64UrlEncode(j.dump());
}

Result<ContinuePosition> DecodeContinue(const std::string& token, const std::string& prefix) {
  std::string raw;
  if (!Base64UrlDecode(token, &raw)) return Invalid("illegal base64 data");
  json j = json::parse(raw, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object()) return Invalid("not a JSON object");
  if (!j.contains("v") || j["v"] != "meta.k8s.io/v1")
    return Invalid("server does not recognize this encoded key");
  if (!j.contains("rv") || !j["rv"].is_number_integer()) return Invalid("missing rv");
  if (!j.contains("start") || !j["start"].is_string()) return Invalid("missing start");
  std::string start = j["start"].get<std::string>();
  if (start.empty() || start.back() != '\0') return Invalid("start must end with NUL");
  start.pop_back();
  // Like kube-apiserver: the start key may not escape the prefix.
  if (start.find("..") != std::string::npos || (!start.empty() && start[0] == '/'))
    return Invalid("key provided is not valid");
  ContinuePosition pos;
  pos.revision = j["rv"].get<int64_t>();
  if (pos.revision <= 0)
    return Invalid("incorrect encoded start resourceVersion (version meta.k8s.io/v1)");
  pos.startAfter = prefix + start;
  return pos;
}

}  // namespace kvol::store
