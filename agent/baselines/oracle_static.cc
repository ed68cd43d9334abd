#include "agent/baselines/oracle_static.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <memory>
#include <set>
#include <stdexcept>
#include <string>
#include <utility>

#include "agent/baselines/require_option.h"
#include "env/env_spec.h"
#include "sim/platform/platform.h"

namespace siren::baselines {
namespace {

// A configuration: n and the position of its memory size in the feasible
// grid.
using Key = std::pair<int, int>;

void Validate(const OracleStaticOptions& o, size_t seeds) {
  RequireOption(seeds > 0, "seeds", 0, "at least one seed");
  RequireOption(std::isfinite(o.function_ratio) && o.function_ratio > 1,
                "function_ratio", o.function_ratio, "a finite number > 1");
  RequireOption(o.coarse_memory >= 2, "coarse_memory", o.coarse_memory,
                "an integer >= 2");
  RequireOption(o.starts >= 1, "starts", o.starts, "an integer >= 1");
  RequireOption(o.function_step >= 1, "function_step", o.function_step,
                "an integer >= 1");
  RequireOption(o.memory_step >= 1, "memory_step", o.memory_step,
                "an integer >= 1");
  RequireOption(o.max_rounds >= 1, "max_rounds", o.max_rounds,
                "an integer >= 1");
}

// One pattern search.
struct Search {
  Key centre;
  int step_n = 1;
  int step_m = 1;
  bool active = true;
};

// The search for one budget: its scenario, every configuration evaluated so
// far and its pattern searches.
struct BudgetSearch {
  std::shared_ptr<const sim::Scenario> scenario;
  std::map<Key, GridPoint> evaluated;
  std::vector<Search> searches;
  int coarse_points = 0;
  int rounds = 0;  // Refinement rounds in which a search was active.
};

// A configuration of one budget to evaluate.
struct Pending {
  int budget = 0;
  Key key;
};

// Evaluates every pending configuration on every seed in one batch and
// stores the evaluations.
void EvaluateAll(const std::vector<Pending>& pending,
                 const std::vector<int>& feasible,
                 const std::vector<uint64_t>& seeds,
                 std::vector<BudgetSearch>& budgets, env::ThreadPool& pool) {
  if (pending.empty()) return;
  std::vector<Policy> policies;
  policies.reserve(pending.size());
  for (const Pending& p : pending) {
    policies.push_back(SchedulePolicy({{p.key.first, feasible[p.key.second]}}));
  }
  std::vector<EpisodeTask> tasks;
  tasks.reserve(pending.size() * seeds.size());
  for (size_t i = 0; i < pending.size(); ++i) {
    for (uint64_t seed : seeds) {
      tasks.push_back(
          {budgets[pending[i].budget].scenario, &policies[i], seed});
    }
  }
  const std::vector<EpisodeOutcome> episodes = RunEpisodes(tasks, pool);
  for (size_t i = 0; i < pending.size(); ++i) {
    const auto first = episodes.begin() + i * seeds.size();
    const Key& key = pending[i].key;
    budgets[pending[i].budget].evaluated[key] =
        GridPoint{{key.first, feasible[key.second]},
                  Summarise({first, first + seeds.size()})};
  }
}

// The configurations to evaluate in the next batch, each once, in the order
// they were first wanted.
class PendingList {
 public:
  // Adds `key` of budget `b` unless it is evaluated or already pending.
  void Want(int b, const Key& key, const std::vector<BudgetSearch>& budgets) {
    if (budgets[b].evaluated.count(key) > 0) return;
    if (seen_.insert({b, key}).second) list_.push_back({b, key});
  }
  const std::vector<Pending>& list() const { return list_; }
  void Clear() {
    list_.clear();
    seen_.clear();
  }

 private:
  std::vector<Pending> list_;
  std::set<std::pair<int, Key>> seen_;
};

// The 8 neighbours of a search's centre at its steps, clipped to the
// ranges, without the centre itself; in a fixed order.
std::vector<Key> Neighbours(const Search& s, int low_n, int high_n,
                            int memory_count) {
  std::vector<Key> keys;
  for (int dn : {-1, 0, 1}) {
    for (int dm : {-1, 0, 1}) {
      const Key key{
          std::clamp(s.centre.first + dn * s.step_n, low_n, high_n),
          std::clamp(s.centre.second + dm * s.step_m, 0, memory_count - 1)};
      if (key != s.centre &&
          std::find(keys.begin(), keys.end(), key) == keys.end()) {
        keys.push_back(key);
      }
    }
  }
  return keys;
}

}  // namespace

std::vector<int> OracleCoarseFunctions(const sim::Scenario& scenario,
                                       const OracleStaticOptions& options) {
  RequireOption(
      std::isfinite(options.function_ratio) && options.function_ratio > 1,
      "function_ratio", options.function_ratio, "a finite number > 1");
  const env::EnvSpec env_spec = env::EnvSpec::FromScenario(scenario);
  const int high = env_spec.max_functions;
  std::vector<int> values;
  for (int n = env_spec.min_functions; n < high;) {
    values.push_back(n);
    const double next = std::floor(n * options.function_ratio);
    n = next >= high ? high : std::max(n + 1, static_cast<int>(next));
  }
  values.push_back(high);
  return values;
}

std::vector<int> OracleCoarseMemory(const sim::Scenario& scenario,
                                    const OracleStaticOptions& options) {
  RequireOption(options.coarse_memory >= 2, "coarse_memory",
                options.coarse_memory, "an integer >= 2");
  const std::vector<int> feasible = FeasibleMemory(scenario);
  const int count = static_cast<int>(feasible.size());
  const int stride = AutoMemoryStride(count, options.coarse_memory);
  std::vector<int> sizes;
  for (int i = 0; i < count; i += stride) sizes.push_back(feasible[i]);
  if (count > 0 && sizes.back() != feasible.back()) {
    sizes.push_back(feasible.back());
  }
  return sizes;
}

std::vector<OracleStaticResult> OracleStatic(const sim::Scenario& scenario,
                                             const std::vector<double>& budgets,
                                             const std::vector<uint64_t>& seeds,
                                             const OracleStaticOptions& options,
                                             env::ThreadPool& pool) {
  Validate(options, seeds.size());
  const env::EnvSpec env_spec = env::EnvSpec::FromScenario(scenario);
  const int low_n = env_spec.min_functions;
  const int high_n = env_spec.max_functions;
  const std::vector<int> feasible = FeasibleMemory(scenario);
  const int memory_count = static_cast<int>(feasible.size());
  const std::vector<int> ladder = OracleCoarseFunctions(scenario, options);
  const int memory_stride =
      AutoMemoryStride(memory_count, options.coarse_memory);
  auto memory_index = [&](int memory_mb) {
    const auto it =
        std::lower_bound(feasible.begin(), feasible.end(), memory_mb);
    return static_cast<int>(it - feasible.begin());
  };

  // The coarse configurations, the same for every budget.
  const std::vector<int> coarse_memory = OracleCoarseMemory(scenario, options);
  std::vector<Key> coarse;
  for (int n : ladder) {
    for (int m : coarse_memory) {
      coarse.push_back({n, memory_index(m)});
    }
  }
  for (const sim::Action& a : options.include) {
    RequireOption(a.functions >= low_n && a.functions <= high_n,
                  "include: functions", a.functions,
                  "an integer in [env.min_functions, env.max_functions] = [" +
                      std::to_string(low_n) + ", " + std::to_string(high_n) +
                      "]");
    const std::string problem = sim::MemoryError(scenario, a.memory_mb);
    if (!problem.empty()) throw std::invalid_argument("include: " + problem);
    coarse.push_back({a.functions, memory_index(a.memory_mb)});
  }

  std::vector<BudgetSearch> searches(budgets.size());
  PendingList pending;
  for (size_t b = 0; b < budgets.size(); ++b) {
    searches[b].scenario = WithBudget(scenario, budgets[b]);
    for (const Key& key : coarse)
      pending.Want(static_cast<int>(b), key, searches);
  }
  EvaluateAll(pending.list(), feasible, seeds, searches, pool);

  // The starts: the best coarse configuration of each memory size, best
  // first.
  auto ranks_before = [](const BudgetSearch& s, const Key& a, const Key& b) {
    return RanksBefore(s.evaluated.at(a), s.evaluated.at(b));
  };
  for (BudgetSearch& s : searches) {
    s.coarse_points = static_cast<int>(s.evaluated.size());
    std::map<int, Key> row_best;
    for (const auto& [key, point] : s.evaluated) {
      const auto [it, added] = row_best.try_emplace(key.second, key);
      if (!added && ranks_before(s, key, it->second)) it->second = key;
    }
    std::vector<Key> rows;
    for (const auto& [memory, key] : row_best) rows.push_back(key);
    std::sort(rows.begin(), rows.end(), [&](const Key& a, const Key& b) {
      return ranks_before(s, a, b);
    });
    rows.resize(std::min<size_t>(rows.size(), options.starts));
    for (const Key& key : rows) {
      // Half the ladder's gap at n, half the coarse memory stride.
      const auto above =
          std::upper_bound(ladder.begin(), ladder.end(), key.first);
      const auto below =
          std::lower_bound(ladder.begin(), ladder.end(), key.first);
      int gap = 1;
      if (above != ladder.end()) gap = std::max(gap, *above - key.first);
      if (below != ladder.begin())
        gap = std::max(gap, key.first - *(below - 1));
      s.searches.push_back({key, std::max(options.function_step, gap / 2),
                            std::max(options.memory_step, memory_stride / 2),
                            true});
    }
  }

  // Refinement: one batch per round over every search of every budget.
  std::vector<OracleStaticResult> results(budgets.size());
  for (int round = 0; round < options.max_rounds; ++round) {
    pending.Clear();
    bool any_active = false;
    for (size_t b = 0; b < searches.size(); ++b) {
      bool active = false;
      for (const Search& search : searches[b].searches) {
        if (!search.active) continue;
        active = true;
        for (const Key& key : Neighbours(search, low_n, high_n, memory_count)) {
          pending.Want(static_cast<int>(b), key, searches);
        }
      }
      searches[b].rounds += active;
      any_active = any_active || active;
    }
    if (!any_active) break;
    EvaluateAll(pending.list(), feasible, seeds, searches, pool);
    for (BudgetSearch& s : searches) {
      for (size_t i = 0; i < s.searches.size(); ++i) {
        Search& search = s.searches[i];
        if (!search.active) continue;
        Key best = search.centre;
        for (const Key& key : Neighbours(search, low_n, high_n, memory_count)) {
          if (ranks_before(s, key, best)) best = key;
        }
        if (best != search.centre) {
          search.centre = best;
        } else if (search.step_n == options.function_step &&
                   search.step_m == options.memory_step) {
          search.active = false;  // A local optimum at the final resolution.
        } else {
          search.step_n = std::max(options.function_step, search.step_n / 2);
          search.step_m = std::max(options.memory_step, search.step_m / 2);
        }
        // A search at an earlier one's centre stops: that one goes on.
        for (size_t j = 0; j < i && search.active; ++j) {
          if (s.searches[j].centre == search.centre) search.active = false;
        }
      }
    }
  }

  for (size_t b = 0; b < searches.size(); ++b) {
    const BudgetSearch& s = searches[b];
    OracleStaticResult& result = results[b];
    result.budget_usd = budgets[b];
    const GridPoint* best = nullptr;
    for (const auto& [key, point] : s.evaluated) {
      if (best == nullptr || RanksBefore(point, *best)) best = &point;
    }
    result.best = *best;
    result.coarse_points = s.coarse_points;
    result.evaluated = static_cast<int>(s.evaluated.size());
    result.rounds = s.rounds;
    result.local_optimum = true;
    for (const Search& search : s.searches) {
      if (search.active) result.local_optimum = false;
    }
  }
  return results;
}

}  // namespace siren::baselines
