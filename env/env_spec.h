// The env layer's settings: the MDP built on a simulated job (DESIGN.md §3),
// declared here as the `env.*` section of the parameter table (the simulator
// ignores them) and read once into EnvSpec.
#ifndef SIREN_ENV_ENV_SPEC_H_
#define SIREN_ENV_ENV_SPEC_H_

#include "sim/scenario/param_table.h"
#include "sim/scenario/scenario.h"

namespace siren::env {

// How actions are mapped to a number of functions.
enum class FunctionScale { kLog, kLinear };

// What the env does with an action the budget cannot pay (env.action_clamp):
// run it (kNone: the budget guard ends the job) or run the closest affordable
// one instead (kBudget: sim/engine/budget_clamp.h).
enum class ActionClamp { kNone, kBudget };

// Reward per epoch: -reward_per_second * epoch seconds; on success (target
// loss within budget) +success_bonus; when the budget runs out first
// -budget_penalty.
struct EnvSpec {
  double reward_per_second = 0.01;  // beta.
  double success_bonus = 1;
  double budget_penalty = 5;
  int min_functions = 1;  // Action range for n.
  int max_functions = 1000;
  FunctionScale function_scale = FunctionScale::kLog;
  int function_bins = 64;         // MultiDiscrete choices for n.
  int memory_bins = 46;           // MultiDiscrete choices for memory.
  double time_scale_s = 60;       // Observation unit of epoch durations.
  double batch_time_scale_s = 1;  // Observation unit of per-batch times.
  double observation_clip = 100;  // Upper bound of normalised times.
  double budget_scale_usd = 1;    // Observation unit of the job's budget.
  ActionClamp action_clamp = ActionClamp::kNone;

  static EnvSpec FromScenario(const sim::Scenario& scenario);
};

// The `env.*` section (registered by env_spec.cc at static initialisation).
sim::ParamSection EnvParamSection();

}  // namespace siren::env

#endif  // SIREN_ENV_ENV_SPEC_H_
