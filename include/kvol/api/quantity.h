// resource.Quantity with Kubernetes' exact rules (k8s.io/apimachinery/pkg/api/resource).
//
// Grammar: <signedNumber><suffix>; suffixes Ki Mi Gi Ti Pi Ei (binary), n u m "" k M G T P E
// (decimal SI), e<int>/E<int> (decimal exponent). The value is held exactly as a decimal
// (mantissa x 10^scale); comparison is numeric ("1Gi" == "1073741824"). Printing is canonical,
// as Kubernetes prints it: the format of the parsed suffix family is kept, and the value is
// written with the largest suffix that keeps it an integer ("1.5Gi" -> "1536Mi", "1000M" -> "1G",
// "0.5" -> "500m", "1e3" -> "1e3"); values smaller than 1 nano round up to 1n, as in Kubernetes.
// BinarySI values are capped at 2^63-1 when parsed ("9Ei"), as Kubernetes does.
// Limits (Kubernetes has none): at most 38 significant digits after rounding to nano, or Parse
// fails; a sum that would need more keeps only its larger term.
//
// Thread safety: a value type.
#pragma once

#include <compare>
#include <cstdint>
#include <string>
#include <string_view>

#include "kvol/api/reflect.h"
#include "kvol/common/status.h"

namespace kvol::api {

class Quantity {
 public:
  enum class Format { kDecimalSI, kBinarySI, kDecimalExponent };

  Quantity() = default;
  // Parses Kubernetes' quantity grammar; a clear error names what is wrong.
  static Result<Quantity> Parse(std::string_view s);
  // Parses or aborts: for constants in code and tests.
  static Quantity MustParse(std::string_view s);
  static Quantity FromInt(int64_t value, Format format = Format::kBinarySI);

  // Canonical string ("1Gi", "500m", "1536Mi").
  std::string ToString() const;
  // The value rounded up to an integer (Kubernetes' Value()); saturates at int64 bounds.
  int64_t Value() const;
  // The value in thousandths, rounded up (Kubernetes' MilliValue()).
  int64_t MilliValue() const;
  bool IsZero() const { return mantissa_ == 0; }
  int Sign() const { return mantissa_ < 0 ? -1 : (mantissa_ > 0 ? 1 : 0); }
  Format format() const { return format_; }

  Quantity& operator+=(const Quantity& o);
  Quantity& operator-=(const Quantity& o);

  friend std::strong_ordering operator<=>(const Quantity& a, const Quantity& b) {
    int c = Compare(a, b);
    return c < 0 ? std::strong_ordering::less
                 : (c > 0 ? std::strong_ordering::greater : std::strong_ordering::equal);
  }
  friend bool operator==(const Quantity& a, const Quantity& b) { return Compare(a, b) == 0; }

 private:
  static int Compare(const Quantity& a, const Quantity& b);

  void Normalize();  // strips trailing zeros of mantissa_ into scale_

  // value = mantissa_ * 10^scale_, exactly; |mantissa_| < 10^38 without trailing zeros.
  __int128 mantissa_ = 0;
  int32_t scale_ = 0;
  Format format_ = Format::kDecimalSI;
  // Kubernetes keeps the parsed text when it is already canonical ("5Mi", "100m", "12e6") and
  // prints it back as written; cleared by arithmetic.
  std::string s_;
};

template <>
struct JsonTraits<Quantity> {
  static json Encode(const Quantity& v) { return v.ToString(); }
  static bool IsEmpty(const Quantity& v) { return v.IsZero(); }
  static void Decode(const json& j, const Path& p, Quantity& v, DecodeContext& ctx);
};

}  // namespace kvol::api
