// Conformance over everything registered: every preset x every platform x
// every convergence model (the toy plug-ins of toy_plugins_test.cc
// included) runs random schedules, and each job must be bounded, finite,
// deterministic, copyable and priced as the sum of its parts.
#include <gtest/gtest.h>

#include <cmath>
#include <memory>
#include <string>
#include <vector>

#include "sim/convergence/convergence_model.h"
#include "sim/core/observer.h"
#include "sim/core/rng.h"
#include "sim/engine/simulation.h"
#include "sim/platform/platform.h"
#include "sim/scenario/scenario_loader.h"

namespace siren::sim {
namespace {

struct Combination {
  std::string preset, platform, convergence;
  std::string protocol;  // execution.push_protocol; "" keeps the preset's.
};

std::vector<Combination> Everything() {
  std::vector<Combination> all;
  for (const std::string& preset : PresetNames()) {
    for (const std::string& platform : PlatformNames()) {
      for (const std::string& model : ConvergenceModelNames()) {
        all.push_back({preset, platform, model});
      }
    }
  }
  return all;
}

// Every parameter-store protocol on every preset and convergence model (on
// the default platform).
std::vector<Combination> Protocols() {
  std::vector<Combination> all;
  for (const std::string& preset : PresetNames()) {
    for (const std::string& model : ConvergenceModelNames()) {
      for (const char* protocol : {"apply", "cas", "overwrite", "fold"}) {
        all.push_back({preset, "aws_lambda", model, protocol});
      }
    }
  }
  return all;
}

std::shared_ptr<const Scenario> Load(const Combination& c) {
  const Scenario base = LoadScenario(c.preset);
  std::vector<std::string> overrides = {
      "platform.model=" + c.platform, "convergence.model=" + c.convergence,
      "workload.dataset_samples=" +
          std::to_string(base.workload.batch_size * 48),
      "job.max_epochs=6", "job.budget_usd=1000",
      // Small generated data keeps the sgd jobs fast.
      "convergence.sgd.features=256", "convergence.sgd.eval_samples=500"};
  if (!c.protocol.empty()) {
    overrides.push_back("execution.push_protocol=" + c.protocol);
  }
  return std::make_shared<const Scenario>(LoadScenario(c.preset, overrides));
}

// Adds up what each invocation was billed.
class Bills : public Observer {
 public:
  explicit Bills(const int* memory_mb) : memory_mb_(memory_mb) {}
  void OnInvocationEnd(int, double, double billed_s, bool) override {
    gb_s += billed_s * (*memory_mb_ / 1024.0);
  }
  double gb_s = 0;

 private:
  const int* memory_mb_;
};

// A random schedule over the platform's feasible sizes.
std::vector<Action> RandomSchedule(const Scenario& s, uint64_t seed) {
  const auto platform = MakePlatform(s);
  const int min_memory = MinFeasibleMemoryMb(*platform, s);
  std::vector<int> sizes;
  for (int m : platform->MemoryGrid()) {
    if (m >= min_memory) sizes.push_back(m);
  }
  Rng rng(seed, 99);
  std::vector<Action> schedule;
  for (int e = 0; e < s.job.max_epochs; ++e) {
    const int n = 1 + static_cast<int>(rng.Uniform() * 48);
    const int m = sizes[static_cast<size_t>(rng.Uniform() * sizes.size())];
    schedule.push_back({n, m});
  }
  return schedule;
}

class ConformanceTest : public ::testing::TestWithParam<Combination> {};

TEST_P(ConformanceTest, BoundedFiniteDeterministicAndPricedByParts) {
  const Combination c = GetParam();
  const auto scenario = Load(c);
  const std::vector<Action> schedule = RandomSchedule(*scenario, 11);
  int memory = 0;
  Bills bills(&memory);
  Simulation sim(scenario, 5), again(scenario, 5);
  sim.AddObserver(&bills);
  double cost = 0, progress = 0, time = 0;
  std::vector<EpochResult> results;
  for (const Action& action : schedule) {
    if (sim.done()) break;
    memory = action.memory_mb;
    const double gb_s_before = bills.gb_s;
    // Half-way, a copy must continue exactly as the original.
    if (results.size() == 2) {
      Simulation copy = sim;
      const EpochResult a = copy.RunEpoch(action);
      Simulation copy2 = sim;
      EXPECT_EQ(a.loss, copy2.RunEpoch(action).loss);
    }
    const EpochResult r = sim.RunEpoch(action);
    const EpochResult twin = again.RunEpoch(action);
    SCOPED_TRACE("epoch " + std::to_string(r.epoch));
    // Deterministic under a seed.
    EXPECT_EQ(r.duration_s, twin.duration_s);
    EXPECT_EQ(r.cost.total_usd(), twin.cost.total_usd());
    EXPECT_EQ(r.loss, twin.loss);
    EXPECT_EQ(r.events, twin.events);
    // Bounded and finite.
    for (double x : {r.duration_s, r.fetch.mean_s, r.compute.mean_s,
                     r.update.mean_s, r.billed_gb_s, r.mean_staleness}) {
      EXPECT_TRUE(std::isfinite(x) && x >= 0) << x;
    }
    EXPECT_TRUE(std::isfinite(r.loss) && r.loss > 0) << r.loss;
    EXPECT_TRUE(std::isfinite(r.true_loss) && r.true_loss > 0);
    EXPECT_GE(r.cpu_utilisation, 0);
    EXPECT_LE(r.cpu_utilisation, 1);
    EXPECT_GT(r.memory_utilisation, 0);
    EXPECT_LE(r.memory_utilisation, 1);
    EXPECT_EQ(r.functions_used, std::min<int64_t>(action.functions, r.batches));
    EXPECT_EQ(r.invocations, r.cold_starts + r.warm_starts);
    EXPECT_GE(r.updates, 1);
    // Progress never falls, except that an overwrite may set it back.
    const bool hsp = scenario->execution.mode == ExecutionMode::kHsp;
    const PushProtocol protocol = scenario->execution.push_protocol;
    if (!hsp || protocol != PushProtocol::kOverwrite) {
      EXPECT_GE(r.progress, progress);
    }
    progress = r.progress;
    // Only overwrite loses updates, and never more than it wrote; only fold
    // lists and folds, and it applies every push.
    EXPECT_GE(r.lost_updates, 0);
    EXPECT_LE(r.lost_updates, r.updates);
    if (!hsp || protocol != PushProtocol::kOverwrite) {
      EXPECT_EQ(r.lost_updates, 0);
    }
    if (hsp && protocol == PushProtocol::kFold) {
      EXPECT_GE(r.list_requests, r.folds);
      EXPECT_GE(r.folds, 1);
      EXPECT_EQ(r.updates * scenario->execution.sync_every >= r.batches, true);
    } else {
      EXPECT_EQ(r.list_requests, 0);
      EXPECT_EQ(r.folds, 0);
    }
    // The cost is its parts, each non-negative, and the job's is the sum of
    // its epochs'; the billed GB-s are the invocations' bills.
    EXPECT_GE(r.cost.function_duration_usd, 0);
    EXPECT_GE(r.cost.function_request_usd, 0);
    EXPECT_NEAR(
        r.cost.s3_request_usd,
        r.s3_gets * scenario->billing.s3_usd_per_get +
            (r.s3_puts + r.list_requests) * scenario->billing.s3_usd_per_put,
        1e-12);
    EXPECT_NEAR(r.billed_gb_s, bills.gb_s - gb_s_before,
                1e-9 * std::max(1.0, r.billed_gb_s));
    cost += r.cost.total_usd();
    EXPECT_NEAR(r.cumulative_cost_usd, cost, 1e-12 * std::max(1.0, cost));
    EXPECT_GT(r.cumulative_time_s, time);
    time = r.cumulative_time_s;
    results.push_back(r);
  }
  EXPECT_FALSE(results.empty());
}

// Bill() lies within the bounds its Rates() state (the spend cap relies on
// it), and the billed INIT of a cold start is part of it.
TEST_P(ConformanceTest, BillsWithinTheirStatedRates) {
  const auto scenario = Load(GetParam());
  const auto platform = MakePlatform(*scenario);
  Rng rng(7, 3);
  for (int m :
       {platform->MemoryGrid().front(), platform->MemoryGrid().back()}) {
    const BillingRates rates = platform->Rates(m);
    EXPECT_GE(rates.usd_per_s, 0);
    EXPECT_GE(rates.granularity_s, 0);
    for (double d : {0.0, 1e-9, 0.0004, 0.1, 1.0, 3.7, 899.999}) {
      SCOPED_TRACE("memory " + std::to_string(m) + " duration " +
                   std::to_string(d));
      const InvocationBill bill = platform->Bill(SecondsToSimTime(d), m);
      const double total = bill.duration_usd + bill.request_usd;
      EXPECT_GE(total, rates.request_usd + d * rates.usd_per_s - 1e-15);
      EXPECT_LE(total, rates.request_usd +
                           (d + rates.granularity_s) * rates.usd_per_s + 1e-15);
    }
    const double cold =
        platform->SampleColdStartS(m, scenario->workload.package_mb, rng);
    const double init =
        platform->BilledInitS(cold, scenario->workload.package_mb);
    EXPECT_GE(init, 0);
    EXPECT_LE(init, cold);
    if (!platform->bills_init()) EXPECT_EQ(init, 0);
  }
}

INSTANTIATE_TEST_SUITE_P(Everything, ConformanceTest,
                         ::testing::ValuesIn(Everything()),
                         [](const auto& info) {
                           std::string name = info.param.preset + "_" +
                                              info.param.platform + "_" +
                                              info.param.convergence;
                           for (char& ch : name) {
                             if (ch == '-' || ch == '+') ch = '_';
                           }
                           return name;
                         });

INSTANTIATE_TEST_SUITE_P(Protocols, ConformanceTest,
                         ::testing::ValuesIn(Protocols()),
                         [](const auto& info) {
                           std::string name = info.param.preset + "_" +
                                              info.param.convergence + "_" +
                                              info.param.protocol;
                           for (char& ch : name) {
                             if (ch == '-' || ch == '+') ch = '_';
                           }
                           return name;
                         });

}  // namespace
}  // namespace siren::sim
