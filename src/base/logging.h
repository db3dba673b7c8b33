#pragma once

// How the daemons write their log: the level, and the line format (`text`, the default, for
// people; `json`, one object per line with timestamp, level, logger, message and thread, for log
// collectors such as Loki, Elasticsearch or journald's JSON export).

#include <memory>
#include <string_view>

#include "absl/status/status.h"

namespace spdlog {
class formatter;
}

namespace tern::base {

// Applies `format` ("text" or "json") and `level` ("trace" ... "critical", "off") to spdlog's
// default logger. INVALID_ARGUMENT naming the value when either is unknown; nothing changes then.
absl::Status ConfigureLogging(std::string_view format, std::string_view level);

// The JSON line formatter, for tests and for loggers made elsewhere.
std::unique_ptr<spdlog::formatter> NewJsonLogFormatter();

}  // namespace tern::base
