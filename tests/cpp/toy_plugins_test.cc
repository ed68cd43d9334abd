// A toy platform and a toy convergence model, declared, registered and run
// from this file alone (no edit under sim/, env/ or bindings/): the check
// that adding a model is "copy a folder, register it, add a preset".
#include <gtest/gtest.h>

#include <cmath>
#include <memory>
#include <string>
#include <vector>

#include "sim/convergence/convergence_model.h"
#include "sim/core/observer.h"
#include "sim/engine/simulation.h"
#include "sim/platform/platform.h"
#include "sim/scenario/param_builders.h"
#include "sim/scenario/scenario_loader.h"

namespace siren::sim {
namespace {

// A platform with three sizes, fixed start latencies, vCPUs = GB, and a flat
// price per started second.
class ToyPlatform final : public Platform {
 public:
  explicit ToyPlatform(const Scenario& s)
      : usd_per_second_(s.params.Double("toy_platform.usd_per_second")),
        cold_start_s_(s.params.Double("toy_platform.cold_start_s")) {}
  std::string name() const override { return "toy"; }
  const std::vector<int>& MemoryGrid() const override { return grid_; }
  std::string DescribeMemoryGrid() const override {
    return "one of 1024, 2048, 4096 MB";
  }
  double Vcpus(int memory_mb) const override { return memory_mb / 1024.0; }
  double ComputeSecondsPerBatch(const WorkloadSpec& w,
                                int memory_mb) const override {
    return w.flops_per_sample * w.batch_size / (Vcpus(memory_mb) * 1e10);
  }
  double compute_noise_sigma() const override { return 0; }
  double BandwidthMbPerS(int) const override { return 100; }
  double SampleColdStartS(int, double, Rng&) const override {
    return cold_start_s_;
  }
  double SampleWarmStartS(Rng&) const override { return 0.01; }
  double timeout_s() const override { return 600; }
  ConcurrencyRules concurrency() const override { return {10000, 0.1, 1}; }
  SandboxRules sandboxes() const override { return {60, true, false}; }
  InvocationBill Bill(SimTime duration, int memory_mb) const override {
    InvocationBill bill;
    bill.billed = BilledDuration(duration, SecondsToSimTime(1));
    bill.gb_s = GbSeconds(bill.billed, memory_mb);
    bill.duration_usd = SimTimeToSeconds(bill.billed) * usd_per_second_;
    bill.request_usd = 0;
    return bill;
  }
  BillingRates Rates(int) const override { return {usd_per_second_, 0, 1}; }

 private:
  std::vector<int> grid_ = {1024, 2048, 4096};
  double usd_per_second_;
  double cold_start_s_;
};

ParamSection ToyPlatformSection() {
  using namespace params;  // NOLINT
  ParamSection section;
  section.order = 150;
  section.params = {
      StoredDouble("toy_platform.usd_per_second", 0.001,
                   Between(0, 1, "[I] a dollar a second"),
                   "Price of one started second of one function.", "[I]"),
      StoredDouble("toy_platform.cold_start_s", 0.5,
                   Between(0, 3600, "[I] an hour"), "Cold-start latency, s.",
                   "[I]")};
  return section;
}

// Loss halves with every `halving_updates` applied updates; staleness and
// the batch do not matter.
class ToyConvergence final : public ConvergenceModel {
 public:
  explicit ToyConvergence(const Scenario& s)
      : halving_(s.params.Double("toy_convergence.halving_updates")) {}
  std::string name() const override { return "toy"; }
  double InitialLoss() const override { return 2.0; }
  void StartEpoch(int workers, int64_t, uint64_t) override {
    read_.assign(workers, 0.0);
  }
  void OnParamsFetched(int w) override { read_[w] = updates_; }
  void OnBatchComputed(int, int64_t) override {}
  void OnUpdateApplied(int, int64_t, int) override { updates_ += 1; }
  // Overwrite: the state becomes the writer's read plus its update.
  void OnUpdateOverwrote(int w, int64_t, int) override {
    updates_ = read_[w] + 1;
  }
  void OnUpdateStored(int) override {}
  void OnStoredUpdateApplied(int, int64_t, int) override { updates_ += 1; }
  void OnRoundClosed(const std::vector<int32_t>&, int64_t) override {
    updates_ += 1;
  }
  void OnLocalWorkDropped(int) override {}
  EpochLoss EndEpoch(Rng&) override {
    const double loss = 2.0 * std::exp2(-updates_ / halving_);
    return {loss, loss};
  }
  double progress() const override { return updates_; }
  std::unique_ptr<ConvergenceModel> Clone() const override {
    return std::make_unique<ToyConvergence>(*this);
  }

 private:
  double halving_;
  double updates_ = 0;
  std::vector<double> read_;  // Per worker: updates_ at its read.
};

ParamSection ToyConvergenceSection() {
  using namespace params;  // NOLINT
  ParamSection section;
  section.order = 220;
  section.params = {StoredDouble("toy_convergence.halving_updates", 50,
                                 Between(1, 1e9, "[I] keeps the loss finite"),
                                 "Applied updates that halve the loss.",
                                 "[I]")};
  return section;
}

[[maybe_unused]] const bool kToyPlatform = RegisterPlatform(
    "toy", ToyPlatformSection(),
    [](const Scenario& s) { return std::make_shared<const ToyPlatform>(s); });
[[maybe_unused]] const bool kToyConvergence = RegisterConvergenceModel(
    "toy", ToyConvergenceSection(),
    [](const Scenario& s) { return std::make_unique<ToyConvergence>(s); });

std::shared_ptr<const Scenario> ToyScenario(std::vector<std::string> extra) {
  std::vector<std::string> overrides = {"workload.dataset_samples=6400",
                                        "job.budget_usd=1000",
                                        "job.max_epochs=20"};
  overrides.insert(overrides.end(), extra.begin(), extra.end());
  return std::make_shared<const Scenario>(LoadScenario("default", overrides));
}

// Sums what the platform billed, invocation by invocation.
class BillSum : public Observer {
 public:
  void OnInvocationEnd(int, double, double billed_s, bool) override {
    billed_s_ += billed_s;
  }
  double billed_s_ = 0;
};

TEST(ToyPluginsTest, RegisteredNamesAreListed) {
  const std::vector<std::string> platforms = PlatformNames();
  EXPECT_NE(std::find(platforms.begin(), platforms.end(), "toy"),
            platforms.end());
  const std::vector<std::string> models = ConvergenceModelNames();
  EXPECT_NE(std::find(models.begin(), models.end(), "toy"), models.end());
  const std::string text = DescribeParameters();
  EXPECT_NE(text.find("toy_platform.usd_per_second"), std::string::npos);
  EXPECT_NE(text.find("(used when convergence.model is \"toy\")"),
            std::string::npos);
}

TEST(ToyPluginsTest, AJobRunsOnTheToyPlatform) {
  const auto scenario =
      ToyScenario({"platform.model=toy", "toy_platform.usd_per_second=0.002"});
  Simulation sim(scenario, 7);
  BillSum bills;
  sim.AddObserver(&bills);
  // Off the toy grid, named by the toy's own description.
  EXPECT_THROW(sim.RunEpoch({4, 1536}), InvalidAction);
  const EpochResult r = sim.RunEpoch({4, 2048});
  EXPECT_EQ(r.cold_starts, 4);
  // Whole started seconds at the toy's price, nothing per request; S3 as
  // the core section prices it.
  EXPECT_NEAR(r.cost.function_duration_usd, bills.billed_s_ * 0.002, 1e-12);
  EXPECT_EQ(r.cost.function_request_usd, 0);
  EXPECT_DOUBLE_EQ(bills.billed_s_, std::round(bills.billed_s_));
  // Every function started 0.5 s late (the toy's cold start).
  EXPECT_GE(r.duration_s, 0.5);
}

TEST(ToyPluginsTest, AJobRunsWithTheToyConvergenceModel) {
  const auto scenario = ToyScenario({"convergence.model=toy",
                                     "toy_convergence.halving_updates=100",
                                     "workload.target_loss=0.01"});
  Simulation sim(scenario, 7);
  EXPECT_EQ(sim.loss(), 2.0);
  const EpochResult r = sim.RunEpoch({10, 1024});
  EXPECT_EQ(r.progress, static_cast<double>(r.updates));
  EXPECT_DOUBLE_EQ(r.loss, 2.0 * std::exp2(-r.updates / 100.0));
  // A copy continues the same job.
  Simulation copy = sim;
  EXPECT_EQ(copy.RunEpoch({10, 1024}).loss, sim.RunEpoch({10, 1024}).loss);
}

TEST(ToyPluginsTest, BothTogetherAndErrorsNameTheSelector) {
  const auto scenario =
      ToyScenario({"platform.model=toy", "convergence.model=toy",
                   "workload.target_loss=0.5"});
  Simulation sim(scenario, 3);
  while (!sim.done()) sim.RunEpoch({8, 4096});
  EXPECT_EQ(sim.status(), JobStatus::kConverged);
  try {
    LoadScenario("default", {"platform.model=gcp"});
    FAIL();
  } catch (const ScenarioError& e) {
    EXPECT_EQ(e.field(), "platform.model");
    EXPECT_NE(std::string(e.what()).find("\"aws_lambda\", \"toy\""),
              std::string::npos)
        << e.what();
  }
}

}  // namespace
}  // namespace siren::sim
