// JSON <-> Value. Parsing uses nlohmann::json's SAX interface so numbers keep their original
// decimal text (no detour through double) and nesting depth is checked before recursing.

#include <nlohmann/json.hpp>

#include "absl/strings/str_cat.h"
#include "feel/feel.h"

namespace tern::feel {
namespace {

class Builder : public nlohmann::json_sax<nlohmann::json> {
 public:
  bool null() override { return Add(Value()); }
  bool boolean(bool b) override { return Add(Value::Bool(b)); }
  bool number_integer(number_integer_t v) override { return Add(Value::Number(int64_t{v})); }
  bool number_unsigned(number_unsigned_t v) override {
    return Add(Value::Number(Decimal::FromUint64(v)));
  }
  bool number_float(number_float_t, const string_t& text) override {
    std::optional<Decimal> d = Decimal::Parse(text);
    if (!d) return Error(absl::StrCat("number out of range: ", text.substr(0, 40)));
    return Add(Value::Number(*d));
  }
  bool string(string_t& s) override { return Add(Value::String(std::move(s))); }
  bool binary(binary_t&) override { return Error("binary values are not supported"); }
  bool start_object(std::size_t) override {
    if (!Enter()) return false;
    stack_.push_back(Frame{true, {}, {}, {}});
    return true;
  }
  bool key(string_t& k) override {
    stack_.back().key = std::move(k);
    return true;
  }
  bool end_object() override {
    Frame f = std::move(stack_.back());
    stack_.pop_back();
    return Add(Value::Context(std::move(f.object)));
  }
  bool start_array(std::size_t) override {
    if (!Enter()) return false;
    stack_.push_back(Frame{false, {}, {}, {}});
    return true;
  }
  bool end_array() override {
    Frame f = std::move(stack_.back());
    stack_.pop_back();
    return Add(Value::List(std::move(f.array)));
  }
  bool parse_error(std::size_t position, const std::string&,
                   const nlohmann::detail::exception& ex) override {
    if (error_.empty()) {
      error_ = absl::StrCat("invalid JSON at byte ", position, ": ", ex.what());
    }
    return false;
  }

  const std::string& error() const { return error_; }
  Value& result() { return result_; }

 private:
  struct Frame {
    bool is_object;
    std::string key;
    ContextValue object;
    std::vector<Value> array;
  };
  bool Enter() {
    if (static_cast<int>(stack_.size()) >= kMaxJsonDepth) {
      return Error(absl::StrCat("JSON nested deeper than ", kMaxJsonDepth, " levels"));
    }
    return true;
  }
  bool Error(std::string msg) {
    if (error_.empty()) error_ = std::move(msg);
    return false;
  }
  bool Add(Value v) {
    if (stack_.empty()) {
      result_ = std::move(v);
      return true;
    }
    Frame& f = stack_.back();
    if (f.is_object) {
      f.object.Set(std::move(f.key), std::move(v));
    } else {
      f.array.push_back(std::move(v));
    }
    return true;
  }

  std::vector<Frame> stack_;
  Value result_;
  std::string error_;
};

void AppendJsonString(std::string* out, std::string_view s) {
  out->push_back('"');
  for (unsigned char c : s) {
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
      case '\b':
        *out += "\\b";
        break;
      case '\f':
        *out += "\\f";
        break;
      default:
        if (c < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof(buf), "\\u%04x", c);
          *out += buf;
        } else {
          out->push_back(static_cast<char>(c));
        }
    }
  }
  out->push_back('"');
}

std::string JsonDateTime(const DateTime& dt) {
  // java.time's ISO_ZONED_DATE_TIME form, as feel-scala's `to json`: offset, then [zone].
  if (dt.zone_kind != ZoneKind::kZoneId) return FormatDateTime(dt);
  DateTime offset = dt;
  offset.zone_kind = ZoneKind::kOffset;
  return absl::StrCat(FormatDateTime(offset), "[", dt.zone_id, "]");
}

// Stops adding items to arrays and objects once *out is longer than `limit` (see
// ValueToJsonWithin).
void AppendJson(std::string* out, const Value& v, size_t limit) {
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
      AppendJsonString(out, v.as_string());
      return;
    case Kind::kDate:
      AppendJsonString(out, FormatDate(v.as_date()));
      return;
    case Kind::kTime:
      AppendJsonString(out, FormatTime(v.as_time()));
      return;
    case Kind::kDateTime:
      AppendJsonString(out, JsonDateTime(v.as_date_time()));
      return;
    case Kind::kDaysTimeDuration:
      AppendJsonString(out, FormatDaysTimeDuration(v.as_days_time_duration()));
      return;
    case Kind::kYearsMonthsDuration:
      AppendJsonString(out, FormatYearsMonthsDuration(v.as_years_months_duration()));
      return;
    case Kind::kList: {
      out->push_back('[');
      bool first = true;
      for (const Value& item : v.list()) {
        if (out->size() > limit) return;
        if (!first) out->push_back(',');
        first = false;
        AppendJson(out, item, limit);
      }
      out->push_back(']');
      return;
    }
    case Kind::kContext: {
      out->push_back('{');
      bool first = true;
      for (const auto& [k, item] : v.context().entries()) {
        if (out->size() > limit) return;
        if (!first) out->push_back(',');
        first = false;
        AppendJsonString(out, k);
        out->push_back(':');
        AppendJson(out, item, limit);
      }
      out->push_back('}');
      return;
    }
    case Kind::kRange:
    case Kind::kFunction:
      AppendJsonString(out, v.DebugString());
      return;
  }
}

}  // namespace

absl::StatusOr<Value> ValueFromJson(std::string_view json) {
  Builder builder;
  bool ok = false;
  try {
    ok = nlohmann::json::sax_parse(json.begin(), json.end(), &builder,
                                   nlohmann::json::input_format_t::json, true);
  } catch (const std::exception& e) {
    // sax_parse reports through parse_error; this is only a safety net.
    return absl::InvalidArgumentError(absl::StrCat("invalid JSON: ", e.what()));
  }
  if (!ok) {
    return absl::InvalidArgumentError(builder.error().empty() ? "invalid JSON" : builder.error());
  }
  return std::move(builder.result());
}

std::string ValueToJson(const Value& value) {
  std::string out;
  AppendJson(&out, value, std::string::npos);
  return out;
}

std::optional<std::string> ValueToJsonWithin(const Value& value, size_t max_bytes) {
  std::string out;
  AppendJson(&out, value, max_bytes);
  if (out.size() > max_bytes) return std::nullopt;
  return out;
}

}  // namespace tern::feel
