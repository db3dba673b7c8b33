#include "engine/forms.h"

#include <nlohmann/json.hpp>
#include <optional>

#include "base/strings.h"

namespace tern::engine {
namespace {

// Collects the top-level "id" and "versionTag" and bounds the depth; never builds a document.
class FormScanner : public nlohmann::json_sax<nlohmann::json> {
 public:
  std::optional<std::string> id;
  std::optional<std::string> version_tag;
  bool id_not_string = false;
  bool version_tag_not_string = false;
  bool top_level_not_object = false;
  bool too_deep = false;
  std::string syntax_error;

  bool null() override { return Scalar(); }
  bool boolean(bool) override { return Scalar(); }
  bool number_integer(number_integer_t) override { return Scalar(); }
  bool number_unsigned(number_unsigned_t) override { return Scalar(); }
  bool number_float(number_float_t, const string_t&) override { return Scalar(); }
  bool binary(binary_t&) override { return Scalar(); }
  bool string(string_t& value) override {
    if (depth_ == 1 && key_ == "id") id = value;
    if (depth_ == 1 && key_ == "versionTag") version_tag = value;
    return Scalar();
  }
  bool start_object(std::size_t) override { return Open(/*object=*/true); }
  bool start_array(std::size_t) override { return Open(/*object=*/false); }
  bool end_object() override { return Close(); }
  bool end_array() override { return Close(); }
  bool key(string_t& value) override {
    if (depth_ == 1) key_ = value;
    return true;
  }
  bool parse_error(std::size_t position, const std::string&,
                   const nlohmann::detail::exception&) override {
    syntax_error = StrCat("invalid JSON at byte ", position);
    return false;
  }

 private:
  bool Scalar() {
    if (depth_ == 0) {
      top_level_not_object = true;
      return false;
    }
    // A top-level "id" or "versionTag" that is not a string (string() handles strings).
    if (depth_ == 1 && key_ == "id" && !id) id_not_string = true;
    if (depth_ == 1 && key_ == "versionTag" && !version_tag) version_tag_not_string = true;
    return true;
  }
  bool Open(bool object) {
    if (depth_ == 0 && !object) {
      top_level_not_object = true;
      return false;
    }
    if (depth_ == 1) {
      if (key_ == "id") id_not_string = true;
      if (key_ == "versionTag") version_tag_not_string = true;
    }
    if (++depth_ > kMaxFormDepth) {
      too_deep = true;
      return false;
    }
    return true;
  }
  bool Close() {
    --depth_;
    return true;
  }

  int depth_ = 0;
  std::string key_;
};

}  // namespace

absl::StatusOr<FormInfo> ReadForm(std::string_view json, std::string_view resource_name) {
  auto refuse = [&](std::string_view why) {
    return absl::InvalidArgumentError(StrCat("'", resource_name, "': not a valid form: ", why));
  };
  FormScanner scanner;
  // string_view iterators: nlohmann reads the bytes without a copy.
  const bool complete = nlohmann::json::sax_parse(json.begin(), json.end(), &scanner,
                                                  nlohmann::json::input_format_t::json,
                                                  /*strict=*/true, /*ignore_comments=*/false);
  if (scanner.top_level_not_object) return refuse("the form must be a JSON object");
  if (scanner.too_deep) return refuse(StrCat("nested deeper than ", kMaxFormDepth, " levels"));
  if (!complete)
    return refuse(scanner.syntax_error.empty() ? "invalid JSON" : scanner.syntax_error);
  if (scanner.id_not_string) return refuse("'id' must be a string");
  if (!scanner.id || scanner.id->empty()) return refuse("the form has no 'id'");
  if (scanner.version_tag_not_string) return refuse("'versionTag' must be a string");
  if (scanner.id->size() > 256) return refuse("'id' is longer than 256 bytes");
  return FormInfo{*scanner.id, scanner.version_tag.value_or("")};
}

}  // namespace tern::engine
