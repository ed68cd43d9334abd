#include "sim/convergence/analytic/analytic_convergence.h"

#include <cmath>
#include <cstdio>

#include "sim/scenario/param_builders.h"

namespace siren::sim {
namespace {

std::string FormatNumber(double value) {
  return FormatParamValue(ParamValue(value));
}

std::string FormatShort(double value) {
  char buffer[64];
  std::snprintf(buffer, sizeof(buffer), "%.6g", value);
  return buffer;
}

// The target must lie on the curve: between its floor and its start.
void ValidateAnalytic(const Scenario& s) {
  const AnalyticSpec spec = AnalyticSpec::FromScenario(s);
  const double initial_loss = 1.0 / spec.b1 + spec.b2;
  const double target = s.workload.target_loss;
  if (!(target > spec.b2 && target < initial_loss)) {
    FailParamValue("workload.target_loss", FormatNumber(target),
                   "a number strictly between convergence.b2 (" +
                       FormatNumber(spec.b2) +
                       ") and the initial loss 1/b1 + b2 (" +
                       FormatShort(initial_loss) + ")");
  }
}

// Registration: `convergence.model: analytic`.
[[maybe_unused]] const bool kRegistered = RegisterConvergenceModel(
    "analytic", AnalyticParamSection(), [](const Scenario& scenario) {
      return std::make_unique<AnalyticModel>(scenario);
    });

}  // namespace

ParamSection AnalyticParamSection() {
  using namespace params;  // NOLINT: the builders read as a table.
  const std::string kOptimus =
      "Loss curve row (Optimus, EuroSys'18); [I] default fitted to LeNet";
  std::vector<ParamSpec> p;
  p.push_back(StoredDouble(
      "convergence.b0", 0.01,
      Between(1e-12, 1e6,
              "[I] a loss curve reaching its floor within 1e-6 to 1e12 "
              "updates; keeps the curve finite"),
      "Optimus b0: progress rate in loss = 1/(b0 k + b1) + b2.", kOptimus));
  p.push_back(
      StoredDouble("convergence.b1", 0.4386,
                   Between(1e-9, 1e9,
                           "[I] an initial loss 1/b1 + b2 between 1e-9 and 1e9 "
                           "above the floor; keeps the curve finite"),
                   "Optimus b1: the initial loss is 1/b1 + b2.", kOptimus));
  p.push_back(StoredDouble(
      "convergence.b2", 0.02,
      Between(1e-9, 1e9, "[I] the loss floor, > 0 for the log-scale closeness"),
      "Optimus b2: the loss floor (> 0: closeness is measured on a log scale).",
      kOptimus));
  p.push_back(StoredDouble(
      "convergence.reference_batch", 64,
      Between(1, 1e6, "[I] as workload.batch_size"),
      "Batch size at which one update adds one unit of progress.", "[I]"));
  p.push_back(StoredDouble(
      "convergence.batch_exponent", 0.5,
      Between(0, 1, "sub-linear gain in the batch (McCandlish et al. 2018)"),
      "Progress grows as (batch / reference_batch)^this.",
      "[I] Batch size row (McCandlish et al. 2018)"));
  p.push_back(StoredDouble("convergence.local_step_exponent", 0.7,
                           Between(0, 1, "sub-linear gain in local steps"),
                           "Progress grows as local_steps^this per push.",
                           "[I]"));
  p.push_back(StoredDouble(
      "convergence.staleness_penalty", 0.05,
      Between(0, 1000, "[I] 1000x the harm of one stale version"),
      "Progress divided by 1 + this * staleness * (1 + gain * closeness).",
      "[I] Staleness row (Dai et al. ICLR'19)"));
  p.push_back(
      StoredDouble("convergence.staleness_gain", 2.0, Between(0, 1000, "[I]"),
                   "How much more staleness hurts near convergence.", "[I]"));
  p.push_back(StoredDouble(
      "convergence.loss_noise_sigma", 0.01,
      Between(0, 3, "[I] a log-normal sigma of 3 is a 20x spread at one sigma"),
      "Log-normal sigma on the observed loss.", "[I]"));

  ParamSection section;
  section.order = 200;
  section.params = std::move(p);
  section.validate = &ValidateAnalytic;
  return section;
}

AnalyticSpec AnalyticSpec::FromScenario(const Scenario& scenario) {
  const ParamValues& p = scenario.params;
  AnalyticSpec spec;
  spec.b0 = p.Double("convergence.b0");
  spec.b1 = p.Double("convergence.b1");
  spec.b2 = p.Double("convergence.b2");
  spec.reference_batch = p.Double("convergence.reference_batch");
  spec.batch_exponent = p.Double("convergence.batch_exponent");
  spec.local_step_exponent = p.Double("convergence.local_step_exponent");
  spec.staleness_penalty = p.Double("convergence.staleness_penalty");
  spec.staleness_gain = p.Double("convergence.staleness_gain");
  spec.loss_noise_sigma = p.Double("convergence.loss_noise_sigma");
  return spec;
}

void AnalyticSpec::WriteTo(Scenario& scenario) const {
  ParamValues& p = scenario.params;
  p.Set("convergence.b0", b0);
  p.Set("convergence.b1", b1);
  p.Set("convergence.b2", b2);
  p.Set("convergence.reference_batch", reference_batch);
  p.Set("convergence.batch_exponent", batch_exponent);
  p.Set("convergence.local_step_exponent", local_step_exponent);
  p.Set("convergence.staleness_penalty", staleness_penalty);
  p.Set("convergence.staleness_gain", staleness_gain);
  p.Set("convergence.loss_noise_sigma", loss_noise_sigma);
}

AnalyticConvergence::AnalyticConvergence(const AnalyticSpec& spec)
    : spec_(spec),
      initial_loss_(1.0 / spec.b1 + spec.b2),
      inv_log_span_(1.0 / std::log(initial_loss_ / spec.b2)) {}

double AnalyticConvergence::StepGain(double batch_samples,
                                     int local_steps) const {
  const double batch_gain =
      std::pow(batch_samples / spec_.reference_batch, spec_.batch_exponent);
  const double local_gain =
      std::pow(static_cast<double>(local_steps), spec_.local_step_exponent);
  return batch_gain * local_gain;
}

AnalyticModel::AnalyticModel(const Scenario& scenario)
    : curve_(AnalyticSpec::FromScenario(scenario)),
      batch_size_(static_cast<double>(scenario.workload.batch_size)) {
  // The gain of an update folding l local steps, for every l the scenario
  // allows, computed once.
  const int sync_every = scenario.execution.sync_every;
  step_gain_.assign(sync_every + 1, 0.0);
  for (int l = 1; l <= sync_every; ++l) {
    step_gain_[l] = curve_.StepGain(batch_size_, l);
  }
}

void AnalyticModel::OnUpdateApplied(int, int64_t staleness, int local_steps) {
  progress_ +=
      curve_.UpdateProgress(progress_, staleness, step_gain_[local_steps]);
}

void AnalyticModel::OnUpdateOverwrote(int worker, int64_t, int local_steps) {
  const double read = read_progress_[worker];
  progress_ = read + curve_.UpdateProgress(read, 0, step_gain_[local_steps]);
}

void AnalyticModel::OnRoundClosed(const std::vector<int32_t>& workers,
                                  int64_t samples) {
  (void)workers;
  const double gain = curve_.StepGain(static_cast<double>(samples), 1);
  progress_ += curve_.UpdateProgress(progress_, 0, gain);
}

EpochLoss AnalyticModel::EndEpoch(Rng& loss_rng) {
  EpochLoss loss;
  loss.truth = curve_.Loss(progress_);
  loss.observed = curve_.Observe(loss.truth, loss_rng);
  return loss;
}

}  // namespace siren::sim
