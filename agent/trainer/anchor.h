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
// no worse by the rule of LearnedIsNoWorse (success first, then JCT on the
// seeds both finished); otherwise the exported policy is the anchor alone
// (the same network with a zero residual). With the schedule anchor, the
// schedule table is first compared with the plain oracle static table by
// the same rule; the better one (the schedule on ties) is the fixed policy
// the learned one must match and the one exported when it does not.
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
  int over_budget = 0;    // Episodes whose cost exceeds job.budget_usd.
  double mean_jct_s = 0;  // Over every episode, finished or not.
  double mean_cost_usd = 0;
  std::vector<double> jct_s;    // Per episode, in validation-seed order.
  std::vector<bool> succeeded;  // Per episode: reached the loss target.
};

// Two policies paired by validation seed (the same seeds, the same order).
struct PairedValidation {
  int learned_only = 0;  // Seeds only the learned policy finished.
  int fixed_only = 0;    // Seeds only the fixed policy finished.
  int common = 0;        // Seeds both finished.
  // Mean JCT of each on the common seeds (0 without any).
  double learned_common_jct_s = 0, fixed_common_jct_s = 0;
  // The standard error of the mean per-seed JCT difference on the common
  // seeds (sample sd / sqrt(common); 0 below 2 common seeds).
  double common_se_s = 0;
  // One-sided exact sign test on the seeds only one of them finished: the
  // probability of at least `learned_only` of the learned_only + fixed_only
  // such seeds falling to the learned policy if each were a fair coin (1
  // without any).
  double success_p = 1;
};

// The pairing above. Throws std::invalid_argument unless both hold
// per-episode jct_s and succeeded for the same number of episodes.
PairedValidation PairOnValidation(const ValidationSummary& learned,
                                  const ValidationSummary& fixed);

// The safeguard's rule, success first (as `siren evaluate` orders methods):
//  1. never more over-budget episodes and never fewer successes;
//  2. more successes beyond chance (the sign test's success_p at most
//     alpha = P(Z > z), 0.05 at the default z = 1.645; with z = 0, any
//     success more): kept when its mean JCT on the seeds both finished is
//     at most (1 + max_slowdown) times the fixed one's, so that finishing
//     more jobs is not bought with much slower ones (kept, too, when no
//     seed was finished by both);
//  3. otherwise (the same successes, or more within chance): kept when its
//     mean JCT on the seeds both finished is below the fixed one's by at
//     least z paired standard errors (common_se_s); z = 0 is "no slower".
//     Without a common seed the fixed policy stays.
// JCTs of unfinished episodes never enter a comparison: they are the times
// the budget stopped a job, not completion times. Throws
// std::invalid_argument naming safeguard_z unless z >= 0 and finite, or
// safeguard_max_slowdown unless it is >= 0 and finite.
bool LearnedIsNoWorse(const ValidationSummary& learned,
                      const ValidationSummary& fixed, double z = 0,
                      double max_slowdown = 0);

// One line that says which policy was exported and why, with the numbers;
// `fixed_name` names the fixed policy ("oracle static" or "schedule"). It
// ends with the paired comparison (the seeds only one finished, the mean
// JCTs on the seeds both finished) and the test of LearnedIsNoWorse that
// decided, with its margin.
std::string DescribeSafeguard(const ValidationSummary& learned,
                              const ValidationSummary& fixed,
                              bool exported_learned,
                              const std::string& fixed_name = "oracle static",
                              double z = 0, double max_slowdown = 0);

// One line comparing the schedule anchor with the plain oracle static one
// on the validation seeds (the safeguard's rule) and saying which is kept.
std::string DescribeAnchorCheck(const ValidationSummary& schedule,
                                const ValidationSummary& plain,
                                bool kept_schedule);

}  // namespace siren::agent

#endif  // SIREN_AGENT_TRAINER_ANCHOR_H_
