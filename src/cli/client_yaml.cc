// YAML for the client verbs: manifests in (through api/manifest.h), `-o yaml` out (as go-yaml v2
// writes JSON objects).
#include <cmath>
#include <fstream>
#include <iostream>
#include <regex>
#include <sstream>

#include "kvol/api/manifest.h"
#include "kvol/cli/client.h"

namespace kvol::cli {

namespace {

// How a plain YAML scalar resolves (go-yaml v2's resolve table, YAML 1.1 booleans included).
json ResolvePlain(const std::string& s) {
  static const std::regex kInt(R"([-+]?(0|[1-9][0-9_]*))");
  static const std::regex kFloat(R"([-+]?(\.[0-9]+|[0-9][0-9_]*(\.[0-9_]*)?)([eE][-+]?[0-9]+)?)");
  if (s.empty() || s == "~" || s == "null" || s == "Null" || s == "NULL") return nullptr;
  static const char* kTrue[] = {"y",    "Y",    "yes", "Yes", "YES", "true",
                                "True", "TRUE", "on",  "On",  "ON"};
  static const char* kFalse[] = {"n",     "N",     "no",  "No",  "NO", "false",
                                 "False", "FALSE", "off", "Off", "OFF"};
  for (const char* t : kTrue)
    if (s == t) return true;
  for (const char* f : kFalse)
    if (s == f) return false;
  if (std::regex_match(s, kInt)) {
    std::string digits;
    for (char c : s)
      if (c != '_') digits += c;
    try {
      size_t pos = 0;
      long long v = std::stoll(digits, &pos);
      if (pos == digits.size()) return v;
    } catch (...) {
    }
    return std::stod(digits);
  }
  if (s.size() > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
    try {
      size_t pos = 0;
      long long v = std::stoll(s.substr(2), &pos, 16);
      if (pos == s.size() - 2) return v;
    } catch (...) {
    }
  }
  if (std::regex_match(s, kFloat) && s.find_first_of("0123456789") != std::string::npos) {
    std::string digits;
    for (char c : s)
      if (c != '_') digits += c;
    return std::stod(digits);
  }
  if (s == ".inf" || s == ".Inf" || s == ".INF" || s == "+.inf") return HUGE_VAL;
  if (s == "-.inf" || s == "-.Inf" || s == "-.INF") return -HUGE_VAL;
  return s;
}

// --- emitter -------------------------------------------------------------------------------

bool IsPrintable(unsigned char c) { return c >= 0x20 || c == '\n' || c == '\t'; }

bool PlainAllowed(const std::string& s) {
  if (s.empty()) return false;
  if (s.front() == ' ' || s.back() == ' ' || s.front() == '\t' || s.back() == '\t') return false;
  const std::string indicators = "#,[]{}&*!|>'\"%@`";
  if (indicators.find(s[0]) != std::string::npos) return false;
  if ((s[0] == '-' || s[0] == '?' || s[0] == ':') && (s.size() == 1 || s[1] == ' ')) return false;
  if (s.back() == ':') return false;
  if (s.find(": ") != std::string::npos || s.find(" #") != std::string::npos) return false;
  for (unsigned char c : s)
    if (c < 0x20 || c == 0x7f) return false;
  return true;
}

std::string DoubleQuoted(const std::string& s) {
  std::string o = "\"";
  for (unsigned char c : s) {
    switch (c) {
      case '"':
        o += "\\\"";
        break;
      case '\\':
        o += "\\\\";
        break;
      case '\n':
        o += "\\n";
        break;
      case '\t':
        o += "\\t";
        break;
      case '\r':
        o += "\\r";
        break;
      default:
        if (c < 0x20 || c == 0x7f) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\x%02X", c);
          o += buf;
        } else {
          o += static_cast<char>(c);
        }
    }
  }
  return o + "\"";
}

// A string scalar at `indent` (the indentation of its key); may span lines (literal block).
std::string StringScalar(const std::string& s, int indent) {
  // go-yaml v2 also resolves timestamps ("2024-05-01", "2024-05-01T10:00:00Z"): kubectl quotes
  // them.
  static const std::regex kTimestamp(R"([0-9]{4}-[0-9]{1,2}-[0-9]{1,2}([Tt ].*)?)");
  json resolved = ResolvePlain(s);
  if (!resolved.is_string() || std::regex_match(s, kTimestamp)) return DoubleQuoted(s);
  bool printable = true;
  for (unsigned char c : s)
    if (!IsPrintable(c) || c == '\r') printable = false;
  if (s.find('\n') != std::string::npos) {
    if (!printable || s.find(" \n") != std::string::npos || s.front() == ' ' || s.front() == '\n') {
      return DoubleQuoted(s);
    }
    std::string body = s;
    std::string chomp = "-";
    if (!body.empty() && body.back() == '\n') {
      chomp = "";
      body.pop_back();
      if (!body.empty() && body.back() == '\n') chomp = "+";
    }
    std::string pad(indent + 2, ' ');
    std::string out = "|" + chomp;
    size_t start = 0;
    std::string text = chomp == "+" ? s.substr(0, s.size() - 1) : body;
    while (start <= text.size()) {
      size_t nl = text.find('\n', start);
      std::string line =
          text.substr(start, nl == std::string::npos ? std::string::npos : nl - start);
      out += "\n" + (line.empty() ? std::string() : pad + line);
      if (nl == std::string::npos) break;
      start = nl + 1;
    }
    return out;
  }
  if (!printable) return DoubleQuoted(s);
  if (PlainAllowed(s)) return s;
  std::string o = "'";
  for (char c : s) o += c == '\'' ? std::string("''") : std::string(1, c);
  return o + "'";
}

std::string Scalar(const json& v, int indent) {
  if (v.is_null()) return "null";
  if (v.is_boolean()) return v.get<bool>() ? "true" : "false";
  if (v.is_number_integer()) return v.dump();
  if (v.is_number_float()) {
    double d = v.get<double>();
    if (std::isinf(d)) return d > 0 ? ".inf" : "-.inf";
    if (std::isnan(d)) return ".nan";
    if (d == std::floor(d) && std::fabs(d) < 1e15) return std::to_string(static_cast<long long>(d));
    return v.dump();
  }
  return StringScalar(v.get<std::string>(), indent);
}

bool IsEmptyContainer(const json& v) { return (v.is_object() || v.is_array()) && v.empty(); }

void Emit(const json& v, int indent, std::string& out);

// A value after "key:" or "- " (the caller wrote that prefix).
void EmitValueAfterKey(const json& v, int indent, std::string& out) {
  if (v.is_object() && !v.empty()) {
    out += "\n";
    Emit(v, indent + 2, out);
  } else if (v.is_array() && !v.empty()) {
    out += "\n";
    Emit(v, indent, out);  // lists sit at their key's indentation
  } else if (v.is_object()) {
    out += " {}\n";
  } else if (v.is_array()) {
    out += " []\n";
  } else {
    out += " " + Scalar(v, indent) + "\n";
  }
}

void Emit(const json& v, int indent, std::string& out) {
  std::string pad(indent, ' ');
  if (v.is_object()) {
    for (auto it = v.begin(); it != v.end(); ++it) {
      out += pad + StringScalar(it.key(), indent) + ":";
      EmitValueAfterKey(it.value(), indent, out);
    }
  } else if (v.is_array()) {
    for (const auto& e : v) {
      out += pad + "-";
      if (e.is_object() && !e.empty()) {
        // First key on the dash line, the rest indented under it.
        std::string inner;
        Emit(e, indent + 2, inner);
        out += " " + inner.substr(indent + 2);
      } else if (e.is_array() && !e.empty()) {
        std::string inner;
        Emit(e, indent + 2, inner);
        out += " " + inner.substr(indent + 2);
      } else if (IsEmptyContainer(e)) {
        out += e.is_object() ? " {}\n" : " []\n";
      } else {
        out += " " + Scalar(e, indent) + "\n";
      }
    }
  } else {
    out += pad + Scalar(v, indent) + "\n";
  }
}

}  // namespace

Result<std::vector<json>> ParseManifests(const std::string& text) {
  // One manifest reader for the whole program (api/manifest.h: JSON or YAML 1.1 as
  // sigs.k8s.io/yaml reads it, multi-document, List expanded, parsed by libyaml).
  auto manifests = api::DecodeManifests(text, "");
  if (!manifests.ok()) return manifests.status();
  std::vector<json> out;
  out.reserve(manifests->size());
  for (auto& m : *manifests) out.push_back(std::move(m.object));
  return out;
}

Result<std::string> ReadFileText(const std::string& path) {
  std::stringstream ss;
  if (path == "-") {
    ss << std::cin.rdbuf();
    return ss.str();
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) return NotFound("the path \"" + path + "\" does not exist");
  ss << in.rdbuf();
  return ss.str();
}

std::string JsonToYaml(const json& v) {
  std::string out;
  if (IsEmptyContainer(v)) return v.is_object() ? "{}\n" : "[]\n";
  Emit(v, 0, out);
  return out;
}

}  // namespace kvol::cli
