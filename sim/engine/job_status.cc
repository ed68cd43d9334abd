#include "sim/engine/job_status.h"

namespace siren::sim {

JobStatus DecideJobStatus(const Scenario& scenario, double loss,
                          double cost_usd, int epochs_done) {
  const bool over_budget = cost_usd > scenario.job.budget_usd;
  if (!over_budget && loss <= scenario.workload.target_loss) {
    return JobStatus::kConverged;
  }
  if (cost_usd >= scenario.job.budget_usd) return JobStatus::kBudgetExhausted;
  if (epochs_done >= scenario.job.max_epochs) return JobStatus::kEpochLimit;
  return JobStatus::kRunning;
}

}  // namespace siren::sim
