// The MDP: action codec, observation bounds, reward and termination.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <memory>
#include <string>
#include <vector>

#include "env/action_codec.h"
#include "env/observation.h"
#include "env/siren_env.h"
#include "sim/platform/platform.h"
#include "sim/scenario/scenario_loader.h"

namespace siren::env {
namespace {

std::shared_ptr<const sim::Scenario> Load(
    const std::vector<std::string>& overrides = {}) {
  return std::make_shared<const sim::Scenario>(
      sim::LoadScenario("default", overrides));
}

TEST(ActionCodecTest, BoxCornersMapToTheRangeEnds) {
  auto scenario = Load();
  ActionCodec codec(*scenario, ActionEncoding::kBox);
  const double low[2] = {-1, -1};
  const double high[2] = {1, 1};
  const DecodedAction a = codec.Decode(low);
  const DecodedAction b = codec.Decode(high);
  EXPECT_EQ(a.functions, scenario->params.Int("env.min_functions"));
  EXPECT_EQ(b.functions, scenario->params.Int("env.max_functions"));
  EXPECT_EQ(b.memory_mb, scenario->params.Int("lambda.max_memory_mb"));
  // The smallest grid size (128 MB) is below LeNet's need: clamped, reported.
  EXPECT_EQ(a.requested_memory_mb,
            scenario->params.Int("lambda.min_memory_mb"));
  EXPECT_EQ(a.memory_mb, sim::MinFeasibleMemoryMb(*scenario));
  EXPECT_TRUE(a.memory_clamped);
  EXPECT_FALSE(b.memory_clamped);
}

TEST(ActionCodecTest, BoxClipsOutOfRangeValues) {
  auto scenario = Load();
  ActionCodec codec(*scenario, ActionEncoding::kBox);
  const double far[2] = {7.5, -3};
  const double edge[2] = {1, -1};
  const DecodedAction a = codec.Decode(far), b = codec.Decode(edge);
  EXPECT_EQ(a.functions, b.functions);
  EXPECT_EQ(a.requested_memory_mb, b.requested_memory_mb);
}

TEST(ActionCodecTest, EncodeDecodeRoundTripsOnTheGrid) {
  auto scenario = Load();
  for (ActionEncoding encoding :
       {ActionEncoding::kBox, ActionEncoding::kMultiDiscrete}) {
    ActionCodec codec(*scenario, encoding);
    for (int n : {1, 7, 20, 100, 1000}) {
      const int m = 2048;
      const auto action = codec.Encode(n, m);
      const DecodedAction d = codec.Decode(action.data());
      if (encoding == ActionEncoding::kBox) {
        EXPECT_EQ(d.functions, n) << ActionEncodingName(encoding);
        EXPECT_EQ(d.memory_mb, m);
      } else {
        // 64 log-spaced bins: the nearest bin, within one bin's ratio.
        EXPECT_NEAR(std::log(d.functions), std::log(n), 0.12) << n;
        EXPECT_EQ(d.memory_mb, m);
      }
    }
  }
}

TEST(ActionCodecTest, RejectsNonFiniteAndBadDiscreteValues) {
  auto scenario = Load();
  ActionCodec box(*scenario, ActionEncoding::kBox);
  const double nan_action[2] = {0, std::numeric_limits<double>::quiet_NaN()};
  try {
    box.Decode(nan_action);
    FAIL();
  } catch (const sim::InvalidAction& e) {
    EXPECT_NE(std::string(e.what()).find("action[1]"), std::string::npos);
  }
  const double inf_action[2] = {std::numeric_limits<double>::infinity(), 0};
  EXPECT_THROW(box.Decode(inf_action), sim::InvalidAction);
  ActionCodec discrete(*scenario, ActionEncoding::kMultiDiscrete);
  const double fractional[2] = {1.5, 0};
  const double too_big[2] = {0, 46};
  const double negative[2] = {-1, 0};
  EXPECT_THROW(discrete.Decode(fractional), sim::InvalidAction);
  EXPECT_THROW(discrete.Decode(too_big), sim::InvalidAction);
  EXPECT_THROW(discrete.Decode(negative), sim::InvalidAction);
  const double last[2] = {63, 45};
  EXPECT_EQ(discrete.Decode(last).memory_mb, 3008);
}

TEST(ActionCodecTest, LinearScale) {
  auto scenario = Load({"env.function_scale=linear", "env.max_functions=101"});
  ActionCodec codec(*scenario, ActionEncoding::kBox);
  const double middle[2] = {0, 0};
  EXPECT_EQ(codec.Decode(middle).functions, 51);
}

TEST(SirenEnvTest, ObservationsStayInsideTheirBounds) {
  auto scenario = Load();
  SirenEnv env(scenario, ActionEncoding::kBox);
  const auto low = ObservationLow(ObservationScale::FromScenario(*scenario));
  const auto high = ObservationHigh(ObservationScale::FromScenario(*scenario));
  float obs[kObservationSize];
  env.Reset(3, obs);
  const std::vector<std::array<double, 2>> actions = {
      {-1, -1}, {1, 1}, {0.3, -0.2}, {-0.5, 0.9}};
  size_t step = 0;
  while (!env.needs_reset()) {
    for (int i = 0; i < kObservationSize; ++i) {
      ASSERT_TRUE(std::isfinite(obs[i]));
      ASSERT_GE(obs[i], low[i]) << ObservationNames()[i];
      ASSERT_LE(obs[i], high[i]) << ObservationNames()[i];
    }
    env.Step(actions[step++ % actions.size()].data(), obs, nullptr);
  }
}

TEST(SirenEnvTest, RewardIsMinusBetaTimesEpochSecondsPlusBonus) {
  auto scenario = Load({"env.reward_per_second=0.5", "env.success_bonus=7"});
  SirenEnv env(scenario, ActionEncoding::kBox);
  float obs[kObservationSize];
  env.Reset(1, obs);
  const auto action = env.codec().Encode(20, 2048);
  StepInfo info;
  StepOutcome outcome;
  double total = 0;
  do {
    outcome = env.Step(action.data(), obs, &info);
    total += outcome.reward;
    if (!outcome.terminated) {
      EXPECT_DOUBLE_EQ(outcome.reward, -0.5 * info.epoch.duration_s);
    }
  } while (!outcome.terminated && !outcome.truncated);
  EXPECT_TRUE(outcome.terminated);
  EXPECT_EQ(info.epoch.status, sim::JobStatus::kConverged);
  EXPECT_DOUBLE_EQ(outcome.reward, -0.5 * info.epoch.duration_s + 7);
  EXPECT_NEAR(total, -0.5 * info.epoch.cumulative_time_s + 7, 1e-9);
  EXPECT_DOUBLE_EQ(env.episode_return(), total);
}

TEST(SirenEnvTest, BudgetRunsOutFirstIsPenalised) {
  auto scenario = Load({"job.budget_usd=0.02", "env.budget_penalty=3"});
  SirenEnv env(scenario, ActionEncoding::kBox);
  float obs[kObservationSize];
  env.Reset(1, obs);
  const auto action = env.codec().Encode(500, 3008);
  StepInfo info;
  StepOutcome outcome;
  do {
    outcome = env.Step(action.data(), obs, &info);
  } while (!outcome.terminated && !outcome.truncated);
  EXPECT_TRUE(outcome.terminated);
  EXPECT_FALSE(outcome.truncated);
  EXPECT_EQ(info.epoch.status, sim::JobStatus::kBudgetExhausted);
  EXPECT_NEAR(outcome.reward,
              -scenario->params.Double("env.reward_per_second") *
                      info.epoch.duration_s -
                  3,
              1e-12);
  // The guard stopped before overspending: some budget is left, never < 0.
  EXPECT_NE(info.epoch.budget_stop, sim::BudgetStop::kNone);
  EXPECT_LE(info.epoch.cumulative_cost_usd, 0.02);
  EXPECT_GE(obs[9], 0.0f);
  EXPECT_LE(obs[9], 1.0f);
}

TEST(SirenEnvTest, TruncatedAtTheEpochLimit) {
  auto scenario = Load({"job.max_epochs=2"});
  SirenEnv env(scenario, ActionEncoding::kBox);
  float obs[kObservationSize];
  env.Reset(1, obs);
  const auto action = env.codec().Encode(5, 1024);
  EXPECT_FALSE(env.Step(action.data(), obs, nullptr).truncated);
  const StepOutcome last = env.Step(action.data(), obs, nullptr);
  EXPECT_TRUE(last.truncated);
  EXPECT_FALSE(last.terminated);
  EXPECT_FLOAT_EQ(obs[0], 1.0f);
  EXPECT_THROW(env.Step(action.data(), obs, nullptr), std::logic_error);
}

TEST(SirenEnvTest, StepBeforeResetAndBadActionsChangeNothing) {
  auto scenario = Load();
  SirenEnv env(scenario, ActionEncoding::kBox);
  float obs[kObservationSize];
  const double action[2] = {0, 0};
  EXPECT_THROW(env.Step(action, obs, nullptr), std::logic_error);
  env.Reset(1, obs);
  const double bad[2] = {std::nan(""), 0};
  EXPECT_THROW(env.Step(bad, obs, nullptr), sim::InvalidAction);
  EXPECT_EQ(env.episode_steps(), 0);
  EXPECT_NO_THROW(env.Step(action, obs, nullptr));
}

}  // namespace
}  // namespace siren::env
