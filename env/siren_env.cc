#include "env/siren_env.h"

#include <stdexcept>
#include <vector>

#include "sim/engine/budget_clamp.h"

namespace siren::env {

SirenEnv::SirenEnv(std::shared_ptr<const sim::Scenario> scenario,
                   ActionEncoding encoding)
    : scenario_(scenario),
      simulation_(scenario, 0),
      base_scale_(ObservationScale::FromScenario(
          *scenario, simulation_.platform(), simulation_.true_loss())),
      scale_(base_scale_),
      codec_(*scenario, scale_.env, simulation_.platform(), encoding) {}

void SirenEnv::Reset(uint64_t seed, float* observation) {
  simulation_.Reset(seed);
  scale_ = base_scale_.ForEpisode(*scenario_, simulation_.scenario());
  started_ = true;
  ended_ = false;
  steps_ = 0;
  episode_return_ = 0;
  WriteInitialObservation(scale_, observation);
}

StepOutcome SirenEnv::Step(const double* action, float* observation,
                           StepInfo* info) {
  if (!started_) throw std::logic_error("step() before reset(): call reset()");
  if (ended_) {
    throw std::logic_error(
        "step() after the episode ended (terminated or truncated): call "
        "reset()");
  }
  const DecodedAction decoded = codec_.Decode(action);
  const StepOutcome outcome = DoStep(decoded, observation, info);
  ++steps_;
  episode_return_ += outcome.reward;
  ended_ = outcome.terminated || outcome.truncated;
  return outcome;
}

DecodedAction SirenEnv::ClampToBudget(const DecodedAction& action) {
  const sim::Action requested{action.functions, action.memory_mb};
  // Far from the budget's end the guard does not project, and neither does
  // the clamp: the action is affordable by a wide margin.
  if (!simulation_.NeedsProjection(requested)) return action;
  const double left = simulation_.budget_left_usd();
  std::vector<int> sizes;
  const sim::Scenario& job = simulation_.scenario();
  for (int memory_mb : codec_.memory_grid()) {
    if (sim::MemoryError(simulation_.platform(), job, memory_mb).empty()) {
      sizes.push_back(memory_mb);
    }
  }
  const sim::BudgetClamp clamp = sim::ClampToBudget(
      requested, sizes, scale_.env.min_functions, [&](const sim::Action& a) {
        try {
          // The guard's test (Simulation::RunEpoch): run unless projected
          // over the budget left.
          return simulation_.ProjectAndRemember(a).bound_usd <= left;
        } catch (const sim::InvalidAction&) {
          return false;  // Cannot run at all (too slow for the timeout).
        }
      });
  if (!clamp.clamped) return action;
  DecodedAction out = action;
  out.functions = clamp.action.functions;
  out.memory_mb = clamp.action.memory_mb;
  out.budget_clamped = true;
  return out;
}

StepOutcome SirenEnv::DoStep(const DecodedAction& requested, float* observation,
                             StepInfo* info) {
  const DecodedAction action = scale_.env.action_clamp == ActionClamp::kBudget
                                   ? ClampToBudget(requested)
                                   : requested;
  const sim::EpochResult epoch =
      simulation_.RunEpoch({action.functions, action.memory_mb});
  WriteObservation(scale_, epoch, observation);
  const StepOutcome outcome = ScoreEpoch(scale_.env, epoch);
  if (info != nullptr) {
    info->action = action;
    info->epoch = epoch;
  }
  return outcome;
}

}  // namespace siren::env
