#include "sim/scenario/param_table.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <optional>
#include <sstream>
#include <type_traits>

#include "sim/scenario/param_builders.h"

namespace siren::sim {
namespace {

using namespace params;  // NOLINT: the builders read as a table.

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

// Opens a new core section in `sections`.
std::vector<ParamSpec>& Open(std::vector<ParamSection>& sections,
                             std::string name, int order) {
  ParamSection section;
  section.name = std::move(name);
  section.order = order;
  sections.push_back(std::move(section));
  return sections.back().params;
}

// Mini-batches per epoch, at most (see ValidateCore).
constexpr int64_t kMaxBatchesPerEpoch = 1'000'000;

// Cross-field checks of the core sections.
void ValidateCore(const Scenario& s) {
  const WorkloadSpec& w = s.workload;
  if (w.batch_size > w.dataset_samples) {
    FailParamValue("workload.batch_size", std::to_string(w.batch_size),
                   "an integer <= workload.dataset_samples (" +
                       std::to_string(w.dataset_samples) + ")");
  }
  // An epoch is at most 1e6 mini-batches: it then simulates in well under a
  // second (about 4 events per batch at ~1e7 events/s).
  const int64_t batches = (w.dataset_samples + w.batch_size - 1) / w.batch_size;
  if (batches > kMaxBatchesPerEpoch) {
    FailParamValue("workload.dataset_samples",
                   std::to_string(w.dataset_samples),
                   "at most " + std::to_string(kMaxBatchesPerEpoch) +
                       " mini-batches per epoch (dataset_samples / "
                       "batch_size), got " +
                       std::to_string(batches));
  }
  if (s.execution.mode == ExecutionMode::kBsp && s.execution.sync_every != 1) {
    FailParamValue("execution.sync_every",
                   std::to_string(s.execution.sync_every),
                   "1 when execution.mode is \"bsp\"");
  }
}

// The registry of sections: the core ones first, then those registered.
struct SectionRegistry {
  std::vector<ParamSection> sections;
  std::vector<const ParamSection*> ordered;
  std::vector<ParamSpec> table;
  bool stale = true;
};

SectionRegistry& Registry() {
  static SectionRegistry* const registry = [] {
    auto* r = new SectionRegistry();
    r->sections = CoreParamSections();
    return r;
  }();
  return *registry;
}

// Rebuilds the ordered view and the flat table after a registration; fills
// each selector's allowed names from the sections implementing it.
void Refresh(SectionRegistry& r) {
  if (!r.stale) return;
  r.ordered.clear();
  for (const ParamSection& section : r.sections) r.ordered.push_back(&section);
  std::stable_sort(r.ordered.begin(), r.ordered.end(),
                   [](const ParamSection* a, const ParamSection* b) {
                     return a->order < b->order;
                   });
  r.table.clear();
  for (const ParamSection* section : r.ordered) {
    for (const ParamSpec& spec : section->params) r.table.push_back(spec);
  }
  for (ParamSpec& spec : r.table) {
    if (spec.type != ParamType::kEnum || !spec.enum_names.empty()) continue;
    for (const ParamSection* section : r.ordered) {
      if (section->implements.first == spec.path) {
        spec.enum_names.push_back(section->implements.second);
      }
    }
    std::sort(spec.enum_names.begin(), spec.enum_names.end());
  }
  r.stale = false;
}

std::vector<ParamSection> BuildCoreSections() {
  const std::string kPricing = "S3 request prices (AWS pricing)";
  std::vector<ParamSection> sections;
  std::vector<ParamSpec>* t = &Open(sections, "scenario and workload", 0);

  // Top level.
  t->push_back(String(
      "name", std::string(),
      "Scenario name; defaults to the preset name or the file stem.",
      "[I] convention", [](auto& s) -> auto& { return s.name; }));

  // Workload: always given by the preset or file.
  t->push_back(String(
      "workload.name", kRequired, "Human-readable workload name.", "preset",
      [](auto& s) -> auto& { return s.workload.name; }));
  t->push_back(Int(
      "workload.dataset_samples", kRequired,
      Between(1, 1e9,
              "[I] beyond the largest training sets used on functions; an "
              "epoch is also limited to 1e6 mini-batches"),
      "Training samples per epoch (N).", "preset",
      [](auto& s) -> auto& { return s.workload.dataset_samples; }));
  t->push_back(Double(
      "workload.sample_bytes", kRequired,
      PositiveUpTo(1e9, "[I] 1 GB per sample, more than a function can hold"),
      "Stored bytes per sample.", "preset",
      [](auto& s) -> auto& { return s.workload.sample_bytes; }));
  t->push_back(Int(
      "workload.samples_per_object", kRequired,
      Between(1, 1e9, "[I] as workload.dataset_samples"),
      "Samples per S3 object.", "preset",
      [](auto& s) -> auto& { return s.workload.samples_per_object; }));
  t->push_back(Int(
      "workload.batch_size", kRequired,
      Between(1, 1e6,
              "[I] above the largest batches of the large-batch literature "
              "(~64k, Goyal et al. 2017)"),
      "Mini-batch size b, at most workload.dataset_samples.", "preset",
      [](auto& s) -> auto& { return s.workload.batch_size; }));
  t->push_back(Int(
      "workload.model_params", kRequired,
      Between(1, 1e11,
              "[I] 100 B parameters; far more than fits a function (the memory "
              "check refuses it)"),
      "Model parameter count (float32 on the wire).", "preset",
      [](auto& s) -> auto& { return s.workload.model_params; }));
  t->push_back(Double(
      "workload.flops_per_sample", kRequired,
      PositiveUpTo(1e15, "[I] 1 PFLOP per sample"),
      "Forward + backward FLOPs per sample.", "preset",
      [](auto& s) -> auto& { return s.workload.flops_per_sample; }));
  t->push_back(Double(
      "workload.runtime_memory_mb", kRequired,
      PositiveUpTo(1048576,
                   "[I] 1 TB; the memory check refuses what no size holds"),
      "Interpreter, libraries and buffers resident in a function, MB.",
      "preset", [](auto& s) -> auto& { return s.workload.runtime_memory_mb; }));
  t->push_back(Double(
      "workload.package_mb", kRequired,
      Between(0, 10240,
              "Lambda container images are at most 10 GB (Lambda quotas)"),
      "Deployment package size, MB (adds to cold starts).", "preset",
      [](auto& s) -> auto& { return s.workload.package_mb; }));
  t->push_back(Double(
      "workload.target_loss", kRequired,
      PositiveUpTo(1e9, "[I] losses of the models here are O(1)"),
      "Training stops when the loss is <= this; must lie strictly between "
      "convergence.b2 and the initial loss 1/b1 + b2.",
      "preset", [](auto& s) -> auto& { return s.workload.target_loss; }));

  // The platform the job runs on (its own section follows).
  t = &Open(sections, "platform selection", 90);
  t->push_back(Enum<std::string>(
      "platform.model", {}, "aws_lambda",
      "The serverless platform: a registered implementation "
      "(sim/platform/), whose parameters form its own section.",
      "[I] AWS Lambda, as in the SIREN paper",
      [](auto& s) -> auto& { return s.models.platform; }));

  // S3.
  t = &Open(sections, "S3 (data and parameter store)", 150);
  const std::string kS3Latency =
      "[I] S3 small-object latency row: 1 KB write+read ~107 ms (CIDR'19)";
  t->push_back(Double(
      "s3.get_latency_median_ms", 45,
      PositiveUpTo(60000, "[I] a minute; S3 first-byte latency is tens of ms"),
      "Median GET first-byte latency, ms (log-normal).", kS3Latency,
      [](auto& s) -> auto& { return s.s3.get_latency_median_ms; }));
  t->push_back(Double(
      "s3.put_latency_median_ms", 62,
      PositiveUpTo(60000, "[I] a minute; S3 first-byte latency is tens of ms"),
      "Median PUT first-byte latency, ms (log-normal).", kS3Latency,
      [](auto& s) -> auto& { return s.s3.put_latency_median_ms; }));
  t->push_back(Double(
      "s3.latency_sigma", 0.35,
      Between(0, 3,
              "[I] a log-normal sigma of 3 is a 20x spread at one sigma; "
              "larger spreads make the median meaningless"),
      "Log-normal sigma of GET and PUT latency.", "[I]",
      [](auto& s) -> auto& { return s.s3.latency_sigma; }));
  t->push_back(Double(
      "s3.connection_cap_mb_per_s", 90, PositiveUpTo(1e6, "[I] 1 TB/s"),
      "Transfer cap of one S3 connection, MB/s.",
      "[I] S3 aggregate row (PyWren) and CIDR'19",
      [](auto& s) -> auto& { return s.s3.connection_cap_mb_per_s; }));
  t->push_back(Bool(
      "s3.rate_limit", false,
      "Model per-prefix request-rate limits (503 SlowDown).",
      "S3 request limits row (S3 performance guide)",
      [](auto& s) -> auto& { return s.s3.rate_limit; }));
  t->push_back(Double(
      "s3.get_rate_per_prefix", 5500, PositiveUpTo(1e9, "[I] 1e9 requests/s"),
      "GET requests per second per prefix before 503s.",
      "S3 request limits row (S3 performance guide)",
      [](auto& s) -> auto& { return s.s3.get_rate_per_prefix; }));
  t->push_back(Double(
      "s3.put_rate_per_prefix", 3500, PositiveUpTo(1e9, "[I] 1e9 requests/s"),
      "PUT requests per second per prefix before 503s.",
      "S3 request limits row (S3 performance guide)",
      [](auto& s) -> auto& { return s.s3.put_rate_per_prefix; }));
  t->push_back(Int(
      "s3.prefixes", 1, Between(1, 1e6, "[I] a million key prefixes"),
      "Key prefixes the requests spread over.", "[I]",
      [](auto& s) -> auto& { return s.s3.prefixes; }));
  t->push_back(Double(
      "s3.slowdown_backoff_s", 0.1, PositiveUpTo(3600, "[I] an hour"),
      "Retry delay after a 503 SlowDown, s.", "[I]",
      [](auto& s) -> auto& { return s.s3.slowdown_backoff_s; }));
  t->push_back(Int(
      "s3.server_slots", 0,
      Between(0, 100000,
              "[I] 0 = unlimited; 100,000 slots is unlimited for any job here"),
      "Requests served at once by a finite-capacity endpoint; 0 = unlimited "
      "(AWS S3). `siren calibrate` sets 1 for the local stand-in's server.",
      "[I] S3 scales out; moto's server process serves one request at a time",
      [](auto& s) -> auto& { return s.s3.server_slots; }));
  t->push_back(Double(
      "s3.server_service_ms", 0, Between(0, 60000, "[I] a minute per request"),
      "Service time of one request at a finite-capacity endpoint, ms; "
      "requests wait FIFO for a free slot.",
      "[I] fitted by `siren calibrate`",
      [](auto& s) -> auto& { return s.s3.server_service_ms; }));

  t->push_back(Double(
      "billing.s3_usd_per_get", 4e-7,
      Between(0, 1, "[I] 2.5 million times the list price"),
      "S3 GET price, USD per request.", kPricing,
      [](auto& s) -> auto& { return s.billing.s3_usd_per_get; }));
  t->push_back(Double(
      "billing.s3_usd_per_put", 5e-6,
      Between(0, 1, "[I] 200,000 times the list price"),
      "S3 PUT price, USD per request.", kPricing,
      [](auto& s) -> auto& { return s.billing.s3_usd_per_put; }));

  // The convergence model (its own section follows).
  t = &Open(sections, "convergence selection", 190);
  t->push_back(Enum<std::string>(
      "convergence.model", {}, "analytic",
      "analytic: Optimus-form loss over effective progress; sgd: real SGD "
      "on a dataset, updates in simulated-event order; or another registered "
      "model (sim/convergence/).",
      "DESIGN.md 2.6", [](auto& s) -> auto& { return s.models.convergence; }));

  // Execution model.
  t = &Open(sections, "execution", 250);
  t->push_back(Enum<ExecutionMode>(
      "execution.mode",
      {{"hsp", ExecutionMode::kHsp}, {"bsp", ExecutionMode::kBsp}}, "hsp",
      "hsp: async updates inside an epoch, barrier at its end; bsp: barrier "
      "after every round.",
      "DESIGN.md 2.2", [](auto& s) -> auto& { return s.execution.mode; }));
  t->push_back(Enum<PushProtocol>(
      "execution.push_protocol",
      {{"apply", PushProtocol::kApply},
       {"cas", PushProtocol::kCas},
       {"overwrite", PushProtocol::kOverwrite},
       {"fold", PushProtocol::kFold}},
      "apply",
      "hsp pushes: apply = the store applies each update on arrival (one "
      "PUT); cas = compare-and-swap on one S3 object, a push refused because "
      "the parameters changed backs off, re-reads them (GET) and retries (the "
      "runner's protocol); overwrite = an unconditional PUT of (parameters "
      "read + own update), last writer wins and overwritten updates are lost; "
      "fold = an unconditional PUT of the update to its own key, folded into "
      "the parameters by one extra folder function every "
      "execution.fold_interval_ms (every update applied exactly once).",
      "[I] apply: a parameter store as in the SIREN talk; cas: siren.runner; "
      "overwrite: the SIREN paper's asynchronous update; fold: [I]",
      [](auto& s) -> auto& { return s.execution.push_protocol; }));
  t->push_back(Double(
      "execution.cas_backoff_ms", 10,
      Between(0, 60000, "[I] a minute of base back-off"),
      "push_protocol cas: base of the full-jitter back-off after a refused "
      "push, ms: wait U(0, min(cap, base x 2^attempt)); 0 disables.",
      "[I] AWS Architecture Blog, Exponential Backoff And Jitter (2015)",
      [](auto& s) -> auto& { return s.execution.cas_backoff_ms; }));
  t->push_back(Double(
      "execution.cas_backoff_cap_ms", 1000,
      Between(0, 600000, "[I] ten minutes: beyond any function's timeout"),
      "push_protocol cas: cap of one back-off wait, ms; 0 disables.",
      "[I] AWS Architecture Blog, Exponential Backoff And Jitter (2015)",
      [](auto& s) -> auto& { return s.execution.cas_backoff_cap_ms; }));
  t->push_back(Double(
      "execution.fold_interval_ms", 50,
      PositiveUpTo(600000, "[I] ten minutes: beyond any function's timeout"),
      "push_protocol fold: period of the folder's LIST of new update "
      "objects, ms (a fold that takes longer starts the next at once).",
      "[I]", [](auto& s) -> auto& { return s.execution.fold_interval_ms; }));
  t->push_back(Int(
      "execution.coordinator_s3_gets", 0,
      Between(0, 1e6, "[I] far above any coordinator's requests per epoch"),
      "S3 GETs the job's coordinator makes per epoch outside the functions, "
      "billed with the epoch (siren.runner: 1, its barrier read of the "
      "parameter object; siren calibrate sets it from a trace).",
      "[I] 0: a coordinator that keeps the epoch's state in memory; "
      "siren.runner/job.py",
      [](auto& s) -> auto& { return s.execution.coordinator_s3_gets; }));
  t->push_back(Int(
      "execution.coordinator_s3_puts", 0,
      Between(0, 1e6, "[I] far above any coordinator's requests per epoch"),
      "S3 PUTs the job's coordinator makes per epoch outside the functions, "
      "billed with the epoch (siren.runner: 1, the PUT that opens the "
      "epoch's parameter object; siren calibrate sets it from a trace).",
      "[I] 0: a coordinator that keeps the epoch's state in memory; "
      "siren.runner/job.py",
      [](auto& s) -> auto& { return s.execution.coordinator_s3_puts; }));
  t->push_back(Int(
      "execution.sync_every", 1,
      Between(1, 1e6, "[I] at most an epoch's mini-batches (1e6) per push"),
      "Local steps between parameter pushes; 1 under bsp.", "DESIGN.md 2.2",
      [](auto& s) -> auto& { return s.execution.sync_every; }));
  t->push_back(Double(
      "execution.memory_overhead_factor", 3,
      Between(1, 100, "[I] model copies held in memory"),
      "Model copies held in a function's memory.",
      "[I] params + gradient + update buffer",
      [](auto& s) -> auto& { return s.execution.memory_overhead_factor; }));

  // Job limits.
  t = &Open(sections, "job", 260);
  t->push_back(Double(
      "job.budget_usd", 10,
      PositiveUpTo(1e12, "[I] a trillion dollars: no budget at all"),
      "Budget, USD: the job's cumulative cost never exceeds it (an epoch "
      "that reaches it is cut there and the job ends budget_exhausted).",
      "[I] presets set their own",
      [](auto& s) -> auto& { return s.job.budget_usd; }));
  t->push_back(Enum<BudgetGuard>(
      "job.budget_guard",
      {{"project", BudgetGuard::kProject}, {"cap", BudgetGuard::kCap}},
      "project",
      "project: an epoch whose projected cost x job.budget_margin exceeds "
      "the budget left is not started (as siren run's guard); cap: epochs "
      "start regardless and are only cut when the budget is reached.",
      "[I] the runner's guard on real money",
      [](auto& s) -> auto& { return s.job.budget_guard; }));
  t->push_back(Double(
      "job.budget_margin", 1.15,
      Between(1, 100, "[I] a factor of 100 would refuse any epoch"),
      "Safety factor on an epoch's projected cost before it starts.",
      "experiments/projection_accuracy.py: actual / projected largest of 2 "
      "samples, p99.9 1.124 on the noisiest preset (softmax-digits, 6,000 "
      "random epochs); presets set their own",
      [](auto& s) -> auto& { return s.job.budget_margin; }));
  t->push_back(Int(
      "job.projection_samples", 2,
      Between(1, 64, "[I] each sample simulates the epoch once"),
      "Simulated samples of an epoch's cost projection; the largest counts.",
      "[I]", [](auto& s) -> auto& { return s.job.projection_samples; }));
  t->push_back(Int(
      "job.max_epochs", 100,
      PositiveUpTo(100000, "[I] an epoch is a pass over the data"),
      "The job stops after this many epochs.", "[I]",
      [](auto& s) -> auto& { return s.job.max_epochs; }));

  // EC2 baseline.
  t = &Open(sections, "EC2 baseline", 270);
  t->push_back(Enum<std::string>(
      "ec2.instance_type",
      {{"m4.large", "m4.large"},
       {"m4.xlarge", "m4.xlarge"},
       {"m4.2xlarge", "m4.2xlarge"},
       {"m4.4xlarge", "m4.4xlarge"}},
      "m4.xlarge", "Instance type of the EC2 baseline cluster.",
      "EC2 m4 row (public price tables)",
      [](auto& s) -> auto& { return s.ec2.instance_type; }));
  t->push_back(Int(
      "ec2.instances", 4, Between(1, 1000, "[I] a cluster of 1,000 instances"),
      "Instances in the EC2 baseline cluster (k).", "[I]",
      [](auto& s) -> auto& { return s.ec2.instances; }));
  t->push_back(Enum<Ec2Billing>(
      "ec2.billing",
      {{"per_second", Ec2Billing::kPerSecond},
       {"per_hour", Ec2Billing::kPerHour}},
      "per_second",
      "per_second (60 s minimum, since 2017) or per started hour.",
      "EC2 pricing", [](auto& s) -> auto& { return s.ec2.billing; }));
  t->push_back(Double(
      "ec2.startup_s", 60, Between(0, 86400, "[I] a day"),
      "Boot and setup before the first epoch, s.", "[I]",
      [](auto& s) -> auto& { return s.ec2.startup_s; }));
  t->push_back(Double(
      "ec2.gflops_per_vcpu", 8, PositiveUpTo(1e6, "[I] 1 PFLOP/s per vCPU"),
      "Effective training throughput per EC2 vCPU, GFLOP/s.",
      "[I] as lambda.gflops_per_vcpu",
      [](auto& s) -> auto& { return s.ec2.gflops_per_vcpu; }));
  t->push_back(Double(
      "ec2.network_latency_ms", 1, Between(0, 60000, "[I] a minute"),
      "Latency of one synchronisation round between instances, ms.", "[I]",
      [](auto& s) -> auto& { return s.ec2.network_latency_ms; }));

  sections.front().validate = &ValidateCore;
  return sections;
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

const ParamValue& ParamSpec::DefaultFor(const std::string& variant) const {
  for (const auto& [name, value] : variant_defaults) {
    if (name == variant) return value;
  }
  return default_value;
}

ScenarioError::ScenarioError(std::string field, const std::string& message)
    : std::invalid_argument(message), field_(std::move(field)) {}

void FailParamValue(const std::string& path, const std::string& got,
                    const std::string& expected, const std::string& where) {
  throw ScenarioError(path, path + ": got " + got + ", expected " + expected +
                                (where.empty() ? "" : " (" + where + ")"));
}

bool ParamSection::Active(const Scenario& scenario) const {
  if (implements.first.empty()) return true;
  const ParamSpec* selector = FindParam(implements.first);
  return selector != nullptr &&
         std::get<std::string>(selector->get(scenario)) == implements.second;
}

std::vector<ParamSection> CoreParamSections() { return BuildCoreSections(); }

bool RegisterParamSection(ParamSection section) {
  SectionRegistry& r = Registry();
  for (const ParamSpec& spec : section.params) {
    if (spec.path.empty() || !spec.get || !spec.set) {
      throw std::logic_error("parameter section '" + section.name +
                             "': an entry without a path or accessors");
    }
    for (const ParamSection& other : r.sections) {
      for (const ParamSpec& known : other.params) {
        if (known.path == spec.path) {
          throw std::logic_error("parameter " + spec.path +
                                 " declared twice (sections '" + other.name +
                                 "' and '" + section.name + "')");
        }
      }
    }
  }
  r.sections.push_back(std::move(section));
  r.stale = true;
  return true;
}

std::vector<const ParamSection*> ParamSections() {
  SectionRegistry& r = Registry();
  Refresh(r);
  return r.ordered;
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
      return std::string(allow_empty ? "a list" : "a non-empty list") +
             " of finite numbers" +
             (range_text.empty() ? "" : ", each " + range_text);
  }
  return "";
}

const std::vector<ParamSpec>& ParamTable() {
  SectionRegistry& r = Registry();
  Refresh(r);
  return r.table;
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
      << "Precedence: defaults < variant defaults (e.g. by lambda.era) < "
         "preset/YAML file < key=value overrides.\n";
  const std::vector<ParamSpec>& table = ParamTable();
  size_t index = 0;
  for (const ParamSection* section : ParamSections()) {
    out << "\n== " << section->name;
    if (!section->implements.first.empty()) {
      out << " (used when " << section->implements.first << " is \""
          << section->implements.second << "\")";
    }
    out << " ==\n";
    for (size_t i = 0; i < section->params.size(); ++i, ++index) {
      const ParamSpec& spec = table[index];
      std::string default_text;
      if (spec.required()) {
        default_text = "required";
      } else if (!spec.variant_defaults.empty()) {
        for (const auto& [variant, value] : spec.variant_defaults) {
          if (!default_text.empty()) default_text += ", ";
          default_text += spec.variant_param + " " + variant + ": " +
                          FormatParamValue(value);
        }
      } else {
        default_text = "default " + FormatParamValue(spec.default_value);
      }
      out << "\n"
          << spec.path << ": " << TypeName(spec) << ", " << default_text
          << ", expected " << spec.Expectation() << "\n"
          << "    " << spec.doc << "\n"
          << "    source: " << spec.source << "\n";
      if (!spec.range.reason.empty()) {
        out << "    bounds: " << spec.range.reason << "\n";
      }
    }
  }
  return out.str();
}

}  // namespace siren::sim
