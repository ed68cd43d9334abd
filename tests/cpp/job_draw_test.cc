// Per-episode job variability (sim/engine/job_draw.h): the draw follows the
// seed, stays in range, reaches the Simulation and the env, and leaves
// scenarios without ranges untouched.
#include "sim/engine/job_draw.h"

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "env/observation.h"
#include "env/siren_env.h"
#include "sim/engine/simulation.h"
#include "sim/scenario/scenario_loader.h"

namespace siren::sim {
namespace {

std::shared_ptr<const Scenario> Load(const std::vector<std::string>& o) {
  return std::make_shared<const Scenario>(LoadScenario("default", o));
}

const std::vector<std::string> kAll = {
    "job.budget_range=[0.1, 0.5]", "variability.dataset_scale_range=[0.5, 2]",
    "variability.loss_noise_scale_range=[1, 4]",
    "variability.compute_slowdown_range=[1, 2]",
    "variability.s3_slowdown_range=[1, 3]"};

TEST(JobDrawTest, WithoutRangesTheEpisodeIsTheScenarioItself) {
  const auto scenario = Load({});
  EXPECT_EQ(EpisodeScenario(scenario, 3).get(), scenario.get());
  Simulation sim(scenario, 3);
  sim.Reset(4);
  EXPECT_EQ(&sim.scenario(), scenario.get());
}

TEST(JobDrawTest, DrawsFollowTheSeedAndStayInRange) {
  const auto scenario = Load(kAll);
  for (uint64_t seed = 0; seed < 200; ++seed) {
    const EpisodeJob a = DrawEpisodeJob(*scenario, seed);
    const EpisodeJob b = DrawEpisodeJob(*scenario, seed);
    EXPECT_EQ(a.budget_usd, b.budget_usd);
    EXPECT_EQ(a.s3_slowdown, b.s3_slowdown);
    EXPECT_GE(a.budget_usd, 0.1);
    EXPECT_LE(a.budget_usd, 0.5);
    EXPECT_GE(a.dataset_scale, 0.5);
    EXPECT_LE(a.dataset_scale, 2);
    EXPECT_GE(a.compute_slowdown, 1);
    EXPECT_LE(a.compute_slowdown, 2);
  }
  EXPECT_NE(DrawEpisodeJob(*scenario, 1).budget_usd,
            DrawEpisodeJob(*scenario, 2).budget_usd);
}

TEST(JobDrawTest, SimulationRunsTheDrawnJobAndResetDrawsAgain) {
  const auto scenario = Load(kAll);
  Simulation sim(scenario, 1);
  EXPECT_EQ(sim.scenario().job.budget_usd,
            DrawEpisodeJob(*scenario, 1).budget_usd);
  sim.RunEpoch({20, 2048});
  sim.Reset(2);
  EXPECT_EQ(sim.epoch(), 0);
  EXPECT_EQ(sim.cost_usd(), 0);
  const Scenario expected =
      ApplyEpisodeJob(*scenario, DrawEpisodeJob(*scenario, 2));
  EXPECT_EQ(sim.scenario().job.budget_usd, expected.job.budget_usd);
  EXPECT_EQ(sim.scenario().workload.dataset_samples,
            expected.workload.dataset_samples);
  EXPECT_EQ(sim.scenario().s3.get_latency_median_ms,
            expected.s3.get_latency_median_ms);
  // The same seed after other episodes gives the same epoch, bit for bit.
  Simulation fresh(scenario, 2);
  const EpochResult a = sim.RunEpoch({20, 2048});
  const EpochResult b = fresh.RunEpoch({20, 2048});
  EXPECT_EQ(a.duration_s, b.duration_s);
  EXPECT_EQ(a.cumulative_cost_usd, b.cumulative_cost_usd);
}

TEST(JobDrawTest, EnvObservesTheEpisodesBudgetAndDatasetScale) {
  const auto scenario = Load(kAll);
  env::SirenEnv environment(scenario, env::ActionEncoding::kBox);
  float obs[env::kObservationSize];
  for (uint64_t seed : {5u, 6u}) {
    environment.Reset(seed, obs);
    const EpisodeJob job = DrawEpisodeJob(*scenario, seed);
    EXPECT_FLOAT_EQ(obs[10], static_cast<float>(job.budget_usd));
    EXPECT_NEAR(obs[11], job.dataset_scale, 1e-4);
    EXPECT_EQ(environment.episode_scenario().job.budget_usd, job.budget_usd);
  }
}

TEST(JobDrawTest, BadRangesNameTheField) {
  EXPECT_THROW(LoadScenario("default", {"job.budget_range=[0.5, 0.1]"}),
               ScenarioError);
  try {
    LoadScenario("default", {"variability.s3_slowdown_range=[1, 2, 3]"});
    FAIL() << "expected a ScenarioError";
  } catch (const ScenarioError& e) {
    EXPECT_EQ(e.field(), "variability.s3_slowdown_range");
  }
}

}  // namespace
}  // namespace siren::sim
