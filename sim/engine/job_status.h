// The job-level stopping rule, shared by the simulator and the runner (a real
// job is judged by the same rule as a simulated one).
#ifndef SIREN_SIM_ENGINE_JOB_STATUS_H_
#define SIREN_SIM_ENGINE_JOB_STATUS_H_

#include "sim/core/epoch_result.h"
#include "sim/scenario/scenario.h"

namespace siren::sim {

// The status after `epochs_done` epochs with observed `loss` and cumulative
// cost `cost_usd`, in this order of precedence:
//  - kConverged: loss <= workload.target_loss and cost <= job.budget_usd;
//  - kBudgetExhausted: cost >= job.budget_usd (overspending wins over a
//    reached target);
//  - kEpochLimit: epochs_done >= job.max_epochs;
//  - kRunning otherwise.
JobStatus DecideJobStatus(const Scenario& scenario, double loss,
                          double cost_usd, int epochs_done);

}  // namespace siren::sim

#endif  // SIREN_SIM_ENGINE_JOB_STATUS_H_
