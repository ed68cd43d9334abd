#include "sim/engine/simulation.h"

#include <algorithm>
#include <limits>
#include <sstream>
#include <utility>
#include <vector>

#include "sim/engine/cost_projection.h"
#include "sim/engine/epoch_engine.h"
#include "sim/engine/job_draw.h"
#include "sim/platform/platform.h"

namespace siren::sim {

// The per-job state plus the reusable epoch engine.
class SimulationState {
 public:
  SimulationState(const Scenario& scenario, uint64_t seed)
      : SimulationState(scenario, MakePlatform(scenario), seed) {}
  SimulationState(const Scenario& scenario,
                  std::shared_ptr<const Platform> platform, uint64_t seed)
      : job(scenario, *platform, seed), engine(scenario, std::move(platform)) {}
  JobState job;
  EpochEngine engine;
  // The last epoch run (functions 0 before the first; its memory is
  // job.memory_mb): the guard's quick estimate.
  double last_cost_usd = 0;
  int last_functions = 0;
  // ProjectAndRemember's projections for the epoch about to run (cleared
  // when it runs and on Reset).
  std::vector<std::pair<Action, CostProjection>> remembered;
};

namespace {

// The guard projects an epoch unless the budget left is over this many times
// a quick estimate of its cost (below).
constexpr double kProjectBelowEstimates = 4;

}  // namespace

const char* JobStatusName(JobStatus status) {
  switch (status) {
    case JobStatus::kRunning:
      return "running";
    case JobStatus::kConverged:
      return "converged";
    case JobStatus::kBudgetExhausted:
      return "budget_exhausted";
    case JobStatus::kEpochLimit:
      return "epoch_limit";
  }
  return "unknown";
}

Simulation::Simulation(std::shared_ptr<const Scenario> scenario, uint64_t seed)
    : base_(std::move(scenario)),
      scenario_(EpisodeScenario(base_, seed)),
      varies_(JobVariability::FromScenario(*base_).Any()),
      state_(std::make_unique<SimulationState>(*scenario_, seed)) {}

Simulation::~Simulation() = default;

Simulation::Simulation(const Simulation& other)
    : base_(other.base_),
      scenario_(other.scenario_),
      varies_(other.varies_),
      state_(std::make_unique<SimulationState>(*other.state_)) {}

Simulation& Simulation::operator=(const Simulation& other) {
  if (this != &other) {
    base_ = other.base_;
    scenario_ = other.scenario_;
    varies_ = other.varies_;
    state_ = std::make_unique<SimulationState>(*other.state_);
    observers_.clear();
  }
  return *this;
}

Simulation::Simulation(Simulation&&) noexcept = default;
Simulation& Simulation::operator=(Simulation&&) noexcept = default;

void Simulation::Reset(uint64_t seed) {
  if (varies_) {
    // A new job each episode: its platform and engine are built from it.
    scenario_ = EpisodeScenario(base_, seed);
    state_ = std::make_unique<SimulationState>(*scenario_, seed);
    return;
  }
  state_->job = JobState(*scenario_, state_->engine.platform(), seed);
  state_->last_cost_usd = 0;
  state_->last_functions = 0;
  state_->remembered.clear();
}

bool Simulation::NeedsProjection(const Action& action) const {
  const SimulationState& s = *state_;
  if (s.last_functions == 0) return true;
  // The last epoch's cost scaled by memory and (up only) by functions.
  const double estimate =
      s.last_cost_usd * action.memory_mb / s.job.memory_mb *
      std::max(1.0, static_cast<double>(action.functions) / s.last_functions);
  return budget_left_usd() <=
         kProjectBelowEstimates * scenario_->job.budget_margin * estimate;
}

void Simulation::CheckAction(const Action& action) const {
  if (action.functions < 1) {
    throw InvalidAction("functions: got " + std::to_string(action.functions) +
                        ", expected an integer >= 1");
  }
  const Platform& platform = state_->engine.platform();
  const std::string memory_error =
      MemoryError(platform, *scenario_, action.memory_mb);
  if (!memory_error.empty()) throw InvalidAction(memory_error);
  const double step_s = state_->engine.NominalStepSeconds(action.memory_mb);
  if (step_s >= platform.timeout_s()) {
    std::ostringstream message;
    message << "memory_mb: got " << action.memory_mb
            << ", one step of execution.sync_every="
            << scenario_->execution.sync_every << " batches takes about "
            << step_s << " s at this size, expected it under the platform's "
            << "timeout of " << platform.timeout_s() << " s"
            << " (more memory or fewer local steps)";
    throw InvalidAction(message.str());
  }
}

CostProjection Simulation::ProjectEpochCost(const Action& action) const {
  CheckAction(action);
  return ProjectChecked(action);
}

const CostProjection* Simulation::Remembered(const Action& action) const {
  for (const auto& [known, projection] : state_->remembered) {
    if (known.functions == action.functions &&
        known.memory_mb == action.memory_mb) {
      return &projection;
    }
  }
  return nullptr;
}

CostProjection Simulation::ProjectAndRemember(const Action& action) {
  CheckAction(action);
  if (const CostProjection* known = Remembered(action)) return *known;
  const CostProjection projection = ProjectChecked(action);
  state_->remembered.emplace_back(action, projection);
  return projection;
}

CostProjection Simulation::ProjectChecked(const Action& action) const {
  const JobState& job = state_->job;
  return sim::ProjectEpochCost(
      *scenario_, state_->engine.shared_platform(), job, action,
      scenario_->job.projection_samples, scenario_->job.budget_margin,
      job.seed ^
          (0xD1B54A32D192ED03ull * static_cast<uint64_t>(job.epoch + 1)));
}

EpochResult Simulation::RunEpoch(const Action& action) {
  JobState& job = state_->job;
  if (job.status != JobStatus::kRunning) {
    throw InvalidAction(std::string("the job has stopped (status ") +
                        JobStatusName(job.status) +
                        "); expected Reset() before another epoch");
  }
  CheckAction(action);
  // The budget guard: with `project`, an epoch projected to cost more than
  // the budget left is not run; either way the epoch is cut at the budget
  // (less a rounding reserve of 1e-9 of it, so that sums of bills never
  // cross it). The projection (which simulates the epoch) is skipped while
  // the budget left is over 4 x margin x the last epoch's cost scaled to
  // this action (NeedsProjection): the first epoch and the last few are
  // projected. A skipped projection cannot overspend: the cut still holds.
  const double left = scenario_->job.budget_usd - job.cost_usd;
  double projected = 0;  // None made.
  if (scenario_->job.budget_guard == BudgetGuard::kProject &&
      NeedsProjection(action)) {
    const CostProjection* known = Remembered(action);
    projected = known ? known->bound_usd : ProjectChecked(action).bound_usd;
    state_->remembered.clear();
    if (projected > left) return SkipForBudget(action, projected);
  }
  state_->remembered.clear();
  EpochResult result = state_->engine.Run(
      action, job, observers_, left - 1e-9 * scenario_->job.budget_usd);
  result.projected_cost_usd = projected;
  state_->last_cost_usd = result.cost.total_usd();
  state_->last_functions = action.functions;
  return result;
}

EpochResult Simulation::SkipForBudget(const Action& action, double projected) {
  JobState& job = state_->job;
  job.status = JobStatus::kBudgetExhausted;
  EpochResult result;
  result.epoch = job.epoch;
  result.action = action;
  FillJobFields(job, result);
  result.budget_stop = BudgetStop::kBeforeEpoch;
  result.projected_cost_usd = projected;
  for (Observer* o : observers_) {
    o->OnEpochStart(job.epoch, result.cumulative_time_s, action);
    o->OnEpochEnd(result);
  }
  return result;
}

void Simulation::AddObserver(Observer* observer) {
  if (std::find(observers_.begin(), observers_.end(), observer) ==
      observers_.end()) {
    observers_.push_back(observer);
  }
}

void Simulation::RemoveObserver(Observer* observer) {
  observers_.erase(std::remove(observers_.begin(), observers_.end(), observer),
                   observers_.end());
}

const Platform& Simulation::platform() const {
  return state_->engine.platform();
}
int Simulation::epoch() const { return state_->job.epoch; }
double Simulation::time_s() const {
  return SimTimeToSeconds(state_->job.clock);
}
double Simulation::budget_left_usd() const {
  return scenario_->job.budget_usd - state_->job.cost_usd;
}
double Simulation::cost_usd() const { return state_->job.cost_usd; }
double Simulation::loss() const { return state_->job.loss; }
double Simulation::true_loss() const { return state_->job.true_loss; }
JobStatus Simulation::status() const { return state_->job.status; }
int64_t Simulation::total_events() const { return state_->job.total_events; }

}  // namespace siren::sim
