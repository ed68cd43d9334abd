// Grid search over static configurations (DESIGN.md §4): "GS" is, for each
// budget, the best static (n, m) of a grid; "GS-x" the same with n fixed at x
// (a grid whose function values are {x}).
//
// Ranking rule: every grid point is evaluated on the same training seeds;
// the points kept are those with the highest success count reached by any
// point (so success rate 1 is required as soon as one point reaches it,
// else the largest rate reached), and among them the lowest mean JCT wins.
// Ties go to the lower mean cost, then the smaller n, then the smaller m.
// When no point succeeds on any seed, the rule still names the fastest one,
// with success rate 0; callers should report the rate with the winner.
#ifndef SIREN_AGENT_BASELINES_GRID_SEARCH_H_
#define SIREN_AGENT_BASELINES_GRID_SEARCH_H_

#include <cstdint>
#include <memory>
#include <vector>

#include "agent/baselines/evaluation.h"
#include "env/thread_pool.h"
#include "sim/core/epoch_result.h"
#include "sim/scenario/scenario.h"

namespace siren::baselines {

// The default function counts: 1, 2, 5, 10, 20, 30, 50, 75, 100, 150, 200,
// 300, 500, 1000.
const std::vector<int>& DefaultFunctionValues();

// What to search. Empty `functions` means DefaultFunctionValues() clipped to
// [env.min_functions, env.max_functions]; explicit values must all lie in
// that range. Memory: the feasible sizes of the era's grid (from
// MinFeasibleMemoryMb up), every `memory_stride`-th of them counted from the
// smallest, plus the largest; `memory_stride` 0 picks the stride that gives
// at most 12 sizes before the largest is added. A non-empty `memory_mb`
// replaces the subsampled grid (each size must be feasible).
struct GridSpec {
  std::vector<int> functions;
  int memory_stride = 0;
  std::vector<int> memory_mb;
};

// The function counts of `spec` for `scenario`, ascending and distinct.
// Throws std::invalid_argument naming a value outside the env's range.
std::vector<int> GridFunctions(const sim::Scenario& scenario,
                               const GridSpec& spec);

// The memory sizes of `spec` for `scenario`, ascending and distinct. Throws
// std::invalid_argument for a negative stride or an infeasible size.
std::vector<int> GridMemory(const sim::Scenario& scenario,
                            const GridSpec& spec);

// The feasible sizes of the era's memory grid (from MinFeasibleMemoryMb up),
// ascending.
std::vector<int> FeasibleMemory(const sim::Scenario& scenario);

// The stride that keeps at most `points` (>= 2) of `count` sizes, counted from
// the smallest, before the largest is added: GridMemory's auto stride for
// points = 12.
int AutoMemoryStride(int count, int points);

// One evaluated configuration.
struct GridPoint {
  sim::Action action;
  Evaluation evaluation;
};

// Whether `a` ranks strictly before `b` under the ranking rule above: more
// successes, then lower mean JCT, lower mean cost, smaller n, smaller m.
bool RanksBefore(const GridPoint& a, const GridPoint& b);

// The search for one budget. `points` are in grid order (n-major, both
// ascending); `best` indexes into them.
struct GridSearchResult {
  double budget_usd = 0;
  std::vector<GridPoint> points;
  int best = -1;
  int required_successes = 0;  // The highest success count of any point.
  const GridPoint& best_point() const { return points[best]; }
};

// Index of the winner of `points` under the ranking rule above (-1 when
// empty).
int BestPoint(const std::vector<GridPoint>& points);

// Runs the grid for every budget (job.budget_usd overridden on a copy of
// `scenario`); all budgets x points x seeds run in one batch on `pool`.
// Results do not depend on the thread count.
std::vector<GridSearchResult> GridSearch(const sim::Scenario& scenario,
                                         const std::vector<double>& budgets,
                                         const GridSpec& spec,
                                         const std::vector<uint64_t>& seeds,
                                         env::ThreadPool& pool);

// --- A grid search in three steps ------------------------------------------
//
// MakeGridPlan lists what to run, RunGridPlan runs it here (GridSearch is
// plan, run, reduce of one grid) and ReduceGridPlan turns per-seed outcomes
// into the results. A caller that runs the episodes elsewhere (the Ray
// backend, siren/ray_backend.py, maps the runs' seeds over a cluster) hands
// the outcomes to ReduceGridPlan and gets what GridSearch returns, bit for
// bit: the same Summarise in seed order, the same BestPoint.

// One static action under one budget, to run from every seed of the plan.
struct GridRun {
  int budget = 0;  // Index into GridPlan::budgets.
  sim::Action action;
};

// Several grids (e.g. GS and the GS-x of a sweep) over the same budgets and
// seeds. A (budget, action) that several grids share is one run.
struct GridPlan {
  std::vector<double> budgets;
  // Per budget: the scenario with job.budget_usd set (WithBudget).
  std::vector<std::shared_ptr<const sim::Scenario>> scenarios;
  std::vector<uint64_t> seeds;
  // Distinct runs in order of first use: grid, then budget, then point.
  std::vector<GridRun> runs;
  // point_runs[g][b][p]: the run of point p (grid order, n-major) of grid g
  // under budget b.
  std::vector<std::vector<std::vector<int>>> point_runs;
};

// The plan of one grid search per spec of `specs` on `scenario`. Throws
// std::invalid_argument for empty `seeds`, a spec GridFunctions or
// GridMemory refuses, or a budget WithBudget refuses.
GridPlan MakeGridPlan(const sim::Scenario& scenario,
                      const std::vector<double>& budgets,
                      const std::vector<GridSpec>& specs,
                      const std::vector<uint64_t>& seeds);

// Per spec, per budget, the GridSearchResult from `outcomes`: outcomes[r]
// are run r's episodes, one per seed of the plan in its order. Throws
// std::invalid_argument when the runs or a run's seeds do not match the
// plan.
std::vector<std::vector<GridSearchResult>> ReduceGridPlan(
    const GridPlan& plan,
    const std::vector<std::vector<EpisodeOutcome>>& outcomes);

// Runs every run x seed of `plan` in one batch on `pool` and reduces the
// outcomes. Results do not depend on the thread count.
std::vector<std::vector<GridSearchResult>> RunGridPlan(const GridPlan& plan,
                                                       env::ThreadPool& pool);

}  // namespace siren::baselines

#endif  // SIREN_AGENT_BASELINES_GRID_SEARCH_H_
