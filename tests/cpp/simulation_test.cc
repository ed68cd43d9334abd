// Behaviour of the epoch model on the presets: warm pool, throttling,
// timeouts, infeasible memory, execution modes, determinism.
#include "sim/engine/simulation.h"

#include <gtest/gtest.h>

#include <cmath>
#include <memory>
#include <string>
#include <vector>

#include "sim/core/trace_observer.h"
#include "sim/platform/platform.h"
#include "sim/scenario/scenario_loader.h"
#include "sim/scenario/workload.h"

namespace siren::sim {
namespace {

std::shared_ptr<const Scenario> Load(const std::vector<std::string>& overrides,
                                     const std::string& preset = "default") {
  return std::make_shared<const Scenario>(LoadScenario(preset, overrides));
}

// A short job: 100 mini-batches per epoch, no stopping on loss or budget.
std::vector<std::string> Small(std::vector<std::string> extra = {}) {
  std::vector<std::string> overrides = {"workload.dataset_samples=6400",
                                        "job.budget_usd=1000",
                                        "job.max_epochs=50"};
  overrides.insert(overrides.end(), extra.begin(), extra.end());
  return overrides;
}

TEST(SimulationTest, KeepsFunctionsWarmAcrossEpochsWhenActionUnchanged) {
  Simulation sim(Load(Small()), 1);
  const EpochResult first = sim.RunEpoch({10, 1024});
  EXPECT_EQ(first.cold_starts, 10);
  EXPECT_EQ(first.warm_starts, 0);
  const EpochResult second = sim.RunEpoch({10, 1024});
  EXPECT_EQ(second.cold_starts, 0);
  EXPECT_EQ(second.warm_starts, 10);
}

TEST(SimulationTest, ColdStartsOnlyForAddedFunctions) {
  Simulation sim(Load(Small()), 1);
  sim.RunEpoch({10, 1024});
  const EpochResult grown = sim.RunEpoch({16, 1024});
  EXPECT_EQ(grown.warm_starts, 10);
  EXPECT_EQ(grown.cold_starts, 6);
}

TEST(SimulationTest, ChangingMemoryColdStartsEveryFunction) {
  Simulation sim(Load(Small()), 1);
  sim.RunEpoch({10, 1024});
  const EpochResult changed = sim.RunEpoch({10, 2048});
  EXPECT_EQ(changed.cold_starts, 10);
  EXPECT_EQ(changed.warm_starts, 0);
  // The 1024 MB instances are still warm within the keep-alive.
  const EpochResult back = sim.RunEpoch({10, 1024});
  EXPECT_EQ(back.warm_starts, 10);
}

// With one reconfigured function, going back to a previous memory size is
// cold again; with one function per size, that size's pool survived.
TEST(SimulationTest, SingleFunctionRetiresThePoolOnMemoryChange) {
  Simulation per_size(Load(Small()), 1);
  per_size.RunEpoch({10, 1024});
  per_size.RunEpoch({10, 2048});
  EXPECT_EQ(per_size.RunEpoch({10, 1024}).cold_starts, 0);

  Simulation single(Load(Small({"lambda.single_function=true"})), 1);
  single.RunEpoch({10, 1024});
  EXPECT_EQ(single.RunEpoch({10, 1024}).cold_starts, 0);
  single.RunEpoch({10, 2048});
  EXPECT_EQ(single.RunEpoch({10, 1024}).cold_starts, 10);
}

TEST(SimulationTest, IdleInstancesExpireAfterKeepAlive) {
  // With a 1 ms keep-alive only the instance that finished last is still
  // warm when the next epoch starts at the barrier.
  Simulation sim(Load(Small({"lambda.keep_alive_s=0.001"})), 1);
  sim.RunEpoch({10, 1024});
  const EpochResult next = sim.RunEpoch({10, 1024});
  EXPECT_EQ(next.warm_starts, 1);
  EXPECT_EQ(next.cold_starts, 9);
}

TEST(SimulationTest, ThrottlingDelaysWithoutBilling) {
  auto unlimited = Load(Small());
  auto limited = Load(Small({"lambda.concurrency_limit=4"}));
  Simulation free_sim(unlimited, 3), throttled_sim(limited, 3);
  const EpochResult free_run = free_sim.RunEpoch({12, 1024});
  const EpochResult throttled = throttled_sim.RunEpoch({12, 1024});
  EXPECT_EQ(free_run.throttles, 0);
  EXPECT_GT(throttled.throttles, 0);
  // Only admitted invocations are billed: one request charge each.
  EXPECT_EQ(throttled.invocations, 12);
  EXPECT_NEAR(throttled.cost.function_request_usd,
              12 * limited->params.Double("billing.usd_per_request"), 1e-15);
  EXPECT_GT(throttled.duration_s, free_run.duration_s);
  EXPECT_EQ(throttled.updates, free_run.updates);
}

TEST(SimulationTest, TimeoutCutsBillsAndReinvokes) {
  // About 0.4 s per batch and 50 batches per function: a 2 s timeout cuts
  // every invocation several times.
  auto scenario = Load(Small({"lambda.timeout_s=2"}));
  Simulation sim(scenario, 5);
  TraceObserver trace(/*log_updates=*/false);
  sim.AddObserver(&trace);
  const EpochResult r = sim.RunEpoch({2, 1024});
  EXPECT_GT(r.timeouts, 0);
  EXPECT_EQ(r.reinvocations, r.timeouts);
  EXPECT_EQ(r.invocations, 2 + r.reinvocations);
  // A recycled sandbox cold-starts: first invocations plus re-invocations.
  EXPECT_EQ(r.cold_starts, r.invocations);
  // Nothing is lost or applied twice: one update per batch.
  EXPECT_EQ(r.updates, BatchesPerEpoch(scenario->workload));
  // Each timed-out invocation is billed its full 2 s (100 ms grid).
  EXPECT_GE(r.billed_gb_s, r.timeouts * 2.0 * 1024 / 1024 - 1e-9);
  EXPECT_NE(trace.text().find("timed_out"), std::string::npos);
}

TEST(SimulationTest, InfeasibleMemoryIsAnErrorAndChangesNothing) {
  Simulation sim(Load(Small()), 1);
  const int need = MinFeasibleMemoryMb(sim.scenario());
  ASSERT_GT(need, 128);
  try {
    sim.RunEpoch({4, 128});
    FAIL() << "128 MB ran";
  } catch (const InvalidAction& e) {
    const std::string message = e.what();
    EXPECT_NE(message.find("memory_mb"), std::string::npos) << message;
    EXPECT_NE(message.find("128"), std::string::npos) << message;
    EXPECT_NE(message.find(std::to_string(need)), std::string::npos) << message;
  }
  EXPECT_THROW(sim.RunEpoch({4, 1000}), InvalidAction);  // Off the 64 MB grid.
  EXPECT_THROW(sim.RunEpoch({0, 1024}), InvalidAction);
  EXPECT_EQ(sim.epoch(), 0);
  EXPECT_EQ(sim.cost_usd(), 0.0);
}

TEST(SimulationTest, StoppedJobRefusesAnotherEpoch) {
  Simulation sim(Load(Small({"job.max_epochs=1"})), 1);
  const EpochResult r = sim.RunEpoch({4, 1024});
  EXPECT_EQ(r.status, JobStatus::kEpochLimit);
  EXPECT_THROW(sim.RunEpoch({4, 1024}), InvalidAction);
  sim.Reset(2);
  EXPECT_EQ(sim.epoch(), 0);
  EXPECT_NO_THROW(sim.RunEpoch({4, 1024}));
}

TEST(SimulationTest, StopsBeforeTheBudgetIsOverspent) {
  for (const char* guard : {"project", "cap"}) {
    SCOPED_TRACE(guard);
    Simulation sim(Load(Small({"job.budget_usd=0.01",
                               std::string("job.budget_guard=") + guard})),
                   1);
    EpochResult r;
    while (!sim.done()) r = sim.RunEpoch({20, 3008});
    EXPECT_EQ(r.status, JobStatus::kBudgetExhausted);
    EXPECT_NE(r.budget_stop, BudgetStop::kNone);
    EXPECT_LE(r.cumulative_cost_usd, 0.01);
    EXPECT_GT(r.cumulative_cost_usd, 0.0);
  }
}

TEST(SimulationTest, AnEpochProjectedOverTheBudgetIsNotRun) {
  // Any epoch costs more than $1e-6: the guard refuses the first one.
  Simulation sim(Load({"workload.target_loss=2.0", "job.budget_usd=0.000001"}),
                 1);
  const double initial_loss = sim.loss();
  const EpochResult r = sim.RunEpoch({8, 1024});
  EXPECT_EQ(r.budget_stop, BudgetStop::kBeforeEpoch);
  EXPECT_EQ(r.status, JobStatus::kBudgetExhausted);
  EXPECT_GT(r.projected_cost_usd, 0.000001);
  EXPECT_EQ(r.cumulative_cost_usd, 0.0);
  EXPECT_EQ(r.duration_s, 0.0);
  EXPECT_EQ(r.loss, initial_loss);
  EXPECT_EQ(sim.epoch(), 0);
}

TEST(SimulationTest, AnEpochCutAtTheBudgetIsNoSuccessEvenAtTheTarget) {
  // Without the projection the first epoch starts and is cut at the budget;
  // a cut epoch ends the job budget_exhausted whatever its loss.
  Simulation sim(Load({"workload.target_loss=2.2", "job.budget_usd=0.0001",
                       "job.budget_guard=cap"}),
                 1);
  const EpochResult r = sim.RunEpoch({8, 1024});
  EXPECT_EQ(r.budget_stop, BudgetStop::kMidEpoch);
  EXPECT_EQ(r.status, JobStatus::kBudgetExhausted);
  EXPECT_LE(r.cumulative_cost_usd, 0.0001);
  EXPECT_GT(r.cumulative_cost_usd, 0.00009);  // It spent up to the budget.
  EXPECT_LT(r.updates, r.batches);
  EXPECT_EQ(r.projected_cost_usd, 0.0);  // Guard `cap`: none made.
}

TEST(SimulationTest, ConvergesToTargetLoss) {
  Simulation sim(Load({}), 1);
  EpochResult r;
  while (!sim.done()) r = sim.RunEpoch({20, 1024});
  EXPECT_EQ(r.status, JobStatus::kConverged);
  EXPECT_LE(r.loss, sim.scenario().workload.target_loss);
}

TEST(SimulationTest, StalenessGrowsWithFunctions) {
  Simulation few(Load(Small()), 1), many(Load(Small()), 1);
  const EpochResult a = few.RunEpoch({2, 1024});
  const EpochResult b = many.RunEpoch({20, 1024});
  EXPECT_LT(a.mean_staleness, b.mean_staleness);
  EXPECT_GT(a.progress, b.progress);  // Same batches, less stale progress.
  EXPECT_GT(a.duration_s, b.duration_s);
}

TEST(SimulationTest, BspAppliesOneFreshUpdatePerRound) {
  Simulation sim(Load(Small({"execution.mode=bsp"})), 1);
  const EpochResult r = sim.RunEpoch({10, 1024});
  EXPECT_EQ(r.updates, 10);  // 100 batches in rounds of 10.
  EXPECT_EQ(r.max_staleness, 0);
  EXPECT_EQ(r.s3_puts, 100);
}

TEST(SimulationTest, LocalStepsPushOncePerGroup) {
  Simulation sim(Load(Small({"execution.sync_every=5"})), 1);
  const EpochResult r = sim.RunEpoch({10, 1024});
  EXPECT_EQ(r.updates, 20);  // 10 batches per function in groups of 5.
  EXPECT_EQ(r.s3_puts, 20);
  EXPECT_EQ(r.s3_gets, 100 + 20);  // Every batch, one parameter fetch a group.
}

// Under push_protocol cas every refused push costs one more GET (re-read)
// and one more PUT, and a lone function is never refused.
TEST(SimulationTest, CasPushesRetryOnConflictAndChargeTheRequests) {
  Simulation apply(Load(Small()), 5);
  const EpochResult a = apply.RunEpoch({8, 1024});
  EXPECT_EQ(a.update_conflicts, 0);

  Simulation cas(Load(Small({"execution.push_protocol=cas"})), 5);
  const EpochResult c = cas.RunEpoch({8, 1024});
  EXPECT_GT(c.update_conflicts, 0);
  EXPECT_EQ(c.updates, a.updates);
  EXPECT_EQ(c.s3_puts, c.updates + c.update_conflicts);
  EXPECT_EQ(c.s3_gets, a.s3_gets + c.update_conflicts);
  EXPECT_GT(c.update.mean_s, a.update.mean_s);

  Simulation lone(Load(Small({"execution.push_protocol=cas"})), 5);
  EXPECT_EQ(lone.RunEpoch({1, 1024}).update_conflicts, 0);
}

// A one-slot endpoint serves one request at a time: an epoch lasts at least
// its requests times the service time, and more functions cannot beat that.
TEST(SimulationTest, FiniteCapacityEndpointQueuesRequests) {
  const auto limited =
      Load(Small({"s3.server_slots=1", "s3.server_service_ms=20"}));
  Simulation sim(limited, 3);
  const EpochResult r = sim.RunEpoch({25, 1024});
  EXPECT_GE(r.duration_s, (r.s3_gets + r.s3_puts) * 0.020);
  Simulation unlimited(Load(Small()), 3);
  EXPECT_LT(unlimited.RunEpoch({25, 1024}).duration_s, r.duration_s / 2);
}

TEST(SimulationTest, CostBreakdownAddsUp) {
  Simulation sim(Load(Small()), 1);
  const EpochResult r = sim.RunEpoch({10, 1024});
  const Scenario& s = sim.scenario();
  EXPECT_NEAR(r.cost.function_request_usd,
              10 * s.params.Double("billing.usd_per_request"), 1e-15);
  EXPECT_NEAR(r.cost.s3_request_usd,
              r.s3_gets * s.billing.s3_usd_per_get +
                  r.s3_puts * s.billing.s3_usd_per_put,
              1e-15);
  EXPECT_NEAR(r.cost.function_duration_usd,
              r.billed_gb_s * s.params.Double("billing.usd_per_gb_s"), 1e-12);
  EXPECT_NEAR(r.cumulative_cost_usd, r.cost.total_usd(), 1e-15);
  EXPECT_GT(r.cpu_utilisation, 0.0);
  EXPECT_LE(r.cpu_utilisation, 1.0);
}

TEST(SimulationTest, S3RateLimitSlowsDownAtScale) {
  auto limited = Load(Small({"s3.rate_limit=true", "s3.get_rate_per_prefix=50",
                             "s3.put_rate_per_prefix=50"}));
  Simulation sim(limited, 1);
  const EpochResult r = sim.RunEpoch({50, 1024});
  EXPECT_GT(r.s3_slowdowns, 0);
  EXPECT_EQ(r.updates, 100);
}

std::string RunTrace(uint64_t seed) {
  Simulation sim(Load(Small()), seed);
  TraceObserver trace;
  sim.AddObserver(&trace);
  sim.RunEpoch({8, 1024});
  sim.RunEpoch({12, 1536});
  return trace.text();
}

TEST(SimulationTest, SameSeedSameTraceDifferentSeedDifferentTrace) {
  const std::string a = RunTrace(11);
  EXPECT_EQ(a, RunTrace(11));
  EXPECT_NE(a, RunTrace(12));
}

TEST(SimulationTest, CopyBranchesTheJob) {
  Simulation sim(Load(Small()), 9);
  sim.RunEpoch({8, 1024});
  Simulation branch = sim;
  const EpochResult a = sim.RunEpoch({8, 1024});
  const EpochResult b = branch.RunEpoch({8, 1024});
  EXPECT_EQ(FormatEpochResult(a), FormatEpochResult(b));
}

}  // namespace
}  // namespace siren::sim
