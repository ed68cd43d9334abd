// A search-based bound (DESIGN.md §4): the cross-entropy method over
// per-epoch schedules with full access to the simulator. It shows how far a
// learned scheduler is from the best schedule a black-box search finds on
// the same seeds (an optimistic bound: it is tuned on the seeds it reports).
//
// Parameterisation: T epoch slots (epoch e runs slot min(e, T - 1)), each a
// pair (ln n, memory index) of reals. Slot values are sampled from
// independent Gaussians, clipped to [ln env.min_functions,
// ln env.max_functions] and [0, G - 1] over the G feasible memory sizes of
// the era's grid, and decoded as n = round(exp(ln n)) and
// m = feasible[round(index)].
//
// Objective (lower is better), over the training seeds:
//   mean JCT + failure_penalty_s x (1 - success rate),
// failure meaning any stop other than kConverged. With the default penalty
// (1e5 s) any failure outweighs any JCT difference, which matches the grid
// search's ranking (success first, then JCT).
//
// Each iteration samples `population` schedules, evaluates all of them x
// seeds in one batch on the pool, and refits mean and standard deviation to
// the elite: the best ceil(elite_fraction x population) of the new samples
// and, with `keep_elite`, of the previous elite too (already evaluated: the
// seeds are fixed, so an objective never changes), ties going to the older
// candidate, then to sample order. Standard deviations are floored at the
// `min_std_*` options. The schedules of
// `include` are evaluated first, in the first iteration, and the best
// schedule ever evaluated is returned, so the result is never worse (on
// these seeds) than any included schedule. Sampling is serial from one
// seeded stream: results are identical whatever the thread count.
#ifndef SIREN_AGENT_BASELINES_CEM_H_
#define SIREN_AGENT_BASELINES_CEM_H_

#include <cstdint>
#include <optional>
#include <vector>

#include "agent/baselines/evaluation.h"
#include "env/thread_pool.h"
#include "sim/core/epoch_result.h"
#include "sim/scenario/scenario.h"

namespace siren::baselines {

struct CemOptions {
  int slots = 10;                 // T.
  int population = 48;            // Samples per iteration.
  double elite_fraction = 0.125;  // In (0, 1].
  int iterations = 15;
  uint64_t seed = 0;  // Seed of the sampling stream.
  // Initial mean of every slot; the middle of both ranges when unset.
  std::optional<sim::Action> initial;
  double initial_std_log_n = 0.5;    // In ln n.
  double initial_std_memory = 0.15;  // As a fraction of G - 1.
  double min_std_log_n = 0.05;
  double min_std_memory = 0.02;  // As a fraction of G - 1.
  double failure_penalty_s = 1e5;
  bool keep_elite = true;         // Carry the elite into the next ranking.
  std::vector<Schedule> include;  // Evaluated as extra candidates.
};

// The mean and elite statistics of one iteration.
struct CemIteration {
  double best_objective = 0;        // Best of this ranking.
  double elite_mean_objective = 0;  // Mean over the elite it keeps.
  double best_so_far = 0;           // Best ever evaluated, after it.
};

struct CemResult {
  Schedule best;  // T actions (the last repeats).
  Evaluation best_evaluation;
  double best_objective = 0;
  std::vector<CemIteration> history;
  int evaluated = 0;  // Schedules evaluated (x seeds episodes).
};

// The objective of an evaluation: mean JCT + penalty x (1 - success rate).
double CemObjective(const Evaluation& evaluation, double failure_penalty_s);

// Runs the search on `scenario` (its budget as given; see WithBudget) over
// `seeds`. Throws std::invalid_argument naming a bad option.
CemResult CemSearch(std::shared_ptr<const sim::Scenario> scenario,
                    const std::vector<uint64_t>& seeds,
                    const CemOptions& options, env::ThreadPool& pool);

}  // namespace siren::baselines

#endif  // SIREN_AGENT_BASELINES_CEM_H_
