#include "agent/baselines/grid_search.h"

#include <algorithm>
#include <map>
#include <memory>
#include <stdexcept>
#include <string>
#include <tuple>

#include "env/env_spec.h"
#include "sim/platform/platform.h"

namespace siren::baselines {
namespace {

// Auto stride: at most this many subsampled sizes before the largest.
constexpr int kAutoMemoryPoints = 12;

void SortUnique(std::vector<int>& values) {
  std::sort(values.begin(), values.end());
  values.erase(std::unique(values.begin(), values.end()), values.end());
}

}  // namespace

bool RanksBefore(const GridPoint& a, const GridPoint& b) {
  // More successes first, hence the negated counts.
  return std::make_tuple(-a.evaluation.successes, a.evaluation.mean_jct_s,
                         a.evaluation.mean_cost_usd, a.action.functions,
                         a.action.memory_mb) <
         std::make_tuple(-b.evaluation.successes, b.evaluation.mean_jct_s,
                         b.evaluation.mean_cost_usd, b.action.functions,
                         b.action.memory_mb);
}

std::vector<int> FeasibleMemory(const sim::Scenario& scenario) {
  const int min_feasible = sim::MinFeasibleMemoryMb(scenario);
  std::vector<int> feasible;
  for (int m : sim::MemoryGrid(scenario)) {
    if (m >= min_feasible) feasible.push_back(m);
  }
  return feasible;
}

int AutoMemoryStride(int count, int points) {
  return std::max(1, (count - 1 + points - 2) / (points - 1));
}

const std::vector<int>& DefaultFunctionValues() {
  static const std::vector<int> values = {1,  2,   5,   10,  20,  30,  50,
                                          75, 100, 150, 200, 300, 500, 1000};
  return values;
}

std::vector<int> GridFunctions(const sim::Scenario& scenario,
                               const GridSpec& spec) {
  const env::EnvSpec env_spec = env::EnvSpec::FromScenario(scenario);
  const int low = env_spec.min_functions;
  const int high = env_spec.max_functions;
  std::vector<int> values;
  if (spec.functions.empty()) {
    for (int n : DefaultFunctionValues()) {
      if (n >= low && n <= high) values.push_back(n);
    }
    // The range itself when every default lies outside it.
    if (values.empty()) values = {low, high};
  } else {
    for (int n : spec.functions) {
      if (n < low || n > high) {
        throw std::invalid_argument("functions: " + std::to_string(n) +
                                    " is outside [" + std::to_string(low) +
                                    ", " + std::to_string(high) +
                                    "] (env.min_functions, env.max_functions)");
      }
      values.push_back(n);
    }
  }
  SortUnique(values);
  return values;
}

std::vector<int> GridMemory(const sim::Scenario& scenario,
                            const GridSpec& spec) {
  std::vector<int> sizes;
  if (!spec.memory_mb.empty()) {
    for (int m : spec.memory_mb) {
      const std::string problem = sim::MemoryError(scenario, m);
      if (!problem.empty()) throw std::invalid_argument(problem);
      sizes.push_back(m);
    }
    SortUnique(sizes);
    return sizes;
  }
  if (spec.memory_stride < 0) {
    throw std::invalid_argument("memory_stride: got " +
                                std::to_string(spec.memory_stride) +
                                ", expected 0 (auto) or a positive integer");
  }
  const std::vector<int> feasible = FeasibleMemory(scenario);
  const int count = static_cast<int>(feasible.size());
  int stride = spec.memory_stride;
  if (stride == 0) stride = AutoMemoryStride(count, kAutoMemoryPoints);
  for (int i = 0; i < count; i += stride) sizes.push_back(feasible[i]);
  if (count > 0) sizes.push_back(feasible.back());
  SortUnique(sizes);
  return sizes;
}

int BestPoint(const std::vector<GridPoint>& points) {
  int best = -1;
  for (int i = 0; i < static_cast<int>(points.size()); ++i) {
    if (best < 0) {
      best = i;
      continue;
    }
    if (RanksBefore(points[i], points[best])) best = i;
  }
  return best;
}

std::vector<GridSearchResult> GridSearch(const sim::Scenario& scenario,
                                         const std::vector<double>& budgets,
                                         const GridSpec& spec,
                                         const std::vector<uint64_t>& seeds,
                                         env::ThreadPool& pool) {
  return RunGridPlan(MakeGridPlan(scenario, budgets, {spec}, seeds), pool)
      .front();
}

GridPlan MakeGridPlan(const sim::Scenario& scenario,
                      const std::vector<double>& budgets,
                      const std::vector<GridSpec>& specs,
                      const std::vector<uint64_t>& seeds) {
  if (seeds.empty()) {
    throw std::invalid_argument("seeds: empty, expected at least one seed");
  }
  std::vector<std::vector<sim::Action>> grids;
  for (const GridSpec& spec : specs) {
    const std::vector<int> functions = GridFunctions(scenario, spec);
    const std::vector<int> memory = GridMemory(scenario, spec);
    std::vector<sim::Action>& actions = grids.emplace_back();
    for (int n : functions) {
      for (int m : memory) actions.push_back({n, m});
    }
  }
  GridPlan plan;
  plan.budgets = budgets;
  plan.seeds = seeds;
  for (double budget : budgets) {
    plan.scenarios.push_back(WithBudget(scenario, budget));
  }
  std::map<std::tuple<int, int, int>, int> index;  // (budget, n, m) -> run.
  for (const std::vector<sim::Action>& actions : grids) {
    std::vector<std::vector<int>>& per_budget = plan.point_runs.emplace_back();
    for (int b = 0; b < static_cast<int>(budgets.size()); ++b) {
      std::vector<int>& runs = per_budget.emplace_back();
      for (const sim::Action& a : actions) {
        const auto [it, added] = index.try_emplace(
            {b, a.functions, a.memory_mb}, static_cast<int>(plan.runs.size()));
        if (added) plan.runs.push_back({b, a});
        runs.push_back(it->second);
      }
    }
  }
  return plan;
}

std::vector<std::vector<GridSearchResult>> ReduceGridPlan(
    const GridPlan& plan,
    const std::vector<std::vector<EpisodeOutcome>>& outcomes) {
  if (outcomes.size() != plan.runs.size()) {
    throw std::invalid_argument(
        "outcomes: got " + std::to_string(outcomes.size()) +
        " runs, expected the plan's " + std::to_string(plan.runs.size()));
  }
  std::vector<Evaluation> evaluations;
  for (size_t r = 0; r < outcomes.size(); ++r) {
    bool same = outcomes[r].size() == plan.seeds.size();
    for (size_t i = 0; same && i < plan.seeds.size(); ++i) {
      same = outcomes[r][i].seed == plan.seeds[i];
    }
    if (!same) {
      throw std::invalid_argument(
          "outcomes of run " + std::to_string(r) +
          ": expected one episode per seed of the plan, in its order");
    }
    evaluations.push_back(Summarise(outcomes[r]));
  }
  std::vector<std::vector<GridSearchResult>> results;
  for (const std::vector<std::vector<int>>& per_budget : plan.point_runs) {
    std::vector<GridSearchResult>& grid = results.emplace_back();
    for (size_t b = 0; b < per_budget.size(); ++b) {
      GridSearchResult result;
      result.budget_usd = plan.budgets[b];
      for (int r : per_budget[b]) {
        result.points.push_back({plan.runs[r].action, evaluations[r]});
      }
      result.best = BestPoint(result.points);
      result.required_successes =
          result.points[result.best].evaluation.successes;
      grid.push_back(std::move(result));
    }
  }
  return results;
}

std::vector<std::vector<GridSearchResult>> RunGridPlan(const GridPlan& plan,
                                                       env::ThreadPool& pool) {
  std::vector<Policy> policies;
  policies.reserve(plan.runs.size());
  for (const GridRun& run : plan.runs) {
    policies.push_back(SchedulePolicy({run.action}));
  }
  // Every run x seed as one batch of tasks, in that order.
  std::vector<EpisodeTask> tasks;
  tasks.reserve(plan.runs.size() * plan.seeds.size());
  for (size_t r = 0; r < plan.runs.size(); ++r) {
    for (uint64_t seed : plan.seeds) {
      tasks.push_back(
          {plan.scenarios[plan.runs[r].budget], &policies[r], seed});
    }
  }
  const std::vector<EpisodeOutcome> episodes = RunEpisodes(tasks, pool);
  std::vector<std::vector<EpisodeOutcome>> outcomes;
  for (auto next = episodes.begin(); next != episodes.end();
       next += plan.seeds.size()) {
    outcomes.emplace_back(next, next + plan.seeds.size());
  }
  return ReduceGridPlan(plan, outcomes);
}

}  // namespace siren::baselines
