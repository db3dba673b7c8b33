#pragma once

// FEEL types (DMN 1.5 §10.3.2.9): the built-in types, list<T>, range<T>, context<k: T, ...>,
// function<T, ...> -> R, and named types that DMN item definitions add (with allowed values).
// Used by `instance of`, by typed function parameters, and by DMN to check and convert values
// against type references. A Type is immutable once built and shared between threads.

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "feel/value.h"

namespace tern::feel {

struct Type;
using TypePtr = std::shared_ptr<const Type>;

struct Type {
  enum class Kind : uint8_t {
    kAny,
    kNull,
    kNumber,
    kString,
    kBoolean,
    kDate,
    kTime,
    kDateTime,
    kDaysTimeDuration,
    kYearsMonthsDuration,
    kList,
    kRange,
    kContext,
    kFunction,
  };

  Kind kind = Kind::kAny;
  // How the type is referred to in messages: "number", "tPerson", "list<number>".
  std::string name;
  // kList and kRange: the item type (nullptr means Any).
  TypePtr element;
  // kContext: the entries a conforming context must have, each with a conforming value (or
  // null). Further entries are allowed. No fields: any context.
  std::vector<std::pair<std::string, TypePtr>> fields;
  // kFunction: parameter types (nullptr entries mean Any) when `parameters_known`, and the
  // result type (nullptr means Any).
  std::vector<TypePtr> parameters;
  bool parameters_known = false;
  TypePtr result;
  // DMN allowed values / type constraints: tests a value of this type must also pass. Not part
  // of `instance of`, which checks the base type only (DMN 1.5 §10.3.2.9).
  std::vector<std::function<bool(const Value&)>> constraints;
};

// The built-in type of a FEEL type name ("number", "date and time", "Any", "context", ...) and
// the DMN 1.1/XML Schema spellings that models still use ("dateTime", "dayTimeDuration",
// "decimal", "integer", ...); nullptr when `name` is not built in.
TypePtr BuiltinType(std::string_view name);
TypePtr AnyType();

// Resolves names that are not built in (DMN item definitions); nullptr when unknown.
using TypeResolver = std::function<TypePtr(std::string_view name)>;

// Parses FEEL type syntax: a name, list<T>, range<T>, context<k: T, ...>,
// function<T, ...> -> R. INVALID_ARGUMENT for syntax errors and unknown names.
absl::StatusOr<TypePtr> ParseType(std::string_view text, const TypeResolver& resolver);

// `instance of`: the value's kind and structure match the type. null is an instance of Null
// only. Constraints are not checked.
bool IsInstance(const Value& value, const Type& type);

// Whether a value conforms to a type for DMN type checks: null conforms to every type;
// otherwise the value is an instance and satisfies every constraint (nested ones too).
bool Conforms(const Value& value, const Type& type);

// Whether every value of `sub` is a value of `super` (used for function types: parameters are
// contravariant, results covariant). Unknown (nullptr) types are Any.
bool IsSubtype(const TypePtr& sub, const TypePtr& super);

// DMN 1.5 §10.3.2.9.4: the value as the target type, after the implicit conversions (singleton
// list to its item, item to singleton list, date to date and time at UTC midnight); nullopt when
// it does not conform even after conversion. null stays null.
std::optional<Value> CoerceToType(const Value& value, const Type& type);

// FEEL type of a value as a Type (list<Any> for lists, context<k: T...> for contexts, ...).
TypePtr TypeOfValue(const Value& value);

}  // namespace tern::feel
