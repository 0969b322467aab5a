#include "kvol/api/yaml.h"

#include <yaml.h>

#include <charconv>
#include <cmath>
#include <cstdint>
#include <deque>
#include <optional>
#include <sstream>
#include <unordered_map>
#include <unordered_set>

namespace kvol::api {
namespace {

using nlohmann::json;

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

// ---- go-yaml v2 scalar resolution --------------------------------------------------------------

// Go's strconv.ParseInt/ParseUint with base 0 (sign, 0x, 0o, 0b, leading-0 octal).
bool ParseGoInt(std::string_view s, bool allowSign, __int128& out) {
  size_t i = 0;
  bool neg = false;
  if (allowSign && i < s.size() && (s[i] == '+' || s[i] == '-')) neg = s[i++] == '-';
  std::string_view d = s.substr(i);
  if (d.empty()) return false;
  int base = 10;
  if (d.size() >= 2 && d[0] == '0') {
    char p = d[1];
    if (p == 'x' || p == 'X') {
      base = 16;
      d.remove_prefix(2);
    } else if (p == 'o' || p == 'O') {
      base = 8;
      d.remove_prefix(2);
    } else if (p == 'b' || p == 'B') {
      base = 2;
      d.remove_prefix(2);
    } else {
      base = 8;
      d.remove_prefix(1);
    }
    if (d.empty()) return false;
  }
  __int128 v = 0;
  const __int128 limit = static_cast<__int128>(UINT64_MAX);
  for (char c : d) {
    int digit;
    if (IsDigit(c)) {
      digit = c - '0';
    } else if (c >= 'a' && c <= 'f') {
      digit = c - 'a' + 10;
    } else if (c >= 'A' && c <= 'F') {
      digit = c - 'A' + 10;
    } else {
      return false;
    }
    if (digit >= base) return false;
    v = v * base + digit;
    if (v > limit) return false;
  }
  out = neg ? -v : v;
  return true;
}

// ^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$
bool IsYamlStyleFloat(std::string_view s) {
  size_t i = 0, n = s.size();
  if (i < n && (s[i] == '+' || s[i] == '-')) ++i;
  if (i < n && s[i] == '.') {
    ++i;
    size_t st = i;
    while (i < n && IsDigit(s[i])) ++i;
    if (i == st) return false;
  } else {
    size_t st = i;
    while (i < n && IsDigit(s[i])) ++i;
    if (i == st) return false;
    if (i < n && s[i] == '.') {
      ++i;
      while (i < n && IsDigit(s[i])) ++i;
    }
  }
  if (i < n && (s[i] == 'e' || s[i] == 'E')) {
    ++i;
    if (i < n && (s[i] == '+' || s[i] == '-')) ++i;
    size_t st = i;
    while (i < n && IsDigit(s[i])) ++i;
    if (i == st) return false;
  }
  return i == n;
}

// YYYY-M-D, YYYY-M-DTh:m:s[.f](Z|±hh:mm), YYYY-M-D h:m:s[.f] (go-yaml v2's timestamp forms).
bool IsTimestamp(std::string_view s) {
  size_t i = 0, n = s.size();
  auto digits = [&](size_t lo, size_t hi) {
    size_t st = i;
    while (i < n && IsDigit(s[i]) && i - st < hi) ++i;
    return i - st >= lo;
  };
  auto lit = [&](char c) { return i < n && s[i] == c ? (++i, true) : false; };
  if (!digits(4, 4) || !lit('-') || !digits(1, 2) || !lit('-') || !digits(1, 2)) return false;
  if (i == n) return true;
  bool zoned = s[i] == 'T' || s[i] == 't';
  if (!zoned && s[i] != ' ') return false;
  ++i;
  if (!digits(1, 2) || !lit(':') || !digits(1, 2) || !lit(':') || !digits(1, 2)) return false;
  if (lit('.') && !digits(1, 9)) return false;
  if (!zoned) return i == n;
  if (lit('Z')) return i == n;
  if (!(lit('+') || lit('-'))) return false;
  return digits(2, 2) && lit(':') && digits(2, 2) && i == n;
}

// ^[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+(?:\.[0-9_]*)?$
bool IsBase60Float(std::string_view s) {
  size_t i = 0, n = s.size();
  if (i < n && (s[i] == '+' || s[i] == '-')) ++i;
  if (i >= n || !IsDigit(s[i])) return false;
  while (i < n && (IsDigit(s[i]) || s[i] == '_')) ++i;
  int groups = 0;
  while (i < n && s[i] == ':') {
    ++i;
    size_t st = i;
    while (i < n && IsDigit(s[i]) && i - st < 2) ++i;
    if (i == st || (i - st == 2 && s[st] > '5')) return false;
    ++groups;
  }
  if (groups == 0) return false;
  if (i < n && s[i] == '.') {
    ++i;
    while (i < n && (IsDigit(s[i]) || s[i] == '_')) ++i;
  }
  return i == n;
}

struct Resolved {
  enum Kind { kString, kNull, kBool, kInt, kUint, kFloat, kTimestamp } kind = kString;
  bool b = false;
  int64_t i = 0;
  uint64_t u = 0;
  double f = 0;
};

Resolved ResolvePlain(const std::string& in) {
  Resolved r;
  static const char* kTrue[] = {"y",    "Y",    "yes", "Yes", "YES", "true",
                                "True", "TRUE", "on",  "On",  "ON"};
  static const char* kFalse[] = {"n",     "N",     "no",  "No",  "NO", "false",
                                 "False", "FALSE", "off", "Off", "OFF"};
  static const char* kNull[] = {"", "~", "null", "Null", "NULL"};
  for (const char* s : kNull) {
    if (in == s) return {Resolved::kNull};
  }
  char c = in[0];
  bool hintD = IsDigit(c) || c == '+' || c == '-';
  bool hintM = std::string_view("yYnNtTfFoO~").find(c) != std::string_view::npos;
  if (!hintD && !hintM && c != '.') return r;
  for (const char* s : kTrue) {
    if (in == s) return {Resolved::kBool, true};
  }
  for (const char* s : kFalse) {
    if (in == s) return {Resolved::kBool, false};
  }
  for (const char* s : {".nan", ".NaN", ".NAN"}) {
    if (in == s) return {Resolved::kFloat, false, 0, 0, std::nan("")};
  }
  for (const char* s : {".inf", ".Inf", ".INF", "+.inf", "+.Inf", "+.INF"}) {
    if (in == s) return {Resolved::kFloat, false, 0, 0, HUGE_VAL};
  }
  for (const char* s : {"-.inf", "-.Inf", "-.INF"}) {
    if (in == s) return {Resolved::kFloat, false, 0, 0, -HUGE_VAL};
  }
  if (hintM) return r;
  if (c == '.') {
    if (IsYamlStyleFloat(in)) {
      r.kind = Resolved::kFloat;
      r.f = std::strtod(in.c_str(), nullptr);
    }
    return r;
  }
  if (IsTimestamp(in)) {
    r.kind = Resolved::kTimestamp;
    return r;
  }
  std::string plain;
  for (char ch : in) {
    if (ch != '_') plain += ch;
  }
  __int128 v;
  if (ParseGoInt(plain, true, v)) {
    if (v >= INT64_MIN && v <= INT64_MAX) {
      r.kind = Resolved::kInt;
      r.i = static_cast<int64_t>(v);
      return r;
    }
  }
  if (ParseGoInt(plain, false, v) && v >= 0) {
    r.kind = Resolved::kUint;
    r.u = static_cast<uint64_t>(v);
    return r;
  }
  if (IsYamlStyleFloat(plain)) {
    r.kind = Resolved::kFloat;
    r.f = std::strtod(plain.c_str(), nullptr);
  }
  return r;
}

// ---- YAML -> JSON ------------------------------------------------------------------------------

constexpr int kMaxDepth = 2000;

// The parsed form of one document: libyaml events folded into a tree. Nodes live in an arena
// (no recursive destructors on deep input); an alias points at its anchored node.
struct Node {
  enum Kind { kScalar, kSeq, kMap, kAlias } kind = kScalar;
  std::string tag;    // as libyaml resolved it ("tag:yaml.org,2002:str", "!"), empty when untagged
  std::string value;  // scalar text, or the alias's anchor name
  bool plain = false;
  size_t line = 0;                // 0-based
  const Node* target = nullptr;   // kAlias
  std::vector<const Node*> kids;  // sequence items, or map keys and values alternating
};

std::string LineOf(const Node* n) { return "line " + std::to_string(n->line + 1) + ": "; }

// Go's strconv.FormatFloat(v, 'g', -1, 64|32).
std::string GoFormatG(double v, bool f32) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  char buf[64];
  auto res = f32 ? std::to_chars(buf, buf + sizeof buf, static_cast<float>(v),
                                 std::chars_format::scientific)
                 : std::to_chars(buf, buf + sizeof buf, v, std::chars_format::scientific);
  std::string sci(buf, res.ptr);
  bool neg = sci[0] == '-';
  if (neg) sci.erase(0, 1);
  size_t e = sci.find('e');
  std::string mant = sci.substr(0, e);
  int exp = std::stoi(sci.substr(e + 1));
  std::string digits;
  for (char ch : mant) {
    if (ch != '.') digits += ch;
  }
  while (digits.size() > 1 && digits.back() == '0') digits.pop_back();
  std::string out = neg ? "-" : "";
  if (digits == "0") return out + "0";
  if (exp < -4 || exp >= 6) {  // %e when shortest: Go uses precision 6 for the decision
    out += digits.substr(0, 1);
    if (digits.size() > 1) out += "." + digits.substr(1);
    out += exp < 0 ? "e-" : "e+";
    int a = exp < 0 ? -exp : exp;
    if (a < 10) out += "0";
    return out + std::to_string(a);
  }
  if (exp < 0) return out + "0." + std::string(static_cast<size_t>(-exp - 1), '0') + digits;
  if (static_cast<int>(digits.size()) <= exp + 1) {
    return out + digits + std::string(static_cast<size_t>(exp + 1) - digits.size(), '0');
  }
  return out + digits.substr(0, static_cast<size_t>(exp + 1)) + "." +
         digits.substr(static_cast<size_t>(exp + 1));
}

class Converter {
 public:
  explicit Converter(size_t budget) : budget_(budget) {}
  const std::string& error() const { return err_; }

  bool Convert(const Node* n, json& out, int depth) {
    if (budget_ == 0) return Fail("yaml: document contains excessive aliasing");
    --budget_;
    if (depth > kMaxDepth) return Fail("yaml: " + LineOf(n) + "exceeded max depth");
    switch (n->kind) {
      case Node::kAlias: {
        if (!active_.insert(n->target).second) {
          return Fail("yaml: anchor '" + n->value + "' value contains itself");
        }
        bool ok = Convert(n->target, out, depth + 1);
        active_.erase(n->target);
        return ok;
      }
      case Node::kScalar:
        return Scalar(n, out);
      case Node::kSeq: {
        out = json::array();
        for (const Node* child : n->kids) {
          json v;
          if (!Convert(child, v, depth + 1)) return false;
          out.push_back(std::move(v));
        }
        return true;
      }
      case Node::kMap:
        out = json::object();
        return Map(n, out, depth);
    }
    return true;
  }

 private:
  bool Fail(std::string m) {
    if (err_.empty()) err_ = std::move(m);
    return false;
  }

  static const Node* Deref(const Node* n) {
    for (int hops = 0; n->kind == Node::kAlias && hops < kMaxDepth; ++hops) n = n->target;
    return n;
  }

  bool Scalar(const Node* n, json& out) {
    const std::string& tag = n->tag;
    const std::string& s = n->value;
    if (tag == "!" || tag == "tag:yaml.org,2002:str" || tag == "tag:yaml.org,2002:binary" ||
        tag == "tag:yaml.org,2002:timestamp" || (tag.empty() && !n->plain)) {
      out = s;
      return true;
    }
    Resolved r = ResolvePlain(s);
    switch (r.kind) {
      case Resolved::kString:
      case Resolved::kTimestamp:
        out = s;
        return true;
      case Resolved::kNull:
        out = nullptr;
        return true;
      case Resolved::kBool:
        out = r.b;
        return true;
      case Resolved::kInt:
        out = r.i;
        return true;
      case Resolved::kUint:
        out = r.u;
        return true;
      case Resolved::kFloat:
        if (!std::isfinite(r.f)) {
          return Fail("json: unsupported value: " + GoFormatG(r.f, false));
        }
        // JSON text "1000" is what Go writes for 1e3; read it back as an integer.
        if (r.f == std::floor(r.f) && std::fabs(r.f) < 9.2e18) {
          out = static_cast<int64_t>(r.f);
        } else {
          out = r.f;
        }
        return true;
    }
    return true;
  }

  bool KeyString(const Node* k, std::string& key) {
    if (k->kind == Node::kAlias) {
      if (budget_ == 0) return Fail("yaml: document contains excessive aliasing");
      --budget_;
      k = Deref(k);
    }
    if (k->kind != Node::kScalar) {
      return Fail("yaml: " + LineOf(k) + "unsupported map key: not a scalar");
    }
    json v;
    if (!Scalar(k, v)) return false;
    if (v.is_string()) {
      key = v.get<std::string>();
    } else if (v.is_boolean()) {
      key = v.get<bool>() ? "true" : "false";
    } else if (v.is_number_float()) {
      key = GoFormatG(v.get<double>(), true);
    } else if (v.is_null()) {
      key = "null";
    } else {
      key = v.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    }
    return true;
  }

  bool Map(const Node* n, json& out, int depth) {
    for (size_t i = 0; i + 1 < n->kids.size(); i += 2) {
      const Node* k = n->kids[i];
      const Node* val = n->kids[i + 1];
      if (k->kind == Node::kScalar && k->tag.empty() && k->plain && k->value == "<<") {
        if (!Merge(val, out, depth)) return false;
        continue;
      }
      std::string key;
      if (!KeyString(k, key)) return false;
      json v;
      if (!Convert(val, v, depth + 1)) return false;
      out[key] = std::move(v);
    }
    return true;
  }

  bool Merge(const Node* v, json& out, int depth) {
    auto mergeOne = [&](const Node* m) {
      if (Deref(m)->kind != Node::kMap) {
        return Fail("yaml: " + LineOf(m) +
                    "map merge requires map or sequence of maps as the value");
      }
      json obj;
      if (!Convert(m, obj, depth + 1)) return false;
      for (auto& [k, val] : obj.items()) out[k] = val;
      return true;
    };
    const Node* d = Deref(v);
    if (d->kind == Node::kSeq) {
      // Earlier maps take precedence, so apply them last.
      for (size_t i = d->kids.size(); i-- > 0;) {
        if (!mergeOne(d->kids[i])) return false;
      }
      return true;
    }
    return mergeOne(v);
  }

  size_t budget_;
  std::string err_;
  std::unordered_set<const Node*> active_;  // aliases being expanded (cycle detection)
};

Status YamlError(const std::string& m) { return BadRequest("error converting YAML to JSON: " + m); }

// ---- JSON -> YAML ------------------------------------------------------------------------------

bool ResolvesToNonString(const std::string& s) {
  if (s.empty() || s == "<<") return true;  // "<<" would read back as a merge key
  if (IsBase60Float(s)) return true;
  return ResolvePlain(s).kind != Resolved::kString;
}

bool IsSpecialByte(unsigned char c) { return (c < 0x20 && c != '\n') || c == 0x7F; }

bool ValidUtf8(const std::string& s) {
  size_t i = 0;
  while (i < s.size()) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    size_t n = c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xE ? 3 : (c >> 3) == 0x1E ? 4 : 0;
    if (n == 0 || i + n > s.size()) return false;
    for (size_t k = 1; k < n; ++k) {
      if ((static_cast<unsigned char>(s[i + k]) & 0xC0) != 0x80) return false;
    }
    i += n;
  }
  return true;
}

enum class Style { kPlain, kSingle, kDouble, kLiteral };

Style ChooseStyle(const std::string& s, bool isKey) {
  if (!ValidUtf8(s)) return Style::kDouble;
  bool special = false;
  for (char ch : s) special |= IsSpecialByte(static_cast<unsigned char>(ch));
  if (special) return Style::kDouble;
  if (s.find('\n') != std::string::npos) {
    if (isKey) return Style::kDouble;
    // A literal block cannot start with a space or break (it would need an indentation
    // indicator) nor carry spaces at the end of a line.
    if (s[0] == ' ' || s[0] == '\n' || s.find(" \n") != std::string::npos || s.back() == ' ') {
      return Style::kDouble;
    }
    return Style::kLiteral;
  }
  if (ResolvesToNonString(s)) return Style::kDouble;
  bool indicators = false;
  if (s.size() >= 3 && (s.compare(0, 3, "---") == 0 || s.compare(0, 3, "...") == 0)) {
    indicators = true;
  }
  for (size_t i = 0; i < s.size() && !indicators; ++i) {
    char c = s[i];
    bool followedBySpace = i + 1 >= s.size() || s[i + 1] == ' ';
    bool precededBySpace = i == 0 || s[i - 1] == ' ';
    if (i == 0) {
      if (std::string_view("#,[]{}&*!|>'\"%@`").find(c) != std::string_view::npos) {
        indicators = true;
      } else if ((c == '?' || c == ':' || c == '-') && followedBySpace) {
        indicators = true;
      }
    } else {
      if (c == ':' && followedBySpace) indicators = true;
      if (c == '#' && precededBySpace) indicators = true;
    }
  }
  if (indicators || s.front() == ' ' || s.back() == ' ') return Style::kSingle;
  return Style::kPlain;
}

std::string DoubleQuote(const std::string& s) {
  std::string out = "\"";
  for (unsigned char c : s) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\0':
        out += "\\0";
        break;
      case '\a':
        out += "\\a";
        break;
      case '\b':
        out += "\\b";
        break;
      case '\t':
        out += "\\t";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\v':
        out += "\\v";
        break;
      case '\f':
        out += "\\f";
        break;
      case '\r':
        out += "\\r";
        break;
      case 0x1B:
        out += "\\e";
        break;
      default:
        if (c < 0x20 || c == 0x7F) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\x%02X", c);
          out += buf;
        } else {
          out += static_cast<char>(c);
        }
    }
  }
  return out + "\"";
}

std::string SingleQuote(const std::string& s) {
  std::string out = "'";
  for (char c : s) {
    out += c;
    if (c == '\'') out += '\'';
  }
  return out + "'";
}

// A one-line scalar, or for kLiteral the "|-" header; `block` receives the literal body lines.
std::string Scalar(const json& v, bool isKey, int indent, std::string& block) {
  switch (v.type()) {
    case json::value_t::null:
      return "null";
    case json::value_t::boolean:
      return v.get<bool>() ? "true" : "false";
    case json::value_t::number_integer:
    case json::value_t::number_unsigned:
      return v.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    case json::value_t::number_float: {
      double d = v.get<double>();
      if (std::isnan(d)) return ".nan";
      if (std::isinf(d)) return d > 0 ? ".inf" : "-.inf";
      return GoFormatG(d, false);
    }
    case json::value_t::string: {
      const std::string& s = v.get_ref<const std::string&>();
      switch (ChooseStyle(s, isKey)) {
        case Style::kPlain:
          return s;
        case Style::kSingle:
          return SingleQuote(s);
        case Style::kDouble:
          return DoubleQuote(s);
        case Style::kLiteral: {
          size_t trailing = 0;
          while (trailing < s.size() && s[s.size() - 1 - trailing] == '\n') ++trailing;
          std::string header = trailing == 0 ? "|-" : trailing == 1 ? "|" : "|+";
          std::string body = trailing == 0 ? s : s.substr(0, s.size() - 1);
          std::string pad(static_cast<size_t>(indent), ' ');
          size_t start = 0;
          while (true) {
            size_t nl = body.find('\n', start);
            std::string line = body.substr(start, nl == std::string::npos ? nl : nl - start);
            block += line.empty() ? "\n" : pad + line + "\n";
            if (nl == std::string::npos) break;
            start = nl + 1;
          }
          return header;
        }
      }
      return s;
    }
    default:
      return v.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  }
}

// `inlineFirst`: the first line continues a "- " already written, so it gets no indentation.
void EmitMap(const json& obj, int indent, bool inlineFirst, std::string& out);
void EmitSeq(const json& arr, int indent, bool inlineFirst, std::string& out);

// What follows "key:" or "-": the value inline or on the next lines. `childIndent` is where a
// nested map's keys (or a literal block's lines) go; `seqIndent` where a nested sequence's dashes
// go.
void EmitAfter(const json& v, int childIndent, int seqIndent, bool afterDash, std::string& out) {
  if (v.is_object() && !v.empty()) {
    if (!afterDash) out += "\n";
    EmitMap(v, childIndent, afterDash, out);
    return;
  }
  if (v.is_array() && !v.empty()) {
    if (!afterDash) out += "\n";
    EmitSeq(v, afterDash ? childIndent : seqIndent, afterDash, out);
    return;
  }
  if (v.is_object()) {
    out += " {}\n";
    return;
  }
  if (v.is_array()) {
    out += " []\n";
    return;
  }
  std::string block;
  out += " " + Scalar(v, false, childIndent, block) + "\n" + block;
}

void EmitMap(const json& obj, int indent, bool inlineFirst, std::string& out) {
  std::string pad(static_cast<size_t>(indent), ' ');
  bool first = true;
  for (auto it = obj.begin(); it != obj.end(); ++it) {
    std::string unused;
    out += (first && inlineFirst) ? " " : pad;
    first = false;
    out += Scalar(json(it.key()), true, indent, unused) + ":";
    EmitAfter(it.value(), indent + 2, indent, false, out);
  }
}

void EmitSeq(const json& arr, int indent, bool inlineFirst, std::string& out) {
  std::string pad(static_cast<size_t>(indent), ' ');
  bool first = true;
  for (const auto& item : arr) {
    out += (first && inlineFirst) ? " -" : pad + "-";
    first = false;
    EmitAfter(item, indent + 2, indent + 2, true, out);
  }
}

// Folds libyaml's event stream into one tree per document. libyaml (the C original go-yaml was
// ported from) always terminates, unlike yaml-cpp 0.7 which looped on input like `"x",i`.
class Loader {
 public:
  Loader() { yaml_parser_initialize(&parser_); }
  ~Loader() { yaml_parser_delete(&parser_); }
  Loader(const Loader&) = delete;
  Loader& operator=(const Loader&) = delete;

  // The root of each document, in order; on error returns false with `err` set.
  bool Load(std::string_view text, std::vector<const Node*>& docs, std::string& err) {
    yaml_parser_set_input_string(&parser_, reinterpret_cast<const unsigned char*>(text.data()),
                                 text.size());
    std::vector<Node*> stack;
    const Node* root = nullptr;
    std::unordered_map<std::string, const Node*> anchors;
    while (true) {
      yaml_event_t ev;
      if (!yaml_parser_parse(&parser_, &ev)) {
        err = "yaml: line " + std::to_string(parser_.problem_mark.line + 1) + ": ";
        err += parser_.problem ? parser_.problem : "unknown problem parsing YAML content";
        return false;
      }
      Event guard(ev);
      Node* n = nullptr;
      const char* anchor = nullptr;
      switch (ev.type) {
        case YAML_STREAM_END_EVENT:
          return true;
        case YAML_DOCUMENT_START_EVENT:
          anchors.clear();  // anchors are scoped to their document
          root = nullptr;
          break;
        case YAML_DOCUMENT_END_EVENT:
          if (root) docs.push_back(root);
          break;
        case YAML_ALIAS_EVENT: {
          const char* name = reinterpret_cast<const char*>(ev.data.alias.anchor);
          auto it = anchors.find(name);
          if (it == anchors.end()) {
            err = "yaml: unknown anchor '" + std::string(name) + "' referenced";
            return false;
          }
          n = New(Node::kAlias, ev);
          n->value = name;
          n->target = it->second;
          break;
        }
        case YAML_SCALAR_EVENT:
          n = New(Node::kScalar, ev);
          if (ev.data.scalar.tag) n->tag = reinterpret_cast<const char*>(ev.data.scalar.tag);
          n->value.assign(reinterpret_cast<const char*>(ev.data.scalar.value),
                          ev.data.scalar.length);
          n->plain = ev.data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
          anchor = reinterpret_cast<const char*>(ev.data.scalar.anchor);
          break;
        case YAML_SEQUENCE_START_EVENT:
          n = New(Node::kSeq, ev);
          if (ev.data.sequence_start.tag) {
            n->tag = reinterpret_cast<const char*>(ev.data.sequence_start.tag);
          }
          anchor = reinterpret_cast<const char*>(ev.data.sequence_start.anchor);
          break;
        case YAML_MAPPING_START_EVENT:
          n = New(Node::kMap, ev);
          if (ev.data.mapping_start.tag) {
            n->tag = reinterpret_cast<const char*>(ev.data.mapping_start.tag);
          }
          anchor = reinterpret_cast<const char*>(ev.data.mapping_start.anchor);
          break;
        case YAML_SEQUENCE_END_EVENT:
        case YAML_MAPPING_END_EVENT:
          if (!stack.empty()) stack.pop_back();
          break;
        default:
          break;
      }
      if (!n) continue;
      // Registered before the children, as go-yaml does, so `&a [*a]` is caught as a cycle.
      if (anchor) anchors[anchor] = n;
      if (stack.empty()) {
        root = n;
      } else {
        stack.back()->kids.push_back(n);
      }
      if (n->kind == Node::kSeq || n->kind == Node::kMap) stack.push_back(n);
    }
  }

 private:
  struct Event {
    explicit Event(yaml_event_t& e) : e(e) {}
    ~Event() { yaml_event_delete(&e); }
    yaml_event_t& e;
  };

  Node* New(Node::Kind kind, const yaml_event_t& ev) {
    Node& n = arena_.emplace_back();
    n.kind = kind;
    n.line = ev.start_mark.line;
    return &n;
  }

  yaml_parser_t parser_;
  std::deque<Node> arena_;
};

}  // namespace

Result<std::vector<json>> ParseYaml(std::string_view text) {
  // go-yaml's reader refuses these before parsing.
  for (unsigned char c : text) {
    if ((c < 0x20 && c != '\t' && c != '\n' && c != '\r') || c == 0x7F) {
      return YamlError("yaml: control characters are not allowed");
    }
  }
  if (!ValidUtf8(std::string(text))) return YamlError("yaml: invalid leading UTF-8 octet");
  Loader loader;
  std::vector<const Node*> docs;
  std::string err;
  if (!loader.Load(text, docs, err)) return YamlError(err);
  std::vector<json> out;
  Converter conv(100000 + 50 * text.size());
  for (const Node* d : docs) {
    json j;
    try {
      if (!conv.Convert(d, j, 0)) return YamlError(conv.error());
    } catch (const std::exception& e) {
      return YamlError(std::string("yaml: ") + e.what());
    }
    if (j.is_null()) continue;  // empty documents ("---\n---") are skipped
    out.push_back(std::move(j));
  }
  return out;
}

Result<json> ParseJsonOrYaml(std::string_view text) {
  size_t first = text.find_first_not_of(" \t\r\n");
  if (first == std::string_view::npos) return json(nullptr);
  if (text[first] == '{' || text[first] == '[') {
    try {
      return json::parse(text.begin(), text.end());
    } catch (const json::exception& e) {
      return BadRequest(e.what());
    }
  }
  KVOL_ASSIGN_OR_RETURN(auto docs, ParseYaml(text));
  if (docs.empty()) return json(nullptr);
  if (docs.size() > 1) {
    return BadRequest("expected a single YAML document, found " + std::to_string(docs.size()));
  }
  return std::move(docs[0]);
}

std::string ToYaml(const json& value) {
  std::string out;
  if (value.is_object()) {
    if (value.empty()) return "{}\n";
    EmitMap(value, 0, false, out);
  } else if (value.is_array()) {
    if (value.empty()) return "[]\n";
    EmitSeq(value, 0, false, out);
  } else {
    std::string block;
    out = Scalar(value, false, 2, block) + "\n" + block;
  }
  return out;
}

}  // namespace kvol::api
