// The oracle static baseline: the best static configuration (n functions of
// m MB each, the same for every epoch) on the platform's full grid, for a
// budget, tuned on the seeds it is given. The full grid is every n in
// [env.min_functions, env.max_functions] times every feasible memory size of
// the era's grid (2018: 64 MB steps, 45 sizes for LeNet; 2020+: 1 MB steps,
// about 10,000 sizes), so up to ~10^7 configurations: too many to run them
// all, hence a search in two stages. Configurations rank by grid search's
// rule (grid_search.h, RanksBefore): more successes, then lower mean JCT.
//
// 1. Coarse stage. Every n of a geometric ladder from env.min_functions to
//    env.max_functions (each value at most `function_ratio` times the
//    previous and at least one more; the largest always in) times the
//    coarse memory axis (every k-th feasible size counted from the smallest
//    plus the largest, k chosen so that at most `coarse_memory` sizes
//    remain: with coarse_memory = 12, grid search's default axis), plus the
//    `include` configurations.
// 2. Refinement. Of the coarse stage, the best configuration of each memory
//    size it evaluated; the `starts` best of those start a pattern search
//    each. A search looks at the 8 neighbours of its centre at the current
//    steps (n +- dn, memory position +- dm, diagonals included, clipped to
//    the ranges), moves to the best when it ranks before the centre, and
//    otherwise halves both steps (never below `function_step` and
//    `memory_step`); it ends when the neighbours at those final steps rank
//    after the centre. Initial steps: half the ladder's gap at the start's
//    n, half the coarse memory stride. A search that reaches the centre of
//    an earlier one stops (that one continues). Diagonal moves let a search
//    follow the budget's edge, where the optimum usually lies: there one
//    more function or one more MB fails a seed, one fewer is slower.
//
// What it guarantees, on the seeds it is tuned on: the result ranks before
// or equal to every configuration it evaluated, among them every coarse
// point and every included one (pass grid search's optimum to be never
// worse than GS), and, when `local_optimum` is true, none of its 8
// neighbours at the final resolution (+- function_step functions, +-
// memory_step memory positions) ranks before it. It is not a global
// guarantee: a better configuration can hide between coarse points far
// from every start. Resolution: function_step functions and memory_step
// positions of the feasible grid (1 and 1 = every configuration is
// reachable).
//
// Evaluations are cached per budget (the seeds are fixed, so a
// configuration's evaluation never changes); each round evaluates the new
// neighbours of every search of every budget in one batch on the pool.
// Results do not depend on the thread count.
#ifndef SIREN_AGENT_BASELINES_ORACLE_STATIC_H_
#define SIREN_AGENT_BASELINES_ORACLE_STATIC_H_

#include <cstdint>
#include <vector>

#include "agent/baselines/evaluation.h"
#include "agent/baselines/grid_search.h"
#include "env/thread_pool.h"
#include "sim/core/epoch_result.h"
#include "sim/scenario/scenario.h"

namespace siren::baselines {

struct OracleStaticOptions {
  double function_ratio = 1.25;  // Coarse n ladder; finite and > 1.
  int coarse_memory = 12;        // Coarse memory sizes; >= 2.
  int starts = 4;                // Pattern searches; >= 1.
  int function_step = 1;         // Final resolution in n; >= 1.
  int memory_step = 1;  // Final resolution in feasible memory positions.
  // Refinement rounds at most; a search still moving then is cut short and
  // the result's local_optimum is false.
  int max_rounds = 200;
  // Evaluated in the coarse stage for every budget (e.g. GS's optima).
  std::vector<sim::Action> include;
};

// The search for one budget.
struct OracleStaticResult {
  double budget_usd = 0;
  GridPoint best;
  int coarse_points = 0;  // Distinct configurations of the coarse stage.
  int evaluated = 0;      // Distinct configurations evaluated in all.
  int rounds = 0;         // Refinement rounds (batches) run.
  // True when every search ended at its final resolution (always, unless
  // max_rounds cut one short).
  bool local_optimum = false;
};

// The coarse stage's n values for `scenario`, ascending. Throws
// std::invalid_argument naming a bad function_ratio.
std::vector<int> OracleCoarseFunctions(const sim::Scenario& scenario,
                                       const OracleStaticOptions& options);

// The coarse stage's memory sizes for `scenario`, ascending. Throws
// std::invalid_argument naming a bad coarse_memory.
std::vector<int> OracleCoarseMemory(const sim::Scenario& scenario,
                                    const OracleStaticOptions& options);

// Runs the search for every budget (job.budget_usd overridden on a copy of
// `scenario`) over `seeds`. Throws std::invalid_argument naming a bad option,
// an included configuration outside the env's range or off the feasible
// grid, a bad budget or empty seeds.
std::vector<OracleStaticResult> OracleStatic(const sim::Scenario& scenario,
                                             const std::vector<double>& budgets,
                                             const std::vector<uint64_t>& seeds,
                                             const OracleStaticOptions& options,
                                             env::ThreadPool& pool);

}  // namespace siren::baselines

#endif  // SIREN_AGENT_BASELINES_ORACLE_STATIC_H_
