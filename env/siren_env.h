// One SIREN MDP (DESIGN.md §3) over one simulated job: reset, step, specs.
//
// Contract (OpenSpiel State habit: the public Step checks and counts, the
// private DoStep works):
//  - Reset(seed, obs) starts a new job seeded with `seed` (drawn from the
//    scenario's per-episode variability, if any: sim/engine/job_draw.h) and
//    writes the initial observation (observation.h) into
//    obs[kObservationSize].
//  - Step(action, obs, info) decodes the two action values (action_codec.h),
//    with env.action_clamp budget replaces an action whose projected cost
//    exceeds the budget left by the closest affordable one
//    (sim/engine/budget_clamp.h; the guard's own projection and test, made
//    only when the guard would project: near the budget's end and at the
//    first epoch; info->action says what ran and what was asked), runs one
//    epoch, writes the next observation and returns the reward and
//    the end flags:
//      reward = -env.reward_per_second * epoch seconds,
//               + env.success_bonus  when the target loss is reached within
//                                    the budget (terminated),
//               - env.budget_penalty when the budget runs out first
//                                    (terminated);
//      truncated when job.max_epochs epochs have run without either.
//  - Step before Reset, or after the episode ended, throws std::logic_error;
//    a bad action throws sim::InvalidAction; neither changes the state.
// Deterministic: the same scenario, seed and actions give bit-identical
// observations, rewards and infos.
#ifndef SIREN_ENV_SIREN_ENV_H_
#define SIREN_ENV_SIREN_ENV_H_

#include <cstdint>
#include <memory>

#include "env/action_codec.h"
#include "env/observation.h"
#include "env/reward.h"
#include "sim/core/epoch_result.h"
#include "sim/engine/simulation.h"
#include "sim/scenario/scenario.h"

namespace siren::env {

struct StepInfo {
  DecodedAction action;
  sim::EpochResult epoch;
};

class SirenEnv {
 public:
  SirenEnv(std::shared_ptr<const sim::Scenario> scenario,
           ActionEncoding encoding);

  void Reset(uint64_t seed, float* observation);
  StepOutcome Step(const double* action, float* observation, StepInfo* info);

  // Decodes without stepping (for info and tests); throws like Step.
  DecodedAction DecodeAction(const double* action) const {
    return codec_.Decode(action);
  }

  const sim::Scenario& scenario() const { return *scenario_; }
  // This episode's job (the scenario with its per-episode draws applied,
  // sim/engine/job_draw.h); scenario() when it draws nothing.
  const sim::Scenario& episode_scenario() const {
    return simulation_.scenario();
  }
  const ActionCodec& codec() const { return codec_; }
  const ObservationScale& observation_scale() const { return scale_; }
  bool needs_reset() const { return !started_ || ended_; }
  int episode_steps() const { return steps_; }
  double episode_return() const { return episode_return_; }

 private:
  StepOutcome DoStep(const DecodedAction& action, float* observation,
                     StepInfo* info);
  // env.action_clamp budget: `action`, or the closest one the guard's
  // projection finds affordable (budget_clamped set).
  DecodedAction ClampToBudget(const DecodedAction& action);

  std::shared_ptr<const sim::Scenario> scenario_;
  // Built first: the scale and the codec take its platform and initial loss
  // instead of building their own.
  sim::Simulation simulation_;
  ObservationScale base_scale_;  // Of the scenario as given.
  ObservationScale scale_;       // Of this episode's job (its budget).
  ActionCodec codec_;
  bool started_ = false;
  bool ended_ = false;
  int steps_ = 0;
  double episode_return_ = 0;
};

}  // namespace siren::env

#endif  // SIREN_ENV_SIREN_ENV_H_
