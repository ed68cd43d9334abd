// The `lambda.*` and Lambda `billing.*` parameters, with their sources.
#include "sim/platform/aws_lambda/aws_lambda.h"
#include "sim/scenario/param_builders.h"

namespace siren::sim::aws_lambda {
namespace {

using namespace params;  // NOLINT: the builders read as a table.

// `spec` with one default per generation, taken by `value` from its row.
template <typename Value>
ParamSpec ByEra(ParamSpec spec, Value value) {
  std::vector<std::pair<std::string, ParamValue>> defaults;
  for (const Generation& g : Generations()) {
    defaults.emplace_back(g.name, value(g));
  }
  return Variants(std::move(spec), "lambda.era", std::move(defaults));
}

}  // namespace

ParamSection ParamSectionForLambda() {
  const std::string kEraSource = kGenerationSource;
  const std::string kPricing =
      "Lambda duration/request price rows; S3 request prices (AWS pricing)";
  std::vector<ParamSpec> p;
  // The generation selects the era-dependent defaults below.
  std::vector<std::string> eras;
  for (const Generation& g : Generations()) eras.push_back(g.name);
  p.push_back(StoredEnum(
      "lambda.era", eras, Generations().back().name,
      "Lambda generation; sets the defaults of the memory grid, timeout, "
      "billing granularity, INIT billing and scaling-rate limit.",
      kEraSource));
  p.push_back(StoredEnum(
      "lambda.architecture", {"x86_64", "arm64"}, "x86_64",
      "Instruction set of the function; sets the default duration price "
      "(arm64 from the 2020+ era on). Compute speed is lambda.gflops_per_vcpu "
      "either way.",
      "arm64 price row (AWS Lambda pricing)"));
  p.push_back(ByEra(
      StoredInt<int>("lambda.min_memory_mb", kRequired,
                     Between(1, 1048576, "[I] 1 TB, 100x Lambda's 10,240 MB"),
                     "Smallest memory size, MB.", kEraSource),
      [](const Generation& g) {
        return ParamValue(int64_t{g.min_memory_mb});
      }));
  p.push_back(ByEra(
      StoredInt<int>("lambda.max_memory_mb", kRequired,
                     Between(1, 1048576, "[I] 1 TB, 100x Lambda's 10,240 MB"),
                     "Largest memory size, MB.", kEraSource),
      [](const Generation& g) {
        return ParamValue(int64_t{g.max_memory_mb});
      }));
  p.push_back(
      ByEra(StoredInt<int>(
                "lambda.memory_step_mb", kRequired,
                Between(1, 1048576, "[I] as the memory sizes"),
                "Memory grid step from the minimum, MB; must divide max - min.",
                kEraSource),
            [](const Generation& g) {
              return ParamValue(int64_t{g.memory_step_mb});
            }));
  p.push_back(ByEra(
      StoredDouble("lambda.timeout_s", kRequired,
                   PositiveUpTo(86400, "[I] a day; Lambda's limit is 900 s"),
                   "Longest invocation; longer work is cut and re-invoked.",
                   kEraSource),
      [](const Generation& g) { return ParamValue(g.timeout_s); }));
  p.push_back(StoredDouble("lambda.mb_per_vcpu", 1769,
                           PositiveUpTo(1048576, "[I] as the memory sizes"),
                           "Memory that buys one vCPU, MB.",
                           "CPU vs memory row (Lambda developer guide)"));
  p.push_back(
      StoredDouble("lambda.max_vcpus", 6,
                   PositiveUpTo(1024, "[I] 1024 vCPUs; Lambda gives at most 6"),
                   "Cap on a function's vCPU share.",
                   "CPU vs memory row (Lambda developer guide)"));
  p.push_back(StoredDouble(
      "lambda.gflops_per_vcpu", 8, PositiveUpTo(1e6, "[I] 1 PFLOP/s per vCPU"),
      "Effective training throughput per vCPU, GFLOP/s.",
      "[I] effective numpy/MXNet training throughput per vCPU"));
  p.push_back(StoredDouble(
      "lambda.compute_noise_sigma", 0.05,
      Between(0, 3, "[I] a log-normal sigma of 3 is a 20x spread at one sigma"),
      "Log-normal sigma on compute time.", "[I]"));
  p.push_back(StoredDouble(
      "lambda.bandwidth_cap_mb_per_s", 67, PositiveUpTo(1e6, "[I] 1 TB/s"),
      "Network bandwidth cap of one function, MB/s.",
      "Per-function network row: 538 Mbps alone (CIDR'19)"));
  p.push_back(StoredDouble(
      "lambda.bandwidth_saturation_mb", 1072,
      PositiveUpTo(1048576, "[I] as the memory sizes"),
      "Memory at which bandwidth (linear in memory) reaches the cap, MB.",
      "[I] 40 MB/s at 640 MB (S3 batch fetch row, CIDR'19), linear to the "
      "cap"));
  const std::string kColdSource =
      "Cold start (2018, by memory) row: ATC'18 via OpenDC";
  p.push_back(StoredDoubleList(
      "lambda.cold_start.memory_mb", {128, 512, 1024, 1536, 2048},
      PositiveUpTo(1048576, "[I] as the memory sizes"),
      "Memory points of the cold-start table, MB, strictly ascending.",
      kColdSource));
  p.push_back(StoredDoubleList(
      "lambda.cold_start.mean_ms", {265, 258, 254, 250, 246},
      Between(0, 3.6e6, "[I] an hour"),
      "Cold-start mean at each memory point, ms.", kColdSource));
  p.push_back(StoredDoubleList(
      "lambda.cold_start.sd_ms", {354, 314, 294, 274, 253},
      Between(0, 3.6e6, "[I] an hour"),
      "Cold-start standard deviation at each memory point, ms.", kColdSource));
  p.push_back(StoredDouble(
      "lambda.cold_start.ms_per_package_mb", 25,
      Between(0, 10000, "[I] 10 s per MB"),
      "Extra cold-start latency per MB of deployment package, ms.",
      "[I] Cold start by package row: heavy deps 5-10x slower (mikhail.io "
      "2019)"));
  p.push_back(StoredDouble(
      "lambda.cold_start.init_share", 0.5, Between(0, 1, "a fraction"),
      "Share of the cold start (beyond the package term, which is all INIT) "
      "that is the INIT phase, billed where lambda.init_billed; the rest is "
      "placement, never billed.",
      "[I] a minimal Python function reports an Init Duration of about half "
      "its client-observed cold start (ATC'18 rows: ~250 ms)"));
  p.push_back(ByEra(
      StoredBool("lambda.init_billed", false,
                 "The INIT phase of a cold start is billed like the handler's "
                 "run (on-demand ZIP functions on managed runtimes since 1 "
                 "August 2025).",
                 kEraSource),
      [](const Generation& g) { return ParamValue(g.init_billed); }));
  p.push_back(StoredDouble(
      "lambda.warm_start_median_ms", 25, Between(0, 60000, "[I] a minute"),
      "Median warm-start overhead, ms.", "Warm start overhead row (ATC'18)"));
  p.push_back(StoredDouble(
      "lambda.warm_start_sigma", 0.3,
      Between(0, 3, "[I] a log-normal sigma of 3 is a 20x spread at one sigma"),
      "Log-normal sigma of the warm-start overhead.", "[I]"));
  p.push_back(StoredDouble(
      "lambda.keep_alive_s", 600,
      PositiveUpTo(604800,
                   "[I] a week; Lambda keeps idle instances minutes to hours"),
      "Idle instances expire after this, s.",
      "Idle keep-alive row: about 10 min (mikhail.io 2019)"));
  p.push_back(StoredInt<int>(
      "lambda.concurrency_limit", 1000,
      Between(1, 1e6, "[I] 1000x the default account limit of 1,000"),
      "Account-wide concurrent executions; more are throttled (429).",
      "Concurrency row (Lambda docs)"));
  p.push_back(ByEra(
      StoredInt<int>(
          "lambda.scaling.burst", kRequired,
          Between(0, 1e6, "[I] as the concurrency limit; 0: no limit"),
          "Scaling-rate limit: new execution environments available at once "
          "(a token bucket; 0 disables the limit).",
          kEraSource),
      [](const Generation& g) {
        return ParamValue(int64_t{g.scaling_burst});
      }));
  p.push_back(ByEra(
      StoredDouble(
          "lambda.scaling.refill_per_s", kRequired,
          Between(0, 1e6, "[I] a million environments per second"),
          "Scaling-rate limit: tokens (new environments) refilled per second, "
          "up to the burst.",
          kEraSource),
      [](const Generation& g) { return ParamValue(g.scaling_refill_per_s); }));
  p.push_back(StoredDouble("lambda.throttle_backoff_base_s", 0.1,
                           PositiveUpTo(3600, "[I] an hour"),
                           "First retry delay after a throttle, s.", "[I]"));
  p.push_back(StoredDouble(
      "lambda.throttle_backoff_cap_s", 5, PositiveUpTo(3600, "[I] an hour"),
      "Longest retry delay after throttles, s; >= the base.", "[I]"));
  p.push_back(StoredBool(
      "lambda.cold_after_timeout", true,
      "A timed-out sandbox is recycled: its re-invocation starts cold.",
      "[I]"));
  p.push_back(StoredBool(
      "lambda.single_function", false,
      "One function reconfigured per memory change (its warm instances "
      "retire, as on a Lambda configuration update), instead of one deployed "
      "function per memory size.",
      "[I] false: SIREN's per-size warm pools; true: siren run --backend aws"));

  // Billing of invocations (S3 request prices are a core section).
  p.push_back(ByEra(
      StoredDouble(
          "billing.granularity_s", kRequired, PositiveUpTo(3600, "[I] an hour"),
          "Invocation duration is rounded up to a multiple of this, s.",
          kEraSource),
      [](const Generation& g) { return ParamValue(g.billing_granularity_s); }));
  p.push_back(
      Variants(StoredDouble("billing.usd_per_gb_s", kRequired,
                            Between(0, 1, "[I] 60,000 times the list price"),
                            "Lambda duration price, USD per GB-second (by "
                            "lambda.architecture).",
                            kPricing),
               "lambda.architecture",
               {{"arm64", ParamValue(0.0000133334)},
                {"x86_64", ParamValue(0.0000166667)}}));
  p.push_back(StoredDouble("billing.usd_per_request", 2e-7,
                           Between(0, 1, "[I] 5 million times the list price"),
                           "Lambda request price, USD per invocation.",
                           kPricing));

  ParamSection section;
  section.order = 100;
  section.params = std::move(p);
  section.validate = &ValidateLambda;
  return section;
}

}  // namespace siren::sim::aws_lambda
