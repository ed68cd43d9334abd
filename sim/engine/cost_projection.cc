#include "sim/engine/cost_projection.h"

#include <algorithm>
#include <limits>
#include <utility>
#include <vector>

namespace siren::sim {
namespace {

// A convergence model that does nothing: a projection needs the epoch's
// events and charges, not its loss.
class NoConvergence final : public ConvergenceModel {
 public:
  std::string name() const override { return "none"; }
  double InitialLoss() const override { return 0; }
  void StartEpoch(int, int64_t, uint64_t) override {}
  void OnParamsFetched(int) override {}
  void OnBatchComputed(int, int64_t) override {}
  void OnUpdateApplied(int, int64_t, int) override {}
  void OnUpdateOverwrote(int, int64_t, int) override {}
  void OnUpdateStored(int) override {}
  void OnStoredUpdateApplied(int, int64_t, int) override {}
  void OnRoundClosed(const std::vector<int32_t>&, int64_t) override {}
  void OnLocalWorkDropped(int) override {}
  EpochLoss EndEpoch(Rng&) override { return {0, 0}; }
  double progress() const override { return 0; }
  std::unique_ptr<ConvergenceModel> Clone() const override {
    return std::make_unique<NoConvergence>();
  }
};

// A fresh job state with its own random streams (from `seed`) and no
// convergence model.
JobState BlankState(const Scenario& scenario, const Platform& platform,
                    uint64_t seed) {
  return JobState(scenario, platform, seed,
                  ConvergenceHandle(std::make_unique<NoConvergence>()));
}

// The epoch's projection from `base` (copied per sample, streams reseeded).
CostProjection Project(const Scenario& scenario,
                       std::shared_ptr<const Platform> platform,
                       const JobState& base, const Action& action, int samples,
                       double margin, uint64_t seed) {
  EpochEngine engine(scenario, platform);
  const std::vector<Observer*> no_observers;
  CostProjection projection;
  projection.samples = std::max(1, samples);
  double sum = 0;
  for (int k = 0; k < projection.samples; ++k) {
    JobState job = BlankState(
        scenario, *platform,
        seed ^ (0x9E3779B97F4A7C15ull * static_cast<uint64_t>(k + 1)));
    job.clock = base.clock;
    job.epoch = base.epoch;
    job.version = base.version;
    job.memory_mb = base.memory_mb;
    job.scaling_tokens = base.scaling_tokens;
    job.scaling_refilled_at = base.scaling_refilled_at;
    job.warm_pool = base.warm_pool;
    job.s3 = base.s3;
    const EpochResult result = engine.Run(
        action, job, no_observers, std::numeric_limits<double>::infinity());
    const double cost = result.cost.total_usd();
    sum += cost;
    projection.mean_duration_usd += result.cost.function_duration_usd;
    projection.mean_s3_gets += static_cast<double>(result.s3_gets);
    projection.mean_s3_puts += static_cast<double>(result.s3_puts);
    projection.mean_s3_lists += static_cast<double>(result.list_requests);
    projection.max_usd = std::max(projection.max_usd, cost);
  }
  projection.mean_usd = sum / projection.samples;
  projection.mean_duration_usd /= projection.samples;
  projection.mean_s3_gets /= projection.samples;
  projection.mean_s3_puts /= projection.samples;
  projection.mean_s3_lists /= projection.samples;
  projection.bound_usd = projection.max_usd * margin;
  return projection;
}

}  // namespace

CostProjection ProjectEpochCost(const Scenario& scenario,
                                std::shared_ptr<const Platform> platform,
                                const JobState& job, const Action& action,
                                int samples, double margin, uint64_t seed) {
  return Project(scenario, std::move(platform), job, action, samples, margin,
                 seed);
}

CostProjection ProjectEpochCost(const Scenario& scenario,
                                std::shared_ptr<const Platform> platform,
                                const JobSummary& summary, const Action& action,
                                int samples, double margin, uint64_t seed) {
  JobState base = BlankState(scenario, *platform, seed);
  base.epoch = summary.epoch;
  base.memory_mb = summary.previous_memory_mb;
  for (int i = 0; i < summary.warm_instances; ++i) {
    base.warm_pool.Release(summary.previous_memory_mb, 0);
  }
  return Project(scenario, std::move(platform), base, action, samples, margin,
                 seed);
}

}  // namespace siren::sim
