// NormalizeImageName: Docker's reference grammar (distribution/reference) and its normalisation
// (docker.io default domain, library/ for official images, :latest when neither tag nor digest).
#include <cctype>
#include <string>
#include <string_view>

#include "kvol/image/image_store.h"

namespace kvol::image {
namespace {

bool IsLowerAlnum(char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); }
bool IsAlnum(char c) { return std::isalnum(static_cast<unsigned char>(c)) != 0; }
bool IsHex(char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); }

// path-component := [a-z0-9]+ (separator [a-z0-9]+)*, separator := [_.] | __ | -+
bool ValidPathComponent(std::string_view s) {
  size_t i = 0;
  auto alnumRun = [&]() {
    size_t start = i;
    while (i < s.size() && IsLowerAlnum(s[i])) ++i;
    return i > start;
  };
  if (!alnumRun()) return false;
  while (i < s.size()) {
    if (s[i] == '.') {
      ++i;
    } else if (s[i] == '_') {
      ++i;
      if (i < s.size() && s[i] == '_') ++i;
    } else if (s[i] == '-') {
      while (i < s.size() && s[i] == '-') ++i;
    } else {
      return false;
    }
    if (!alnumRun()) return false;
  }
  return true;
}

// domain-component := [a-zA-Z0-9]([a-zA-Z0-9-]*[a-zA-Z0-9])?; domain := components joined by '.'
// with an optional :port.
bool ValidDomain(std::string_view s) {
  size_t colon = s.find(':');
  std::string_view host = s.substr(0, colon);
  if (colon != std::string_view::npos) {
    std::string_view port = s.substr(colon + 1);
    if (port.empty()) return false;
    for (char c : port)
      if (c < '0' || c > '9') return false;
  }
  if (host.empty()) return false;
  size_t start = 0;
  while (true) {
    size_t dot = host.find('.', start);
    std::string_view comp = host.substr(start, dot == std::string_view::npos ? dot : dot - start);
    if (comp.empty() || !IsAlnum(comp.front()) || !IsAlnum(comp.back())) return false;
    for (char c : comp)
      if (!IsAlnum(c) && c != '-') return false;
    if (dot == std::string_view::npos) break;
    start = dot + 1;
  }
  return true;
}

// tag := [\w][\w.-]{0,127}
bool ValidTag(std::string_view s) {
  if (s.empty() || s.size() > 128) return false;
  auto word = [](char c) { return IsAlnum(c) || c == '_'; };
  if (!word(s[0])) return false;
  for (char c : s)
    if (!word(c) && c != '.' && c != '-') return false;
  return true;
}

// digest := algorithm ":" hex; sha256 needs exactly 64 lowercase hex digits.
bool ValidDigest(std::string_view s) {
  size_t colon = s.find(':');
  if (colon == std::string_view::npos || colon == 0) return false;
  std::string_view alg = s.substr(0, colon), hex = s.substr(colon + 1);
  for (char c : alg)
    if (!IsLowerAlnum(c) && c != '+' && c != '.' && c != '_' && c != '-') return false;
  if (hex.size() < 32) return false;
  for (char c : hex)
    if (!IsHex(c)) return false;
  if (alg == "sha256" && hex.size() != 64) return false;
  return true;
}

Status Bad(const std::string& ref, const std::string& why) {
  return Invalid("couldn't parse image name \"" + ref + "\": invalid reference format" +
                 (why.empty() ? "" : ": " + why));
}

}  // namespace

Result<std::string> NormalizeImageName(const std::string& ref) {
  if (ref.empty()) return Bad(ref, "");
  std::string_view rest = ref;
  std::string digest, tag;
  if (size_t at = rest.find('@'); at != std::string_view::npos) {
    digest = std::string(rest.substr(at + 1));
    rest = rest.substr(0, at);
    if (!ValidDigest(digest)) return Bad(ref, "");
  }
  // A tag follows the last ':' that comes after the last '/'.
  size_t slash = rest.rfind('/');
  size_t colon = rest.rfind(':');
  if (colon != std::string_view::npos && (slash == std::string_view::npos || colon > slash)) {
    tag = std::string(rest.substr(colon + 1));
    rest = rest.substr(0, colon);
    if (!ValidTag(tag)) return Bad(ref, "");
  }
  if (rest.empty()) return Bad(ref, "");
  std::string name(rest);
  if (name.size() == 64) {
    bool allHex = true;
    for (char c : name) allHex = allHex && IsHex(c);
    if (allHex) {
      return Invalid("couldn't parse image name \"" + ref + "\": invalid repository name (" + name +
                     "), cannot specify 64-byte hexadecimal strings");
    }
  }
  std::string domain, path;
  size_t first = name.find('/');
  std::string_view head = std::string_view(name).substr(0, first);
  if (first != std::string::npos &&
      (head.find('.') != std::string_view::npos || head.find(':') != std::string_view::npos ||
       head == "localhost")) {
    domain = std::string(head);
    path = name.substr(first + 1);
    if (!ValidDomain(domain)) return Bad(ref, "");
  } else {
    domain = "docker.io";
    path = name;
  }
  if (domain == "index.docker.io") domain = "docker.io";
  for (char c : path) {
    if (c >= 'A' && c <= 'Z') return Bad(ref, "repository name must be lowercase");
  }
  if (path.empty()) return Bad(ref, "");
  size_t start = 0;
  while (true) {
    size_t end = path.find('/', start);
    std::string_view comp = std::string_view(path).substr(
        start, end == std::string::npos ? std::string::npos : end - start);
    if (!ValidPathComponent(comp)) return Bad(ref, "");
    if (end == std::string::npos) break;
    start = end + 1;
  }
  if (domain == "docker.io" && path.find('/') == std::string::npos) path = "library/" + path;
  std::string out = domain + "/" + path;
  if (out.size() > 255) return Bad(ref, "repository name must not be more than 255 characters");
  if (!tag.empty()) {
    out += ":" + tag;
  } else if (digest.empty()) {
    out += ":latest";
  }
  if (!digest.empty()) out += "@" + digest;
  return out;
}

}  // namespace kvol::image
