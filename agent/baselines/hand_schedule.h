// The seed talk's hand schedule: many functions in the first epoch, fewer in
// the middle, fewest at the end (the talk's logistic-regression toy used
// 120 / 20 / 10 functions).
//
// A scheduler does not know in advance which epoch is the last, so "the end"
// is defined by position: epoch 0 runs `high`, epochs 1..mid_epochs run
// `mid`, and every later epoch runs `low`. The schedule is returned as
// mid_epochs + 2 actions whose last repeats (see Schedule). Counts are
// scaled by `scale`, rounded, and clamped to [env.min_functions,
// env.max_functions]; every epoch uses `memory_mb`.
#ifndef SIREN_AGENT_BASELINES_HAND_SCHEDULE_H_
#define SIREN_AGENT_BASELINES_HAND_SCHEDULE_H_

#include "agent/baselines/evaluation.h"
#include "sim/scenario/scenario.h"

namespace siren::baselines {

struct HandScheduleOptions {
  double scale = 1;
  int memory_mb = 2048;
  int mid_epochs = 4;  // k: epochs 1..k run `mid`.
  int high = 120;
  int mid = 20;
  int low = 10;
};

// Throws std::invalid_argument naming the option when scale is not finite
// and > 0, mid_epochs < 0, a count < 1, or memory_mb cannot run the
// workload (sim::MemoryError).
Schedule HandSchedule(const sim::Scenario& scenario,
                      const HandScheduleOptions& options);

// The default hand-schedule memory for `scenario`: the smallest grid size
// >= max(smallest feasible size, 2048 MB), or the largest size.
int DefaultHandMemoryMb(const sim::Scenario& scenario);

}  // namespace siren::baselines

#endif  // SIREN_AGENT_BASELINES_HAND_SCHEDULE_H_
