// Evaluation of the syntax tree (nodes.h) and the shared FEEL semantics (eval.h).

#include <algorithm>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "feel/feel.h"
#include "feel/nodes.h"

namespace tern::feel::internal {
namespace {

constexpr int64_t kNanosPerSecond = 1'000'000'000;
constexpr int64_t kNanosPerDay = 86'400 * kNanosPerSecond;
// Stack a chain of lambda calls may use before evaluation fails (the tree itself is bounded by
// the parser's nesting limit).
constexpr int64_t kMaxLambdaStackBytes = 2 << 20;
constexpr int kMaxCallDepth = 1000;
// Values quoted in warnings (which end up in incident messages) are cut to this size.
constexpr size_t kMaxWarningValueBytes = 1024;

const Value& NullValue() {
  static const Value* v = new Value();
  return *v;
}

std::optional<Decimal> Int128ToDecimal(__int128 v) {
  bool neg = v < 0;
  unsigned __int128 u =
      neg ? static_cast<unsigned __int128>(-v) : static_cast<unsigned __int128>(v);
  std::string s;
  do {
    s.push_back(static_cast<char>('0' + static_cast<int>(u % 10)));
    u /= 10;
  } while (u != 0);
  if (neg) s.push_back('-');
  std::reverse(s.begin(), s.end());
  return Decimal::Parse(s);
}

// Instant of a non-local time on a reference day, in nanos.
int64_t TimeInstantNanos(const Time& t) {
  return t.nanos - int64_t{t.offset_seconds} * kNanosPerSecond;
}

__int128 DateTimeKey(const DateTime& dt) {
  return __int128{EpochSeconds(dt)} * kNanosPerSecond + dt.nanos % kNanosPerSecond;
}

template <typename T>
int Cmp(const T& a, const T& b) {
  return a < b ? -1 : (b < a ? 1 : 0);
}

}  // namespace

// ---- EvalContext ----

bool EvalContext::FailSteps() {
  return Fail(absl::ResourceExhaustedError(
      absl::StrCat("FEEL evaluation exceeded its step budget of ", options->max_steps, " steps")));
}

bool EvalContext::FailMemory() {
  return Fail(absl::ResourceExhaustedError(
      absl::StrCat("FEEL evaluation exceeded its memory budget of ", options->max_allocated_bytes,
                   " bytes (FEEL memory limit)")));
}

bool EvalContext::CheckSize(int64_t n) {
  if (n > options->max_collection_size) {
    return Fail(absl::ResourceExhaustedError(absl::StrCat(
        "FEEL evaluation would create a collection or string of ", n, " elements; the limit is ",
        options->max_collection_size, " (FEEL collection size limit)")));
  }
  return true;
}

bool EvalContext::CheckAllocation(int64_t elements, int64_t bytes) {
  if (!CheckSize(elements)) return false;
  if (bytes > bytes_left) {
    return Fail(absl::ResourceExhaustedError(
        absl::StrCat("FEEL evaluation would allocate ", bytes, " bytes, more than the ",
                     std::max<int64_t>(bytes_left, 0), " bytes left of its memory budget of ",
                     options->max_allocated_bytes, " bytes (FEEL memory limit)")));
  }
  return true;
}

uint64_t EvalContext::NextRandom() {
  // splitmix64: deterministic from the seed.
  uint64_t z = (random_state += 0x9E3779B97F4A7C15ULL);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

const Value* Scope::Lookup(std::string_view name) const {
  for (const Scope* s = this; s != nullptr; s = s->parent) {
    // A filter item's own entries shadow the implicit `item` binding ([{item: 1}][item = 1]).
    if (s->context != nullptr) {
      if (const Value* v = s->context->Find(name)) return v;
    }
    for (auto it = s->bindings.rbegin(); it != s->bindings.rend(); ++it) {
      if (it->first == name) return &it->second;
    }
    if (s->captured != nullptr) {
      for (const auto& [k, v] : *s->captured) {
        if (k == name) return &v;
      }
    }
  }
  return nullptr;
}

// ---- Semantics ----

std::optional<int> FeelCompare(const Value& a, const Value& b) {
  if (a.kind() != b.kind()) return std::nullopt;
  switch (a.kind()) {
    case Kind::kNumber:
      return a.as_number().Compare(b.as_number());
    case Kind::kString:
      return Cmp(a.as_string(), b.as_string());
    case Kind::kDate:
      return Cmp(a.as_date().days, b.as_date().days);
    case Kind::kTime: {
      const Time& x = a.as_time();
      const Time& y = b.as_time();
      bool lx = x.zone_kind == ZoneKind::kLocal, ly = y.zone_kind == ZoneKind::kLocal;
      if (lx != ly) return std::nullopt;
      if (lx) return Cmp(x.nanos, y.nanos);
      return Cmp(TimeInstantNanos(x), TimeInstantNanos(y));
    }
    case Kind::kDateTime: {
      const DateTime& x = a.as_date_time();
      const DateTime& y = b.as_date_time();
      bool lx = x.zone_kind == ZoneKind::kLocal, ly = y.zone_kind == ZoneKind::kLocal;
      if (lx != ly) return std::nullopt;
      return Cmp(DateTimeKey(x), DateTimeKey(y));
    }
    case Kind::kDaysTimeDuration:
      return Cmp(TotalNanos(a.as_days_time_duration()), TotalNanos(b.as_days_time_duration()));
    case Kind::kYearsMonthsDuration:
      return Cmp(a.as_years_months_duration().months, b.as_years_months_duration().months);
    default:
      return std::nullopt;
  }
}

Value FeelEquals(const Value& a, const Value& b) {
  if (a.is_null() || b.is_null()) return Value::Bool(a.is_null() && b.is_null());
  if (a.kind() != b.kind()) return Value();
  switch (a.kind()) {
    case Kind::kString:
      return Value::Bool(a.as_string() == b.as_string());
    case Kind::kBool:
      return Value::Bool(a.as_bool() == b.as_bool());
    case Kind::kNumber:
    case Kind::kDate:
    case Kind::kDaysTimeDuration:
    case Kind::kYearsMonthsDuration:
    case Kind::kTime:
    case Kind::kDateTime: {
      std::optional<int> c = FeelCompare(a, b);
      if (!c) return Value();
      return Value::Bool(*c == 0);
    }
    case Kind::kList: {
      const auto& x = a.list();
      const auto& y = b.list();
      if (x.size() != y.size()) return Value::Bool(false);
      for (size_t i = 0; i < x.size(); ++i) {
        Value e = FeelEquals(x[i], y[i]);
        if (!e.is_bool() || !e.as_bool()) return Value::Bool(false);
      }
      return Value::Bool(true);
    }
    case Kind::kContext: {
      const auto& x = a.context();
      const auto& y = b.context();
      if (x.size() != y.size()) return Value::Bool(false);
      for (const auto& [k, v] : x.entries()) {
        const Value* w = y.Find(k);
        if (w == nullptr) return Value::Bool(false);
        Value e = FeelEquals(v, *w);
        if (!e.is_bool() || !e.as_bool()) return Value::Bool(false);
      }
      return Value::Bool(true);
    }
    case Kind::kRange:
    case Kind::kFunction:
      return Value::Bool(a == b);
    case Kind::kNull:
      break;
  }
  return Value();
}

Value RangeIncludes(const RangeValue& r, const Value& v) {
  if (v.is_null()) return Value();
  if (!r.start.is_null()) {
    std::optional<int> c = FeelCompare(v, r.start);
    if (!c) return Value();
    if (r.start_included ? *c < 0 : *c <= 0) return Value::Bool(false);
  }
  if (!r.end.is_null()) {
    std::optional<int> c = FeelCompare(v, r.end);
    if (!c) return Value();
    if (r.end_included ? *c > 0 : *c >= 0) return Value::Bool(false);
  }
  return Value::Bool(true);
}

Value TestMatches(const Value& input, const Value& test) {
  if (test.is_range()) return RangeIncludes(test.range(), input);
  if (test.is_list()) {
    for (const Value& item : test.list()) {
      Value e = item.is_range() ? RangeIncludes(item.range(), input) : FeelEquals(input, item);
      if (e.is_bool() && e.as_bool()) return e;
    }
    Value whole = FeelEquals(input, test);
    if (whole.is_bool() && whole.as_bool()) return whole;
    return Value::Bool(false);
  }
  return FeelEquals(input, test);
}

// ---- Arithmetic ----

namespace {

Value NumberOrNull(std::optional<Decimal> d) { return d ? Value::Number(*d) : Value(); }

Value DurationOrNull(std::optional<DaysTimeDuration> d) {
  return d ? Value::DaysTimeDuration(*d) : Value();
}

// Adds months to a civil date, clamping the day to the month's length (java.time semantics).
std::optional<int64_t> AddMonthsToDays(int64_t days, int64_t months) {
  int64_t y;
  int m, d;
  CivilFromDays(days, &y, &m, &d);
  __int128 total = __int128{y} * 12 + (m - 1) + months;
  __int128 ny = total >= 0 ? total / 12 : -((-total + 11) / 12);
  int nm = static_cast<int>(total - ny * 12) + 1;
  if (ny > 999'999'999 || ny < -999'999'999) return std::nullopt;
  int nd = std::min(d, DaysInMonth(static_cast<int64_t>(ny), nm));
  return DaysFromCivil(static_cast<int64_t>(ny), nm, nd);
}

Value DateTimePlusNanos(const DateTime& dt, __int128 nanos) {
  if (dt.zone_kind == ZoneKind::kZoneId) {
    // Zoned: add on the instant timeline, then re-derive local fields.
    __int128 instant = DateTimeKey(dt) + nanos;
    __int128 secs = instant >= 0 ? instant / kNanosPerSecond
                                 : -((-instant + kNanosPerSecond - 1) / kNanosPerSecond);
    int32_t frac = static_cast<int32_t>(instant - secs * kNanosPerSecond);
    if (secs > INT64_MAX / 2 || secs < INT64_MIN / 2) return Value();
    return Value::DateTime(
        DateTimeFromEpoch(static_cast<int64_t>(secs), frac, ZoneKind::kZoneId, 0, dt.zone_id));
  }
  __int128 local = __int128{dt.days} * kNanosPerDay + dt.nanos + nanos;
  __int128 days = local >= 0 ? local / kNanosPerDay : -((-local + kNanosPerDay - 1) / kNanosPerDay);
  DateTime r = dt;
  if (days > INT64_MAX / 4 || days < INT64_MIN / 4) return Value();
  r.days = static_cast<int64_t>(days);
  r.nanos = static_cast<int64_t>(local - days * kNanosPerDay);
  return Value::DateTime(std::move(r));
}

Value DateTimePlusMonths(const DateTime& dt, int64_t months) {
  std::optional<int64_t> days = AddMonthsToDays(dt.days, months);
  if (!days) return Value();
  DateTime r = dt;
  r.days = *days;
  if (!ResolveZoneOffset(&r)) return Value();
  return Value::DateTime(std::move(r));
}

Value TimePlusNanos(const Time& t, __int128 nanos) {
  __int128 n = (__int128{t.nanos} + nanos) % kNanosPerDay;
  if (n < 0) n += kNanosPerDay;
  Time r = t;
  r.nanos = static_cast<int64_t>(n);
  return Value::Time(std::move(r));
}

std::optional<DaysTimeDuration> ScaleDuration(const DaysTimeDuration& d, const Decimal& factor,
                                              bool divide) {
  // Exact decimal arithmetic on seconds.
  std::optional<Decimal> nanos_total = Int128ToDecimal(TotalNanos(d));
  if (!nanos_total) return std::nullopt;
  std::optional<Decimal> total = nanos_total->Div(Decimal::FromInt64(kNanosPerSecond));
  if (!total) return std::nullopt;
  std::optional<Decimal> r = divide ? total->Div(factor) : total->Mul(factor);
  if (!r) return std::nullopt;
  std::optional<Decimal> nanos = r->Mul(Decimal::FromInt64(kNanosPerSecond));
  if (!nanos) return std::nullopt;
  std::optional<Decimal> rounded = nanos->RoundToScale(0, Decimal::Rounding::kHalfEven);
  if (!rounded) return std::nullopt;
  // Split to avoid int64 overflow of nanos: seconds and remainder.
  std::optional<Decimal> secs = rounded->Div(Decimal::FromInt64(kNanosPerSecond));
  if (!secs) return std::nullopt;
  std::optional<int64_t> whole = secs->Floor().ToInt64();
  if (!whole) return std::nullopt;
  std::optional<Decimal> rem =
      rounded->Sub(Decimal::FromInt64(*whole).Mul(Decimal::FromInt64(kNanosPerSecond)).value());
  if (!rem) return std::nullopt;
  std::optional<int64_t> rem_nanos = rem->ToInt64();
  if (!rem_nanos) return std::nullopt;
  return DaysTimeDuration{*whole, static_cast<int32_t>(*rem_nanos)};
}

}  // namespace

Value Add(const Value& a, const Value& b) {
  Kind ka = a.kind(), kb = b.kind();
  if (ka == Kind::kNumber && kb == Kind::kNumber)
    return NumberOrNull(a.as_number().Add(b.as_number()));
  if (ka == Kind::kString && kb == Kind::kString)
    return Value::String(a.as_string() + b.as_string());
  if (ka == Kind::kDaysTimeDuration && kb == Kind::kDaysTimeDuration) {
    return DurationOrNull(DurationFromNanos(TotalNanos(a.as_days_time_duration()) +
                                            TotalNanos(b.as_days_time_duration())));
  }
  if (ka == Kind::kYearsMonthsDuration && kb == Kind::kYearsMonthsDuration) {
    return Value::YearsMonthsDuration(
        {a.as_years_months_duration().months + b.as_years_months_duration().months});
  }
  // Commutative temporal + duration.
  const Value* t = &a;
  const Value* d = &b;
  if (ka == Kind::kDaysTimeDuration || ka == Kind::kYearsMonthsDuration) std::swap(t, d);
  if (d->is_days_time_duration()) {
    __int128 n = TotalNanos(d->as_days_time_duration());
    if (t->is_date_time()) return DateTimePlusNanos(t->as_date_time(), n);
    if (t->is_time()) return TimePlusNanos(t->as_time(), n);
    if (t->is_date()) {
      __int128 local = __int128{t->as_date().days} * kNanosPerDay + n;
      __int128 days =
          local >= 0 ? local / kNanosPerDay : -((-local + kNanosPerDay - 1) / kNanosPerDay);
      return Value::Date(Date{static_cast<int64_t>(days)});
    }
  }
  if (d->is_years_months_duration()) {
    int64_t m = d->as_years_months_duration().months;
    if (t->is_date_time()) return DateTimePlusMonths(t->as_date_time(), m);
    if (t->is_date()) {
      auto days = AddMonthsToDays(t->as_date().days, m);
      return days ? Value::Date(Date{*days}) : Value();
    }
  }
  return Value();
}

Value Subtract(const Value& a, const Value& b) {
  Kind ka = a.kind(), kb = b.kind();
  if (ka == Kind::kNumber && kb == Kind::kNumber)
    return NumberOrNull(a.as_number().Sub(b.as_number()));
  if (ka == Kind::kDaysTimeDuration && kb == Kind::kDaysTimeDuration) {
    return DurationOrNull(DurationFromNanos(TotalNanos(a.as_days_time_duration()) -
                                            TotalNanos(b.as_days_time_duration())));
  }
  if (ka == Kind::kYearsMonthsDuration && kb == Kind::kYearsMonthsDuration) {
    return Value::YearsMonthsDuration(
        {a.as_years_months_duration().months - b.as_years_months_duration().months});
  }
  if (ka == Kind::kDateTime && kb == Kind::kDateTime) {
    const DateTime& x = a.as_date_time();
    const DateTime& y = b.as_date_time();
    if ((x.zone_kind == ZoneKind::kLocal) != (y.zone_kind == ZoneKind::kLocal)) return Value();
    return DurationOrNull(DurationFromNanos(DateTimeKey(x) - DateTimeKey(y)));
  }
  if (ka == Kind::kDate && kb == Kind::kDate) {
    return DurationOrNull(
        DurationFromNanos(__int128{a.as_date().days - b.as_date().days} * kNanosPerDay));
  }
  // A zoned date-time minus a date (or the reverse): the date is midnight UTC (DMN TCK 0100);
  // with a local date-time the result is null.
  if ((ka == Kind::kDate && kb == Kind::kDateTime) ||
      (ka == Kind::kDateTime && kb == Kind::kDate)) {
    const DateTime& other = ka == Kind::kDateTime ? a.as_date_time() : b.as_date_time();
    if (other.zone_kind == ZoneKind::kLocal) return Value();
    DateTime midnight;
    midnight.days = ka == Kind::kDate ? a.as_date().days : b.as_date().days;
    midnight.zone_kind = ZoneKind::kOffset;
    __int128 x = ka == Kind::kDate ? DateTimeKey(midnight) : DateTimeKey(other);
    __int128 y = ka == Kind::kDate ? DateTimeKey(other) : DateTimeKey(midnight);
    return DurationOrNull(DurationFromNanos(x - y));
  }
  if (ka == Kind::kTime && kb == Kind::kTime) {
    const Time& x = a.as_time();
    const Time& y = b.as_time();
    if ((x.zone_kind == ZoneKind::kLocal) != (y.zone_kind == ZoneKind::kLocal)) return Value();
    int64_t nx = x.zone_kind == ZoneKind::kLocal ? x.nanos : TimeInstantNanos(x);
    int64_t ny = y.zone_kind == ZoneKind::kLocal ? y.nanos : TimeInstantNanos(y);
    return DurationOrNull(DurationFromNanos(__int128{nx} - ny));
  }
  if (kb == Kind::kDaysTimeDuration) {
    auto neg = DurationFromNanos(-TotalNanos(b.as_days_time_duration()));
    if (!neg) return Value();
    if (ka == Kind::kDateTime || ka == Kind::kTime || ka == Kind::kDate) {
      return Add(a, Value::DaysTimeDuration(*neg));
    }
  }
  if (kb == Kind::kYearsMonthsDuration && (ka == Kind::kDateTime || ka == Kind::kDate)) {
    return Add(a, Value::YearsMonthsDuration({-b.as_years_months_duration().months}));
  }
  return Value();
}

Value Multiply(const Value& a, const Value& b) {
  Kind ka = a.kind(), kb = b.kind();
  if (ka == Kind::kNumber && kb == Kind::kNumber)
    return NumberOrNull(a.as_number().Mul(b.as_number()));
  const Value* d = &a;
  const Value* n = &b;
  if (ka == Kind::kNumber) std::swap(d, n);
  if (!n->is_number()) return Value();
  if (d->is_days_time_duration()) {
    return DurationOrNull(ScaleDuration(d->as_days_time_duration(), n->as_number(), false));
  }
  if (d->is_years_months_duration()) {
    auto months = Decimal::FromInt64(d->as_years_months_duration().months).Mul(n->as_number());
    if (!months) return Value();
    auto m = months->Truncate().ToInt64();
    return m ? Value::YearsMonthsDuration({*m}) : Value();
  }
  return Value();
}

Value Divide(const Value& a, const Value& b) {
  Kind ka = a.kind(), kb = b.kind();
  if (ka == Kind::kNumber && kb == Kind::kNumber)
    return NumberOrNull(a.as_number().Div(b.as_number()));
  if (ka == Kind::kDaysTimeDuration && kb == Kind::kNumber) {
    if (b.as_number().IsZero()) return Value();
    return DurationOrNull(ScaleDuration(a.as_days_time_duration(), b.as_number(), true));
  }
  if (ka == Kind::kYearsMonthsDuration && kb == Kind::kNumber) {
    auto months = Decimal::FromInt64(a.as_years_months_duration().months).Div(b.as_number());
    if (!months) return Value();
    auto m = months->Truncate().ToInt64();
    return m ? Value::YearsMonthsDuration({*m}) : Value();
  }
  if (ka == Kind::kDaysTimeDuration && kb == Kind::kDaysTimeDuration) {
    __int128 y = TotalNanos(b.as_days_time_duration());
    if (y == 0) return Value();
    auto nx = Int128ToDecimal(TotalNanos(a.as_days_time_duration()));
    auto ny = Int128ToDecimal(y);
    if (!nx || !ny) return Value();
    return NumberOrNull(nx->Div(*ny));
  }
  if (ka == Kind::kYearsMonthsDuration && kb == Kind::kYearsMonthsDuration) {
    int64_t y = b.as_years_months_duration().months;
    if (y == 0) return Value();
    return NumberOrNull(
        Decimal::FromInt64(a.as_years_months_duration().months).Div(Decimal::FromInt64(y)));
  }
  return Value();
}

// ---- Node evaluation ----

namespace {

// Copies `v` into *out after accounting for the work.
inline bool Produce(EvalContext& ctx, Value* out, Value v) {
  (void)ctx;
  *out = std::move(v);
  return true;
}

bool ChargeValue(EvalContext& ctx, const Value& v) {
  switch (v.kind()) {
    case Kind::kString:
      return ctx.CheckSize(static_cast<int64_t>(v.as_string().size())) &&
             ctx.Charge(static_cast<int64_t>(v.as_string().size()) + 32);
    case Kind::kList:
      return ctx.CheckSize(static_cast<int64_t>(v.list().size())) &&
             ctx.Charge(static_cast<int64_t>(v.list().size() * sizeof(Value)) + 32);
    case Kind::kContext:
      return ctx.CheckSize(static_cast<int64_t>(v.context().size())) &&
             ctx.Charge(static_cast<int64_t>(v.context().size() * (sizeof(Value) + 32)) + 32);
    default:
      return true;
  }
}

}  // namespace

TypePtr LiteralNode::StaticType() const { return value_.is_null() ? nullptr : TypeOfValue(value_); }

TypePtr ListNode::StaticType() const { return BuiltinType("list"); }

TypePtr ContextNode::StaticType() const {
  if (duplicate_keys_) return nullptr;
  auto t = std::make_shared<Type>();
  t->kind = Type::Kind::kContext;
  t->name = "context";
  for (const auto& [key, node] : entries_) {
    TypePtr field = node->StaticType();
    t->fields.emplace_back(key, field != nullptr ? field : AnyType());
  }
  return t;
}

bool LiteralNode::Eval(EvalContext& ctx, Value* out) const {
  if (!ctx.Step()) return false;
  *out = value_;
  return true;
}

const Value* LiteralNode::Peek(EvalContext& ctx) const {
  --ctx.steps_left;  // checked by the next Step(); literals cannot loop on their own
  return &value_;
}

namespace {

const Value* LookupGlobal(EvalContext& ctx, int slot) {
  if (slot < 0) return &NullValue();
  if (ctx.global_state[slot] == 0) {
    ctx.global_state[slot] = 1;
    std::optional<Value> v;
    if (ctx.variables != nullptr) v = ctx.variables->Lookup((*ctx.global_names)[slot]);
    if (v.has_value()) {
      ctx.globals[slot] = std::move(*v);
    } else if (const Builtin* b = FindBuiltin((*ctx.global_names)[slot])) {
      // A built-in named as a value (`sort(xs, precedes)`, `f(abs)`): the function itself.
      ctx.globals[slot] = Value::Function(BuiltinFunctionValue(b));
    } else if (ctx.warnings != nullptr) {
      ctx.Warn(absl::StrCat("No variable found with name '", (*ctx.global_names)[slot], "'"));
    }
  }
  return &ctx.globals[slot];
}

}  // namespace

const Value* NameNode::Peek(EvalContext& ctx) const {
  --ctx.steps_left;
  if (dynamic_ && ctx.scope != nullptr) {
    if (const Value* v = ctx.scope->Lookup(name_)) return v;
  }
  return LookupGlobal(ctx, slot_);
}

bool NameNode::Eval(EvalContext& ctx, Value* out) const {
  if (!ctx.Step()) return false;
  *out = *Peek(ctx);
  return true;
}

bool InputNode::Eval(EvalContext& ctx, Value* out) const {
  if (!ctx.Step()) return false;
  *out = ctx.input != nullptr ? *ctx.input : Value();
  return true;
}

bool ListNode::Eval(EvalContext& ctx, Value* out) const {
  if (!ctx.Step()) return false;
  std::vector<Value> items;
  items.reserve(items_.size());
  for (const NodePtr& n : items_) {
    Value v;
    if (!n->Eval(ctx, &v)) return false;
    items.push_back(std::move(v));
  }
  Value list = Value::List(std::move(items));
  if (!ChargeValue(ctx, list)) return false;
  *out = std::move(list);
  return true;
}

bool ContextNode::Eval(EvalContext& ctx, Value* out) const {
  if (!ctx.Step()) return false;
  if (duplicate_keys_) {
    *out = Value();
    return true;
  }
  ContextValue building;
  Scope scope;
  scope.parent = ctx.scope;
  scope.context = &building;  // earlier entries are visible to later ones
  const Scope* saved = ctx.scope;
  ctx.scope = &scope;
  for (const auto& [key, node] : entries_) {
    Value v;
    ctx.pending_self_name = node->IsFunctionDefinition() ? std::string_view(key) : "";
    if (!node->Eval(ctx, &v)) {
      ctx.scope = saved;
      return false;
    }
    building.Set(key, std::move(v));
  }
  ctx.scope = saved;
  Value c = Value::Context(std::move(building));
  if (!ChargeValue(ctx, c)) return false;
  *out = std::move(c);
  return true;
}

bool RangeNode::Eval(EvalContext& ctx, Value* out) const {
  if (!ctx.Step()) return false;
  RangeValue r;
  r.start_included = start_included_;
  r.end_included = end_included_;
  if (start_ && !start_->Eval(ctx, &r.start)) return false;
  if (end_ && !end_->Eval(ctx, &r.end)) return false;
  auto rangeable = [](const Value& v) {
    switch (v.kind()) {
      case Kind::kNumber:
      case Kind::kString:
      case Kind::kDate:
      case Kind::kTime:
      case Kind::kDateTime:
      case Kind::kDaysTimeDuration:
      case Kind::kYearsMonthsDuration:
        return true;
      default:
        return false;
    }
  };
  // Unary comparisons (`< 5`) have one open end; a literal range needs both of one kind.
  if (start_ && end_) {
    // A null endpoint in a literal range is not "unbounded": the range is null (and `x in` it
    // is null, DMN TCK 0072).
    if (r.start.is_null() || r.end.is_null()) return Produce(ctx, out, Value());
    if (r.start.kind() != r.end.kind() || !rangeable(r.start)) {
      return Produce(ctx, out, Value());
    }
  } else {
    const Value& bound = start_ ? r.start : r.end;
    if (!rangeable(bound)) return Produce(ctx, out, Value());
  }
  *out = Value::Range(std::move(r));
  return true;
}

bool NegateNode::Eval(EvalContext& ctx, Value* out) const {
  if (!ctx.Step()) return false;
  Value tmp;
  const Value* v = EvalRef(*operand_, ctx, &tmp);
  if (v == nullptr) return false;
  if (v->is_number()) {
    *out = Value::Number(v->as_number().Negate());
  } else if (v->is_days_time_duration()) {
    *out = DurationOrNull(DurationFromNanos(-TotalNanos(v->as_days_time_duration())));
  } else if (v->is_years_months_duration()) {
    *out = Value::YearsMonthsDuration({-v->as_years_months_duration().months});
  } else {
    *out = Value();
  }
  return true;
}

bool ArithNode::Eval(EvalContext& ctx, Value* out) const {
  if (!ctx.Step()) return false;
  Value acc;
  if (!first_->Eval(ctx, &acc)) return false;
  for (const auto& [op, node] : rest_) {
    Value tmp;
    const Value* rhs = EvalRef(*node, ctx, &tmp);
    if (rhs == nullptr) return false;
    const bool inputs_present = !acc.is_null() && !rhs->is_null();
    Value lhs_for_warning = ctx.warnings != nullptr ? acc : Value();
    switch (op) {
      case ArithOp::kAdd:
        if (acc.is_string() && rhs->is_string() &&
            !ctx.CheckString(acc.as_string().size() + rhs->as_string().size())) {
          return false;
        }
        acc = Add(acc, *rhs);
        break;
      case ArithOp::kSub:
        acc = Subtract(acc, *rhs);
        break;
      case ArithOp::kMul:
        acc = Multiply(acc, *rhs);
        break;
      case ArithOp::kDiv:
        acc = Divide(acc, *rhs);
        break;
      case ArithOp::kPow:
        if (acc.is_number() && rhs->is_number()) {
          // Guard huge integral exponents: work is logarithmic but results overflow anyway.
          acc = NumberOrNull(acc.as_number().Pow(rhs->as_number()));
        } else {
          acc = Value();
        }
        break;
    }
    if (ctx.warnings != nullptr && acc.is_null() && inputs_present) {
      static constexpr const char* kOps[] = {"+", "-", "*", "/", "**"};
      ctx.Warn(absl::StrCat("Can't apply '", kOps[static_cast<int>(op)], "' to '",
                            lhs_for_warning.DebugString(kMaxWarningValueBytes), "' and '",
                            rhs->DebugString(kMaxWarningValueBytes), "'"));
    }
    if (!ChargeValue(ctx, acc)) return false;
  }
  *out = std::move(acc);
  return true;
}

bool CompareNode::Eval(EvalContext& ctx, Value* out) const {
  if (!ctx.Step()) return false;
  Value ta, tb;
  const Value* a = EvalRef(*a_, ctx, &ta);
  if (a == nullptr) return false;
  const Value* b = EvalRef(*b_, ctx, &tb);
  if (b == nullptr) return false;
  if (op_ == CompareOp::kEq || op_ == CompareOp::kNe) {
    Value e = FeelEquals(*a, *b);
    if (op_ == CompareOp::kNe && e.is_bool()) e = Value::Bool(!e.as_bool());
    *out = std::move(e);
    return true;
  }
  std::optional<int> c = FeelCompare(*a, *b);
  if (!c) {
    if (ctx.warnings != nullptr) {
      ctx.Warn(absl::StrCat("Can't compare '", a->DebugString(kMaxWarningValueBytes), "' with '",
                            b->DebugString(kMaxWarningValueBytes), "'"));
    }
    *out = Value();
    return true;
  }
  bool r = false;
  switch (op_) {
    case CompareOp::kLt:
      r = *c < 0;
      break;
    case CompareOp::kLe:
      r = *c <= 0;
      break;
    case CompareOp::kGt:
      r = *c > 0;
      break;
    case CompareOp::kGe:
      r = *c >= 0;
      break;
    default:
      break;
  }
  *out = Value::Bool(r);
  return true;
}

bool BetweenNode::Eval(EvalContext& ctx, Value* out) const {
  if (!ctx.Step()) return false;
  Value tx, tl, th;
  const Value* x = EvalRef(*x_, ctx, &tx);
  if (x == nullptr) return false;
  const Value* l = EvalRef(*low_, ctx, &tl);
  if (l == nullptr) return false;
  const Value* h = EvalRef(*high_, ctx, &th);
  if (h == nullptr) return false;
  std::optional<int> c1 = FeelCompare(*x, *l);
  std::optional<int> c2 = FeelCompare(*x, *h);
  // Three-valued `x >= l and x <= h`.
  if ((c1 && *c1 < 0) || (c2 && *c2 > 0)) {
    *out = Value::Bool(false);
  } else if (c1 && c2) {
    *out = Value::Bool(true);
  } else {
    *out = Value();
  }
  return true;
}

bool EvalTests(EvalContext& ctx, const std::vector<UnaryTest>& tests, const Value& input,
               Value* out) {
  const Value* saved = ctx.input;
  ctx.input = &input;
  bool saw_null = false;
  for (const UnaryTest& t : tests) {
    Value tmp;
    const Value* r = EvalRef(*t.node, ctx, &tmp);
    if (r == nullptr) {
      ctx.input = saved;
      return false;
    }
    Value m;
    if (t.op != UnaryTest::Op::kDefault) {
      m = FeelEquals(input, *r);
      if (t.op == UnaryTest::Op::kNe && m.is_bool()) m = Value::Bool(!m.as_bool());
    } else if (r->is_null() && t.node->IsTwoSidedRange()) {
      m = Value();
    } else if (t.uses_input) {
      m = r->is_bool() ? *r : Value();
    } else if (!t.bool_literal && r->is_bool() && !input.is_bool()) {
      m = *r;
    } else {
      m = TestMatches(input, *r);
    }
    if (m.is_bool() && m.as_bool()) {
      ctx.input = saved;
      *out = Value::Bool(true);
      return true;
    }
    if (m.is_null()) saw_null = true;
  }
  ctx.input = saved;
  *out = saw_null ? Value() : Value::Bool(false);
  return true;
}

bool InNode::Eval(EvalContext& ctx, Value* out) const {
  if (!ctx.Step()) return false;
  Value tx;
  const Value* x = EvalRef(*x_, ctx, &tx);
  if (x == nullptr) return false;
  Value input = *x;
  return EvalTests(ctx, tests_, input, out);
}

bool UnaryTestsNode::Eval(EvalContext& ctx, Value* out) const {
  if (!ctx.Step()) return false;
  if (any_) {
    *out = Value::Bool(true);
    return true;
  }
  Value input = ctx.input != nullptr ? *ctx.input : Value();
  Value r;
  if (!EvalTests(ctx, tests_, input, &r)) return false;
  if (negated_ && r.is_bool()) r = Value::Bool(!r.as_bool());
  *out = std::move(r);
  return true;
}

bool InstanceOfNode::Eval(EvalContext& ctx, Value* out) const {
  if (!ctx.Step()) return false;
  Value tx;
  const Value* x = EvalRef(*x_, ctx, &tx);
  if (x == nullptr) return false;
  *out = Value::Bool(type_ != nullptr && IsInstance(*x, *type_));
  return true;
}

bool LogicNode::Eval(EvalContext& ctx, Value* out) const {
  if (!ctx.Step()) return false;
  // and: any false -> false; all true -> true; else null. or: mirror image.
  const bool decisive = !is_and_;
  bool saw_other = false;
  for (const NodePtr& n : items_) {
    Value tmp;
    const Value* v = EvalRef(*n, ctx, &tmp);
    if (v == nullptr) return false;
    if (v->is_bool()) {
      if (v->as_bool() == decisive) {
        *out = Value::Bool(decisive);
        return true;
      }
    } else {
      saw_other = true;
    }
  }
  *out = saw_other ? Value() : Value::Bool(!decisive);
  return true;
}

bool IfNode::Eval(EvalContext& ctx, Value* out) const {
  if (!ctx.Step()) return false;
  Value tc;
  const Value* c = EvalRef(*cond_, ctx, &tc);
  if (c == nullptr) return false;
  // Non-boolean conditions take the else branch (feel-scala).
  if (c->is_bool() && c->as_bool()) return then_->Eval(ctx, out);
  return else_->Eval(ctx, out);
}

namespace {

// Iteration domain of one iterator: either a list or a numeric range a..b (step ±1).
struct Domain {
  bool valid = false;
  Value list;  // when a list
  bool is_range = false;
  Decimal start;
  int64_t count = 0;
  bool descending = false;
  bool dates = false;  // `@"2024-01-01"..@"2024-01-31"`: start is the day number
  int64_t start_day = 0;
};

bool EvalDomain(EvalContext& ctx, const Iterator& it, Domain* d) {
  Value a;
  if (!it.domain->Eval(ctx, &a)) return false;
  if (it.range_end) {
    Value b;
    if (!it.range_end->Eval(ctx, &b)) return false;
    if (a.is_date() && b.is_date()) {
      // Days from a to b (DMN 1.5 iteration over a date range).
      const int64_t from = a.as_date().days, to = b.as_date().days;
      const int64_t span = to >= from ? to - from : from - to;
      if (span >= ctx.options->max_collection_size) return ctx.CheckSize(span + 1);
      d->valid = true;
      d->is_range = true;
      d->dates = true;
      d->start_day = from;
      d->count = span + 1;
      d->descending = to < from;
      return true;
    }
    if (!a.is_number() || !b.is_number()) return true;  // invalid -> null result
    std::optional<Decimal> diff = b.as_number().Sub(a.as_number());
    if (!diff) return true;
    Decimal span = diff->Abs().Floor();
    std::optional<int64_t> n = span.ToInt64();
    if (!n || *n >= ctx.options->max_collection_size) {
      return ctx.CheckSize(n.value_or(INT64_MAX - 1) + 1);
    }
    d->valid = true;
    d->is_range = true;
    d->start = a.as_number();
    d->count = *n + 1;
    d->descending = diff->IsNegative();
    return true;
  }
  if (a.is_list()) {
    d->valid = true;
    d->list = std::move(a);
    return true;
  }
  if (a.is_range()) {
    // An integer range value [1..5] iterates like 1..5.
    const RangeValue& r = a.range();
    if (r.start.is_number() && r.end.is_number() && r.start.as_number().IsIntegral() &&
        r.end.as_number().IsIntegral()) {
      Decimal s = r.start.as_number();
      Decimal e = r.end.as_number();
      bool desc = e < s;
      if (desc) return true;  // a range value must not end before it starts: null result
      Decimal one = Decimal::FromInt64(desc ? -1 : 1);
      if (!r.start_included) s = s.Add(one).value_or(s);
      if (!r.end_included) e = e.Sub(one).value_or(e);
      auto diff = e.Sub(s);
      if (!diff || (desc ? !(e < s || e == s) : (e < s))) {
        d->valid = true;
        d->list = Value::List({});
        return true;
      }
      std::optional<int64_t> n = diff->Abs().ToInt64();
      if (!n || *n >= ctx.options->max_collection_size) {
        return ctx.CheckSize(n.value_or(INT64_MAX - 1) + 1);
      }
      d->valid = true;
      d->is_range = true;
      d->start = s;
      d->count = *n + 1;
      d->descending = desc;
    }
    return true;
  }
  return true;  // not iterable -> null result
}

Value DomainItem(const Domain& d, int64_t i) {
  if (!d.is_range) return d.list.list()[static_cast<size_t>(i)];
  if (d.dates) return Value::Date(Date{d.descending ? d.start_day - i : d.start_day + i});
  Decimal offset = Decimal::FromInt64(d.descending ? -i : i);
  return Value::Number(d.start.Add(offset).value_or(d.start));
}

int64_t DomainSize(const Domain& d) {
  return d.is_range ? d.count : static_cast<int64_t>(d.list.list().size());
}

struct ScopeGuard {
  EvalContext& ctx;
  const Scope* saved;
  ScopeGuard(EvalContext& c, const Scope* s) : ctx(c), saved(c.scope) { ctx.scope = s; }
  ~ScopeGuard() { ctx.scope = saved; }
};

}  // namespace

bool ForNode::Loop(EvalContext& ctx, size_t level, Scope* scope, std::vector<Value>* results,
                   bool* invalid) const {
  if (level == iterators_.size()) {
    if (uses_partial_) {
      if (!ctx.Charge(static_cast<int64_t>(results->size() * sizeof(Value)))) return false;
      scope->bindings.back().second = Value::List(*results);
    }
    Value v;
    if (!body_->Eval(ctx, &v)) return false;
    if (!ctx.CheckSize(static_cast<int64_t>(results->size()) + 1)) return false;
    if (!ctx.Charge(sizeof(Value))) return false;
    results->push_back(std::move(v));
    return true;
  }
  Domain d;
  if (!EvalDomain(ctx, iterators_[level], &d)) return false;
  if (!d.valid) {
    *invalid = true;  // not iterable: the whole `for` is null
    return true;
  }
  int64_t n = DomainSize(d);
  for (int64_t i = 0; i < n && !*invalid; ++i) {
    if (!ctx.Step()) return false;
    scope->bindings[level].second = DomainItem(d, i);
    if (!Loop(ctx, level + 1, scope, results, invalid)) return false;
  }
  return true;
}

bool ForNode::Eval(EvalContext& ctx, Value* out) const {
  if (!ctx.Step()) return false;
  Scope scope;
  scope.parent = ctx.scope;
  for (const Iterator& it : iterators_) scope.bindings.emplace_back(it.name, Value());
  if (uses_partial_) scope.bindings.emplace_back("partial", Value::List({}));
  ScopeGuard g(ctx, &scope);
  std::vector<Value> results;
  bool invalid = false;
  if (!Loop(ctx, 0, &scope, &results, &invalid)) return false;
  *out = invalid ? Value() : Value::List(std::move(results));
  return true;
}

bool QuantifiedNode::Loop(EvalContext& ctx, size_t level, Scope* scope, bool* decided,
                          bool* saw_null) const {
  if (level == iterators_.size()) {
    Value tmp;
    const Value* v = EvalRef(*cond_, ctx, &tmp);
    if (v == nullptr) return false;
    if (v->is_bool()) {
      // some: a true decides; every: a false decides.
      if (v->as_bool() != every_) *decided = true;
    } else {
      *saw_null = true;
    }
    return true;
  }
  Domain d;
  if (!EvalDomain(ctx, iterators_[level], &d)) return false;
  if (!d.valid) {
    *saw_null = true;
    return true;
  }
  int64_t n = DomainSize(d);
  for (int64_t i = 0; i < n && !*decided; ++i) {
    if (!ctx.Step()) return false;
    scope->bindings[level].second = DomainItem(d, i);
    if (!Loop(ctx, level + 1, scope, decided, saw_null)) return false;
  }
  return true;
}

bool QuantifiedNode::Eval(EvalContext& ctx, Value* out) const {
  if (!ctx.Step()) return false;
  Scope scope;
  scope.parent = ctx.scope;
  for (const Iterator& it : iterators_) scope.bindings.emplace_back(it.name, Value());
  ScopeGuard g(ctx, &scope);
  bool decided = false, saw_null = false;
  if (!Loop(ctx, 0, &scope, &decided, &saw_null)) return false;
  if (decided) {
    *out = Value::Bool(!every_);
  } else if (saw_null) {
    *out = Value();
  } else {
    *out = Value::Bool(every_);
  }
  return true;
}

namespace {

Value IndexList(const std::vector<Value>& items, const Decimal& index) {
  std::optional<int64_t> i = index.TruncateToInt64();
  if (!i || *i == 0) return Value();
  int64_t n = static_cast<int64_t>(items.size());
  int64_t pos = *i > 0 ? *i - 1 : n + *i;
  if (pos < 0 || pos >= n) return Value();
  return items[static_cast<size_t>(pos)];
}

}  // namespace

// GCC 12 at -O2 with -fsanitize=address reports a false "may be used uninitialized" inside
// absl::InlinedVector::emplace_back for the scope below.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif
bool FilterNode::Eval(EvalContext& ctx, Value* out) const {
  if (!ctx.Step()) return false;
  Value base;
  if (!base_->Eval(ctx, &base)) return false;
  if (base.is_null()) {
    *out = Value();
    return true;
  }
  if (!base.is_list()) base = Value::List({base});  // a single value acts as a list of one
  const std::vector<Value>& items = base.list();
  if (filter_->IsNumberLiteral()) {
    *out = IndexList(items, static_cast<const LiteralNode*>(filter_.get())->value().as_number());
    return true;
  }
  std::vector<Value> kept;
  Scope scope;
  scope.parent = ctx.scope;
  scope.bindings.emplace_back("item", Value());
  ScopeGuard g(ctx, &scope);
  for (size_t i = 0; i < items.size(); ++i) {
    if (!ctx.Step()) return false;
    const Value& item = items[i];
    scope.bindings[0].second = item;
    scope.context = item.is_context() ? &item.context() : nullptr;
    Value tmp;
    const Value* r = EvalRef(*filter_, ctx, &tmp);
    if (r == nullptr) return false;
    if (i == 0 && r->is_number()) {
      // A numeric filter is an index (feel-scala decides on the first item).
      *out = IndexList(items, r->as_number());
      return true;
    }
    if (r->is_bool() && r->as_bool()) {
      if (!ctx.Charge(sizeof(Value))) return false;
      kept.push_back(item);
    }
  }
  *out = Value::List(std::move(kept));
  return true;
}
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif

namespace {

Value Property(const Value& v, const std::string& name) {
  auto num = [](int64_t x) { return Value::Number(x); };
  switch (v.kind()) {
    case Kind::kContext: {
      const Value* f = v.Find(name);
      return f ? *f : Value();
    }
    case Kind::kDate: {
      int64_t y;
      int m, d;
      CivilFromDays(v.as_date().days, &y, &m, &d);
      if (name == "year") return num(y);
      if (name == "month") return num(m);
      if (name == "day") return num(d);
      if (name == "weekday") return num(IsoWeekday(v.as_date().days));
      return Value();
    }
    case Kind::kDateTime: {
      const DateTime& dt = v.as_date_time();
      int64_t y;
      int m, d;
      CivilFromDays(dt.days, &y, &m, &d);
      int64_t secs = dt.nanos / kNanosPerSecond;
      if (name == "year") return num(y);
      if (name == "month") return num(m);
      if (name == "day") return num(d);
      if (name == "weekday") return num(IsoWeekday(dt.days));
      if (name == "hour") return num(secs / 3600);
      if (name == "minute") return num(secs / 60 % 60);
      if (name == "second") return num(secs % 60);
      if (name == "time offset") {
        if (dt.zone_kind == ZoneKind::kLocal) return Value();
        return Value::DaysTimeDuration({dt.offset_seconds, 0});
      }
      if (name == "timezone") {
        if (dt.zone_kind != ZoneKind::kZoneId) return Value();
        return Value::String(dt.zone_id);
      }
      return Value();
    }
    case Kind::kTime: {
      const Time& t = v.as_time();
      int64_t secs = t.nanos / kNanosPerSecond;
      if (name == "hour") return num(secs / 3600);
      if (name == "minute") return num(secs / 60 % 60);
      if (name == "second") return num(secs % 60);
      if (name == "time offset") {
        if (t.zone_kind == ZoneKind::kLocal) return Value();
        return Value::DaysTimeDuration({t.offset_seconds, 0});
      }
      if (name == "timezone") {
        if (t.zone_kind != ZoneKind::kZoneId) return Value();
        return Value::String(t.zone_id);
      }
      return Value();
    }
    case Kind::kDaysTimeDuration: {
      __int128 total = TotalNanos(v.as_days_time_duration());
      __int128 secs = total / kNanosPerSecond;  // truncates toward zero like java.time
      if (name == "days") return num(static_cast<int64_t>(secs / 86400));
      if (name == "hours") return num(static_cast<int64_t>(secs / 3600 % 24));
      if (name == "minutes") return num(static_cast<int64_t>(secs / 60 % 60));
      if (name == "seconds") return num(static_cast<int64_t>(secs % 60));
      return Value();
    }
    case Kind::kYearsMonthsDuration: {
      int64_t m = v.as_years_months_duration().months;
      if (name == "years") return num(m / 12);
      if (name == "months") return num(m % 12);
      return Value();
    }
    case Kind::kRange: {
      const RangeValue& r = v.range();
      if (name == "start") return r.start;
      if (name == "end") return r.end;
      if (name == "start included") return Value::Bool(r.start_included);
      if (name == "end included") return Value::Bool(r.end_included);
      return Value();
    }
    default:
      return Value();
  }
}

}  // namespace

bool PathNode::Eval(EvalContext& ctx, Value* out) const {
  if (!ctx.Step()) return false;
  Value tb;
  const Value* base = EvalRef(*base_, ctx, &tb);
  if (base == nullptr) return false;
  if (base->is_list()) {
    const auto& items = base->list();
    if (!ctx.Step(static_cast<int64_t>(items.size()))) return false;
    if (!ctx.CheckList(items.size())) return false;
    std::vector<Value> r;
    r.reserve(items.size());
    for (const Value& item : items) r.push_back(Property(item, name_));
    *out = Value::List(std::move(r));
    return ChargeValue(ctx, *out);
  }
  *out = Property(*base, name_);
  if (ctx.warnings != nullptr && out->is_null() && !base->is_null()) {
    if (base->is_context() && base->Find(name_) == nullptr) {
      ctx.Warn(absl::StrCat("No context entry found with key '", name_, "'"));
    } else if (!base->is_context()) {
      ctx.Warn(absl::StrCat("No property found with name '", name_, "' of value '",
                            base->DebugString(kMaxWarningValueBytes), "'"));
    }
  }
  return true;
}

// ---- Functions ----

namespace {

class Lambda final : public FunctionValue, public std::enable_shared_from_this<Lambda> {
 public:
  Lambda(std::shared_ptr<const Program> program, const FunctionDefNode* def,
         std::vector<std::pair<std::string, Value>> captured, std::vector<Value> globals,
         std::string self_name)
      : program_(std::move(program)),
        def_(def),
        captured_(std::move(captured)),
        globals_(std::move(globals)),
        self_name_(std::move(self_name)) {}
  std::string_view name() const override { return "anonymous function"; }
  const std::vector<std::string>& parameters() const override { return def_->params(); }
  const std::vector<TypePtr>* parameter_types() const override {
    return def_->param_types().empty() ? nullptr : &def_->param_types();
  }
  TypePtr result_type() const override { return def_->result_type(); }

  bool Invoke(EvalContext& ctx, std::vector<Value>& args, Value* out) const {
    char marker;
    if (ctx.stack_base != nullptr && ctx.stack_base - &marker > kMaxLambdaStackBytes) {
      return ctx.Fail(absl::ResourceExhaustedError(
          "FEEL evaluation exceeded its recursion limit (function calls nested too deeply)"));
    }
    if (ctx.call_depth >= kMaxCallDepth) {
      return ctx.Fail(absl::ResourceExhaustedError(
          absl::StrCat("FEEL evaluation exceeded its recursion limit of ", kMaxCallDepth,
                       " nested function calls")));
    }
    Scope closure;
    closure.captured = &captured_;
    if (!self_name_.empty()) {
      // Bound per call (not stored) so the function does not own itself.
      closure.bindings.emplace_back(self_name_, Value::Function(shared_from_this()));
    }
    // Typed parameters: each argument is converted to its type (DMN 1.5 §10.3.2.9.4); an
    // argument that does not conform makes the call null.
    const auto& types = def_->param_types();
    for (size_t i = 0; i < types.size() && i < args.size(); ++i) {
      if (types[i] == nullptr) continue;
      std::optional<Value> converted = CoerceToType(args[i], *types[i]);
      if (!converted) {
        ctx.Warn(absl::StrCat("Argument ", args[i].DebugString(kMaxWarningValueBytes),
                              " does not conform to type ", types[i]->name));
        *out = Value();
        return true;
      }
      args[i] = std::move(*converted);
    }
    Scope params;
    params.parent = &closure;
    const auto& names = def_->params();
    for (size_t i = 0; i < names.size(); ++i) {
      params.bindings.emplace_back(names[i], i < args.size() ? std::move(args[i]) : Value());
    }
    const Scope* saved_scope = ctx.scope;
    const std::shared_ptr<const Program>* saved_program = ctx.program;
    Value* saved_globals = ctx.globals;
    uint8_t* saved_state = ctx.global_state;
    const std::vector<std::string>* saved_names = ctx.global_names;
    // A lambda from another program (passed in as a value) reads that program's globals.
    std::vector<Value> own_globals;
    std::vector<uint8_t> own_state;
    if (ctx.program == nullptr || ctx.program->get() != program_.get()) {
      // Invoked outside the evaluation that created it: use the globals captured then.
      own_globals = globals_;
      own_globals.resize(program_->free_variables.size());
      own_state.assign(program_->free_variables.size(), 1);
      ctx.globals = own_globals.data();
      ctx.global_state = own_state.data();
      ctx.global_names = &program_->free_variables;
      ctx.program = &program_;
    }
    ctx.scope = &params;
    ++ctx.call_depth;
    bool ok = def_->body().Eval(ctx, out);
    --ctx.call_depth;
    ctx.scope = saved_scope;
    ctx.program = saved_program;
    ctx.globals = saved_globals;
    ctx.global_state = saved_state;
    ctx.global_names = saved_names;
    return ok;
  }

 private:
  std::shared_ptr<const Program> program_;
  const FunctionDefNode* def_;
  std::vector<std::pair<std::string, Value>> captured_;
  std::vector<Value> globals_;  // the creating evaluation's variables
  std::string self_name_;       // context entry holding this function, for recursion
};

class BuiltinValue final : public FunctionValue {
 public:
  explicit BuiltinValue(const Builtin* b) : b_(b) {
    if (!b->overloads.empty()) params_ = b->overloads.front().params;
  }
  std::string_view name() const override { return b_->name; }
  const std::vector<std::string>& parameters() const override { return params_; }
  const Builtin* builtin() const { return b_; }

 private:
  const Builtin* b_;
  std::vector<std::string> params_;
};

// Flattens the visible bindings (innermost first wins) for a closure. The copy is charged before
// it is made: a lambda created per item of a filter over large contexts copies every entry.
bool Capture(EvalContext& ctx, const Scope* scope,
             std::vector<std::pair<std::string, Value>>* captured) {
  size_t visible = 0;
  for (const Scope* s = scope; s != nullptr; s = s->parent) {
    visible += s->bindings.size();
    if (s->context != nullptr) visible += s->context->size();
    if (s->captured != nullptr) visible += s->captured->size();
  }
  if (!ctx.Step(static_cast<int64_t>(visible))) return false;
  if (!ctx.Charge(static_cast<int64_t>(visible * (sizeof(Value) + 32)))) return false;
  std::vector<std::pair<std::string, Value>>& out = *captured;
  absl::flat_hash_set<std::string_view> seen;
  auto add = [&](std::string_view k, const Value& v) {
    if (!seen.insert(k).second) return;
    out.emplace_back(std::string(k), v);
  };
  for (const Scope* s = scope; s != nullptr; s = s->parent) {
    for (auto it = s->bindings.rbegin(); it != s->bindings.rend(); ++it) add(it->first, it->second);
    if (s->context != nullptr) {
      for (const auto& [k, v] : s->context->entries()) add(k, v);
    }
    if (s->captured != nullptr) {
      for (const auto& [k, v] : *s->captured) add(k, v);
    }
  }
  return true;
}

}  // namespace

std::shared_ptr<const FunctionValue> BuiltinFunctionValue(const Builtin* b) {
  return std::make_shared<BuiltinValue>(b);
}

bool FunctionDefNode::Eval(EvalContext& ctx, Value* out) const {
  if (!ctx.Step()) return false;
  if (ctx.program == nullptr) return ctx.Fail(absl::InternalError("no program for lambda"));
  // Capture the program's variables so the function works when invoked after this evaluation.
  std::vector<Value> globals;
  if (ctx.global_names != nullptr) {
    const size_t n = ctx.global_names->size();
    if (!ctx.Step(static_cast<int64_t>(n))) return false;
    globals.reserve(n);
    for (size_t i = 0; i < n; ++i) globals.push_back(*LookupGlobal(ctx, static_cast<int>(i)));
  }
  std::string self(ctx.pending_self_name);
  ctx.pending_self_name = {};
  std::vector<std::pair<std::string, Value>> captured;
  if (!Capture(ctx, ctx.scope, &captured)) return false;
  *out = Value::Function(std::make_shared<Lambda>(*ctx.program, this, std::move(captured),
                                                  std::move(globals), std::move(self)));
  return true;
}

const BuiltinOverload* SelectOverload(const Builtin& b, size_t n) {
  for (const auto& o : b.overloads) {
    if (!o.variadic && o.params.size() == n) return &o;
  }
  for (const auto& o : b.overloads) {
    if (o.variadic && n >= o.params.size()) return &o;
  }
  return nullptr;
}

bool InvokeBuiltin(EvalContext& ctx, const BuiltinOverload& o, const Value* args, size_t n,
                   Value* out) {
  if (o.variadic) {
    // Pack the trailing arguments into a list. A single list argument to a function that has
    // only the variadic parameter is used as is: sum([1,2]) = sum(1,2); append([1], [2]) is not.
    size_t fixed = o.params.size() - 1;
    absl::InlinedVector<Value, 4> packed(args, args + fixed);
    if (fixed == 0 && n == 1 && args[0].is_list()) {
      packed.push_back(args[fixed]);
    } else {
      packed.push_back(Value::List(std::vector<Value>(args + fixed, args + n)));
    }
    if (!o.fn(ctx, packed.data(), packed.size(), out)) return false;
  } else {
    if (!o.fn(ctx, args, n, out)) return false;
    // DMN 1.5 §10.3.2.9.4 "from singleton list": a one-item list passed where the function
    // wants an item is converted to that item. The built-ins do not declare parameter types,
    // so a call that gave null is retried with singleton lists unwrapped.
    if (out->is_null()) {
      bool any = false;
      absl::InlinedVector<Value, 4> unwrapped(args, args + n);
      for (Value& a : unwrapped) {
        if (a.is_list() && a.list().size() == 1) {
          Value item = a.list().front();
          a = std::move(item);
          any = true;
        }
      }
      if (any && !o.fn(ctx, unwrapped.data(), n, out)) return false;
    }
    // "To singleton list": an item passed for a list parameter is converted to [item].
    if (out->is_null()) {
      bool any = false;
      absl::InlinedVector<Value, 4> wrapped(args, args + n);
      for (size_t i = 0; i < n && i < o.params.size(); ++i) {
        const std::string& p = o.params[i];
        if ((p == "list" || p == "entries") && !wrapped[i].is_null() && !wrapped[i].is_list()) {
          wrapped[i] = Value::List({wrapped[i]});
          any = true;
        }
      }
      if (any && !o.fn(ctx, wrapped.data(), n, out)) return false;
    }
  }
  return ChargeValue(ctx, *out);
}

namespace {

bool CallNative(EvalContext& ctx, const NativeFunction& f, const std::vector<Value>& args,
                Value* out) {
  if (!ctx.Step()) return false;
  // A native function may evaluate FEEL again under the same shared budget: hand it what is
  // left and take back what it did not use.
  SharedBudget* shared = ctx.options != nullptr ? ctx.options->shared_budget : nullptr;
  if (shared != nullptr) {
    shared->steps_left = ctx.steps_left;
    shared->bytes_left = ctx.bytes_left;
    shared->call_depth = ctx.call_depth;
  }
  absl::StatusOr<Value> r = f.Call(args);
  if (shared != nullptr) {
    ctx.steps_left = shared->steps_left;
    ctx.bytes_left = shared->bytes_left;
    if (ctx.steps_left < 0) return ctx.FailSteps();
    if (ctx.bytes_left < 0) return ctx.FailMemory();
  }
  if (!r.ok()) return ctx.Fail(r.status());
  *out = std::move(*r);
  return ChargeValue(ctx, *out);
}

}  // namespace

bool CallFunction(EvalContext& ctx, const Value& fn, std::vector<Value> args, Value* out) {
  if (!fn.is_function()) {
    *out = Value();
    return true;
  }
  std::shared_ptr<const FunctionValue> f = fn.function();
  if (const auto* native = dynamic_cast<const NativeFunction*>(f.get())) {
    if (args.size() != native->parameters().size()) {
      *out = Value();
      return true;
    }
    return CallNative(ctx, *native, args, out);
  }
  if (const auto* lambda = dynamic_cast<const Lambda*>(f.get())) {
    if (args.size() != lambda->parameters().size()) {
      *out = Value();
      return true;
    }
    return lambda->Invoke(ctx, args, out);
  }
  if (const auto* bv = dynamic_cast<const BuiltinValue*>(f.get())) {
    const BuiltinOverload* o = SelectOverload(*bv->builtin(), args.size());
    if (o == nullptr) {
      *out = Value();
      return true;
    }
    return InvokeBuiltin(ctx, *o, args.data(), args.size(), out);
  }
  *out = Value();
  return true;
}

bool CallNode::CallBuiltin(EvalContext& ctx, const Builtin& b, Value* out) const {
  absl::InlinedVector<Value, 4> values;
  const BuiltinOverload* o = nullptr;
  if (arg_names_.empty()) {
    o = SelectOverload(b, args_.size());
    if (o == nullptr) {
      ctx.Warn(absl::StrCat("No function found with name '", b.name, "' and ", args_.size(),
                            " parameters"));
      *out = Value();  // wrong arity: feel-scala reports "no function found" and yields null
      return true;
    }
    values.resize(args_.size());
    for (size_t i = 0; i < args_.size(); ++i) {
      if (!args_[i]->Eval(ctx, &values[i])) return false;
    }
    if (!InvokeBuiltin(ctx, *o, values.data(), values.size(), out)) return false;
    if (ctx.warnings != nullptr && out->is_null() && b.name != "get or else" &&
        std::none_of(values.begin(), values.end(), [](const Value& v) { return v.is_null(); })) {
      std::string args;
      for (const Value& v : values) {
        if (!args.empty()) args += ", ";
        args += v.DebugString(kMaxWarningValueBytes);
      }
      ctx.Warn(absl::StrCat("Function '", b.name, "' returned null for arguments (", args, ")"));
    }
    return true;
  }
  // Named arguments: the overload with the fewest parameters that has all the given names.
  for (const auto& cand : b.overloads) {
    bool all = true;
    for (const auto& n : arg_names_) {
      if (std::find(cand.params.begin(), cand.params.end(), n) == cand.params.end()) {
        all = false;
        break;
      }
    }
    if (all && (o == nullptr || cand.params.size() < o->params.size())) o = &cand;
  }
  if (o == nullptr) {
    *out = Value();
    return true;
  }
  values.resize(o->params.size());
  for (size_t i = 0; i < arg_names_.size(); ++i) {
    size_t pos = std::find(o->params.begin(), o->params.end(), arg_names_[i]) - o->params.begin();
    if (!args_[i]->Eval(ctx, &values[pos])) return false;
  }
  if (o->variadic) {
    // A named variadic argument is passed as the list itself (an item as a singleton list).
    Value& last = values.back();
    if (!last.is_null() && !last.is_list()) last = Value::List({last});
    if (!o->fn(ctx, values.data(), values.size(), out)) return false;
    return ChargeValue(ctx, *out);
  }
  return InvokeBuiltin(ctx, *o, values.data(), values.size(), out);
}

bool CallNode::CallValue(EvalContext& ctx, const Value& fn, Value* out) const {
  if (!fn.is_function()) {
    *out = Value();
    return true;
  }
  std::shared_ptr<const FunctionValue> f = fn.function();
  if (const auto* bv = dynamic_cast<const BuiltinValue*>(f.get())) {
    return CallBuiltin(ctx, *bv->builtin(), out);
  }
  const auto* lambda = dynamic_cast<const Lambda*>(f.get());
  const auto* native = dynamic_cast<const NativeFunction*>(f.get());
  if (lambda == nullptr && native == nullptr) {
    *out = Value();
    return true;
  }
  const auto& params = f->parameters();
  std::vector<Value> values(params.size());
  if (arg_names_.empty()) {
    if (args_.size() != params.size()) {
      *out = Value();
      return true;
    }
    for (size_t i = 0; i < args_.size(); ++i) {
      if (!args_[i]->Eval(ctx, &values[i])) return false;
    }
  } else {
    for (size_t i = 0; i < arg_names_.size(); ++i) {
      auto it = std::find(params.begin(), params.end(), arg_names_[i]);
      if (it == params.end()) {
        *out = Value();
        return true;
      }
      if (!args_[i]->Eval(ctx, &values[it - params.begin()])) return false;
    }
  }
  if (native != nullptr) return CallNative(ctx, *native, values, out);
  return lambda->Invoke(ctx, values, out);
}

bool PointRangeNode::Eval(EvalContext& ctx, Value* out) const {
  if (!ctx.Step()) return false;
  Value p;
  if (!point_->Eval(ctx, &p)) return false;
  if (p.is_null()) {
    *out = Value();
    return true;
  }
  RangeValue r;
  r.start = p;
  r.end = p;
  r.start_included = true;
  r.end_included = true;
  *out = Value::Range(std::move(r));
  return true;
}

bool ExternalFunctionNode::Eval(EvalContext& ctx, Value* out) const {
  if (!ctx.Step()) return false;
  Value description;
  if (!description_->Eval(ctx, &description)) return false;
  *out = Value();
  const Value* java = description.Find("java");
  if (java == nullptr) {
    ctx.Warn("Only Java external functions are supported");
    return true;
  }
  const Value* cls = java->Find("class");
  const Value* sig = java->Find("method signature");
  if (cls == nullptr || sig == nullptr || !cls->is_string() || !sig->is_string()) {
    ctx.Warn("A Java external function needs a 'class' and a 'method signature'");
    return true;
  }
  absl::StatusOr<Value> fn = MakeJavaFunction(cls->as_string(), sig->as_string(), params_);
  if (!fn.ok()) {
    ctx.Warn(std::string(fn.status().message()));
    return true;
  }
  *out = std::move(*fn);
  return true;
}

bool CallNode::IsConstant() const {
  if (builtin_ == nullptr || dynamic_ || callee_ != nullptr || !arg_names_.empty()) return false;
  static constexpr std::string_view kPure[] = {
      "date", "time", "date and time", "duration", "years and months duration", "number"};
  if (std::find(std::begin(kPure), std::end(kPure), builtin_->name) == std::end(kPure)) {
    return false;
  }
  for (const NodePtr& a : args_) {
    if (!a->IsConstant()) return false;
  }
  return true;
}

bool CallNode::Eval(EvalContext& ctx, Value* out) const {
  if (!ctx.Step()) return false;
  if (callee_) {
    Value fn;
    if (!callee_->Eval(ctx, &fn)) return false;
    return CallValue(ctx, fn, out);
  }
  if (dynamic_ && ctx.scope != nullptr) {
    if (const Value* v = ctx.scope->Lookup(name_)) {
      if (v->is_function()) {
        Value fn = *v;
        return CallValue(ctx, fn, out);
      }
    }
  }
  if (builtin_ != nullptr && slot_ >= 0) {
    // A host variable of the built-in's name (CompileOptions::known_names) shadows it when it
    // holds a function.
    const Value* v = LookupGlobal(ctx, slot_);
    if (v->is_function()) {
      Value fn = *v;
      return CallValue(ctx, fn, out);
    }
  }
  if (builtin_ != nullptr) return CallBuiltin(ctx, *builtin_, out);
  if (slot_ >= 0) {
    const Value* v = LookupGlobal(ctx, slot_);
    if (v->is_function()) {
      Value fn = *v;
      return CallValue(ctx, fn, out);
    }
  }
  ctx.Warn(
      absl::StrCat("No function found with name '", name_, "' and ", args_.size(), " parameters"));
  *out = Value();  // no such function: null, as feel-scala (which also logs a warning)
  return true;
}

// ---- Conversions ----

bool ToFeelStringWithin(const Value& v, size_t max_size, std::string* out) {
  switch (v.kind()) {
    case Kind::kList:
    case Kind::kContext:
    case Kind::kRange:
    case Kind::kFunction:
      return AppendDebugStringWithin(v, max_size, out);
    default:
      *out = ToFeelString(v);
      return out->size() <= max_size;
  }
}

std::string ToFeelString(const Value& v) {
  switch (v.kind()) {
    case Kind::kNull:
      return "null";
    case Kind::kString:
      return v.as_string();
    case Kind::kNumber:
      return v.as_number().ToString();
    case Kind::kBool:
      return v.as_bool() ? "true" : "false";
    case Kind::kDate:
      return FormatDate(v.as_date());
    case Kind::kTime:
      return FormatTime(v.as_time());
    case Kind::kDateTime:
      return FormatDateTime(v.as_date_time());
    case Kind::kDaysTimeDuration:
      return FormatDaysTimeDuration(v.as_days_time_duration());
    case Kind::kYearsMonthsDuration:
      return FormatYearsMonthsDuration(v.as_years_months_duration());
    default:
      return v.DebugString();
  }
}

namespace {

void AddTextSize(const Value& v, int64_t cap, int depth, int64_t* total) {
  if (*total > cap) return;
  if (depth > 4 * kMaxEvalDepth) {
    *total = cap + 1;  // deeper than evaluation can build: treat as too large
    return;
  }
  switch (v.kind()) {
    case Kind::kString:
      *total += static_cast<int64_t>(v.as_string().size()) + 2;
      return;
    case Kind::kList:
      *total += 2;
      for (const Value& item : v.list()) {
        // At least "0," per item, so a walk visits at most cap / 2 items.
        *total += 1;
        AddTextSize(item, cap, depth + 1, total);
        if (*total > cap) return;
      }
      return;
    case Kind::kContext:
      *total += 2;
      for (const auto& [k, item] : v.context().entries()) {
        *total += static_cast<int64_t>(k.size()) + 4;
        AddTextSize(item, cap, depth + 1, total);
        if (*total > cap) return;
      }
      return;
    case Kind::kRange:
      AddTextSize(v.range().start, cap, depth + 1, total);
      AddTextSize(v.range().end, cap, depth + 1, total);
      *total += 4;
      return;
    case Kind::kNumber:
    case Kind::kNull:
    case Kind::kBool:
      *total += 1;
      return;
    default:
      *total += 10;  // temporal values, function values
      return;
  }
}

}  // namespace

int64_t TextSizeWithin(const Value& v, int64_t cap) {
  int64_t total = 0;
  AddTextSize(v, cap, 0, &total);
  return total;
}

bool IsInstanceOf(const Value& v, std::string_view type) {
  if (type == "Any" || type == "any") return !v.is_null();
  if (type == "Null" || type == "null") return v.is_null();
  if (type == "date time") type = "date and time";
  if (type == "year-month-duration") type = "years and months duration";
  if (type == "day-time-duration") type = "days and time duration";
  if (type.substr(0, 5) == "list<" && type.back() == '>') {
    if (!v.is_list()) return false;
    std::string_view inner = type.substr(5, type.size() - 6);
    for (const Value& item : v.list()) {
      if (!item.is_null() && !IsInstanceOf(item, inner)) return false;
    }
    return true;
  }
  if (type.substr(0, 6) == "range<" && type.back() == '>') {
    if (!v.is_range()) return false;
    std::string_view inner = type.substr(6, type.size() - 7);
    const RangeValue& r = v.range();
    return (r.start.is_null() || IsInstanceOf(r.start, inner)) &&
           (r.end.is_null() || IsInstanceOf(r.end, inner));
  }
  if (type.substr(0, 8) == "context<" && type.back() == '>') {
    if (!v.is_context()) return false;
    // context<a: number, b: string>: each named entry must exist with that type.
    std::string_view inner = type.substr(8, type.size() - 9);
    int level = 0;
    size_t start = 0;
    for (size_t i = 0; i <= inner.size(); ++i) {
      if (i < inner.size() && inner[i] == '<') ++level;
      if (i < inner.size() && inner[i] == '>') --level;
      if (i == inner.size() || (inner[i] == ',' && level == 0)) {
        std::string_view part = inner.substr(start, i - start);
        size_t colon = part.find(':');
        if (colon == std::string_view::npos) return false;
        std::string_view key = part.substr(0, colon);
        std::string_view t = part.substr(colon + 1);
        while (!key.empty() && key.front() == ' ') key.remove_prefix(1);
        while (!key.empty() && key.back() == ' ') key.remove_suffix(1);
        while (!t.empty() && t.front() == ' ') t.remove_prefix(1);
        const Value* e = v.Find(key);
        if (e == nullptr || (!e->is_null() && !IsInstanceOf(*e, t))) return false;
        start = i + 1;
      }
    }
    return true;
  }
  if (type.substr(0, 9) == "function<") return v.is_function();
  return !v.is_null() && KindName(v.kind()) == type;
}

}  // namespace tern::feel::internal
