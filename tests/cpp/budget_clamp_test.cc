// The budget clamp (sim/engine/budget_clamp.h) and env.action_clamp budget:
// the search on a known cost, a clamped action affordable by the guard's
// projection, an affordable action unchanged, no overspend for a policy that
// always asks for the largest action, and determinism across thread counts.
#include "sim/engine/budget_clamp.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "env/siren_env.h"
#include "env/step_info.h"
#include "env/vector_env.h"
#include "sim/engine/simulation.h"
#include "sim/scenario/scenario_loader.h"

namespace siren {
namespace {

// --- the search, on a cost known in closed form ----------------------------

// Cost n x m / 1000 USD, affordable up to `left`; counts its calls.
struct LinearCost {
  double left;
  int calls = 0;
  bool operator()(const sim::Action& a) {
    ++calls;
    return a.functions * a.memory_mb / 1000.0 <= left;
  }
};

const std::vector<int> kSizes = {512, 1024, 2048, 3008};

TEST(BudgetClampTest, AnAffordableActionIsUnchangedAfterOneCheck) {
  LinearCost cost{1e9};
  const sim::BudgetClamp c = sim::ClampToBudget(
      {100, 2048}, kSizes, 1, [&](const sim::Action& a) { return cost(a); });
  EXPECT_FALSE(c.clamped);
  EXPECT_TRUE(c.affordable);
  EXPECT_EQ(c.action.functions, 100);
  EXPECT_EQ(c.action.memory_mb, 2048);
  EXPECT_EQ(c.checks, 1);
  EXPECT_EQ(cost.calls, 1);
}

TEST(BudgetClampTest, KeepsMemoryAndFindsTheMostAffordableFunctions) {
  for (int requested : {2, 37, 1000}) {
    for (double left : {2.5, 10.0, 77.7, 2047.9}) {
      SCOPED_TRACE(std::to_string(requested) + " functions, left " +
                   std::to_string(left));
      LinearCost cost{left};
      const sim::BudgetClamp c =
          sim::ClampToBudget({requested, 2048}, kSizes, 1,
                             [&](const sim::Action& a) { return cost(a); });
      const int most = static_cast<int>(left * 1000 / 2048);  // >= 1 here.
      if (most >= requested) {
        EXPECT_FALSE(c.clamped);
        EXPECT_EQ(c.action.functions, requested);
        continue;
      }
      EXPECT_TRUE(c.clamped);
      EXPECT_TRUE(c.affordable);
      EXPECT_EQ(c.action.memory_mb, 2048);
      EXPECT_EQ(c.action.functions, most);
      // 1 + 1 + ceil(log2(requested - 1)) at most.
      EXPECT_LE(c.checks, 2 + 10);
      EXPECT_EQ(c.checks, cost.calls);
    }
  }
}

TEST(BudgetClampTest, FallsBackToTheLargestAffordableSmallerMemory) {
  // One function at 2048 MB costs 2.048; 1.5 pays 1 at 1024 MB, none above.
  LinearCost cost{1.5};
  const sim::BudgetClamp c = sim::ClampToBudget(
      {50, 2048}, kSizes, 1, [&](const sim::Action& a) { return cost(a); });
  EXPECT_TRUE(c.clamped);
  EXPECT_TRUE(c.affordable);
  EXPECT_EQ(c.action.memory_mb, 1024);
  EXPECT_EQ(c.action.functions, 1);
  // 3.0 pays one function at 2048 MB, the largest size that fits one.
  LinearCost more{3.0};
  const sim::BudgetClamp d = sim::ClampToBudget(
      {50, 3008}, kSizes, 1, [&](const sim::Action& a) { return more(a); });
  EXPECT_EQ(d.action.memory_mb, 2048);
  EXPECT_EQ(d.action.functions, 1);
}

TEST(BudgetClampTest, NothingAffordableReturnsTheRequestedAction) {
  LinearCost cost{0.1};  // Less than one function at 512 MB.
  const sim::BudgetClamp c = sim::ClampToBudget(
      {10, 2048}, kSizes, 1, [&](const sim::Action& a) { return cost(a); });
  EXPECT_FALSE(c.clamped);
  EXPECT_FALSE(c.affordable);
  EXPECT_EQ(c.action.functions, 10);
  EXPECT_EQ(c.action.memory_mb, 2048);
}

TEST(BudgetClampTest, NeverGoesBelowMinFunctions) {
  // 4 functions at 512 MB cost 2.048: unaffordable with left 2.
  LinearCost cost{2.0};
  const sim::BudgetClamp c = sim::ClampToBudget(
      {100, 3008}, kSizes, 4, [&](const sim::Action& a) { return cost(a); });
  EXPECT_FALSE(c.affordable);
  EXPECT_FALSE(c.clamped);
  LinearCost enough{2.1};
  const sim::BudgetClamp d = sim::ClampToBudget(
      {100, 3008}, kSizes, 4, [&](const sim::Action& a) { return enough(a); });
  EXPECT_TRUE(d.affordable);
  EXPECT_EQ(d.action.memory_mb, 512);
  EXPECT_EQ(d.action.functions, 4);
}

// --- the remembered projection ----------------------------------------------

TEST(BudgetClampTest, ARememberedProjectionIsTheOneTheGuardWouldMake) {
  auto scenario = std::make_shared<const sim::Scenario>(
      sim::LoadScenario("default", {"job.budget_usd=0.1"}));
  sim::Simulation remembering(scenario, 11), plain(scenario, 11);
  while (!plain.done()) {
    const sim::Action action{300, 2048};
    // Projections of other actions on the way, as the clamp makes them.
    remembering.ProjectAndRemember({150, 2048});
    EXPECT_EQ(remembering.ProjectAndRemember(action).bound_usd,
              plain.ProjectEpochCost(action).bound_usd);
    const sim::EpochResult a = remembering.RunEpoch(action);
    const sim::EpochResult b = plain.RunEpoch(action);
    EXPECT_EQ(a.projected_cost_usd, b.projected_cost_usd);
    EXPECT_EQ(a.cumulative_cost_usd, b.cumulative_cost_usd);
    EXPECT_EQ(a.cumulative_time_s, b.cumulative_time_s);
    EXPECT_EQ(a.budget_stop, b.budget_stop);
  }
  EXPECT_TRUE(remembering.done());
}

// --- the env ---------------------------------------------------------------

std::shared_ptr<const sim::Scenario> Load(const std::string& clamp,
                                          double budget) {
  return std::make_shared<const sim::Scenario>(sim::LoadScenario(
      "default", {"env.action_clamp=" + clamp,
                  "job.budget_usd=" + std::to_string(budget)}));
}

// The Box action (1, 1): the most functions at the largest memory.
constexpr double kLargest[2] = {1.0, 1.0};

// Runs the always-largest policy on the env and, beside it, a twin
// Simulation fed the actions the env ran: before each epoch the twin projects
// the action that ran, as the guard does. Returns the epochs clamped.
int CheckAlwaysLargest(const std::string& clamp, double budget, uint64_t seed,
                       env::StepInfo* last) {
  auto scenario = Load(clamp, budget);
  env::SirenEnv env(scenario, env::ActionEncoding::kBox);
  sim::Simulation twin(scenario, seed);
  float obs[env::kObservationSize];
  env.Reset(seed, obs);
  int clamped = 0;
  env::StepOutcome outcome;
  do {
    env::StepInfo info;
    const double left = twin.budget_left_usd();
    outcome = env.Step(kLargest, obs, &info);
    const sim::Action ran{info.action.functions, info.action.memory_mb};
    EXPECT_EQ(info.action.requested_functions,
              scenario->params.Int("env.max_functions"));
    if (info.action.budget_clamped) {
      ++clamped;
      EXPECT_EQ(clamp, "budget");
      // Affordable by the guard's projection: the guard ran it.
      EXPECT_LE(twin.ProjectEpochCost(ran).bound_usd, left);
      EXPECT_NE(info.epoch.budget_stop, sim::BudgetStop::kBeforeEpoch);
    }
    const sim::EpochResult r = twin.RunEpoch(ran);
    EXPECT_EQ(r.cumulative_cost_usd, info.epoch.cumulative_cost_usd);
    EXPECT_LE(info.epoch.cumulative_cost_usd, budget);
    *last = info;
  } while (!outcome.terminated && !outcome.truncated);
  return clamped;
}

TEST(EnvActionClampTest, AlwaysLargestNeverOverspends) {
  for (double budget : {0.15, 0.25, 0.40}) {
    for (uint64_t seed : {1u, 2u}) {
      SCOPED_TRACE("budget " + std::to_string(budget) + " seed " +
                   std::to_string(seed));
      env::StepInfo without, with;
      EXPECT_EQ(CheckAlwaysLargest("none", budget, seed, &without), 0);
      CheckAlwaysLargest("budget", budget, seed, &with);
      // The guard ends the unclamped job before an epoch it cannot pay.
      EXPECT_EQ(without.epoch.budget_stop, sim::BudgetStop::kBeforeEpoch);
      EXPECT_GE(with.epoch.epoch, without.epoch.epoch);
    }
  }
}

// An epoch costs about the same whatever n (the same batches to compute), but
// less at smaller memory (about $0.010 at 192 MB, $0.019-0.021 at 3008 MB on
// the default preset): a budget that leaves $0.015 for the last epoch
// refuses it at 3008 MB and pays it at a smaller size.
TEST(EnvActionClampTest, ClampRunsAnEpochTheGuardWouldRefuse) {
  const uint64_t seed = 1;
  const int paid = 5;  // Epochs of the largest action the budget pays.
  double spent = 0;
  {
    env::SirenEnv env(Load("none", 10.0), env::ActionEncoding::kBox);
    float obs[env::kObservationSize];
    env.Reset(seed, obs);
    env::StepInfo info;
    for (int e = 0; e < paid; ++e) env.Step(kLargest, obs, &info);
    spent = info.epoch.cumulative_cost_usd;
  }
  const double budget = spent + 0.015;
  env::StepInfo without, with;
  EXPECT_EQ(CheckAlwaysLargest("none", budget, seed, &without), 0);
  EXPECT_EQ(without.epoch.epoch, paid);
  EXPECT_EQ(without.epoch.budget_stop, sim::BudgetStop::kBeforeEpoch);
  EXPECT_GE(CheckAlwaysLargest("budget", budget, seed, &with), 1);
  EXPECT_GT(with.epoch.epoch, without.epoch.epoch);
  EXPECT_GT(with.epoch.cumulative_cost_usd, without.epoch.cumulative_cost_usd);
  EXPECT_LE(with.epoch.cumulative_cost_usd, budget);
}

TEST(EnvActionClampTest, AffordableActionsRunUnchanged) {
  // A budget no epoch comes near: the clamp changes nothing, bit for bit.
  std::vector<std::vector<double>> rows[2];
  const char* clamps[2] = {"none", "budget"};
  for (int k = 0; k < 2; ++k) {
    env::SirenEnv env(Load(clamps[k], 50.0), env::ActionEncoding::kBox);
    float obs[env::kObservationSize];
    env.Reset(3, obs);
    for (int step = 0; step < 8 && !env.needs_reset(); ++step) {
      const double action[2] = {-0.2 + 0.1 * step, 0.3 - 0.05 * step};
      env::StepInfo info;
      env.Step(action, obs, &info);
      EXPECT_FALSE(info.action.budget_clamped);
      EXPECT_EQ(info.action.requested_functions, info.action.functions);
      std::vector<double> row(env::InfoSize());
      env::WriteInfoRow(info, env.episode_return(), env.episode_steps(),
                        row.data());
      rows[k].push_back(row);
    }
  }
  EXPECT_EQ(rows[0], rows[1]);
}

// Everything a clamping vector env wrote over `steps` steps.
std::string VectorLog(int threads) {
  const int n = 6;
  env::VectorEnv vec(Load("budget", 0.12), n, env::ActionEncoding::kBox,
                     env::AutoresetMode::kSameStep, threads);
  std::vector<uint64_t> seeds(n);
  for (int i = 0; i < n; ++i) seeds[i] = 40 + i;
  std::vector<float> obs(n * env::kObservationSize), final_obs(obs.size());
  std::vector<double> rewards(n), info(n * env::InfoSize());
  std::vector<char> terminated(n), truncated(n), valid(n), has_final(n);
  env::VectorStepBuffers out;
  out.observations = obs.data();
  out.rewards = rewards.data();
  out.terminated = reinterpret_cast<bool*>(terminated.data());
  out.truncated = reinterpret_cast<bool*>(truncated.data());
  out.info = info.data();
  out.info_valid = reinterpret_cast<bool*>(valid.data());
  out.final_observations = final_obs.data();
  out.has_final = reinterpret_cast<bool*>(has_final.data());
  vec.Reset(seeds.data(), obs.data());
  std::string log;
  const auto append = [&log](const void* p, size_t bytes) {
    log.append(static_cast<const char*>(p), bytes);
  };
  const auto names = env::InfoNames();
  const size_t clamped_column =
      std::find(names.begin(), names.end(), "budget_clamped") - names.begin();
  int clamped = 0;
  for (int step = 0; step < 30; ++step) {
    std::vector<double> actions(2 * n);
    for (int i = 0; i < n; ++i) {
      actions[2 * i] = 1.0 - 0.1 * ((i + step) % 5);
      actions[2 * i + 1] = 1.0 - 0.2 * ((2 * i + step) % 4);
    }
    vec.Step(actions.data(), out);
    for (int i = 0; i < n; ++i) {
      clamped += info[i * env::InfoSize() + clamped_column] == 1.0;
    }
    append(obs.data(), obs.size() * sizeof(float));
    append(rewards.data(), rewards.size() * sizeof(double));
    append(info.data(), info.size() * sizeof(double));
    append(terminated.data(), n);
    append(truncated.data(), n);
  }
  EXPECT_GT(clamped, 0);
  return log;
}

TEST(EnvActionClampTest, VectorEnvIsDeterministicAcrossThreadCounts) {
  const std::string one = VectorLog(1);
  EXPECT_EQ(one, VectorLog(2));
  EXPECT_EQ(one, VectorLog(3));
}

}  // namespace
}  // namespace siren
