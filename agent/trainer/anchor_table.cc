#include "agent/trainer/anchor_table.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <iterator>
#include <memory>
#include <set>
#include <stdexcept>

#include "agent/baselines/cem.h"
#include "agent/baselines/oracle_static.h"
#include "agent/trainer/anchor.h"
#include "env/action_codec.h"
#include "env/env_spec.h"
#include "env/thread_pool.h"
#include "sim/engine/job_draw.h"
#include "sim/scenario/scenario_loader.h"

namespace siren::agent {
namespace {

// A number as text that reads back exactly.
std::string Exact(double value) {
  char text[32];
  std::snprintf(text, sizeof text, "%.17g", value);
  return text;
}

// The observation's float32 budget (env/observation.cc: index 10).
float BudgetKey(const sim::Scenario& scenario, double budget_usd) {
  const env::EnvSpec spec = env::EnvSpec::FromScenario(scenario);
  return static_cast<float>(
      std::min(budget_usd / spec.budget_scale_usd, spec.observation_clip));
}

// An empty table for `scenario` with the given rows and columns.
AnchorTable EmptyTable(const sim::Scenario& scenario,
                       const std::vector<double>& budgets, int columns) {
  AnchorTable table;
  table.budgets_usd = budgets;
  for (double b : budgets) table.budget_keys.push_back(BudgetKey(scenario, b));
  table.max_epochs = scenario.job.max_epochs;
  table.columns = columns;
  const size_t cells = budgets.size() * static_cast<size_t>(columns);
  table.configurations.resize(cells);
  table.actions.resize(cells);
  table.tuning_mean_jct_s.resize(budgets.size());
  table.tuning_success_rate.resize(budgets.size());
  return table;
}

}  // namespace

int AnchorTable::Row(float observed_budget) const {
  int row = 0;
  for (int k = 1; k < rows(); ++k) {
    if (observed_budget * (1 + 1e-6f) >= budget_keys[k]) row = k;
  }
  return row;
}

int AnchorTable::Column(float epoch_fraction) const {
  const float epoch =
      std::round(epoch_fraction * static_cast<float>(max_epochs));
  return static_cast<int>(
      std::clamp(epoch, 0.0f, static_cast<float>(columns - 1)));
}

baselines::Schedule AnchorTable::RowSchedule(int row) const {
  baselines::Schedule schedule;
  for (int c = 0; c < columns; ++c) schedule.push_back(at(row, c));
  while (schedule.size() > 1 &&
         schedule.back().functions == schedule[schedule.size() - 2].functions &&
         schedule.back().memory_mb == schedule[schedule.size() - 2].memory_mb) {
    schedule.pop_back();
  }
  return schedule;
}

std::string AnchorTable::DescribeRow(int row) const {
  const baselines::Schedule schedule = RowSchedule(row);
  if (schedule.size() == 1) {
    return std::to_string(schedule[0].functions) + " x " +
           std::to_string(schedule[0].memory_mb) + " MB";
  }
  std::string text;
  for (const sim::Action& a : schedule) {
    text += (text.empty() ? "" : ",") + std::to_string(a.functions) + ":" +
            std::to_string(a.memory_mb);
  }
  return text;
}

std::vector<double> AnchorBudgets(const sim::Scenario& scenario, int k) {
  const sim::JobVariability v = sim::JobVariability::FromScenario(scenario);
  if (v.budget_range.empty()) return {scenario.job.budget_usd};
  if (k < 2) {
    throw std::invalid_argument(
        "anchor_budgets: got " + std::to_string(k) +
        ", expected >= 2 (grid budgets over job.budget_range, both ends "
        "included)");
  }
  const double lo = v.budget_range[0], hi = v.budget_range[1];
  std::vector<double> budgets(k);
  for (int i = 0; i < k; ++i) {
    const double x = static_cast<double>(i) / (k - 1);
    budgets[i] =
        v.budget_log_uniform ? lo * std::pow(hi / lo, x) : lo + (hi - lo) * x;
  }
  budgets.front() = lo;
  budgets.back() = hi;
  return budgets;
}

sim::Scenario FixedBudgetScenario(const sim::Scenario& scenario,
                                  double budget_usd) {
  return sim::ParseScenario(
      sim::ScenarioToYaml(scenario),
      {"job.budget_range=[]", "job.budget_usd=" + Exact(budget_usd)},
      "the anchor's per-budget scenario");
}

AnchorTable ComputeOracleAnchorTable(const sim::Scenario& scenario, int k,
                                     int tuning_seeds, int threads) {
  const std::vector<double> budgets = AnchorBudgets(scenario, k);
  const bool ranged =
      !sim::JobVariability::FromScenario(scenario).budget_range.empty();
  AnchorTable table = EmptyTable(scenario, budgets, 1);
  for (int row = 0; row < table.rows(); ++row) {
    // Without a range the scenario itself (the 1 x 1 table of before).
    const StaticAnchor anchor =
        ranged
            ? ComputeStaticAnchor(FixedBudgetScenario(scenario, budgets[row]),
                                  tuning_seeds, threads)
            : ComputeStaticAnchor(scenario, tuning_seeds, threads);
    table.configurations[row] = {anchor.functions, anchor.memory_mb};
    table.actions[row] = anchor.action;
    table.tuning_mean_jct_s[row] = anchor.tuning_mean_jct_s;
    table.tuning_success_rate[row] = anchor.tuning_success_rate;
    table.evaluated += anchor.evaluated;
  }
  return table;
}

namespace {

// Cliff-search rounds at most (RefineOracleAnchorTable); each searches only
// rows no earlier round searched, so a round after the first runs only where
// the midpoints it added left new cliffs.
constexpr int kCliffRounds = 3;

// Copies row `from`'s cell and tuning figures of one-column `source` into
// row `to` of `target`.
void CopyRow(const AnchorTable& source, int from, AnchorTable& target, int to) {
  target.configurations[to] = source.configurations[from];
  target.actions[to] = source.actions[from];
  target.tuning_mean_jct_s[to] = source.tuning_mean_jct_s[from];
  target.tuning_success_rate[to] = source.tuning_success_rate[from];
}

// Grid search's rule (baselines::RanksBefore) on tuning figures (success
// rate, mean JCT): more successes, then a lower mean JCT.
bool TuningRanksBefore(double success_a, double jct_a, double success_b,
                       double jct_b) {
  return success_a != success_b ? success_a > success_b : jct_a < jct_b;
}

// TuningRanksBefore of rows `a` and `b`.
bool RowRanksBefore(const AnchorTable& t, int a, int b) {
  return TuningRanksBefore(t.tuning_success_rate[a], t.tuning_mean_jct_s[a],
                           t.tuning_success_rate[b], t.tuning_mean_jct_s[b]);
}

// The monotone envelope (RefineOracleAnchorTable), in place.
void ApplyEnvelope(AnchorTable& t) {
  for (int row = 1; row < t.rows(); ++row) {
    if (RowRanksBefore(t, row - 1, row)) CopyRow(t, row - 1, t, row);
  }
}

// The configurations of the rows of `t` above `budget` and within 10 % of
// it, each projected below its own cost: memory cut by 1, 2 and 4 % (rounded
// down onto the feasible sizes `feasible`) and one function fewer. A row
// above costs more than `budget` pays, usually by about the rows' budget
// difference, so at a cost cliff these are the configurations one step inside
// the budget's edge that a coarse ladder's points lie far from.
std::vector<sim::Action> ProjectedCandidates(const AnchorTable& t,
                                             double budget,
                                             const std::vector<int>& feasible,
                                             int min_functions) {
  std::vector<sim::Action> out;
  for (int k = 0; k < t.rows(); ++k) {
    const double b = t.budgets_usd[k];
    if (b <= budget || b > budget * 1.1) continue;
    const sim::Action& a = t.configurations[k];
    for (double cut : {0.01, 0.02, 0.04}) {
      const double target = a.memory_mb * (1 - cut);
      auto above = std::upper_bound(feasible.begin(), feasible.end(), target);
      // The largest feasible size at or below the target (below a.memory_mb).
      if (above == feasible.begin()) continue;
      out.push_back({a.functions, *std::prev(above)});
    }
    if (a.functions - 1 >= min_functions) {
      out.push_back({a.functions - 1, a.memory_mb});
    }
  }
  return out;
}

// The narrower oracle static search for one budget (RefineOracleAnchorTable),
// warm-started from every row of `current` within 10 % of `budget` and the
// rows `forced` (their configurations included in the coarse stage), and,
// with `cliff_search`, from ProjectedCandidates too.
baselines::OracleStaticResult SearchRow(
    const sim::Scenario& scenario, const AnchorTable& current, double budget,
    const std::vector<int>& forced, bool cliff_search,
    const std::vector<uint64_t>& seeds, env::ThreadPool& pool) {
  baselines::OracleStaticOptions options;
  options.function_ratio = 1.5;
  options.coarse_memory = 4;
  options.starts = 4;
  const auto add = [&](const sim::Action& a) {
    const bool known = std::any_of(
        options.include.begin(), options.include.end(),
        [&](const sim::Action& x) {
          return x.functions == a.functions && x.memory_mb == a.memory_mb;
        });
    if (!known) options.include.push_back(a);
  };
  for (int k = 0; k < current.rows(); ++k) {
    const double b = current.budgets_usd[k];
    const bool near = b >= budget / 1.1 && b <= budget * 1.1;
    if (near || std::find(forced.begin(), forced.end(), k) != forced.end()) {
      add(current.configurations[k]);
    }
  }
  if (cliff_search) {
    const env::EnvSpec spec = env::EnvSpec::FromScenario(scenario);
    for (const sim::Action& a : ProjectedCandidates(
             current, budget, baselines::FeasibleMemory(scenario),
             spec.min_functions)) {
      add(a);
    }
  }
  return baselines::OracleStatic(FixedBudgetScenario(scenario, budget),
                                 {budget}, seeds, options, pool)[0];
}

// Row `row` of `t` set to the search's result `best`.
void SetRow(const sim::Scenario& scenario, const baselines::GridPoint& best,
            AnchorTable& t, int row) {
  const env::ActionCodec codec(scenario, env::ActionEncoding::kBox);
  t.configurations[row] = best.action;
  t.actions[row] = codec.Encode(best.action.functions, best.action.memory_mb);
  t.tuning_mean_jct_s[row] = best.evaluation.mean_jct_s;
  t.tuning_success_rate[row] = best.evaluation.success_rate;
}

// Whether neighbouring rows `a` < `b` differ by more than the refinement
// allows: in tuning success rate, or in mean JCT by more than `max_gap`
// (relative to the faster).
bool Differ(const AnchorTable& t, int a, int b, double max_gap) {
  if (t.tuning_success_rate[a] != t.tuning_success_rate[b]) return true;
  const double slow = std::max(t.tuning_mean_jct_s[a], t.tuning_mean_jct_s[b]);
  const double fast = std::min(t.tuning_mean_jct_s[a], t.tuning_mean_jct_s[b]);
  return slow > fast * (1 + max_gap);
}

// Whether rows `a` < `b` (neighbours) get a row between them.
bool NeedsRowBetween(const AnchorTable& t, int a, int b, double max_gap) {
  return t.budgets_usd[b] > t.budgets_usd[a] * 1.002 &&
         Differ(t, a, b, max_gap);
}

// Midpoint passes until no neighbouring pair needs a row between them.
void AddMidpoints(const sim::Scenario& scenario, double max_gap,
                  bool cliff_search, const std::vector<uint64_t>& seeds,
                  env::ThreadPool& pool, AnchorTable& current) {
  const bool log_uniform =
      sim::JobVariability::FromScenario(scenario).budget_log_uniform;
  while (true) {
    // One pass: a midpoint between every neighbouring pair that needs one.
    std::vector<double> budgets;
    std::vector<int> source;  // Row of `current`, or -1 for a new row.
    for (int row = 0; row < current.rows(); ++row) {
      budgets.push_back(current.budgets_usd[row]);
      source.push_back(row);
      if (row + 1 < current.rows() &&
          NeedsRowBetween(current, row, row + 1, max_gap)) {
        const double a = current.budgets_usd[row];
        const double b = current.budgets_usd[row + 1];
        budgets.push_back(log_uniform ? std::sqrt(a * b) : 0.5 * (a + b));
        source.push_back(-1);
      }
    }
    if (budgets.size() == static_cast<size_t>(current.rows())) return;
    AnchorTable next = EmptyTable(scenario, budgets, 1);
    next.evaluated = current.evaluated;
    for (int row = 0; row < next.rows(); ++row) {
      if (source[row] >= 0) {
        CopyRow(current, source[row], next, row);
        continue;
      }
      const baselines::OracleStaticResult found = SearchRow(
          scenario, current, budgets[row], {source[row - 1], source[row + 1]},
          cliff_search, seeds, pool);
      SetRow(scenario, found.best, next, row);
      next.evaluated += found.evaluated;
    }
    ApplyEnvelope(next);
    current = std::move(next);
  }
}

// The cliff search, one round: every row whose upper neighbour still differs
// from it (AddMidpoints stopped at the budgets' spacing) and that no earlier
// round searched is searched again with the table as it now stands; the
// result replaces the row when it ranks before it. Returns whether a row
// changed.
bool SearchCliffs(const sim::Scenario& scenario, double max_gap,
                  const std::vector<uint64_t>& seeds, env::ThreadPool& pool,
                  std::set<double>& searched, AnchorTable& current) {
  bool changed = false;
  const AnchorTable before = current;
  for (int row = 0; row + 1 < before.rows(); ++row) {
    if (!Differ(before, row, row + 1, max_gap)) continue;
    if (!searched.insert(before.budgets_usd[row]).second) continue;
    const baselines::OracleStaticResult found =
        SearchRow(scenario, before, before.budgets_usd[row], {row, row + 1},
                  true, seeds, pool);
    current.evaluated += found.evaluated;
    const baselines::Evaluation& e = found.best.evaluation;
    if (TuningRanksBefore(e.success_rate, e.mean_jct_s,
                          current.tuning_success_rate[row],
                          current.tuning_mean_jct_s[row])) {
      SetRow(scenario, found.best, current, row);
      changed = true;
    }
  }
  ApplyEnvelope(current);
  return changed;
}

}  // namespace

AnchorTable RefineOracleAnchorTable(const sim::Scenario& scenario,
                                    const AnchorTable& table, double max_gap,
                                    int tuning_seeds, int threads,
                                    bool cliff_search) {
  if (!(max_gap >= 0) || !std::isfinite(max_gap)) {
    throw std::invalid_argument("anchor_gap: " + std::to_string(max_gap) +
                                " (expected a finite number >= 0)");
  }
  if (table.columns != 1) {
    throw std::invalid_argument("the oracle anchor table to refine has " +
                                std::to_string(table.columns) +
                                " columns (expected 1)");
  }
  const std::vector<uint64_t> seeds = baselines::SeedRange(0, tuning_seeds);
  env::ThreadPool pool(threads);
  AnchorTable current = table;
  ApplyEnvelope(current);
  if (max_gap == 0) return current;
  AddMidpoints(scenario, max_gap, cliff_search, seeds, pool, current);
  std::set<double> searched;
  for (int round = 0; cliff_search && round < kCliffRounds; ++round) {
    if (!SearchCliffs(scenario, max_gap, seeds, pool, searched, current)) {
      break;
    }
    AddMidpoints(scenario, max_gap, cliff_search, seeds, pool, current);
  }
  return current;
}

std::string DescribeAnchorTable(const AnchorTable& table,
                                const std::string& kind) {
  if (kind == "oracle" && table.rows() == 1) {
    return "oracle static " + table.DescribeRow(0);
  }
  std::string text =
      (kind == "schedule" ? "per-epoch schedule from the oracle static"
                          : std::string("oracle static")) +
      (table.rows() > 1 ? ", per budget (the row of the largest grid budget "
                          "<= the episode's):"
                        : ":");
  for (int row = 0; row < table.rows(); ++row) {
    char line[96];
    std::snprintf(line, sizeof line, "\n  $%.4f: ", table.budgets_usd[row]);
    char tail[96];
    std::snprintf(tail, sizeof tail, " (tuning: JCT %.2f s, success %.2f)",
                  table.tuning_mean_jct_s[row], table.tuning_success_rate[row]);
    text += line + table.DescribeRow(row) + tail;
  }
  return text;
}

std::vector<baselines::Schedule> StructuredSchedules(int n0, int m0, int lo,
                                                     int hi, int length) {
  const auto clip = [&](double n) {
    return static_cast<int>(std::clamp(std::lround(n), static_cast<long>(lo),
                                       static_cast<long>(hi)));
  };
  std::vector<baselines::Schedule> out;
  for (double start : {0.25, 0.5, 1.0, 2.0, 4.0}) {
    for (double r : {0.5, 0.7, 0.85, 1.2, 1.4, 2.0}) {
      baselines::Schedule s;
      for (int e = 0; e < length; ++e) {
        s.push_back({clip(n0 * start * std::pow(r, e)), m0});
      }
      out.push_back(s);
    }
  }
  const std::pair<double, double> pairs[] = {
      {0.5, 2.0}, {2.0, 0.5}, {1.0, 2.0},  {0.5, 1.0},
      {1.0, 0.5}, {2.0, 1.0}, {0.25, 1.0}, {1.0, 4.0}};
  for (int k : {1, 2, 3, 5}) {
    for (const auto& [a, b] : pairs) {
      baselines::Schedule s(k, sim::Action{clip(n0 * a), m0});
      s.push_back({clip(n0 * b), m0});
      out.push_back(s);
    }
  }
  // Trim repeated tails, drop duplicates and the static itself.
  std::set<std::vector<std::pair<int, int>>> seen = {{{n0, m0}}};
  std::vector<baselines::Schedule> unique;
  for (baselines::Schedule s : out) {
    while (s.size() > 1 && s.back().functions == s[s.size() - 2].functions &&
           s.back().memory_mb == s[s.size() - 2].memory_mb) {
      s.pop_back();
    }
    std::vector<std::pair<int, int>> key;
    for (const sim::Action& a : s) key.emplace_back(a.functions, a.memory_mb);
    if (seen.insert(key).second) unique.push_back(s);
  }
  return unique;
}

AnchorTable ComputeScheduleAnchorTable(const sim::Scenario& scenario,
                                       const AnchorTable& oracle,
                                       int tuning_seeds, int threads,
                                       const ScheduleSearchOptions& options) {
  if (oracle.columns != 1) {
    throw std::invalid_argument(
        "oracle: the schedule search starts from a one-column anchor table");
  }
  const bool ranged =
      !sim::JobVariability::FromScenario(scenario).budget_range.empty();
  env::ThreadPool pool(threads);
  const std::vector<uint64_t> seeds = baselines::SeedRange(0, tuning_seeds);
  const env::EnvSpec spec = env::EnvSpec::FromScenario(scenario);
  const env::ActionCodec codec(scenario, env::ActionEncoding::kBox);
  AnchorTable table = EmptyTable(scenario, oracle.budgets_usd, options.slots);
  table.evaluated = oracle.evaluated;
  for (int row = 0; row < table.rows(); ++row) {
    const auto budgeted = std::make_shared<const sim::Scenario>(
        ranged ? FixedBudgetScenario(scenario, oracle.budgets_usd[row])
               : scenario);
    const sim::Action start = oracle.at(row, 0);
    // The structured schedules, ranked as CEM ranks (objective, then order).
    std::vector<std::pair<double, baselines::Schedule>> ranked;
    for (const baselines::Schedule& s : StructuredSchedules(
             start.functions, start.memory_mb, spec.min_functions,
             spec.max_functions, options.slots)) {
      const baselines::Evaluation e =
          baselines::EvaluateSchedule(budgeted, s, seeds, pool);
      ranked.emplace_back(baselines::CemObjective(e, 1e5), s);
    }
    table.evaluated += static_cast<int>(ranked.size());
    std::stable_sort(
        ranked.begin(), ranked.end(),
        [](const auto& a, const auto& b) { return a.first < b.first; });
    baselines::CemOptions cem;
    cem.slots = options.slots;
    cem.population = options.population;
    cem.iterations = options.iterations;
    cem.seed = options.seed;
    cem.initial = start;
    cem.initial_std_log_n = options.initial_std_log_n;
    cem.initial_std_memory = options.initial_std_memory;
    cem.include = {{start}};
    for (size_t i = 0; i < ranked.size() && i < 3; ++i) {
      cem.include.push_back(ranked[i].second);
    }
    const baselines::CemResult result =
        baselines::CemSearch(budgeted, seeds, cem, pool);
    table.evaluated += result.evaluated;
    for (int c = 0; c < table.columns; ++c) {
      const sim::Action a =
          result.best[std::min<size_t>(c, result.best.size() - 1)];
      const size_t cell = static_cast<size_t>(row) * table.columns + c;
      table.configurations[cell] = a;
      table.actions[cell] = codec.Encode(a.functions, a.memory_mb);
    }
    table.tuning_mean_jct_s[row] = result.best_evaluation.mean_jct_s;
    table.tuning_success_rate[row] = result.best_evaluation.success_rate;
  }
  return table;
}

}  // namespace siren::agent
