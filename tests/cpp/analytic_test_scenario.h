// The scenario of the analytic model's mechanism tests (collapse, shock):
// the lenet-mnist preset, noise off, a budget that never binds and 100
// updates per epoch, with the test's overrides first.
#ifndef SIREN_TESTS_CPP_ANALYTIC_TEST_SCENARIO_H_
#define SIREN_TESTS_CPP_ANALYTIC_TEST_SCENARIO_H_

#include <string>
#include <vector>

#include "sim/scenario/scenario_loader.h"

namespace siren::testing {

inline sim::Scenario LoadAnalyticTestScenario(
    std::vector<std::string> overrides) {
  overrides.push_back("convergence.loss_noise_sigma=0");
  overrides.push_back("job.budget_usd=1000");
  overrides.push_back("workload.dataset_samples=6400");  // 100 updates.
  return sim::LoadScenario("lenet-mnist", overrides);
}

}  // namespace siren::testing

#endif  // SIREN_TESTS_CPP_ANALYTIC_TEST_SCENARIO_H_
