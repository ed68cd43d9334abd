// AWS Lambda, the reference platform (copy this folder to add one).
//
// Every hook of Platform is implemented from the `lambda.*` and `billing.*`
// parameters this folder declares (aws_lambda_params.cc). The generations
// of Lambda (`lambda.era`) are data, not code: generations.cc lists each
// one's memory grid, timeout and billing granularity with sources, and they
// become the era-dependent defaults of those parameters.
//
// Model (DESIGN.md §2.3, §2.5):
// - vCPUs = min(max_vcpus, memory / mb_per_vcpu); compute time of a batch =
//   batch FLOPs / (vCPUs x gflops_per_vcpu), log-normal noise around it;
// - bandwidth linear in memory up to bandwidth_cap_mb_per_s, reached at
//   bandwidth_saturation_mb;
// - cold start: Normal(mean(m), sd(m)) truncated at 0, both interpolated
//   linearly in memory between cold_start.memory_mb points (clamped
//   outside), plus ms_per_package_mb x package size; warm start log-normal;
// - an invocation is billed from its handler's start to its end, rounded up
//   to billing.granularity_s, x memory in GB x usd_per_gb_s, plus
//   usd_per_request; throttled (429) calls cost nothing;
// - INIT billing (`lambda.init_billed`, the "2025+" generation): the INIT
//   phase of a cold start (runtime start and the handler module's imports)
//   is billed like the handler's run. The INIT phase is the package term of
//   the cold start plus `lambda.cold_start.init_share` of the rest; the rest
//   (placing the sandbox, fetching the code) is not billed. It does not
//   change the cold-start latency, only what is billed;
// - the scaling-rate limit (`lambda.scaling.*`): new execution environments
//   take a token from a bucket of `burst` tokens refilled continuously at
//   `refill_per_s`; without a token the invocation is throttled (429). The
//   2025+ rule is 1,000 per 10 s per function (burst 1,000, 100/s); the
//   2018-2023 rule an initial burst of 3,000 (us-east-1) then +500 per
//   minute, modelled as a bucket of 3,000 refilled at 500/60 per s;
// - `lambda.architecture` (x86_64 or arm64) selects the default duration
//   price; arm64 exists since September 2021 (not in the 2018 era).
#ifndef SIREN_SIM_PLATFORM_AWS_LAMBDA_AWS_LAMBDA_H_
#define SIREN_SIM_PLATFORM_AWS_LAMBDA_AWS_LAMBDA_H_

#include <string>
#include <vector>

#include "sim/platform/platform.h"

namespace siren::sim::aws_lambda {

// One generation of the platform: the era-dependent parameters' defaults.
struct Generation {
  std::string name;  // The `lambda.era` value, e.g. "2018".
  int min_memory_mb = 0;
  int max_memory_mb = 0;
  int memory_step_mb = 0;
  double timeout_s = 0;
  double billing_granularity_s = 0;
  // The INIT phase of a cold start is billed like the handler's run.
  bool init_billed = false;
  // Scaling-rate limit on new execution environments: a token bucket of
  // `scaling_burst` tokens refilled at `scaling_refill_per_s`.
  int scaling_burst = 0;
  double scaling_refill_per_s = 0;
};

// Every generation, oldest first; the last is the default.
const std::vector<Generation>& Generations();
// Where the generations' figures come from.
extern const char kGenerationSource[];

// The values of this platform's section, read once from a scenario.
struct LambdaSpec {
  std::string era;
  int min_memory_mb = 0;
  int max_memory_mb = 0;
  int memory_step_mb = 0;
  double timeout_s = 0;
  double mb_per_vcpu = 0;
  double max_vcpus = 0;
  double gflops_per_vcpu = 0;
  double compute_noise_sigma = 0;
  double bandwidth_cap_mb_per_s = 0;
  double bandwidth_saturation_mb = 0;
  std::vector<double> cold_memory_mb;
  std::vector<double> cold_mean_ms;
  std::vector<double> cold_sd_ms;
  double cold_ms_per_package_mb = 0;
  double warm_start_median_ms = 0;
  double warm_start_sigma = 0;
  double keep_alive_s = 0;
  int concurrency_limit = 0;
  double throttle_backoff_base_s = 0;
  double throttle_backoff_cap_s = 0;
  bool cold_after_timeout = true;
  bool single_function = false;
  double billing_granularity_s = 0;
  std::string architecture;
  bool init_billed = false;
  double init_share = 0;
  int scaling_burst = 0;
  double scaling_refill_per_s = 0;
  double usd_per_gb_s = 0;
  double usd_per_request = 0;

  static LambdaSpec FromScenario(const Scenario& scenario);
};

// This platform's parameter section (registered with the platform).
ParamSection ParamSectionForLambda();

// Cross-field checks of the section (memory grid, cold-start table,
// back-off, and that the workload fits in the largest size); throws
// ScenarioError naming the field.
void ValidateLambda(const Scenario& scenario);

class AwsLambda final : public Platform {
 public:
  // Reads the section once; the grid is built here, so every later call is
  // cheap and the object is immutable (thread-safe) from here on.
  explicit AwsLambda(const Scenario& scenario);

  // The name this folder registers (aws_lambda.cc, RegisterPlatform).
  std::string name() const override { return "aws_lambda"; }
  // [min_memory_mb, max_memory_mb] in memory_step_mb steps (by generation).
  const std::vector<int>& MemoryGrid() const override { return grid_; }
  // Arithmetic on the grid instead of a search.
  bool IsOnMemoryGrid(int memory_mb) const override;
  // "a size in [128, 10240] MB in steps of 1 MB from 128".
  std::string DescribeMemoryGrid() const override;
  // min(max_vcpus, memory / mb_per_vcpu): Lambda allocates CPU in
  // proportion to memory (1769 MB buys one vCPU).
  double Vcpus(int memory_mb) const override;
  // Batch FLOPs / (vCPUs x gflops_per_vcpu).
  double ComputeSecondsPerBatch(const WorkloadSpec& workload,
                                int memory_mb) const override;
  // lambda.compute_noise_sigma.
  double compute_noise_sigma() const override {
    return spec_.compute_noise_sigma;
  }
  // Linear in memory up to the cap, reached at bandwidth_saturation_mb.
  double BandwidthMbPerS(int memory_mb) const override;
  // Truncated normal interpolated in memory, plus the package term.
  double SampleColdStartS(int memory_mb, double package_mb,
                          Rng& rng) const override;
  // Log-normal around warm_start_median_ms.
  double SampleWarmStartS(Rng& rng) const override;
  // lambda.timeout_s (by generation).
  double timeout_s() const override { return spec_.timeout_s; }
  // The account's concurrency limit; 429s back off exponentially.
  ConcurrencyRules concurrency() const override;
  // Keep-alive, recycling after a timeout, one function or one per size.
  SandboxRules sandboxes() const override;
  // lambda.init_billed.
  bool bills_init() const override { return spec_.init_billed; }
  // lambda.scaling.burst and refill_per_s.
  ScalingRules scaling() const override;
  // The INIT phase of a cold start of `cold_start_s` when the generation
  // bills it (lambda.init_billed), else 0.
  double BilledInitS(double cold_start_s, double package_mb) const override;
  // usd_per_gb_s x GB, usd_per_request, billing.granularity_s.
  BillingRates Rates(int memory_mb) const override;
  // Rounded up to billing.granularity_s, x GB x usd_per_gb_s, plus
  // usd_per_request.
  InvocationBill Bill(SimTime duration, int memory_mb) const override;

  const LambdaSpec& spec() const { return spec_; }

 private:
  LambdaSpec spec_;
  std::vector<int> grid_;
  SimTime granularity_;
};

}  // namespace siren::sim::aws_lambda

#endif  // SIREN_SIM_PLATFORM_AWS_LAMBDA_AWS_LAMBDA_H_
