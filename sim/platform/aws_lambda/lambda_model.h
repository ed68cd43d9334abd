// The Lambda platform model (DESIGN.md §2.3): memory grid, CPU share, network
// bandwidth and start latencies as functions of the configured memory.
#ifndef SIREN_SIM_PLATFORM_AWS_LAMBDA_LAMBDA_MODEL_H_
#define SIREN_SIM_PLATFORM_AWS_LAMBDA_LAMBDA_MODEL_H_

#include <string>
#include <vector>

#include "sim/core/rng.h"
#include "sim/scenario/scenario.h"

namespace siren::sim {

// True when `memory_mb` is a size the era allows: within [min, max] and on
// the step grid counted from the minimum.
bool IsOnMemoryGrid(const LambdaSpec& lambda, int memory_mb);

// Every allowed memory size, ascending.
std::vector<int> MemoryGrid(const LambdaSpec& lambda);

// Memory one function needs for the workload: runtime + model copies + one
// mini-batch, in MB.
double MemoryNeedMb(const Scenario& scenario);

// The smallest grid size >= MemoryNeedMb, or -1 when even the largest size is
// too small (the scenario is then infeasible and fails validation).
int MinFeasibleMemoryMb(const Scenario& scenario);

// Empty when `memory_mb` can run the workload; otherwise a message naming the
// value and what was expected (off-grid or below the need).
std::string MemoryError(const Scenario& scenario, int memory_mb);

// vCPUs a function of `memory_mb` gets: memory / mb_per_vcpu, capped.
double VcpusFor(const LambdaSpec& lambda, int memory_mb);

// Median time to compute the gradient of one mini-batch at `memory_mb`:
// batch FLOPs / (vCPUs x per-vCPU throughput).
double ComputeSecondsPerBatch(const Scenario& scenario, int memory_mb);

// Network bandwidth of one function in MB/s: linear in memory up to the cap.
double BandwidthMbPerS(const LambdaSpec& lambda, int memory_mb);

// Draws a cold-start latency in seconds for `memory_mb` and the workload's
// package size: truncated Normal(mean(m), sd(m)) + package term.
double SampleColdStartS(const Scenario& scenario, int memory_mb, Rng& rng);

// Draws a warm-start overhead in seconds (log-normal around the median).
double SampleWarmStartS(const LambdaSpec& lambda, Rng& rng);

}  // namespace siren::sim

#endif  // SIREN_SIM_PLATFORM_AWS_LAMBDA_LAMBDA_MODEL_H_
