#include "kvol/api/labels.h"

#include <algorithm>
#include <cerrno>
#include <cstdlib>

#include "kvol/api/validation_util.h"

namespace kvol::api {
namespace {

// ---- Lexer (k8s.io/apimachinery/pkg/labels/selector.go) -------------------------------------
enum class Tok {
  kError,
  kEnd,
  kClosedPar,
  kComma,
  kDoesNotExist,  // !
  kDoubleEquals,
  kEquals,
  kGreaterThan,
  kIdentifier,
  kIn,
  kLessThan,
  kNotEquals,
  kNotIn,
  kOpenPar,
};

bool IsWhitespace(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }
bool IsSpecial(char c) {
  return c == '=' || c == '!' || c == '(' || c == ')' || c == ',' || c == '>' || c == '<';
}

struct Token {
  Tok tok;
  std::string lit;
};

std::vector<Token> Lex(std::string_view s) {
  std::vector<Token> out;
  size_t i = 0;
  while (true) {
    while (i < s.size() && IsWhitespace(s[i])) ++i;
    // Like Go's lexer, a NUL byte reads as the end of the string.
    if (i >= s.size() || s[i] == '\0') {
      out.push_back({Tok::kEnd, ""});
      return out;
    }
    char c = s[i];
    if (IsSpecial(c)) {
      char n = i + 1 < s.size() ? s[i + 1] : '\0';
      if (c == '!' && n == '=') {
        out.push_back({Tok::kNotEquals, "!="});
        i += 2;
      } else if (c == '=' && n == '=') {
        out.push_back({Tok::kDoubleEquals, "=="});
        i += 2;
      } else {
        Tok t = c == '!'   ? Tok::kDoesNotExist
                : c == '=' ? Tok::kEquals
                : c == '(' ? Tok::kOpenPar
                : c == ')' ? Tok::kClosedPar
                : c == ',' ? Tok::kComma
                : c == '>' ? Tok::kGreaterThan
                           : Tok::kLessThan;
        out.push_back({t, std::string(1, c)});
        ++i;
      }
      continue;
    }
    size_t start = i;
    while (i < s.size() && s[i] != '\0' && !IsWhitespace(s[i]) && !IsSpecial(s[i])) ++i;
    std::string lit(s.substr(start, i - start));
    Tok t = lit == "in" ? Tok::kIn : lit == "notin" ? Tok::kNotIn : Tok::kIdentifier;
    out.push_back({t, std::move(lit)});
  }
}

class Parser {
 public:
  explicit Parser(std::vector<Token> toks) : toks_(std::move(toks)) {}

  // In "values" mode the keywords in/notin are plain identifiers.
  Token Lookahead(bool values) const { return Mode(toks_[pos_], values); }
  Token Consume(bool values) {
    Token t = Mode(toks_[pos_], values);
    if (pos_ + 1 < toks_.size()) ++pos_;
    return t;
  }

 private:
  static Token Mode(Token t, bool values) {
    if (values && (t.tok == Tok::kIn || t.tok == Tok::kNotIn)) t.tok = Tok::kIdentifier;
    return t;
  }
  std::vector<Token> toks_;
  size_t pos_ = 0;
};

std::string Quote(std::string_view s) {
  return json(std::string(s)).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

Status ErrParse(std::string msg) { return BadRequest(std::move(msg)); }

std::optional<std::string> ValidateKey(std::string_view key) {
  auto errs = IsQualifiedName(key);
  if (errs.empty()) return std::nullopt;
  std::string m;
  for (size_t i = 0; i < errs.size(); ++i) m += (i ? "; " : "") + errs[i];
  return "<nil>: Invalid value: " + Quote(key) + ": " + m;
}

bool ParseInt64(const std::string& s, int64_t& out) {
  if (s.empty()) return false;
  errno = 0;
  char* end = nullptr;
  long long v = std::strtoll(s.c_str(), &end, 10);
  if (errno != 0 || end != s.c_str() + s.size()) return false;
  out = v;
  return true;
}

// labels.NewRequirement: checks the operator/value shape, key and values.
Result<LabelRequirement> NewRequirement(std::string key, SelectorOp op,
                                        std::vector<std::string> values) {
  if (auto e = ValidateKey(key)) return BadRequest(*e);
  switch (op) {
    case SelectorOp::kIn:
    case SelectorOp::kNotIn:
      if (values.empty()) {
        return BadRequest(
            "values: Invalid value: []string{}: for 'in', 'notin' operators, "
            "values set can't be empty");
      }
      break;
    case SelectorOp::kEquals:
    case SelectorOp::kDoubleEquals:
    case SelectorOp::kNotEquals:
      if (values.size() != 1) {
        return BadRequest(
            "values: Invalid value: " +
            json(values).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) +
            ": exact-match compatibility requires one single value");
      }
      break;
    case SelectorOp::kExists:
    case SelectorOp::kDoesNotExist:
      if (!values.empty()) {
        return BadRequest(
            "values: Invalid value: " +
            json(values).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) +
            ": values set must be empty for exists and does not exist");
      }
      break;
    case SelectorOp::kGreaterThan:
    case SelectorOp::kLessThan: {
      int64_t unused;
      if (values.size() != 1) {
        return BadRequest(
            "values: Invalid value: " +
            json(values).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) +
            ": for 'Gt', 'Lt' operators, exactly one value is required");
      }
      if (!ParseInt64(values[0], unused)) {
        return BadRequest("values[0]: Invalid value: " + Quote(values[0]) +
                          ": for 'Gt', 'Lt' operators, the value must be an integer");
      }
      break;
    }
  }
  if (op != SelectorOp::kGreaterThan && op != SelectorOp::kLessThan) {
    for (size_t i = 0; i < values.size(); ++i) {
      auto errs = IsValidLabelValue(values[i]);
      if (!errs.empty()) {
        std::string m;
        for (size_t j = 0; j < errs.size(); ++j) m += (j ? "; " : "") + errs[j];
        return BadRequest("values[" + std::to_string(i) + "][" + key +
                          "]: Invalid value: " + Quote(values[i]) + ": " + m);
      }
    }
  }
  std::sort(values.begin(), values.end());
  values.erase(std::unique(values.begin(), values.end()), values.end());
  return LabelRequirement{std::move(key), op, std::move(values)};
}

Result<std::vector<std::string>> ParseValues(Parser& p) {
  Token t = p.Consume(true);
  if (t.tok != Tok::kOpenPar) return ErrParse("found '" + t.lit + "' expected: '('");
  t = p.Lookahead(true);
  if (t.tok == Tok::kClosedPar) {
    p.Consume(true);
    return std::vector<std::string>{""};
  }
  if (t.tok != Tok::kIdentifier && t.tok != Tok::kComma) {
    return ErrParse("found '" + t.lit + "', expected: ',', ')' or identifier");
  }
  std::vector<std::string> vals;
  while (true) {
    Token c = p.Consume(true);
    if (c.tok == Tok::kIdentifier) {
      vals.push_back(c.lit);
      Token n = p.Lookahead(true);
      if (n.tok == Tok::kComma) continue;
      if (n.tok == Tok::kClosedPar) break;
      return ErrParse("found '" + n.lit + "', expected: ',' or ')'");
    } else if (c.tok == Tok::kComma) {
      if (vals.empty()) vals.push_back("");  // "(,"
      Token n = p.Lookahead(true);
      if (n.tok == Tok::kClosedPar) {
        vals.push_back("");  // ",)"
        break;
      }
      if (n.tok == Tok::kComma) {
        p.Consume(true);
        vals.push_back("");  // ",,"
      }
    } else {
      return ErrParse("found '" + c.lit + "', expected: ',', or identifier");
    }
  }
  Token close = p.Consume(true);
  if (close.tok != Tok::kClosedPar) return ErrParse("found '" + close.lit + "', expected: ')'");
  return vals;
}

Result<LabelRequirement> ParseRequirement(Parser& p) {
  SelectorOp op = SelectorOp::kExists;
  bool notExists = false;
  if (p.Lookahead(true).tok == Tok::kDoesNotExist) {
    p.Consume(true);
    notExists = true;
  }
  Token k = p.Consume(true);
  if (k.tok != Tok::kIdentifier) return ErrParse("found '" + k.lit + "', expected: identifier");
  if (auto e = ValidateKey(k.lit)) return ErrParse(*e);
  Tok next = p.Lookahead(true).tok;
  if (notExists) return NewRequirement(k.lit, SelectorOp::kDoesNotExist, {});
  if (next == Tok::kEnd || next == Tok::kComma) return NewRequirement(k.lit, op, {});

  Token o = p.Consume(false);
  switch (o.tok) {
    case Tok::kIn:
      op = SelectorOp::kIn;
      break;
    case Tok::kNotIn:
      op = SelectorOp::kNotIn;
      break;
    case Tok::kEquals:
      op = SelectorOp::kEquals;
      break;
    case Tok::kDoubleEquals:
      op = SelectorOp::kDoubleEquals;
      break;
    case Tok::kNotEquals:
      op = SelectorOp::kNotEquals;
      break;
    case Tok::kGreaterThan:
      op = SelectorOp::kGreaterThan;
      break;
    case Tok::kLessThan:
      op = SelectorOp::kLessThan;
      break;
    default:
      return ErrParse("found '" + o.lit + "', expected: in, notin, =, ==, !=, gt, lt");
  }
  std::vector<std::string> values;
  if (op == SelectorOp::kIn || op == SelectorOp::kNotIn) {
    KVOL_ASSIGN_OR_RETURN(values, ParseValues(p));
  } else {
    Token v = p.Lookahead(true);
    if (v.tok == Tok::kEnd || v.tok == Tok::kComma) {
      values.push_back("");
    } else {
      v = p.Consume(true);
      if (v.tok != Tok::kIdentifier) {
        return ErrParse("found '" + v.lit + "', expected: identifier");
      }
      values.push_back(v.lit);
    }
  }
  return NewRequirement(k.lit, op, std::move(values));
}

void SortByKey(std::vector<LabelRequirement>& reqs) {
  std::stable_sort(
      reqs.begin(), reqs.end(),
      [](const LabelRequirement& a, const LabelRequirement& b) { return a.key < b.key; });
}

bool HasValue(const LabelRequirement& r, const std::string& v) {
  return std::binary_search(r.values.begin(), r.values.end(), v);
}

}  // namespace

bool LabelRequirement::Matches(const std::map<std::string, std::string>& labels) const {
  auto it = labels.find(key);
  bool has = it != labels.end();
  switch (op) {
    case SelectorOp::kIn:
    case SelectorOp::kEquals:
    case SelectorOp::kDoubleEquals:
      return has && HasValue(*this, it->second);
    case SelectorOp::kNotIn:
    case SelectorOp::kNotEquals:
      return !has || !HasValue(*this, it->second);
    case SelectorOp::kExists:
      return has;
    case SelectorOp::kDoesNotExist:
      return !has;
    case SelectorOp::kGreaterThan:
    case SelectorOp::kLessThan: {
      if (!has || values.size() != 1) return false;
      int64_t lv, rv;
      if (!ParseInt64(it->second, lv) || !ParseInt64(values[0], rv)) return false;
      return op == SelectorOp::kGreaterThan ? lv > rv : lv < rv;
    }
  }
  return false;
}

std::string LabelRequirement::ToString() const {
  std::string s;
  if (op == SelectorOp::kDoesNotExist) s += "!";
  s += key;
  switch (op) {
    case SelectorOp::kEquals:
      s += "=";
      break;
    case SelectorOp::kDoubleEquals:
      s += "==";
      break;
    case SelectorOp::kNotEquals:
      s += "!=";
      break;
    case SelectorOp::kIn:
      s += " in ";
      break;
    case SelectorOp::kNotIn:
      s += " notin ";
      break;
    case SelectorOp::kGreaterThan:
      s += ">";
      break;
    case SelectorOp::kLessThan:
      s += "<";
      break;
    case SelectorOp::kExists:
    case SelectorOp::kDoesNotExist:
      return s;
  }
  bool set = op == SelectorOp::kIn || op == SelectorOp::kNotIn;
  if (set) s += "(";
  for (size_t i = 0; i < values.size(); ++i) {
    if (i) s += ",";
    s += values[i];
  }
  if (set) s += ")";
  return s;
}

Result<LabelSelectorExpr> LabelSelectorExpr::Parse(std::string_view s) {
  Parser p(Lex(s));
  LabelSelectorExpr sel;
  while (true) {
    Token t = p.Lookahead(true);
    if (t.tok == Tok::kEnd) break;
    if (t.tok != Tok::kIdentifier && t.tok != Tok::kDoesNotExist) {
      return BadRequest("found '" + t.lit + "', expected: !, identifier, or 'end of string'");
    }
    auto r = ParseRequirement(p);
    if (!r.ok()) return BadRequest("unable to parse requirement: " + r.status().message());
    sel.reqs_.push_back(std::move(r).value());
    Token after = p.Consume(true);
    if (after.tok == Tok::kEnd) break;
    if (after.tok != Tok::kComma) {
      return BadRequest("found '" + after.lit + "', expected: ',' or 'end of string'");
    }
    Token n = p.Lookahead(true);
    if (n.tok != Tok::kIdentifier && n.tok != Tok::kDoesNotExist) {
      return BadRequest("found '" + n.lit + "', expected: identifier after ','");
    }
  }
  SortByKey(sel.reqs_);
  return sel;
}

Result<LabelSelectorExpr> LabelSelectorExpr::FromLabelSelector(const LabelSelector& selector) {
  LabelSelectorExpr sel;
  for (const auto& [k, v] : selector.matchLabels) {
    KVOL_ASSIGN_OR_RETURN(auto r, NewRequirement(k, SelectorOp::kEquals, {v}));
    sel.reqs_.push_back(std::move(r));
  }
  for (const auto& e : selector.matchExpressions) {
    SelectorOp op;
    if (e.operator_ == "In") {
      op = SelectorOp::kIn;
    } else if (e.operator_ == "NotIn") {
      op = SelectorOp::kNotIn;
    } else if (e.operator_ == "Exists") {
      op = SelectorOp::kExists;
    } else if (e.operator_ == "DoesNotExist") {
      op = SelectorOp::kDoesNotExist;
    } else {
      return BadRequest(Quote(e.operator_) + " is not a valid label selector operator");
    }
    KVOL_ASSIGN_OR_RETURN(auto r, NewRequirement(e.key, op, e.values));
    sel.reqs_.push_back(std::move(r));
  }
  SortByKey(sel.reqs_);
  return sel;
}

LabelSelectorExpr LabelSelectorExpr::FromSet(const std::map<std::string, std::string>& labels) {
  LabelSelectorExpr sel;
  for (const auto& [k, v] : labels) sel.reqs_.push_back({k, SelectorOp::kEquals, {v}});
  return sel;
}

bool LabelSelectorExpr::Matches(const std::map<std::string, std::string>& labels) const {
  for (const auto& r : reqs_) {
    if (!r.Matches(labels)) return false;
  }
  return true;
}

std::string LabelSelectorExpr::ToString() const {
  std::string s;
  for (size_t i = 0; i < reqs_.size(); ++i) {
    if (i) s += ",";
    s += reqs_[i].ToString();
  }
  return s;
}

std::optional<std::string> LabelSelectorExpr::RequiresExactMatch(std::string_view key) const {
  for (const auto& r : reqs_) {
    if (r.key != key) continue;
    if ((r.op == SelectorOp::kEquals || r.op == SelectorOp::kDoubleEquals ||
         r.op == SelectorOp::kIn) &&
        r.values.size() == 1) {
      return r.values[0];
    }
  }
  return std::nullopt;
}

}  // namespace kvol::api
