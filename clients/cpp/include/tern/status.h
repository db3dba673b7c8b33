#pragma once

// Errors as values: every command of the client answers with a tern::Result<T>, which holds
// either the response or a tern::Status carrying the gRPC status code and the gateway's message.
// Nothing in the client throws, with one deliberate exception that mirrors std::expected:
// Result<T>::value() throws tern::BadResultAccess when the result holds an error. Use ok(),
// operator* and operator-> for exception-free code.

#include <cstdint>
#include <exception>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>

namespace tern {

// The gRPC status codes, with the numbers gRPC gives them.
enum class StatusCode : int {
  kOk = 0,
  kCancelled = 1,
  kUnknown = 2,
  kInvalidArgument = 3,
  kDeadlineExceeded = 4,
  kNotFound = 5,
  kAlreadyExists = 6,
  kPermissionDenied = 7,
  kResourceExhausted = 8,
  kFailedPrecondition = 9,
  kAborted = 10,
  kOutOfRange = 11,
  kUnimplemented = 12,
  kInternal = 13,
  kUnavailable = 14,
  kDataLoss = 15,
  kUnauthenticated = 16,
};

// "NOT_FOUND", "RESOURCE_EXHAUSTED", ... (the names gRPC and Zeebe's documentation use).
std::string_view StatusCodeName(StatusCode code);

// The outcome of a call: OK, or a gRPC code with a message. For errors that come from the
// gateway, message() is the gateway's message unchanged (for example "Command 'COMPLETE'
// rejected with code 'NOT_FOUND': ..."). Errors raised by the client itself (unreadable file,
// missing mandatory field) use the same codes: INVALID_ARGUMENT, DEADLINE_EXCEEDED, ...
class Status {
 public:
  Status() = default;
  Status(StatusCode code, std::string message) : code_(code), message_(std::move(message)) {}

  static Status Ok() { return Status(); }

  bool ok() const { return code_ == StatusCode::kOk; }
  StatusCode code() const { return code_; }
  const std::string& message() const { return message_; }

  // "NOT_FOUND: <message>", or "OK".
  std::string ToString() const;

  friend bool operator==(const Status& a, const Status& b) {
    return a.code_ == b.code_ && a.message_ == b.message_;
  }

 private:
  StatusCode code_ = StatusCode::kOk;
  std::string message_;
};

inline std::ostream& operator<<(std::ostream& out, const Status& status) {
  return out << status.ToString();
}

// Thrown only by Result<T>::value() on an error result.
class BadResultAccess : public std::exception {
 public:
  explicit BadResultAccess(Status status) : status_(std::move(status)), what_(status_.ToString()) {}
  const Status& status() const { return status_; }
  const char* what() const noexcept override { return what_.c_str(); }

 private:
  Status status_;
  std::string what_;
};

// Either a T or a non-OK Status.
template <typename T>
class Result {
 public:
  using value_type = T;

  // NOLINTNEXTLINE(google-explicit-constructor): results are returned like plain values.
  Result(T value) : value_(std::move(value)) {}
  // A non-OK status. An OK status without a value is a programming error and is turned into
  // an UNKNOWN error rather than an empty success.
  // NOLINTNEXTLINE(google-explicit-constructor)
  Result(Status status) : status_(std::move(status)) {
    if (status_.ok()) status_ = Status(StatusCode::kUnknown, "OK status without a value");
  }

  bool ok() const { return value_.has_value(); }
  explicit operator bool() const { return ok(); }

  // OK when the result holds a value.
  const Status& status() const { return status_; }

  // The value; throws BadResultAccess when the result holds an error.
  T& value() & {
    Check();
    return *value_;
  }
  const T& value() const& {
    Check();
    return *value_;
  }
  T&& value() && {
    Check();
    return std::move(*value_);
  }

  // Unchecked access: the caller has tested ok().
  T& operator*() & { return *value_; }
  const T& operator*() const& { return *value_; }
  T&& operator*() && { return std::move(*value_); }
  T* operator->() { return &*value_; }
  const T* operator->() const { return &*value_; }

  template <typename U>
  T value_or(U&& fallback) const& {
    return ok() ? *value_ : static_cast<T>(std::forward<U>(fallback));
  }

 private:
  void Check() const {
    if (!value_.has_value()) throw BadResultAccess(status_);
  }

  Status status_;
  std::optional<T> value_;
};

}  // namespace tern
