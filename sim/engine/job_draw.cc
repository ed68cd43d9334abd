#include "sim/engine/job_draw.h"

#include <algorithm>
#include <cmath>
#include <string>
#include <utility>

#include "sim/core/rng.h"
#include "sim/scenario/param_builders.h"

namespace siren::sim {
namespace {

constexpr char kBudgetRange[] = "job.budget_range";
constexpr char kBudgetDraw[] = "job.budget_draw";
constexpr char kDatasetScale[] = "variability.dataset_scale_range";
constexpr char kLossNoiseScale[] = "variability.loss_noise_scale_range";
constexpr char kComputeSlowdown[] = "variability.compute_slowdown_range";
constexpr char kS3Slowdown[] = "variability.s3_slowdown_range";

// Mirrors ValidateCore's limit (param_table.cc).
constexpr double kMaxBatchesPerEpoch = 1e6;
// The upper bound of every log-normal sigma in the table.
constexpr double kMaxSigma = 3;

std::string FormatRange(const std::vector<double>& range) {
  return FormatParamValue(ParamValue(range));
}

// A range is empty or [lo, hi] with lo <= hi (the bounds of each element are
// the table's).
void CheckShape(const std::string& path, const std::vector<double>& range) {
  if (range.empty()) return;
  if (range.size() != 2 || range[0] > range[1]) {
    FailParamValue(path, FormatRange(range),
                   "[] (no variability) or a pair [lo, hi] with lo <= hi");
  }
}

// The scaled value stays valid at both ends of a range.
void ValidateVariability(const Scenario& s) {
  const JobVariability v = JobVariability::FromScenario(s);
  CheckShape(kBudgetRange, v.budget_range);
  CheckShape(kDatasetScale, v.dataset_scale_range);
  CheckShape(kLossNoiseScale, v.loss_noise_scale_range);
  CheckShape(kComputeSlowdown, v.compute_slowdown_range);
  CheckShape(kS3Slowdown, v.s3_slowdown_range);
  if (!v.dataset_scale_range.empty()) {
    const double n = static_cast<double>(s.workload.dataset_samples);
    const double b = static_cast<double>(s.workload.batch_size);
    if (n * v.dataset_scale_range[0] < b) {
      FailParamValue(kDatasetScale, FormatRange(v.dataset_scale_range),
                     "a low end >= workload.batch_size / "
                     "workload.dataset_samples (" +
                         FormatParamValue(ParamValue(b / n)) + ")");
    }
    if (std::ceil(n * v.dataset_scale_range[1] / b) > kMaxBatchesPerEpoch) {
      FailParamValue(
          kDatasetScale, FormatRange(v.dataset_scale_range),
          "a high end of at most 1e6 mini-batches per epoch "
          "(<= " +
              FormatParamValue(ParamValue(kMaxBatchesPerEpoch * b / n)) + ")");
    }
  }
  if (!v.loss_noise_scale_range.empty()) {
    if (s.models.convergence != "analytic") {
      FailParamValue(kLossNoiseScale, FormatRange(v.loss_noise_scale_range),
                     "[] unless convergence.model is \"analytic\" (got \"" +
                         s.models.convergence + "\")");
    }
    const double sigma = s.params.Double("convergence.loss_noise_sigma");
    if (sigma * v.loss_noise_scale_range[1] > kMaxSigma) {
      FailParamValue(kLossNoiseScale, FormatRange(v.loss_noise_scale_range),
                     "a high end x convergence.loss_noise_sigma (" +
                         FormatParamValue(ParamValue(sigma)) + ") <= 3");
    }
  }
  if (!v.compute_slowdown_range.empty() && s.models.platform != "aws_lambda") {
    FailParamValue(kComputeSlowdown, FormatRange(v.compute_slowdown_range),
                   "[] unless platform.model is \"aws_lambda\" (got \"" +
                       s.models.platform + "\")");
  }
}

// Uniform u in [0, 1) mapped onto `range` (log-uniformly when `log`); the
// scenario's own value when the range is empty.
double Draw(double u, const std::vector<double>& range, bool log,
            double otherwise) {
  if (range.empty()) return otherwise;
  const double lo = range[0], hi = range[1];
  if (lo == hi) return lo;
  if (log) return std::exp(std::log(lo) + u * (std::log(hi) - std::log(lo)));
  return lo + u * (hi - lo);
}

[[maybe_unused]] const bool kRegistered =
    RegisterParamSection(JobVariabilitySection());

}  // namespace

bool JobVariability::Any() const {
  return !budget_range.empty() || !dataset_scale_range.empty() ||
         !loss_noise_scale_range.empty() || !compute_slowdown_range.empty() ||
         !s3_slowdown_range.empty();
}

JobVariability JobVariability::FromScenario(const Scenario& scenario) {
  const ParamValues& p = scenario.params;
  JobVariability v;
  v.budget_range = p.DoubleList(kBudgetRange);
  v.budget_log_uniform = p.String(kBudgetDraw) == "log_uniform";
  v.dataset_scale_range = p.DoubleList(kDatasetScale);
  v.loss_noise_scale_range = p.DoubleList(kLossNoiseScale);
  v.compute_slowdown_range = p.DoubleList(kComputeSlowdown);
  v.s3_slowdown_range = p.DoubleList(kS3Slowdown);
  return v;
}

EpisodeJob DrawEpisodeJob(const Scenario& scenario, uint64_t seed) {
  const JobVariability v = JobVariability::FromScenario(scenario);
  Rng rng(seed, RngStream::kJobDraw);
  // Five uniforms in a fixed order, used or not.
  double u[5];
  for (double& x : u) x = rng.Uniform();
  EpisodeJob job;
  job.budget_usd =
      Draw(u[0], v.budget_range, v.budget_log_uniform, scenario.job.budget_usd);
  job.dataset_scale = Draw(u[1], v.dataset_scale_range, true, 1);
  job.loss_noise_scale = Draw(u[2], v.loss_noise_scale_range, true, 1);
  job.compute_slowdown = Draw(u[3], v.compute_slowdown_range, true, 1);
  job.s3_slowdown = Draw(u[4], v.s3_slowdown_range, true, 1);
  return job;
}

Scenario ApplyEpisodeJob(const Scenario& base, const EpisodeJob& job) {
  Scenario s = base;
  s.job.budget_usd = job.budget_usd;
  if (job.dataset_scale != 1) {
    const auto scaled = static_cast<int64_t>(
        std::llround(static_cast<double>(base.workload.dataset_samples) *
                     job.dataset_scale));
    s.workload.dataset_samples = std::max(base.workload.batch_size, scaled);
  }
  if (job.loss_noise_scale != 1) {
    s.params.Set("convergence.loss_noise_sigma",
                 base.params.Double("convergence.loss_noise_sigma") *
                     job.loss_noise_scale);
  }
  if (job.compute_slowdown != 1) {
    s.params.Set(
        "lambda.gflops_per_vcpu",
        base.params.Double("lambda.gflops_per_vcpu") / job.compute_slowdown);
  }
  if (job.s3_slowdown != 1) {
    s.s3.get_latency_median_ms *= job.s3_slowdown;
    s.s3.put_latency_median_ms *= job.s3_slowdown;
    s.s3.connection_cap_mb_per_s /= job.s3_slowdown;
  }
  return s;
}

std::shared_ptr<const Scenario> EpisodeScenario(
    const std::shared_ptr<const Scenario>& base, uint64_t seed) {
  if (!JobVariability::FromScenario(*base).Any()) return base;
  return std::make_shared<const Scenario>(
      ApplyEpisodeJob(*base, DrawEpisodeJob(*base, seed)));
}

ParamSection JobVariabilitySection() {
  using namespace params;  // NOLINT: the builders read as a table.
  const std::string kFactorSource =
      "[I] no per-job variability row in CALIBRATION.md; a range of the "
      "user's choosing";
  std::vector<ParamSpec> p;
  p.push_back(StoredDoubleList(
      kBudgetRange, {},
      PositiveUpTo(1e6, "[I] as job.budget_usd; [] = the fixed job.budget_usd"),
      "[] or [lo, hi] USD: each episode's budget is drawn from it (by "
      "job.budget_draw) and replaces job.budget_usd.",
      "[I] the budgets a user's jobs span; one policy for all of them"));
  p.push_back(StoredEnum(
      kBudgetDraw, {"log_uniform", "uniform"}, "log_uniform",
      "How job.budget_range is drawn: log-uniform (equal weight per factor "
      "of budget) or uniform.",
      "[I] budgets spread over factors more than over dollars"));
  p.push_back(StoredDoubleList(
      kDatasetScale, {},
      PositiveUpTo(1e6,
                   "[I] the product with workload.dataset_samples is "
                   "checked against the epoch limit"),
      "[] or [lo, hi]: each episode's workload.dataset_samples is this "
      "factor (log-uniform) times the scenario's, at least one batch.",
      kFactorSource));
  p.push_back(StoredDoubleList(
      kLossNoiseScale, {},
      PositiveUpTo(300, "[I] the scaled sigma is checked against 3"),
      "[] or [lo, hi]: each episode's convergence.loss_noise_sigma is this "
      "factor (log-uniform) times the scenario's (analytic model).",
      kFactorSource));
  p.push_back(StoredDoubleList(
      kComputeSlowdown, {}, PositiveUpTo(100, "[I] a 100x slower function"),
      "[] or [lo, hi]: each episode's lambda.gflops_per_vcpu is the "
      "scenario's divided by this factor (log-uniform); hidden from the "
      "observation, seen only through epoch times.",
      "[I] Lambda compute varies by host and region (CIDR'19 per-function "
      "network row: 538 vs 29 Mbps with co-location); no compute row in "
      "CALIBRATION.md"));
  p.push_back(StoredDoubleList(
      kS3Slowdown, {}, PositiveUpTo(100, "[I] a 100x slower store"),
      "[] or [lo, hi]: each episode's S3 GET/PUT latency medians are "
      "multiplied and s3.connection_cap_mb_per_s divided by this factor "
      "(log-uniform); hidden from the observation.",
      "[I] S3 small-object latency row gives 50-100 ms per request (a 2x "
      "spread); CIDR'19"));

  for (ParamSpec& spec : p)
    spec.allow_empty = spec.type == ParamType::kDoubleList;
  ParamSection section;
  section.name = "per-episode job variability (drawn at each reset)";
  section.order = 99;
  section.params = std::move(p);
  section.validate = &ValidateVariability;
  return section;
}

}  // namespace siren::sim
