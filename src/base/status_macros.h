#pragma once

// Propagation helpers for absl::Status / absl::StatusOr, in the style Abseil uses internally.

#include "absl/status/status.h"
#include "absl/status/statusor.h"

#define TERN_STATUS_CONCAT_INNER_(a, b) a##b
#define TERN_STATUS_CONCAT_(a, b) TERN_STATUS_CONCAT_INNER_(a, b)

// Returns the status from the enclosing function when `expr` is not OK.
#define TERN_RETURN_IF_ERROR(expr)               \
  do {                                           \
    ::absl::Status tern_status_ = (expr);        \
    if (!tern_status_.ok()) return tern_status_; \
  } while (false)

// `TERN_ASSIGN_OR_RETURN(auto x, MakeX());` binds the value or returns the error.
#define TERN_ASSIGN_OR_RETURN(lhs, expr) \
  TERN_ASSIGN_OR_RETURN_IMPL_(TERN_STATUS_CONCAT_(tern_statusor_, __LINE__), lhs, expr)

#define TERN_ASSIGN_OR_RETURN_IMPL_(statusor, lhs, expr)   \
  auto statusor = (expr);                                  \
  if (!statusor.ok()) return std::move(statusor).status(); \
  lhs = std::move(statusor).value()
