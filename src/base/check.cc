#include "base/check.h"

#include <spdlog/spdlog.h>

namespace tern::base {

void CheckFailed(const char* file, int line, const char* condition, const std::string& message) {
  // Write to stderr directly as well: the logger may be the thing that is broken.
  std::fprintf(stderr, "FATAL %s:%d: check failed: %s %s\n", file, line, condition,
               message.c_str());
  std::fflush(stderr);
  spdlog::default_logger_raw()->flush();
  std::abort();
}

}  // namespace tern::base
