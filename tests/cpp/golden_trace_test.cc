// Golden traces (SimGrid .tesh habit): a checked-in event log per preset,
// diffed on every run, catches silent model changes. After an intended model
// change, regenerate with SIREN_UPDATE_GOLDEN=1 and review the diff.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>

#include "sim/core/trace_observer.h"
#include "sim/engine/simulation.h"
#include "sim/platform/platform.h"
#include "sim/scenario/scenario_loader.h"
#include "tests/cpp/golden_file.h"

namespace siren::sim {
namespace {

// Three short epochs that exercise cold starts, warm reuse, growth and a
// memory change: 100-ish batches each so the file stays reviewable.
std::string GoldenRun(const std::string& preset) {
  const Scenario base = LoadScenario(preset);
  const int64_t samples = base.workload.batch_size * 96;
  auto scenario = std::make_shared<const Scenario>(LoadScenario(
      preset, {"workload.dataset_samples=" + std::to_string(samples),
               "job.budget_usd=1000", "job.max_epochs=3"}));
  Simulation sim(scenario, 2019);
  TraceObserver trace;
  sim.AddObserver(&trace);
  const int memory = std::max(1024, MinFeasibleMemoryMb(*scenario));
  sim.RunEpoch({6, memory});
  sim.RunEpoch({9, memory});
  sim.RunEpoch({9, memory + 512});
  return trace.text();
}

class GoldenTraceTest : public ::testing::TestWithParam<std::string> {};

TEST_P(GoldenTraceTest, MatchesCheckedInTrace) {
  const std::string preset = GetParam();
  siren::testing::ExpectMatchesGolden(preset, GoldenRun(preset));
}

INSTANTIATE_TEST_SUITE_P(Presets, GoldenTraceTest,
                         ::testing::ValuesIn(PresetNames()),
                         [](const auto& info) {
                           std::string name = info.param;
                           for (char& c : name) {
                             if (c == '-') c = '_';
                           }
                           return name;
                         });

}  // namespace
}  // namespace siren::sim
