// The analytic model's staleness shock (convergence.staleness_shock): an
// update staler than the staleness the net is used to loses progress, so a
// staleness the net has not seen slows it more than the same staleness later,
// and raising n late can make the loss rise; 0, the default, leaves the model
// as it was.
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

// True loss after each epoch of `functions[e]` functions at 1024 MB.
std::vector<double> Losses(const Scenario& s,
                           const std::vector<int>& functions) {
  Simulation sim(std::make_shared<const Scenario>(s), 7);
  std::vector<double> out;
  for (int n : functions) out.push_back(sim.RunEpoch({n, 1024}).true_loss);
  return out;
}

TEST(AnalyticShockTest, ZeroShockLeavesTheModelAsItWas) {
  const AnalyticConvergence curve(AnalyticSpec::FromScenario(Load({})));
  ShockState shock;
  for (int64_t s : {0, 3, 12, 1}) {
    const double k = 40.0 * static_cast<double>(s);
    EXPECT_DOUBLE_EQ(curve.ApplyUpdate(k, s, 1.0, {}, shock),
                     k + curve.UpdateProgress(k, s, 1.0));
  }
  EXPECT_EQ(shock.tolerance, 0);  // Not tracked without a shock.
  // Any relaxation: no effect while the shock is 0.
  EXPECT_EQ(Losses(Load({}), {1, 12, 4}),
            Losses(Load({"convergence.shock_relaxation=0.9"}), {1, 12, 4}));
}

TEST(AnalyticShockTest, AnUpdateStalerThanTheToleranceLosesProgress) {
  const Scenario s = Load(
      {"convergence.staleness_shock=0.2", "convergence.shock_relaxation=0.25"});
  const AnalyticConvergence curve(AnalyticSpec::FromScenario(s));
  // The first update of a run at staleness 8: 0.2 * (8 - 0) below the
  // unshocked gain; progress falls, to 0 at most.
  ShockState shock;
  const double unshocked = curve.UpdateProgress(10, 8, 1.0);
  EXPECT_DOUBLE_EQ(curve.ApplyUpdate(10, 8, 1.0, {}, shock),
                   10 + unshocked - 0.2 * 8);
  EXPECT_DOUBLE_EQ(shock.tolerance, 2.0);  // A quarter of the way to 8.
  ShockState fresh;
  EXPECT_EQ(curve.ApplyUpdate(0.5, 8, 1.0, {}, fresh), 0.0);
  // The level is the epoch's mean staleness so far: (8 + 2) / 2 = 5 against
  // a tolerance of 2, which moves a quarter of the way to 5.
  EXPECT_DOUBLE_EQ(curve.ApplyUpdate(10, 2, 1.0, {}, shock),
                   10 + curve.UpdateProgress(10, 2, 1.0) - 0.2 * 3);
  EXPECT_DOUBLE_EQ(shock.tolerance, 2.75);
  // At or below the tolerance: the unshocked update, and the tolerance
  // stays until the epoch ends; then it falls toward the epoch's mean (4)
  // as far as one update at 0.25 moves it.
  shock = ShockState{};
  shock.tolerance = 8;
  curve.StartShockEpoch(shock);
  EXPECT_DOUBLE_EQ(curve.ApplyUpdate(10, 4, 1.0, {}, shock),
                   10 + curve.UpdateProgress(10, 4, 1.0));
  EXPECT_DOUBLE_EQ(shock.tolerance, 8.0);
  curve.StartShockEpoch(shock);
  EXPECT_DOUBLE_EQ(shock.tolerance, 7.0);
  EXPECT_EQ(shock.epoch_updates, 0);
}

TEST(AnalyticShockTest, ASteadyStalenessSettlesWithNoShock) {
  const Scenario s = Load(
      {"convergence.staleness_shock=0.2", "convergence.shock_relaxation=0.05"});
  const AnalyticConvergence curve(AnalyticSpec::FromScenario(s));
  // Each epoch as at 12 functions: a first round at staleness 0..11, then
  // 33 updates at 11. The progress the shock takes, per epoch.
  ShockState shock;
  std::vector<double> taken;
  for (int epoch = 0; epoch < 12; ++epoch) {
    curve.StartShockEpoch(shock);
    double lost = 0;
    for (int u = 0; u < 45; ++u) {
      const int64_t staleness = u < 12 ? u : 11;
      lost += 10 + curve.UpdateProgress(10, staleness, 1.0) -
              curve.ApplyUpdate(10, staleness, 1.0, {}, shock);
    }
    taken.push_back(lost);
  }
  // It falls every epoch, toward nothing (0.15 % of the first by the 12th).
  EXPECT_GT(taken[0], 10.0);
  EXPECT_LT(taken[1], 0.5 * taken[0]);
  for (int e = 1; e < 12; ++e) EXPECT_LT(taken[e], taken[e - 1]);
  EXPECT_LT(taken[11], 0.005 * taken[0]);
}

TEST(AnalyticShockTest, RaisingFunctionsLateCanMakeTheLossRise) {
  const std::vector<std::string> shock = {"convergence.staleness_shock=1",
                                          "convergence.shock_relaxation=0.05"};
  // The same 12 functions slow the first epoch more than a later one.
  const std::vector<double> plain = Losses(Load({}), {12, 12, 12});
  const std::vector<double> shocked = Losses(Load(shock), {12, 12, 12});
  EXPECT_GT(shocked[0], plain[0]);
  EXPECT_LT(shocked[2], shocked[1]);  // Used to 12: learning again.
  // One function for three epochs, then 12: the loss rises with the
  // shock, and keeps falling without it.
  const std::vector<int> raise = {1, 1, 1, 12};
  const std::vector<double> raised = Losses(Load(shock), raise);
  const std::vector<double> raised_plain = Losses(Load({}), raise);
  EXPECT_GT(raised[3], raised[2]);
  EXPECT_LT(raised_plain[3], raised_plain[2]);
  // Same three one-function epochs: staleness 0 never shocks.
  for (int e = 0; e < 3; ++e) EXPECT_DOUBLE_EQ(raised[e], raised_plain[e]);
}

}  // namespace
}  // namespace siren::sim
