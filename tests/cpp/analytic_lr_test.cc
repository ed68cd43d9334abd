// The analytic model's learning-rate terms: progress and staleness harm scale
// with the job's rate relative to epoch 0 (convergence.sgd.lr_*), and a
// constant rate leaves the model as it was.
#include <gtest/gtest.h>

#include <cmath>
#include <memory>
#include <string>
#include <vector>

#include "sim/convergence/analytic/analytic_convergence.h"
#include "sim/convergence/lr_schedule.h"
#include "sim/engine/simulation.h"
#include "sim/scenario/scenario_loader.h"

namespace siren::sim {
namespace {

Scenario Load(std::vector<std::string> overrides) {
  overrides.push_back("convergence.loss_noise_sigma=0");
  overrides.push_back("job.budget_usd=1000");
  return LoadScenario("lenet-mnist", overrides);
}

std::vector<double> Losses(const Scenario& s, int epochs, int functions) {
  Simulation sim(std::make_shared<const Scenario>(s), 7);
  std::vector<double> out;
  for (int e = 0; e < epochs; ++e) {
    out.push_back(sim.RunEpoch({functions, 1024}).true_loss);
  }
  return out;
}

TEST(AnalyticLrTest, ScalesFollowTheScheduleAndTheExponents) {
  const Scenario s = Load({"convergence.sgd.lr_schedule=step",
                           "convergence.sgd.lr_step_epochs=2",
                           "convergence.sgd.lr_step_factor=0.25",
                           "convergence.lr_progress_exponent=0.5",
                           "convergence.staleness_lr_exponent=2"});
  const AnalyticConvergence curve(AnalyticSpec::FromScenario(s));
  EXPECT_DOUBLE_EQ(curve.LrScaleAt(1).progress, 1.0);
  EXPECT_DOUBLE_EQ(curve.LrScaleAt(2).progress, 0.5);   // 0.25^0.5
  EXPECT_DOUBLE_EQ(curve.LrScaleAt(3).harm, 0.0625);    // 0.25^2
  EXPECT_DOUBLE_EQ(curve.LrScaleAt(4).progress, 0.25);  // 0.0625^0.5
  // One update at staleness 10: the harm term shrinks by the harm scale.
  const double fresh = curve.UpdateProgress(0, 0, 1.0, curve.LrScaleAt(2));
  const double stale = curve.UpdateProgress(0, 10, 1.0, curve.LrScaleAt(2));
  const AnalyticSpec spec = AnalyticSpec::FromScenario(s);
  EXPECT_DOUBLE_EQ(fresh, 0.5);
  EXPECT_DOUBLE_EQ(
      stale, 0.5 / (1 + spec.staleness_penalty * 10 * 0.0625 *
                            (1 + spec.staleness_gain * curve.Closeness(0))));
}

TEST(AnalyticLrTest, ConstantRateIgnoresTheExponents) {
  const std::vector<double> plain = Losses(Load({}), 4, 5);
  const std::vector<double> with =
      Losses(Load({"convergence.lr_progress_exponent=3",
                   "convergence.staleness_lr_exponent=7",
                   // A decay that does nothing is a constant rate too.
                   "convergence.sgd.lr_schedule=step",
                   "convergence.sgd.lr_step_factor=1"}),
             4, 5);
  EXPECT_EQ(plain, with);
}

TEST(AnalyticLrTest, DecayedRateSlowsTheSimulatedLossFromTheDecayOn) {
  const std::vector<std::string> decay = {"convergence.sgd.lr_schedule=step",
                                          "convergence.sgd.lr_step_epochs=2",
                                          "convergence.sgd.lr_step_factor=0.1"};
  const std::vector<double> plain = Losses(Load({}), 4, 5);
  const std::vector<double> decayed = Losses(Load(decay), 4, 5);
  // Same first two epochs, then less progress per epoch.
  EXPECT_DOUBLE_EQ(plain[0], decayed[0]);
  EXPECT_DOUBLE_EQ(plain[1], decayed[1]);
  EXPECT_GT(decayed[2], plain[2]);
  EXPECT_GT(decayed[3], plain[3]);
  EXPECT_LT(decayed[3], decayed[1]);  // Still learning.
}

}  // namespace
}  // namespace siren::sim
