// The scenario: every parameter of one simulated training job, immutable once
// loaded (MuJoCo's mjModel habit: a constant model shared by many states).
//
// Values come from `scenario_loader.h`, which merges, in order, the defaults
// of the parameter table (`param_table.h`: the core sections here, each
// plug-in's own section), a preset or YAML file, and `key=value` overrides,
// and validates the result. Units are in the field
// names (`_s` seconds, `_ms` milliseconds, `_mb` megabytes = 2^20 bytes,
// `_mb_per_s` megabytes per second, `_usd` US dollars).
#ifndef SIREN_SIM_SCENARIO_SCENARIO_H_
#define SIREN_SIM_SCENARIO_SCENARIO_H_

#include <cstdint>
#include <string>
#include <vector>

#include "sim/scenario/param_value.h"

namespace siren::sim {

// How updates are applied inside an epoch (DESIGN.md §2.2).
// kHsp: asynchronous, versioned updates inside the epoch, barrier at its end.
// kBsp: a barrier after every round of one batch per function.
enum class ExecutionMode { kHsp, kBsp };

// How an HSP push reaches the parameter store (execution.push_protocol;
// BSP rounds are applied at the barrier whatever the protocol):
// kApply: the store applies every pushed update on arrival (a parameter
// server; one PUT per push). kCas: the parameters are one S3 object updated
// by compare-and-swap (conditional PUT), as siren's runner does: a push that
// finds the object changed since the worker last read it is refused (412),
// waits a jittered exponential back-off, re-reads the parameters (GET) and
// tries again. kOverwrite: the worker PUTs the whole object unconditionally,
// = the parameters it read + its update; last writer wins, so updates
// written by others between its read and its write are lost. kFold: a push
// is one unconditional PUT of the worker's update to its own key; a folder
// function LISTs the new update objects every fold interval, GETs them,
// adds them in key order and PUTs the parameters once per fold: every update
// is applied exactly once, and a reader sees a prefix of them.
enum class PushProtocol { kApply, kCas, kOverwrite, kFold };

// EC2 billing: per second (60 s minimum, since 2017) or per started hour.
enum class Ec2Billing { kPerSecond, kPerHour };

struct WorkloadSpec {
  std::string name;                // Human-readable workload name.
  int64_t dataset_samples = 0;     // N, training samples per epoch.
  double sample_bytes = 0;         // Stored bytes per sample.
  int64_t samples_per_object = 0;  // Samples per S3 object.
  int64_t batch_size = 0;          // Mini-batch size b.
  int64_t model_params = 0;        // Parameter count (float32 on the wire).
  double flops_per_sample = 0;     // Forward + backward FLOPs per sample.
  double runtime_memory_mb = 0;    // Interpreter, libraries, buffers.
  double package_mb = 0;           // Deployment package size.
  double target_loss = 0;          // Training stops when loss <= this.
};

struct S3Spec {
  double get_latency_median_ms = 0;  // First-byte latency, log-normal.
  double put_latency_median_ms = 0;
  double latency_sigma = 0;            // Log-normal sigma of both.
  double connection_cap_mb_per_s = 0;  // Per-connection transfer cap.
  bool rate_limit = false;             // Model per-prefix 503 SlowDown.
  double get_rate_per_prefix = 0;      // Requests per second per prefix.
  double put_rate_per_prefix = 0;
  int prefixes = 1;               // Prefixes the requests spread over.
  double slowdown_backoff_s = 0;  // Retry delay after a 503.
  // A finite-capacity endpoint: requests queue for `server_slots` servers
  // that each take `server_service_ms` per request (0 slots: S3's unlimited
  // capacity). The local stand-in's single S3 server process is one slot.
  int server_slots = 0;
  double server_service_ms = 0;
};

// S3 request prices. The platform bills its own invocations (Platform::Bill).
struct BillingSpec {
  double s3_usd_per_get = 0;  // S3 GET price per request.
  double s3_usd_per_put = 0;  // S3 PUT price per request.
};

// Which models the job runs on: each selector names a registered
// implementation (sim/platform/platform.h,
// sim/convergence/convergence_model.h), whose own parameters live in
// Scenario::params.
struct ModelSelection {
  std::string platform = "aws_lambda";   // platform.model
  std::string convergence = "analytic";  // convergence.model
};

struct ExecutionSpec {
  ExecutionMode mode = ExecutionMode::kHsp;
  PushProtocol push_protocol = PushProtocol::kApply;
  int sync_every = 1;                 // Local steps between parameter pushes.
  double memory_overhead_factor = 0;  // Model copies held in memory.
  // push_protocol cas: after a refused push, wait U(0, min(cap, base x
  // 2^attempt)) ms before re-reading ("full jitter"); base 0 disables.
  double cas_backoff_ms = 10;
  double cas_backoff_cap_ms = 1000;
  // push_protocol fold: the folder's period between LISTs, ms.
  double fold_interval_ms = 50;
  // S3 requests of the job's coordinator per epoch, outside the functions
  // (the runner: one PUT opening the epoch's parameter object, one GET of
  // it at the barrier), billed with the epoch.
  int coordinator_s3_gets = 0;
  int coordinator_s3_puts = 0;
};

// How a job is kept within its budget (job.budget_guard). Either way no job
// ever spends more than job.budget_usd: an epoch that reaches the budget is
// cut there (its running invocations stop, nothing more is invoked or
// requested) and the job ends kBudgetExhausted.
// kProject: besides, an epoch whose projected cost (ProjectEpochCost, times
// job.budget_margin) exceeds the budget left is not started (the runner's
// guard); kCap: only the cut.
enum class BudgetGuard { kProject, kCap };

struct JobSpec {
  double budget_usd = 0;  // Cumulative cost never exceeds it.
  int max_epochs = 0;     // The job stops after this many epochs.
  BudgetGuard budget_guard = BudgetGuard::kProject;
  double budget_margin = 1.15;  // Safety factor on the projected cost.
  int projection_samples = 2;   // Simulated samples of a projection.
};

struct Ec2Spec {
  std::string instance_type;  // Key into the built-in instance table.
  int instances = 0;          // k.
  Ec2Billing billing = Ec2Billing::kPerSecond;
  double startup_s = 0;           // Boot and setup before the first epoch.
  double gflops_per_vcpu = 0;     // Effective training throughput per vCPU.
  double network_latency_ms = 0;  // Per synchronisation round.
};

struct Scenario {
  std::string name;
  WorkloadSpec workload;
  ModelSelection models;
  S3Spec s3;
  BillingSpec billing;
  ExecutionSpec execution;
  JobSpec job;
  Ec2Spec ec2;
  // The values of every plug-in section's parameters (platform, convergence
  // model, env layer), by dotted path.
  ParamValues params;
};

}  // namespace siren::sim

#endif  // SIREN_SIM_SCENARIO_SCENARIO_H_
