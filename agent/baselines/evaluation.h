// Evaluating schedules and policies on a list of seeds (DESIGN.md §4): the
// common ground of every baseline (grid search, CEM, hand schedule) and of
// learned policies.
//
// One episode is one job run until it stops (sim::Simulation::done()). Its
// JCT is the simulated time at the stop, whatever the status, so a failed
// seed still counts with the time it ran; it succeeds when the status is
// kConverged (target loss reached with the cost within job.budget_usd). It
// is over budget when its cost at the stop exceeds job.budget_usd: the epoch
// that exhausts the budget is billed in full, so a job the budget stopped
// usually ends a little above it.
//
// Determinism: an episode depends only on the scenario, the seed and the
// policy's answers. Batches of episodes run on an env::ThreadPool with
// dynamic scheduling, but each outcome is written to its own slot and the
// aggregates are summed in seed order, so results never depend on the thread
// count.
#ifndef SIREN_AGENT_BASELINES_EVALUATION_H_
#define SIREN_AGENT_BASELINES_EVALUATION_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <vector>

#include "env/thread_pool.h"
#include "sim/core/epoch_result.h"
#include "sim/scenario/scenario.h"

namespace siren::baselines {

// A scheduler: the action for epoch `epoch` (0-based) given the previous
// epoch's result (`last` is null at epoch 0). It may be called concurrently
// for different episodes, so it must not mutate shared state; per-episode
// state belongs in the caller (adaptive rules can be written as functions of
// `last`, which carries the cumulative time, cost and loss).
using Policy =
    std::function<sim::Action(const sim::EpochResult* last, int epoch)>;

// A per-epoch schedule: epoch e runs schedule[min(e, size - 1)], i.e. the
// last action repeats. Must not be empty.
using Schedule = std::vector<sim::Action>;

// The policy that plays `schedule` (copied). Throws std::invalid_argument
// when it is empty.
Policy SchedulePolicy(Schedule schedule);

// How one episode ended.
struct EpisodeOutcome {
  uint64_t seed = 0;
  double jct_s = 0;     // Simulated time when the job stopped.
  double cost_usd = 0;  // Cumulative cost when the job stopped.
  int epochs = 0;
  sim::JobStatus status = sim::JobStatus::kRunning;
  bool over_budget = false;  // cost_usd > job.budget_usd.
  bool success() const { return status == sim::JobStatus::kConverged; }
};

// Outcomes of one policy over a list of seeds, with their means.
struct Evaluation {
  std::vector<EpisodeOutcome> episodes;  // In the order of the seeds.
  double mean_jct_s = 0;
  double mean_cost_usd = 0;
  int successes = 0;
  double success_rate = 0;  // successes / seeds.
  int over_budget = 0;      // Episodes whose cost exceeds the budget.
};

// Aggregates outcomes (summed in their order).
Evaluation Summarise(std::vector<EpisodeOutcome> episodes);

// Runs one episode of `policy` from `seed`. Throws sim::InvalidAction when
// the policy returns an action the simulator refuses.
EpisodeOutcome RunEpisode(std::shared_ptr<const sim::Scenario> scenario,
                          const Policy& policy, uint64_t seed);

// One episode to run in a batch: `policy` is not owned and must outlive the
// call.
struct EpisodeTask {
  std::shared_ptr<const sim::Scenario> scenario;
  const Policy* policy = nullptr;
  uint64_t seed = 0;
};

// Runs every task on `pool` (dynamic scheduling, one slot per task) and
// returns the outcomes in task order. Rethrows the first exception a task
// threw, after all have finished.
std::vector<EpisodeOutcome> RunEpisodes(const std::vector<EpisodeTask>& tasks,
                                        env::ThreadPool& pool);

// `policy` over `seeds`, in parallel on `pool`.
Evaluation EvaluatePolicy(std::shared_ptr<const sim::Scenario> scenario,
                          const Policy& policy,
                          const std::vector<uint64_t>& seeds,
                          env::ThreadPool& pool);

// `schedule` (the last action repeats) over `seeds`.
Evaluation EvaluateSchedule(std::shared_ptr<const sim::Scenario> scenario,
                            const Schedule& schedule,
                            const std::vector<uint64_t>& seeds,
                            env::ThreadPool& pool);

// A copy of `scenario` with job.budget_usd = `budget_usd` (the scenario is
// otherwise shared and immutable). Throws std::invalid_argument naming the
// value unless it is finite and > 0.
std::shared_ptr<const sim::Scenario> WithBudget(const sim::Scenario& scenario,
                                                double budget_usd);

// seeds first, first + 1, ..., first + count - 1.
std::vector<uint64_t> SeedRange(uint64_t first, int count);

}  // namespace siren::baselines

#endif  // SIREN_AGENT_BASELINES_EVALUATION_H_
