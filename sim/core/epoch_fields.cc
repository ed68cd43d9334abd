#include "sim/core/epoch_fields.h"

#include <array>

namespace siren::sim {
namespace {

using R = EpochResult;
using V = EpochFieldValue;
constexpr EpochFieldType kInt = EpochFieldType::kInt;
constexpr EpochFieldType kFloat = EpochFieldType::kFloat;
constexpr EpochFieldType kString = EpochFieldType::kString;

// Indexed by JobStatus.
constexpr std::string_view kJobStatusLabels[] = {
    "running", "converged", "budget_exhausted", "epoch_limit"};
static_assert(static_cast<int>(JobStatus::kEpochLimit) + 1 ==
              std::size(kJobStatusLabels));
constexpr std::string_view kBudgetStopLabels[] = {"none", "before_epoch",
                                                  "mid_epoch"};
static_assert(static_cast<int>(BudgetStop::kMidEpoch) + 1 ==
              std::size(kBudgetStopLabels));

// One row per field: name, type, unit, description, Gym info column ("" when
// the info does not carry it), accessor[, labels]. Accessors name the
// alternative (int64_t{...}) so that a row cannot drift from its type
// silently; epoch_fields_test.cc checks each row against its type.
constexpr EpochField kFields[] = {
    {"epoch", kInt, "index", "0-based index of this epoch in the job.", "",
     [](const R& r) -> V { return int64_t{r.epoch}; }},
    {"action_functions", kInt, "count",
     "Functions requested by the action (n).", "",
     [](const R& r) -> V { return int64_t{r.action.functions}; }},
    {"action_memory_mb", kInt, "MB",
     "Memory per function requested by the action (m).", "",
     [](const R& r) -> V { return int64_t{r.action.memory_mb}; }},
    {"functions_used", kInt, "count",
     "Functions that ran: min(functions, batches in the epoch).",
     "functions_used",
     [](const R& r) -> V { return int64_t{r.functions_used}; }},
    {"duration_s", kFloat, "s", "Wall time from epoch start to the barrier.",
     "epoch_duration_s", [](const R& r) -> V { return r.duration_s; }},
    {"fetch_mean_s", kFloat, "s",
     "Mean per-batch fetch time (batch GET + parameter GET).", "fetch_mean_s",
     [](const R& r) -> V { return r.fetch.mean_s; }},
    {"fetch_p95_s", kFloat, "s", "95th percentile of the per-batch fetch time.",
     "", [](const R& r) -> V { return r.fetch.p95_s; }},
    {"compute_mean_s", kFloat, "s", "Mean per-batch gradient computation time.",
     "compute_mean_s", [](const R& r) -> V { return r.compute.mean_s; }},
    {"compute_p95_s", kFloat, "s",
     "95th percentile of the per-batch computation time.", "",
     [](const R& r) -> V { return r.compute.p95_s; }},
    {"update_mean_s", kFloat, "s", "Mean time of an update push (PUT).",
     "update_mean_s", [](const R& r) -> V { return r.update.mean_s; }},
    {"update_p95_s", kFloat, "s", "95th percentile of the update push time.",
     "", [](const R& r) -> V { return r.update.p95_s; }},
    {"batches", kInt, "count", "Mini-batches processed.", "",
     [](const R& r) -> V { return int64_t{r.batches}; }},
    {"updates", kInt, "count", "Updates applied to the parameter store.", "",
     [](const R& r) -> V { return int64_t{r.updates}; }},
    {"mean_staleness", kFloat, "updates",
     "Mean staleness of the applied updates.", "mean_staleness",
     [](const R& r) -> V { return r.mean_staleness; }},
    {"max_staleness", kInt, "updates",
     "Largest staleness of an applied update.", "",
     [](const R& r) -> V { return int64_t{r.max_staleness}; }},
    {"update_conflicts", kInt, "count",
     "Refused compare-and-swap pushes (push_protocol cas).", "",
     [](const R& r) -> V { return int64_t{r.update_conflicts}; }},
    {"lost_updates", kInt, "count",
     "Written updates missing from the epoch's final parameters, overwritten "
     "by a writer that had not read them (push_protocol overwrite).",
     "", [](const R& r) -> V { return int64_t{r.lost_updates}; }},
    {"folds", kInt, "count",
     "Parameter PUTs of the folder function (push_protocol fold).", "",
     [](const R& r) -> V { return int64_t{r.folds}; }},
    {"invocations", kInt, "count",
     "Billed invocations, re-invocations included.", "",
     [](const R& r) -> V { return int64_t{r.invocations}; }},
    {"cold_starts", kInt, "count", "Invocations that paid a cold start.",
     "cold_starts", [](const R& r) -> V { return int64_t{r.cold_starts}; }},
    {"warm_starts", kInt, "count", "Invocations that reused a warm instance.",
     "warm_starts", [](const R& r) -> V { return int64_t{r.warm_starts}; }},
    {"throttles", kInt, "count",
     "Throttled invocation requests (429; retried, not billed).", "throttles",
     [](const R& r) -> V { return int64_t{r.throttles}; }},
    {"scaling_throttles", kInt, "count",
     "Of the throttles, those of the scaling-rate limit on new environments.",
     "", [](const R& r) -> V { return int64_t{r.scaling_throttles}; }},
    {"timeouts", kInt, "count", "Invocations cut at the function timeout.",
     "timeouts", [](const R& r) -> V { return int64_t{r.timeouts}; }},
    {"reinvocations", kInt, "count", "Invocations issued after a timeout.",
     "reinvocations", [](const R& r) -> V { return int64_t{r.reinvocations}; }},
    {"s3_slowdowns", kInt, "count", "S3 503 SlowDown responses (retried).", "",
     [](const R& r) -> V { return int64_t{r.s3_slowdowns}; }},
    {"s3_gets", kInt, "count", "S3 GET requests.", "",
     [](const R& r) -> V { return int64_t{r.s3_gets}; }},
    {"s3_puts", kInt, "count", "S3 PUT requests.", "",
     [](const R& r) -> V { return int64_t{r.s3_puts}; }},
    {"list_requests", kInt, "count",
     "S3 LIST requests (push_protocol fold's folder; billed at the PUT "
     "price).",
     "", [](const R& r) -> V { return int64_t{r.list_requests}; }},
    {"billed_gb_s", kFloat, "gb_s", "Billed GB-seconds of all invocations.", "",
     [](const R& r) -> V { return r.billed_gb_s; }},
    {"init_billed_s", kFloat, "s",
     "INIT seconds of cold starts billed with their invocations.", "",
     [](const R& r) -> V { return r.init_billed_s; }},
    {"cpu_utilisation", kFloat, "1", "Compute time / billed time, in [0, 1].",
     "cpu_utilisation", [](const R& r) -> V { return r.cpu_utilisation; }},
    {"memory_utilisation", kFloat, "1",
     "Workload memory need / configured memory.", "",
     [](const R& r) -> V { return r.memory_utilisation; }},
    {"cost_function_duration_usd", kFloat, "usd",
     "Price of the billed function duration (GB-seconds).",
     "function_duration_usd",
     [](const R& r) -> V { return r.cost.function_duration_usd; }},
    {"cost_function_request_usd", kFloat, "usd",
     "Per-invocation request price of the functions.", "function_request_usd",
     [](const R& r) -> V { return r.cost.function_request_usd; }},
    {"cost_s3_request_usd", kFloat, "usd",
     "S3 GET, PUT and LIST request charges.", "s3_request_usd",
     [](const R& r) -> V { return r.cost.s3_request_usd; }},
    {"cost_total_usd", kFloat, "usd",
     "Cost of the epoch: the sum of the three cost parts.", "epoch_cost_usd",
     [](const R& r) -> V { return r.cost.total_usd(); }},
    {"loss", kFloat, "1", "Observed (noisy) loss after the epoch.", "loss",
     [](const R& r) -> V { return r.loss; }},
    {"true_loss", kFloat, "1", "Noise-free model loss after the epoch.",
     "true_loss", [](const R& r) -> V { return r.true_loss; }},
    {"progress", kFloat, "1",
     "Accumulated effective progress k of the convergence model.", "",
     [](const R& r) -> V { return r.progress; }},
    {"cumulative_time_s", kFloat, "s", "Job wall time so far.",
     "cumulative_time_s", [](const R& r) -> V { return r.cumulative_time_s; }},
    {"cumulative_cost_usd", kFloat, "usd", "Job cost so far.",
     "cumulative_cost_usd",
     [](const R& r) -> V { return r.cumulative_cost_usd; }},
    {"status", kString, "", "Job status after this epoch.", "status",
     [](const R& r) -> V {
       const auto i = static_cast<size_t>(r.status);
       return i < std::size(kJobStatusLabels) ? kJobStatusLabels[i]
                                              : std::string_view("unknown");
     },
     kJobStatusLabels},
    {"budget_stop", kString, "",
     "none, before_epoch (not run: projected over the budget left) or "
     "mid_epoch (cut when its spending reached the budget).",
     "",
     [](const R& r) -> V {
       const auto i = static_cast<size_t>(r.budget_stop);
       return i < std::size(kBudgetStopLabels) ? kBudgetStopLabels[i]
                                               : std::string_view("unknown");
     },
     kBudgetStopLabels},
    {"projected_cost_usd", kFloat, "usd",
     "Projected cost the budget guard compared with the budget left, margin "
     "included; 0 when none was made (budget left far above the epoch).",
     "", [](const R& r) -> V { return r.projected_cost_usd; }},
    {"events", kInt, "count", "Discrete events processed in the epoch.", "",
     [](const R& r) -> V { return int64_t{r.events}; }},
};

}  // namespace

std::span<const EpochField> EpochFields() { return kFields; }

const EpochField* FindEpochField(std::string_view name) {
  for (const EpochField& field : kFields) {
    if (field.name == name) return &field;
  }
  return nullptr;
}

std::string_view EpochFieldTypeName(EpochFieldType type) {
  switch (type) {
    case EpochFieldType::kInt:
      return "int";
    case EpochFieldType::kFloat:
      return "float";
    case EpochFieldType::kString:
      return "string";
  }
  return "unknown";
}

double EpochFieldNumber(const EpochField& field, const EpochResult& result) {
  const EpochFieldValue value = field.get(result);
  if (const auto* i = std::get_if<int64_t>(&value)) {
    return static_cast<double>(*i);
  }
  if (const auto* x = std::get_if<double>(&value)) return *x;
  const std::string_view text = std::get<std::string_view>(value);
  for (size_t i = 0; i < field.labels.size(); ++i) {
    if (field.labels[i] == text) return static_cast<double>(i);
  }
  return -1;
}

std::span<const std::string_view> JobStatusLabels() { return kJobStatusLabels; }

}  // namespace siren::sim
