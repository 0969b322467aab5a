// Field reflection for the API types, and the JSON codec built on it.
//
// Each API struct lists its fields once:
//
//   struct ConfigMapKeySelector {
//     std::string name;
//     std::string key;
//     std::optional<bool> optional;
//     KVOL_REFLECT(ConfigMapKeySelector, name, key, optional)
//   };
//
// Member names are the JSON names (camelCase, as in Kubernetes). A member that would be a C++
// keyword takes a trailing underscore (`namespace_`, `template_`, `operator_`), which the codec
// drops. Encoding follows Go's `omitempty`: empty strings, zero numbers, false, empty lists and
// maps, and structs that encode to `{}` are left out; `std::optional<T>` (Go's pointer fields)
// is written whenever it holds a value, so `storageClassName: ""` and `replicas: 0` survive a
// round trip. Fields Go writes even when zero (no omitempty: a container status's `ready`,
// `restartCount`, `exitCode`) are named in the struct's `kvolAlwaysEmit` list.
//
// Decoding walks the JSON object by object: unknown keys are collected with their full path
// (`spec.containers[0].foo`, as the API server's strict field validation prints them), and a value
// of the wrong JSON type is a FieldError naming its field. Decoding never throws.
//
// New leaf types (Quantity, IntOrString...) specialise JsonTraits<T>.
//
// Thread safety: stateless; DecodeContext is per call.
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <tuple>
#include <type_traits>
#include <vector>

#include "kvol/api/field_errors.h"

namespace kvol::api {

using json = nlohmann::json;

// What a decode found besides the value: fields it does not know, and type errors.
struct DecodeContext {
  std::vector<std::string> unknownFields;  // full paths, e.g. "spec.foo"
  ErrorList errors;                        // wrong JSON types, bad leaf values
};

// Field descriptor: the JSON name and a pointer to the member.
template <class S, class M>
struct FieldDesc {
  std::string_view name;
  M S::*member;
};

constexpr std::string_view StripTrailingUnderscore(std::string_view s) {
  return (!s.empty() && s.back() == '_') ? s.substr(0, s.size() - 1) : s;
}

template <class S, class M>
constexpr FieldDesc<S, M> MakeField(std::string_view name, M S::*member) {
  return FieldDesc<S, M>{StripTrailingUnderscore(name), member};
}

// ---- KVOL_REFLECT: a FOR_EACH over the member names -------------------------------------------
#define KVOL_PARENS ()
#define KVOL_EXPAND(...) KVOL_EXPAND4(KVOL_EXPAND4(KVOL_EXPAND4(KVOL_EXPAND4(__VA_ARGS__))))
#define KVOL_EXPAND4(...) KVOL_EXPAND3(KVOL_EXPAND3(KVOL_EXPAND3(KVOL_EXPAND3(__VA_ARGS__))))
#define KVOL_EXPAND3(...) KVOL_EXPAND2(KVOL_EXPAND2(KVOL_EXPAND2(KVOL_EXPAND2(__VA_ARGS__))))
#define KVOL_EXPAND2(...) KVOL_EXPAND1(KVOL_EXPAND1(KVOL_EXPAND1(KVOL_EXPAND1(__VA_ARGS__))))
#define KVOL_EXPAND1(...) __VA_ARGS__
#define KVOL_FOR_EACH(macro, ...) __VA_OPT__(KVOL_EXPAND(KVOL_FOR_EACH_HELPER(macro, __VA_ARGS__)))
#define KVOL_FOR_EACH_HELPER(macro, a1, ...) \
  macro(a1) __VA_OPT__(, KVOL_FOR_EACH_AGAIN KVOL_PARENS(macro, __VA_ARGS__))
#define KVOL_FOR_EACH_AGAIN() KVOL_FOR_EACH_HELPER
#define KVOL_FIELD_DESC(m) ::kvol::api::MakeField(#m, &KvolSelf::m)

#define KVOL_REFLECT(Type, ...)                                          \
  using KvolSelf = Type;                                                 \
  static constexpr auto KvolFields() {                                   \
    return std::make_tuple(KVOL_FOR_EACH(KVOL_FIELD_DESC, __VA_ARGS__)); \
  }                                                                      \
  friend bool operator==(const Type& a, const Type& b) {                 \
    return ::kvol::api::ToJson(a) == ::kvol::api::ToJson(b);             \
  }

template <class T, class = void>
struct IsReflected : std::false_type {};
template <class T>
struct IsReflected<T, std::void_t<decltype(T::KvolFields())>> : std::true_type {};

// JsonTraits<T>: Encode(v) -> json; IsEmpty(v) for omitempty; Decode(j, path, v, ctx).
template <class T, class Enable = void>
struct JsonTraits;

template <class T>
json ToJson(const T& v) {
  return JsonTraits<T>::Encode(v);
}

namespace detail {
inline const char* JsonTypeName(const json& j) { return j.type_name(); }
void TypeError(const json& j, const Path& p, const char* want, DecodeContext& ctx);
}  // namespace detail

template <>
struct JsonTraits<std::string> {
  static json Encode(const std::string& v) { return v; }
  static bool IsEmpty(const std::string& v) { return v.empty(); }
  static void Decode(const json& j, const Path& p, std::string& v, DecodeContext& ctx) {
    if (j.is_string()) {
      v = j.get<std::string>();
    } else if (!j.is_null()) {
      detail::TypeError(j, p, "string", ctx);
    }
  }
};

template <>
struct JsonTraits<bool> {
  static json Encode(bool v) { return v; }
  static bool IsEmpty(bool v) { return !v; }
  static void Decode(const json& j, const Path& p, bool& v, DecodeContext& ctx) {
    if (j.is_boolean()) {
      v = j.get<bool>();
    } else if (!j.is_null()) {
      detail::TypeError(j, p, "boolean", ctx);
    }
  }
};

template <class I>
struct JsonTraits<I, std::enable_if_t<std::is_integral_v<I> && !std::is_same_v<I, bool>>> {
  static json Encode(I v) { return v; }
  static bool IsEmpty(I v) { return v == 0; }
  static void Decode(const json& j, const Path& p, I& v, DecodeContext& ctx) {
    if (j.is_number_integer()) {
      if constexpr (std::is_signed_v<I>) {
        auto x = j.get<int64_t>();
        if (x < static_cast<int64_t>(std::numeric_limits<I>::min()) ||
            x > static_cast<int64_t>(std::numeric_limits<I>::max())) {
          detail::TypeError(j, p, "integer in range", ctx);
          return;
        }
        v = static_cast<I>(x);
      } else {
        v = j.get<I>();
      }
    } else if (j.is_number_float() &&
               j.get<double>() == static_cast<double>(static_cast<int64_t>(j.get<double>()))) {
      v = static_cast<I>(j.get<double>());
    } else if (!j.is_null()) {
      detail::TypeError(j, p, "integer", ctx);
    }
  }
};

template <>
struct JsonTraits<double> {
  static json Encode(double v) { return v; }
  static bool IsEmpty(double v) { return v == 0; }
  static void Decode(const json& j, const Path& p, double& v, DecodeContext& ctx) {
    if (j.is_number()) {
      v = j.get<double>();
    } else if (!j.is_null()) {
      detail::TypeError(j, p, "number", ctx);
    }
  }
};

// Raw JSON (RawExtension, FieldsV1): kept as it came.
template <>
struct JsonTraits<json> {
  static json Encode(const json& v) { return v; }
  static bool IsEmpty(const json& v) { return v.is_null(); }
  static void Decode(const json& j, const Path&, json& v, DecodeContext&) { v = j; }
};

template <class T>
struct JsonTraits<std::optional<T>> {
  static json Encode(const std::optional<T>& v) { return v ? JsonTraits<T>::Encode(*v) : json(); }
  static bool IsEmpty(const std::optional<T>& v) { return !v.has_value(); }
  static void Decode(const json& j, const Path& p, std::optional<T>& v, DecodeContext& ctx) {
    if (j.is_null()) {
      v.reset();
      return;
    }
    T inner{};
    JsonTraits<T>::Decode(j, p, inner, ctx);
    v = std::move(inner);
  }
};

template <class T>
struct JsonTraits<std::vector<T>> {
  static json Encode(const std::vector<T>& v) {
    json a = json::array();
    for (const auto& e : v) a.push_back(JsonTraits<T>::Encode(e));
    return a;
  }
  static bool IsEmpty(const std::vector<T>& v) { return v.empty(); }
  static void Decode(const json& j, const Path& p, std::vector<T>& v, DecodeContext& ctx) {
    v.clear();
    if (j.is_null()) return;
    if (!j.is_array()) {
      detail::TypeError(j, p, "array", ctx);
      return;
    }
    v.resize(j.size());
    for (size_t i = 0; i < j.size(); ++i) JsonTraits<T>::Decode(j[i], p.Index(i), v[i], ctx);
  }
};

template <class T>
struct JsonTraits<std::map<std::string, T>> {
  static json Encode(const std::map<std::string, T>& v) {
    json o = json::object();
    for (const auto& [k, e] : v) o[k] = JsonTraits<T>::Encode(e);
    return o;
  }
  static bool IsEmpty(const std::map<std::string, T>& v) { return v.empty(); }
  static void Decode(const json& j, const Path& p, std::map<std::string, T>& v,
                     DecodeContext& ctx) {
    v.clear();
    if (j.is_null()) return;
    if (!j.is_object()) {
      detail::TypeError(j, p, "object", ctx);
      return;
    }
    for (auto it = j.begin(); it != j.end(); ++it) {
      T e{};
      JsonTraits<T>::Decode(it.value(), p.Key(it.key()), e, ctx);
      v.emplace(it.key(), std::move(e));
    }
  }
};

namespace detail {
// Fields Go encodes without omitempty (`json:"ready"`) are listed by the struct:
//   static constexpr std::string_view kvolAlwaysEmit[] = {"ready", "restartCount"};
template <class T>
bool AlwaysEmit(std::string_view name) {
  if constexpr (requires { T::kvolAlwaysEmit; }) {
    for (std::string_view n : T::kvolAlwaysEmit) {
      if (n == name) return true;
    }
  }
  return false;
}
}  // namespace detail

// Reflected structs.
template <class T>
struct JsonTraits<T, std::enable_if_t<IsReflected<T>::value>> {
  static json Encode(const T& v) {
    json o = json::object();
    std::apply(
        [&](const auto&... f) {
          (([&] {
             const auto& m = v.*(f.member);
             using M = std::decay_t<decltype(m)>;
             if (!JsonTraits<M>::IsEmpty(m) || detail::AlwaysEmit<T>(f.name)) {
               o[std::string(f.name)] = JsonTraits<M>::Encode(m);
             }
           }()),
           ...);
        },
        T::KvolFields());
    return o;
  }
  static bool IsEmpty(const T& v) { return Encode(v).empty(); }
  static void Decode(const json& j, const Path& p, T& v, DecodeContext& ctx) {
    if (j.is_null()) return;
    if (!j.is_object()) {
      detail::TypeError(j, p, "object", ctx);
      return;
    }
    for (auto it = j.begin(); it != j.end(); ++it) {
      bool known = false;
      std::apply(
          [&](const auto&... f) {
            (([&] {
               if (!known && f.name == it.key()) {
                 known = true;
                 using M = std::decay_t<decltype(v.*(f.member))>;
                 JsonTraits<M>::Decode(it.value(), p.Child(f.name), v.*(f.member), ctx);
               }
             }()),
             ...);
          },
          T::KvolFields());
      if (!known) ctx.unknownFields.push_back(p.Child(it.key()).str());
    }
  }
};

// Decodes `j` into a T. Unknown fields and type errors land in ctx; the value holds whatever
// decoded cleanly.
template <class T>
void FromJson(const json& j, T& out, DecodeContext& ctx, const Path& root = Path()) {
  JsonTraits<T>::Decode(j, root, out, ctx);
}

// IntOrString (k8s.io/apimachinery/pkg/util/intstr): a JSON number or a string.
struct IntOrString {
  bool isString = false;
  int32_t intVal = 0;
  std::string strVal;
  static IntOrString Int(int32_t v) { return IntOrString{false, v, ""}; }
  static IntOrString Str(std::string s) { return IntOrString{true, 0, std::move(s)}; }
  friend bool operator==(const IntOrString&, const IntOrString&) = default;
};

template <>
struct JsonTraits<IntOrString> {
  static json Encode(const IntOrString& v) { return v.isString ? json(v.strVal) : json(v.intVal); }
  static bool IsEmpty(const IntOrString& v) { return !v.isString && v.intVal == 0; }
  static void Decode(const json& j, const Path& p, IntOrString& v, DecodeContext& ctx) {
    if (j.is_string()) {
      v = IntOrString::Str(j.get<std::string>());
    } else if (j.is_number_integer()) {
      v = IntOrString::Int(j.get<int32_t>());
    } else if (!j.is_null()) {
      detail::TypeError(j, p, "integer or string", ctx);
    }
  }
};

}  // namespace kvol::api
