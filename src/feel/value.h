#pragma once

// The FEEL value model. A Value is immutable and cheap to copy: null, booleans and numbers are
// stored inline (numbers are 16-byte decimal128), everything else is a shared, immutable payload
// behind a std::shared_ptr. Values can be shared freely between threads once built.

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "feel/decimal.h"
#include "feel/temporal.h"

namespace tern::feel {

enum class Kind : uint8_t {
  kNull,
  kBool,
  kNumber,
  kString,
  kDate,
  kTime,
  kDateTime,
  kDaysTimeDuration,
  kYearsMonthsDuration,
  kList,
  kContext,
  kRange,
  kFunction,
};

// FEEL type name of a kind ("number", "date and time", "years and months duration", ...).
std::string_view KindName(Kind kind);

class Value;
class ContextValue;
struct RangeValue;
class FunctionValue;
struct Type;

class Value {
 public:
  Value() = default;  // null

  static Value Null() { return Value(); }
  static Value Bool(bool b) {
    Value v;
    v.kind_ = Kind::kBool;
    v.bool_ = b;
    return v;
  }
  static Value Number(const Decimal& d);
  static Value Number(int64_t i);
  // nullopt-free convenience for doubles (non-finite -> null).
  static Value FromDouble(double d);
  static Value String(std::string s);
  static Value List(std::vector<Value> items);
  // Later duplicates of a key replace the earlier value (keeping the first position).
  static Value Context(std::vector<std::pair<std::string, Value>> entries);
  static Value Context(ContextValue context);
  static Value Date(const feel::Date& d);
  static Value Time(feel::Time t);
  static Value DateTime(feel::DateTime dt);
  static Value DaysTimeDuration(const feel::DaysTimeDuration& d);
  static Value YearsMonthsDuration(const feel::YearsMonthsDuration& d);
  static Value Range(RangeValue r);
  static Value Function(std::shared_ptr<const FunctionValue> f);

  Kind kind() const { return kind_; }
  bool is_null() const { return kind_ == Kind::kNull; }
  bool is_bool() const { return kind_ == Kind::kBool; }
  bool is_number() const { return kind_ == Kind::kNumber; }
  bool is_string() const { return kind_ == Kind::kString; }
  bool is_list() const { return kind_ == Kind::kList; }
  bool is_context() const { return kind_ == Kind::kContext; }
  bool is_date() const { return kind_ == Kind::kDate; }
  bool is_time() const { return kind_ == Kind::kTime; }
  bool is_date_time() const { return kind_ == Kind::kDateTime; }
  bool is_days_time_duration() const { return kind_ == Kind::kDaysTimeDuration; }
  bool is_years_months_duration() const { return kind_ == Kind::kYearsMonthsDuration; }
  bool is_range() const { return kind_ == Kind::kRange; }
  bool is_function() const { return kind_ == Kind::kFunction; }

  // Accessors; calling one for the wrong kind is a TERN_CHECK failure. The hot ones are inline.
  bool as_bool() const {
    if (kind_ != Kind::kBool) KindMismatch(Kind::kBool);
    return bool_;
  }
  const Decimal& as_number() const {
    if (kind_ != Kind::kNumber) KindMismatch(Kind::kNumber);
    return number_;
  }
  const std::string& as_string() const {
    if (kind_ != Kind::kString) KindMismatch(Kind::kString);
    return *static_cast<const std::string*>(heap_.get());
  }
  const std::vector<Value>& list() const;
  const ContextValue& context() const;
  const feel::Date& as_date() const;
  const feel::Time& as_time() const;
  const feel::DateTime& as_date_time() const;
  const feel::DaysTimeDuration& as_days_time_duration() const;
  const feel::YearsMonthsDuration& as_years_months_duration() const;
  const RangeValue& range() const;
  std::shared_ptr<const FunctionValue> function() const;

  // The number as int64 when it is integral and in range (e.g. job retries); else nullopt,
  // also for non-numbers.
  std::optional<int64_t> as_int64() const;
  // Context entry lookup; nullptr if this is not a context or has no such key.
  const Value* Find(std::string_view key) const;

  // Structural equality: same kind and equal content (numbers by value, 1.0 == 1; contexts by
  // key set and values, ignoring order; date-times by instant and zone kind). Functions by
  // identity. This is the C++ notion; FEEL's `=` (null for mixed kinds) is in the evaluator.
  bool operator==(const Value& other) const;
  bool operator!=(const Value& other) const { return !(*this == other); }

  // feel-scala's rendering, used for messages and `string()` of composite values:
  // [1, "a"], {a:1, b:"x"}, [1..5), 2024-01-01, P1D, function(a, b).
  std::string DebugString() const;
  // At most max_size bytes followed by "..." when longer (messages about values of any size).
  std::string DebugString(size_t max_size) const;

  // Pointer identity of the shared payload (0 for inline kinds); lets callers cheaply detect
  // unchanged values.
  const void* payload_identity() const { return heap_.get(); }

 private:
  [[noreturn]] void KindMismatch(Kind expected) const;

  Kind kind_ = Kind::kNull;
  bool bool_ = false;
  Decimal number_;
  std::shared_ptr<const void> heap_;
};

// A FEEL context: entries in insertion order with unique keys. Lookup is linear for small
// contexts and hashed above a threshold.
class ContextValue {
 public:
  ContextValue();
  ContextValue(const ContextValue&);
  ContextValue(ContextValue&&) noexcept;
  ContextValue& operator=(const ContextValue&);
  ContextValue& operator=(ContextValue&&) noexcept;
  ~ContextValue();

  const Value* Find(std::string_view key) const;
  // Inserts, or replaces the value of an existing key in place.
  void Set(std::string key, Value value);
  bool Erase(std::string_view key);
  const std::vector<std::pair<std::string, Value>>& entries() const { return entries_; }
  size_t size() const { return entries_.size(); }
  bool empty() const { return entries_.empty(); }

 private:
  struct Index;
  void RebuildIndex();
  std::vector<std::pair<std::string, Value>> entries_;
  std::unique_ptr<Index> index_;  // only for large contexts
};

// A range/interval. Unbounded ends hold null (e.g. the unary test `> 5` is (5..null)).
struct RangeValue {
  Value start;
  Value end;
  bool start_included = false;
  bool end_included = false;
};

// A function value: a built-in or a user-defined lambda. The evaluator knows the concrete
// classes; users of the library only see the parameter list.
class FunctionValue {
 public:
  virtual ~FunctionValue() = default;
  virtual std::string_view name() const = 0;  // "anonymous function" for lambdas
  virtual const std::vector<std::string>& parameters() const = 0;
  // Declared parameter types (nullptr entries: untyped), when the function declares them; used
  // by `instance of function<...>` and DMN type checks.
  virtual const std::vector<std::shared_ptr<const Type>>* parameter_types() const {
    return nullptr;
  }
  // Declared or inferred result type; nullptr when unknown.
  virtual std::shared_ptr<const Type> result_type() const { return nullptr; }
};

// Appends v.DebugString() to *out, giving up once that text is longer than max_size (false,
// *out then holds a partial text of a little more than max_size bytes). Lists sharing one large
// item many times are small in memory but not as text; this never builds the whole text.
bool AppendDebugStringWithin(const Value& v, size_t max_size, std::string* out);

}  // namespace tern::feel
