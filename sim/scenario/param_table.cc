#include "sim/scenario/param_table.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <optional>
#include <sstream>
#include <type_traits>

namespace siren::sim {
namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();
constexpr std::nullopt_t kRequired = std::nullopt;

ParamRange Positive() { return {0, kInf, true, false}; }
ParamRange NonNegative() { return {0, kInf, false, false}; }
ParamRange AtLeast(double min) { return {min, kInf, false, false}; }
ParamRange Closed(double min, double max) { return {min, max, false, false}; }
ParamRange PositiveAtMost(double max) { return {0, max, true, false}; }

// Shortest decimal text that parses back to exactly `value`.
std::string FormatDouble(double value) {
  if (std::isnan(value)) return ".nan";
  if (std::isinf(value)) return value > 0 ? ".inf" : "-.inf";
  char buffer[64];
  // Whole numbers in plain digits (100000, not 1e+05); both forms are exact.
  const bool whole = value == std::floor(value) && std::fabs(value) < 1e16;
  auto result = whole ? std::to_chars(buffer, buffer + sizeof(buffer), value,
                                      std::chars_format::fixed)
                      : std::to_chars(buffer, buffer + sizeof(buffer), value);
  return std::string(buffer, result.ptr);
}

// Builders: `ref` is a generic lambda returning a reference to the field,
// used for both reading (const Scenario&) and writing (Scenario&).
template <typename Ref>
ParamSpec Int(std::string path, std::optional<int64_t> def, ParamRange range,
              std::string doc, std::string source, Ref ref) {
  using Field =
      std::remove_reference_t<decltype(ref(std::declval<Scenario&>()))>;
  static_assert(std::is_integral_v<Field>);
  ParamSpec spec;
  spec.path = std::move(path);
  spec.type = ParamType::kInt;
  if (def) spec.default_value = *def;
  spec.range = range;
  spec.int_limit = std::numeric_limits<Field>::max();
  spec.doc = std::move(doc);
  spec.source = std::move(source);
  spec.get = [ref](const Scenario& s) {
    return ParamValue(static_cast<int64_t>(ref(s)));
  };
  spec.set = [ref](Scenario& s, const ParamValue& v) {
    ref(s) = static_cast<Field>(std::get<int64_t>(v));
  };
  return spec;
}

template <typename Ref>
ParamSpec Double(std::string path, std::optional<double> def, ParamRange range,
                 std::string doc, std::string source, Ref ref) {
  ParamSpec spec;
  spec.path = std::move(path);
  spec.type = ParamType::kDouble;
  if (def) spec.default_value = *def;
  spec.range = range;
  spec.doc = std::move(doc);
  spec.source = std::move(source);
  spec.get = [ref](const Scenario& s) { return ParamValue(ref(s)); };
  spec.set = [ref](Scenario& s, const ParamValue& v) {
    ref(s) = std::get<double>(v);
  };
  return spec;
}

template <typename Ref>
ParamSpec Bool(std::string path, bool def, std::string doc, std::string source,
               Ref ref) {
  ParamSpec spec;
  spec.path = std::move(path);
  spec.type = ParamType::kBool;
  spec.default_value = def;
  spec.doc = std::move(doc);
  spec.source = std::move(source);
  spec.get = [ref](const Scenario& s) { return ParamValue(ref(s)); };
  spec.set = [ref](Scenario& s, const ParamValue& v) {
    ref(s) = std::get<bool>(v);
  };
  return spec;
}

template <typename Ref>
ParamSpec String(std::string path, std::optional<std::string> def,
                 std::string doc, std::string source, Ref ref) {
  ParamSpec spec;
  spec.path = std::move(path);
  spec.type = ParamType::kString;
  if (def) spec.default_value = *def;
  spec.doc = std::move(doc);
  spec.source = std::move(source);
  spec.get = [ref](const Scenario& s) { return ParamValue(ref(s)); };
  spec.set = [ref](Scenario& s, const ParamValue& v) {
    ref(s) = std::get<std::string>(v);
  };
  return spec;
}

template <typename Ref>
ParamSpec DoubleList(std::string path, std::vector<double> def,
                     ParamRange range, std::string doc, std::string source,
                     Ref ref) {
  ParamSpec spec;
  spec.path = std::move(path);
  spec.type = ParamType::kDoubleList;
  spec.default_value = std::move(def);
  spec.range = range;
  spec.doc = std::move(doc);
  spec.source = std::move(source);
  spec.get = [ref](const Scenario& s) { return ParamValue(ref(s)); };
  spec.set = [ref](Scenario& s, const ParamValue& v) {
    ref(s) = std::get<std::vector<double>>(v);
  };
  return spec;
}

// An enum field (a C++ enum class, or a std::string restricted to `names`).
// Reading an enum value outside `names` yields "<invalid N>", which then
// fails validation.
template <typename E, typename Ref>
ParamSpec Enum(std::string path, std::vector<std::pair<std::string, E>> names,
               std::string def, std::string doc, std::string source, Ref ref) {
  ParamSpec spec;
  spec.path = std::move(path);
  spec.type = ParamType::kEnum;
  spec.default_value = std::move(def);
  for (const auto& [name, value] : names) spec.enum_names.push_back(name);
  spec.doc = std::move(doc);
  spec.source = std::move(source);
  spec.get = [ref, names](const Scenario& s) {
    if constexpr (std::is_same_v<E, std::string>) {
      return ParamValue(ref(s));
    } else {
      for (const auto& [name, value] : names) {
        if (value == ref(s)) return ParamValue(name);
      }
      return ParamValue("<invalid " + std::to_string(static_cast<int>(ref(s))) +
                        ">");
    }
  };
  spec.set = [ref, names](Scenario& s, const ParamValue& v) {
    const auto& wanted = std::get<std::string>(v);
    for (const auto& [name, value] : names) {
      if (name == wanted) ref(s) = value;
    }
  };
  return spec;
}

// Marks `spec` as era-dependent: its default comes from `lambda.era`.
ParamSpec EraDependent(ParamSpec spec, ParamValue value_2018,
                       ParamValue value_2020) {
  spec.default_value = value_2020;
  spec.era_defaults = {{"2018", std::move(value_2018)},
                       {"2020+", std::move(value_2020)}};
  return spec;
}

std::vector<ParamSpec> BuildTable() {
  const std::string kEraSource =
      "Memory range / Timeout / Billing granularity rows (Lambda developer "
      "guide history; AWS What's New 1 Dec 2020)";
  const std::string kPricing =
      "Lambda duration/request price rows; S3 request prices (AWS pricing)";
  std::vector<ParamSpec> t;

  // Top level.
  t.push_back(String(
      "name", std::string(),
      "Scenario name; defaults to the preset name or the file stem.",
      "[I] convention", [](auto& s) -> auto& { return s.name; }));

  // Workload: always given by the preset or file.
  t.push_back(String(
      "workload.name", kRequired, "Human-readable workload name.", "preset",
      [](auto& s) -> auto& { return s.workload.name; }));
  t.push_back(Int(
      "workload.dataset_samples", kRequired, Positive(),
      "Training samples per epoch (N).", "preset",
      [](auto& s) -> auto& { return s.workload.dataset_samples; }));
  t.push_back(Double(
      "workload.sample_bytes", kRequired, Positive(),
      "Stored bytes per sample.", "preset",
      [](auto& s) -> auto& { return s.workload.sample_bytes; }));
  t.push_back(Int(
      "workload.samples_per_object", kRequired, Positive(),
      "Samples per S3 object.", "preset",
      [](auto& s) -> auto& { return s.workload.samples_per_object; }));
  t.push_back(Int(
      "workload.batch_size", kRequired, Positive(),
      "Mini-batch size b, at most workload.dataset_samples.", "preset",
      [](auto& s) -> auto& { return s.workload.batch_size; }));
  t.push_back(Int(
      "workload.model_params", kRequired, Positive(),
      "Model parameter count (float32 on the wire).", "preset",
      [](auto& s) -> auto& { return s.workload.model_params; }));
  t.push_back(Double(
      "workload.flops_per_sample", kRequired, Positive(),
      "Forward + backward FLOPs per sample.", "preset",
      [](auto& s) -> auto& { return s.workload.flops_per_sample; }));
  t.push_back(Double(
      "workload.runtime_memory_mb", kRequired, Positive(),
      "Interpreter, libraries and buffers resident in a function, MB.",
      "preset", [](auto& s) -> auto& { return s.workload.runtime_memory_mb; }));
  t.push_back(Double(
      "workload.package_mb", kRequired, NonNegative(),
      "Deployment package size, MB (adds to cold starts).", "preset",
      [](auto& s) -> auto& { return s.workload.package_mb; }));
  t.push_back(Double(
      "workload.target_loss", kRequired, Positive(),
      "Training stops when the loss is <= this; must lie strictly between "
      "convergence.b2 and the initial loss 1/b1 + b2.",
      "preset", [](auto& s) -> auto& { return s.workload.target_loss; }));

  // Lambda platform.
  t.push_back(Enum<Era>(
      "lambda.era", {{"2018", Era::k2018}, {"2020+", Era::k2020Plus}}, "2020+",
      "Lambda generation; sets the defaults of the memory grid, timeout and "
      "billing granularity.",
      kEraSource, [](auto& s) -> auto& { return s.lambda.era; }));
  t.push_back(
      EraDependent(Int(
                       "lambda.min_memory_mb", kRequired, Positive(),
                       "Smallest memory size, MB.", kEraSource,
                       [](auto& s) -> auto& { return s.lambda.min_memory_mb; }),
                   int64_t{128}, int64_t{128}));
  t.push_back(
      EraDependent(Int(
                       "lambda.max_memory_mb", kRequired, Positive(),
                       "Largest memory size, MB.", kEraSource,
                       [](auto& s) -> auto& { return s.lambda.max_memory_mb; }),
                   int64_t{3008}, int64_t{10240}));
  t.push_back(EraDependent(
      Int(
          "lambda.memory_step_mb", kRequired, Positive(),
          "Memory grid step from the minimum, MB; must divide max - min.",
          kEraSource, [](auto& s) -> auto& { return s.lambda.memory_step_mb; }),
      int64_t{64}, int64_t{1}));
  t.push_back(EraDependent(
      Double(
          "lambda.timeout_s", kRequired, Positive(),
          "Longest invocation; longer work is cut and re-invoked.", kEraSource,
          [](auto& s) -> auto& { return s.lambda.timeout_s; }),
      300.0, 900.0));
  t.push_back(Double(
      "lambda.mb_per_vcpu", 1769, Positive(), "Memory that buys one vCPU, MB.",
      "CPU vs memory row (Lambda developer guide)",
      [](auto& s) -> auto& { return s.lambda.mb_per_vcpu; }));
  t.push_back(Double(
      "lambda.max_vcpus", 6, Positive(), "Cap on a function's vCPU share.",
      "CPU vs memory row (Lambda developer guide)",
      [](auto& s) -> auto& { return s.lambda.max_vcpus; }));
  t.push_back(Double(
      "lambda.gflops_per_vcpu", 8, Positive(),
      "Effective training throughput per vCPU, GFLOP/s.",
      "[I] effective numpy/MXNet training throughput per vCPU",
      [](auto& s) -> auto& { return s.lambda.gflops_per_vcpu; }));
  t.push_back(Double(
      "lambda.compute_noise_sigma", 0.05, NonNegative(),
      "Log-normal sigma on compute time.", "[I]",
      [](auto& s) -> auto& { return s.lambda.compute_noise_sigma; }));
  t.push_back(Double(
      "lambda.bandwidth_cap_mb_per_s", 67, Positive(),
      "Network bandwidth cap of one function, MB/s.",
      "Per-function network row: 538 Mbps alone (CIDR'19)",
      [](auto& s) -> auto& { return s.lambda.bandwidth_cap_mb_per_s; }));
  t.push_back(Double(
      "lambda.bandwidth_saturation_mb", 1072, Positive(),
      "Memory at which bandwidth (linear in memory) reaches the cap, MB.",
      "[I] 40 MB/s at 640 MB (S3 batch fetch row, CIDR'19), linear to the cap",
      [](auto& s) -> auto& { return s.lambda.bandwidth_saturation_mb; }));
  const std::string kColdSource =
      "Cold start (2018, by memory) row: ATC'18 via OpenDC";
  t.push_back(DoubleList(
      "lambda.cold_start.memory_mb", {128, 512, 1024, 1536, 2048}, Positive(),
      "Memory points of the cold-start table, MB, strictly ascending.",
      kColdSource,
      [](auto& s) -> auto& { return s.lambda.cold_start.memory_mb; }));
  t.push_back(DoubleList(
      "lambda.cold_start.mean_ms", {265, 258, 254, 250, 246}, NonNegative(),
      "Cold-start mean at each memory point, ms.", kColdSource,
      [](auto& s) -> auto& { return s.lambda.cold_start.mean_ms; }));
  t.push_back(DoubleList(
      "lambda.cold_start.sd_ms", {354, 314, 294, 274, 253}, NonNegative(),
      "Cold-start standard deviation at each memory point, ms.", kColdSource,
      [](auto& s) -> auto& { return s.lambda.cold_start.sd_ms; }));
  t.push_back(Double(
      "lambda.cold_start.ms_per_package_mb", 25, NonNegative(),
      "Extra cold-start latency per MB of deployment package, ms.",
      "[I] Cold start by package row: heavy deps 5-10x slower (mikhail.io "
      "2019)",
      [](auto& s) -> auto& { return s.lambda.cold_start.ms_per_package_mb; }));
  t.push_back(Double(
      "lambda.warm_start_median_ms", 25, NonNegative(),
      "Median warm-start overhead, ms.", "Warm start overhead row (ATC'18)",
      [](auto& s) -> auto& { return s.lambda.warm_start_median_ms; }));
  t.push_back(Double(
      "lambda.warm_start_sigma", 0.3, NonNegative(),
      "Log-normal sigma of the warm-start overhead.", "[I]",
      [](auto& s) -> auto& { return s.lambda.warm_start_sigma; }));
  t.push_back(Double(
      "lambda.keep_alive_s", 600, Positive(),
      "Idle instances expire after this, s.",
      "Idle keep-alive row: about 10 min (mikhail.io 2019)",
      [](auto& s) -> auto& { return s.lambda.keep_alive_s; }));
  t.push_back(Int(
      "lambda.concurrency_limit", 1000, Positive(),
      "Account-wide concurrent executions; more are throttled (429).",
      "Concurrency row (Lambda docs)",
      [](auto& s) -> auto& { return s.lambda.concurrency_limit; }));
  t.push_back(Double(
      "lambda.throttle_backoff_base_s", 0.1, Positive(),
      "First retry delay after a throttle, s.", "[I]",
      [](auto& s) -> auto& { return s.lambda.throttle_backoff_base_s; }));
  t.push_back(Double(
      "lambda.throttle_backoff_cap_s", 5, Positive(),
      "Longest retry delay after throttles, s; >= the base.", "[I]",
      [](auto& s) -> auto& { return s.lambda.throttle_backoff_cap_s; }));
  t.push_back(Bool(
      "lambda.cold_after_timeout", true,
      "A timed-out sandbox is recycled: its re-invocation starts cold.", "[I]",
      [](auto& s) -> auto& { return s.lambda.cold_after_timeout; }));
  t.push_back(Bool(
      "lambda.single_function", false,
      "One function reconfigured per memory change (its warm instances "
      "retire, as on a Lambda configuration update), instead of one deployed "
      "function per memory size.",
      "[I] false: SIREN's per-size warm pools; true: siren run --backend aws",
      [](auto& s) -> auto& { return s.lambda.single_function; }));

  // S3.
  const std::string kS3Latency =
      "[I] S3 small-object latency row: 1 KB write+read ~107 ms (CIDR'19)";
  t.push_back(Double(
      "s3.get_latency_median_ms", 45, Positive(),
      "Median GET first-byte latency, ms (log-normal).", kS3Latency,
      [](auto& s) -> auto& { return s.s3.get_latency_median_ms; }));
  t.push_back(Double(
      "s3.put_latency_median_ms", 62, Positive(),
      "Median PUT first-byte latency, ms (log-normal).", kS3Latency,
      [](auto& s) -> auto& { return s.s3.put_latency_median_ms; }));
  t.push_back(Double(
      "s3.latency_sigma", 0.35, NonNegative(),
      "Log-normal sigma of GET and PUT latency.", "[I]",
      [](auto& s) -> auto& { return s.s3.latency_sigma; }));
  t.push_back(Double(
      "s3.connection_cap_mb_per_s", 90, Positive(),
      "Transfer cap of one S3 connection, MB/s.",
      "[I] S3 aggregate row (PyWren) and CIDR'19",
      [](auto& s) -> auto& { return s.s3.connection_cap_mb_per_s; }));
  t.push_back(Bool(
      "s3.rate_limit", false,
      "Model per-prefix request-rate limits (503 SlowDown).",
      "S3 request limits row (S3 performance guide)",
      [](auto& s) -> auto& { return s.s3.rate_limit; }));
  t.push_back(Double(
      "s3.get_rate_per_prefix", 5500, Positive(),
      "GET requests per second per prefix before 503s.",
      "S3 request limits row (S3 performance guide)",
      [](auto& s) -> auto& { return s.s3.get_rate_per_prefix; }));
  t.push_back(Double(
      "s3.put_rate_per_prefix", 3500, Positive(),
      "PUT requests per second per prefix before 503s.",
      "S3 request limits row (S3 performance guide)",
      [](auto& s) -> auto& { return s.s3.put_rate_per_prefix; }));
  t.push_back(Int(
      "s3.prefixes", 1, AtLeast(1), "Key prefixes the requests spread over.",
      "[I]", [](auto& s) -> auto& { return s.s3.prefixes; }));
  t.push_back(Double(
      "s3.slowdown_backoff_s", 0.1, Positive(),
      "Retry delay after a 503 SlowDown, s.", "[I]",
      [](auto& s) -> auto& { return s.s3.slowdown_backoff_s; }));
  t.push_back(Int(
      "s3.server_slots", 0, AtLeast(0),
      "Requests served at once by a finite-capacity endpoint; 0 = unlimited "
      "(AWS S3). `siren calibrate` sets 1 for the local stand-in's server.",
      "[I] S3 scales out; moto's server process serves one request at a time",
      [](auto& s) -> auto& { return s.s3.server_slots; }));
  t.push_back(Double(
      "s3.server_service_ms", 0, NonNegative(),
      "Service time of one request at a finite-capacity endpoint, ms; "
      "requests wait FIFO for a free slot.",
      "[I] fitted by `siren calibrate`",
      [](auto& s) -> auto& { return s.s3.server_service_ms; }));

  // Billing.
  t.push_back(EraDependent(
      Double(
          "billing.granularity_s", kRequired, Positive(),
          "Invocation duration is rounded up to a multiple of this, s.",
          kEraSource, [](auto& s) -> auto& { return s.billing.granularity_s; }),
      0.1, 0.001));
  t.push_back(Double(
      "billing.usd_per_gb_s", 0.0000166667, NonNegative(),
      "Lambda duration price, USD per GB-second (x86).", kPricing,
      [](auto& s) -> auto& { return s.billing.usd_per_gb_s; }));
  t.push_back(Double(
      "billing.usd_per_request", 2e-7, NonNegative(),
      "Lambda request price, USD per invocation.", kPricing,
      [](auto& s) -> auto& { return s.billing.usd_per_request; }));
  t.push_back(Double(
      "billing.s3_usd_per_get", 4e-7, NonNegative(),
      "S3 GET price, USD per request.", kPricing,
      [](auto& s) -> auto& { return s.billing.s3_usd_per_get; }));
  t.push_back(Double(
      "billing.s3_usd_per_put", 5e-6, NonNegative(),
      "S3 PUT price, USD per request.", kPricing,
      [](auto& s) -> auto& { return s.billing.s3_usd_per_put; }));

  // Convergence (analytic, Optimus form).
  const std::string kOptimus =
      "Loss curve row (Optimus, EuroSys'18); [I] default fitted to LeNet";
  t.push_back(Enum<ConvergenceModel>(
      "convergence.model",
      {{"analytic", ConvergenceModel::kAnalytic},
       {"sgd", ConvergenceModel::kSgd}},
      "analytic",
      "analytic: Optimus-form loss over effective progress; sgd: real SGD "
      "on a dataset, updates in simulated-event order.",
      "DESIGN.md 2.6", [](auto& s) -> auto& { return s.convergence.model; }));
  t.push_back(Double(
      "convergence.b0", 0.01, Positive(),
      "Optimus b0: progress rate in loss = 1/(b0 k + b1) + b2.", kOptimus,
      [](auto& s) -> auto& { return s.convergence.b0; }));
  t.push_back(Double(
      "convergence.b1", 0.4386, Positive(),
      "Optimus b1: the initial loss is 1/b1 + b2.", kOptimus,
      [](auto& s) -> auto& { return s.convergence.b1; }));
  t.push_back(Double(
      "convergence.b2", 0.02, Positive(),
      "Optimus b2: the loss floor (> 0: closeness is measured on a log scale).",
      kOptimus, [](auto& s) -> auto& { return s.convergence.b2; }));
  t.push_back(Double(
      "convergence.reference_batch", 64, Positive(),
      "Batch size at which one update adds one unit of progress.", "[I]",
      [](auto& s) -> auto& { return s.convergence.reference_batch; }));
  t.push_back(Double(
      "convergence.batch_exponent", 0.5, Closed(0, 1),
      "Progress grows as (batch / reference_batch)^this.",
      "[I] Batch size row (McCandlish et al. 2018)",
      [](auto& s) -> auto& { return s.convergence.batch_exponent; }));
  t.push_back(Double(
      "convergence.local_step_exponent", 0.7, Closed(0, 1),
      "Progress grows as local_steps^this per push.", "[I]",
      [](auto& s) -> auto& { return s.convergence.local_step_exponent; }));
  t.push_back(Double(
      "convergence.staleness_penalty", 0.05, NonNegative(),
      "Progress divided by 1 + this * staleness * (1 + gain * closeness).",
      "[I] Staleness row (Dai et al. ICLR'19)",
      [](auto& s) -> auto& { return s.convergence.staleness_penalty; }));
  t.push_back(Double(
      "convergence.staleness_gain", 2.0, NonNegative(),
      "How much more staleness hurts near convergence.", "[I]",
      [](auto& s) -> auto& { return s.convergence.staleness_gain; }));
  t.push_back(Double(
      "convergence.loss_noise_sigma", 0.01, NonNegative(),
      "Log-normal sigma on the observed loss.", "[I]",
      [](auto& s) -> auto& { return s.convergence.loss_noise_sigma; }));

  // The sgd ground-truth model.
  t.push_back(String(
      "convergence.sgd.dataset", std::string("click_through"),
      "\"click_through\" (the seeded generator) or an HDF5 dataset path "
      "(`siren data`).",
      "DESIGN.md 2.6",
      [](auto& s) -> auto& { return s.convergence.sgd.dataset; }));
  t.push_back(Int(
      "convergence.sgd.features", 4096, AtLeast(1),
      "Columns of the generated click-through data (hashed features).",
      "[I] small enough for per-function parameter copies",
      [](auto& s) -> auto& { return s.convergence.sgd.features; }));
  t.push_back(Int(
      "convergence.sgd.fields", 39, AtLeast(1),
      "Active one-hot fields per generated row.",
      "[I] 13 numeric + 26 categorical fields of public click logs",
      [](auto& s) -> auto& { return s.convergence.sgd.fields; }));
  t.push_back(Int(
      "convergence.sgd.data_seed", 1, NonNegative(),
      "Seed of the generated data (fixed across simulation seeds).", "[I]",
      [](auto& s) -> auto& { return s.convergence.sgd.data_seed; }));
  t.push_back(Int(
      "convergence.sgd.eval_samples", 10000, AtLeast(1),
      "Held-out rows (the last rows of the data) for the loss.", "[I]",
      [](auto& s) -> auto& { return s.convergence.sgd.eval_samples; }));
  t.push_back(Double(
      "convergence.sgd.learning_rate", 0.1, Positive(),
      "SGD step size on the mean batch gradient.",
      "[I] stable on the generated click-through data up to ~60 functions",
      [](auto& s) -> auto& { return s.convergence.sgd.learning_rate; }));

  // Execution model.
  t.push_back(Enum<ExecutionMode>(
      "execution.mode",
      {{"hsp", ExecutionMode::kHsp}, {"bsp", ExecutionMode::kBsp}}, "hsp",
      "hsp: async updates inside an epoch, barrier at its end; bsp: barrier "
      "after every round.",
      "DESIGN.md 2.2", [](auto& s) -> auto& { return s.execution.mode; }));
  t.push_back(Enum<PushProtocol>(
      "execution.push_protocol",
      {{"apply", PushProtocol::kApply}, {"cas", PushProtocol::kCas}}, "apply",
      "hsp pushes: apply = the store applies each update on arrival (one "
      "PUT); cas = compare-and-swap on one S3 object, a push refused because "
      "the parameters changed re-reads them (GET) and retries (the runner's "
      "protocol).",
      "[I] apply: a parameter store as in the SIREN talk; cas: siren.runner",
      [](auto& s) -> auto& { return s.execution.push_protocol; }));
  t.push_back(Int(
      "execution.sync_every", 1, AtLeast(1),
      "Local steps between parameter pushes; 1 under bsp.", "DESIGN.md 2.2",
      [](auto& s) -> auto& { return s.execution.sync_every; }));
  t.push_back(Double(
      "execution.memory_overhead_factor", 3, AtLeast(1),
      "Model copies held in a function's memory.",
      "[I] params + gradient + update buffer",
      [](auto& s) -> auto& { return s.execution.memory_overhead_factor; }));

  // Job limits.
  t.push_back(Double(
      "job.budget_usd", 10, Positive(),
      "The job stops once its cumulative cost reaches this.",
      "[I] presets set their own",
      [](auto& s) -> auto& { return s.job.budget_usd; }));
  t.push_back(Int(
      "job.max_epochs", 100, PositiveAtMost(100000),
      "The job stops after this many epochs.", "[I]",
      [](auto& s) -> auto& { return s.job.max_epochs; }));

  // EC2 baseline.
  t.push_back(Enum<std::string>(
      "ec2.instance_type",
      {{"m4.large", "m4.large"},
       {"m4.xlarge", "m4.xlarge"},
       {"m4.2xlarge", "m4.2xlarge"},
       {"m4.4xlarge", "m4.4xlarge"}},
      "m4.xlarge", "Instance type of the EC2 baseline cluster.",
      "EC2 m4 row (public price tables)",
      [](auto& s) -> auto& { return s.ec2.instance_type; }));
  t.push_back(Int(
      "ec2.instances", 4, Closed(1, 1000),
      "Instances in the EC2 baseline cluster (k).", "[I]",
      [](auto& s) -> auto& { return s.ec2.instances; }));
  t.push_back(Enum<Ec2Billing>(
      "ec2.billing",
      {{"per_second", Ec2Billing::kPerSecond},
       {"per_hour", Ec2Billing::kPerHour}},
      "per_second",
      "per_second (60 s minimum, since 2017) or per started hour.",
      "EC2 pricing", [](auto& s) -> auto& { return s.ec2.billing; }));
  t.push_back(Double(
      "ec2.startup_s", 60, NonNegative(),
      "Boot and setup before the first epoch, s.", "[I]",
      [](auto& s) -> auto& { return s.ec2.startup_s; }));
  t.push_back(Double(
      "ec2.gflops_per_vcpu", 8, Positive(),
      "Effective training throughput per EC2 vCPU, GFLOP/s.",
      "[I] as lambda.gflops_per_vcpu",
      [](auto& s) -> auto& { return s.ec2.gflops_per_vcpu; }));
  t.push_back(Double(
      "ec2.network_latency_ms", 1, NonNegative(),
      "Latency of one synchronisation round between instances, ms.", "[I]",
      [](auto& s) -> auto& { return s.ec2.network_latency_ms; }));

  // The MDP (env layer).
  t.push_back(Double(
      "env.reward_per_second", 0.01, NonNegative(),
      "beta: reward -beta * epoch seconds each epoch.",
      "[I] SIREN reward r_t = -beta P_t",
      [](auto& s) -> auto& { return s.env.reward_per_second; }));
  t.push_back(Double(
      "env.success_bonus", 1, NonNegative(),
      "Final reward when the target loss is reached within budget.",
      "[I] SIREN final reward",
      [](auto& s) -> auto& { return s.env.success_bonus; }));
  t.push_back(Double(
      "env.budget_penalty", 5, NonNegative(),
      "Final penalty (subtracted) when the budget runs out first.",
      "[I] SIREN final penalty",
      [](auto& s) -> auto& { return s.env.budget_penalty; }));
  t.push_back(Int(
      "env.min_functions", 1, AtLeast(1),
      "Smallest number of functions an action can ask for.", "[I]",
      [](auto& s) -> auto& { return s.env.min_functions; }));
  t.push_back(Int(
      "env.max_functions", 1000, AtLeast(1),
      "Largest number of functions an action can ask for.",
      "[I] the default concurrency limit",
      [](auto& s) -> auto& { return s.env.max_functions; }));
  t.push_back(Enum<FunctionScale>(
      "env.function_scale",
      {{"log", FunctionScale::kLog}, {"linear", FunctionScale::kLinear}}, "log",
      "How an action coordinate maps to the number of functions.",
      "[I] log: equal resolution per factor of n",
      [](auto& s) -> auto& { return s.env.function_scale; }));
  t.push_back(Int(
      "env.function_bins", 64, AtLeast(2),
      "MultiDiscrete choices for the number of functions.", "[I]",
      [](auto& s) -> auto& { return s.env.function_bins; }));
  t.push_back(Int(
      "env.memory_bins", 46, AtLeast(2),
      "MultiDiscrete choices for memory, spread over the grid (at most its "
      "size).",
      "[I] the 46 sizes of the 2018 grid",
      [](auto& s) -> auto& { return s.env.memory_bins; }));
  t.push_back(Double(
      "env.time_scale_s", 60, Positive(),
      "Observation unit of epoch durations, s.", "[I]",
      [](auto& s) -> auto& { return s.env.time_scale_s; }));
  t.push_back(Double(
      "env.batch_time_scale_s", 1, Positive(),
      "Observation unit of per-batch fetch/compute/update times, s.", "[I]",
      [](auto& s) -> auto& { return s.env.batch_time_scale_s; }));
  t.push_back(Double(
      "env.observation_clip", 100, Positive(),
      "Upper bound of normalised times and losses in the observation.", "[I]",
      [](auto& s) -> auto& { return s.env.observation_clip; }));
  return t;
}

std::string TypeName(const ParamSpec& spec) {
  switch (spec.type) {
    case ParamType::kInt:
      return "int";
    case ParamType::kDouble:
      return "double";
    case ParamType::kBool:
      return "bool";
    case ParamType::kString:
      return "string";
    case ParamType::kEnum:
      return "enum";
    case ParamType::kDoubleList:
      return "list";
  }
  return "?";
}

size_t EditDistance(const std::string& a, const std::string& b) {
  std::vector<size_t> row(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    size_t diagonal = row[0];
    row[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      const size_t above = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1,
                         diagonal + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diagonal = above;
    }
  }
  return row[b.size()];
}

std::string LastComponent(const std::string& path) {
  const size_t dot = path.rfind('.');
  return dot == std::string::npos ? path : path.substr(dot + 1);
}

}  // namespace

bool ParamRange::Contains(double value) const {
  if (std::isnan(value)) return false;
  const bool above_min = min_exclusive ? value > min : value >= min;
  const bool below_max = max_exclusive ? value < max : value <= max;
  return above_min && below_max;
}

std::string ParamRange::Describe() const {
  const bool has_min = min != -kInf;
  const bool has_max = max != kInf;
  if (has_min && has_max) {
    return std::string("in ") + (min_exclusive ? "(" : "[") +
           FormatDouble(min) + ", " + FormatDouble(max) +
           (max_exclusive ? ")" : "]");
  }
  if (has_min) return (min_exclusive ? "> " : ">= ") + FormatDouble(min);
  if (has_max) return (max_exclusive ? "< " : "<= ") + FormatDouble(max);
  return "";
}

const ParamValue& ParamSpec::DefaultFor(const std::string& era) const {
  for (const auto& [name, value] : era_defaults) {
    if (name == era) return value;
  }
  return default_value;
}

std::string ParamSpec::Expectation() const {
  const std::string range_text = range.Describe();
  const std::string suffix = range_text.empty() ? "" : " " + range_text;
  switch (type) {
    case ParamType::kInt:
      return "an integer" + suffix;
    case ParamType::kDouble:
      return "a finite number" + suffix;
    case ParamType::kBool:
      return "true or false";
    case ParamType::kString:
      return "a string";
    case ParamType::kEnum: {
      std::string text = "one of";
      for (size_t i = 0; i < enum_names.size(); ++i) {
        text += (i == 0 ? " \"" : ", \"") + enum_names[i] + "\"";
      }
      return text;
    }
    case ParamType::kDoubleList:
      return "a non-empty list of finite numbers" +
             (range_text.empty() ? "" : ", each " + range_text);
  }
  return "";
}

const std::vector<ParamSpec>& ParamTable() {
  static const std::vector<ParamSpec>* const table =
      new std::vector<ParamSpec>(BuildTable());
  return *table;
}

const ParamSpec* FindParam(const std::string& path) {
  for (const ParamSpec& spec : ParamTable()) {
    if (spec.path == path) return &spec;
  }
  return nullptr;
}

std::string ClosestParamPath(const std::string& path) {
  // The same leaf name in another section is the likeliest mistake; otherwise
  // take the nearest path by edit distance, if it is reasonably near.
  const std::string leaf = LastComponent(path);
  std::string best;
  size_t best_distance = std::max<size_t>(3, path.size() / 3) + 1;
  bool best_same_leaf = false;
  for (const ParamSpec& spec : ParamTable()) {
    const bool same_leaf = LastComponent(spec.path) == leaf;
    const size_t distance = EditDistance(path, spec.path);
    if ((same_leaf && !best_same_leaf) ||
        (same_leaf == best_same_leaf && distance < best_distance)) {
      best_distance = distance;
      best = spec.path;
      best_same_leaf = same_leaf;
    }
  }
  return best;
}

std::string FormatParamValue(const ParamValue& value) {
  if (std::holds_alternative<std::monostate>(value)) return "~";
  if (const auto* v = std::get_if<int64_t>(&value)) return std::to_string(*v);
  if (const auto* v = std::get_if<double>(&value)) return FormatDouble(*v);
  if (const auto* v = std::get_if<bool>(&value)) return *v ? "true" : "false";
  if (const auto* v = std::get_if<std::string>(&value)) {
    YAML::Emitter emitter;
    emitter << YAML::DoubleQuoted << *v;
    return emitter.c_str();
  }
  const auto& list = std::get<std::vector<double>>(value);
  std::string text = "[";
  for (size_t i = 0; i < list.size(); ++i) {
    text += (i == 0 ? "" : ", ") + FormatDouble(list[i]);
  }
  return text + "]";
}

std::string DescribeParameters() {
  std::ostringstream out;
  out << "Scenario parameters (dotted path: type, default, valid values)\n"
      << "Precedence: defaults < lambda.era defaults < preset/YAML file < "
         "key=value overrides.\n";
  for (const ParamSpec& spec : ParamTable()) {
    std::string default_text;
    if (spec.required()) {
      default_text = "required";
    } else if (!spec.era_defaults.empty()) {
      for (const auto& [era, value] : spec.era_defaults) {
        if (!default_text.empty()) default_text += ", ";
        default_text += "era " + era + ": " + FormatParamValue(value);
      }
    } else {
      default_text = "default " + FormatParamValue(spec.default_value);
    }
    out << "\n"
        << spec.path << ": " << TypeName(spec) << ", " << default_text
        << ", expected " << spec.Expectation() << "\n"
        << "    " << spec.doc << "\n"
        << "    source: " << spec.source << "\n";
  }
  return out.str();
}

}  // namespace siren::sim
