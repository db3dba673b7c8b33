#include "feel/types.h"

#include "absl/status/status.h"
#include "base/strings.h"

namespace tern::feel {
namespace {

using K = Type::Kind;

TypePtr MakeBuiltin(K kind, std::string name) {
  auto t = std::make_shared<Type>();
  t->kind = kind;
  t->name = std::move(name);
  return t;
}

struct Builtins {
  TypePtr any = MakeBuiltin(K::kAny, "Any");
  TypePtr null = MakeBuiltin(K::kNull, "Null");
  TypePtr number = MakeBuiltin(K::kNumber, "number");
  TypePtr string = MakeBuiltin(K::kString, "string");
  TypePtr boolean = MakeBuiltin(K::kBoolean, "boolean");
  TypePtr date = MakeBuiltin(K::kDate, "date");
  TypePtr time = MakeBuiltin(K::kTime, "time");
  TypePtr date_time = MakeBuiltin(K::kDateTime, "date and time");
  TypePtr dt_duration = MakeBuiltin(K::kDaysTimeDuration, "days and time duration");
  TypePtr ym_duration = MakeBuiltin(K::kYearsMonthsDuration, "years and months duration");
  TypePtr list = MakeBuiltin(K::kList, "list");
  TypePtr range = MakeBuiltin(K::kRange, "range");
  TypePtr context = MakeBuiltin(K::kContext, "context");
  TypePtr function = MakeBuiltin(K::kFunction, "function");
};

const Builtins& B() {
  static const Builtins* builtins = new Builtins();
  return *builtins;
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() &&
         (s.front() == ' ' || s.front() == '\t' || s.front() == '\n' || s.front() == '\r')) {
    s.remove_prefix(1);
  }
  while (!s.empty() &&
         (s.back() == ' ' || s.back() == '\t' || s.back() == '\n' || s.back() == '\r')) {
    s.remove_suffix(1);
  }
  return s;
}

// Collapses runs of whitespace to one space ("date  and time" -> "date and time").
std::string CollapseSpaces(std::string_view s) {
  std::string out;
  bool space = false;
  for (char c : Trim(s)) {
    if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
      space = true;
      continue;
    }
    if (space) out.push_back(' ');
    space = false;
    out.push_back(c);
  }
  return out;
}

// Recursive-descent parser over type syntax. Nesting is bounded by the text length, which the
// callers bound (FEEL sources and XML attributes), and by kMaxDepth.
class TypeParser {
 public:
  TypeParser(std::string_view text, const TypeResolver& resolver)
      : text_(text), resolver_(resolver) {}

  absl::StatusOr<TypePtr> Parse() {
    TypePtr t = ParseType(0);
    if (!error_.empty()) return absl::InvalidArgumentError(error_);
    SkipSpaces();
    if (pos_ != text_.size()) {
      return absl::InvalidArgumentError(
          StrCat("unexpected '", text_.substr(pos_), "' in type '", text_, "'"));
    }
    return t;
  }

 private:
  static constexpr int kMaxDepth = 64;

  void SkipSpaces() {
    while (pos_ < text_.size() && (text_[pos_] == ' ' || text_[pos_] == '\t' ||
                                   text_[pos_] == '\n' || text_[pos_] == '\r')) {
      ++pos_;
    }
  }
  bool Accept(std::string_view s) {
    SkipSpaces();
    if (text_.substr(pos_).starts_with(s)) {
      pos_ += s.size();
      return true;
    }
    return false;
  }
  TypePtr Fail(std::string message) {
    if (error_.empty()) error_ = std::move(message);
    return B().any;
  }

  // The name part: everything up to '<', ',', '>', '-' followed by '>', or the end.
  std::string_view ReadName() {
    SkipSpaces();
    size_t start = pos_;
    while (pos_ < text_.size()) {
      char c = text_[pos_];
      if (c == '<' || c == ',' || c == '>' || c == ':') break;
      if (c == '-' && pos_ + 1 < text_.size() && text_[pos_ + 1] == '>') break;
      ++pos_;
    }
    return Trim(text_.substr(start, pos_ - start));
  }

  TypePtr ParseType(int depth) {
    if (depth > kMaxDepth) return Fail("type nested too deeply");
    std::string_view name = ReadName();
    if (name.empty()) return Fail(StrCat("expected a type name in '", text_, "'"));
    SkipSpaces();
    const bool generic = pos_ < text_.size() && text_[pos_] == '<';
    if (!generic) {
      std::string collapsed = CollapseSpaces(name);
      if (TypePtr b = BuiltinType(collapsed)) return b;
      if (resolver_) {
        if (TypePtr r = resolver_(name)) return r;
        if (collapsed != name) {
          if (TypePtr r = resolver_(collapsed)) return r;
        }
      }
      return Fail(StrCat("unknown type '", name, "'"));
    }
    ++pos_;  // '<'
    auto t = std::make_shared<Type>();
    if (name == "list" || name == "range") {
      t->kind = name == "list" ? K::kList : K::kRange;
      t->element = ParseType(depth + 1);
      if (!Accept(">")) return Fail(StrCat("expected '>' in type '", text_, "'"));
      t->name = StrCat(name, "<", t->element->name, ">");
      return t;
    }
    if (name == "context") {
      t->kind = K::kContext;
      t->name = "context<";
      if (!Accept(">")) {
        do {
          SkipSpaces();
          std::string key;
          if (pos_ < text_.size() && text_[pos_] == '"') {
            size_t end = text_.find('"', pos_ + 1);
            if (end == std::string_view::npos) return Fail("unterminated context key");
            key = std::string(text_.substr(pos_ + 1, end - pos_ - 1));
            pos_ = end + 1;
          } else {
            key = std::string(ReadName());
          }
          if (key.empty() || !Accept(":")) {
            return Fail(StrCat("expected 'name: type' in type '", text_, "'"));
          }
          TypePtr field = ParseType(depth + 1);
          if (t->fields.size() > 0) t->name += ", ";
          StrAppend(&t->name, key, ": ", field->name);
          t->fields.emplace_back(std::move(key), std::move(field));
        } while (Accept(","));
        if (!Accept(">")) return Fail(StrCat("expected '>' in type '", text_, "'"));
      }
      t->name += ">";
      return t;
    }
    if (name == "function") {
      t->kind = K::kFunction;
      t->parameters_known = true;
      t->name = "function<";
      if (!Accept(">")) {
        do {
          TypePtr p = ParseType(depth + 1);
          if (!t->parameters.empty()) t->name += ", ";
          t->name += p->name;
          t->parameters.push_back(std::move(p));
        } while (Accept(","));
        if (!Accept(">")) return Fail(StrCat("expected '>' in type '", text_, "'"));
      }
      t->name += ">";
      if (!Accept("->")) return Fail(StrCat("expected '->' in function type '", text_, "'"));
      t->result = ParseType(depth + 1);
      StrAppend(&t->name, "->", t->result->name);
      return t;
    }
    return Fail(StrCat("unknown generic type '", name, "'"));
  }

  std::string_view text_;
  const TypeResolver& resolver_;
  size_t pos_ = 0;
  std::string error_;
};

bool KindMatches(const Value& v, K kind) {
  switch (kind) {
    case K::kAny:
      return !v.is_null();
    case K::kNull:
      return v.is_null();
    case K::kNumber:
      return v.is_number();
    case K::kString:
      return v.is_string();
    case K::kBoolean:
      return v.is_bool();
    case K::kDate:
      return v.is_date();
    case K::kTime:
      return v.is_time();
    case K::kDateTime:
      return v.is_date_time();
    case K::kDaysTimeDuration:
      return v.is_days_time_duration();
    case K::kYearsMonthsDuration:
      return v.is_years_months_duration();
    case K::kList:
      return v.is_list();
    case K::kRange:
      return v.is_range();
    case K::kContext:
      return v.is_context();
    case K::kFunction:
      return v.is_function();
  }
  return false;
}

bool Check(const Value& v, const Type& t, bool with_constraints);

bool CheckFunction(const FunctionValue& f, const Type& t) {
  if (t.parameters_known) {
    if (f.parameters().size() != t.parameters.size()) return false;
    if (const std::vector<TypePtr>* declared = f.parameter_types()) {
      for (size_t i = 0; i < t.parameters.size() && i < declared->size(); ++i) {
        // Contravariant: every argument the type promises must be acceptable to the function.
        if (!IsSubtype(t.parameters[i], (*declared)[i])) return false;
      }
    }
  }
  if (t.result != nullptr && t.result->kind != K::kAny) {
    TypePtr r = f.result_type();
    if (r != nullptr && !IsSubtype(r, t.result)) return false;
  }
  return true;
}

bool Check(const Value& v, const Type& t, bool with_constraints) {
  if (!KindMatches(v, t.kind)) return false;
  switch (t.kind) {
    case K::kList:
      if (t.element != nullptr && t.element->kind != K::kAny) {
        for (const Value& item : v.list()) {
          if (item.is_null()) continue;
          if (!Check(item, *t.element, with_constraints)) return false;
        }
      } else if (t.element != nullptr && with_constraints && !t.element->constraints.empty()) {
        for (const Value& item : v.list()) {
          if (!Check(item, *t.element, with_constraints)) return false;
        }
      }
      break;
    case K::kRange:
      if (t.element != nullptr && t.element->kind != K::kAny) {
        const RangeValue& r = v.range();
        if (!r.start.is_null() && !Check(r.start, *t.element, with_constraints)) return false;
        if (!r.end.is_null() && !Check(r.end, *t.element, with_constraints)) return false;
      }
      break;
    case K::kContext:
      for (const auto& [key, field] : t.fields) {
        const Value* e = v.Find(key);
        if (e == nullptr) return false;
        if (e->is_null() || field == nullptr) continue;
        if (!Check(*e, *field, with_constraints)) return false;
      }
      break;
    case K::kFunction:
      if (!CheckFunction(*v.function(), t)) return false;
      break;
    default:
      break;
  }
  if (with_constraints) {
    for (const auto& c : t.constraints) {
      if (!c(v)) return false;
    }
  }
  return true;
}

}  // namespace

TypePtr AnyType() { return B().any; }

TypePtr BuiltinType(std::string_view name) {
  const Builtins& b = B();
  if (name == "Any" || name == "any") return b.any;
  if (name == "Null" || name == "null") return b.null;
  if (name == "number" || name == "decimal" || name == "integer" || name == "int" ||
      name == "long" || name == "double" || name == "float") {
    return b.number;
  }
  if (name == "string") return b.string;
  if (name == "boolean") return b.boolean;
  if (name == "date") return b.date;
  if (name == "time") return b.time;
  if (name == "date and time" || name == "dateTime" || name == "date time") return b.date_time;
  if (name == "days and time duration" || name == "dayTimeDuration" ||
      name == "day-time-duration") {
    return b.dt_duration;
  }
  if (name == "years and months duration" || name == "yearMonthDuration" ||
      name == "year-month-duration") {
    return b.ym_duration;
  }
  if (name == "list") return b.list;
  if (name == "range") return b.range;
  if (name == "context") return b.context;
  if (name == "function") return b.function;
  return nullptr;
}

absl::StatusOr<TypePtr> ParseType(std::string_view text, const TypeResolver& resolver) {
  return TypeParser(text, resolver).Parse();
}

bool IsInstance(const Value& value, const Type& type) {
  if (value.is_null()) return type.kind == K::kNull;
  return Check(value, type, /*with_constraints=*/false);
}

bool Conforms(const Value& value, const Type& type) {
  if (value.is_null()) return true;
  return Check(value, type, /*with_constraints=*/true);
}

bool IsSubtype(const TypePtr& sub, const TypePtr& super) {
  if (super == nullptr || super->kind == K::kAny) return true;
  if (sub == nullptr || sub->kind == K::kAny) return false;
  if (sub.get() == super.get()) return true;
  if (sub->kind == K::kNull) return true;
  if (sub->kind != super->kind) return false;
  switch (super->kind) {
    case K::kList:
    case K::kRange:
      return IsSubtype(sub->element, super->element);
    case K::kContext:
      for (const auto& [key, field] : super->fields) {
        bool found = false;
        for (const auto& [sk, sf] : sub->fields) {
          if (sk == key) {
            if (!IsSubtype(sf, field)) return false;
            found = true;
            break;
          }
        }
        if (!found) return false;
      }
      return true;
    case K::kFunction:
      if (super->parameters_known) {
        if (!sub->parameters_known) return true;
        if (sub->parameters.size() != super->parameters.size()) return false;
        for (size_t i = 0; i < sub->parameters.size(); ++i) {
          if (!IsSubtype(super->parameters[i], sub->parameters[i])) return false;
        }
      }
      return sub->result == nullptr || IsSubtype(sub->result, super->result);
    default:
      return true;
  }
}

std::optional<Value> CoerceToType(const Value& value, const Type& type) {
  if (value.is_null() || Conforms(value, type)) return value;
  // From singleton list.
  if (value.is_list() && value.list().size() == 1 && type.kind != K::kList) {
    const Value& item = value.list().front();
    if (Conforms(item, type)) return item;
  }
  // To singleton list.
  if (type.kind == K::kList && !value.is_list()) {
    Value wrapped = Value::List({value});
    if (Conforms(wrapped, type)) return wrapped;
  }
  // From date to date and time (UTC midnight).
  if (type.kind == K::kDateTime && value.is_date()) {
    DateTime dt;
    dt.days = value.as_date().days;
    dt.nanos = 0;
    dt.zone_kind = ZoneKind::kOffset;
    dt.offset_seconds = 0;
    Value converted = Value::DateTime(dt);
    if (Conforms(converted, type)) return converted;
  }
  return std::nullopt;
}

TypePtr TypeOfValue(const Value& value) {
  const Builtins& b = B();
  switch (value.kind()) {
    case Kind::kNull:
      return b.null;
    case Kind::kBool:
      return b.boolean;
    case Kind::kNumber:
      return b.number;
    case Kind::kString:
      return b.string;
    case Kind::kDate:
      return b.date;
    case Kind::kTime:
      return b.time;
    case Kind::kDateTime:
      return b.date_time;
    case Kind::kDaysTimeDuration:
      return b.dt_duration;
    case Kind::kYearsMonthsDuration:
      return b.ym_duration;
    case Kind::kList:
      return b.list;
    case Kind::kRange:
      return b.range;
    case Kind::kContext: {
      auto t = std::make_shared<Type>();
      t->kind = K::kContext;
      t->name = "context";
      for (const auto& [k, v] : value.context().entries()) {
        t->fields.emplace_back(k, TypeOfValue(v));
      }
      return t;
    }
    case Kind::kFunction:
      return b.function;
  }
  return b.any;
}

}  // namespace tern::feel
