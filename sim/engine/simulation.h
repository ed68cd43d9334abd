// One simulated training job on a serverless platform (AWS Lambda by
// default) and S3, advanced one epoch at a time
// (DESIGN.md §2). The Scenario is constant and shared; the Simulation holds the
// per-job state (clock, warm pool, parameter store, progress, cost, RNG
// streams), which is small and copyable so that a search can branch from any
// epoch (copies do not carry observers).
//
// Determinism: the same scenario, seed and actions give the same results and
// the same observer calls, bit for bit.
#ifndef SIREN_SIM_ENGINE_SIMULATION_H_
#define SIREN_SIM_ENGINE_SIMULATION_H_

#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "sim/core/epoch_result.h"
#include "sim/core/observer.h"
#include "sim/engine/cost_projection.h"
#include "sim/platform/platform.h"
#include "sim/scenario/scenario.h"

namespace siren::sim {

// Thrown when an action cannot run: memory off the platform's grid or below
// what the workload needs, a non-positive number of functions, or a step after
// the job has stopped. The message names the field, the value and what was
// expected; nothing is simulated or billed.
class InvalidAction : public std::invalid_argument {
 public:
  using std::invalid_argument::invalid_argument;
};

class SimulationState;  // Defined in simulation.cc.

class Simulation {
 public:
  // `scenario` must have passed ValidateScenario (LoadScenario does this).
  Simulation(std::shared_ptr<const Scenario> scenario, uint64_t seed);
  ~Simulation();
  Simulation(const Simulation& other);
  Simulation& operator=(const Simulation& other);
  Simulation(Simulation&&) noexcept;
  Simulation& operator=(Simulation&&) noexcept;

  // Restarts the job from epoch 0 with a new seed (empty warm pool, zero
  // progress and cost). Observers stay subscribed. When the scenario has
  // per-episode variability (job_draw.h) the job is drawn anew from `seed`
  // (the constructor draws it too), and scenario() is the drawn one.
  void Reset(uint64_t seed);

  // Runs one epoch with `action` and returns its result. Throws InvalidAction
  // (see above) without changing any state. The job never spends more than
  // job.budget_usd (scenario.h, BudgetGuard): an epoch projected over the
  // budget left is not run (budget_stop before_epoch, nothing spent, the job
  // ends budget_exhausted) and one that reaches it is cut there (mid_epoch).
  // The projection is made for the first epoch and whenever the budget left
  // is under 4 x job.budget_margin x the last epoch's cost scaled to the
  // action (memory ratio x the functions ratio when it grows); the result's
  // projected_cost_usd is 0 when none was made.
  EpochResult RunEpoch(const Action& action);

  // The guard's projection of `action` from the job's current state
  // (cost_projection.h; job.projection_samples, job.budget_margin). Throws
  // InvalidAction for an action RunEpoch would refuse.
  CostProjection ProjectEpochCost(const Action& action) const;

  // ProjectEpochCost, remembered until the epoch runs: RunEpoch's guard
  // reuses the projection of an action projected here (the projection is
  // deterministic, so the result is the one it would compute) instead of
  // simulating it again. For a caller that tests actions before choosing one
  // (the env's budget clamp).
  CostProjection ProjectAndRemember(const Action& action);

  // Whether RunEpoch would project `action` (the first epoch, or the budget
  // left under 4 x job.budget_margin x the last epoch's cost scaled to the
  // action; see RunEpoch). When false, the budget left is far above the
  // epoch's likely cost and the guard lets it run unprojected.
  bool NeedsProjection(const Action& action) const;
  // job.budget_usd less the cost so far: what the guard compares a
  // projection with.
  double budget_left_usd() const;

  // Subscribes `observer` (not owned; must outlive its subscription).
  void AddObserver(Observer* observer);
  void RemoveObserver(Observer* observer);

  // The episode's scenario: the one given, with this episode's draws
  // applied when it has per-episode variability (job_draw.h).
  const Scenario& scenario() const { return *scenario_; }
  const std::shared_ptr<const Scenario>& scenario_ptr() const {
    return scenario_;
  }
  // The scenario as given (the distribution the episodes are drawn from).
  const Scenario& base_scenario() const { return *base_; }
  // The platform the job runs on (built once from the scenario).
  const Platform& platform() const;
  int epoch() const;         // Epochs completed.
  double time_s() const;     // Simulated job wall time.
  double cost_usd() const;   // Cumulative cost.
  double loss() const;       // Last observed loss.
  double true_loss() const;  // Noise-free loss.
  JobStatus status() const;
  bool done() const { return status() != JobStatus::kRunning; }
  int64_t total_events() const;  // Events processed since Reset.

 private:
  // Throws InvalidAction for an action that cannot run (see RunEpoch).
  void CheckAction(const Action& action) const;
  // ProjectAndRemember's projection of `action` this epoch, or null.
  const CostProjection* Remembered(const Action& action) const;
  // ProjectEpochCost of an action CheckAction accepted.
  CostProjection ProjectChecked(const Action& action) const;
  // The row of an epoch the guard did not run; ends the job.
  EpochResult SkipForBudget(const Action& action, double projected);

  std::shared_ptr<const Scenario> base_;      // As given.
  std::shared_ptr<const Scenario> scenario_;  // This episode's.
  bool varies_ = false;  // Whether the scenario has per-episode variability.
  std::unique_ptr<SimulationState> state_;
  std::vector<Observer*> observers_;
};

}  // namespace siren::sim

#endif  // SIREN_SIM_ENGINE_SIMULATION_H_
