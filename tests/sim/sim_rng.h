#pragma once

// The simulator's only source of randomness: one seeded generator per run, so a seed replays the
// same run bit for bit. splitmix64 keeps results identical across standard libraries.

#include <cstdint>
#include <vector>

namespace tern::sim {

class SimRng {
 public:
  explicit SimRng(uint64_t seed) : state_(seed * 0x9e3779b97f4a7c15ULL + 0x632be59bd9b4e019ULL) {}
  uint64_t Next() {
    uint64_t z = (state_ += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  }
  // Uniform in [0, n); n > 0.
  uint64_t Uniform(uint64_t n) { return Next() % n; }
  // Uniform in [lo, hi].
  int64_t Range(int64_t lo, int64_t hi) {
    return lo + static_cast<int64_t>(Uniform(static_cast<uint64_t>(hi - lo + 1)));
  }
  // True with probability p.
  bool Chance(double p) { return p > 0 && (Next() >> 11) * 0x1.0p-53 < p; }
  // Uniform real in [lo, hi).
  double Real(double lo, double hi) { return lo + (hi - lo) * ((Next() >> 11) * 0x1.0p-53); }
  template <typename T>
  const T& Pick(const std::vector<T>& v) {
    return v[Uniform(v.size())];
  }

 private:
  uint64_t state_;
};

}  // namespace tern::sim
