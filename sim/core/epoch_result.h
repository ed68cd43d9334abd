// What one simulated epoch reports (issue "Simulator core", item 5), and the
// job-level state the simulator carries between epochs.
#ifndef SIREN_SIM_CORE_EPOCH_RESULT_H_
#define SIREN_SIM_CORE_EPOCH_RESULT_H_

#include <cstdint>

namespace siren::sim {

// The scheduler's decision for one epoch: n functions of `memory_mb` each.
struct Action {
  int functions = 0;
  int memory_mb = 0;
};

// Why the job stopped (kRunning while it has not). kConverged means the
// target loss was reached with the cumulative cost within the budget; an
// epoch that reaches the target but overspends ends kBudgetExhausted.
enum class JobStatus { kRunning, kConverged, kBudgetExhausted, kEpochLimit };

// Whether the budget stopped the job in this epoch (job.budget_guard):
// kBeforeEpoch: the epoch was not run (its projected cost exceeded the
// budget left; nothing was spent); kMidEpoch: the epoch was cut when its
// spending reached the budget.
enum class BudgetStop { kNone, kBeforeEpoch, kMidEpoch };

// Mean and 95th percentile of a per-batch phase time, in seconds.
struct PhaseStats {
  double mean_s = 0;
  double p95_s = 0;
};

// The cost of one epoch, broken down. total = sum of the three parts.
struct CostBreakdown {
  double function_duration_usd = 0;  // Billed GB-seconds.
  double function_request_usd = 0;   // Per-invocation request price.
  double s3_request_usd = 0;         // GET, PUT and LIST request charges.
  double total_usd() const {
    return function_duration_usd + function_request_usd + s3_request_usd;
  }
};

struct EpochResult {
  int epoch = 0;              // 0-based index of this epoch in the job.
  Action action;              // As requested.
  int functions_used = 0;     // min(functions, batches in the epoch).
  double duration_s = 0;      // Wall time from epoch start to barrier.
  PhaseStats fetch;           // Batch GET + parameter GET, per batch.
  PhaseStats compute;         // Gradient computation, per batch.
  PhaseStats update;          // Update PUT, per push.
  int64_t batches = 0;        // Mini-batches processed.
  int64_t updates = 0;        // Updates applied to the parameter store.
  double mean_staleness = 0;  // Mean staleness of applied updates.
  int64_t max_staleness = 0;
  int64_t update_conflicts = 0;  // Refused CAS pushes (push_protocol cas).
  // push_protocol overwrite: written updates missing from the epoch's final
  // parameters (overwritten by a writer that had not read them).
  int64_t lost_updates = 0;
  int64_t folds = 0;    // push_protocol fold: the folder's parameter PUTs.
  int invocations = 0;  // Billed invocations (incl. re-invocations).
  int cold_starts = 0;
  int warm_starts = 0;
  int throttles = 0;          // 429 responses (retried, not billed).
  int scaling_throttles = 0;  // Of which the scaling-rate limit's.
  int timeouts = 0;           // Invocations cut at the timeout.
  int reinvocations = 0;      // Invocations issued after a timeout.
  int s3_slowdowns = 0;       // 503 SlowDown responses (retried).
  int64_t s3_gets = 0;
  int64_t s3_puts = 0;
  int64_t list_requests = 0;      // S3 LIST requests (billed at the PUT price).
  double billed_gb_s = 0;         // Sum of billed GB-seconds.
  double init_billed_s = 0;       // INIT seconds billed (cold starts).
  double cpu_utilisation = 0;     // Compute time / billed time, in [0, 1].
  double memory_utilisation = 0;  // Memory need / configured memory.
  CostBreakdown cost;
  double loss = 0;               // Observed (noisy) loss after the epoch.
  double true_loss = 0;          // Noise-free model loss after the epoch.
  double progress = 0;           // Accumulated effective progress k.
  double cumulative_time_s = 0;  // Job wall time so far.
  double cumulative_cost_usd = 0;
  JobStatus status = JobStatus::kRunning;  // Job status after this epoch.
  BudgetStop budget_stop = BudgetStop::kNone;
  // The projected cost the guard compared with the budget left (job
  // .budget_guard project, margin included); 0 when none was made.
  double projected_cost_usd = 0;
  int64_t events = 0;  // Discrete events processed.
};

const char* JobStatusName(JobStatus status);

}  // namespace siren::sim

#endif  // SIREN_SIM_CORE_EPOCH_RESULT_H_
