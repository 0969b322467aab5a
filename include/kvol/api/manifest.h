// Manifest files as kubectl reads them (`kubectl apply -f`, `kvol validate -f`).
//
// DecodeManifests takes the text of one file: a JSON object, a stream of JSON objects, or
// multi-document YAML ("---" separated; empty documents skipped). A `kind: List` document (or any
// *List kind with an `items` array) is expanded into its items, in order. Every resulting object
// must have apiVersion and kind; the errors read like kubectl's:
//   error parsing pvc.yaml: error converting YAML to JSON: yaml: line 3: <reason>
//   unable to decode "pvc.yaml": Object 'Kind' is missing in '{"apiVersion":"v1",...}'
//   unable to decode "pvc.yaml": Object 'apiVersion' is missing in '{"kind":"Pod",...}'
//   unable to decode "pvc.yaml": json: cannot unmarshal string into Go value of type
//   map[string]interface {}
// All errors are BadRequest. Empty input gives an empty list.
//
// Thread safety: a pure function. Never throws, whatever the bytes.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "kvol/common/status.h"

namespace kvol::api {

struct Manifest {
  nlohmann::json object;  // a JSON object with apiVersion and kind
  int documentIndex = 0;  // 0-based index among the non-empty documents (List items share it)
  std::string source;     // the sourceName given
};

Result<std::vector<Manifest>> DecodeManifests(std::string_view text, std::string_view sourceName);

}  // namespace kvol::api
