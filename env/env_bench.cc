#include "env/env_bench.h"

#include <chrono>

#include "env/siren_env.h"
#include "env/vector_env.h"

namespace siren::env {

EnvBenchResult RunEnvBenchmark(std::shared_ptr<const sim::Scenario> scenario,
                               ActionEncoding encoding, const double* action,
                               int64_t steps, uint64_t seed) {
  SirenEnv env(scenario, encoding);
  float observation[kObservationSize];
  EnvBenchResult result;
  const auto start = std::chrono::steady_clock::now();
  env.Reset(seed, observation);
  for (int64_t s = 0; s < steps; ++s) {
    if (env.needs_reset()) {
      env.Reset(EpisodeSeed(seed, ++result.episodes), observation);
    }
    StepInfo info;
    env.Step(action, observation, &info);
    ++result.steps;
  }
  result.wall_s =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start)
          .count();
  return result;
}

}  // namespace siren::env
