// Simulator throughput benchmark behind `siren bench`: runs whole epochs
// single-threaded with the full model on and no observers, and measures wall
// time with a steady clock.
#ifndef SIREN_SIM_BENCH_BENCH_H_
#define SIREN_SIM_BENCH_BENCH_H_

#include <cstdint>

#include "sim/scenario/scenario.h"

namespace siren::sim {

struct BenchResult {
  int64_t events = 0;   // Discrete events processed.
  int64_t epochs = 0;   // Epochs simulated.
  int64_t batches = 0;  // Mini-batches simulated.
  double wall_s = 0;    // Wall time of the measured loop.
  double events_per_s() const { return wall_s > 0 ? events / wall_s : 0; }
  double epochs_per_s() const { return wall_s > 0 ? epochs / wall_s : 0; }
};

// Simulates epochs of `functions` x `memory_mb` (restarting the job whenever
// it stops) until at least `min_wall_s` seconds and `min_epochs` epochs have
// passed.
BenchResult RunBenchmark(const Scenario& scenario, int functions, int memory_mb,
                         double min_wall_s, int min_epochs, uint64_t seed);

}  // namespace siren::sim

#endif  // SIREN_SIM_BENCH_BENCH_H_
