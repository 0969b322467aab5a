#include "kvol/api/manifest.h"

#include <sstream>

#include "kvol/api/yaml.h"

namespace kvol::api {
namespace {

using nlohmann::json;

// Go's name for a JSON value's type in "cannot unmarshal X into Go value".
const char* GoTypeName(const json& j) {
  switch (j.type()) {
    case json::value_t::string:
      return "string";
    case json::value_t::boolean:
      return "bool";
    case json::value_t::array:
      return "array";
    case json::value_t::null:
      return "null";
    default:
      return "number";
  }
}

Status DecodeError(std::string_view source, const std::string& msg) {
  return BadRequest("unable to decode \"" + std::string(source) + "\": " + msg);
}

bool IsList(const json& obj) {
  auto kind = obj.find("kind");
  if (kind == obj.end() || !kind->is_string()) return false;
  const std::string& k = kind->get_ref<const std::string&>();
  auto items = obj.find("items");
  if (k == "List") return true;
  return k.size() > 4 && k.compare(k.size() - 4, 4, "List") == 0 && items != obj.end() &&
         items->is_array();
}

Status Add(const json& doc, int index, std::string_view source, std::vector<Manifest>& out,
           int depth) {
  if (!doc.is_object()) {
    return DecodeError(source, std::string("json: cannot unmarshal ") + GoTypeName(doc) +
                                   " into Go value of type map[string]interface {}");
  }
  auto str = [&](const char* key) {
    auto it = doc.find(key);
    return it != doc.end() && it->is_string() && !it->get_ref<const std::string&>().empty();
  };
  if (!str("kind")) {
    return DecodeError(
        source, "Object 'Kind' is missing in '" +
                    doc.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "'");
  }
  if (!str("apiVersion")) {
    return DecodeError(
        source, "Object 'apiVersion' is missing in '" +
                    doc.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "'");
  }
  if (IsList(doc)) {
    if (depth > 8) return DecodeError(source, "Lists nested too deeply");
    auto items = doc.find("items");
    if (items == doc.end() || items->is_null()) return Status::Ok();
    if (!items->is_array()) {
      return DecodeError(source,
                         std::string("json: cannot unmarshal ") + GoTypeName(*items) +
                             " into Go struct field List.items of type []runtime.RawExtension");
    }
    for (const auto& item : *items) KVOL_RETURN_IF_ERROR(Add(item, index, source, out, depth + 1));
    return Status::Ok();
  }
  out.push_back(Manifest{doc, index, std::string(source)});
  return Status::Ok();
}

Result<std::vector<json>> ParseJsonStream(std::string_view text, std::string_view source) {
  std::vector<json> docs;
  std::istringstream in{std::string(text)};
  try {
    while (true) {
      in >> std::ws;
      if (in.peek() == std::char_traits<char>::eof()) break;
      json j;
      in >> j;
      docs.push_back(std::move(j));
    }
  } catch (const json::exception& e) {
    return BadRequest("error parsing " + std::string(source) + ": " + e.what());
  }
  return docs;
}

}  // namespace

Result<std::vector<Manifest>> DecodeManifests(std::string_view text, std::string_view sourceName) {
  std::vector<json> docs;
  size_t first = text.find_first_not_of(" \t\r\n");
  if (first == std::string_view::npos) return std::vector<Manifest>{};
  if (text[first] == '{') {
    KVOL_ASSIGN_OR_RETURN(docs, ParseJsonStream(text, sourceName));
  } else {
    auto parsed = ParseYaml(text);
    if (!parsed.ok()) {
      return BadRequest("error parsing " + std::string(sourceName) + ": " +
                        parsed.status().message());
    }
    docs = std::move(parsed).value();
  }
  std::vector<Manifest> out;
  for (size_t i = 0; i < docs.size(); ++i) {
    KVOL_RETURN_IF_ERROR(Add(docs[i], static_cast<int>(i), sourceName, out, 0));
  }
  return out;
}

}  // namespace kvol::api
