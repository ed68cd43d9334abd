// Golden traces of the simulator's mechanisms (issue 11, item 5): one short
// job per mechanism (BSP rounds, the sgd ground-truth model, 429 throttles,
// timeouts and re-invocations, a finite-capacity S3 endpoint under
// compare-and-swap, local steps, 503 SlowDown), each a preset plus overrides,
// its event log checked in as tests/golden/<case>.trace and diffed on every
// run. Regenerate after an intended model change with SIREN_UPDATE_GOLDEN=1
// and review the diff.
//
// Each trace is the TraceObserver's log with, after every epoch, a `summary`
// line written here (not by TraceObserver, whose output the preset traces
// pin) with the main EpochResult fields, compare-and-swap conflicts
// included. Each case also checks that its mechanism actually happened, so
// a change of defaults cannot turn it into a plain run that still matches.
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <memory>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "sim/core/trace_observer.h"
#include "sim/data/dataset.h"
#include "sim/engine/simulation.h"
#include "sim/platform/platform.h"
#include "sim/scenario/scenario_loader.h"
#include "tests/cpp/golden_file.h"

namespace siren::sim {
namespace {

constexpr uint64_t kSeed = 2019;

// The main fields of an epoch's result, fixed precision, one line (the
// parameter-store protocols' counts only when one is not zero).
std::string Summary(const EpochResult& r) {
  char buffer[1200];
  std::snprintf(
      buffer, sizeof(buffer),
      "%.9f summary epoch=%d duration_s=%.9f cost_usd=%.12f/%.12f/%.12f "
      "loss=%.9f true_loss=%.9f progress=%.6f batches=%lld updates=%lld "
      "conflicts=%lld staleness=%.6f/%lld invocations=%d cold=%d warm=%d "
      "throttles=%d timeouts=%d reinvocations=%d slowdowns=%d gets=%lld "
      "puts=%lld status=%s",
      r.cumulative_time_s, r.epoch, r.duration_s, r.cost.function_duration_usd,
      r.cost.function_request_usd, r.cost.s3_request_usd, r.loss, r.true_loss,
      r.progress, static_cast<long long>(r.batches),
      static_cast<long long>(r.updates),
      static_cast<long long>(r.update_conflicts), r.mean_staleness,
      static_cast<long long>(r.max_staleness), r.invocations, r.cold_starts,
      r.warm_starts, r.throttles, r.timeouts, r.reinvocations, r.s3_slowdowns,
      static_cast<long long>(r.s3_gets), static_cast<long long>(r.s3_puts),
      JobStatusName(r.status));
  std::string line = buffer;
  if (r.lost_updates != 0 || r.folds != 0 || r.list_requests != 0) {
    std::snprintf(buffer, sizeof(buffer), " lost=%lld folds=%lld lists=%lld",
                  static_cast<long long>(r.lost_updates),
                  static_cast<long long>(r.folds),
                  static_cast<long long>(r.list_requests));
    line += buffer;
  }
  return line;
}

// Counts over a case's epochs, for the mechanism checks.
struct Totals {
  int64_t batches = 0;
  int64_t updates = 0;
  int64_t conflicts = 0;
  int64_t max_staleness = 0;
  int64_t lost = 0;
  int64_t folds = 0;
  int64_t lists = 0;
  int invocations = 0;
  int throttles = 0;
  int timeouts = 0;
  int reinvocations = 0;
  int slowdowns = 0;
  int cold_starts = 0;
  double duration_s = 0;
  double first_loss = 0;
  double last_loss = 0;

  void Add(const EpochResult& r) {
    if (batches == 0) first_loss = r.loss;
    batches += r.batches;
    updates += r.updates;
    conflicts += r.update_conflicts;
    max_staleness = std::max(max_staleness, r.max_staleness);
    lost += r.lost_updates;
    folds += r.folds;
    lists += r.list_requests;
    invocations += r.invocations;
    throttles += r.throttles;
    timeouts += r.timeouts;
    reinvocations += r.reinvocations;
    slowdowns += r.s3_slowdowns;
    cold_starts += r.cold_starts;
    duration_s += r.duration_s;
    last_loss = r.loss;
  }
};

size_t CountLines(const std::string& text, const std::string& needle) {
  size_t count = 0;
  std::istringstream lines(text);
  std::string line;
  while (std::getline(lines, line)) {
    if (line.find(needle) != std::string::npos) ++count;
  }
  return count;
}

// One epoch of a case: `functions` at the case's memory plus `extra_mb`.
struct Step {
  int functions;
  int extra_mb;
};

struct MechanismCase {
  std::string name;    // Test name and tests/golden/<name>.trace.
  std::string preset;  // Base scenario.
  int64_t batches;     // Mini-batches per epoch (sets dataset_samples).
  std::vector<std::string> overrides;
  std::vector<Step> steps = {{6, 0}, {9, 0}, {9, 512}};
  // Asserts that the mechanism happened, from the trace and the totals.
  std::function<void(const std::string& trace, const Totals& totals,
                     const Scenario& scenario)>
      check;
};

// A small 10-class dataset for the softmax path of the sgd model. The
// preset's own data (scikit-learn's digits) comes from Python (`siren data
// digits`), so this stand-in is generated here: every row has a few
// class-specific columns and a few random ones. Deterministic.
std::string WriteSoftmaxDataset(int64_t rows) {
  Dataset d;
  d.name = "golden-softmax";
  d.features = 64;
  d.classes = 10;
  uint64_t state = 0x9E3779B97F4A7C15ull;
  auto next = [&state] {
    // splitmix64.
    uint64_t z = (state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
  };
  for (int64_t r = 0; r < rows; ++r) {
    const int label = static_cast<int>(next() % 10);
    std::set<int32_t> columns;
    for (int j = 0; j < 4; ++j) {
      columns.insert(static_cast<int32_t>(label * 6 + next() % 6));
    }
    for (int j = 0; j < 4; ++j) {
      columns.insert(static_cast<int32_t>(next() % 64));
    }
    for (int32_t c : columns) {
      d.indices.push_back(c);
      d.values.push_back(1.0f);
    }
    d.indptr.push_back(static_cast<int64_t>(d.indices.size()));
    d.labels.push_back(label);
  }
  const std::string path = ::testing::TempDir() + "/siren_golden_softmax_" +
                           std::to_string(::getpid()) + ".h5";
  SaveDatasetHdf5(d, path);
  return path;
}

// gtest prints a failing case by name, not as bytes.
void PrintTo(const MechanismCase& c, std::ostream* os) { *os << c.name; }

struct CaseRun {
  std::string trace;
  Totals totals;
};

// Runs `steps` from seed kSeed at 1024 MB (or the workload's minimum) plus
// each step's extra memory.
CaseRun RunCase(const Scenario& scenario, const std::vector<Step>& steps) {
  auto shared = std::make_shared<const Scenario>(scenario);
  Simulation sim(shared, kSeed);
  TraceObserver trace;
  sim.AddObserver(&trace);
  const int memory = std::max(1024, MinFeasibleMemoryMb(scenario));
  CaseRun run;
  for (const Step& step : steps) {
    const EpochResult r =
        sim.RunEpoch({step.functions, memory + step.extra_mb});
    run.trace += trace.text();
    trace.Clear();
    run.trace += Summary(r) + "\n";
    run.totals.Add(r);
  }
  return run;
}

Scenario Load(const MechanismCase& c, std::vector<std::string> extra = {}) {
  const Scenario base = LoadScenario(c.preset);
  std::vector<std::string> overrides = {
      "workload.dataset_samples=" +
          std::to_string(base.workload.batch_size * c.batches),
      "job.budget_usd=1000", "job.max_epochs=100"};
  overrides.insert(overrides.end(), c.overrides.begin(), c.overrides.end());
  overrides.insert(overrides.end(), extra.begin(), extra.end());
  return LoadScenario(c.preset, overrides);
}

std::vector<MechanismCase> Cases() {
  std::vector<MechanismCase> cases;

  // BSP: a barrier after every round, one aggregate update (fn=-1) per round.
  cases.push_back(
      {"bsp",
       "lenet-mnist",
       36,
       {"execution.mode=bsp"},
       {{4, 0}, {6, 0}, {6, 512}},
       [](const std::string& trace, const Totals& t, const Scenario&) {
         EXPECT_EQ(t.max_staleness, 0);
         EXPECT_EQ(CountLines(trace, " update fn=-1 "),
                   static_cast<size_t>(t.updates));
         // Rounds: ceil(36 / 4) + 2 * ceil(36 / 6).
         EXPECT_EQ(t.updates, 9 + 6 + 6);
       }});

  // sgd on generated click-through data (logistic regression).
  cases.push_back(
      {"sgd",
       "logreg-click-through",
       24,
       {"convergence.model=sgd", "convergence.sgd.features=512",
        "convergence.sgd.eval_samples=2000", "workload.target_loss=0.3"},
       {{4, 0}, {6, 0}, {6, 512}},
       [](const std::string&, const Totals& t, const Scenario&) {
         EXPECT_EQ(t.updates, t.batches);
         EXPECT_GT(t.max_staleness, 0);
         EXPECT_LT(t.last_loss, t.first_loss);
         EXPECT_LT(t.first_loss, std::log(2.0));
       }});

  // Throttling: 3 concurrent executions for 6 and 9 functions, so invokes
  // get 429s and retry with back-off until others finish.
  cases.push_back(
      {"throttling",
       "lenet-mnist",
       36,
       {"lambda.concurrency_limit=3"},
       {{6, 0}, {9, 0}, {9, 512}},
       [](const std::string& trace, const Totals& t, const Scenario&) {
         EXPECT_GT(t.throttles, 0);
         EXPECT_EQ(CountLines(trace, " throttle fn="),
                   static_cast<size_t>(t.throttles));
       }});

  // Timeouts: invocations are cut after a few steps, billed, and re-invoked
  // (cold: a timed-out sandbox is recycled); the job still progresses.
  cases.push_back(
      {"timeouts",
       "lenet-mnist",
       36,
       {"lambda.timeout_s=1.2"},
       {{4, 0}, {6, 0}, {6, 512}},
       [](const std::string& trace, const Totals& t, const Scenario&) {
         EXPECT_GT(t.timeouts, 0);
         EXPECT_GT(t.reinvocations, 0);
         EXPECT_EQ(CountLines(trace, " timed_out"),
                   static_cast<size_t>(t.timeouts));
         EXPECT_EQ(t.updates, t.batches);
       }});

  // A finite-capacity S3 endpoint (one server slot, loaded well past its
  // capacity) under compare-and-swap pushes: requests queue, and refused
  // pushes re-read and retry.
  cases.push_back(
      {"finite_s3",
       "softmax-digits",
       54,
       {"execution.push_protocol=cas", "s3.server_slots=1",
        "s3.server_service_ms=25"},
       {{6, 0}, {9, 0}, {9, 512}},
       [](const std::string&, const Totals& t, const Scenario& scenario) {
         EXPECT_GT(t.conflicts, 0);
         // The queue costs time: the same job at an unlimited endpoint is
         // much faster. (A lightly loaded finite endpoint can be faster than
         // the unlimited one: with server slots a push's compare-and-swap is
         // decided at its commit against updates counted at their
         // completions, which refuses fewer pushes.)
         Scenario unlimited = scenario;
         unlimited.s3.server_slots = 0;
         unlimited.s3.server_service_ms = 0;
         const CaseRun free = RunCase(unlimited, {{6, 0}, {9, 0}, {9, 512}});
         EXPECT_GT(t.duration_s, 1.3 * free.totals.duration_s);
       }});

  // Local steps: one push per 3 batches.
  cases.push_back({"sync_every",
                   "lenet-mnist",
                   36,
                   {"execution.sync_every=3"},
                   {{4, 0}, {6, 0}, {6, 512}},
                   [](const std::string&, const Totals& t, const Scenario&) {
                     EXPECT_EQ(t.updates * 3, t.batches);
                   }});

  // 503 SlowDown: low per-prefix GET and PUT rates, so requests are refused
  // and retried after the back-off.
  cases.push_back({"s3_slowdown",
                   "softmax-digits",
                   36,
                   {"s3.rate_limit=true", "s3.get_rate_per_prefix=20",
                    "s3.put_rate_per_prefix=20"},
                   {{6, 0}, {9, 0}, {9, 512}},
                   [](const std::string&, const Totals& t, const Scenario&) {
                     EXPECT_GT(t.slowdowns, 0);
                   }});

  // The paper's asynchronous overwrite: last writer wins, updates are lost,
  // nothing is refused.
  cases.push_back({"overwrite",
                   "softmax-digits",
                   36,
                   {"execution.push_protocol=overwrite"},
                   {{6, 0}, {9, 0}, {9, 512}},
                   [](const std::string&, const Totals& t, const Scenario&) {
                     EXPECT_EQ(t.conflicts, 0);
                     EXPECT_GT(t.lost, 0);
                     EXPECT_LT(t.lost, t.updates);
                     EXPECT_EQ(t.folds, 0);
                   }});

  // Fold: every update its own object, folded in by one more function per
  // epoch (fn = n in the trace), every update applied exactly once.
  cases.push_back(
      {"fold",
       "softmax-digits",
       36,
       {"execution.push_protocol=fold"},
       {{6, 0}, {9, 0}, {9, 512}},
       [](const std::string& trace, const Totals& t, const Scenario& s) {
         EXPECT_EQ(t.updates * s.execution.sync_every, t.batches);
         EXPECT_EQ(t.lost, 0);
         EXPECT_EQ(t.conflicts, 0);
         EXPECT_GT(t.folds, 0);
         EXPECT_GE(t.lists, t.folds);
         EXPECT_EQ(t.invocations, 6 + 9 + 9 + 3 + t.timeouts);
         EXPECT_EQ(CountLines(trace, "invocation_start fn=9 "), 2u);
       }});

  return cases;
}

class GoldenMechanismTest : public ::testing::TestWithParam<MechanismCase> {};

TEST_P(GoldenMechanismTest, MatchesCheckedInTrace) {
  const MechanismCase& c = GetParam();
  const Scenario scenario = Load(c);
  const CaseRun run = RunCase(scenario, c.steps);
  c.check(run.trace, run.totals, scenario);
  siren::testing::ExpectMatchesGolden(c.name, run.trace);
}

// sgd on the softmax path (10 classes), on the runner's preset with its
// compare-and-swap pushes; the data is generated here (see above).
TEST(GoldenMechanismSoftmaxTest, MatchesCheckedInTrace) {
  MechanismCase c;
  c.name = "sgd_softmax";
  c.preset = "softmax-digits";
  c.batches = 36;
  const Scenario base = LoadScenario(c.preset);
  const int64_t eval = 256;
  const std::string path =
      WriteSoftmaxDataset(base.workload.batch_size * c.batches + eval);
  const Scenario scenario =
      Load(c, {"convergence.model=sgd", "convergence.sgd.dataset=" + path,
               "convergence.sgd.eval_samples=" + std::to_string(eval)});
  const CaseRun run = RunCase(scenario, c.steps);
  std::remove(path.c_str());
  const Totals& t = run.totals;
  EXPECT_EQ(scenario.execution.push_protocol, PushProtocol::kCas);
  EXPECT_GT(t.conflicts, 0);
  EXPECT_LT(t.first_loss, std::log(10.0));
  EXPECT_LT(t.last_loss, t.first_loss);
  siren::testing::ExpectMatchesGolden(c.name, run.trace);
}

INSTANTIATE_TEST_SUITE_P(Mechanisms, GoldenMechanismTest,
                         ::testing::ValuesIn(Cases()),
                         [](const auto& info) { return info.param.name; });

}  // namespace
}  // namespace siren::sim
