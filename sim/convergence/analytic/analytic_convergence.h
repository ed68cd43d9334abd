// The analytic convergence model (DESIGN.md §2.6): loss over accumulated
// effective progress k in the Optimus form l(k) = 1 / (b0 k + b1)^p + b2
// (p = curve_exponent; 1 is Optimus's curve, other values bend it). Each
// update applied in epoch e adds
//   g(batch) * L^local_step_exponent * r^lr_progress_exponent
//     / (1 + penalty * s * (1 + gain * c) * r^staleness_lr_exponent)
// with g(batch) = (batch / reference_batch)^batch_exponent (sub-linear in the
// batch), L the local steps folded into the update, s its staleness,
// c in [0, 1) the closeness to convergence (see Closeness): stale updates
// hurt more as training nears its end, and r = lr(e) / lr(0) the job's
// learning rate relative to its first epoch's (convergence.sgd.lr_*; r = 1
// under the default constant rate): a decayed rate makes each update
// smaller and staleness more tolerable. The observed loss carries log-normal
// noise.
//
// Staleness shock (convergence.staleness_shock a, 0 = none): a net is used
// to the staleness it has been trained at. Its tolerance tau starts at 0;
// while the level s (the mean staleness of the epoch's updates so far)
// exceeds it, each applied update moves tau toward s by the fraction
// rho = convergence.shock_relaxation, and a tau above an epoch's mean
// staleness falls toward it when the next epoch starts (ShockState). While
// s > tau the update also takes
//   g(batch) * L^local_step_exponent * r^lr_progress_exponent
//     * a * (s - tau) * r^staleness_lr_exponent
// off the progress (never below 0). So the first epochs at a staleness the
// net has not seen (the start of training, or n raised mid-job) are slower
// than later epochs at the same staleness, and a large rise of n late in
// training can undo progress: the loss rises. This is what the `sgd`
// model's LeNet on the digits does (README, "Staleness shock"): raising n
// from 1-2 to 10-12 functions after two epochs raises the loss for an
// epoch, where a run at 12 functions throughout keeps falling. Staleness acts
// as extra momentum (Mitliagkas et al. 2016), a larger effective step; a step
// above the curvature the net has settled at makes the loss rise until the
// curvature falls (Lewkowycz et al. 2020, the catapult phase; Cohen et al.
// 2021, the edge of stability).
//
// Collapse (convergence.collapse_staleness T, 0 = never): an epoch whose
// applied updates have a mean staleness s_mean with s_mean * r >= T
// destabilises SGD for good: progress returns to 0 and stays there, and the
// loss sits at convergence.collapse_loss (the initial loss when 0) from that
// epoch on. This is what the `sgd`
// model's LeNet on MNIST does (README, "The held-out check"): stale momentum
// steps overshoot, the ReLUs die and the net predicts the class prior
// (loss ln 10) for the rest of the job. The bound scales with the rate
// (s_mean * r): delayed gradient descent is stable while rate x delay stays
// below a constant (Mitliagkas et al. 2016; Zhang et al. 2016).
#ifndef SIREN_SIM_CONVERGENCE_ANALYTIC_ANALYTIC_CONVERGENCE_H_
#define SIREN_SIM_CONVERGENCE_ANALYTIC_ANALYTIC_CONVERGENCE_H_

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "sim/convergence/convergence_model.h"
#include "sim/convergence/lr_schedule.h"
#include "sim/core/rng.h"
#include "sim/scenario/scenario.h"

namespace siren::sim {

// The values of this model's section (`convergence.*` but `model` and
// `sgd.*`), read once from a scenario.
struct AnalyticSpec {
  double b0 = 0;
  double b1 = 0;
  double b2 = 0;
  double curve_exponent = 1;  // p in l(k) = (b0 k + b1)^-p + b2.
  double reference_batch = 0;
  double batch_exponent = 0;
  double local_step_exponent = 0;
  double staleness_penalty = 0;
  double staleness_gain = 0;
  double lr_progress_exponent = 0;   // Progress scales as r^this.
  double staleness_lr_exponent = 0;  // Staleness harm scales as r^this.
  double collapse_staleness = 0;     // 0: never collapses (see above).
  double collapse_loss = 0;          // Loss once collapsed; 0: initial loss.
  double staleness_shock = 0;        // a of the staleness shock; 0: none.
  double shock_relaxation = 0.05;    // How fast the tolerance follows s.
  double loss_noise_sigma = 0;       // Log-normal sigma on the observed loss.
  LrSchedule lr;  // The job's learning-rate schedule (convergence.sgd.lr_*).

  static AnalyticSpec FromScenario(const Scenario& scenario);
  // Writes these values into `scenario` (the fitter's output).
  void WriteTo(Scenario& scenario) const;
};

// This model's parameter section (registered with the model).
ParamSection AnalyticParamSection();

// How the learning rate of one epoch scales an update: its progress by
// r^lr_progress_exponent, its staleness harm by r^staleness_lr_exponent,
// r = lr(epoch) / lr(0). Both 1 under a constant rate.
struct AnalyticLrScale {
  double progress = 1;
  double harm = 1;
  double rate = 1;  // r itself.
};

// The staleness shock's state along a run (AnalyticConvergence::ApplyUpdate
// and StartShockEpoch). The level compared with the tolerance is the mean
// staleness of the epoch's updates so far, not one update's: within a round
// one update's staleness swings between 0 and n - 1. Each epoch's level
// climbs through its first round's 0..n-1 again, so within an epoch the
// tolerance only rises; it falls (toward the epoch's mean staleness, as
// far as the epoch's updates would have moved it) when the next epoch
// starts. So a net at a steady staleness settles with no shock.
struct ShockState {
  double tolerance = 0;        // The staleness the net is used to.
  double epoch_staleness = 0;  // Sum over this epoch's updates so far.
  int64_t epoch_updates = 0;
};

// The curve: loss over progress, and the progress of one update. Also used
// by the EC2 baseline and the fitter.
class AnalyticConvergence {
 public:
  explicit AnalyticConvergence(const AnalyticSpec& spec);

  // Loss after progress k (k >= 0).
  double Loss(double progress) const {
    return std::pow(spec_.b0 * progress + spec_.b1, -spec_.curve_exponent) +
           spec_.b2;
  }
  double initial_loss() const { return initial_loss_; }
  // The loss of a collapsed run: collapse_loss, or the initial loss when 0.
  double collapsed_loss() const {
    return spec_.collapse_loss > 0 ? spec_.collapse_loss : initial_loss_;
  }

  // Closeness to convergence in [0, 1) at progress k: the fraction of the
  // way from the initial loss l0 to the floor b2 on a log scale,
  // ln(l0 / l) / ln(l0 / b2). Log scale because the gradient noise scale, and
  // with it the harm of stale gradients, grows as the loss falls
  // (McCandlish et al. 2018); a linear scale would put nearly the whole job
  // at closeness ~1. Requires b2 > 0 (validated).
  double Closeness(double progress) const {
    return std::log(initial_loss_ / Loss(progress)) * inv_log_span_;
  }

  // The staleness-free progress of one update: g(batch) * L^exponent.
  double StepGain(double batch_samples, int local_steps) const;

  using LrScale = AnalyticLrScale;
  // The scales of epoch `epoch` (0-based).
  LrScale LrScaleAt(int64_t epoch) const;

  // Progress one update with `step_gain` (from StepGain) and `staleness`
  // adds when applied at current progress `progress`, in an epoch whose
  // learning rate scales it by `lr` (LrScaleAt).
  double UpdateProgress(double progress, int64_t staleness, double step_gain,
                        const LrScale& lr = {}) const {
    const double harm =
        1.0 + spec_.staleness_penalty * static_cast<double>(staleness) *
                  (1.0 + spec_.staleness_gain * Closeness(progress)) * lr.harm;
    return step_gain * lr.progress / harm;
  }

  // Progress after one update (UpdateProgress minus the staleness shock,
  // never below 0) applied at `progress`; advances `shock` (see ShockState).
  double ApplyUpdate(double progress, int64_t staleness, double step_gain,
                     const LrScale& lr, ShockState& shock) const {
    double next = progress + UpdateProgress(progress, staleness, step_gain, lr);
    if (spec_.staleness_shock > 0) {
      shock.epoch_staleness += static_cast<double>(staleness);
      ++shock.epoch_updates;
      const double level =
          shock.epoch_staleness / static_cast<double>(shock.epoch_updates);
      const double excess = std::max(0.0, level - shock.tolerance);
      next -=
          step_gain * lr.progress * spec_.staleness_shock * excess * lr.harm;
      shock.tolerance += spec_.shock_relaxation * excess;
      next = std::max(0.0, next);
    }
    return next;
  }

  // Closes the shock's previous epoch (if any): a tolerance above that
  // epoch's mean staleness falls toward it by 1 - (1 - relaxation)^updates.
  // Then starts a new epoch's level.
  void StartShockEpoch(ShockState& shock) const {
    if (shock.epoch_updates > 0) {
      const double mean =
          shock.epoch_staleness / static_cast<double>(shock.epoch_updates);
      if (mean < shock.tolerance) {
        shock.tolerance =
            mean + (shock.tolerance - mean) *
                       std::pow(1.0 - spec_.shock_relaxation,
                                static_cast<double>(shock.epoch_updates));
      }
    }
    shock.epoch_staleness = 0;
    shock.epoch_updates = 0;
  }

  // Whether an epoch whose applied updates had mean staleness
  // `mean_staleness`, at learning-rate scale `lr`, collapses the run:
  // collapse_staleness > 0 and mean_staleness * r >= collapse_staleness.
  bool Collapses(double mean_staleness, const LrScale& lr = {}) const {
    return spec_.collapse_staleness > 0 &&
           mean_staleness * lr.rate >= spec_.collapse_staleness;
  }

  // The observed loss: true loss times exp(N(0, sigma^2)).
  double Observe(double true_loss, Rng& rng) const {
    return rng.LogNormal(true_loss, spec_.loss_noise_sigma);
  }

 private:
  AnalyticSpec spec_;
  double initial_loss_;
  double inv_log_span_;  // 1 / ln(l0 / b2).
};

// The reference convergence model (copy this folder to add one): the
// analytic curve behind the ConvergenceModel hooks. Each hook says what it
// does with the event; hooks this model does not need are no-ops, and say
// why.
class AnalyticModel final : public ConvergenceModel {
 public:
  explicit AnalyticModel(const Scenario& scenario);

  std::string name() const override { return "analytic"; }
  double InitialLoss() const override { return curve_.initial_loss(); }
  // The batch order does not matter; the epoch's learning rate does, and
  // the progress each worker read is kept (for overwrite).
  void StartEpoch(int workers, int64_t, uint64_t) override {
    lr_scale_ = curve_.LrScaleAt(epoch_++);
    curve_.StartShockEpoch(shock_);
    read_progress_.assign(workers, 0.0);
    epoch_staleness_ = 0;
    epoch_updates_ = 0;
  }
  // Staleness arrives with the update; the progress read is kept for
  // push_protocol overwrite.
  void OnParamsFetched(int worker) override {
    read_progress_[worker] = progress_;
  }
  // Gradients are not computed: progress is added when an update lands.
  void OnBatchComputed(int, int64_t) override {}
  // HSP: progress += g(b) L^e r^a / (1 + penalty s (1 + gain closeness) r^q)
  // minus the staleness shock (ApplyUpdate); nothing once the run has
  // collapsed. Counts the epoch's staleness.
  void OnUpdateApplied(int worker, int64_t staleness, int local_steps) override;
  // Overwrite: the store's parameters become the writer's read plus its
  // update, so progress = (progress it read) + its staleness-free gain
  // g(b) L^e. The overwritten updates' progress is gone (progress may
  // fall); one that a later writer had read survives in that writer's copy,
  // as it does in the parameters.
  void OnUpdateOverwrote(int worker, int64_t overwritten,
                         int local_steps) override;
  // Fold: nothing is pending per worker; progress is added when the stored
  // update is applied, as for apply.
  void OnUpdateStored(int) override {}
  void OnStoredUpdateApplied(int worker, int64_t staleness,
                             int local_steps) override {
    OnUpdateApplied(worker, staleness, local_steps);
  }
  // BSP: one staleness-free update of the round's samples.
  void OnRoundClosed(const std::vector<int32_t>& workers,
                     int64_t samples) override;
  // Lost work never reached the store: nothing to undo.
  void OnLocalWorkDropped(int) override {}
  // Collapses the run if this epoch's mean staleness reaches the bound
  // (Collapses); then the loss at the progress reached, observed with
  // log-normal noise.
  EpochLoss EndEpoch(Rng& loss_rng) override;
  double progress() const override { return progress_; }
  std::unique_ptr<ConvergenceModel> Clone() const override {
    return std::make_unique<AnalyticModel>(*this);
  }

 private:
  AnalyticConvergence curve_;
  double batch_size_;
  std::vector<double> step_gain_;  // By local steps folded into an update.
  double progress_ = 0;
  ShockState shock_;   // The staleness shock's tolerance and level.
  int64_t epoch_ = 0;  // Epochs started.
  AnalyticConvergence::LrScale lr_scale_;  // Of the current epoch.
  std::vector<double> read_progress_;      // Per worker: progress at its read.
  double epoch_staleness_ = 0;  // Sum over this epoch's applied updates.
  int64_t epoch_updates_ = 0;   // Applied updates this epoch.
  bool collapsed_ = false;      // For good (collapse_staleness).
};

}  // namespace siren::sim

#endif  // SIREN_SIM_CONVERGENCE_ANALYTIC_ANALYTIC_CONVERGENCE_H_
