// Per-episode job variability: the scenario describes a distribution of jobs
// rather than one, and every Simulation::Reset(seed) draws the episode's job
// from it (a budget, a dataset size, a loss-noise level, compute and S3
// slowdowns), so that one policy can be trained and judged over many jobs.
//
// Parameters (section "per-episode job variability", registered here):
//   job.budget_range                   [] or [lo, hi] USD: the episode's
//                                      budget replaces job.budget_usd
//   job.budget_draw                    "log_uniform" (default) or "uniform"
//   variability.dataset_scale_range    [] or [lo, hi]: factor on
//                                      workload.dataset_samples
//   variability.loss_noise_scale_range [] or [lo, hi]: factor on
//                                      convergence.loss_noise_sigma
//                                      (convergence.model=analytic only)
//   variability.compute_slowdown_range [] or [lo, hi]: lambda.gflops_per_vcpu
//                                      is divided by it (aws_lambda only)
//   variability.s3_slowdown_range      [] or [lo, hi]: S3 GET/PUT latency
//                                      medians times it, the per-connection
//                                      cap divided by it
// An empty range (the default) leaves the value as the scenario sets it; the
// scale factors are drawn log-uniformly on [lo, hi].
//
// Determinism: the draws come from their own stream (RngStream::kJobDraw) of
// the episode's seed, five uniforms in a fixed order whether or not a range
// is set, so the episode's job depends only on (scenario, seed) and adding
// one range does not change the others' draws. Without any range the
// episode's scenario is the scenario itself (no copy, no change).
#ifndef SIREN_SIM_ENGINE_JOB_DRAW_H_
#define SIREN_SIM_ENGINE_JOB_DRAW_H_

#include <cstdint>
#include <memory>
#include <vector>

#include "sim/scenario/param_table.h"
#include "sim/scenario/scenario.h"

namespace siren::sim {

// The ranges, read from a scenario (each empty or {lo, hi}).
struct JobVariability {
  std::vector<double> budget_range;
  bool budget_log_uniform = true;
  std::vector<double> dataset_scale_range;
  std::vector<double> loss_noise_scale_range;
  std::vector<double> compute_slowdown_range;
  std::vector<double> s3_slowdown_range;

  // Whether any range is set.
  bool Any() const;
  static JobVariability FromScenario(const Scenario& scenario);
};

// One episode's job: the drawn values (the scenario's own when no range).
struct EpisodeJob {
  double budget_usd = 0;
  double dataset_scale = 1;
  double loss_noise_scale = 1;
  double compute_slowdown = 1;
  double s3_slowdown = 1;
};

// The job of the episode seeded with `seed`.
EpisodeJob DrawEpisodeJob(const Scenario& scenario, uint64_t seed);

// `base` with `job` applied (a validated scenario when `base` is one and
// `job` was drawn from it).
Scenario ApplyEpisodeJob(const Scenario& base, const EpisodeJob& job);

// The episode's scenario: `base` itself when it has no range, else a copy
// with the drawn job applied.
std::shared_ptr<const Scenario> EpisodeScenario(
    const std::shared_ptr<const Scenario>& base, uint64_t seed);

// The section (registered by job_draw.cc at static initialisation).
ParamSection JobVariabilitySection();

}  // namespace siren::sim

#endif  // SIREN_SIM_ENGINE_JOB_DRAW_H_
