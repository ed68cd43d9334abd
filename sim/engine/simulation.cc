#include "sim/engine/simulation.h"

#include <algorithm>
#include <sstream>

#include "sim/engine/epoch_engine.h"
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
};

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
    : scenario_(std::move(scenario)),
      state_(std::make_unique<SimulationState>(*scenario_, seed)) {}

Simulation::~Simulation() = default;

Simulation::Simulation(const Simulation& other)
    : scenario_(other.scenario_),
      state_(std::make_unique<SimulationState>(*other.state_)) {}

Simulation& Simulation::operator=(const Simulation& other) {
  if (this != &other) {
    scenario_ = other.scenario_;
    state_ = std::make_unique<SimulationState>(*other.state_);
    observers_.clear();
  }
  return *this;
}

Simulation::Simulation(Simulation&&) noexcept = default;
Simulation& Simulation::operator=(Simulation&&) noexcept = default;

void Simulation::Reset(uint64_t seed) {
  state_->job = JobState(*scenario_, state_->engine.platform(), seed);
}

EpochResult Simulation::RunEpoch(const Action& action) {
  JobState& job = state_->job;
  if (job.status != JobStatus::kRunning) {
    throw InvalidAction(std::string("the job has stopped (status ") +
                        JobStatusName(job.status) +
                        "); expected Reset() before another epoch");
  }
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
  return state_->engine.Run(action, job, observers_);
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
double Simulation::cost_usd() const { return state_->job.cost_usd; }
double Simulation::loss() const { return state_->job.loss; }
double Simulation::true_loss() const { return state_->job.true_loss; }
JobStatus Simulation::status() const { return state_->job.status; }
int64_t Simulation::total_events() const { return state_->job.total_events; }

}  // namespace siren::sim
