#include "env/env_spec.h"

#include <string>
#include <vector>

#include "sim/scenario/param_builders.h"

namespace siren::env {
namespace {

// The action range must not be empty.
void ValidateEnv(const sim::Scenario& s) {
  const EnvSpec env = EnvSpec::FromScenario(s);
  if (env.max_functions < env.min_functions) {
    sim::FailParamValue("env.max_functions", std::to_string(env.max_functions),
                        "an integer >= env.min_functions (" +
                            std::to_string(env.min_functions) + ")");
  }
}

[[maybe_unused]] const bool kRegistered =
    sim::RegisterParamSection(EnvParamSection());

}  // namespace

sim::ParamSection EnvParamSection() {
  using namespace sim::params;  // NOLINT: the builders read as a table.
  using sim::ParamSpec;
  std::vector<ParamSpec> p;
  p.push_back(StoredDouble("env.reward_per_second", 0.01,
                           Between(0, 1000, "[I] keeps rewards finite"),
                           "beta: reward -beta * epoch seconds each epoch.",
                           "[I] SIREN reward r_t = -beta P_t"));
  p.push_back(StoredDouble(
      "env.success_bonus", 1, Between(0, 1e6, "[I] keeps rewards finite"),
      "Final reward when the target loss is reached within budget.",
      "[I] SIREN final reward"));
  p.push_back(StoredDouble(
      "env.budget_penalty", 5, Between(0, 1e6, "[I] keeps rewards finite"),
      "Final penalty (subtracted) when the budget runs out first.",
      "[I] SIREN final penalty"));
  p.push_back(StoredInt<int>(
      "env.min_functions", 1,
      Between(1, 1e6, "[I] as lambda.concurrency_limit"),
      "Smallest number of functions an action can ask for.", "[I]"));
  p.push_back(
      StoredInt<int>("env.max_functions", 1000,
                     Between(1, 1e6, "[I] as lambda.concurrency_limit"),
                     "Largest number of functions an action can ask for.",
                     "[I] the default concurrency limit"));
  p.push_back(
      StoredEnum("env.function_scale", {"log", "linear"}, "log",
                 "How an action coordinate maps to the number of functions.",
                 "[I] log: equal resolution per factor of n"));
  p.push_back(StoredInt<int>(
      "env.function_bins", 64, Between(2, 10000, "[I] MultiDiscrete choices"),
      "MultiDiscrete choices for the number of functions.", "[I]"));
  p.push_back(StoredInt<int>(
      "env.memory_bins", 46, Between(2, 10000, "[I] MultiDiscrete choices"),
      "MultiDiscrete choices for memory, spread over the grid (at most its "
      "size).",
      "[I] the 46 sizes of the 2018 grid"));
  p.push_back(StoredDouble("env.time_scale_s", 60,
                           PositiveUpTo(1e6, "[I] observation unit"),
                           "Observation unit of epoch durations, s.", "[I]"));
  p.push_back(StoredDouble(
      "env.batch_time_scale_s", 1, PositiveUpTo(1e6, "[I] observation unit"),
      "Observation unit of per-batch fetch/compute/update times, s.", "[I]"));
  p.push_back(StoredDouble(
      "env.observation_clip", 100,
      PositiveUpTo(1e6, "[I] keeps observations finite in float32"),
      "Upper bound of normalised times and losses in the observation.", "[I]"));
  p.push_back(StoredDouble(
      "env.budget_scale_usd", 1, PositiveUpTo(1e6, "[I] observation unit"),
      "Observation unit of the job's budget (observation index 10), USD; one "
      "unit for every scenario, so that a policy sees which budget it has.",
      "[I] the default preset's budgets are $0.10-$0.50"));
  p.push_back(StoredEnum(
      "env.action_clamp", {"none", "budget"}, "none",
      "What an epoch runs when the budget guard's projection of the action "
      "(job.budget_margin x its cost, projected as the guard projects it) "
      "exceeds the budget left. none: the action as asked, so the guard "
      "ends the job (budget_exhausted, nothing overspent); budget: the "
      "closest affordable action (same memory and fewer functions, by "
      "bisection on the projection; else a smaller memory), reported in "
      "the step info (requested_functions, budget_clamped); the job ends as "
      "with none only when not even env.min_functions at the smallest "
      "feasible memory are affordable.",
      "[I] none keeps the MDP of the paper; budget measured in "
      "agent/README.md (The budget as a constraint)"));

  sim::ParamSection section;
  section.name = "env (the MDP; read by env/, ignored by the simulator)";
  section.order = 300;
  section.params = std::move(p);
  section.validate = &ValidateEnv;
  return section;
}

EnvSpec EnvSpec::FromScenario(const sim::Scenario& scenario) {
  const sim::ParamValues& p = scenario.params;
  EnvSpec env;
  env.reward_per_second = p.Double("env.reward_per_second");
  env.success_bonus = p.Double("env.success_bonus");
  env.budget_penalty = p.Double("env.budget_penalty");
  env.min_functions = static_cast<int>(p.Int("env.min_functions"));
  env.max_functions = static_cast<int>(p.Int("env.max_functions"));
  env.function_scale = p.String("env.function_scale") == "linear"
                           ? FunctionScale::kLinear
                           : FunctionScale::kLog;
  env.function_bins = static_cast<int>(p.Int("env.function_bins"));
  env.memory_bins = static_cast<int>(p.Int("env.memory_bins"));
  env.time_scale_s = p.Double("env.time_scale_s");
  env.batch_time_scale_s = p.Double("env.batch_time_scale_s");
  env.observation_clip = p.Double("env.observation_clip");
  env.budget_scale_usd = p.Double("env.budget_scale_usd");
  env.action_clamp = p.String("env.action_clamp") == "budget"
                         ? ActionClamp::kBudget
                         : ActionClamp::kNone;
  return env;
}

}  // namespace siren::env
