// The fitted analytic model inside the simulator, for the fitter's tests:
// the replay the fitter scores must be what the simulator then does.
#ifndef SIREN_TESTS_CPP_SIMULATED_FIT_H_
#define SIREN_TESTS_CPP_SIMULATED_FIT_H_

#include <algorithm>
#include <memory>
#include <vector>

#include "sim/convergence/fit/convergence_fit.h"
#include "sim/engine/simulation.h"

namespace siren::testing {

// Each run of `runs` (with its seed and schedule) under `base` with `fit`'s
// analytic parameters, noise off, a budget that never binds and a target
// that never stops the job: the true loss after each of `epochs` epochs.
inline std::vector<std::vector<double>> SimulateFit(
    const sim::Scenario& base, const std::vector<sim::FitRun>& runs,
    const sim::FitResult& fit, int epochs) {
  sim::Scenario fitted = base;
  sim::AnalyticSpec analytic = fit.fitted;
  analytic.loss_noise_sigma = 0;
  analytic.WriteTo(fitted);
  fitted.models.convergence = "analytic";
  fitted.job.budget_usd = 1e9;
  fitted.job.max_epochs = epochs;
  fitted.workload.target_loss = analytic.b2 * 1.0000001;
  const auto shared = std::make_shared<const sim::Scenario>(fitted);
  std::vector<std::vector<double>> losses;
  for (const sim::FitRun& run : runs) {
    sim::Simulation simulation(shared, run.seed);
    losses.emplace_back();
    for (int e = 0; e < epochs; ++e) {
      const sim::Action& action =
          run.schedule[std::min<size_t>(e, run.schedule.size() - 1)];
      losses.back().push_back(simulation.RunEpoch(action).true_loss);
    }
  }
  return losses;
}

}  // namespace siren::testing

#endif  // SIREN_TESTS_CPP_SIMULATED_FIT_H_
