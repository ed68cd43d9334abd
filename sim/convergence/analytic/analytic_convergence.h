// The analytic convergence model (DESIGN.md §2.6): loss over accumulated
// effective progress k in the Optimus form l(k) = 1 / (b0 k + b1) + b2. Each
// applied update adds
//   g(batch) * L^local_step_exponent / (1 + penalty * s * (1 + gain * c))
// with g(batch) = (batch / reference_batch)^batch_exponent (sub-linear in the
// batch), L the local steps folded into the update, s its staleness and
// c in [0, 1) the closeness to convergence (see Closeness): stale updates
// hurt more as training nears its end. The observed loss carries
// log-normal noise.
#ifndef SIREN_SIM_CONVERGENCE_ANALYTIC_ANALYTIC_CONVERGENCE_H_
#define SIREN_SIM_CONVERGENCE_ANALYTIC_ANALYTIC_CONVERGENCE_H_

#include <cmath>
#include <cstdint>

#include "sim/core/rng.h"
#include "sim/scenario/scenario.h"

namespace siren::sim {

class AnalyticConvergence {
 public:
  explicit AnalyticConvergence(const ConvergenceSpec& spec);

  // Loss after progress k (k >= 0).
  double Loss(double progress) const {
    return 1.0 / (spec_.b0 * progress + spec_.b1) + spec_.b2;
  }
  double initial_loss() const { return initial_loss_; }

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

  // Progress one update with `step_gain` (from StepGain) and `staleness`
  // adds when applied at current progress `progress`.
  double UpdateProgress(double progress, int64_t staleness,
                        double step_gain) const {
    const double harm = 1.0 + spec_.staleness_penalty *
                                  static_cast<double>(staleness) *
                                  (1.0 + spec_.staleness_gain *
                                             Closeness(progress));
    return step_gain / harm;
  }

  // The observed loss: true loss times exp(N(0, sigma^2)).
  double Observe(double true_loss, Rng& rng) const {
    return rng.LogNormal(true_loss, spec_.loss_noise_sigma);
  }

 private:
  ConvergenceSpec spec_;
  double initial_loss_;
  double inv_log_span_;  // 1 / ln(l0 / b2).
};

}  // namespace siren::sim

#endif  // SIREN_SIM_CONVERGENCE_ANALYTIC_ANALYTIC_CONVERGENCE_H_
