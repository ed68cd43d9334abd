// The env's own cost per step, measured in C++: steps one SirenEnv with a
// fixed action (resetting with EpisodeSeed when an episode ends) and times it
// with a steady clock. `siren bench-env` compares the Gymnasium API's time
// per step against this to report the Python-side overhead.
#ifndef SIREN_ENV_ENV_BENCH_H_
#define SIREN_ENV_ENV_BENCH_H_

#include <cstdint>
#include <memory>

#include "env/action_codec.h"
#include "sim/scenario/scenario.h"

namespace siren::env {

struct EnvBenchResult {
  int64_t steps = 0;
  int64_t episodes = 0;
  double wall_s = 0;
};

EnvBenchResult RunEnvBenchmark(std::shared_ptr<const sim::Scenario> scenario,
                               ActionEncoding encoding, const double* action,
                               int64_t steps, uint64_t seed);

}  // namespace siren::env

#endif  // SIREN_ENV_ENV_BENCH_H_
