#pragma once

// Always-on invariant checks. A failed check means the program's own logic or its on-disk data
// is broken; continuing could corrupt replicated state, so it logs and aborts in every build
// type. Expected failures (bad input, not leader, timeouts) are absl::Status values instead.

#include <cstdio>
#include <cstdlib>

#include "base/strings.h"

namespace tern::base {

[[noreturn]] void CheckFailed(const char* file, int line, const char* condition,
                              const std::string& message);

}  // namespace tern::base

#define TERN_CHECK(condition, ...)                                              \
  do {                                                                          \
    if (__builtin_expect(!(condition), 0)) {                                    \
      ::tern::base::CheckFailed(__FILE__, __LINE__, #condition,                 \
                                ::tern::StrCat("" __VA_OPT__(, ) __VA_ARGS__)); \
    }                                                                           \
  } while (false)

#define TERN_CHECK_OK(status_expr)                                                                \
  do {                                                                                            \
    const auto& tern_check_status_ = (status_expr);                                               \
    if (__builtin_expect(!tern_check_status_.ok(), 0)) {                                          \
      ::tern::base::CheckFailed(__FILE__, __LINE__, #status_expr, tern_check_status_.ToString()); \
    }                                                                                             \
  } while (false)

#define TERN_UNREACHABLE(...) \
  ::tern::base::CheckFailed(__FILE__, __LINE__, "unreachable", ::tern::StrCat(__VA_ARGS__))
