#include "src/store/sqlite/json_encode.h"

#include <charconv>

namespace kvol::store::sqlite {
namespace {

// True when dump() writes `s` unchanged between its quotes: printable ASCII, no '"' or '\\'.
bool Plain(const std::string& s) {
  for (unsigned char c : s) {
    if (c < 0x20 || c >= 0x80 || c == '"' || c == '\\') return false;
  }
  return true;
}

void AppendString(std::string& out, const std::string& s) {
  if (Plain(s)) {
    out += '"';
    out += s;
    out += '"';
  } else {
    out += json(s).dump();
  }
}

template <class Int>
void AppendInt(std::string& out, Int i) {
  char buf[24];
  auto r = std::to_chars(buf, buf + sizeof buf, i);
  out.append(buf, r.ptr);
}

}  // namespace

void AppendJson(std::string& out, const json& v) {
  switch (v.type()) {
    case json::value_t::object: {
      out += '{';
      bool first = true;
      for (const auto& [k, x] : v.get_ref<const json::object_t&>()) {
        if (!first) out += ',';
        first = false;
        AppendString(out, k);
        out += ':';
        AppendJson(out, x);
      }
      out += '}';
      return;
    }
    case json::value_t::array: {
      out += '[';
      bool first = true;
      for (const auto& x : v.get_ref<const json::array_t&>()) {
        if (!first) out += ',';
        first = false;
        AppendJson(out, x);
      }
      out += ']';
      return;
    }
    case json::value_t::string:
      AppendString(out, v.get_ref<const std::string&>());
      return;
    case json::value_t::boolean:
      out += v.get<bool>() ? "true" : "false";
      return;
    case json::value_t::null:
      out += "null";
      return;
    case json::value_t::number_integer:
      AppendInt(out, v.get<json::number_integer_t>());
      return;
    case json::value_t::number_unsigned:
      AppendInt(out, v.get<json::number_unsigned_t>());
      return;
    case json::value_t::number_float:
    case json::value_t::binary:
    case json::value_t::discarded:
      out += v.dump();
      return;
  }
}

}  // namespace kvol::store::sqlite
