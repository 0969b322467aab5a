// Field selectors with Kubernetes' semantics (k8s.io/apimachinery/pkg/fields).
//
// "metadata.name=x,status.phase!=Bound" (also "=="): a conjunction of exact (in)equality terms
// on fields of an object. Matches() reads each field by its dotted path from the object's JSON
// (metadata.name, metadata.namespace, spec.nodeName, status.phase, involvedObject.kind...);
// a missing field reads as "", booleans and numbers as their JSON text ("true", "3"), so
// "spec.nodeName=" selects pods with no node, as in Kubernetes.
// `\,`, `\=` and `\\` escape those characters in values.
//
// Which fields a kind supports is the API server's business: it calls Fields() and answers 400
// `field label not supported: foo` for the ones it does not know.
//
// Thread safety: an immutable value once built.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "kvol/common/status.h"

namespace kvol::api {

struct FieldTerm {
  std::string field;
  bool notEquals = false;
  std::string value;
};

class FieldSelector {
 public:
  // The empty selector: matches everything.
  FieldSelector() = default;

  // Errors are BadRequest: `invalid selector: 'a'; can't understand 'a'`.
  static Result<FieldSelector> Parse(std::string_view s);

  bool Matches(const nlohmann::json& object) const;
  bool Empty() const { return terms_.empty(); }
  // Field names used, in order, duplicates removed.
  std::vector<std::string> Fields() const;
  // The value when the selector has `field=value` (or ==).
  std::optional<std::string> RequiresExactMatch(std::string_view field) const;
  // Canonical form: printed terms sorted, values escaped.
  std::string ToString() const;
  const std::vector<FieldTerm>& Terms() const { return terms_; }

  // The string a field reads as in `object` ("" when missing).
  static std::string FieldValue(const nlohmann::json& object, std::string_view dottedPath);

 private:
  std::vector<FieldTerm> terms_;
};

}  // namespace kvol::api
