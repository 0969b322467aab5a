#include "kvol/api/fields.h"

#include <algorithm>

namespace kvol::api {
namespace {

// Splits on commas not escaped by a backslash; escapes stay in the terms.
std::vector<std::string> SplitTerms(std::string_view s) {
  std::vector<std::string> out;
  if (s.empty()) return out;
  std::string cur;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\\' && i + 1 < s.size()) {
      cur += s[i];
      cur += s[++i];
    } else if (s[i] == ',') {
      out.push_back(std::move(cur));
      cur.clear();
    } else {
      cur += s[i];
    }
  }
  out.push_back(std::move(cur));
  return out;
}

// fields.splitTerm: the first "!=", "==" or "=" splits field and value.
bool SplitTerm(const std::string& term, std::string& lhs, std::string& op, std::string& rhs) {
  static const char* kOps[] = {"!=", "==", "="};
  for (size_t i = 0; i < term.size(); ++i) {
    for (const char* o : kOps) {
      if (term.compare(i, std::char_traits<char>::length(o), o) == 0) {
        lhs = term.substr(0, i);
        op = o;
        rhs = term.substr(i + op.size());
        return true;
      }
    }
  }
  return false;
}

Result<std::string> Unescape(const std::string& v) {
  std::string out;
  for (size_t i = 0; i < v.size(); ++i) {
    char c = v[i];
    if (c == '\\') {
      if (i + 1 >= v.size()) {
        return BadRequest("invalid field selector: invalid escape sequence: \\");
      }
      char n = v[++i];
      if (n != '\\' && n != ',' && n != '=') {
        return BadRequest(std::string("invalid field selector: invalid escape sequence: \\") + n);
      }
      out += n;
    } else if (c == ',' || c == '=') {
      return BadRequest(std::string("invalid field selector: unescaped character in value: ") + c);
    } else {
      out += c;
    }
  }
  return out;
}

std::string Escape(const std::string& v) {
  std::string out;
  for (char c : v) {
    if (c == '\\' || c == ',' || c == '=') out += '\\';
    out += c;
  }
  return out;
}

}  // namespace

Result<FieldSelector> FieldSelector::Parse(std::string_view s) {
  std::vector<std::string> parts = SplitTerms(s);
  std::sort(parts.begin(), parts.end());
  FieldSelector sel;
  for (const auto& part : parts) {
    if (part.empty()) continue;
    std::string lhs, op, rhs;
    if (!SplitTerm(part, lhs, op, rhs)) {
      return BadRequest("invalid selector: '" + std::string(s) + "'; can't understand '" + part +
                        "'");
    }
    KVOL_ASSIGN_OR_RETURN(std::string value, Unescape(rhs));
    sel.terms_.push_back({lhs, op == "!=", std::move(value)});
  }
  return sel;
}

std::string FieldSelector::FieldValue(const nlohmann::json& object, std::string_view dottedPath) {
  const nlohmann::json* cur = &object;
  size_t start = 0;
  while (true) {
    size_t dot = dottedPath.find('.', start);
    std::string key(dottedPath.substr(
        start, dot == std::string_view::npos ? std::string_view::npos : dot - start));
    if (!cur->is_object()) return "";
    auto it = cur->find(key);
    if (it == cur->end()) return "";
    cur = &*it;
    if (dot == std::string_view::npos) break;
    start = dot + 1;
  }
  if (cur->is_string()) return cur->get<std::string>();
  if (cur->is_null()) return "";
  return cur->dump();
}

bool FieldSelector::Matches(const nlohmann::json& object) const {
  for (const auto& t : terms_) {
    bool eq = FieldValue(object, t.field) == t.value;
    if (eq == t.notEquals) return false;
  }
  return true;
}

std::vector<std::string> FieldSelector::Fields() const {
  std::vector<std::string> out;
  for (const auto& t : terms_) {
    if (std::find(out.begin(), out.end(), t.field) == out.end()) out.push_back(t.field);
  }
  return out;
}

std::optional<std::string> FieldSelector::RequiresExactMatch(std::string_view field) const {
  for (const auto& t : terms_) {
    if (t.field == field && !t.notEquals) return t.value;
  }
  return std::nullopt;
}

std::string FieldSelector::ToString() const {
  // Sorted as Parse sorts its input terms, so printing is stable under re-parsing.
  std::vector<std::string> parts;
  for (const auto& t : terms_) {
    parts.push_back(t.field + (t.notEquals ? "!=" : "=") + Escape(t.value));
  }
  std::sort(parts.begin(), parts.end());
  std::string s;
  for (size_t i = 0; i < parts.size(); ++i) {
    if (i) s += ",";
    s += parts[i];
  }
  return s;
}

}  // namespace kvol::api
