#include "sim/bench/bench.h"

#include <chrono>
#include <memory>

#include "sim/engine/simulation.h"

namespace siren::sim {

BenchResult RunBenchmark(const Scenario& scenario, int functions, int memory_mb,
                         double min_wall_s, int min_epochs, uint64_t seed) {
  // The benchmark measures throughput, so the job never stops on its own.
  auto endless = std::make_shared<Scenario>(scenario);
  endless->job.budget_usd = 1e300;
  endless->job.max_epochs = 100000;
  endless->workload.target_loss = 0;
  Simulation simulation(endless, seed);

  BenchResult result;
  const auto start = std::chrono::steady_clock::now();
  while (true) {
    if (simulation.done()) simulation.Reset(++seed);
    const EpochResult epoch = simulation.RunEpoch({functions, memory_mb});
    result.events += epoch.events;
    result.batches += epoch.batches;
    ++result.epochs;
    const double elapsed =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start)
            .count();
    if (elapsed >= min_wall_s && result.epochs >= min_epochs) {
      result.wall_s = elapsed;
      break;
    }
  }
  return result;
}

}  // namespace siren::sim
