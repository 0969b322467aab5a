// YAML <-> JSON the way Kubernetes tools do it (sigs.k8s.io/yaml over go-yaml v2).
//
// ParseYaml reads a multi-document YAML stream ("---" separated) into one JSON value per
// non-empty document, resolving plain scalars with YAML 1.1 rules as go-yaml v2 does:
//   true/false/yes/no/y/n/on/off (any of the usual casings) -> booleans
//   null, Null, NULL, ~, empty                             -> null
//   123, +5, 0x1F, 0o17, 0b101, 1_000, 0644 (octal = 420)   -> integers
//   1.5, .5, 1e3 (1e3 becomes the integer 1000, as JSON "1000" would) -> numbers
//   anything else, any quoted scalar and !!str             -> strings (timestamps stay strings)
// Non-string map keys become strings ("1", "true"); "<<" merge keys are applied; aliases are
// expanded (with a size budget against alias bombs). NaN/Inf are refused (JSON has no such
// numbers). Errors: BadRequest "error converting YAML to JSON: yaml: line 3: <reason>" (libyaml's
// wording, as go-yaml's). Parsing uses libyaml's event API, which always terminates on malformed
// input (yaml-cpp 0.7 looped forever on `"x",i`). Nothing throws: nlohmann exceptions are caught
// here. Control characters and invalid UTF-8 are refused up front, as go-yaml does.
//
// ToYaml prints JSON as `kubectl get -o yaml` does (go-yaml v2 style): 2-space indentation,
// sequences under a key at the key's own indentation ("- item"), maps in a sequence as
// "- key: v", keys in the JSON object's order (sorted), strings quoted only when needed:
// double quotes for strings that would read back as another type ("true", "0644", "1.5", "",
// "null", timestamps) or hold control characters, single quotes for strings that YAML syntax
// forbids as plain ("*", "- x", "a: b", "{x}", leading/trailing spaces), and multi-line strings
// as literal blocks (|, |- or |+).
//
// Thread safety: pure functions.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "kvol/common/status.h"

namespace kvol::api {

// Every non-empty document of a YAML stream, as JSON.
Result<std::vector<nlohmann::json>> ParseYaml(std::string_view text);

// One JSON value from text that is JSON (first non-space character '{' or '[') or YAML with a
// single document. Empty input gives null. More than one document is an error.
Result<nlohmann::json> ParseJsonOrYaml(std::string_view text);

// kubectl -o yaml style; ends with a newline.
std::string ToYaml(const nlohmann::json& value);

}  // namespace kvol::api
