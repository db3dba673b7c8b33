#include "feel/decimal.h"

extern "C" {
#include <bid_conf.h>
#include <bid_functions.h>
}

#include <charconv>
#include <cmath>
#include <cstring>

namespace tern::feel {
namespace {

// The header's default configuration (no call by reference, no global rounding mode or flags)
// matches libbidgcc000.a; rounding mode and flags are passed explicitly on every call.
constexpr _IDEC_round kNearestEven = BID_ROUNDING_TO_NEAREST;

BID_UINT128 Bits(uint64_t lo, uint64_t hi) {
  BID_UINT128 r;
  r.w[0] = lo;
  r.w[1] = hi;
  return r;
}

}  // namespace

struct DecimalAccess {
  static BID_UINT128 Raw(const Decimal& d) { return Bits(d.lo_, d.hi_); }
  static Decimal Make(BID_UINT128 b) { return Decimal(b.w[0], b.w[1]); }
  static std::optional<Decimal> MakeFinite(BID_UINT128 b) {
    if (!bid128_isFinite(b)) return std::nullopt;
    return Decimal(b.w[0], b.w[1]);
  }
};

namespace {
using A = DecimalAccess;

// Decodes the exponent of a finite BID128 value.
int64_t RawExponent(BID_UINT128 b) {
  uint64_t hi = b.w[1];
  if (((hi >> 61) & 3) == 3) return static_cast<int64_t>((hi >> 47) & 0x3FFF) - 6176;
  return static_cast<int64_t>((hi >> 49) & 0x3FFF) - 6176;
}

BID_UINT128 PowerOfTen(int64_t exponent) {
  // 1E<exponent>; callers keep exponent within decimal128's range.
  BID_UINT128 one = bid128_from_int64(1);
  _IDEC_flags flags = 0;
  return bid128_scalbn(one, static_cast<int>(exponent), kNearestEven, &flags);
}

}  // namespace

Decimal Decimal::FromInt64(int64_t value) { return A::Make(bid128_from_int64(value)); }
Decimal Decimal::FromUint64(uint64_t value) { return A::Make(bid128_from_uint64(value)); }

std::optional<Decimal> Decimal::Finite(uint64_t lo, uint64_t hi) {
  return A::MakeFinite(Bits(lo, hi));
}

std::optional<Decimal> Decimal::Parse(std::string_view text) {
  // Validate the syntax first: the library accepts things like "inf", "nan" and stray suffixes.
  size_t i = 0;
  const size_t n = text.size();
  if (n == 0 || n > 4096) return std::nullopt;
  if (text[i] == '-' || text[i] == '+') ++i;
  size_t int_digits = 0;
  while (i < n && text[i] >= '0' && text[i] <= '9') ++i, ++int_digits;
  size_t frac_digits = 0;
  if (i < n && text[i] == '.') {
    ++i;
    while (i < n && text[i] >= '0' && text[i] <= '9') ++i, ++frac_digits;
  }
  if (int_digits + frac_digits == 0) return std::nullopt;
  if (i < n && (text[i] == 'e' || text[i] == 'E')) {
    ++i;
    if (i < n && (text[i] == '-' || text[i] == '+')) ++i;
    size_t exp_digits = 0;
    while (i < n && text[i] >= '0' && text[i] <= '9') ++i, ++exp_digits;
    if (exp_digits == 0 || exp_digits > 9) return std::nullopt;
  }
  if (i != n) return std::nullopt;
  std::string copy(text);
  _IDEC_flags flags = 0;
  BID_UINT128 r = bid128_from_string(copy.data(), kNearestEven, &flags);
  if (!bid128_isFinite(r)) return std::nullopt;
  if (bid128_isZero(r) && bid128_isSigned(r)) r = bid128_from_int64(0);
  return A::Make(r);
}

std::optional<Decimal> Decimal::FromDouble(double value) {
  if (!std::isfinite(value)) return std::nullopt;
  char buf[64];
  auto res = std::to_chars(buf, buf + sizeof(buf), value);
  if (res.ec != std::errc()) return std::nullopt;
  return Parse(std::string_view(buf, res.ptr - buf));
}

std::optional<Decimal> Decimal::Add(const Decimal& o) const {
  _IDEC_flags flags = 0;
  return A::MakeFinite(bid128_add(A::Raw(*this), A::Raw(o), kNearestEven, &flags));
}
std::optional<Decimal> Decimal::Sub(const Decimal& o) const {
  _IDEC_flags flags = 0;
  return A::MakeFinite(bid128_sub(A::Raw(*this), A::Raw(o), kNearestEven, &flags));
}
std::optional<Decimal> Decimal::Mul(const Decimal& o) const {
  _IDEC_flags flags = 0;
  return A::MakeFinite(bid128_mul(A::Raw(*this), A::Raw(o), kNearestEven, &flags));
}
std::optional<Decimal> Decimal::Div(const Decimal& o) const {
  if (o.IsZero()) return std::nullopt;
  _IDEC_flags flags = 0;
  return A::MakeFinite(bid128_div(A::Raw(*this), A::Raw(o), kNearestEven, &flags));
}

std::optional<Decimal> Decimal::Pow(const Decimal& exponent) const {
  std::optional<int64_t> n = exponent.ToInt64();
  if (n.has_value() && *n >= -999999999 && *n <= 999999999) {
    // Square-and-multiply keeps integral powers exact while they fit in 34 digits.
    int64_t e = *n < 0 ? -*n : *n;
    Decimal result = FromInt64(1);
    Decimal base = *this;
    while (e > 0) {
      if (e & 1) {
        auto r = result.Mul(base);
        if (!r) return std::nullopt;
        result = *r;
      }
      e >>= 1;
      if (e > 0) {
        auto b = base.Mul(base);
        if (!b) return std::nullopt;
        base = *b;
      }
    }
    if (*n < 0) return FromInt64(1).Div(result);
    return result;
  }
  if (IsNegative()) return std::nullopt;  // no real result for a fractional power
  _IDEC_flags flags = 0;
  return A::MakeFinite(bid128_pow(A::Raw(*this), A::Raw(exponent), kNearestEven, &flags));
}

std::optional<Decimal> Decimal::Modulo(const Decimal& divisor) const {
  if (divisor.IsZero()) return std::nullopt;
  auto q = Div(divisor);
  if (!q) return std::nullopt;
  auto p = divisor.Mul(q->Floor());
  if (!p) return std::nullopt;
  return Sub(*p);
}

std::optional<Decimal> Decimal::Sqrt() const {
  if (IsNegative()) return std::nullopt;
  _IDEC_flags flags = 0;
  return A::MakeFinite(bid128_sqrt(A::Raw(*this), kNearestEven, &flags));
}
std::optional<Decimal> Decimal::Exp() const {
  _IDEC_flags flags = 0;
  return A::MakeFinite(bid128_exp(A::Raw(*this), kNearestEven, &flags));
}
std::optional<Decimal> Decimal::Ln() const {
  if (IsNegative() || IsZero()) return std::nullopt;
  _IDEC_flags flags = 0;
  return A::MakeFinite(bid128_log(A::Raw(*this), kNearestEven, &flags));
}
std::optional<Decimal> Decimal::Log10() const {
  if (IsNegative() || IsZero()) return std::nullopt;
  _IDEC_flags flags = 0;
  return A::MakeFinite(bid128_log10(A::Raw(*this), kNearestEven, &flags));
}

Decimal Decimal::Negate() const {
  if (IsZero()) return Decimal();
  return A::Make(bid128_negate(A::Raw(*this)));
}
Decimal Decimal::Abs() const { return A::Make(bid128_abs(A::Raw(*this))); }

Decimal Decimal::Floor() const {
  _IDEC_flags flags = 0;
  Decimal r = A::Make(bid128_round_integral_negative(A::Raw(*this), &flags));
  return r.IsZero() ? Decimal() : r;
}
Decimal Decimal::Ceiling() const {
  _IDEC_flags flags = 0;
  Decimal r = A::Make(bid128_round_integral_positive(A::Raw(*this), &flags));
  return r.IsZero() ? Decimal() : r;
}
Decimal Decimal::Truncate() const {
  _IDEC_flags flags = 0;
  Decimal r = A::Make(bid128_round_integral_zero(A::Raw(*this), &flags));
  return r.IsZero() ? Decimal() : r;
}

std::optional<Decimal> Decimal::RoundToScale(int64_t scale, Rounding mode) const {
  // Already coarse enough: nothing to round (also avoids quantize overflowing 34 digits).
  if (RawExponent(A::Raw(*this)) >= -scale) return *this;
  if (scale > 6000 || scale < -6000) return std::nullopt;
  BID_UINT128 quantum = PowerOfTen(-scale);
  _IDEC_flags flags = 0;
  BID_UINT128 truncated = bid128_quantize(A::Raw(*this), quantum, BID_ROUNDING_TO_ZERO, &flags);
  if (!bid128_isFinite(truncated)) return std::nullopt;
  Decimal t = A::Make(truncated);
  auto diff = Sub(t);
  if (!diff) return std::nullopt;
  if (diff->IsZero()) return t;
  // Compare the discarded part with half a unit in the last kept place.
  Decimal unit = A::Make(quantum);
  auto half = unit.Mul(Decimal::Parse("0.5").value());
  if (!half) return std::nullopt;
  int cmp = diff->Abs().Compare(*half);
  bool negative = IsNegative();
  bool away = false;  // move one unit away from zero
  switch (mode) {
    case Rounding::kDown:
      away = false;
      break;
    case Rounding::kUp:
      away = true;
      break;
    case Rounding::kFloor:
      away = negative;
      break;
    case Rounding::kCeiling:
      away = !negative;
      break;
    case Rounding::kHalfUp:
      away = cmp >= 0;
      break;
    case Rounding::kHalfDown:
      away = cmp > 0;
      break;
    case Rounding::kHalfEven: {
      if (cmp != 0) {
        away = cmp > 0;
      } else {
        // Tie: pick the even last digit.
        auto last = t.Abs().Div(unit);
        if (!last) return std::nullopt;
        auto m = last->Modulo(FromInt64(2));
        away = m.has_value() && !m->IsZero();
      }
      break;
    }
  }
  if (!away) return t.IsZero() ? std::optional<Decimal>(Decimal()) : std::optional<Decimal>(t);
  return negative ? t.Sub(unit) : t.Add(unit);
}

int Decimal::Compare(const Decimal& o) const {
  // Fast path: both in the common encoding with the same exponent (e.g. integers from JSON or
  // literals): compare the 113-bit coefficients directly.
  constexpr uint64_t kLargeForm = 3ULL << 61;
  if ((hi_ & kLargeForm) != kLargeForm && (o.hi_ & kLargeForm) != kLargeForm &&
      ((hi_ >> 49) & 0x3FFF) == ((o.hi_ >> 49) & 0x3FFF)) {
    const uint64_t ca_hi = hi_ & 0x1FFFFFFFFFFFFULL, cb_hi = o.hi_ & 0x1FFFFFFFFFFFFULL;
    const bool na = (hi_ >> 63) != 0, nb = (o.hi_ >> 63) != 0;
    int mag =
        ca_hi != cb_hi ? (ca_hi < cb_hi ? -1 : 1) : (lo_ != o.lo_ ? (lo_ < o.lo_ ? -1 : 1) : 0);
    const bool a_zero = ca_hi == 0 && lo_ == 0, b_zero = cb_hi == 0 && o.lo_ == 0;
    if (a_zero && b_zero) return 0;
    if (na == nb && ca_hi <= 0x1ED09BEAD87C0ULL && cb_hi <= 0x1ED09BEAD87C0ULL) {
      // Coefficients are canonical (< 10^34) so the integer comparison is the numeric one.
      return na ? -mag : mag;
    }
    if (na != nb) return na ? -1 : 1;
  }
  _IDEC_flags flags = 0;
  BID_UINT128 a = A::Raw(*this), b = A::Raw(o);
  if (bid128_quiet_equal(a, b, &flags)) return 0;
  return bid128_quiet_less(a, b, &flags) ? -1 : 1;
}

bool Decimal::IsZero() const { return bid128_isZero(A::Raw(*this)) != 0; }
bool Decimal::IsNegative() const { return !IsZero() && bid128_isSigned(A::Raw(*this)) != 0; }
bool Decimal::IsIntegral() const {
  if (RawExponent(A::Raw(*this)) >= 0) return true;
  return Truncate() == *this;
}

std::optional<int64_t> Decimal::ToInt64() const {
  if (!IsIntegral()) return std::nullopt;
  return TruncateToInt64();
}

std::optional<int64_t> Decimal::TruncateToInt64() const {
  _IDEC_flags flags = 0;
  int64_t v = bid128_to_int64_int(A::Raw(*this), &flags);
  if (flags & BID_INVALID_EXCEPTION) return std::nullopt;
  return v;
}

double Decimal::ToDouble() const {
  _IDEC_flags flags = 0;
  return bid128_to_binary64(A::Raw(*this), kNearestEven, &flags);
}

int64_t Decimal::Exponent() const { return RawExponent(A::Raw(*this)); }

std::string Decimal::ToString() const {
  char buf[128];
  _IDEC_flags flags = 0;
  bid128_to_string(buf, A::Raw(*this), &flags);
  // Library format: [+-]<digits>E[+-]<digits>.
  const char* p = buf;
  bool negative = *p == '-';
  if (*p == '+' || *p == '-') ++p;
  const char* e = std::strchr(p, 'E');
  if (e == nullptr) return "0";  // not reachable for finite values
  std::string digits(p, e - p);
  int64_t exponent = std::strtoll(e + 1, nullptr, 10);
  size_t first = digits.find_first_not_of('0');
  if (first == std::string::npos) return "0";
  digits.erase(0, first);
  while (digits.size() > 1 && digits.back() == '0') {
    digits.pop_back();
    ++exponent;
  }
  std::string out;
  if (negative) out.push_back('-');
  const int64_t len = static_cast<int64_t>(digits.size());
  if (exponent >= 0) {
    if (len + exponent <= 64) {
      out += digits;
      out.append(static_cast<size_t>(exponent), '0');
      return out;
    }
  } else if (-exponent < len) {
    out.append(digits, 0, static_cast<size_t>(len + exponent));
    out.push_back('.');
    out.append(digits, static_cast<size_t>(len + exponent), std::string::npos);
    return out;
  } else if (-exponent - len <= 32) {
    out += "0.";
    out.append(static_cast<size_t>(-exponent - len), '0');
    out += digits;
    return out;
  }
  // Scientific: d.dddE+x
  out.push_back(digits[0]);
  if (len > 1) {
    out.push_back('.');
    out.append(digits, 1, std::string::npos);
  }
  int64_t sci = exponent + len - 1;
  out.push_back('E');
  out.push_back(sci < 0 ? '-' : '+');
  out += std::to_string(sci < 0 ? -sci : sci);
  return out;
}

}  // namespace tern::feel
