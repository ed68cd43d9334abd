// FitConvergence's held terms: a held term keeps the scenario's value while
// the others are fitted, and a term that cannot be held is refused by name.
#include <gtest/gtest.h>

#include <cmath>
#include <stdexcept>
#include <string>
#include <vector>

#include "sim/convergence/fit/convergence_fit.h"
#include "sim/scenario/scenario_loader.h"
#include "tests/cpp/simulated_fit.h"

namespace siren::sim {
namespace {

// The logistic-regression preset, small, with a staleness rise so that
// the shock and the staleness terms have something to fit.
Scenario SmallBase(std::vector<std::string> overrides) {
  overrides.insert(overrides.begin(), "workload.dataset_samples=30000");
  return LoadScenario("logreg-click-through", overrides);
}

const std::vector<FitRun> kRuns = {{{{5, 1024}}, {}, 1},
                                   {{{5, 1024}, {40, 1024}}, {}, 2}};

TEST(ConvergenceFitHoldTest, HeldTermsKeepTheScenarioValues) {
  const Scenario base = SmallBase(
      {"convergence.staleness_penalty=0.07", "convergence.staleness_gain=1.5",
       "convergence.curve_exponent=0.8", "convergence.staleness_shock=0.2",
       "convergence.shock_relaxation=0.3", "convergence.collapse_staleness=300",
       "convergence.collapse_loss=0.6"});
  const FitResult fit =
      FitConvergence(base, kRuns, 3, {},
                     {"staleness_penalty", "staleness_gain", "curve_exponent",
                      "staleness_shock", "collapse_staleness"});
  EXPECT_EQ(fit.fitted.staleness_penalty, 0.07);
  EXPECT_EQ(fit.fitted.staleness_gain, 1.5);
  EXPECT_EQ(fit.fitted.curve_exponent, 0.8);
  EXPECT_EQ(fit.fitted.staleness_shock, 0.2);
  EXPECT_EQ(fit.fitted.shock_relaxation, 0.3);
  EXPECT_EQ(fit.fitted.collapse_staleness, 300.0);
  EXPECT_EQ(fit.fitted.collapse_loss, 0.6);
  // The curve itself is still fitted.
  EXPECT_GT(fit.fitted.b0, 0);
  EXPECT_LE(fit.max_relative_error, 0.10);
}

// Runs on which a free fit spends a shock on the rise to 40 functions.
const std::vector<FitRun> kShockRuns = {{{{5, 1024}}, {}, 1},
                                        {{{5, 1024}, {40, 1024}}, {}, 2},
                                        {{{40, 1024}}, {}, 3}};

TEST(ConvergenceFitHoldTest, AHeldShockStaysOffWhereAFreeFitTakesOne) {
  const Scenario base = SmallBase(
      {"workload.dataset_samples=50000", "convergence.shock_relaxation=0.3"});
  const FitResult free = FitConvergence(base, kShockRuns, 3);
  ASSERT_GT(free.fitted.staleness_shock, 0);
  const FitResult held =
      FitConvergence(base, kShockRuns, 3, {}, {"staleness_shock"});
  EXPECT_EQ(held.fitted.staleness_shock, 0.0);
  EXPECT_EQ(held.fitted.shock_relaxation, 0.3);
  // Holding a term can only cost fit quality (the free fit searches a
  // superset), here within a percent.
  EXPECT_LE(held.max_relative_error, free.max_relative_error + 0.01);
}

TEST(ConvergenceFitHoldTest, AHeldPenaltyStaysWhileTheShockIsFitted) {
  // The shock's grid scales the penalty down; a held penalty must not be.
  const Scenario base = SmallBase(
      {"workload.dataset_samples=50000", "convergence.staleness_penalty=0.07"});
  const FitResult fit =
      FitConvergence(base, kShockRuns, 3, {}, {"staleness_penalty"});
  EXPECT_EQ(fit.fitted.staleness_penalty, 0.07);
  EXPECT_GT(fit.fitted.staleness_shock, 0);  // The shock's grid ran.
}

TEST(ConvergenceFitHoldTest, AHeldCollapseAtTheInitialLossIsScoredAsTheModel) {
  // A bound the 40-function epochs cross, collapse_loss 0 (the initial
  // loss): the fit's predicted losses are the simulator's.
  const Scenario base = SmallBase(
      {"convergence.collapse_staleness=6", "convergence.collapse_loss=0"});
  const FitResult fit =
      FitConvergence(base, kRuns, 3, {}, {"collapse_staleness"});
  EXPECT_EQ(fit.fitted.collapse_staleness, 6.0);
  EXPECT_EQ(fit.fitted.collapse_loss, 0.0);
  const double initial =
      std::pow(fit.fitted.b1, -fit.fitted.curve_exponent) + fit.fitted.b2;
  EXPECT_EQ(fit.fitted_loss[1].back(), initial);  // Collapsed.
  const std::vector<std::vector<double>> simulated =
      testing::SimulateFit(base, kRuns, fit, 3);
  for (size_t r = 0; r < kRuns.size(); ++r) {
    for (int e = 0; e < 3; ++e) {
      EXPECT_NEAR(simulated[r][e], fit.fitted_loss[r][e], 1e-9)
          << "run " << r << " epoch " << e;
    }
  }
}

TEST(ConvergenceFitHoldTest, RefusesATermThatCannotBeHeld) {
  const Scenario base = SmallBase({});
  try {
    FitConvergence(base, kRuns, 1, {}, {"b0"});
    FAIL() << "expected std::invalid_argument";
  } catch (const std::invalid_argument& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("\"b0\""), std::string::npos) << what;
    EXPECT_NE(what.find("staleness_shock"), std::string::npos) << what;
  }
}

}  // namespace
}  // namespace siren::sim
