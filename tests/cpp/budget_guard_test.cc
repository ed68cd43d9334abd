// The budget guard (job.budget_guard, scenario.h): no job ever ends above its
// budget, on adversarial schedules and budgets, with either guard, on every
// preset; the projection covers what grows with n.
#include <gtest/gtest.h>

#include <cmath>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "sim/engine/simulation.h"
#include "sim/platform/platform.h"
#include "sim/scenario/presets.h"
#include "sim/scenario/scenario_loader.h"

namespace siren::sim {
namespace {

std::shared_ptr<const Scenario> Load(const std::string& preset,
                                     std::vector<std::string> overrides) {
  return std::make_shared<const Scenario>(LoadScenario(preset, overrides));
}

// Random schedules (n in [1, 300], any feasible memory, changing every
// epoch or not) and budgets from a tenth of one epoch's cost to dozens of
// epochs: every job ends at or under its budget, and a job the budget
// stopped says how (before_epoch: nothing spent on that row).
TEST(BudgetGuardTest, NoJobEverEndsAboveItsBudget) {
  std::mt19937_64 rng(20261201);
  int cases = 0, stopped = 0, cut = 0, refused = 0;
  for (const std::string& preset :
       {std::string("default"), std::string("softmax-digits"),
        std::string("logreg-click-through")}) {
    for (const char* guard : {"project", "cap"}) {
      for (int trial = 0; trial < 40; ++trial) {
        SCOPED_TRACE(preset + " " + guard + " trial " + std::to_string(trial));
        // The cost of a typical epoch sets the scale of the budget.
        const double budget = std::exp(std::uniform_real_distribution<double>(
            std::log(1e-5), std::log(0.5))(rng));
        auto scenario =
            Load(preset, {"job.budget_usd=" + std::to_string(budget),
                          std::string("job.budget_guard=") + guard,
                          "job.max_epochs=40"});
        Simulation sim(scenario, rng());
        const std::vector<int>& grid = sim.platform().MemoryGrid();
        const int min_memory = MinFeasibleMemoryMb(sim.platform(), *scenario);
        std::vector<int> feasible;
        for (int m : grid) {
          if (m >= min_memory) feasible.push_back(m);
        }
        const bool changing = trial % 2 == 0;
        Action action{1 + static_cast<int>(rng() % 300),
                      feasible[rng() % feasible.size()]};
        EpochResult r;
        while (!sim.done()) {
          if (changing) {
            action = {1 + static_cast<int>(rng() % 300),
                      feasible[rng() % feasible.size()]};
          }
          try {
            r = sim.RunEpoch(action);
          } catch (const InvalidAction&) {
            break;  // Too little memory for one step in the timeout.
          }
          ASSERT_LE(r.cumulative_cost_usd, budget);
          ASSERT_LE(sim.cost_usd(), budget);
          if (r.budget_stop == BudgetStop::kBeforeEpoch) {
            EXPECT_EQ(r.cost.total_usd(), 0.0);
            EXPECT_GT(r.projected_cost_usd, budget - (r.cumulative_cost_usd));
          }
          if (r.budget_stop != BudgetStop::kNone) {
            EXPECT_EQ(r.status, JobStatus::kBudgetExhausted);
          }
        }
        ++cases;
        if (r.status == JobStatus::kBudgetExhausted) ++stopped;
        if (r.budget_stop == BudgetStop::kMidEpoch) ++cut;
        if (r.budget_stop == BudgetStop::kBeforeEpoch) ++refused;
      }
    }
  }
  // The cases reach the budget often, both ways.
  EXPECT_EQ(cases, 240);
  EXPECT_GT(stopped, 60);
  EXPECT_GT(cut, 10);
  EXPECT_GT(refused, 10);
}

// The projection sees S3 requests grow with n under compare-and-swap (the
// runner's reproduction: 4 then 32 functions at 1024 MB): projected from
// the 4-function epoch's state, the 32-function epoch costs more than 4/4 of
// it, and the projection covers what it then costs.
TEST(BudgetGuardTest, ProjectionCoversRequestsThatGrowWithFunctions) {
  auto scenario = Load("softmax-digits", {"job.budget_usd=1"});
  Simulation sim(scenario, 3);
  const EpochResult first = sim.RunEpoch({4, 1024});
  const CostProjection projection = sim.ProjectEpochCost({32, 1024});
  const EpochResult second = sim.RunEpoch({32, 1024});
  EXPECT_GT(second.s3_puts, first.s3_puts);
  EXPECT_GT(projection.mean_usd, first.cost.total_usd());
  EXPECT_GE(projection.bound_usd, second.cost.total_usd());
  EXPECT_EQ(projection.samples, scenario->job.projection_samples);
}

// A projection is deterministic and leaves the job untouched.
TEST(BudgetGuardTest, ProjectionIsDeterministicAndChangesNothing) {
  auto scenario = Load("default", {});
  Simulation a(scenario, 5);
  Simulation b(scenario, 5);
  const CostProjection p1 = a.ProjectEpochCost({20, 1024});
  const CostProjection p2 = a.ProjectEpochCost({20, 1024});
  EXPECT_EQ(p1.bound_usd, p2.bound_usd);
  EXPECT_EQ(p1.mean_usd, p2.mean_usd);
  const EpochResult ra = a.RunEpoch({20, 1024});
  const EpochResult rb = b.RunEpoch({20, 1024});
  EXPECT_EQ(ra.cost.total_usd(), rb.cost.total_usd());
  EXPECT_EQ(ra.duration_s, rb.duration_s);
}

}  // namespace
}  // namespace siren::sim
