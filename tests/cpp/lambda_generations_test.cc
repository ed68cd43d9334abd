// The generations of AWS Lambda (platform/aws_lambda/generations.cc): INIT
// billing and the scaling-rate limit of 2025+, the 2018 burst rule, arm64.
#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "sim/engine/simulation.h"
#include "sim/platform/platform.h"
#include "sim/scenario/scenario_loader.h"

namespace siren::sim {
namespace {

std::shared_ptr<const Scenario> Load(std::vector<std::string> overrides) {
  overrides.insert(overrides.begin(),
                   {"job.budget_usd=1000", "job.max_epochs=50"});
  return std::make_shared<const Scenario>(
      LoadScenario("softmax-digits", overrides));
}

// Six epochs of 8 functions; memory alternating between two sizes 1 MB apart
// (the same compute) or fixed.
std::vector<EpochResult> RunSixEpochs(std::shared_ptr<const Scenario> scenario,
                                      bool changing) {
  Simulation sim(scenario, 11);
  std::vector<EpochResult> out;
  for (int epoch = 0; epoch < 6; ++epoch) {
    const int memory = changing && epoch % 2 == 1 ? 2049 : 2048;
    out.push_back(sim.RunEpoch({8, memory}));
  }
  return out;
}

double Total(const std::vector<EpochResult>& epochs, double EpochResult::*f) {
  double sum = 0;
  for (const EpochResult& r : epochs) sum += r.*f;
  return sum;
}

TEST(LambdaGenerationsTest, ChangingMemoryCostsTheBilledInitSince2025) {
  // One function reconfigured per memory change: every change is a round
  // of cold starts, whose INIT phase 2025+ bills.
  const auto changing = RunSixEpochs(
      Load({"lambda.era=2025+", "lambda.single_function=true"}), true);
  const auto fixed = RunSixEpochs(
      Load({"lambda.era=2025+", "lambda.single_function=true"}), false);
  const auto unbilled =
      RunSixEpochs(Load({"lambda.era=2025+", "lambda.init_billed=false",
                         "lambda.single_function=true"}),
                   true);
  double changing_cost = 0, fixed_cost = 0, unbilled_cost = 0;
  int changing_cold = 0, fixed_cold = 0;
  for (int e = 0; e < 6; ++e) {
    changing_cost += changing[e].cost.total_usd();
    fixed_cost += fixed[e].cost.total_usd();
    unbilled_cost += unbilled[e].cost.total_usd();
    changing_cold += changing[e].cold_starts;
    fixed_cold += fixed[e].cold_starts;
    // INIT billing changes what is billed, never the timeline.
    EXPECT_EQ(changing[e].duration_s, unbilled[e].duration_s);
    EXPECT_EQ(unbilled[e].init_billed_s, 0.0);
  }
  EXPECT_EQ(changing_cold, 6 * 8);
  EXPECT_EQ(fixed_cold, 8);
  EXPECT_GT(changing_cost, fixed_cost);
  // The difference the billing makes is the INIT time billed at the price
  // (each invocation's rounding to 1 ms at most apart).
  const double init_s = Total(changing, &EpochResult::init_billed_s);
  EXPECT_GT(init_s, 6 * 8 * 0.1);
  const double usd_per_s_2048 = 2.0 * 0.0000166667;
  const double usd_per_s_2049 = 2049.0 / 1024 * 0.0000166667;
  const double rounding = 6 * 8 * 0.001 * usd_per_s_2049;
  EXPECT_NEAR(changing_cost - unbilled_cost,
              init_s * (usd_per_s_2048 + usd_per_s_2049) / 2,
              rounding + init_s * (usd_per_s_2049 - usd_per_s_2048));
  // The static schedule bills INIT only for its first round.
  EXPECT_GT(fixed[0].init_billed_s, 0.0);
  for (int e = 1; e < 6; ++e) EXPECT_EQ(fixed[e].init_billed_s, 0.0);
}

TEST(LambdaGenerationsTest, AJumpTo3000FunctionsIsThrottledByTheScalingRate) {
  // 3,000 functions with a batch each, under an account limit that allows
  // them: today's rule starts 1,000 at once, then 100 more per second.
  const std::vector<std::string> big = {"workload.dataset_samples=192000",
                                        "lambda.concurrency_limit=5000",
                                        "execution.push_protocol=apply"};
  auto today = big;
  today.push_back("lambda.era=2025+");
  auto before = big;
  before.push_back("lambda.era=2020+");
  Simulation now(Load(today), 2);
  Simulation then(Load(before), 2);
  const EpochResult r_now = now.RunEpoch({3000, 2048});
  const EpochResult r_then = then.RunEpoch({3000, 2048});
  EXPECT_EQ(r_now.functions_used, 3000);
  EXPECT_GE(r_now.scaling_throttles, 2000);
  EXPECT_EQ(r_now.scaling_throttles, r_now.throttles);
  // The throttled invocations wait for a token or for an instance that
  // another function released: fewer cold starts, a later end.
  EXPECT_LT(r_now.cold_starts, 1000 + 100 * r_now.duration_s + 1);
  EXPECT_GT(r_now.duration_s, r_then.duration_s + 1);
  // The 2018-2023 rule allowed a burst of 3,000.
  EXPECT_EQ(r_then.scaling_throttles, 0);
  EXPECT_EQ(r_now.invocations, 3000);
}

TEST(LambdaGenerationsTest, TheOldBurstRuleAllows3000ThenRefillsSlowly) {
  // 4,000 functions: 3,000 start at once, the rest wait for a token (500 per
  // minute) or for an instance another function released.
  Simulation sim(
      Load({"lambda.era=2018", "workload.dataset_samples=256000",
            "lambda.concurrency_limit=5000", "execution.push_protocol=apply"}),
      2);
  const EpochResult r = sim.RunEpoch({4000, 2048});
  EXPECT_GT(r.scaling_throttles, 1000);
  EXPECT_LE(r.cold_starts, 3000 + 500.0 / 60 * r.duration_s + 1);
  EXPECT_EQ(r.invocations, 4000);
}

TEST(LambdaGenerationsTest, Arm64IsPricedLowerAndNotIn2018) {
  const auto x86 = Load({});
  const auto arm = Load({"lambda.architecture=arm64"});
  EXPECT_EQ(x86->params.Double("billing.usd_per_gb_s"), 0.0000166667);
  EXPECT_EQ(arm->params.Double("billing.usd_per_gb_s"), 0.0000133334);
  EXPECT_THROW(Load({"lambda.era=2018", "lambda.architecture=arm64"}),
               ScenarioError);
  Simulation a(x86, 1), b(arm, 1);
  const EpochResult rx = a.RunEpoch({8, 2048});
  const EpochResult ra = b.RunEpoch({8, 2048});
  EXPECT_EQ(rx.duration_s, ra.duration_s);
  EXPECT_NEAR(ra.cost.function_duration_usd / rx.cost.function_duration_usd,
              0.0000133334 / 0.0000166667, 1e-9);
}

}  // namespace
}  // namespace siren::sim
