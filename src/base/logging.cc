#include "base/logging.h"

#include <spdlog/formatter.h>
#include <spdlog/pattern_formatter.h>
#include <spdlog/spdlog.h>

#include <chrono>
#include <cstdio>
#include <ctime>
#include <string>

#include "absl/strings/str_cat.h"
#include "base/clock.h"

namespace tern::base {
namespace {

constexpr char kTextPattern[] = "%Y-%m-%d %H:%M:%S.%e %^%l%$ %v";

// Appends `text` as the inside of a JSON string: quotes, backslashes and control characters
// escaped. Bytes >= 0x80 pass through unchanged (log messages are UTF-8).
void AppendJsonEscaped(std::string_view text, spdlog::memory_buf_t& out) {
  for (char c : text) {
    switch (c) {
      case '"':
        out.append(std::string_view("\\\""));
        break;
      case '\\':
        out.append(std::string_view("\\\\"));
        break;
      case '\n':
        out.append(std::string_view("\\n"));
        break;
      case '\r':
        out.append(std::string_view("\\r"));
        break;
      case '\t':
        out.append(std::string_view("\\t"));
        break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          char escaped[8];
          std::snprintf(escaped, sizeof(escaped), "\\u%04x", static_cast<unsigned>(c));
          out.append(std::string_view(escaped));
        } else {
          out.push_back(c);
        }
    }
  }
}

// One JSON object per line. The timestamp is UTC with milliseconds in RFC 3339 form, which
// every log collector parses without configuration.
class JsonFormatter : public spdlog::formatter {
 public:
  void format(const spdlog::details::log_msg& msg, spdlog::memory_buf_t& dest) override {
    const std::string timestamp = FormatIsoMillisUtc(
        std::chrono::duration_cast<std::chrono::milliseconds>(msg.time.time_since_epoch()).count());
    auto level = spdlog::level::to_string_view(msg.level);
    dest.append(std::string_view("{\"timestamp\":\""));
    dest.append(std::string_view(timestamp));
    dest.append(std::string_view("\",\"level\":\""));
    AppendJsonEscaped(std::string_view(level.data(), level.size()), dest);
    dest.append(std::string_view("\",\"logger\":\""));
    AppendJsonEscaped(msg.logger_name.size() == 0
                          ? std::string_view("tern")
                          : std::string_view(msg.logger_name.data(), msg.logger_name.size()),
                      dest);
    dest.append(std::string_view("\",\"message\":\""));
    AppendJsonEscaped(std::string_view(msg.payload.data(), msg.payload.size()), dest);
    dest.append(std::string_view("\",\"thread\":"));
    dest.append(std::string_view(absl::StrCat(msg.thread_id)));
    dest.append(std::string_view("}\n"));
  }

  std::unique_ptr<spdlog::formatter> clone() const override {
    return std::make_unique<JsonFormatter>();
  }
};

}  // namespace

std::unique_ptr<spdlog::formatter> NewJsonLogFormatter() {
  return std::make_unique<JsonFormatter>();
}

absl::Status ConfigureLogging(std::string_view format, std::string_view level) {
  if (format != "text" && format != "json") {
    return absl::InvalidArgumentError(
        absl::StrCat("log-format must be text or json, but is '", std::string(format), "'"));
  }
  auto parsed = spdlog::level::from_str(std::string(level));
  // from_str answers `off` for anything it does not know.
  if (parsed == spdlog::level::off && level != "off") {
    return absl::InvalidArgumentError(
        absl::StrCat("log-level must be trace, debug, info, warn, error, critical or off, but is '",
                     std::string(level), "'"));
  }
  spdlog::set_level(parsed);
  if (format == "json") {
    spdlog::set_formatter(NewJsonLogFormatter());
  } else {
    spdlog::set_pattern(kTextPattern);
  }
  return absl::OkStatus();
}

}  // namespace tern::base
