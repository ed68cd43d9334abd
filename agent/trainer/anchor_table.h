// The learner's anchor as a table (torch-free): one anchor action per
// (budget row, epoch column), looked up from the raw observation.
//
// Rows (the budget axis). A scenario with job.budget_range [lo, hi] gets K
// grid budgets b_0 < ... < b_{K-1} from lo to hi (both included), spaced as
// the budgets are drawn: geometrically for job.budget_draw log_uniform,
// evenly for uniform. A scenario without a range has one row, its
// job.budget_usd. The row of an observation is the largest grid budget at
// or below the episode's budget (observation index 10, budget /
// env.budget_scale_usd, compared as the float32 the observation holds, with
// a relative tolerance of 1e-6), and row 0 below b_0. The floor rule never
// plans to spend more than the oracle static configuration of the episode's
// own budget may: row k's actions were searched to fit b_k <= the budget
// (between grid points the anchor is the slower configuration of the lower
// budget; the learned residual, which observes the budget, can close the
// gap). Budgets above the observation's clip (env.observation_clip x
// env.budget_scale_usd) all read as the clip.
//
// Columns (the epoch axis). Column e holds the action of epoch e (0-based,
// the epoch the action starts); epochs from the last column on repeat it, as
// a schedule's last action does (agent/baselines/cem.h). The column of an
// observation is round(epoch_fraction x job.max_epochs) (observation index
// 0), clamped to [0, columns - 1].
//
// The oracle anchor (`--anchor oracle`) has one column: at each row the
// oracle static configuration of that budget (anchor.h,
// ComputeStaticAnchor). Without a budget range it is the 1 x 1 table of
// before. The schedule anchor (`--anchor schedule`) has `slots` columns: at
// each row the best open-loop per-epoch schedule found from the row's
// oracle static configuration (ComputeScheduleAnchorTable).
#ifndef SIREN_AGENT_TRAINER_ANCHOR_TABLE_H_
#define SIREN_AGENT_TRAINER_ANCHOR_TABLE_H_

#include <array>
#include <string>
#include <vector>

#include "agent/baselines/evaluation.h"
#include "sim/core/epoch_result.h"
#include "sim/scenario/scenario.h"

namespace siren::agent {

struct AnchorTable {
  std::vector<double> budgets_usd;  // Row budgets, ascending.
  std::vector<float> budget_keys;   // The same as observation index 10.
  int max_epochs = 1;               // job.max_epochs (column lookup).
  int columns = 1;                  // Epoch columns.
  // rows x columns cells, row-major: configuration and its Box encoding.
  std::vector<sim::Action> configurations;
  std::vector<std::array<double, 2>> actions;
  // Per row: the search's mean JCT and success rate on the tuning seeds.
  std::vector<double> tuning_mean_jct_s;
  std::vector<double> tuning_success_rate;
  int evaluated = 0;  // Configurations or schedules the searches ran.

  int rows() const { return static_cast<int>(budgets_usd.size()); }
  const sim::Action& at(int row, int column) const {
    return configurations[static_cast<size_t>(row) * columns + column];
  }
  // The lookups described above.
  int Row(float observed_budget) const;
  int Column(float epoch_fraction) const;
  // Row `row` as a schedule (its columns; the last repeats).
  baselines::Schedule RowSchedule(int row) const;
  // "n x m MB" (one cell) or "n:m,n:m,..." (a row of several columns).
  std::string DescribeRow(int row) const;
};

// The row budgets of `scenario` (above): K of them over job.budget_range,
// or {job.budget_usd} without a range. Throws std::invalid_argument naming
// anchor_budgets unless K >= 2 when a range is set.
std::vector<double> AnchorBudgets(const sim::Scenario& scenario, int k);

// `scenario` with one fixed budget: job.budget_usd = `budget_usd` and no
// job.budget_range (so every episode has that budget).
sim::Scenario FixedBudgetScenario(const sim::Scenario& scenario,
                                  double budget_usd);

// The oracle anchor table: one column, at each row of AnchorBudgets(k) the
// oracle static configuration of that budget on seeds 0..tuning_seeds-1
// (ComputeStaticAnchor). Deterministic; does not depend on `threads`.
AnchorTable ComputeOracleAnchorTable(const sim::Scenario& scenario, int k,
                                     int tuning_seeds, int threads);

// The oracle anchor table refined between its grid budgets, so that
// neighbouring rows differ little in JCT (the floor rule then costs at most
// about `max_gap` against the best configuration the rows' searches found
// near any budget of the range; a local search, it can miss the one a full
// per-budget oracle search finds: README, *The anchor as a table*).
//
// 1. Midpoints. Repeatedly, every pair of neighbouring rows whose tuning mean
//    JCTs differ by more than `max_gap` (relative to the faster one) or whose
//    tuning success rates differ gets a row at their midpoint (geometric for
//    job.budget_draw log_uniform, arithmetic for uniform), until none does or
//    the two budgets are closer than 0.2 % (relative). A new row's
//    configuration comes from a narrower oracle static search warm-started
//    from every row within 10 % of its budget (their configurations
//    included; coarse stage: a ladder of ratio 1.5 in n and 4 memory sizes;
//    4 pattern searches). [I] On the default preset it found the full
//    search's configuration at $0.13 and $0.165 in 2.5-2.7 s against 25-45 s
//    for the full search, where a ladder of ratio 4, 2 memory sizes and 2
//    searches (0.7-1.8 s) missed the one at $0.13 (README, *The anchor as a
//    table*).
// 2. With `cliff_search`: the searches also start from the configurations of
//    the rows above the budget (within 10 %) projected just inside it (memory
//    cut by 1, 2 and 4 %, rounded down onto the feasible grid, and one
//    function fewer). Then, where neighbouring rows still differ (a cost
//    cliff: the oracle JCT drops by several % within 0.2 % of budget), the
//    lower row is searched again the same way from the table as it finally
//    stands and takes the result when it ranks before it; the midpoints of
//    step 1 follow where that opens new gaps (3 rounds at most, a row
//    searched once). [I] On the default preset the midpoint search at
//    $0.1997 kept 36 x 2496 MB (92.72 s) beside the row $0.2013's 35 x
//    3008 MB (88.09 s), while 35 x 2944 MB (88.36 s) fits $0.1997: a
//    projection finds it (README, *The anchor as a table*). Without it, the
//    refinement of before (a checkpoint from before it resumes only with
//    cliff_search off).
//
// Then, and after every pass, the monotone envelope: a row whose configuration
// ranks after the row below it on the tuning seeds (fewer successes, or as many
// and a higher mean JCT: grid search's rule) takes that row's cell, which is
// as good at the larger budget (a static configuration's episode is the
// same at any budget it fits; the guard only stops it sooner). `max_gap` =
// 0 applies only the envelope. Deterministic; does not depend on `threads`.
// Throws std::invalid_argument naming anchor_gap unless max_gap >= 0 and
// finite, or unless `table` has one column.
AnchorTable RefineOracleAnchorTable(const sim::Scenario& scenario,
                                    const AnchorTable& table, double max_gap,
                                    int tuning_seeds, int threads,
                                    bool cliff_search);

// Options of the schedule anchor's search, per row. [I] The defaults are
// the effort that found the held-out headroom of experiments/HEADROOM.md:
// CEM with 8 slots, 24 samples x 8 iterations, initial std 0.5 in ln n and
// 0.1 of the memory grid, given the static and the 3 best structured
// schedules (geometric ramps of n from s n* with ratio r per epoch, s in
// {1/4, 1/2, 1, 2, 4}, r in {0.5, 0.7, 0.85, 1.2, 1.4, 2}, and two-phase
// switches of n after 1, 2, 3 or 5 epochs) as candidates.
struct ScheduleSearchOptions {
  int slots = 8;
  int population = 24;
  int iterations = 8;
  double initial_std_log_n = 0.5;
  double initial_std_memory = 0.1;
  uint64_t seed = 0;
};

// The schedule anchor table from the oracle one (`oracle`, one column): at
// each row, the structured schedules around the row's static (n*, m*), then
// CEM centred on it with the static and the 3 best structured ones as
// candidates, on seeds 0..tuning_seeds-1; every row gets `slots` columns
// (a shorter schedule's last action repeats). The search returns the best
// schedule it evaluated, so on the tuning seeds a row is never worse than
// its static (the static itself when nothing beats it).
AnchorTable ComputeScheduleAnchorTable(const sim::Scenario& scenario,
                                       const AnchorTable& oracle,
                                       int tuning_seeds, int threads,
                                       const ScheduleSearchOptions& options);

// The table as text: for the 1 x 1 oracle table "oracle static n x m MB",
// else a title line and one line per row ("  $budget: cells (tuning JCT
// s)"). `kind` is "oracle" or "schedule".
std::string DescribeAnchorTable(const AnchorTable& table,
                                const std::string& kind);

// The structured schedules around the static (n0, m0) for n in [lo, hi]
// (the families above; each of `length` slots, the static itself left out,
// duplicates removed).
std::vector<baselines::Schedule> StructuredSchedules(int n0, int m0, int lo,
                                                     int hi, int length);

}  // namespace siren::agent

#endif  // SIREN_AGENT_TRAINER_ANCHOR_TABLE_H_
