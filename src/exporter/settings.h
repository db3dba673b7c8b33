#pragma once

// Parsing of exporter arguments (strings from YAML, flags or the environment).

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"

namespace tern::exporter {

// "128MiB", "1GiB", "500kB", "4096" (bytes).
absl::StatusOr<int64_t> ParseByteSize(const std::string& text);
// A non-negative integer.
absl::StatusOr<int64_t> ParseCount(const std::string& text);

}  // namespace tern::exporter
