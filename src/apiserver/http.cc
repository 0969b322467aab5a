#include "kvol/apiserver/http.h"

#include <cctype>

namespace kvol::apiserver {

namespace {

int HexVal(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

std::string PercentDecode(const std::string& s, bool plusIsSpace) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    if (c == '%' && i + 2 < s.size()) {
      int h = HexVal(s[i + 1]), l = HexVal(s[i + 2]);
      if (h >= 0 && l >= 0) {
        out.push_back(static_cast<char>(h * 16 + l));
        i += 2;
        continue;
      }
    }
    out.push_back(plusIsSpace && c == '+' ? ' ' : c);
  }
  return out;
}

Request Request::Make(std::string method, const std::string& target, std::string body,
                      std::map<std::string, std::string> headers) {
  Request r;
  r.method = std::move(method);
  r.body = std::move(body);
  for (auto& [k, v] : headers) {
    std::string lk = k;
    for (auto& c : lk) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    r.headers[lk] = v;
  }
  auto q = target.find('?');
  r.path = PercentDecode(target.substr(0, q), false);
  if (q == std::string::npos) return r;
  std::string qs = target.substr(q + 1);
  size_t pos = 0;
  while (pos <= qs.size()) {
    size_t amp = qs.find('&', pos);
    if (amp == std::string::npos) amp = qs.size();
    std::string kv = qs.substr(pos, amp - pos);
    if (!kv.empty()) {
      auto eq = kv.find('=');
      std::string k = PercentDecode(kv.substr(0, eq), true);
      std::string v = eq == std::string::npos ? "" : PercentDecode(kv.substr(eq + 1), true);
      r.query[k] = v;
    }
    pos = amp + 1;
  }
  return r;
}

std::string Request::Header(const std::string& lowerName) const {
  auto it = headers.find(lowerName);
  return it == headers.end() ? "" : it->second;
}

std::string Request::Query(const std::string& name) const {
  auto it = query.find(name);
  return it == query.end() ? "" : it->second;
}

}  // namespace kvol::apiserver
