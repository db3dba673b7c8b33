#pragma once

// Order-preserving key encoders for column family keys.

#include <cstdint>
#include <string>
#include <string_view>

#include "base/check.h"

namespace tern::engine::state {

// Appends `value` big-endian with the sign bit flipped, so byte order equals numeric order.
inline void AppendInt64(std::string& out, int64_t value) {
  uint64_t bits = static_cast<uint64_t>(value) ^ (uint64_t{1} << 63);
  for (int shift = 56; shift >= 0; shift -= 8) out.push_back(static_cast<char>(bits >> shift));
}

inline int64_t ReadInt64(std::string_view in, size_t offset = 0) {
  TERN_CHECK(in.size() >= offset + 8, "key too short: ", in.size());
  uint64_t bits = 0;
  for (size_t i = 0; i < 8; ++i) bits = (bits << 8) | static_cast<uint8_t>(in[offset + i]);
  return static_cast<int64_t>(bits ^ (uint64_t{1} << 63));
}

// Appends a string with a 4-byte big-endian length prefix, so that no encoded string is a
// prefix of another one's encoding.
inline void AppendString(std::string& out, std::string_view value) {
  uint32_t size = static_cast<uint32_t>(value.size());
  for (int shift = 24; shift >= 0; shift -= 8) out.push_back(static_cast<char>(size >> shift));
  out.append(value);
}

inline std::string Int64Key(int64_t value) {
  std::string key;
  AppendInt64(key, value);
  return key;
}

inline std::string Int64PairKey(int64_t first, int64_t second) {
  std::string key;
  key.reserve(16);
  AppendInt64(key, first);
  AppendInt64(key, second);
  return key;
}

inline std::string StringKey(std::string_view value) {
  std::string key;
  AppendString(key, value);
  return key;
}

}  // namespace tern::engine::state
