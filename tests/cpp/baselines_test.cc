// The torch-free baselines (agent/baselines/): evaluation on seeds, grid
// search against brute force, CEM's guarantees, the hand schedule, and
// independence from the thread count.
#include <gtest/gtest.h>

#include <algorithm>
#include <memory>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "agent/baselines/cem.h"
#include "agent/baselines/evaluation.h"
#include "agent/baselines/grid_search.h"
#include "agent/baselines/hand_schedule.h"
#include "agent/baselines/oracle_static.h"
#include "env/thread_pool.h"
#include "sim/engine/simulation.h"
#include "sim/platform/platform.h"
#include "sim/scenario/scenario_loader.h"

namespace siren::baselines {
namespace {

sim::Scenario Default() { return sim::LoadScenario("default", {}); }

// A tiny grid on which some points fail the tighter budget.
GridSpec TinyGrid() {
  GridSpec spec;
  spec.functions = {10, 50, 200};
  spec.memory_mb = {1024, 2560};
  return spec;
}

void ExpectSameEvaluation(const Evaluation& a, const Evaluation& b) {
  EXPECT_EQ(a.mean_jct_s, b.mean_jct_s);
  EXPECT_EQ(a.mean_cost_usd, b.mean_cost_usd);
  EXPECT_EQ(a.successes, b.successes);
  ASSERT_EQ(a.episodes.size(), b.episodes.size());
  for (size_t i = 0; i < a.episodes.size(); ++i) {
    EXPECT_EQ(a.episodes[i].seed, b.episodes[i].seed);
    EXPECT_EQ(a.episodes[i].jct_s, b.episodes[i].jct_s);
    EXPECT_EQ(a.episodes[i].status, b.episodes[i].status);
  }
}

TEST(EvaluationTest, ScheduleRepeatsItsLastActionAndMatchesAManualRun) {
  const Policy policy = SchedulePolicy({{100, 2048}, {20, 1024}});
  EXPECT_EQ(policy(nullptr, 0).functions, 100);
  EXPECT_EQ(policy(nullptr, 1).functions, 20);
  EXPECT_EQ(policy(nullptr, 7).memory_mb, 1024);
  EXPECT_THROW(SchedulePolicy({}), std::invalid_argument);

  auto scenario = std::make_shared<const sim::Scenario>(Default());
  sim::Simulation manual(scenario, 3);
  while (!manual.done()) {
    manual.RunEpoch(manual.epoch() == 0 ? sim::Action{100, 2048}
                                        : sim::Action{20, 1024});
  }
  const EpisodeOutcome outcome = RunEpisode(scenario, policy, 3);
  EXPECT_EQ(outcome.jct_s, manual.time_s());
  EXPECT_EQ(outcome.cost_usd, manual.cost_usd());
  EXPECT_EQ(outcome.epochs, manual.epoch());
  EXPECT_EQ(outcome.status, manual.status());
}

TEST(EvaluationTest, AggregatesInSeedOrderAndSeesTheLastResult) {
  auto scenario = std::make_shared<const sim::Scenario>(Default());
  env::ThreadPool pool(2);
  // An adaptive policy: halve n once the loss is below 0.1.
  const Policy adaptive = [](const sim::EpochResult* last, int) {
    const bool late = last != nullptr && last->loss < 0.1;
    return sim::Action{late ? 25 : 50, 2048};
  };
  const Evaluation e = EvaluatePolicy(scenario, adaptive, {5, 6, 7}, pool);
  ASSERT_EQ(e.episodes.size(), 3u);
  double jct = 0;
  int successes = 0;
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(e.episodes[i].seed, 5u + i);
    const EpisodeOutcome alone = RunEpisode(scenario, adaptive, 5 + i);
    EXPECT_EQ(e.episodes[i].jct_s, alone.jct_s);
    jct += alone.jct_s;
    successes += alone.success();
  }
  EXPECT_DOUBLE_EQ(e.mean_jct_s, jct / 3);
  EXPECT_EQ(e.successes, successes);
  EXPECT_DOUBLE_EQ(e.success_rate, successes / 3.0);
}

TEST(EvaluationTest, WithBudgetCopiesAndValidates) {
  const sim::Scenario base = Default();
  const auto copy = WithBudget(base, 0.4);
  EXPECT_EQ(copy->job.budget_usd, 0.4);
  EXPECT_EQ(copy->job.max_epochs, base.job.max_epochs);
  EXPECT_NE(base.job.budget_usd, 0.4);
  EXPECT_THROW(WithBudget(base, 0), std::invalid_argument);
  EXPECT_THROW(WithBudget(base, -1), std::invalid_argument);
  EXPECT_THROW(SeedRange(0, 0), std::invalid_argument);
  EXPECT_EQ(SeedRange(4, 3), (std::vector<uint64_t>{4, 5, 6}));
}

TEST(EvaluationTest, AnInvalidActionPropagates) {
  auto scenario = std::make_shared<const sim::Scenario>(Default());
  env::ThreadPool pool(2);
  EXPECT_THROW(EvaluateSchedule(scenario, {{10, 100}}, {0, 1}, pool),
               sim::InvalidAction);
}

TEST(GridSearchTest, GridsAreClippedSubsampledAndValidated) {
  sim::Scenario scenario = Default();
  scenario.params.Set("env.max_functions", int64_t{100});
  scenario.params.Set("env.min_functions", int64_t{2});
  EXPECT_EQ(GridFunctions(scenario, {}),
            (std::vector<int>{2, 5, 10, 20, 30, 50, 75, 100}));
  GridSpec bad;
  bad.functions = {50, 2000};
  EXPECT_THROW(GridFunctions(scenario, bad), std::invalid_argument);

  const std::vector<int> memory = GridMemory(scenario, {});
  EXPECT_LE(memory.size(), 13u);
  EXPECT_EQ(memory.front(), sim::MinFeasibleMemoryMb(scenario));
  EXPECT_EQ(memory.back(), scenario.params.Int("lambda.max_memory_mb"));
  GridSpec every;
  every.memory_stride = 1;
  const std::vector<int> all = GridMemory(scenario, every);
  EXPECT_EQ(all.back() - all.front(),
            (static_cast<int>(all.size()) - 1) *
                scenario.params.Int("lambda.memory_step_mb"));
  GridSpec off_grid;
  off_grid.memory_mb = {1000};
  EXPECT_THROW(GridMemory(scenario, off_grid), std::invalid_argument);
}

TEST(GridSearchTest, PicksMaximalSuccessThenMinimalJctByBruteForce) {
  const sim::Scenario scenario = Default();
  const std::vector<double> budgets = {0.15, 0.25};
  const std::vector<uint64_t> seeds = {0, 1};
  env::ThreadPool pool(1);
  const auto results = GridSearch(scenario, budgets, TinyGrid(), seeds, pool);
  ASSERT_EQ(results.size(), 2u);
  bool some_point_fails = false;
  for (size_t b = 0; b < budgets.size(); ++b) {
    const GridSearchResult& r = results[b];
    EXPECT_EQ(r.budget_usd, budgets[b]);
    ASSERT_EQ(r.points.size(), 6u);
    // Brute force: evaluate each point alone and rank by hand.
    const auto budgeted = WithBudget(scenario, budgets[b]);
    int max_successes = -1;
    std::vector<Evaluation> alone;
    for (const GridPoint& p : r.points) {
      alone.push_back(EvaluateSchedule(budgeted, {p.action}, seeds, pool));
      ExpectSameEvaluation(alone.back(), p.evaluation);
      max_successes = std::max(max_successes, alone.back().successes);
      some_point_fails |= alone.back().successes < 2;
    }
    int expected = -1;
    for (int i = 0; i < 6; ++i) {
      if (alone[i].successes != max_successes) continue;
      if (expected < 0 || alone[i].mean_jct_s < alone[expected].mean_jct_s) {
        expected = i;
      }
    }
    EXPECT_EQ(r.best, expected) << "budget " << budgets[b];
    EXPECT_EQ(r.required_successes, max_successes);
  }
  // The grid is informative: the tight budget fails somewhere.
  EXPECT_TRUE(some_point_fails);
}

TEST(GridSearchTest, FixedFunctionsGivesGsX) {
  GridSpec spec = TinyGrid();
  spec.functions = {50};
  env::ThreadPool pool(2);
  const auto results = GridSearch(Default(), {0.25}, spec, {0, 1}, pool);
  ASSERT_EQ(results[0].points.size(), 2u);
  EXPECT_EQ(results[0].best_point().action.functions, 50);
}

TEST(GridSearchTest, ResultsDoNotDependOnTheThreadCount) {
  env::ThreadPool one(1);
  env::ThreadPool two(2);
  const auto a = GridSearch(Default(), {0.15, 0.4}, TinyGrid(), {0, 1, 2}, one);
  const auto b = GridSearch(Default(), {0.15, 0.4}, TinyGrid(), {0, 1, 2}, two);
  ASSERT_EQ(a.size(), b.size());
  for (size_t i = 0; i < a.size(); ++i) {
    EXPECT_EQ(a[i].best, b[i].best);
    for (size_t p = 0; p < a[i].points.size(); ++p) {
      ExpectSameEvaluation(a[i].points[p].evaluation,
                           b[i].points[p].evaluation);
    }
  }
}

TEST(GridPlanTest, SharedPointsRunOnceAndOutcomesReduceToGridSearch) {
  GridSpec gs_x = TinyGrid();
  gs_x.functions = {50};
  const std::vector<double> budgets = {0.15, 0.4};
  const std::vector<uint64_t> seeds = {0, 1};
  const GridPlan plan =
      MakeGridPlan(Default(), budgets, {TinyGrid(), gs_x}, seeds);
  // GS-50's points are GS's: 2 budgets x 3 x 2 distinct runs.
  ASSERT_EQ(plan.runs.size(), 12u);
  ASSERT_EQ(plan.point_runs.size(), 2u);
  for (int b = 0; b < 2; ++b) {
    for (int r : plan.point_runs[1][b]) {
      EXPECT_EQ(plan.runs[r].budget, b);
      EXPECT_EQ(plan.runs[r].action.functions, 50);
    }
  }

  // The episodes run elsewhere, one run at a time, reduce to GridSearch.
  env::ThreadPool pool(2);
  std::vector<std::vector<EpisodeOutcome>> outcomes;
  for (const GridRun& run : plan.runs) {
    outcomes.push_back(
        EvaluateSchedule(plan.scenarios[run.budget], {run.action}, seeds, pool)
            .episodes);
  }
  const auto reduced = ReduceGridPlan(plan, outcomes);
  const auto ran = RunGridPlan(plan, pool);
  const std::vector<GridSpec> specs = {TinyGrid(), gs_x};
  for (size_t g = 0; g < specs.size(); ++g) {
    const auto direct = GridSearch(Default(), budgets, specs[g], seeds, pool);
    for (const auto* results : {&reduced[g], &ran[g]}) {
      ASSERT_EQ(results->size(), direct.size());
      for (size_t b = 0; b < direct.size(); ++b) {
        EXPECT_EQ((*results)[b].budget_usd, direct[b].budget_usd);
        EXPECT_EQ((*results)[b].best, direct[b].best);
        EXPECT_EQ((*results)[b].required_successes,
                  direct[b].required_successes);
        ASSERT_EQ((*results)[b].points.size(), direct[b].points.size());
        for (size_t p = 0; p < direct[b].points.size(); ++p) {
          EXPECT_EQ((*results)[b].points[p].action.memory_mb,
                    direct[b].points[p].action.memory_mb);
          ExpectSameEvaluation((*results)[b].points[p].evaluation,
                               direct[b].points[p].evaluation);
        }
      }
    }
  }

  // Outcomes that do not match the plan, and a plan without seeds.
  auto fewer = outcomes;
  fewer.pop_back();
  EXPECT_THROW(ReduceGridPlan(plan, fewer), std::invalid_argument);
  auto swapped = outcomes;
  std::swap(swapped[3][0], swapped[3][1]);
  EXPECT_THROW(ReduceGridPlan(plan, swapped), std::invalid_argument);
  EXPECT_THROW(MakeGridPlan(Default(), budgets, {TinyGrid()}, {}),
               std::invalid_argument);
}

CemOptions SmallCem() {
  CemOptions o;
  o.slots = 3;
  o.population = 6;
  o.iterations = 2;
  o.elite_fraction = 0.34;
  o.seed = 11;
  return o;
}

TEST(CemTest, ResultsDoNotDependOnTheThreadCount) {
  auto scenario = WithBudget(Default(), 0.25);
  env::ThreadPool one(1);
  env::ThreadPool two(2);
  const CemResult a = CemSearch(scenario, {0, 1}, SmallCem(), one);
  const CemResult b = CemSearch(scenario, {0, 1}, SmallCem(), two);
  EXPECT_EQ(a.best_objective, b.best_objective);
  ASSERT_EQ(a.best.size(), 3u);
  ASSERT_EQ(a.best.size(), b.best.size());
  for (size_t t = 0; t < a.best.size(); ++t) {
    EXPECT_EQ(a.best[t].functions, b.best[t].functions);
    EXPECT_EQ(a.best[t].memory_mb, b.best[t].memory_mb);
  }
  ASSERT_EQ(a.history.size(), 2u);
  for (size_t i = 0; i < a.history.size(); ++i) {
    EXPECT_EQ(a.history[i].elite_mean_objective,
              b.history[i].elite_mean_objective);
  }
  EXPECT_EQ(a.evaluated, 12);
  // Another sampling seed explores other schedules.
  CemOptions other = SmallCem();
  other.seed = 12;
  EXPECT_NE(
      CemSearch(scenario, {0, 1}, other, one).history[0].elite_mean_objective,
      a.history[0].elite_mean_objective);
}

TEST(CemTest, NeverWorseThanTheStaticScheduleItIsSeededWith) {
  const sim::Scenario scenario = Default();
  const std::vector<uint64_t> seeds = {0, 1};
  env::ThreadPool pool(2);
  for (double budget : {0.15, 0.25}) {
    const auto gs = GridSearch(scenario, {budget}, TinyGrid(), seeds, pool);
    const GridPoint& best = gs[0].best_point();
    CemOptions options = SmallCem();
    options.initial = best.action;
    options.include = {{best.action}};
    const CemResult cem =
        CemSearch(WithBudget(scenario, budget), seeds, options, pool);
    const double static_objective =
        CemObjective(best.evaluation, options.failure_penalty_s);
    EXPECT_LE(cem.best_objective, static_objective) << "budget " << budget;
    EXPECT_EQ(cem.best_objective,
              CemObjective(cem.best_evaluation, options.failure_penalty_s));
    EXPECT_GE(cem.best_evaluation.successes, best.evaluation.successes);
    // The reported best re-evaluates to the same numbers.
    ExpectSameEvaluation(
        EvaluateSchedule(WithBudget(scenario, budget), cem.best, seeds, pool),
        cem.best_evaluation);
  }
}

TEST(CemTest, RejectsBadOptions) {
  auto scenario = WithBudget(Default(), 0.25);
  env::ThreadPool pool(1);
  CemOptions o = SmallCem();
  o.elite_fraction = 0;
  EXPECT_THROW(CemSearch(scenario, {0}, o, pool), std::invalid_argument);
  o = SmallCem();
  o.initial = sim::Action{10, 1000};
  EXPECT_THROW(CemSearch(scenario, {0}, o, pool), std::invalid_argument);
  EXPECT_THROW(CemSearch(scenario, {}, SmallCem(), pool),
               std::invalid_argument);
}

// The default preset with n in [1, 12]: 12 x 45 configurations, few enough
// for a brute force, and a budget that cuts through the grid.
sim::Scenario TinyOracleScenario() {
  sim::Scenario scenario = Default();
  scenario.params.Set("env.max_functions", int64_t{12});
  return scenario;
}

// Coarse enough that the refinement has work to do on the tiny grid.
OracleStaticOptions CoarseOracle() {
  OracleStaticOptions o;
  o.function_ratio = 2;
  o.coarse_memory = 4;
  o.starts = 2;
  return o;
}

TEST(OracleStaticTest, CoarseAxesAreALadderAndGridSearchsMemoryAxis) {
  const sim::Scenario scenario = Default();
  OracleStaticOptions o;
  o.function_ratio = 2;
  EXPECT_EQ(OracleCoarseFunctions(scenario, o),
            (std::vector<int>{1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1000}));
  o.function_ratio = 1.25;
  const std::vector<int> ladder = OracleCoarseFunctions(scenario, o);
  for (size_t i = 1; i < ladder.size(); ++i) {
    EXPECT_GT(ladder[i], ladder[i - 1]);
    EXPECT_LE(ladder[i], std::max(ladder[i - 1] + 1,
                                  static_cast<int>(ladder[i - 1] * 1.25)));
  }
  // coarse_memory = 12 is grid search's default memory axis.
  EXPECT_EQ(OracleCoarseMemory(scenario, o), GridMemory(scenario, {}));
  o.coarse_memory = 2;
  EXPECT_EQ(OracleCoarseMemory(scenario, o), (std::vector<int>{192, 3008}));
}

TEST(OracleStaticTest, NeverWorseThanWhatItEvaluatedAndALocalOptimum) {
  const sim::Scenario scenario = TinyOracleScenario();
  const std::vector<uint64_t> seeds = {0, 1};
  env::ThreadPool pool(2);
  OracleStaticOptions o = CoarseOracle();
  o.include = {{5, 1024}};
  for (double budget : {0.07, 0.25}) {
    const OracleStaticResult r =
        OracleStatic(scenario, {budget}, seeds, o, pool).front();
    EXPECT_EQ(r.budget_usd, budget);
    EXPECT_TRUE(r.local_optimum);
    EXPECT_GT(r.rounds, 0);
    const auto budgeted = WithBudget(scenario, budget);
    // The reported best re-evaluates to the same numbers.
    ExpectSameEvaluation(
        EvaluateSchedule(budgeted, {r.best.action}, seeds, pool),
        r.best.evaluation);
    // No coarse point and no included one ranks before it.
    GridSpec coarse;
    coarse.functions = OracleCoarseFunctions(scenario, o);
    coarse.memory_mb = OracleCoarseMemory(scenario, o);
    const auto grid = GridSearch(scenario, {budget}, coarse, seeds, pool);
    EXPECT_EQ(r.coarse_points, static_cast<int>(grid[0].points.size()) + 1);
    EXPECT_FALSE(RanksBefore(grid[0].best_point(), r.best));
    const GridPoint included{
        o.include[0], EvaluateSchedule(budgeted, {o.include[0]}, seeds, pool)};
    EXPECT_FALSE(RanksBefore(included, r.best));
    // None of its 8 neighbours at the final resolution does.
    const std::vector<int> feasible = FeasibleMemory(scenario);
    const int position = static_cast<int>(
        std::find(feasible.begin(), feasible.end(), r.best.action.memory_mb) -
        feasible.begin());
    for (int dn : {-1, 0, 1}) {
      for (int dm : {-1, 0, 1}) {
        const int n = r.best.action.functions + dn;
        const int p = position + dm;
        if ((dn == 0 && dm == 0) || n < 1 || n > 12 || p < 0 ||
            p >= static_cast<int>(feasible.size())) {
          continue;
        }
        const GridPoint neighbour{
            {n, feasible[p]},
            EvaluateSchedule(budgeted, {{n, feasible[p]}}, seeds, pool)};
        EXPECT_FALSE(RanksBefore(neighbour, r.best))
            << "budget " << budget << ": " << n << " x " << feasible[p];
      }
    }
  }
}

TEST(OracleStaticTest, FindsTheBruteForceOptimumOfATinyGrid) {
  const sim::Scenario scenario = TinyOracleScenario();
  const std::vector<uint64_t> seeds = {0, 1};
  env::ThreadPool pool(2);
  GridSpec every;
  for (int n = 1; n <= 12; ++n) every.functions.push_back(n);
  every.memory_stride = 1;
  // Python's test_baselines.py checks 0.07 the same way.
  const std::vector<double> budgets = {0.06};
  const auto brute = GridSearch(scenario, budgets, every, seeds, pool);
  const auto oracle =
      OracleStatic(scenario, budgets, seeds, OracleStaticOptions{}, pool);
  for (size_t b = 0; b < budgets.size(); ++b) {
    const GridPoint& expected = brute[b].best_point();
    EXPECT_EQ(oracle[b].best.action.functions, expected.action.functions)
        << "budget " << budgets[b];
    EXPECT_EQ(oracle[b].best.action.memory_mb, expected.action.memory_mb)
        << "budget " << budgets[b];
    ExpectSameEvaluation(oracle[b].best.evaluation, expected.evaluation);
    // A search, not the brute force: far fewer than the 540 configurations.
    EXPECT_LT(oracle[b].evaluated, 540 / 2);
  }
}

TEST(OracleStaticTest, ResultsDoNotDependOnThreadsOrOnTheOtherBudgets) {
  const sim::Scenario scenario = TinyOracleScenario();
  const std::vector<uint64_t> seeds = {0, 1};
  env::ThreadPool one(1);
  env::ThreadPool two(2);
  const auto together =
      OracleStatic(scenario, {0.06, 0.25}, seeds, CoarseOracle(), two);
  ASSERT_EQ(together.size(), 2u);
  for (size_t b = 0; b < 2; ++b) {
    // The Ray backend runs one budget per task.
    const OracleStaticResult alone =
        OracleStatic(scenario, {together[b].budget_usd}, seeds, CoarseOracle(),
                     one)
            .front();
    EXPECT_EQ(alone.best.action.functions, together[b].best.action.functions);
    EXPECT_EQ(alone.best.action.memory_mb, together[b].best.action.memory_mb);
    ExpectSameEvaluation(alone.best.evaluation, together[b].best.evaluation);
    EXPECT_EQ(alone.coarse_points, together[b].coarse_points);
    EXPECT_EQ(alone.evaluated, together[b].evaluated);
    EXPECT_EQ(alone.rounds, together[b].rounds);
    EXPECT_EQ(alone.local_optimum, together[b].local_optimum);
  }
}

TEST(OracleStaticTest, RejectsBadOptionsAndIncludes) {
  const sim::Scenario scenario = TinyOracleScenario();
  env::ThreadPool pool(1);
  auto fails = [&](OracleStaticOptions o, const std::string& name) {
    try {
      OracleStatic(scenario, {0.25}, {0}, o, pool);
      ADD_FAILURE() << "accepted a bad " << name;
    } catch (const std::invalid_argument& error) {
      EXPECT_NE(std::string(error.what()).find(name), std::string::npos)
          << error.what();
    }
  };
  OracleStaticOptions o;
  o.function_ratio = 1;
  fails(o, "function_ratio");
  o = {};
  o.coarse_memory = 1;
  fails(o, "coarse_memory");
  o = {};
  o.starts = 0;
  fails(o, "starts");
  o = {};
  o.memory_step = 0;
  fails(o, "memory_step");
  o = {};
  o.include = {{13, 1024}};
  fails(o, "include: functions");
  o = {};
  o.include = {{5, 1000}};
  fails(o, "include: memory_mb");
  EXPECT_THROW(OracleStatic(scenario, {0.25}, {}, {}, pool),
               std::invalid_argument);
  EXPECT_THROW(OracleStatic(scenario, {0}, {0}, {}, pool),
               std::invalid_argument);
}

TEST(HandScheduleTest, HighThenMidThenLowAndScaled) {
  const sim::Scenario scenario = Default();
  HandScheduleOptions o;
  o.memory_mb = 1024;
  o.mid_epochs = 3;
  const Schedule s = HandSchedule(scenario, o);
  ASSERT_EQ(s.size(), 5u);
  const std::vector<int> expected = {120, 20, 20, 20, 10};
  for (size_t e = 0; e < s.size(); ++e) {
    EXPECT_EQ(s[e].functions, expected[e]);
    EXPECT_EQ(s[e].memory_mb, 1024);
  }
  // The last repeats: epoch 10 runs the fewest.
  EXPECT_EQ(SchedulePolicy(s)(nullptr, 10).functions, 10);

  o.scale = 0.5;
  o.mid_epochs = 0;
  const Schedule half = HandSchedule(scenario, o);
  ASSERT_EQ(half.size(), 2u);
  EXPECT_EQ(half[0].functions, 60);
  EXPECT_EQ(half[1].functions, 5);
  o.scale = 100;  // Clamped to env.max_functions.
  EXPECT_EQ(HandSchedule(scenario, o)[0].functions,
            scenario.params.Int("env.max_functions"));

  o.scale = 1;
  o.memory_mb = 1000;  // Off the 2018 grid.
  EXPECT_THROW(HandSchedule(scenario, o), std::invalid_argument);
  o.memory_mb = 1024;
  o.scale = 0;
  EXPECT_THROW(HandSchedule(scenario, o), std::invalid_argument);
  EXPECT_EQ(DefaultHandMemoryMb(scenario), 2048);
}

}  // namespace
}  // namespace siren::baselines
