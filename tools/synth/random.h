// Portable, seeded randomness for the synthetic data generator.
//
// The standard distributions (std::uniform_real_distribution, ...) may give different numbers on
// different standard libraries, so everything here is built on the raw 64-bit output of
// std::mt19937_64, whose sequence the C++ standard fixes. Same seed → same numbers everywhere.
#pragma once

#include <cstdint>
#include <random>
#include <string_view>

namespace vmt::synth {

/// A seeded random source with distributions implemented here (not by the standard library).
class Random {
 public:
  explicit Random(std::uint64_t seed) : engine_(seed) {}

  /// The next raw 64-bit value.
  std::uint64_t next_u64() { return engine_(); }
  /// Uniform in [0, 1), 53 random bits.
  double uniform01() { return static_cast<double>(engine_() >> 11) * 0x1.0p-53; }
  /// Uniform in [lo, hi).
  double uniform(double lo, double hi) { return lo + (hi - lo) * uniform01(); }
  /// Uniform integer in [lo, hi] (inclusive), without modulo bias.
  std::int64_t uniform_int(std::int64_t lo, std::int64_t hi);
  /// True with probability `p`.
  bool chance(double p) { return uniform01() < p; }
  /// +1 or -1 with equal probability.
  double sign() { return chance(0.5) ? 1.0 : -1.0; }

 private:
  std::mt19937_64 engine_;
};

/// SplitMix64 finaliser: a well-mixed 64-bit hash of `value`.
std::uint64_t mix64(std::uint64_t value) noexcept;

/// A seed derived from a parent seed and a number (e.g. a video or frame index).
std::uint64_t derive_seed(std::uint64_t parent, std::uint64_t index) noexcept;

/// A seed derived from a parent seed and a name (e.g. a split), via FNV-1a of the name.
std::uint64_t derive_seed(std::uint64_t parent, std::string_view name) noexcept;

}  // namespace vmt::synth
