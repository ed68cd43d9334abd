// The scenario: every parameter of one simulated training job, immutable once
// loaded (MuJoCo's mjModel habit: a constant model shared by many states).
//
// Values come from `scenario_loader.h`, which merges, in order, the defaults
// of `param_table.cc` (each with its source), a preset or YAML file, and
// `key=value` overrides, and validates the result. Units are in the field
// names (`_s` seconds, `_ms` milliseconds, `_mb` megabytes = 2^20 bytes,
// `_mb_per_s` megabytes per second, `_usd` US dollars).
#ifndef SIREN_SIM_SCENARIO_SCENARIO_H_
#define SIREN_SIM_SCENARIO_SCENARIO_H_

#include <cstdint>
#include <string>
#include <vector>

namespace siren::sim {

// Lambda generation: the memory grid, timeout and billing granularity.
// "2018": 128..3008 MB in 64 MB steps, 300 s, 100 ms billing.
// "2020+": 128..10240 MB in 1 MB steps, 900 s, 1 ms billing.
enum class Era { k2018, k2020Plus };

// How updates are applied inside an epoch (DESIGN.md §2.2).
// kHsp: asynchronous, versioned updates inside the epoch, barrier at its end.
// kBsp: a barrier after every round of one batch per function.
enum class ExecutionMode { kHsp, kBsp };

// How an HSP push reaches the parameter store (execution.push_protocol):
// kApply: the store applies every pushed update on arrival (a parameter
// server; one PUT per push). kCas: the parameters are one S3 object updated
// by compare-and-swap (conditional PUT), as siren's runner does: a push that
// finds the object changed since the worker last read it is refused (412),
// re-reads the parameters (GET) and tries again.
enum class PushProtocol { kApply, kCas };

// Which convergence model turns applied updates into loss (DESIGN.md §2.6).
enum class ConvergenceModel { kAnalytic, kSgd };

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

// Cold-start latency: Normal(mean, sd) truncated at 0, both interpolated
// linearly in memory between the table's points (clamped outside), plus a
// package-loading term proportional to the package size.
struct ColdStartSpec {
  std::vector<double> memory_mb;
  std::vector<double> mean_ms;
  std::vector<double> sd_ms;
  double ms_per_package_mb = 0;
};

struct LambdaSpec {
  Era era = Era::k2020Plus;
  int min_memory_mb = 128;
  int max_memory_mb = 10240;
  int memory_step_mb = 1;
  double timeout_s = 900;
  double mb_per_vcpu = 1769;          // Memory that buys one vCPU.
  double max_vcpus = 6;               // Cap on the CPU share.
  double gflops_per_vcpu = 0;         // Effective training throughput per vCPU.
  double compute_noise_sigma = 0;     // Log-normal sigma on compute time.
  double bandwidth_cap_mb_per_s = 0;  // Network cap of one function.
  double bandwidth_saturation_mb = 0;  // Memory at which the cap is reached.
  ColdStartSpec cold_start;
  double warm_start_median_ms = 0;
  double warm_start_sigma = 0;  // Log-normal sigma of warm-start overhead.
  double keep_alive_s = 0;      // Idle instances expire after this.
  int concurrency_limit = 0;    // Account-wide concurrent executions.
  double throttle_backoff_base_s = 0;  // First retry delay after a 429.
  double throttle_backoff_cap_s = 0;   // Longest retry delay.
  bool cold_after_timeout = true;      // A timed-out sandbox is recycled.
  // One deployed function whose memory is reconfigured (true), so a memory
  // change retires every warm instance, as Lambda does on a configuration
  // update; or one function per memory size (false), whose pools survive.
  bool single_function = false;
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

struct BillingSpec {
  double granularity_s = 0.001;  // Duration rounded up to this.
  double usd_per_gb_s = 0;       // Lambda duration price.
  double usd_per_request = 0;    // Lambda request price.
  double s3_usd_per_get = 0;     // S3 GET price per request.
  double s3_usd_per_put = 0;     // S3 PUT price per request.
};

// The `sgd` ground-truth model's data and optimiser (see sgd_model.h).
struct SgdSpec {
  std::string dataset = "click_through";  // Generator name or HDF5 path.
  int64_t features = 4096;                // Columns of the generated data.
  int fields = 39;                        // Active features per generated row.
  int64_t data_seed = 1;                  // Seed of the generated data.
  int64_t eval_samples = 10000;  // Held-out rows (the last rows of the data).
  double learning_rate = 0.1;
};

// Analytic convergence (Optimus form): loss(k) = 1 / (b0 * k + b1) + b2 over
// accumulated effective progress k. One applied update adds
//   (batch / reference_batch)^batch_exponent * local_steps^local_step_exponent
//   / (1 + staleness_penalty * staleness * (1 + staleness_gain * closeness))
// where closeness in [0, 1) is how far the loss has come from its initial
// value towards b2 on a log scale: staleness hurts more as training nears
// convergence (see convergence.h).
struct ConvergenceSpec {
  ConvergenceModel model = ConvergenceModel::kAnalytic;
  double b0 = 0;
  double b1 = 0;
  double b2 = 0;
  double reference_batch = 0;
  double batch_exponent = 0;
  double local_step_exponent = 0;
  double staleness_penalty = 0;
  double staleness_gain = 0;
  double loss_noise_sigma = 0;  // Log-normal sigma on the observed loss.
  SgdSpec sgd;                  // Used when model == kSgd.
};

struct ExecutionSpec {
  ExecutionMode mode = ExecutionMode::kHsp;
  PushProtocol push_protocol = PushProtocol::kApply;
  int sync_every = 1;                 // Local steps between parameter pushes.
  double memory_overhead_factor = 0;  // Model copies held in memory.
};

struct JobSpec {
  double budget_usd = 0;  // The job stops once cumulative cost reaches it.
  int max_epochs = 0;     // The job stops after this many epochs.
};

struct Ec2Spec {
  std::string instance_type;  // Key into the built-in instance table.
  int instances = 0;          // k.
  Ec2Billing billing = Ec2Billing::kPerSecond;
  double startup_s = 0;           // Boot and setup before the first epoch.
  double gflops_per_vcpu = 0;     // Effective training throughput per vCPU.
  double network_latency_ms = 0;  // Per synchronisation round.
};

// How actions are mapped to a number of functions (env layer).
enum class FunctionScale { kLog, kLinear };

// The MDP built on the job (DESIGN.md §3; read by env/, ignored by the
// simulator). Reward per epoch: -reward_per_second * epoch seconds; on
// success (target loss within budget) +success_bonus; when the budget runs
// out first -budget_penalty.
struct EnvSpec {
  double reward_per_second = 0.01;  // beta.
  double success_bonus = 1;
  double budget_penalty = 5;
  int min_functions = 1;  // Action range for n.
  int max_functions = 1000;
  FunctionScale function_scale = FunctionScale::kLog;
  int function_bins = 64;         // MultiDiscrete choices for n.
  int memory_bins = 46;           // MultiDiscrete choices for memory.
  double time_scale_s = 60;       // Observation unit of epoch durations.
  double batch_time_scale_s = 1;  // Observation unit of per-batch times.
  double observation_clip = 100;  // Upper bound of normalised times.
};

struct Scenario {
  std::string name;
  WorkloadSpec workload;
  LambdaSpec lambda;
  S3Spec s3;
  BillingSpec billing;
  ConvergenceSpec convergence;
  ExecutionSpec execution;
  JobSpec job;
  Ec2Spec ec2;
  EnvSpec env;
};

}  // namespace siren::sim

#endif  // SIREN_SIM_SCENARIO_SCENARIO_H_
