// One projection of an epoch's cost, shared by the simulator's budget guard
// (job.budget_guard project), the runner's guard (`_core.project_epoch_cost`)
// and the learner.
//
// Method: the epoch is simulated `samples` times from the job's state (its
// clock, warm pool, scaling tokens, S3 state and memory history), each time
// with fresh random streams derived from `seed` and without the convergence
// model (the loss does not change an epoch's cost), with no spend cap. That
// covers what a formula would miss: S3 requests that grow with n (refused
// compare-and-swap pushes and their back-off, the fold protocol's folder
// function and its LIST requests), cold starts and their billed INIT after a
// memory change, throttles, timeouts and re-invocations. The projection is the
// largest sample times `margin` (job.budget_margin, a stated safety factor
// for what the samples did not see).
//
// Deterministic: the same inputs give the same projection.
#ifndef SIREN_SIM_ENGINE_COST_PROJECTION_H_
#define SIREN_SIM_ENGINE_COST_PROJECTION_H_

#include <cstdint>
#include <memory>

#include "sim/core/epoch_result.h"
#include "sim/engine/epoch_engine.h"
#include "sim/platform/platform.h"
#include "sim/scenario/scenario.h"

namespace siren::sim {

struct CostProjection {
  double mean_usd = 0;   // Mean of the samples.
  double max_usd = 0;    // Largest sample.
  double bound_usd = 0;  // max_usd x margin: what a guard compares.
  int samples = 0;
  // The mix of the mean sample, for splitting an allowance: its function
  // duration charge and its S3 requests.
  double mean_duration_usd = 0;
  double mean_s3_gets = 0;
  double mean_s3_puts = 0;
  double mean_s3_lists = 0;  // push_protocol fold's folder.
};

// What a caller without a JobState (the runner) knows about the job before
// the epoch: the memory of its last epoch (0 before the first), the idle warm
// instances it left, and how many epochs ran.
struct JobSummary {
  int previous_memory_mb = 0;
  int warm_instances = 0;
  int epoch = 0;
};

// Projects `action` (valid for the scenario) from `job`.
CostProjection ProjectEpochCost(const Scenario& scenario,
                                std::shared_ptr<const Platform> platform,
                                const JobState& job, const Action& action,
                                int samples, double margin, uint64_t seed);

// The same from a summary: a job whose `warm_instances` idle instances of
// `previous_memory_mb` were released at the epoch's start.
CostProjection ProjectEpochCost(const Scenario& scenario,
                                std::shared_ptr<const Platform> platform,
                                const JobSummary& summary, const Action& action,
                                int samples, double margin, uint64_t seed);

}  // namespace siren::sim

#endif  // SIREN_SIM_ENGINE_COST_PROJECTION_H_
