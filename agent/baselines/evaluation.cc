#include "agent/baselines/evaluation.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <exception>
#include <sstream>
#include <stdexcept>
#include <string>
#include <utility>

#include "sim/engine/simulation.h"

namespace siren::baselines {

Policy SchedulePolicy(Schedule schedule) {
  if (schedule.empty()) {
    throw std::invalid_argument(
        "schedule: empty, expected at least one action");
  }
  return [schedule = std::move(schedule)](const sim::EpochResult*, int epoch) {
    const size_t index =
        std::min(static_cast<size_t>(epoch), schedule.size() - 1);
    return schedule[index];
  };
}

Evaluation Summarise(std::vector<EpisodeOutcome> episodes) {
  Evaluation evaluation;
  evaluation.episodes = std::move(episodes);
  const size_t count = evaluation.episodes.size();
  if (count == 0) return evaluation;
  double jct_sum = 0;
  double cost_sum = 0;
  for (const EpisodeOutcome& e : evaluation.episodes) {
    jct_sum += e.jct_s;
    cost_sum += e.cost_usd;
    if (e.success()) ++evaluation.successes;
    if (e.over_budget) ++evaluation.over_budget;
  }
  evaluation.mean_jct_s = jct_sum / count;
  evaluation.mean_cost_usd = cost_sum / count;
  evaluation.success_rate = static_cast<double>(evaluation.successes) / count;
  return evaluation;
}

EpisodeOutcome RunEpisode(std::shared_ptr<const sim::Scenario> scenario,
                          const Policy& policy, uint64_t seed) {
  const double budget_usd = scenario->job.budget_usd;
  sim::Simulation simulation(std::move(scenario), seed);
  sim::EpochResult last;
  bool has_last = false;
  while (!simulation.done()) {
    const sim::Action action =
        policy(has_last ? &last : nullptr, simulation.epoch());
    last = simulation.RunEpoch(action);
    has_last = true;
  }
  EpisodeOutcome outcome;
  outcome.seed = seed;
  outcome.jct_s = simulation.time_s();
  outcome.cost_usd = simulation.cost_usd();
  outcome.epochs = simulation.epoch();
  outcome.status = simulation.status();
  outcome.over_budget = outcome.cost_usd > budget_usd;
  return outcome;
}

std::vector<EpisodeOutcome> RunEpisodes(const std::vector<EpisodeTask>& tasks,
                                        env::ThreadPool& pool) {
  const int n = static_cast<int>(tasks.size());
  std::vector<EpisodeOutcome> outcomes(n);
  std::vector<std::exception_ptr> errors(n);
  // One chunk per thread; each pulls the next task index until none is left
  // (episodes differ in length, so static chunks would leave threads idle).
  std::atomic<int> next{0};
  pool.ParallelFor(pool.threads(), [&](int, int) {
    for (int i = next.fetch_add(1); i < n; i = next.fetch_add(1)) {
      try {
        outcomes[i] =
            RunEpisode(tasks[i].scenario, *tasks[i].policy, tasks[i].seed);
      } catch (...) {
        errors[i] = std::current_exception();
      }
    }
  });
  // The lowest-index error, so the message does not depend on timing.
  for (const std::exception_ptr& error : errors) {
    if (error) std::rethrow_exception(error);
  }
  return outcomes;
}

Evaluation EvaluatePolicy(std::shared_ptr<const sim::Scenario> scenario,
                          const Policy& policy,
                          const std::vector<uint64_t>& seeds,
                          env::ThreadPool& pool) {
  std::vector<EpisodeTask> tasks;
  tasks.reserve(seeds.size());
  for (uint64_t seed : seeds) tasks.push_back({scenario, &policy, seed});
  return Summarise(RunEpisodes(tasks, pool));
}

Evaluation EvaluateSchedule(std::shared_ptr<const sim::Scenario> scenario,
                            const Schedule& schedule,
                            const std::vector<uint64_t>& seeds,
                            env::ThreadPool& pool) {
  return EvaluatePolicy(std::move(scenario), SchedulePolicy(schedule), seeds,
                        pool);
}

std::shared_ptr<const sim::Scenario> WithBudget(const sim::Scenario& scenario,
                                                double budget_usd) {
  if (!std::isfinite(budget_usd) || budget_usd <= 0) {
    std::ostringstream message;
    message << "budget_usd: got " << budget_usd
            << ", expected a finite number > 0";
    throw std::invalid_argument(message.str());
  }
  sim::Scenario copy = scenario;
  copy.job.budget_usd = budget_usd;
  return std::make_shared<const sim::Scenario>(std::move(copy));
}

std::vector<uint64_t> SeedRange(uint64_t first, int count) {
  if (count < 1) {
    throw std::invalid_argument("seeds: got " + std::to_string(count) +
                                ", expected at least one seed");
  }
  std::vector<uint64_t> seeds(count);
  for (int i = 0; i < count; ++i) seeds[i] = first + i;
  return seeds;
}

}  // namespace siren::baselines
