#pragma once

// FEEL numbers: IEEE 754-2008 decimal128 (34 significant digits, round half even), as DMN 1.5
// §10.3.2.3.1 requires. A thin value type over the Intel Decimal Floating-Point Math Library's
// binary-integer-decimal (BID) encoding. Immutable, 16 bytes, trivially copyable; any thread.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace tern::feel {

class Decimal {
 public:
  // Zero (BID encoding: coefficient 0, exponent 0).
  Decimal() : lo_(0), hi_(0x3040000000000000ULL) {}

  static Decimal FromInt64(int64_t value);
  static Decimal FromUint64(uint64_t value);
  // Accepts `-?digits(.digits)?([eE][+-]?digits)?` and `.digits` forms (JSON and FEEL number
  // syntax); anything else, or a value outside decimal128's range, gives nullopt. More than 34
  // significant digits are rounded half-even.
  static std::optional<Decimal> Parse(std::string_view text);
  // The shortest decimal that round-trips the double (for conversions from binary floating point).
  static std::optional<Decimal> FromDouble(double value);

  // Arithmetic. nullopt when the result is not a finite number (overflow, 0/0, x/0, ...).
  std::optional<Decimal> Add(const Decimal& other) const;
  std::optional<Decimal> Sub(const Decimal& other) const;
  std::optional<Decimal> Mul(const Decimal& other) const;
  std::optional<Decimal> Div(const Decimal& other) const;
  // x ** y: exact (up to 34 digits) repeated multiplication for integral y, else via exp/ln.
  std::optional<Decimal> Pow(const Decimal& exponent) const;
  // FEEL modulo: result has the sign of the divisor (DMN 1.5 `modulo`).
  std::optional<Decimal> Modulo(const Decimal& divisor) const;
  std::optional<Decimal> Sqrt() const;
  std::optional<Decimal> Exp() const;
  std::optional<Decimal> Ln() const;
  std::optional<Decimal> Log10() const;
  Decimal Negate() const;
  Decimal Abs() const;

  enum class Rounding { kHalfEven, kHalfUp, kHalfDown, kUp, kDown, kFloor, kCeiling };
  // Rounds to `scale` digits after the decimal point (negative scale rounds to tens, ...).
  std::optional<Decimal> RoundToScale(int64_t scale, Rounding mode) const;
  Decimal Floor() const;
  Decimal Ceiling() const;
  Decimal Truncate() const;

  // -1, 0, 1 by numeric value (1.0 == 1).
  int Compare(const Decimal& other) const;
  bool operator==(const Decimal& other) const { return Compare(other) == 0; }
  bool operator<(const Decimal& other) const { return Compare(other) < 0; }

  bool IsZero() const;
  bool IsNegative() const;  // strictly below zero
  bool IsIntegral() const;
  // The value as int64 if it is integral and in range.
  std::optional<int64_t> ToInt64() const;
  // Truncates toward zero; nullopt when out of range.
  std::optional<int64_t> TruncateToInt64() const;
  double ToDouble() const;

  // Plain decimal notation without exponent and without trailing fractional zeros ("1", "2.5",
  // "-0.001", "100"); numbers whose plain form would be longer than 64 characters use
  // JSON-compatible scientific notation ("1.5E+70"). Deterministic: equal values print equally.
  std::string ToString() const;

  // Number of significant digits of the coefficient, and exponent, of the normalised value.
  // Used by `decimal()`-style helpers and hashing.
  int64_t Exponent() const;

  // Raw BID bits, for hashing / serialisation of equal-by-value numbers use ToString().
  uint64_t high_bits() const { return hi_; }
  uint64_t low_bits() const { return lo_; }

 private:
  Decimal(uint64_t lo, uint64_t hi) : lo_(lo), hi_(hi) {}
  static std::optional<Decimal> Finite(uint64_t lo, uint64_t hi);
  friend struct DecimalAccess;

  uint64_t lo_;
  uint64_t hi_;
};

}  // namespace tern::feel
