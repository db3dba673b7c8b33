#include "base/logging.h"

#include <spdlog/formatter.h>
#include <spdlog/pattern_formatter.h>
#include <spdlog/spdlog.h>

#include <chrono>
#include <cstdio>
#include <ctime>
#include <string>

#include "absl/strings/str_cat.h"

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
    auto since_epoch = msg.time.time_since_epoch();
    auto seconds = std::chrono::duration_cast<std::chrono::seconds>(since_epoch);
    auto millis = std::chrono::duration_cast<std::chrono::milliseconds>(since_epoch - seconds);
    std::time_t time = static_cast<std::time_t>(seconds.count());
    std::tm utc{};
    gmtime_r(&time, &utc);
    // Room for any int the fields could hold (GCC checks the worst case at -O3), not just dates.
    char timestamp[80];
    std::snprintf(timestamp, sizeof(timestamp), "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ",
                  utc.tm_year + 1900, utc.tm_mon + 1, utc.tm_mday, utc.tm_hour, utc.tm_min,
                  utc.tm_sec, static_cast<int>(millis.count()));
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
