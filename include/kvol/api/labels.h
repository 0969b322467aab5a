// Label selectors with Kubernetes' semantics (k8s.io/apimachinery/pkg/labels).
//
// A LabelSelectorExpr is a conjunction of requirements on label keys. It is built either from the
// string form the API takes in `?labelSelector=` and `kubectl -l`:
//   "a=b,c==d,e!=f,g in (x,y),h notin (z),i,!j"   (also "k>5", "k<5", integer comparisons)
// or from a metav1.LabelSelector (matchLabels + matchExpressions In/NotIn/Exists/DoesNotExist).
//
// Semantics: every requirement must hold. `in`/`=`/`==` need the key present with a listed value;
// `notin`/`!=` hold when the key is absent or its value is not listed; `i` needs the key present;
// `!j` needs it absent. An empty selector ("" or `{}`) matches everything.
// Keys must be qualified names and values valid label values (Kubernetes' messages).
//
// ToString() is canonical: requirements sorted by key, set values sorted ("g in (x,y)").
//
// Thread safety: an immutable value once built.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "kvol/api/meta.h"
#include "kvol/common/status.h"

namespace kvol::api {

enum class SelectorOp {
  kEquals,        // =
  kDoubleEquals,  // ==
  kNotEquals,     // !=
  kIn,            // in
  kNotIn,         // notin
  kExists,        // key
  kDoesNotExist,  // !key
  kGreaterThan,   // >
  kLessThan,      // <
};

struct LabelRequirement {
  std::string key;
  SelectorOp op = SelectorOp::kExists;
  std::vector<std::string> values;  // sorted, unique

  bool Matches(const std::map<std::string, std::string>& labels) const;
  std::string ToString() const;
};

class LabelSelectorExpr {
 public:
  // The empty selector: matches everything.
  LabelSelectorExpr() = default;

  // Parses the string form; errors are BadRequest with Kubernetes-like wording, e.g.
  // `unable to parse requirement: found '(', expected: identifier`.
  static Result<LabelSelectorExpr> Parse(std::string_view s);
  // metav1.LabelSelectorAsSelector. Errors are BadRequest ("\"Foo\" is not a valid label selector
  // operator", "for 'in', 'notin' operators, values set can't be empty").
  static Result<LabelSelectorExpr> FromLabelSelector(const LabelSelector& selector);
  // A selector matching exactly these labels (labels.SelectorFromSet).
  static LabelSelectorExpr FromSet(const std::map<std::string, std::string>& labels);

  bool Matches(const std::map<std::string, std::string>& labels) const;
  bool Empty() const { return reqs_.empty(); }
  std::string ToString() const;
  const std::vector<LabelRequirement>& Requirements() const { return reqs_; }
  // The value when the selector requires `key` to equal exactly one value (=, ==, in (one)).
  std::optional<std::string> RequiresExactMatch(std::string_view key) const;

 private:
  std::vector<LabelRequirement> reqs_;  // sorted by key (stable)
};

}  // namespace kvol::api
