#include "sim/core/rng.h"

namespace siren::sim {
namespace {

uint64_t SplitMix64(uint64_t& state) {
  return MixBits(state += 0x9E3779B97F4A7C15ull);
}

}  // namespace

Rng::Rng(uint64_t seed, uint64_t stream) {
  // Mix the stream id into the seed so that streams are decorrelated.
  uint64_t state = seed;
  uint64_t stream_state =
      stream * 0xD1B54A32D192ED03ull + 0x8CB92BA72F3D8DD7ull;
  state ^= SplitMix64(stream_state);
  for (uint64_t& word : s_) word = SplitMix64(state);
}

double Rng::Normal() {
  if (has_cached_normal_) {
    has_cached_normal_ = false;
    return cached_normal_;
  }
  double u, v, s;
  do {
    u = 2.0 * Uniform() - 1.0;
    v = 2.0 * Uniform() - 1.0;
    s = u * u + v * v;
  } while (s >= 1.0 || s == 0.0);
  const double factor = std::sqrt(-2.0 * std::log(s) / s);
  cached_normal_ = v * factor;
  has_cached_normal_ = true;
  return u * factor;
}

double Rng::TruncatedNormalNonNegative(double mean, double sd) {
  if (sd <= 0) return mean > 0 ? mean : 0.0;
  for (int attempt = 0; attempt < 64; ++attempt) {
    const double x = mean + sd * Normal();
    if (x >= 0) return x;
  }
  return 0.0;
}

}  // namespace siren::sim
