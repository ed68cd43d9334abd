// Seeded weight initialisation for the sgd networks, from the simulator's
// own generator (sim/core/rng.h), so that the initial parameters are the
// same on every machine, standard library and thread count. Each layer
// draws from its own stream (seed, stream) of the net's seed.
#ifndef SIREN_SIM_CONVERGENCE_SGD_MODELS_INIT_H_
#define SIREN_SIM_CONVERGENCE_SGD_MODELS_INIT_H_

#include <cstdint>

namespace siren::sim::sgd {

// He (Kaiming) normal initialisation for weights followed by a ReLU
// (He et al., ICCV 2015): `count` draws of N(0, 2 / fan_in).
void HeNormal(uint64_t seed, uint64_t stream, int64_t fan_in, float* weights,
              int64_t count);

// Glorot (Xavier) uniform initialisation (Glorot and Bengio, AISTATS
// 2010), for the weights into the softmax: `count` draws of
// U(-a, a), a = sqrt(6 / (fan_in + fan_out)).
void GlorotUniform(uint64_t seed, uint64_t stream, int64_t fan_in,
                   int64_t fan_out, float* weights, int64_t count);

}  // namespace siren::sim::sgd

#endif  // SIREN_SIM_CONVERGENCE_SGD_MODELS_INIT_H_
