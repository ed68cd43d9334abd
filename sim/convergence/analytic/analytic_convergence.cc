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
  const double initial_loss = std::pow(spec.b1, -spec.curve_exponent) + spec.b2;
  const double target = s.workload.target_loss;
  if (!(target > spec.b2 && target < initial_loss)) {
    FailParamValue("workload.target_loss", FormatNumber(target),
                   "a number strictly between convergence.b2 (" +
                       FormatNumber(spec.b2) +
                       ") and the initial loss b1^-curve_exponent + b2 (" +
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
      "convergence.curve_exponent", 1.0,
      Between(0.1, 10, "[I] a loss falling between k^-0.1 and k^-10"),
      "p in loss = 1/(b0 k + b1)^p + b2: 1 is the Optimus curve; the initial "
      "loss is b1^-p + b2.",
      "Optimus (EuroSys'18) for 1; other values: fitted by `siren "
      "fit-convergence` (the deep nets' loss falls faster than 1/k at first, "
      "experiments/fit_check.py)"));
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
      "[I] Staleness row (Dai et al. ICLR'19: deeper models are hurt more); "
      "the sgd model agrees (experiments/mechanisms.py M1: 16 functions "
      "leave softmax regression and an MLP on the digits within 5 % of one "
      "function's loss, and a LeNet 2.8x above it). Per workload: `siren "
      "fit-convergence`"));
  p.push_back(
      StoredDouble("convergence.staleness_gain", 2.0, Between(0, 1000, "[I]"),
                   "How much more staleness hurts near convergence.",
                   "[I]; the sgd model shows stale epochs hurting more late "
                   "than early (experiments/mechanisms.py M2), but fits to "
                   "the digits' MLP and LeNet put this near 0 "
                   "(experiments/fit_check.py)"));
  const std::string kLrSource =
      "[I] form; supported by the sgd model (experiments/mechanisms.py: after "
      "a 5x step decay, 16 functions slow an MLP and a LeNet on the digits "
      "far less than at the full rate); Dai et al. ICLR'19 (staleness "
      "tolerance falls with the step size)";
  p.push_back(StoredDouble(
      "convergence.lr_progress_exponent", 1.0,
      Between(0, 4,
              "[I] progress per update from independent of the rate "
              "(0) to a steep power of it"),
      "Progress per update scales as r^this, r = the epoch's learning rate "
      "over epoch 0's (convergence.sgd.lr_*); no effect at a constant rate.",
      "[I] SGD's step is proportional to the rate; `siren fit-convergence` "
      "fits it from sgd runs with a decaying rate"));
  p.push_back(StoredDouble(
      "convergence.staleness_lr_exponent", 1.0,
      Between(0, 8,
              "[I] staleness harm from independent of the rate (0) to "
              "a steep power of it"),
      "The staleness harm (penalty * staleness * (1 + gain * closeness)) "
      "scales as r^this, r as for lr_progress_exponent; no effect at a "
      "constant rate.",
      kLrSource));
  p.push_back(StoredDouble(
      "convergence.collapse_staleness", 0.0,
      Between(0, 1e6,
              "[I] 0 (never) or a mean staleness per epoch; any bound above "
              "the largest staleness a job can see is never reached"),
      "Mean staleness of an epoch's applied updates (times r, the epoch's "
      "learning rate over epoch 0's) at and above which the run collapses "
      "for good: progress returns to 0, the loss to convergence.collapse_loss. "
      "0: never.",
      "sgd model: the lenet-mnist LeNet (rate 0.02, momentum 0.9) dies at "
      "the uniform prediction (loss ln 10) from 4 functions on, its ReLUs "
      "dead (experiments/collapse.py); delayed SGD is stable only while rate "
      "x delay stays bounded (Mitliagkas et al. 2016, Zhang et al. 2016). "
      "0 by default (never collapses); `siren fit-convergence` fits it, and "
      "a preset that sets it names the fit in its YAML"));
  p.push_back(StoredDouble(
      "convergence.collapse_loss", 0.0,
      Between(0, 1e9, "[I] 0 (the initial loss) or a loss"),
      "The loss of a run collapsed by convergence.collapse_staleness; 0: the "
      "initial loss b1^-curve_exponent + b2.",
      "sgd model: a collapsed net predicts the class prior, loss ln(classes) "
      "(ln 10 = 2.303 on the digits and MNIST), not its initial loss "
      "(experiments/collapse.py); `siren fit-convergence` fits it"));
  p.push_back(StoredDouble(
      "convergence.staleness_shock", 0.0,
      Between(0, 100,
              "[I] 0 (none) up to 100x an update's progress lost "
              "per unit of staleness above the tolerance"),
      "Staleness shock: while the level s (the mean staleness of the "
      "epoch's updates so far) exceeds the staleness the net is used to "
      "(tolerance tau), each update also loses this * (s - tau) * "
      "r^staleness_lr_exponent of an update's progress (never below 0). "
      "0: none.",
      "sgd model: the digits' LeNet is slowed most by a staleness it has not "
      "seen yet (its first epoch, or n raised mid-job: the loss rises) "
      "(README, \"Staleness shock\"); staleness acts as momentum "
      "(Mitliagkas et al. 2016), and a step above the curvature the net has "
      "settled at raises the loss (Lewkowycz et al. 2020; Cohen et al. "
      "2021). 0 by default; `siren fit-convergence` fits it"));
  p.push_back(StoredDouble(
      "convergence.shock_relaxation", 0.05,
      Between(1e-6, 1, "[I] a fraction of the gap closed per update"),
      "How fast the tolerance of the staleness shock follows the level: "
      "tau += this * (s - tau) per applied update while s > tau (0.05: "
      "about 20 updates); when an epoch ends, a tau above its mean "
      "staleness falls toward it as far as its updates would have moved "
      "it. No effect while convergence.staleness_shock is 0.",
      "[I]; `siren fit-convergence` fits it with the shock"));
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
  spec.curve_exponent = p.Double("convergence.curve_exponent");
  spec.reference_batch = p.Double("convergence.reference_batch");
  spec.batch_exponent = p.Double("convergence.batch_exponent");
  spec.local_step_exponent = p.Double("convergence.local_step_exponent");
  spec.staleness_penalty = p.Double("convergence.staleness_penalty");
  spec.staleness_gain = p.Double("convergence.staleness_gain");
  spec.lr_progress_exponent = p.Double("convergence.lr_progress_exponent");
  spec.staleness_lr_exponent = p.Double("convergence.staleness_lr_exponent");
  spec.collapse_staleness = p.Double("convergence.collapse_staleness");
  spec.collapse_loss = p.Double("convergence.collapse_loss");
  spec.staleness_shock = p.Double("convergence.staleness_shock");
  spec.shock_relaxation = p.Double("convergence.shock_relaxation");
  spec.loss_noise_sigma = p.Double("convergence.loss_noise_sigma");
  spec.lr = LrSchedule::FromScenario(scenario);
  return spec;
}

void AnalyticSpec::WriteTo(Scenario& scenario) const {
  ParamValues& p = scenario.params;
  p.Set("convergence.b0", b0);
  p.Set("convergence.b1", b1);
  p.Set("convergence.b2", b2);
  p.Set("convergence.curve_exponent", curve_exponent);
  p.Set("convergence.reference_batch", reference_batch);
  p.Set("convergence.batch_exponent", batch_exponent);
  p.Set("convergence.local_step_exponent", local_step_exponent);
  p.Set("convergence.staleness_penalty", staleness_penalty);
  p.Set("convergence.staleness_gain", staleness_gain);
  p.Set("convergence.lr_progress_exponent", lr_progress_exponent);
  p.Set("convergence.staleness_lr_exponent", staleness_lr_exponent);
  p.Set("convergence.collapse_staleness", collapse_staleness);
  p.Set("convergence.collapse_loss", collapse_loss);
  p.Set("convergence.staleness_shock", staleness_shock);
  p.Set("convergence.shock_relaxation", shock_relaxation);
  p.Set("convergence.loss_noise_sigma", loss_noise_sigma);
}

AnalyticConvergence::AnalyticConvergence(const AnalyticSpec& spec)
    : spec_(spec),
      initial_loss_(std::pow(spec.b1, -spec.curve_exponent) + spec.b2),
      inv_log_span_(1.0 / std::log(initial_loss_ / spec.b2)) {}

double AnalyticConvergence::StepGain(double batch_samples,
                                     int local_steps) const {
  const double batch_gain =
      std::pow(batch_samples / spec_.reference_batch, spec_.batch_exponent);
  const double local_gain =
      std::pow(static_cast<double>(local_steps), spec_.local_step_exponent);
  return batch_gain * local_gain;
}

AnalyticConvergence::LrScale AnalyticConvergence::LrScaleAt(
    int64_t epoch) const {
  if (spec_.lr.IsConstant()) return {};
  const double r = spec_.lr.Factor(epoch);
  return {std::pow(r, spec_.lr_progress_exponent),
          std::pow(r, spec_.staleness_lr_exponent), r};
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
  epoch_staleness_ += static_cast<double>(staleness);
  ++epoch_updates_;
  if (collapsed_) return;
  progress_ = curve_.ApplyUpdate(progress_, staleness, step_gain_[local_steps],
                                 lr_scale_, shock_);
}

void AnalyticModel::OnUpdateOverwrote(int worker, int64_t, int local_steps) {
  if (collapsed_) return;
  const double read = read_progress_[worker];
  progress_ =
      curve_.ApplyUpdate(read, 0, step_gain_[local_steps], lr_scale_, shock_);
}

void AnalyticModel::OnRoundClosed(const std::vector<int32_t>& workers,
                                  int64_t samples) {
  (void)workers;
  if (collapsed_) return;
  const double gain = curve_.StepGain(static_cast<double>(samples), 1);
  progress_ = curve_.ApplyUpdate(progress_, 0, gain, lr_scale_, shock_);
}

EpochLoss AnalyticModel::EndEpoch(Rng& loss_rng) {
  if (!collapsed_ && epoch_updates_ > 0 &&
      curve_.Collapses(epoch_staleness_ / static_cast<double>(epoch_updates_),
                       lr_scale_)) {
    collapsed_ = true;
    progress_ = 0;
  }
  EpochLoss loss;
  loss.truth = collapsed_ ? curve_.collapsed_loss() : curve_.Loss(progress_);
  loss.observed = curve_.Observe(loss.truth, loss_rng);
  return loss;
}

}  // namespace siren::sim
