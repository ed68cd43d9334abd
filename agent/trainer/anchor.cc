#include "agent/trainer/anchor.h"

#include <cmath>
#include <cstdio>
#include <stdexcept>

#include "agent/baselines/evaluation.h"
#include "agent/baselines/grid_search.h"
#include "agent/baselines/oracle_static.h"
#include "env/action_codec.h"
#include "env/thread_pool.h"

namespace siren::agent {

StaticAnchor ComputeStaticAnchor(const sim::Scenario& scenario,
                                 int tuning_seeds, int threads) {
  if (tuning_seeds < 1) {
    throw std::invalid_argument("tuning_seeds: got " +
                                std::to_string(tuning_seeds) +
                                ", expected >= 1");
  }
  env::ThreadPool pool(threads);
  const std::vector<uint64_t> seeds = baselines::SeedRange(0, tuning_seeds);
  const double budget = scenario.job.budget_usd;
  // As `siren evaluate`: GS on its default grid, then the oracle search with
  // GS's optimum included.
  const auto grid = baselines::GridSearch(scenario, {budget},
                                          baselines::GridSpec{}, seeds, pool);
  baselines::OracleStaticOptions options;
  options.include = {grid[0].points[grid[0].best].action};
  const auto oracle =
      baselines::OracleStatic(scenario, {budget}, seeds, options, pool);
  const baselines::GridPoint& best = oracle[0].best;
  StaticAnchor anchor;
  anchor.functions = best.action.functions;
  anchor.memory_mb = best.action.memory_mb;
  const env::ActionCodec codec(scenario, env::ActionEncoding::kBox);
  anchor.action = codec.Encode(anchor.functions, anchor.memory_mb);
  anchor.tuning_mean_jct_s = best.evaluation.mean_jct_s;
  anchor.tuning_success_rate = best.evaluation.success_rate;
  anchor.evaluated =
      static_cast<int>(grid[0].points.size()) + oracle[0].evaluated;
  return anchor;
}

double PairedJctStandardError(const ValidationSummary& a,
                              const ValidationSummary& b) {
  if (a.jct_s.size() != b.jct_s.size()) {
    throw std::invalid_argument(
        "validation episodes: " + std::to_string(a.jct_s.size()) + " and " +
        std::to_string(b.jct_s.size()) + " (expected the same seeds)");
  }
  const size_t k = a.jct_s.size();
  if (k < 2) return 0;
  double mean = 0;
  for (size_t i = 0; i < k; ++i) mean += a.jct_s[i] - b.jct_s[i];
  mean /= static_cast<double>(k);
  double squares = 0;
  for (size_t i = 0; i < k; ++i) {
    const double d = a.jct_s[i] - b.jct_s[i] - mean;
    squares += d * d;
  }
  // Sample standard deviation over sqrt(k).
  return std::sqrt(squares / static_cast<double>(k - 1)) /
         std::sqrt(static_cast<double>(k));
}

bool LearnedIsNoWorse(const ValidationSummary& learned,
                      const ValidationSummary& fixed, double z) {
  if (!(z >= 0) || !std::isfinite(z)) {
    throw std::invalid_argument("safeguard_z: " + std::to_string(z) +
                                " (expected a finite number >= 0)");
  }
  const double margin =
      z > 0 ? z * PairedJctStandardError(learned, fixed) : 0.0;
  return learned.successes >= fixed.successes &&
         learned.over_budget <= fixed.over_budget &&
         learned.mean_jct_s <= fixed.mean_jct_s - margin;
}

std::string DescribeSafeguard(const ValidationSummary& learned,
                              const ValidationSummary& fixed,
                              bool exported_learned,
                              const std::string& fixed_name, double z) {
  char text[640];
  const std::string exported =
      exported_learned ? "learned"
                       : fixed_name + " (the learned one is not better)";
  std::snprintf(
      text, sizeof text,
      "safeguard on %d validation seeds: learned %d/%d successes, %d over "
      "budget, mean JCT %.2f s, $%.4f; %s %d/%d, %d over budget, "
      "%.2f s, $%.4f -> exported the %s policy",
      learned.episodes, learned.successes, learned.episodes,
      learned.over_budget, learned.mean_jct_s, learned.mean_cost_usd,
      fixed_name.c_str(), fixed.successes, fixed.episodes, fixed.over_budget,
      fixed.mean_jct_s, fixed.mean_cost_usd, exported.c_str());
  std::string line = text;
  if (z > 0) {
    std::snprintf(text, sizeof text,
                  " (required: %.2f s faster, %.3g paired standard errors)",
                  z * PairedJctStandardError(learned, fixed), z);
    line += text;
  }
  return line;
}

std::string DescribeAnchorCheck(const ValidationSummary& schedule,
                                const ValidationSummary& plain,
                                bool kept_schedule) {
  char text[512];
  std::snprintf(
      text, sizeof text,
      "anchor check on %d validation seeds: schedule %d/%d successes, %d "
      "over budget, mean JCT %.2f s, $%.4f; oracle static %d/%d, %d over "
      "budget, %.2f s, $%.4f -> the fixed policy is the %s",
      schedule.episodes, schedule.successes, schedule.episodes,
      schedule.over_budget, schedule.mean_jct_s, schedule.mean_cost_usd,
      plain.successes, plain.episodes, plain.over_budget, plain.mean_jct_s,
      plain.mean_cost_usd,
      kept_schedule ? "schedule" : "oracle static (the schedule is worse)");
  return text;
}

}  // namespace siren::agent
