#pragma once

#include <cstdint>
#include <string_view>

namespace tern::engine::state {

// FNV-1a, 64 bit: stable across builds and machines, which std::hash and absl::Hash are not.
// Used only to compare replicas' state, never for security.
class StateDigest {
 public:
  void Add(std::string_view bytes) {
    AddSize(bytes.size());
    for (unsigned char c : bytes) {
      hash_ ^= c;
      hash_ *= 1099511628211ull;
    }
  }
  void AddSize(uint64_t size) {
    for (int i = 0; i < 8; ++i) {
      hash_ ^= static_cast<unsigned char>(size >> (8 * i));
      hash_ *= 1099511628211ull;
    }
  }
  uint64_t value() const { return hash_; }

 private:
  uint64_t hash_ = 14695981039346656037ull;
};

}  // namespace tern::engine::state
