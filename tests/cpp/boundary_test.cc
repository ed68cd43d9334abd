// Every numeric parameter at each of its bounds, on every preset (and under
// the sgd model for its own section): the scenario either loads and a short
// job's every output is finite, or it is refused with an error that names a
// field. Never a crash, a NaN, an infinity or a hang.
#include <gtest/gtest.h>

#include <chrono>
#include <cmath>
#include <limits>
#include <memory>
#include <string>
#include <vector>

#include "env/siren_env.h"
#include "sim/engine/simulation.h"
#include "sim/platform/platform.h"
#include "sim/scenario/param_table.h"
#include "sim/scenario/scenario_loader.h"

namespace siren::sim {
namespace {

// The values at the bounds of `spec`: an inclusive bound itself, an
// exclusive one's nearest representable neighbour inside the range.
std::vector<double> BoundValues(const ParamSpec& spec) {
  const ParamRange& r = spec.range;
  std::vector<double> values;
  const double inf = std::numeric_limits<double>::infinity();
  if (std::isfinite(r.min)) {
    values.push_back(r.min_exclusive ? std::nextafter(r.min, inf) : r.min);
  }
  if (std::isfinite(r.max)) {
    values.push_back(r.max_exclusive ? std::nextafter(r.max, -inf) : r.max);
  }
  return values;
}

// "path=value" for `spec` set to `value` (every element, for a list).
std::string Override(const ParamSpec& spec, double value) {
  std::string text;
  if (spec.type == ParamType::kInt) {
    text = std::to_string(static_cast<int64_t>(
        spec.range.min_exclusive ? std::ceil(value) : value));
  } else {
    text = FormatParamValue(ParamValue(value));
  }
  if (spec.type == ParamType::kDoubleList) {
    const size_t n = std::get<std::vector<double>>(spec.default_value).size();
    std::string list = "[";
    for (size_t i = 0; i < n; ++i) list += (i ? ", " : "") + text;
    text = list + "]";
  }
  return spec.path + "=" + text;
}

void ExpectFinite(const float* observation, double reward, const EpochResult& r,
                  const std::string& where) {
  for (int i = 0; i < env::kObservationSize; ++i) {
    EXPECT_TRUE(std::isfinite(observation[i])) << where << " obs " << i;
  }
  EXPECT_TRUE(std::isfinite(reward)) << where;
  for (double x : {r.duration_s, r.cost.total_usd(), r.loss, r.true_loss,
                   r.progress, r.fetch.mean_s, r.fetch.p95_s, r.compute.mean_s,
                   r.update.mean_s, r.billed_gb_s, r.mean_staleness,
                   r.cumulative_time_s, r.cumulative_cost_usd}) {
    EXPECT_TRUE(std::isfinite(x) && x >= 0) << where << " value " << x;
  }
  EXPECT_GT(r.loss, 0) << where;
}

// Loads and runs one case; returns false when it was refused by a named
// error (which is a valid outcome).
void RunCase(const std::string& preset, std::vector<std::string> overrides,
             const std::string& where) {
  std::shared_ptr<const Scenario> scenario;
  try {
    scenario =
        std::make_shared<const Scenario>(LoadScenario(preset, overrides));
  } catch (const ScenarioError& e) {
    EXPECT_FALSE(e.field().empty()) << where << ": " << e.what();
    return;
  }
  try {
    env::SirenEnv environment(scenario, env::ActionEncoding::kBox);
    const int memory = MinFeasibleMemoryMb(*scenario);
    float observation[env::kObservationSize];
    environment.Reset(3, observation);
    const auto action = environment.codec().Encode(4, memory);
    env::StepInfo info;
    for (int epoch = 0; epoch < 2; ++epoch) {
      const env::StepOutcome outcome =
          environment.Step(action.data(), observation, &info);
      ExpectFinite(observation, outcome.reward, info.epoch, where);
      if (outcome.terminated || outcome.truncated) break;
    }
  } catch (const InvalidAction& e) {
    // A named refusal of the action (e.g. no step fits the timeout).
    EXPECT_NE(std::string(e.what()).find(": got"), std::string::npos)
        << where << ": " << e.what();
  } catch (const std::runtime_error& e) {
    // The engine's named refusals: time beyond the bound, no progress.
    const std::string message = e.what();
    EXPECT_TRUE(message.find(": got") != std::string::npos ||
                message.find("simulated time") != std::string::npos)
        << where << ": " << message;
  }
}

TEST(BoundaryTest, EveryNumericParameterAtItsBoundsOnEveryPreset) {
  const auto start = std::chrono::steady_clock::now();
  int cases = 0;
  for (const std::string& preset : PresetNames()) {
    const Scenario base = LoadScenario(preset);
    // Small epochs so that the whole table runs in seconds.
    const std::vector<std::string> small = {
        "workload.dataset_samples=" +
            std::to_string(base.workload.batch_size * 24),
        "job.max_epochs=2", "job.budget_usd=1000"};
    for (const ParamSpec& spec : ParamTable()) {
      if (spec.type != ParamType::kInt && spec.type != ParamType::kDouble &&
          spec.type != ParamType::kDoubleList) {
        continue;
      }
      EXPECT_TRUE(std::isfinite(spec.range.min) &&
                  std::isfinite(spec.range.max) && !spec.range.reason.empty())
          << spec.path << ": every numeric parameter has a bounded range "
          << "with its reason";
      const bool sgd_section = spec.path.rfind("convergence.sgd.", 0) == 0;
      for (double value : BoundValues(spec)) {
        std::vector<std::string> overrides = small;
        if (sgd_section) {
          overrides.push_back("convergence.model=sgd");
          overrides.push_back("convergence.sgd.features=256");
          overrides.push_back("convergence.sgd.eval_samples=200");
        }
        // Later overrides win: the bound is set last.
        overrides.push_back(Override(spec, value));
        RunCase(preset, overrides, preset + " " + overrides.back());
        ++cases;
      }
    }
  }
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start)
          .count();
  EXPECT_GT(cases, 500);
  // Bounded time: the whole table in well under a minute.
  EXPECT_LT(seconds, 60) << cases << " cases";
}

}  // namespace
}  // namespace siren::sim
