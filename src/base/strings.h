#pragma once

// String concatenation that accepts std::string_view.
//
// Debian 12 builds Abseil with its own string_view type (absl::debian3::string_view, not an
// alias of std::string_view), so absl::StrCat rejects std::string_view arguments. These
// helpers take both, plus integers, floating point numbers, bools and absl::Status.

#include <charconv>
#include <concepts>
#include <string>
#include <string_view>
#include <type_traits>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace tern {
namespace strings_internal {

inline void AppendPiece(std::string& out, std::string_view piece) { out.append(piece); }
inline void AppendPiece(std::string& out, const std::string& piece) { out.append(piece); }
inline void AppendPiece(std::string& out, const char* piece) {
  out.append(piece == nullptr ? "(null)" : piece);
}
inline void AppendPiece(std::string& out, char piece) { out.push_back(piece); }
inline void AppendPiece(std::string& out, bool piece) { out.append(piece ? "true" : "false"); }
inline void AppendPiece(std::string& out, const absl::Status& status) {
  out.append(status.ToString());
}
template <typename T>
requires(
    std::is_same_v<T, absl::string_view> &&
    !std::is_same_v<absl::string_view, std::string_view>) inline void AppendPiece(std::string& out,
                                                                                  const T& piece) {
  out.append(piece.data(), piece.size());
}
template <typename T>
requires(std::integral<T> && !std::is_same_v<T, bool> &&
         !std::is_same_v<T, char>) inline void AppendPiece(std::string& out, T value) {
  char buffer[24];
  auto result = std::to_chars(buffer, buffer + sizeof(buffer), value);
  out.append(buffer, result.ptr);
}
template <typename T>
requires std::floating_point<T>
inline void AppendPiece(std::string& out, T value) {
  char buffer[32];
  auto result = std::to_chars(buffer, buffer + sizeof(buffer), value);
  out.append(buffer, result.ptr);
}
template <typename T>
requires std::is_enum_v<T>
inline void AppendPiece(std::string& out, T value) {
  AppendPiece(out, static_cast<std::underlying_type_t<T>>(value));
}

}  // namespace strings_internal

template <typename... Pieces>
std::string StrCat(const Pieces&... pieces) {
  std::string out;
  (strings_internal::AppendPiece(out, pieces), ...);
  return out;
}

template <typename... Pieces>
void StrAppend(std::string* out, const Pieces&... pieces) {
  (strings_internal::AppendPiece(*out, pieces), ...);
}

// absl::string_view -> std::string_view (Debian's Abseil has a distinct type).
inline std::string_view ToStd(absl::string_view view) { return {view.data(), view.size()}; }

}  // namespace tern
