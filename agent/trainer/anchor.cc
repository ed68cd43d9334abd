#include "agent/trainer/anchor.h"

#include <algorithm>
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

namespace {

// P(X >= k) for X ~ Binomial(n, 1/2).
double UpperSignTail(int k, int n) {
  if (k <= 0) return 1;
  double tail = 0;
  for (int i = k; i <= n; ++i) {
    tail += std::exp(std::lgamma(n + 1.0) - std::lgamma(i + 1.0) -
                     std::lgamma(n - i + 1.0) - n * std::log(2.0));
  }
  return std::min(tail, 1.0);
}

void CheckRuleSettings(double z, double max_slowdown) {
  if (!(z >= 0) || !std::isfinite(z)) {
    throw std::invalid_argument("safeguard_z: " + std::to_string(z) +
                                " (expected a finite number >= 0)");
  }
  if (!(max_slowdown >= 0) || !std::isfinite(max_slowdown)) {
    throw std::invalid_argument(
        "safeguard_max_slowdown: " + std::to_string(max_slowdown) +
        " (expected a finite number >= 0)");
  }
}

// The one-sided significance level of z: P(Z > z).
double Alpha(double z) { return 0.5 * std::erfc(z / std::sqrt(2.0)); }

// The sign test at level P(Z > z). The tail is summed in floating point, so
// an exact p of 0.5 (z = 0, one success more) may come out a few ulps
// above; the tolerance keeps "any success more" at z = 0.
bool MoreSuccessesBeyondChance(const PairedValidation& pair, double z) {
  return pair.learned_only > pair.fixed_only &&
         pair.success_p <= Alpha(z) * (1 + 1e-9);
}

// The step of LearnedIsNoWorse's rule that decides (anchor.h).
enum class SafeguardStep {
  kFewerSuccesses,  // 1: fewer successes or more over budget.
  kMoreSuccesses,   // 2: more successes beyond chance.
  kNoCommonSeed,    // 3, without a seed both finished.
  kFasterOnCommon,  // 3: JCT on the seeds both finished.
};

SafeguardStep DecidingStep(const ValidationSummary& learned,
                           const ValidationSummary& fixed,
                           const PairedValidation& pair, double z) {
  if (learned.over_budget > fixed.over_budget ||
      learned.successes < fixed.successes) {
    return SafeguardStep::kFewerSuccesses;
  }
  if (MoreSuccessesBeyondChance(pair, z)) return SafeguardStep::kMoreSuccesses;
  return pair.common == 0 ? SafeguardStep::kNoCommonSeed
                          : SafeguardStep::kFasterOnCommon;
}

// Whether the learned policy is kept at `step` (LearnedIsNoWorse).
bool KeptAt(SafeguardStep step, const PairedValidation& pair, double z,
            double max_slowdown) {
  switch (step) {
    case SafeguardStep::kFewerSuccesses:
    case SafeguardStep::kNoCommonSeed:
      return false;
    case SafeguardStep::kMoreSuccesses:
      return pair.common == 0 ||
             pair.learned_common_jct_s <=
                 pair.fixed_common_jct_s * (1 + max_slowdown);
    case SafeguardStep::kFasterOnCommon:
      return pair.learned_common_jct_s <=
             pair.fixed_common_jct_s - z * pair.common_se_s;
  }
  return false;
}

}  // namespace

PairedValidation PairOnValidation(const ValidationSummary& learned,
                                  const ValidationSummary& fixed) {
  const size_t k = learned.jct_s.size();
  if (fixed.jct_s.size() != k || learned.succeeded.size() != k ||
      fixed.succeeded.size() != k) {
    throw std::invalid_argument(
        "validation episodes: " + std::to_string(k) + " and " +
        std::to_string(fixed.jct_s.size()) + " JCTs, " +
        std::to_string(learned.succeeded.size()) + " and " +
        std::to_string(fixed.succeeded.size()) +
        " outcomes (expected per-episode results on the same seeds)");
  }
  PairedValidation pair;
  std::vector<double> differences;
  for (size_t i = 0; i < k; ++i) {
    const bool a = learned.succeeded[i], b = fixed.succeeded[i];
    if (a && b) {
      pair.learned_common_jct_s += learned.jct_s[i];
      pair.fixed_common_jct_s += fixed.jct_s[i];
      differences.push_back(learned.jct_s[i] - fixed.jct_s[i]);
    } else if (a) {
      ++pair.learned_only;
    } else if (b) {
      ++pair.fixed_only;
    }
  }
  pair.common = static_cast<int>(differences.size());
  if (pair.common > 0) {
    pair.learned_common_jct_s /= pair.common;
    pair.fixed_common_jct_s /= pair.common;
  }
  if (pair.common >= 2) {
    const double mean = pair.learned_common_jct_s - pair.fixed_common_jct_s;
    double squares = 0;
    for (double d : differences) squares += (d - mean) * (d - mean);
    // Sample standard deviation over sqrt(common).
    pair.common_se_s = std::sqrt(squares / (pair.common - 1)) /
                       std::sqrt(static_cast<double>(pair.common));
  }
  pair.success_p =
      UpperSignTail(pair.learned_only, pair.learned_only + pair.fixed_only);
  return pair;
}

bool LearnedIsNoWorse(const ValidationSummary& learned,
                      const ValidationSummary& fixed, double z,
                      double max_slowdown) {
  CheckRuleSettings(z, max_slowdown);
  const PairedValidation pair = PairOnValidation(learned, fixed);
  return KeptAt(DecidingStep(learned, fixed, pair, z), pair, z, max_slowdown);
}

std::string DescribeSafeguard(const ValidationSummary& learned,
                              const ValidationSummary& fixed,
                              bool exported_learned,
                              const std::string& fixed_name, double z,
                              double max_slowdown) {
  CheckRuleSettings(z, max_slowdown);
  const PairedValidation pair = PairOnValidation(learned, fixed);
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
  // The paired comparison that decided (LearnedIsNoWorse).
  std::snprintf(text, sizeof text,
                " (finished by one only: learned %d, %s %d, sign test p = "
                "%.3g; on the %d seeds both finished: learned %.2f s, %s "
                "%.2f s",
                pair.learned_only, fixed_name.c_str(), pair.fixed_only,
                pair.success_p, pair.common, pair.learned_common_jct_s,
                fixed_name.c_str(), pair.fixed_common_jct_s);
  line += text;
  switch (DecidingStep(learned, fixed, pair, z)) {
    case SafeguardStep::kFewerSuccesses:
      line += "; required: no fewer successes, no more over budget)";
      break;
    case SafeguardStep::kMoreSuccesses:
      std::snprintf(text, sizeof text,
                    "; more successes beyond chance (p <= %.3g), required: "
                    "at most %.3g %% slower on the seeds both finished)",
                    Alpha(z), 100 * max_slowdown);
      line += text;
      break;
    case SafeguardStep::kNoCommonSeed:
      line += "; no seed finished by both, the fixed policy stays)";
      break;
    case SafeguardStep::kFasterOnCommon:
      std::snprintf(text, sizeof text,
                    "; required: %.2f s faster on the seeds both finished, "
                    "%.3g paired standard errors)",
                    z * pair.common_se_s, z);
      line += text;
      break;
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
