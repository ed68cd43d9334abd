#include "sim/convergence/sgd/models/init.h"

#include <cmath>

#include "sim/core/rng.h"

namespace siren::sim::sgd {

void HeNormal(uint64_t seed, uint64_t stream, int64_t fan_in, float* weights,
              int64_t count) {
  Rng rng(seed, stream);
  const double sd = std::sqrt(2.0 / static_cast<double>(fan_in));
  for (int64_t i = 0; i < count; ++i) {
    weights[i] = static_cast<float>(sd * rng.Normal());
  }
}

void GlorotUniform(uint64_t seed, uint64_t stream, int64_t fan_in,
                   int64_t fan_out, float* weights, int64_t count) {
  Rng rng(seed, stream);
  const double a = std::sqrt(6.0 / static_cast<double>(fan_in + fan_out));
  for (int64_t i = 0; i < count; ++i) {
    weights[i] = static_cast<float>(a * (2.0 * rng.Uniform() - 1.0));
  }
}

}  // namespace siren::sim::sgd
