// Reward and end flags of one epoch (DESIGN.md §3.3), shared by the simulated
// env (siren_env.h) and the runner's real env (bindings: score_epoch):
//   reward = -env.reward_per_second * epoch seconds
//            + env.success_bonus  when the job converged (terminated),
//            - env.budget_penalty when the budget ran out (terminated);
//   truncated when the epoch limit ended the job.
#ifndef SIREN_ENV_REWARD_H_
#define SIREN_ENV_REWARD_H_

#include "env/env_spec.h"
#include "sim/core/epoch_result.h"

namespace siren::env {

struct StepOutcome {
  double reward = 0;
  bool terminated = false;
  bool truncated = false;
};

// Scores an epoch whose `status` is the job status after it.
StepOutcome ScoreEpoch(const EnvSpec& spec, const sim::EpochResult& epoch);

}  // namespace siren::env

#endif  // SIREN_ENV_REWARD_H_
