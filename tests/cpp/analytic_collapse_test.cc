// The analytic model's collapse bound (convergence.collapse_staleness): an
// epoch whose mean staleness x rate reaches it sends the loss to
// convergence.collapse_loss (the initial loss when 0) for good; 0, the
// default, leaves the model as it was.
#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "sim/convergence/analytic/analytic_convergence.h"
#include "sim/engine/simulation.h"
#include "sim/scenario/scenario_loader.h"
#include "tests/cpp/analytic_test_scenario.h"

namespace siren::sim {
namespace {

Scenario Load(std::vector<std::string> overrides) {
  return siren::testing::LoadAnalyticTestScenario(std::move(overrides));
}

struct Outcome {
  std::vector<double> loss;
  std::vector<double> mean_staleness;
};

// `functions[e]` in epoch e, 1024 MB.
Outcome Losses(const Scenario& s, const std::vector<int>& functions) {
  Simulation sim(std::make_shared<const Scenario>(s), 7);
  Outcome run;
  for (int n : functions) {
    const EpochResult r = sim.RunEpoch({n, 1024});
    run.loss.push_back(r.true_loss);
    run.mean_staleness.push_back(r.mean_staleness);
  }
  return run;
}

TEST(AnalyticCollapseTest, OffByDefaultAndAnUnreachedBoundChangesNothing) {
  EXPECT_EQ(AnalyticSpec::FromScenario(Load({})).collapse_staleness, 0.0);
  const std::vector<int> schedule = {1, 8, 20, 8};
  const Outcome plain = Losses(Load({}), schedule);
  const Outcome bounded =
      Losses(Load({"convergence.collapse_staleness=1000"}), schedule);
  EXPECT_EQ(plain.loss, bounded.loss);
  EXPECT_LT(plain.loss[3], plain.loss[0]);
}

TEST(AnalyticCollapseTest, AnEpochAtTheBoundSendsTheLossBackForGood) {
  const Scenario s = Load({"convergence.collapse_staleness=3"});
  const double initial =
      AnalyticConvergence(AnalyticSpec::FromScenario(s)).initial_loss();
  // One function (staleness 0) learns as without the bound; an epoch of 8
  // functions (mean staleness about 7) collapses it, and going back to one
  // function does not bring it back.
  const Outcome plain = Losses(Load({}), {1, 8, 1});
  const Outcome run = Losses(s, {1, 8, 1});
  ASSERT_GE(run.mean_staleness[1], 3.0);
  EXPECT_EQ(run.loss[0], plain.loss[0]);
  EXPECT_LT(run.loss[0], initial);
  EXPECT_DOUBLE_EQ(run.loss[1], initial);
  EXPECT_DOUBLE_EQ(run.loss[2], initial);
  // With collapse_loss set, a collapsed run sits there instead.
  const Outcome prior = Losses(Load({"convergence.collapse_staleness=3",
                                     "convergence.collapse_loss=2.3"}),
                               {1, 8, 1});
  EXPECT_EQ(prior.loss[0], plain.loss[0]);
  EXPECT_DOUBLE_EQ(prior.loss[1], 2.3);
  EXPECT_DOUBLE_EQ(prior.loss[2], 2.3);
  // Two functions stay below the bound.
  const Outcome two = Losses(s, {2, 2});
  ASSERT_LT(two.mean_staleness[1], 3.0);
  EXPECT_EQ(two.loss, Losses(Load({}), {2, 2}).loss);
}

TEST(AnalyticCollapseTest, ADecayedRateRaisesTheTolerableStaleness) {
  // 8 functions after the rate is cut 10x: mean staleness ~7 x 0.1 < 3.
  const std::vector<std::string> decay = {
      "convergence.collapse_staleness=3", "convergence.sgd.lr_schedule=step",
      "convergence.sgd.lr_step_epochs=1", "convergence.sgd.lr_step_factor=0.1"};
  const Scenario s = Load(decay);
  const double initial =
      AnalyticConvergence(AnalyticSpec::FromScenario(s)).initial_loss();
  const Outcome run = Losses(s, {1, 8, 8});
  EXPECT_LT(run.loss[2], initial);
  EXPECT_LE(run.loss[2], run.loss[1]);
  // At the full rate the same schedule collapses.
  const Outcome full =
      Losses(Load({"convergence.collapse_staleness=3"}), {1, 8});
  EXPECT_DOUBLE_EQ(full.loss[1], initial);
}

}  // namespace
}  // namespace siren::sim
