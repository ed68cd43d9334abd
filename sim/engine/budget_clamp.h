// The budget clamp: the closest affordable action to a requested one, for a
// caller that would rather run a smaller epoch than have the budget guard end
// the job (env.action_clamp budget in env/, the runner's policy runs).
//
// "Affordable" is the caller's predicate, normally the budget guard's own
// test (projection of cost_projection.h x job.budget_margin <= budget left),
// so that an action the clamp returns is one the guard runs.
//
// Search (deterministic; at most 1 + ceil(log2 M) + ceil(log2 n) calls of
// the predicate for M memory sizes and n requested functions):
//  1. the requested (n, m) if affordable: returned unchanged;
//  2. else, at memory m, the largest affordable count in [lo, n - 1], found
//     by bisection (lo = `min_functions`; assumes the cost grows with n; only
//     counts the predicate accepted are returned);
//  3. if even lo functions at m are unaffordable, the largest memory size
//     below m at which lo functions are affordable (bisection over the
//     sizes), then the largest count there (bisection over [lo, n]);
//  4. if nothing is affordable, the requested action with `affordable`
//     false: the caller runs it and the guard ends the job, as without the
//     clamp.
#ifndef SIREN_SIM_ENGINE_BUDGET_CLAMP_H_
#define SIREN_SIM_ENGINE_BUDGET_CLAMP_H_

#include <functional>
#include <vector>

#include "sim/core/epoch_result.h"

namespace siren::sim {

struct BudgetClamp {
  Action action;            // What to run.
  bool clamped = false;     // action differs from the requested one.
  bool affordable = false;  // The predicate accepted `action`.
  int checks = 0;           // Calls of the predicate.
};

// `memory_sizes`: the sizes the clamp may fall back to, ascending (the
// feasible sizes of the platform's grid; those above the requested memory are
// ignored); `min_functions` >= 1, the fewest functions it may fall back to
// (at most requested.functions). `affordable` must be deterministic; it may
// return false for an action that cannot run at all (a size too slow for the
// timeout).
BudgetClamp ClampToBudget(const Action& requested,
                          const std::vector<int>& memory_sizes,
                          int min_functions,
                          const std::function<bool(const Action&)>& affordable);

}  // namespace siren::sim

#endif  // SIREN_SIM_ENGINE_BUDGET_CLAMP_H_
