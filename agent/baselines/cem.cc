#include "agent/baselines/cem.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>
#include <string>
#include <utility>

#include "agent/baselines/require_option.h"
#include "env/env_spec.h"
#include "sim/core/rng.h"
#include "sim/platform/platform.h"

namespace siren::baselines {
namespace {

// Stream id of the sampling stream ("CEM").
constexpr uint64_t kCemStream = 0x43454d;

// A candidate in search coordinates: per slot, ln n and a memory index.
struct Point {
  std::vector<double> log_n;
  std::vector<double> memory;
};

// An evaluated candidate.
struct Candidate {
  Point point;
  Schedule schedule;
  Evaluation evaluation;
  double objective = 0;
};

void Validate(const CemOptions& o, size_t seeds) {
  RequireOption(seeds > 0, "seeds", 0, "at least one seed");
  RequireOption(o.slots >= 1, "slots", o.slots, "an integer >= 1");
  RequireOption(o.population >= 1, "population", o.population,
                "an integer >= 1");
  RequireOption(o.elite_fraction > 0 && o.elite_fraction <= 1, "elite_fraction",
                o.elite_fraction, "a number in (0, 1]");
  RequireOption(o.iterations >= 1, "iterations", o.iterations,
                "an integer >= 1");
  for (const auto& [name, value] :
       {std::pair{"initial_std_log_n", o.initial_std_log_n},
        std::pair{"initial_std_memory", o.initial_std_memory},
        std::pair{"min_std_log_n", o.min_std_log_n},
        std::pair{"min_std_memory", o.min_std_memory},
        std::pair{"failure_penalty_s", o.failure_penalty_s}}) {
    RequireOption(std::isfinite(value) && value >= 0, name, value,
                  "a finite number >= 0");
  }
}

// Position of `memory_mb` in `feasible`; throws when it is not there.
int MemoryIndex(const std::vector<int>& feasible, int memory_mb,
                const std::string& what) {
  const auto it = std::find(feasible.begin(), feasible.end(), memory_mb);
  if (it == feasible.end()) {
    throw std::invalid_argument(what + ": memory " + std::to_string(memory_mb) +
                                " MB is not a feasible size of the grid");
  }
  return static_cast<int>(it - feasible.begin());
}

}  // namespace

double CemObjective(const Evaluation& evaluation, double failure_penalty_s) {
  return evaluation.mean_jct_s +
         failure_penalty_s * (1.0 - evaluation.success_rate);
}

CemResult CemSearch(std::shared_ptr<const sim::Scenario> scenario,
                    const std::vector<uint64_t>& seeds,
                    const CemOptions& options, env::ThreadPool& pool) {
  Validate(options, seeds.size());
  const int slots = options.slots;
  const env::EnvSpec env_spec = env::EnvSpec::FromScenario(*scenario);
  const double log_low = std::log(env_spec.min_functions);
  const double log_high = std::log(env_spec.max_functions);
  const int min_feasible = sim::MinFeasibleMemoryMb(*scenario);
  std::vector<int> feasible;
  for (int m : sim::MemoryGrid(*scenario)) {
    if (m >= min_feasible) feasible.push_back(m);
  }
  const double index_high = static_cast<double>(feasible.size() - 1);

  // Search coordinates <-> schedules.
  auto clip = [](double x, double low, double high) {
    return std::min(high, std::max(low, x));
  };
  auto decode = [&](const Point& p) {
    Schedule schedule(slots);
    for (int t = 0; t < slots; ++t) {
      const int n = static_cast<int>(std::lround(std::exp(p.log_n[t])));
      schedule[t].functions =
          std::clamp(n, env_spec.min_functions, env_spec.max_functions);
      schedule[t].memory_mb = feasible[std::lround(p.memory[t])];
    }
    return schedule;
  };
  auto encode = [&](const Schedule& schedule, const std::string& what) {
    Point p{std::vector<double>(slots), std::vector<double>(slots)};
    for (int t = 0; t < slots; ++t) {
      const sim::Action& a = schedule[std::min<size_t>(t, schedule.size() - 1)];
      RequireOption(a.functions >= 1, what + ": functions", a.functions,
                    "an integer >= 1");
      p.log_n[t] = clip(std::log(a.functions), log_low, log_high);
      p.memory[t] = MemoryIndex(feasible, a.memory_mb, what);
    }
    return p;
  };

  // Initial distribution.
  std::vector<double> mean_n(slots, 0.5 * (log_low + log_high));
  std::vector<double> mean_m(slots, std::round(0.5 * index_high));
  if (options.initial) {
    const Point p = encode({*options.initial}, "initial");
    mean_n = p.log_n;
    mean_m = p.memory;
  }
  std::vector<double> std_n(slots, options.initial_std_log_n);
  std::vector<double> std_m(slots, options.initial_std_memory * index_high);
  const double min_std_m = options.min_std_memory * index_high;

  std::vector<Point> included;
  for (size_t i = 0; i < options.include.size(); ++i) {
    if (options.include[i].empty()) {
      throw std::invalid_argument("include: schedule " + std::to_string(i) +
                                  " is empty");
    }
    included.push_back(encode(options.include[i], "include"));
  }

  sim::Rng rng(options.seed, kCemStream);
  const int elite = std::max(
      1, static_cast<int>(
             std::ceil(options.elite_fraction * options.population - 1e-9)));
  CemResult result;
  result.best_objective = std::numeric_limits<double>::infinity();
  // The elite carried over from the previous iteration (already evaluated).
  std::vector<Candidate> carried;
  for (int iteration = 0; iteration < options.iterations; ++iteration) {
    // New candidates: the included schedules (first iteration), then samples.
    std::vector<Point> points;
    std::vector<Schedule> schedules;
    if (iteration == 0) {
      points = included;
      schedules = options.include;
    }
    for (int k = 0; k < options.population; ++k) {
      Point p{std::vector<double>(slots), std::vector<double>(slots)};
      for (int t = 0; t < slots; ++t) {
        p.log_n[t] =
            clip(mean_n[t] + std_n[t] * rng.Normal(), log_low, log_high);
        p.memory[t] =
            clip(mean_m[t] + std_m[t] * rng.Normal(), 0.0, index_high);
      }
      schedules.push_back(decode(p));
      points.push_back(std::move(p));
    }

    // Every candidate x seed in one batch.
    std::vector<Policy> policies;
    policies.reserve(schedules.size());
    for (const Schedule& s : schedules) policies.push_back(SchedulePolicy(s));
    std::vector<EpisodeTask> tasks;
    tasks.reserve(policies.size() * seeds.size());
    for (const Policy& policy : policies) {
      for (uint64_t seed : seeds) tasks.push_back({scenario, &policy, seed});
    }
    const std::vector<EpisodeOutcome> outcomes = RunEpisodes(tasks, pool);
    const int count = static_cast<int>(schedules.size());
    std::vector<Candidate> candidates = carried;
    for (int c = 0; c < count; ++c) {
      const auto begin = outcomes.begin() + c * seeds.size();
      Candidate candidate{
          std::move(points[c]), std::move(schedules[c]),
          Summarise(std::vector<EpisodeOutcome>(begin, begin + seeds.size())),
          0};
      candidate.objective =
          CemObjective(candidate.evaluation, options.failure_penalty_s);
      candidates.push_back(std::move(candidate));
    }
    result.evaluated += count;

    // Rank (ties: carried elites first, then sample order) and keep the
    // best ever.
    std::stable_sort(candidates.begin(), candidates.end(),
                     [](const Candidate& a, const Candidate& b) {
                       return a.objective < b.objective;
                     });
    const int kept = std::min(elite, static_cast<int>(candidates.size()));
    candidates.resize(kept);
    CemIteration record;
    record.best_objective = candidates[0].objective;
    if (candidates[0].objective < result.best_objective) {
      result.best_objective = candidates[0].objective;
      result.best = candidates[0].schedule;
      result.best_evaluation = candidates[0].evaluation;
    }
    for (const Candidate& c : candidates) {
      record.elite_mean_objective += c.objective;
    }
    record.elite_mean_objective /= kept;
    record.best_so_far = result.best_objective;
    result.history.push_back(record);

    // Refit the Gaussians to the elite.
    for (int t = 0; t < slots; ++t) {
      double sum_n = 0, sum_m = 0;
      for (const Candidate& c : candidates) {
        sum_n += c.point.log_n[t];
        sum_m += c.point.memory[t];
      }
      mean_n[t] = sum_n / kept;
      mean_m[t] = sum_m / kept;
      double var_n = 0, var_m = 0;
      for (const Candidate& c : candidates) {
        var_n += std::pow(c.point.log_n[t] - mean_n[t], 2);
        var_m += std::pow(c.point.memory[t] - mean_m[t], 2);
      }
      std_n[t] = std::max(options.min_std_log_n, std::sqrt(var_n / kept));
      std_m[t] = std::max(min_std_m, std::sqrt(var_m / kept));
    }
    if (options.keep_elite) carried = std::move(candidates);
  }
  return result;
}

}  // namespace siren::baselines
