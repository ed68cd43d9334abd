// Seeded random-number streams. The generator is xoshiro256++ (Blackman and
// Vigna), seeded through SplitMix64; distributions are implemented here, not
// taken from <random>, so traces are identical across standard libraries.
// Each model component draws from its own stream, derived from the job seed
// and a stream id, so adding draws to one component does not shift another.
#ifndef SIREN_SIM_CORE_RNG_H_
#define SIREN_SIM_CORE_RNG_H_

#include <cmath>
#include <cstdint>

namespace siren::sim {

// Stream ids: one per model component.
enum class RngStream : uint64_t {
  kColdStart = 1,
  kWarmStart = 2,
  kCompute = 3,
  kS3Latency = 4,
  kBackoff = 5,
  kLossNoise = 6,
  kCasBackoff = 7,
  kJobDraw = 8,  // The per-episode job (sim/engine/job_draw.h).
};

// The SplitMix64 output function (Steele, Lea and Flood): a bijective,
// well-mixing map of 64 bits, used to derive seeds from seeds.
inline uint64_t MixBits(uint64_t z) {
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

class Rng {
 public:
  Rng() : Rng(0, 0) {}
  // A stream determined by (seed, stream).
  Rng(uint64_t seed, uint64_t stream);
  Rng(uint64_t seed, RngStream stream)
      : Rng(seed, static_cast<uint64_t>(stream)) {}

  // 64 uniformly random bits.
  uint64_t NextU64() {
    const uint64_t result = Rotl(s_[0] + s_[3], 23) + s_[0];
    const uint64_t t = s_[1] << 17;
    s_[2] ^= s_[0];
    s_[3] ^= s_[1];
    s_[1] ^= s_[2];
    s_[0] ^= s_[3];
    s_[2] ^= t;
    s_[3] = Rotl(s_[3], 45);
    return result;
  }

  // Uniform in [0, 1) with 53 random bits.
  double Uniform() { return (NextU64() >> 11) * 0x1.0p-53; }

  // Standard normal (Marsaglia polar method, second value cached).
  double Normal();

  // exp(N(log(median), sigma^2)); returns `median` when sigma == 0.
  double LogNormal(double median, double sigma) {
    if (sigma == 0) return median;
    return median * std::exp(sigma * Normal());
  }

  // N(mean, sd^2) conditioned on >= 0 (rejection; falls back to 0 after 64
  // rejections, which needs mean < -2.5 sd).
  double TruncatedNormalNonNegative(double mean, double sd);

 private:
  static uint64_t Rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
  uint64_t s_[4];
  double cached_normal_ = 0;
  bool has_cached_normal_ = false;
};

}  // namespace siren::sim

#endif  // SIREN_SIM_CORE_RNG_H_
