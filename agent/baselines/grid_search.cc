#include "agent/baselines/grid_search.h"

#include <algorithm>
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

// Strict "a ranks before b" among points with the same success count.
bool RanksBefore(const GridPoint& a, const GridPoint& b) {
  return std::make_tuple(a.evaluation.mean_jct_s, a.evaluation.mean_cost_usd,
                         a.action.functions, a.action.memory_mb) <
         std::make_tuple(b.evaluation.mean_jct_s, b.evaluation.mean_cost_usd,
                         b.action.functions, b.action.memory_mb);
}

}  // namespace

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
  const int min_feasible = sim::MinFeasibleMemoryMb(scenario);
  std::vector<int> feasible;
  for (int m : sim::MemoryGrid(scenario)) {
    if (m >= min_feasible) feasible.push_back(m);
  }
  const int count = static_cast<int>(feasible.size());
  int stride = spec.memory_stride;
  if (stride == 0) {
    stride = std::max(
        1, (count - 1 + kAutoMemoryPoints - 2) / (kAutoMemoryPoints - 1));
  }
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
    const GridPoint& p = points[i];
    const GridPoint& q = points[best];
    if (p.evaluation.successes > q.evaluation.successes ||
        (p.evaluation.successes == q.evaluation.successes &&
         RanksBefore(p, q))) {
      best = i;
    }
  }
  return best;
}

std::vector<GridSearchResult> GridSearch(const sim::Scenario& scenario,
                                         const std::vector<double>& budgets,
                                         const GridSpec& spec,
                                         const std::vector<uint64_t>& seeds,
                                         env::ThreadPool& pool) {
  if (seeds.empty()) {
    throw std::invalid_argument("seeds: empty, expected at least one seed");
  }
  const std::vector<int> functions = GridFunctions(scenario, spec);
  const std::vector<int> memory = GridMemory(scenario, spec);
  std::vector<sim::Action> actions;
  for (int n : functions) {
    for (int m : memory) actions.push_back({n, m});
  }
  std::vector<Policy> policies;
  for (const sim::Action& a : actions) policies.push_back(SchedulePolicy({a}));

  // Every budget x point x seed as one batch of tasks, in that order.
  std::vector<std::shared_ptr<const sim::Scenario>> scenarios;
  for (double budget : budgets)
    scenarios.push_back(WithBudget(scenario, budget));
  std::vector<EpisodeTask> tasks;
  tasks.reserve(budgets.size() * actions.size() * seeds.size());
  for (const auto& s : scenarios) {
    for (const Policy& policy : policies) {
      for (uint64_t seed : seeds) tasks.push_back({s, &policy, seed});
    }
  }
  const std::vector<EpisodeOutcome> outcomes = RunEpisodes(tasks, pool);

  std::vector<GridSearchResult> results;
  auto next = outcomes.begin();
  for (double budget : budgets) {
    GridSearchResult result;
    result.budget_usd = budget;
    for (const sim::Action& a : actions) {
      std::vector<EpisodeOutcome> episodes(next, next + seeds.size());
      next += seeds.size();
      result.points.push_back({a, Summarise(std::move(episodes))});
    }
    result.best = BestPoint(result.points);
    result.required_successes = result.points[result.best].evaluation.successes;
    results.push_back(std::move(result));
  }
  return results;
}

}  // namespace siren::baselines
