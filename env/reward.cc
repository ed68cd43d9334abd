#include "env/reward.h"

namespace siren::env {

StepOutcome ScoreEpoch(const EnvSpec& spec, const sim::EpochResult& epoch) {
  StepOutcome outcome;
  outcome.reward = -spec.reward_per_second * epoch.duration_s;
  switch (epoch.status) {
    case sim::JobStatus::kConverged:
      outcome.reward += spec.success_bonus;
      outcome.terminated = true;
      break;
    case sim::JobStatus::kBudgetExhausted:
      outcome.reward -= spec.budget_penalty;
      outcome.terminated = true;
      break;
    case sim::JobStatus::kEpochLimit:
      outcome.truncated = true;
      break;
    case sim::JobStatus::kRunning:
      break;
  }
  return outcome;
}

}  // namespace siren::env
