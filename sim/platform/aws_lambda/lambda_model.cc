#include "sim/platform/aws_lambda/lambda_model.h"

#include <algorithm>
#include <cmath>
#include <sstream>

#include "sim/scenario/workload.h"

namespace siren::sim {
namespace {

constexpr double kBytesPerMb = 1024.0 * 1024.0;

// Linear interpolation in a table, clamped to its end values.
double Interpolate(const std::vector<double>& xs, const std::vector<double>& ys,
                   double x) {
  if (xs.empty()) return 0;
  if (x <= xs.front()) return ys.front();
  if (x >= xs.back()) return ys.back();
  const auto upper = std::upper_bound(xs.begin(), xs.end(), x);
  const size_t hi = upper - xs.begin();
  const size_t lo = hi - 1;
  const double w = (x - xs[lo]) / (xs[hi] - xs[lo]);
  return ys[lo] + w * (ys[hi] - ys[lo]);
}

}  // namespace

bool IsOnMemoryGrid(const LambdaSpec& lambda, int memory_mb) {
  if (memory_mb < lambda.min_memory_mb || memory_mb > lambda.max_memory_mb) {
    return false;
  }
  return (memory_mb - lambda.min_memory_mb) % lambda.memory_step_mb == 0;
}

std::vector<int> MemoryGrid(const LambdaSpec& lambda) {
  std::vector<int> grid;
  for (int m = lambda.min_memory_mb; m <= lambda.max_memory_mb;
       m += lambda.memory_step_mb) {
    grid.push_back(m);
  }
  return grid;
}

double MemoryNeedMb(const Scenario& scenario) {
  const WorkloadSpec& w = scenario.workload;
  return w.runtime_memory_mb +
         scenario.execution.memory_overhead_factor * ModelBytes(w) /
             kBytesPerMb +
         BatchBytes(w) / kBytesPerMb;
}

int MinFeasibleMemoryMb(const Scenario& scenario) {
  const LambdaSpec& lambda = scenario.lambda;
  const double need = MemoryNeedMb(scenario);
  if (need > lambda.max_memory_mb) return -1;
  if (need <= lambda.min_memory_mb) return lambda.min_memory_mb;
  const int steps = static_cast<int>(
      std::ceil((need - lambda.min_memory_mb) / lambda.memory_step_mb));
  const int memory = lambda.min_memory_mb + steps * lambda.memory_step_mb;
  return memory <= lambda.max_memory_mb ? memory : -1;
}

std::string MemoryError(const Scenario& scenario, int memory_mb) {
  const LambdaSpec& lambda = scenario.lambda;
  std::ostringstream message;
  if (!IsOnMemoryGrid(lambda, memory_mb)) {
    message << "memory_mb: got " << memory_mb << ", expected a size in ["
            << lambda.min_memory_mb << ", " << lambda.max_memory_mb
            << "] MB in steps of " << lambda.memory_step_mb << " MB from "
            << lambda.min_memory_mb;
    return message.str();
  }
  const int min_feasible = MinFeasibleMemoryMb(scenario);
  if (memory_mb < min_feasible) {
    message << "memory_mb: got " << memory_mb
            << ", expected >= " << min_feasible << " MB: the workload '"
            << scenario.workload.name << "' needs " << MemoryNeedMb(scenario)
            << " MB (out of memory below that)";
    return message.str();
  }
  return "";
}

double VcpusFor(const LambdaSpec& lambda, int memory_mb) {
  return std::min(lambda.max_vcpus, memory_mb / lambda.mb_per_vcpu);
}

double ComputeSecondsPerBatch(const Scenario& scenario, int memory_mb) {
  const LambdaSpec& lambda = scenario.lambda;
  return scenario.workload.flops_per_sample * scenario.workload.batch_size /
         (VcpusFor(lambda, memory_mb) * lambda.gflops_per_vcpu * 1e9);
}

double BandwidthMbPerS(const LambdaSpec& lambda, int memory_mb) {
  const double fraction =
      std::min(1.0, memory_mb / lambda.bandwidth_saturation_mb);
  return lambda.bandwidth_cap_mb_per_s * fraction;
}

double SampleColdStartS(const Scenario& scenario, int memory_mb, Rng& rng) {
  const ColdStartSpec& cold = scenario.lambda.cold_start;
  const double mean_ms = Interpolate(cold.memory_mb, cold.mean_ms, memory_mb);
  const double sd_ms = Interpolate(cold.memory_mb, cold.sd_ms, memory_mb);
  const double base_ms = rng.TruncatedNormalNonNegative(mean_ms, sd_ms);
  const double package_ms =
      cold.ms_per_package_mb * scenario.workload.package_mb;
  return (base_ms + package_ms) * 1e-3;
}

double SampleWarmStartS(const LambdaSpec& lambda, Rng& rng) {
  return rng.LogNormal(lambda.warm_start_median_ms, lambda.warm_start_sigma) *
         1e-3;
}

}  // namespace siren::sim
