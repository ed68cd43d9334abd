#include "sim/platform/aws_lambda/aws_lambda.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <sstream>

namespace siren::sim::aws_lambda {
namespace {

// Linear interpolation in a table, clamped to its end values.
double Interpolate(const std::vector<double>& xs, const std::vector<double>& ys,
                   double x) {
  if (xs.empty()) return 0;
  if (x <= xs.front()) return ys.front();
  if (x >= xs.back()) return ys.back();
  const auto upper = std::upper_bound(xs.begin(), xs.end(), x);
  const size_t hi = upper - xs.begin();
  const size_t lo = hi - 1;
  const double w = (x - xs[lo]) / (xs[hi] - xs[lo]);
  return ys[lo] + w * (ys[hi] - ys[lo]);
}

std::string FormatNumber(double value) {
  return FormatParamValue(ParamValue(value));
}

std::string FormatOneDecimal(double value) {
  char buffer[64];
  std::snprintf(buffer, sizeof(buffer), "%.1f", value);
  return buffer;
}

// Registration: `platform.model: aws_lambda`.
[[maybe_unused]] const bool kRegistered = RegisterPlatform(
    "aws_lambda", ParamSectionForLambda(), [](const Scenario& scenario) {
      return std::make_shared<const AwsLambda>(scenario);
    });

}  // namespace

LambdaSpec LambdaSpec::FromScenario(const Scenario& scenario) {
  const ParamValues& p = scenario.params;
  LambdaSpec l;
  l.era = p.String("lambda.era");
  l.min_memory_mb = static_cast<int>(p.Int("lambda.min_memory_mb"));
  l.max_memory_mb = static_cast<int>(p.Int("lambda.max_memory_mb"));
  l.memory_step_mb = static_cast<int>(p.Int("lambda.memory_step_mb"));
  l.timeout_s = p.Double("lambda.timeout_s");
  l.mb_per_vcpu = p.Double("lambda.mb_per_vcpu");
  l.max_vcpus = p.Double("lambda.max_vcpus");
  l.gflops_per_vcpu = p.Double("lambda.gflops_per_vcpu");
  l.compute_noise_sigma = p.Double("lambda.compute_noise_sigma");
  l.bandwidth_cap_mb_per_s = p.Double("lambda.bandwidth_cap_mb_per_s");
  l.bandwidth_saturation_mb = p.Double("lambda.bandwidth_saturation_mb");
  l.cold_memory_mb = p.DoubleList("lambda.cold_start.memory_mb");
  l.cold_mean_ms = p.DoubleList("lambda.cold_start.mean_ms");
  l.cold_sd_ms = p.DoubleList("lambda.cold_start.sd_ms");
  l.cold_ms_per_package_mb = p.Double("lambda.cold_start.ms_per_package_mb");
  l.warm_start_median_ms = p.Double("lambda.warm_start_median_ms");
  l.warm_start_sigma = p.Double("lambda.warm_start_sigma");
  l.keep_alive_s = p.Double("lambda.keep_alive_s");
  l.concurrency_limit = static_cast<int>(p.Int("lambda.concurrency_limit"));
  l.throttle_backoff_base_s = p.Double("lambda.throttle_backoff_base_s");
  l.throttle_backoff_cap_s = p.Double("lambda.throttle_backoff_cap_s");
  l.cold_after_timeout = p.Bool("lambda.cold_after_timeout");
  l.single_function = p.Bool("lambda.single_function");
  l.billing_granularity_s = p.Double("billing.granularity_s");
  l.architecture = p.String("lambda.architecture");
  l.init_billed = p.Bool("lambda.init_billed");
  l.init_share = p.Double("lambda.cold_start.init_share");
  l.scaling_burst = static_cast<int>(p.Int("lambda.scaling.burst"));
  l.scaling_refill_per_s = p.Double("lambda.scaling.refill_per_s");
  l.usd_per_gb_s = p.Double("billing.usd_per_gb_s");
  l.usd_per_request = p.Double("billing.usd_per_request");
  return l;
}

void ValidateLambda(const Scenario& s) {
  // Read once; an inconsistent grid is merely empty until refused below.
  const AwsLambda platform(s);
  const LambdaSpec& l = platform.spec();
  if (l.min_memory_mb > l.max_memory_mb) {
    FailParamValue("lambda.min_memory_mb", std::to_string(l.min_memory_mb),
                   "an integer <= lambda.max_memory_mb (" +
                       std::to_string(l.max_memory_mb) + ")");
  }
  if ((l.max_memory_mb - l.min_memory_mb) % l.memory_step_mb != 0) {
    FailParamValue(
        "lambda.memory_step_mb", std::to_string(l.memory_step_mb),
        "a divisor of lambda.max_memory_mb - lambda.min_memory_mb (" +
            std::to_string(l.max_memory_mb - l.min_memory_mb) + ")");
  }
  const size_t points = l.cold_memory_mb.size();
  for (const auto& [path, list] :
       {std::pair<std::string, const std::vector<double>*>{
            "lambda.cold_start.mean_ms", &l.cold_mean_ms},
        {"lambda.cold_start.sd_ms", &l.cold_sd_ms}}) {
    if (list->size() != points) {
      FailParamValue(path, std::to_string(list->size()) + " values",
                     std::to_string(points) +
                         " (the length of lambda.cold_start.memory_mb)");
    }
  }
  for (size_t i = 1; i < points; ++i) {
    if (!(l.cold_memory_mb[i] > l.cold_memory_mb[i - 1])) {
      FailParamValue("lambda.cold_start.memory_mb",
                     FormatParamValue(l.cold_memory_mb),
                     "strictly ascending memory sizes");
    }
  }
  if (l.architecture == "arm64" && l.era == "2018") {
    FailParamValue("lambda.architecture", l.architecture,
                   "x86_64 with lambda.era 2018 (arm64 functions exist since "
                   "September 2021)");
  }
  if (l.throttle_backoff_cap_s < l.throttle_backoff_base_s) {
    FailParamValue("lambda.throttle_backoff_cap_s",
                   FormatNumber(l.throttle_backoff_cap_s),
                   "a number >= lambda.throttle_backoff_base_s (" +
                       FormatNumber(l.throttle_backoff_base_s) + ")");
  }
  // The workload must fit in the largest memory size of the era.
  if (MinFeasibleMemoryMb(platform, s) == -1) {
    FailParamValue("workload.runtime_memory_mb",
                   FormatNumber(s.workload.runtime_memory_mb),
                   "a workload that fits in lambda.max_memory_mb (" +
                       std::to_string(l.max_memory_mb) + " MB, era " + l.era +
                       "), but it needs " + FormatOneDecimal(MemoryNeedMb(s)) +
                       " MB (runtime_memory_mb + memory_overhead_factor x "
                       "model_params x 4 B + batch_size x sample_bytes)");
  }
}

AwsLambda::AwsLambda(const Scenario& scenario)
    : spec_(LambdaSpec::FromScenario(scenario)),
      granularity_(
          std::max<SimTime>(1, SecondsToSimTime(spec_.billing_granularity_s))) {
  // An invalid grid (checked by ValidateLambda) stays empty here.
  if (spec_.memory_step_mb > 0) {
    for (int m = spec_.min_memory_mb; m <= spec_.max_memory_mb;
         m += spec_.memory_step_mb) {
      grid_.push_back(m);
    }
  }
}

bool AwsLambda::IsOnMemoryGrid(int memory_mb) const {
  if (memory_mb < spec_.min_memory_mb || memory_mb > spec_.max_memory_mb) {
    return false;
  }
  return (memory_mb - spec_.min_memory_mb) % spec_.memory_step_mb == 0;
}

std::string AwsLambda::DescribeMemoryGrid() const {
  std::ostringstream text;
  text << "a size in [" << spec_.min_memory_mb << ", " << spec_.max_memory_mb
       << "] MB in steps of " << spec_.memory_step_mb << " MB from "
       << spec_.min_memory_mb;
  return text.str();
}

double AwsLambda::Vcpus(int memory_mb) const {
  return std::min(spec_.max_vcpus, memory_mb / spec_.mb_per_vcpu);
}

double AwsLambda::ComputeSecondsPerBatch(const WorkloadSpec& workload,
                                         int memory_mb) const {
  return workload.flops_per_sample * workload.batch_size /
         (Vcpus(memory_mb) * spec_.gflops_per_vcpu * 1e9);
}

double AwsLambda::BandwidthMbPerS(int memory_mb) const {
  const double fraction =
      std::min(1.0, memory_mb / spec_.bandwidth_saturation_mb);
  return spec_.bandwidth_cap_mb_per_s * fraction;
}

double AwsLambda::SampleColdStartS(int memory_mb, double package_mb,
                                   Rng& rng) const {
  const double mean_ms =
      Interpolate(spec_.cold_memory_mb, spec_.cold_mean_ms, memory_mb);
  const double sd_ms =
      Interpolate(spec_.cold_memory_mb, spec_.cold_sd_ms, memory_mb);
  const double base_ms = rng.TruncatedNormalNonNegative(mean_ms, sd_ms);
  const double package_ms = spec_.cold_ms_per_package_mb * package_mb;
  return (base_ms + package_ms) * 1e-3;
}

double AwsLambda::SampleWarmStartS(Rng& rng) const {
  return rng.LogNormal(spec_.warm_start_median_ms, spec_.warm_start_sigma) *
         1e-3;
}

ConcurrencyRules AwsLambda::concurrency() const {
  return {spec_.concurrency_limit, spec_.throttle_backoff_base_s,
          spec_.throttle_backoff_cap_s};
}

SandboxRules AwsLambda::sandboxes() const {
  return {spec_.keep_alive_s, spec_.cold_after_timeout, spec_.single_function};
}

ScalingRules AwsLambda::scaling() const {
  return {spec_.scaling_burst, spec_.scaling_refill_per_s};
}

double AwsLambda::BilledInitS(double cold_start_s, double package_mb) const {
  if (!spec_.init_billed) return 0;
  // The package term is the handler module's imports (INIT); of the rest,
  // init_share is the runtime's start, the remainder placement (unbilled).
  const double package_s =
      std::min(cold_start_s, spec_.cold_ms_per_package_mb * package_mb * 1e-3);
  return package_s + spec_.init_share * (cold_start_s - package_s);
}

BillingRates AwsLambda::Rates(int memory_mb) const {
  return {memory_mb / 1024.0 * spec_.usd_per_gb_s, spec_.usd_per_request,
          SimTimeToSeconds(granularity_)};
}

InvocationBill AwsLambda::Bill(SimTime duration, int memory_mb) const {
  InvocationBill bill;
  bill.billed = BilledDuration(duration, granularity_);
  bill.gb_s = GbSeconds(bill.billed, memory_mb);
  bill.duration_usd = bill.gb_s * spec_.usd_per_gb_s;
  bill.request_usd = spec_.usd_per_request;
  return bill;
}

}  // namespace siren::sim::aws_lambda
