// The learner's anchor and safeguard (torch-free): what makes the trained
// policy never worse than the best static schedule.
//
// Anchor. Before training, the oracle static configuration (n, m) of the
// scenario at its own budget is searched on the tuning seeds 0..k-1 exactly
// as `siren evaluate` searches it: grid search on its default grid, then the
// oracle static search (agent/baselines/oracle_static.h, default options)
// with the grid's optimum included. With the same seeds (evaluate's
// --tuning-seeds, default 8) both find the same configuration. Its Box
// action (env/action_codec.h, Encode) is the anchor: the policy's Gaussian
// mean is anchor + a residual that starts near 0, so training starts at the
// oracle static action (which spends up to the budget's edge) instead of the
// action box's centre.
//
// This is one cell of the anchor table (anchor_table.h): with
// job.budget_range the search runs at each grid budget (one row each), and
// `--anchor schedule` replaces each row's action by a per-epoch schedule
// searched from it.
//
// Safeguard. After training, the deterministic learned policy and the
// anchor alone (the table's lookup) run on the same validation seeds
// (disjoint from the tuning seeds, the trainer's hashed episode seeds and
// evaluate's held-out seeds; each episode's over-budget test uses its own,
// possibly drawn, budget). The learned policy is exported only when it is
// no worse: at least as many successes, no more over-budget episodes and a
// mean JCT at most the anchor's; otherwise the exported policy is the
// anchor alone (the same network with a zero residual). With the schedule
// anchor, the schedule table is first compared with the plain oracle
// static table by the same rule; the better one (the schedule on ties) is
// the fixed policy the learned one must match and the one exported when it
// does not.
#ifndef SIREN_AGENT_TRAINER_ANCHOR_H_
#define SIREN_AGENT_TRAINER_ANCHOR_H_

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "sim/scenario/scenario.h"

namespace siren::agent {

// First validation seed: far from the tuning seeds 0..k-1 and below the
// held-out seeds of `siren evaluate` (1,000,000 on).
inline constexpr uint64_t kFirstValidationSeed = 500'000;

struct StaticAnchor {
  int functions = 0;
  int memory_mb = 0;
  std::array<double, 2> action{};  // Box encoding of (functions, memory_mb).
  double tuning_mean_jct_s = 0;    // On the tuning seeds.
  double tuning_success_rate = 0;
  int evaluated = 0;  // Configurations the searches ran.
};

// The oracle static anchor of `scenario` at job.budget_usd, searched on
// seeds 0..tuning_seeds-1 with `threads` simulation threads. Deterministic;
// does not depend on `threads`. Throws std::invalid_argument naming
// tuning_seeds unless >= 1.
StaticAnchor ComputeStaticAnchor(const sim::Scenario& scenario,
                                 int tuning_seeds, int threads);

// One policy's outcome over the validation seeds.
struct ValidationSummary {
  int episodes = 0;
  int successes = 0;
  int over_budget = 0;  // Episodes whose cost exceeds job.budget_usd.
  double mean_jct_s = 0;
  double mean_cost_usd = 0;
  std::vector<double> jct_s;  // Per episode, in validation-seed order.
};

// The standard error of the mean of the per-seed JCT differences a - b
// (paired by validation seed); 0 with fewer than 2 episodes. Throws
// std::invalid_argument unless both hold the same number of episodes.
double PairedJctStandardError(const ValidationSummary& a,
                              const ValidationSummary& b);

// The safeguard's rule: `learned` is kept when it has at least the fixed
// policy's successes, at most its over-budget episodes, and a mean JCT below
// the fixed one's by at least `z` paired standard errors:
//   learned.mean_jct_s <= fixed.mean_jct_s - z * PairedJctStandardError.
// z = 0 is "no slower on average"; the trainer's default (1.645, one-sided
// 95 %) keeps the simpler fixed policy unless the learned one is faster
// beyond the validation seeds' noise. Throws std::invalid_argument naming
// safeguard_z unless z >= 0 and finite.
bool LearnedIsNoWorse(const ValidationSummary& learned,
                      const ValidationSummary& fixed, double z = 0);

// One line that says which policy was exported and why, with the numbers;
// `fixed_name` names the fixed policy ("oracle static" or "schedule").
// With z > 0 it ends with the margin the rule asked for (LearnedIsNoWorse).
std::string DescribeSafeguard(const ValidationSummary& learned,
                              const ValidationSummary& fixed,
                              bool exported_learned,
                              const std::string& fixed_name = "oracle static",
                              double z = 0);

// One line comparing the schedule anchor with the plain oracle static one
// on the validation seeds (the safeguard's rule) and saying which is kept.
std::string DescribeAnchorCheck(const ValidationSummary& schedule,
                                const ValidationSummary& plain,
                                bool kept_schedule);

}  // namespace siren::agent

#endif  // SIREN_AGENT_TRAINER_ANCHOR_H_
