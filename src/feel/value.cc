#include "feel/value.h"

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "base/check.h"

namespace tern::feel {

std::string_view KindName(Kind kind) {
  switch (kind) {
    case Kind::kNull:
      return "null";
    case Kind::kBool:
      return "boolean";
    case Kind::kNumber:
      return "number";
    case Kind::kString:
      return "string";
    case Kind::kDate:
      return "date";
    case Kind::kTime:
      return "time";
    case Kind::kDateTime:
      return "date and time";
    case Kind::kDaysTimeDuration:
      return "days and time duration";
    case Kind::kYearsMonthsDuration:
      return "years and months duration";
    case Kind::kList:
      return "list";
    case Kind::kContext:
      return "context";
    case Kind::kRange:
      return "range";
    case Kind::kFunction:
      return "function";
  }
  return "unknown";
}

Value Value::Number(const Decimal& d) {
  Value v;
  v.kind_ = Kind::kNumber;
  v.number_ = d;
  return v;
}

Value Value::Number(int64_t i) { return Number(Decimal::FromInt64(i)); }

Value Value::FromDouble(double d) {
  std::optional<Decimal> dec = Decimal::FromDouble(d);
  return dec ? Number(*dec) : Null();
}

Value Value::String(std::string s) {
  Value v;
  v.kind_ = Kind::kString;
  v.heap_ = std::make_shared<const std::string>(std::move(s));
  return v;
}

Value Value::List(std::vector<Value> items) {
  Value v;
  v.kind_ = Kind::kList;
  v.heap_ = std::make_shared<const std::vector<Value>>(std::move(items));
  return v;
}

Value Value::Context(std::vector<std::pair<std::string, Value>> entries) {
  ContextValue c;
  for (auto& [k, val] : entries) c.Set(std::move(k), std::move(val));
  return Context(std::move(c));
}

Value Value::Context(ContextValue context) {
  Value v;
  v.kind_ = Kind::kContext;
  v.heap_ = std::make_shared<const ContextValue>(std::move(context));
  return v;
}

Value Value::Date(const feel::Date& d) {
  Value v;
  v.kind_ = Kind::kDate;
  v.heap_ = std::make_shared<const feel::Date>(d);
  return v;
}

Value Value::Time(feel::Time t) {
  Value v;
  v.kind_ = Kind::kTime;
  v.heap_ = std::make_shared<const feel::Time>(std::move(t));
  return v;
}

Value Value::DateTime(feel::DateTime dt) {
  Value v;
  v.kind_ = Kind::kDateTime;
  v.heap_ = std::make_shared<const feel::DateTime>(std::move(dt));
  return v;
}

Value Value::DaysTimeDuration(const feel::DaysTimeDuration& d) {
  Value v;
  v.kind_ = Kind::kDaysTimeDuration;
  v.heap_ = std::make_shared<const feel::DaysTimeDuration>(d);
  return v;
}

Value Value::YearsMonthsDuration(const feel::YearsMonthsDuration& d) {
  Value v;
  v.kind_ = Kind::kYearsMonthsDuration;
  v.heap_ = std::make_shared<const feel::YearsMonthsDuration>(d);
  return v;
}

Value Value::Range(RangeValue r) {
  Value v;
  v.kind_ = Kind::kRange;
  v.heap_ = std::make_shared<const RangeValue>(std::move(r));
  return v;
}

Value Value::Function(std::shared_ptr<const FunctionValue> f) {
  TERN_CHECK(f != nullptr, "null function");
  Value v;
  v.kind_ = Kind::kFunction;
  v.heap_ = std::move(f);
  return v;
}

#define TERN_FEEL_EXPECT(k) \
  TERN_CHECK(kind_ == (k), "FEEL value is ", KindName(kind_), ", expected ", KindName(k))

void Value::KindMismatch(Kind expected) const {
  TERN_FEEL_EXPECT(expected);
  TERN_UNREACHABLE("FEEL value kind mismatch");
}
const std::vector<Value>& Value::list() const {
  TERN_FEEL_EXPECT(Kind::kList);
  return *static_cast<const std::vector<Value>*>(heap_.get());
}
const ContextValue& Value::context() const {
  TERN_FEEL_EXPECT(Kind::kContext);
  return *static_cast<const ContextValue*>(heap_.get());
}
const feel::Date& Value::as_date() const {
  TERN_FEEL_EXPECT(Kind::kDate);
  return *static_cast<const feel::Date*>(heap_.get());
}
const feel::Time& Value::as_time() const {
  TERN_FEEL_EXPECT(Kind::kTime);
  return *static_cast<const feel::Time*>(heap_.get());
}
const feel::DateTime& Value::as_date_time() const {
  TERN_FEEL_EXPECT(Kind::kDateTime);
  return *static_cast<const feel::DateTime*>(heap_.get());
}
const feel::DaysTimeDuration& Value::as_days_time_duration() const {
  TERN_FEEL_EXPECT(Kind::kDaysTimeDuration);
  return *static_cast<const feel::DaysTimeDuration*>(heap_.get());
}
const feel::YearsMonthsDuration& Value::as_years_months_duration() const {
  TERN_FEEL_EXPECT(Kind::kYearsMonthsDuration);
  return *static_cast<const feel::YearsMonthsDuration*>(heap_.get());
}
const RangeValue& Value::range() const {
  TERN_FEEL_EXPECT(Kind::kRange);
  return *static_cast<const RangeValue*>(heap_.get());
}
std::shared_ptr<const FunctionValue> Value::function() const {
  TERN_FEEL_EXPECT(Kind::kFunction);
  // Stored from a shared_ptr<const FunctionValue>; the aliasing constructor shares ownership.
  return std::shared_ptr<const FunctionValue>(heap_,
                                              static_cast<const FunctionValue*>(heap_.get()));
}

std::optional<int64_t> Value::as_int64() const {
  if (kind_ != Kind::kNumber) return std::nullopt;
  return number_.ToInt64();
}

const Value* Value::Find(std::string_view key) const {
  if (kind_ != Kind::kContext) return nullptr;
  return context().Find(key);
}

namespace {

bool TimeEquals(const Time& a, const Time& b) {
  if ((a.zone_kind == ZoneKind::kLocal) != (b.zone_kind == ZoneKind::kLocal)) return false;
  if (a.zone_kind == ZoneKind::kLocal) return a.nanos == b.nanos;
  // Compare as instants on an arbitrary common day.
  int64_t na = a.nanos - int64_t{a.offset_seconds} * 1'000'000'000;
  int64_t nb = b.nanos - int64_t{b.offset_seconds} * 1'000'000'000;
  return na == nb;
}

bool DateTimeEquals(const DateTime& a, const DateTime& b) {
  if ((a.zone_kind == ZoneKind::kLocal) != (b.zone_kind == ZoneKind::kLocal)) return false;
  return EpochSeconds(a) == EpochSeconds(b) && a.nanos % 1'000'000'000 == b.nanos % 1'000'000'000;
}

}  // namespace

bool Value::operator==(const Value& o) const {
  if (kind_ != o.kind_) return false;
  switch (kind_) {
    case Kind::kNull:
      return true;
    case Kind::kBool:
      return bool_ == o.bool_;
    case Kind::kNumber:
      return number_ == o.number_;
    case Kind::kString:
      return heap_ == o.heap_ || as_string() == o.as_string();
    case Kind::kDate:
      return as_date() == o.as_date();
    case Kind::kTime:
      return TimeEquals(as_time(), o.as_time());
    case Kind::kDateTime:
      return DateTimeEquals(as_date_time(), o.as_date_time());
    case Kind::kDaysTimeDuration:
      return as_days_time_duration() == o.as_days_time_duration();
    case Kind::kYearsMonthsDuration:
      return as_years_months_duration() == o.as_years_months_duration();
    case Kind::kList: {
      if (heap_ == o.heap_) return true;
      const auto& a = list();
      const auto& b = o.list();
      if (a.size() != b.size()) return false;
      for (size_t i = 0; i < a.size(); ++i) {
        if (a[i] != b[i]) return false;
      }
      return true;
    }
    case Kind::kContext: {
      if (heap_ == o.heap_) return true;
      const auto& a = context();
      const auto& b = o.context();
      if (a.size() != b.size()) return false;
      for (const auto& [k, v] : a.entries()) {
        const Value* w = b.Find(k);
        if (w == nullptr || *w != v) return false;
      }
      return true;
    }
    case Kind::kRange: {
      const auto& a = range();
      const auto& b = o.range();
      return a.start_included == b.start_included && a.end_included == b.end_included &&
             a.start == b.start && a.end == b.end;
    }
    case Kind::kFunction:
      return heap_ == o.heap_;
  }
  return false;
}

namespace {

void AppendQuoted(std::string* out, const std::string& s) {
  out->push_back('"');
  for (char c : s) {
    switch (c) {
      case '"':
        *out += "\\\"";
        break;
      case '\\':
        *out += "\\\\";
        break;
      case '\n':
        *out += "\\n";
        break;
      case '\r':
        *out += "\\r";
        break;
      case '\t':
        *out += "\\t";
        break;
      default:
        out->push_back(c);
    }
  }
  out->push_back('"');
}

// Stops adding items to lists and contexts once *out is longer than `limit`: values that share
// items (a list holding one long string many times) are small in memory but not as text.
void AppendDebug(std::string* out, const Value& v, int depth, size_t limit) {
  if (depth > 64) {
    *out += "...";
    return;
  }
  switch (v.kind()) {
    case Kind::kNull:
      *out += "null";
      return;
    case Kind::kBool:
      *out += v.as_bool() ? "true" : "false";
      return;
    case Kind::kNumber:
      *out += v.as_number().ToString();
      return;
    case Kind::kString:
      AppendQuoted(out, v.as_string());
      return;
    // Temporal values print as their ISO form, like feel-scala's toString.
    case Kind::kDate:
      *out += FormatDate(v.as_date());
      return;
    case Kind::kTime:
      *out += FormatTime(v.as_time());
      return;
    case Kind::kDateTime:
      *out += FormatDateTime(v.as_date_time());
      return;
    case Kind::kDaysTimeDuration:
      *out += FormatDaysTimeDuration(v.as_days_time_duration());
      return;
    case Kind::kYearsMonthsDuration:
      *out += FormatYearsMonthsDuration(v.as_years_months_duration());
      return;
    case Kind::kList: {
      out->push_back('[');
      bool first = true;
      for (const Value& item : v.list()) {
        if (out->size() > limit) return;
        if (!first) *out += ", ";
        first = false;
        AppendDebug(out, item, depth + 1, limit);
      }
      out->push_back(']');
      return;
    }
    case Kind::kContext: {
      out->push_back('{');
      bool first = true;
      for (const auto& [k, item] : v.context().entries()) {
        if (out->size() > limit) return;
        if (!first) *out += ", ";
        first = false;
        absl::StrAppend(out, k, ":");
        AppendDebug(out, item, depth + 1, limit);
      }
      out->push_back('}');
      return;
    }
    case Kind::kRange: {
      const RangeValue& r = v.range();
      if (r.start.is_null() && !r.end.is_null()) {
        *out += r.end_included ? "<= " : "< ";
        AppendDebug(out, r.end, depth + 1, limit);
        return;
      }
      if (r.end.is_null() && !r.start.is_null()) {
        *out += r.start_included ? ">= " : "> ";
        AppendDebug(out, r.start, depth + 1, limit);
        return;
      }
      out->push_back(r.start_included ? '[' : '(');
      AppendDebug(out, r.start, depth + 1, limit);
      *out += "..";
      AppendDebug(out, r.end, depth + 1, limit);
      out->push_back(r.end_included ? ']' : ')');
      return;
    }
    case Kind::kFunction: {
      std::string params;
      for (const std::string& p : v.function()->parameters()) {
        if (!params.empty()) params += ", ";
        params += p;
      }
      absl::StrAppend(out, "function(", params, ")");
      return;
    }
  }
}

}  // namespace

std::string Value::DebugString() const {
  std::string out;
  AppendDebug(&out, *this, 0, std::string::npos);
  return out;
}

std::string Value::DebugString(size_t max_size) const {
  std::string out;
  if (AppendDebugStringWithin(*this, max_size, &out)) return out;
  size_t cut = max_size;
  // Cut at a UTF-8 character boundary.
  while (cut > 0 && (static_cast<unsigned char>(out[cut]) & 0xC0) == 0x80) --cut;
  out.resize(cut);
  out += "...";
  return out;
}

bool AppendDebugStringWithin(const Value& v, size_t max_size, std::string* out) {
  const size_t start = out->size();
  AppendDebug(out, v, 0, start + max_size);
  return out->size() - start <= max_size;
}

// ---- ContextValue ----

struct ContextValue::Index {
  absl::flat_hash_map<std::string, size_t> positions;
};

namespace {
constexpr size_t kIndexThreshold = 16;
}

ContextValue::ContextValue(const ContextValue& o) : entries_(o.entries_) {
  if (o.index_) index_ = std::make_unique<Index>(*o.index_);
}
ContextValue& ContextValue::operator=(const ContextValue& o) {
  if (this != &o) {
    entries_ = o.entries_;
    index_ = o.index_ ? std::make_unique<Index>(*o.index_) : nullptr;
  }
  return *this;
}
ContextValue::ContextValue() = default;
ContextValue::ContextValue(ContextValue&&) noexcept = default;
ContextValue& ContextValue::operator=(ContextValue&&) noexcept = default;
ContextValue::~ContextValue() = default;

const Value* ContextValue::Find(std::string_view key) const {
  if (index_) {
    auto it = index_->positions.find(absl::string_view(key.data(), key.size()));
    return it == index_->positions.end() ? nullptr : &entries_[it->second].second;
  }
  for (const auto& [k, v] : entries_) {
    if (k == key) return &v;
  }
  return nullptr;
}

void ContextValue::Set(std::string key, Value value) {
  if (index_) {
    auto it = index_->positions.find(key);
    if (it != index_->positions.end()) {
      entries_[it->second].second = std::move(value);
      return;
    }
    index_->positions.emplace(key, entries_.size());
    entries_.emplace_back(std::move(key), std::move(value));
    return;
  }
  for (auto& [k, v] : entries_) {
    if (k == key) {
      v = std::move(value);
      return;
    }
  }
  entries_.emplace_back(std::move(key), std::move(value));
  if (entries_.size() > kIndexThreshold) RebuildIndex();
}

bool ContextValue::Erase(std::string_view key) {
  for (auto it = entries_.begin(); it != entries_.end(); ++it) {
    if (it->first == key) {
      entries_.erase(it);
      if (index_) RebuildIndex();
      return true;
    }
  }
  return false;
}

void ContextValue::RebuildIndex() {
  index_ = std::make_unique<Index>();
  index_->positions.reserve(entries_.size());
  for (size_t i = 0; i < entries_.size(); ++i) index_->positions.emplace(entries_[i].first, i);
}

}  // namespace tern::feel
