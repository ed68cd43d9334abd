// The coordinator's own S3 requests per epoch (execution.coordinator_s3_gets
// and _puts): counted and billed with every epoch, nothing else changed, and
// never paid beyond the budget.
#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "sim/engine/simulation.h"
#include "sim/scenario/scenario_loader.h"

namespace siren::sim {
namespace {

std::shared_ptr<const Scenario> Digits(std::vector<std::string> extra) {
  std::vector<std::string> overrides = {"job.budget_usd=1", "job.max_epochs=5",
                                        "execution.push_protocol=overwrite"};
  overrides.insert(overrides.end(), extra.begin(), extra.end());
  return std::make_shared<const Scenario>(
      LoadScenario("softmax-digits", overrides));
}

TEST(CoordinatorRequestsTest, AreCountedAndBilledWithEveryEpoch) {
  auto without = Digits({});
  auto with = Digits(
      {"execution.coordinator_s3_gets=1", "execution.coordinator_s3_puts=1"});
  EXPECT_EQ(without->execution.coordinator_s3_gets, 0);
  Simulation a(without, 7), b(with, 7);
  for (int epoch = 0; epoch < 3; ++epoch) {
    SCOPED_TRACE(epoch);
    const EpochResult r = a.RunEpoch({4, 1024});
    const EpochResult s = b.RunEpoch({4, 1024});
    EXPECT_EQ(s.s3_gets, r.s3_gets + 1);
    EXPECT_EQ(s.s3_puts, r.s3_puts + 1);
    // The same draws: only the two requests' price differs.
    EXPECT_DOUBLE_EQ(s.duration_s, r.duration_s);
    EXPECT_NEAR(s.cost.s3_request_usd - r.cost.s3_request_usd,
                with->billing.s3_usd_per_get + with->billing.s3_usd_per_put,
                1e-15);
    EXPECT_DOUBLE_EQ(s.cost.function_duration_usd,
                     r.cost.function_duration_usd);
  }
}

TEST(CoordinatorRequestsTest, AnEpochWhoseBudgetCannotPayThemStopsAtOnce) {
  // A budget below one PUT under the cap-only guard: the epoch stops before
  // any function is invoked, and nothing is spent.
  auto scenario = Digits({"execution.coordinator_s3_puts=1",
                          "job.budget_guard=cap", "job.budget_usd=1e-7"});
  Simulation sim(scenario, 3);
  const EpochResult r = sim.RunEpoch({4, 1024});
  EXPECT_EQ(r.budget_stop, BudgetStop::kMidEpoch);
  EXPECT_EQ(r.s3_puts, 0);
  EXPECT_LE(r.cost.total_usd(), 1e-7);
}

}  // namespace
}  // namespace siren::sim
