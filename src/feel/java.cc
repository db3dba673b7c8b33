// Java-backed FEEL functions (`function(x) external {java: {...}}`, DMN Java function
// definitions) for the java.lang methods decision models use. There is no JVM: each supported
// method is implemented here with Java's semantics for the declared parameter types (arguments
// are converted as Java would, e.g. double arithmetic for `double` parameters).

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <limits>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "feel/eval.h"
#include "feel/feel.h"

namespace tern::feel {
namespace {

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t' || s.front() == '\n')) {
    s.remove_prefix(1);
  }
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\n')) {
    s.remove_suffix(1);
  }
  return s;
}

enum class JType : uint8_t {
  kDouble,
  kFloat,
  kInt,
  kLong,
  kShort,
  kByte,
  kChar,
  kBoolean,
  kString,
  kObject,
  kObjectArray
};

std::optional<JType> ParseJType(std::string_view t) {
  t = Trim(t);
  if (t == "double" || t == "java.lang.Double") return JType::kDouble;
  if (t == "float" || t == "java.lang.Float") return JType::kFloat;
  if (t == "int" || t == "java.lang.Integer") return JType::kInt;
  if (t == "long" || t == "java.lang.Long") return JType::kLong;
  if (t == "short" || t == "java.lang.Short") return JType::kShort;
  if (t == "byte" || t == "java.lang.Byte") return JType::kByte;
  if (t == "char" || t == "java.lang.Character") return JType::kChar;
  if (t == "boolean" || t == "java.lang.Boolean") return JType::kBoolean;
  if (t == "java.lang.String" || t == "String") return JType::kString;
  if (t == "java.lang.Object" || t == "Object") return JType::kObject;
  if (t == "[Ljava.lang.Object;" || t == "java.lang.Object[]" || t == "java.lang.Object...") {
    return JType::kObjectArray;
  }
  return std::nullopt;
}

bool IsIntegral(JType t) {
  return t == JType::kInt || t == JType::kLong || t == JType::kShort || t == JType::kByte;
}

// Java conversion of a FEEL argument to a numeric parameter; nullopt when Java would reject it.
std::optional<double> AsDouble(const Value& v, JType t) {
  if (!v.is_number()) return std::nullopt;
  if (IsIntegral(t)) {
    std::optional<int64_t> i = v.as_number().ToInt64();
    if (!i) return std::nullopt;
    switch (t) {
      case JType::kInt:
        if (*i < std::numeric_limits<int32_t>::min() || *i > std::numeric_limits<int32_t>::max())
          return std::nullopt;
        break;
      case JType::kShort:
        if (*i < -32768 || *i > 32767) return std::nullopt;
        break;
      case JType::kByte:
        if (*i < -128 || *i > 127) return std::nullopt;
        break;
      default:
        break;
    }
    return static_cast<double>(*i);
  }
  double d = v.as_number().ToDouble();
  if (t == JType::kFloat) d = static_cast<double>(static_cast<float>(d));
  return d;
}

// A Java numeric result as a FEEL number: integral types exactly, floating point through the
// shortest decimal that round-trips (as Java's Double.toString / Float.toString print it).
Value FromJava(double d, JType t) {
  if (std::isnan(d) || std::isinf(d)) return Value();
  if (IsIntegral(t)) return Value::Number(static_cast<int64_t>(d));
  if (t == JType::kFloat) {
    // Shortest decimal for the float value.
    float f = static_cast<float>(d);
    for (int digits = 1; digits <= 9; ++digits) {
      char buffer[64];
      std::snprintf(buffer, sizeof(buffer), "%.*g", digits, static_cast<double>(f));
      if (static_cast<float>(std::strtod(buffer, nullptr)) == f) {
        std::optional<Decimal> dec = Decimal::Parse(buffer);
        if (dec) return Value::Number(*dec);
      }
    }
  }
  return Value::FromDouble(d);
}

using Impl = std::function<absl::StatusOr<Value>(const std::vector<Value>&)>;

struct Method {
  std::string class_name;
  std::string name;
  std::vector<JType> params;
};

std::optional<Impl> MathMethod(const Method& m) {
  const auto& p = m.params;
  auto numeric = [&](size_t n) {
    if (p.size() != n) return false;
    for (JType t : p) {
      if (!(t == JType::kDouble || t == JType::kFloat || IsIntegral(t))) return false;
    }
    return true;
  };
  using Fn1 = double (*)(double);
  static const std::pair<std::string_view, Fn1> kUnary[] = {
      {"sin", [](double x) { return std::sin(x); }},
      {"cos", [](double x) { return std::cos(x); }},
      {"tan", [](double x) { return std::tan(x); }},
      {"asin", [](double x) { return std::asin(x); }},
      {"acos", [](double x) { return std::acos(x); }},
      {"atan", [](double x) { return std::atan(x); }},
      {"sinh", [](double x) { return std::sinh(x); }},
      {"cosh", [](double x) { return std::cosh(x); }},
      {"tanh", [](double x) { return std::tanh(x); }},
      {"sqrt", [](double x) { return std::sqrt(x); }},
      {"cbrt", [](double x) { return std::cbrt(x); }},
      {"exp", [](double x) { return std::exp(x); }},
      {"log", [](double x) { return std::log(x); }},
      {"log10", [](double x) { return std::log10(x); }},
      {"floor", [](double x) { return std::floor(x); }},
      {"ceil", [](double x) { return std::ceil(x); }},
      {"rint", [](double x) { return std::nearbyint(x); }},
      {"toDegrees", [](double x) { return x * 180.0 / M_PI; }},
      {"toRadians", [](double x) { return x / 180.0 * M_PI; }},
  };
  if (numeric(1)) {
    for (const auto& [name, fn] : kUnary) {
      if (m.name == name && p[0] == JType::kDouble) {
        Fn1 f = fn;
        return Impl([f](const std::vector<Value>& a) -> absl::StatusOr<Value> {
          std::optional<double> x = AsDouble(a[0], JType::kDouble);
          if (!x) return Value();
          return FromJava(f(*x), JType::kDouble);
        });
      }
    }
    if (m.name == "abs" || m.name == "signum" || m.name == "round") {
      JType t = p[0];
      std::string name = m.name;
      if (name == "signum" && IsIntegral(t)) return std::nullopt;
      if (name == "round" && IsIntegral(t)) return std::nullopt;
      return Impl([t, name](const std::vector<Value>& a) -> absl::StatusOr<Value> {
        std::optional<double> x = AsDouble(a[0], t);
        if (!x) return Value();
        if (name == "abs") return FromJava(std::fabs(*x), t);
        if (name == "signum") return FromJava(*x > 0 ? 1.0 : (*x < 0 ? -1.0 : 0.0), t);
        return FromJava(std::floor(*x + 0.5), t == JType::kFloat ? JType::kInt : JType::kLong);
      });
    }
  }
  if (numeric(2) && p[0] == p[1]) {
    JType t = p[0];
    std::string name = m.name;
    if (name == "max" || name == "min") {
      return Impl([t, name](const std::vector<Value>& a) -> absl::StatusOr<Value> {
        std::optional<double> x = AsDouble(a[0], t), y = AsDouble(a[1], t);
        if (!x || !y) return Value();
        return FromJava(name == "max" ? std::max(*x, *y) : std::min(*x, *y), t);
      });
    }
    if (t == JType::kDouble && (name == "pow" || name == "atan2" || name == "hypot")) {
      return Impl([name](const std::vector<Value>& a) -> absl::StatusOr<Value> {
        std::optional<double> x = AsDouble(a[0], JType::kDouble);
        std::optional<double> y = AsDouble(a[1], JType::kDouble);
        if (!x || !y) return Value();
        double r = name == "pow"     ? std::pow(*x, *y)
                   : name == "atan2" ? std::atan2(*x, *y)
                                     : std::hypot(*x, *y);
        return FromJava(r, JType::kDouble);
      });
    }
  }
  return std::nullopt;
}

// Integer.valueOf(String), Double.parseDouble(String), Short.valueOf(short), ...
std::optional<Impl> BoxedMethod(const Method& m, JType boxed) {
  if (m.params.size() != 1) return std::nullopt;
  const bool parse = m.name == "valueOf" || m.name == "parseInt" || m.name == "parseLong" ||
                     m.name == "parseDouble" || m.name == "parseFloat" || m.name == "parseShort" ||
                     m.name == "parseByte";
  if (!parse) return std::nullopt;
  JType arg = m.params[0];
  if (arg == JType::kString) {
    return Impl([boxed](const std::vector<Value>& a) -> absl::StatusOr<Value> {
      if (!a[0].is_string()) return Value();
      std::string_view s = Trim(a[0].as_string());
      std::optional<Decimal> d = Decimal::Parse(s);
      if (!d) return Value();
      if (IsIntegral(boxed)) {
        if (s.find_first_of(".eE") != std::string_view::npos) return Value();
        return AsDouble(Value::Number(*d), boxed) ? Value::Number(*d) : Value();
      }
      return FromJava(d->ToDouble(), boxed);
    });
  }
  if (arg == boxed) {
    return Impl([boxed](const std::vector<Value>& a) -> absl::StatusOr<Value> {
      std::optional<double> x = AsDouble(a[0], boxed);
      if (!x) return Value();
      return FromJava(*x, boxed);
    });
  }
  return std::nullopt;
}

// Java functions run without the evaluation's context; the strings they build are held to the
// default collection limit (and the result is charged to the budget once it exists).
constexpr size_t kMaxJavaStringBytes = 1'000'000;

absl::Status JavaStringTooLong() {
  return absl::ResourceExhaustedError(
      absl::StrCat("FEEL Java function would create a string longer than ", kMaxJavaStringBytes,
                   " bytes (FEEL collection size limit)"));
}

// String.format's %s / %d / %f subset with Java's argument order. nullopt: not a valid format
// for the arguments; *too_long: the result would be longer than kMaxJavaStringBytes.
std::optional<std::string> JavaFormat(std::string_view format, const std::vector<Value>& args,
                                      bool* too_long) {
  std::string out;
  size_t next = 0;
  for (size_t i = 0; i < format.size(); ++i) {
    if (out.size() > kMaxJavaStringBytes) {
      *too_long = true;
      return std::nullopt;
    }
    char c = format[i];
    if (c != '%') {
      out.push_back(c);
      continue;
    }
    if (++i >= format.size()) return std::nullopt;
    char spec = format[i];
    if (spec == '%') {
      out.push_back('%');
      continue;
    }
    if (spec == 'n') {
      out.push_back('\n');
      continue;
    }
    if (next >= args.size()) return std::nullopt;
    const Value& v = args[next++];
    if (spec == 's') {
      std::string text = "null";
      if (!v.is_null() && !internal::ToFeelStringWithin(v, kMaxJavaStringBytes, &text)) {
        *too_long = true;
        return std::nullopt;
      }
      out += text;
    } else if (spec == 'd') {
      if (!v.is_number() || !v.as_number().IsIntegral()) return std::nullopt;
      out += v.as_number().ToString();
    } else {
      return std::nullopt;
    }
  }
  if (out.size() > kMaxJavaStringBytes) {
    *too_long = true;
    return std::nullopt;
  }
  return out;
}

std::optional<Impl> StringMethod(const Method& m) {
  if (m.name == "valueOf" && m.params.size() == 1) {
    JType t = m.params[0];
    return Impl([t](const std::vector<Value>& a) -> absl::StatusOr<Value> {
      const Value& v = a[0];
      switch (t) {
        case JType::kChar: {
          if (!v.is_string()) return Value();
          const std::string& s = v.as_string();
          // Exactly one character (one UTF-16 unit: a code point below U+10000).
          size_t len = 0;
          for (unsigned char c : s) len += (c & 0xC0) != 0x80;
          if (len != 1 || static_cast<unsigned char>(s[0]) >= 0xF0) return Value();
          return v;
        }
        case JType::kBoolean:
          return v.is_bool() ? Value::String(v.as_bool() ? "true" : "false") : Value();
        case JType::kObject: {
          if (v.is_null()) return Value::String("null");
          std::string text;
          if (!internal::ToFeelStringWithin(v, kMaxJavaStringBytes, &text)) {
            return JavaStringTooLong();
          }
          return Value::String(std::move(text));
        }
        case JType::kString:
          return v.is_string() ? v : Value();
        default: {
          std::optional<double> d = AsDouble(v, t);
          if (!d) return Value();
          if (IsIntegral(t)) return Value::String(v.as_number().ToString());
          return Value::String(v.as_number().ToString());
        }
      }
    });
  }
  if (m.name == "format" && m.params.size() == 2 && m.params[0] == JType::kString &&
      m.params[1] == JType::kObjectArray) {
    return Impl([](const std::vector<Value>& a) -> absl::StatusOr<Value> {
      if (!a[0].is_string()) return Value();
      std::vector<Value> rest;
      if (a[1].is_list()) {
        rest = a[1].list();
      } else {
        rest.push_back(a[1]);
      }
      bool too_long = false;
      std::optional<std::string> s = JavaFormat(a[0].as_string(), rest, &too_long);
      if (too_long) return JavaStringTooLong();
      return s ? Value::String(std::move(*s)) : Value();
    });
  }
  return std::nullopt;
}

}  // namespace

absl::StatusOr<Value> MakeJavaFunction(std::string_view class_name,
                                       std::string_view method_signature,
                                       std::vector<std::string> parameter_names) {
  Method m;
  m.class_name = std::string(Trim(class_name));
  std::string_view sig = Trim(method_signature);
  size_t open = sig.find('(');
  if (open == std::string_view::npos || sig.back() != ')') {
    return absl::InvalidArgumentError(
        absl::StrCat("invalid Java method signature '", internal::AV(sig), "'"));
  }
  m.name = std::string(Trim(sig.substr(0, open)));
  std::string_view params = Trim(sig.substr(open + 1, sig.size() - open - 2));
  while (!params.empty()) {
    size_t comma = params.find(',');
    std::string_view p = params.substr(0, comma);
    std::optional<JType> t = ParseJType(p);
    if (!t) {
      return absl::NotFoundError(
          absl::StrCat("Java parameter type '", internal::AV(Trim(p)), "' is not supported"));
    }
    m.params.push_back(*t);
    if (comma == std::string_view::npos) break;
    params.remove_prefix(comma + 1);
  }
  std::optional<Impl> impl;
  if (m.class_name == "java.lang.Math" || m.class_name == "java.lang.StrictMath") {
    impl = MathMethod(m);
  } else if (m.class_name == "java.lang.Integer") {
    impl = BoxedMethod(m, JType::kInt);
  } else if (m.class_name == "java.lang.Long") {
    impl = BoxedMethod(m, JType::kLong);
  } else if (m.class_name == "java.lang.Short") {
    impl = BoxedMethod(m, JType::kShort);
  } else if (m.class_name == "java.lang.Byte") {
    impl = BoxedMethod(m, JType::kByte);
  } else if (m.class_name == "java.lang.Double") {
    impl = BoxedMethod(m, JType::kDouble);
  } else if (m.class_name == "java.lang.Float") {
    impl = BoxedMethod(m, JType::kFloat);
  } else if (m.class_name == "java.lang.String") {
    impl = StringMethod(m);
  }
  if (!impl) {
    return absl::NotFoundError(absl::StrCat("Java method ", m.class_name, ".",
                                            internal::AV(method_signature),
                                            " is not available (Tern provides a subset of "
                                            "java.lang natively)"));
  }
  if (parameter_names.size() != m.params.size()) {
    return absl::InvalidArgumentError(absl::StrCat("the function has ", parameter_names.size(),
                                                   " parameters but the Java method ", m.name,
                                                   " has ", m.params.size()));
  }
  Impl body = std::move(*impl);
  return Value::Function(std::make_shared<NativeFunction>(
      absl::StrCat(m.class_name, ".", m.name), std::move(parameter_names),
      [body](const std::vector<Value>& args) -> absl::StatusOr<Value> {
        for (const Value& a : args) {
          if (a.is_null()) return Value();
        }
        return body(args);
      }));
}

}  // namespace tern::feel
