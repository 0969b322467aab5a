#include "kvol/api/quantity.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <limits>

namespace kvol::api {
namespace {

constexpr const char* kErrFormatWrong =
    "quantities must match the regular expression "
    "'^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'";
constexpr const char* kErrSuffix = "unable to parse quantity's suffix";
constexpr const char* kMaxInt64 = "9223372036854775807";
constexpr int kMaxDigits = 38;  // |mantissa| < 10^38 fits in __int128

using i128 = __int128;

// 10^0 .. 10^38 (the largest power of ten an i128 holds). Compare() sits on the binder's hot path,
// so powers and digit counts come from this table instead of 128-bit multiplications and
// divisions.
struct Pow10Table {
  i128 p[39];
  constexpr Pow10Table() : p() {
    p[0] = 1;
    for (int i = 1; i < 39; ++i) p[i] = p[i - 1] * 10;
  }
};
constexpr Pow10Table kPow10;

i128 Pow10(int n) {
  if (n >= 0 && n < 39) return kPow10.p[n];
  i128 p = 1;
  for (int i = 0; i < n; ++i) p *= 10;
  return p;
}

int DigitCount(i128 v) {
  if (v < 0) v = -v;
  int n = 0;
  while (n < 39 && v >= kPow10.p[n]) ++n;
  return n;
}

std::string ToDigits(i128 v) {  // v >= 0
  if (v == 0) return "0";
  std::string s;
  while (v > 0) {
    s.push_back(static_cast<char>('0' + static_cast<int>(v % 10)));
    v /= 10;
  }
  std::reverse(s.begin(), s.end());
  return s;
}

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

// k8s parseQuantityString: splits sign, integer digits (leading zeros stripped), fraction digits
// and the suffix. Returns false on a format error.
bool SplitQuantity(std::string_view str, bool& positive, std::string& num, std::string& denom,
                   std::string& suffix) {
  positive = true;
  size_t pos = 0, end = str.size();
  if (pos < end && (str[0] == '-' || str[0] == '+')) {
    positive = str[0] != '-';
    ++pos;
  }
  while (pos < end && str[pos] == '0') ++pos;
  if (pos >= end) {
    num = "0";
    return true;
  }
  size_t i = pos;
  while (i < end && IsDigit(str[i])) ++i;
  num = std::string(str.substr(pos, i - pos));
  pos = i;
  if (pos >= end) return true;
  if (num.empty()) num = "0";
  if (str[pos] == '.') {
    ++pos;
    i = pos;
    while (i < end && IsDigit(str[i])) ++i;
    denom = std::string(str.substr(pos, i - pos));
    pos = i;
    if (pos >= end) return true;
  }
  size_t suffixStart = pos;
  while (pos < end && std::string_view("eEinumkKMGTP").find(str[pos]) != std::string_view::npos) {
    ++pos;
  }
  if (pos < end && (str[pos] == '-' || str[pos] == '+')) ++pos;
  while (pos < end && IsDigit(str[pos])) ++pos;
  if (pos < end) return false;
  suffix = std::string(str.substr(suffixStart));
  return true;
}

// Go's strconv.ParseInt(s, 10, 64).
bool ParseGoInt64(std::string_view s, int64_t& out) {
  size_t i = 0;
  bool neg = false;
  if (i < s.size() && (s[i] == '+' || s[i] == '-')) neg = s[i++] == '-';
  if (i >= s.size()) return false;
  i128 v = 0;
  for (; i < s.size(); ++i) {
    if (!IsDigit(s[i])) return false;
    v = v * 10 + (s[i] - '0');
    if (v > static_cast<i128>(std::numeric_limits<int64_t>::max()) + 1) return false;
  }
  if (neg) v = -v;
  if (v > std::numeric_limits<int64_t>::max() || v < std::numeric_limits<int64_t>::min()) {
    return false;
  }
  out = static_cast<int64_t>(v);
  return true;
}

// Suffix -> (base, exponent, format), as Kubernetes' suffixer interprets it.
bool Interpret(const std::string& suffix, int& base, int32_t& exponent, Quantity::Format& format) {
  static const std::pair<const char*, int> kDec[] = {{"n", -9}, {"u", -6}, {"m", -3}, {"", 0},
                                                     {"k", 3},  {"M", 6},  {"G", 9},  {"T", 12},
                                                     {"P", 15}, {"E", 18}};
  static const std::pair<const char*, int> kBin[] = {{"Ki", 10}, {"Mi", 20}, {"Gi", 30},
                                                     {"Ti", 40}, {"Pi", 50}, {"Ei", 60}};
  for (const auto& [s, e] : kDec) {
    if (suffix == s) {
      base = 10;
      exponent = e;
      format = Quantity::Format::kDecimalSI;
      return true;
    }
  }
  for (const auto& [s, e] : kBin) {
    if (suffix == s) {
      base = 2;
      exponent = e;
      format = Quantity::Format::kBinarySI;
      return true;
    }
  }
  if (suffix.size() > 1 && (suffix[0] == 'e' || suffix[0] == 'E')) {
    int64_t parsed;
    if (!ParseGoInt64(std::string_view(suffix).substr(1), parsed)) return false;
    base = 10;
    exponent = static_cast<int32_t>(static_cast<uint32_t>(parsed));  // Go's int32() truncation
    format = Quantity::Format::kDecimalExponent;
    return true;
  }
  return false;
}

// Decimal digit strings (most significant first, no leading zeros; "" is zero).
std::string StripLeadingZeros(std::string s) {
  size_t i = 0;
  while (i < s.size() && s[i] == '0') ++i;
  return s.substr(i);
}

std::string MulSmall(const std::string& digits, uint64_t factor) {  // factor < 2^32
  if (digits.empty()) return digits;
  std::string out(digits.size() + 11, '0');
  uint64_t carry = 0;
  size_t o = out.size();
  for (size_t i = digits.size(); i-- > 0;) {
    uint64_t v = static_cast<uint64_t>(digits[i] - '0') * factor + carry;
    out[--o] = static_cast<char>('0' + v % 10);
    carry = v / 10;
  }
  while (carry > 0) {
    out[--o] = static_cast<char>('0' + carry % 10);
    carry /= 10;
  }
  return StripLeadingZeros(out);
}

std::string Increment(std::string digits) {
  for (size_t i = digits.size(); i-- > 0;) {
    if (digits[i] != '9') {
      ++digits[i];
      return digits;
    }
    digits[i] = '0';
  }
  return "1" + digits;
}

// magnitude(digits x 10^exp) > 2^63-1 ?
bool ExceedsInt64(const std::string& digits, int64_t exp) {
  if (digits.empty()) return false;
  int64_t intLen = static_cast<int64_t>(digits.size()) + exp;
  if (intLen > 19) return true;
  if (intLen < 19) return false;
  // 19 integer digits: compare them, then any fraction makes it larger when equal.
  std::string intPart =
      exp >= 0 ? digits + std::string(static_cast<size_t>(exp), '0') : digits.substr(0, 19);
  int c = intPart.compare(kMaxInt64);
  if (c != 0) return c > 0;
  return exp < 0;  // digits has no trailing zeros, so a fraction is non-zero
}

Status FormatError() { return BadRequest(kErrFormatWrong); }

}  // namespace

void Quantity::Normalize() {
  if (mantissa_ == 0) {
    scale_ = 0;
    return;
  }
  while (mantissa_ % 10 == 0 && scale_ < std::numeric_limits<int32_t>::max()) {
    mantissa_ /= 10;
    ++scale_;
  }
}

Result<Quantity> Quantity::Parse(std::string_view str) {
  if (str.empty()) return FormatError();
  bool positive;
  std::string num, denom, suffix;
  if (!SplitQuantity(str, positive, num, denom, suffix)) return FormatError();
  int base;
  int32_t exponent;
  Format format;
  if (!Interpret(suffix, base, exponent, format)) return BadRequest(kErrSuffix);

  // Kubernetes' fast path keeps the input text when it is already canonical.
  bool keepText = false;
  if (format != Format::kBinarySI) {
    int64_t precision = 18 - static_cast<int64_t>(num.size() + denom.size());
    int64_t scale = static_cast<int64_t>(exponent) - static_cast<int64_t>(denom.size());
    if (precision >= 0 && scale >= -9) {
      std::string shifted = num + denom;
      bool endsIn000 = shifted.size() >= 3 && shifted.compare(shifted.size() - 3, 3, "000") == 0;
      keepText = scale % 3 == 0 && !endsIn000 && shifted[0] != '0';
    }
  } else if (denom.empty()) {
    int64_t precision = 14 - static_cast<int64_t>(num.size()) - exponent * 3 / 10;
    if (precision >= 0) {
      int64_t value = std::strtoll(num.c_str(), nullptr, 10);
      bool fits = value <= (std::numeric_limits<int64_t>::max() >> exponent);
      keepText = fits && exponent % 10 == 0 && (value & 0x07) != 0;
    }
  }

  // The exact value: digits x 10^exp.
  std::string digits = StripLeadingZeros(num + denom);
  int64_t exp = -static_cast<int64_t>(denom.size());
  if (base == 10) {
    exp += exponent;
  } else {
    int k = exponent;
    while (k > 0) {
      int step = std::min(k, 30);
      digits = MulSmall(digits, uint64_t{1} << step);
      k -= step;
    }
  }
  // Round away from zero to a whole number of nanos.
  if (!digits.empty() && exp < -9) {
    int64_t drop = -9 - exp;
    bool inexact;
    if (drop >= static_cast<int64_t>(digits.size())) {
      inexact = true;
      digits = "1";
    } else {
      size_t keep = digits.size() - static_cast<size_t>(drop);
      inexact = digits.find_first_not_of('0', keep) != std::string::npos;
      digits.resize(keep);
      digits = StripLeadingZeros(digits);
      if (inexact) digits = Increment(digits);
    }
    exp = -9;
  }
  // Trailing zeros into the exponent.
  size_t nz = digits.find_last_not_of('0');
  if (nz == std::string::npos) {
    digits.clear();
    exp = 0;
  } else {
    exp += static_cast<int64_t>(digits.size() - 1 - nz);
    digits.resize(nz + 1);
  }
  if (format == Format::kBinarySI) {
    if (ExceedsInt64(digits, exp)) {
      digits = kMaxInt64;
      exp = 0;
      keepText = false;
    }
    // 0 < |value| < 1 cannot be printed in binary units.
    if (!digits.empty() && static_cast<int64_t>(digits.size()) + exp <= 0) {
      format = Format::kDecimalSI;
    }
  }
  if (static_cast<int>(digits.size()) > kMaxDigits) {
    return BadRequest("unable to parse quantity: more than 38 significant digits");
  }
  if (exp > std::numeric_limits<int32_t>::max() || exp < std::numeric_limits<int32_t>::min()) {
    return BadRequest("unable to parse quantity: exponent out of range");
  }
  Quantity q;
  for (char c : digits) q.mantissa_ = q.mantissa_ * 10 + (c - '0');
  if (!positive) q.mantissa_ = -q.mantissa_;
  q.scale_ = static_cast<int32_t>(exp);
  q.format_ = format;
  if (keepText) q.s_ = std::string(str);
  return q;
}

Quantity Quantity::MustParse(std::string_view s) {
  auto r = Parse(s);
  if (!r.ok()) {
    std::fprintf(stderr, "Quantity::MustParse(\"%.*s\"): %s\n", static_cast<int>(s.size()),
                 s.data(), r.status().message().c_str());
    std::abort();
  }
  return std::move(r).value();
}

Quantity Quantity::FromInt(int64_t value, Format format) {
  Quantity q;
  q.mantissa_ = value;
  q.format_ = format;
  q.Normalize();
  return q;
}

std::string Quantity::ToString() const {
  if (!s_.empty()) return s_;
  if (mantissa_ == 0) return "0";
  bool neg = mantissa_ < 0;
  i128 mag = neg ? -mantissa_ : mantissa_;
  std::string sign = neg ? "-" : "";

  Format format = format_;
  if (format == Format::kBinarySI) {
    int64_t intLen = DigitCount(mag) + static_cast<int64_t>(scale_);
    // |value| < 1024, a fraction, or too large to hold as an integer: printed as DecimalSI.
    if (scale_ < 0 || intLen > kMaxDigits || (intLen <= 4 && mag * Pow10(scale_) < 1024)) {
      format = Format::kDecimalSI;
    } else {
      i128 v = mag * Pow10(scale_);
      static const char* kBinSuffix[] = {"", "Ki", "Mi", "Gi", "Ti", "Pi", "Ei"};
      int times = 0;
      while (times < 6 && v >= 1024 && v % 1024 == 0) {
        v /= 1024;
        ++times;
      }
      return sign + ToDigits(v) + kBinSuffix[times];
    }
  }
  // Decimal: the exponent is brought down to a multiple of 3.
  std::string digits = ToDigits(mag);
  int64_t e = scale_;
  while (e % 3 != 0) {
    digits += '0';
    --e;
  }
  if (format == Format::kDecimalExponent) {
    return sign + digits + (e == 0 ? "" : "e" + std::to_string(e));
  }
  static const char* kDecSuffix[] = {"n", "u", "m", "", "k", "M", "G", "T", "P", "E"};
  if (e >= -9 && e <= 18) return sign + digits + kDecSuffix[(e + 9) / 3];
  // Kubernetes has no suffix for these and would drop the exponent; keep the value instead.
  return sign + digits + "e" + std::to_string(e);
}

namespace {

// mantissa x 10^scale at `targetScale`, rounded away from zero, saturating at int64 bounds.
int64_t ScaledValue(i128 m, int32_t scale, int32_t targetScale) {
  constexpr int64_t kMax = std::numeric_limits<int64_t>::max();
  constexpr int64_t kMin = std::numeric_limits<int64_t>::min();
  if (m == 0) return 0;
  int64_t shift = static_cast<int64_t>(scale) - targetScale;
  i128 v;
  if (shift >= 0) {
    if (shift + DigitCount(m) > 20) return m > 0 ? kMax : kMin;
    v = m * Pow10(static_cast<int>(shift));
  } else if (-shift > kMaxDigits) {
    v = m > 0 ? 1 : -1;
  } else {
    i128 d = Pow10(static_cast<int>(-shift));
    v = m / d;
    if (m % d != 0) v += m > 0 ? 1 : -1;
  }
  if (v > kMax) return kMax;
  if (v < kMin) return kMin;
  return static_cast<int64_t>(v);
}

}  // namespace

int64_t Quantity::Value() const { return ScaledValue(mantissa_, scale_, 0); }

int64_t Quantity::MilliValue() const { return ScaledValue(mantissa_, scale_, -3); }

int Quantity::Compare(const Quantity& a, const Quantity& b) {
  int sa = a.Sign(), sb = b.Sign();
  if (sa != sb) return sa < sb ? -1 : 1;
  if (sa == 0) return 0;
  i128 ma = a.mantissa_ < 0 ? -a.mantissa_ : a.mantissa_;
  i128 mb = b.mantissa_ < 0 ? -b.mantissa_ : b.mantissa_;
  int64_t pa = DigitCount(ma) + static_cast<int64_t>(a.scale_);
  int64_t pb = DigitCount(mb) + static_cast<int64_t>(b.scale_);
  int mag;
  if (pa != pb) {
    mag = pa < pb ? -1 : 1;
  } else {
    // Same leading digit position: the shift is smaller than the digit count, so no overflow.
    if (a.scale_ > b.scale_) ma *= Pow10(a.scale_ - b.scale_);
    if (b.scale_ > a.scale_) mb *= Pow10(b.scale_ - a.scale_);
    mag = ma < mb ? -1 : (ma > mb ? 1 : 0);
  }
  return sa > 0 ? mag : -mag;
}

Quantity& Quantity::operator+=(const Quantity& o) {
  s_.clear();
  if (mantissa_ == 0) format_ = o.format_;
  if (o.mantissa_ == 0) return *this;
  if (mantissa_ == 0) {
    mantissa_ = o.mantissa_;
    scale_ = o.scale_;
    return *this;
  }
  const i128 limit = Pow10(kMaxDigits);
  int32_t lo = std::min(scale_, o.scale_);
  auto align = [&](i128 m, int32_t s, i128& out) {
    int64_t shift = static_cast<int64_t>(s) - lo;
    if (shift + DigitCount(m) > kMaxDigits) return false;
    out = m * Pow10(static_cast<int>(shift));
    return true;
  };
  i128 x, y;
  if (align(mantissa_, scale_, x) && align(o.mantissa_, o.scale_, y)) {
    i128 sum;
    if (!__builtin_add_overflow(x, y, &sum) && sum < limit && sum > -limit) {
      mantissa_ = sum;
      scale_ = lo;
      Normalize();
      return *this;
    }
  }
  // Beyond 38 significant digits: keep the larger term (documented limit).
  Quantity a = *this, b = o;
  a.format_ = b.format_ = Format::kDecimalSI;
  a.mantissa_ = a.mantissa_ < 0 ? -a.mantissa_ : a.mantissa_;
  b.mantissa_ = b.mantissa_ < 0 ? -b.mantissa_ : b.mantissa_;
  if (Compare(a, b) < 0) {
    mantissa_ = o.mantissa_;
    scale_ = o.scale_;
  }
  return *this;
}

Quantity& Quantity::operator-=(const Quantity& o) {
  Quantity neg = o;
  neg.mantissa_ = -neg.mantissa_;
  neg.s_.clear();
  return *this += neg;
}

void JsonTraits<Quantity>::Decode(const json& j, const Path& p, Quantity& v, DecodeContext& ctx) {
  if (j.is_null()) {
    v = Quantity();
    return;
  }
  std::string text;
  if (j.is_string()) {
    text = j.get<std::string>();
    const char* ws = " \t\n\r\v\f";
    size_t b = text.find_first_not_of(ws);
    size_t e = text.find_last_not_of(ws);
    text = b == std::string::npos ? "" : text.substr(b, e - b + 1);
  } else if (j.is_number()) {
    text = j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  } else {
    ctx.errors.push_back(InvalidValue(p, j, kErrFormatWrong));
    return;
  }
  auto q = Quantity::Parse(text);
  if (!q.ok()) {
    ctx.errors.push_back(InvalidValue(p, j.is_string() ? j : json(text), q.status().message()));
    return;
  }
  v = std::move(q).value();
}

}  // namespace kvol::api
