// Fitting the analytic convergence model to ground truth (DESIGN.md §2.6):
// run the `sgd` model on a set of schedules, record every applied update's
// staleness and the loss after every epoch, then choose the analytic
// parameters whose predicted loss after each epoch matches best.
//
// Method: for the analytic model, progress after an epoch is a replay of the
// recorded updates, k += g(b) r^a / (1 + penalty * s * (1 + gain * c(k)) r^q)
// minus the staleness shock (AnalyticConvergence::ApplyUpdate; r the epoch's
// learning rate over epoch 0's), so a candidate is scored
// without re-simulating (the event timing, and with it every staleness, does
// not depend on the convergence model). For fixed (b2, p = curve_exponent,
// staleness_penalty, staleness_gain, batch_exponent, a =
// lr_progress_exponent, q = staleness_lr_exponent), (b0, b1) come from
// non-negative least squares on (l - b2)^(-1/p) = b0 k + b1 (Optimus for
// p = 1), iterated with the replay because closeness depends on them; the
// outer seven are searched on a coarse grid, then (with the shock's two
// below) by coordinate descent
// (the batch exponent only when the runs' batch sizes differ, a and q only
// when some run's learning rate changes; otherwise they keep the scenario's
// values). The collapse bound (collapse_staleness) is a step in the
// replay: it is tried at 0 (never) and between every two neighbouring
// per-epoch mean stalenesses (x rate) of the runs, each with the coarse grid
// above, and kept fixed in the descent; the collapsed loss is the mean
// (in relative error) of the collapsed epochs' losses, and a bound is
// refused when that is below half the initial loss (a plateau, not a
// collapse: the net has not lost what it learnt). The staleness shock
// (staleness_shock, shock_relaxation: a tolerance replayed with the
// updates) is tried on a small grid from the coarse grid's best candidate
// of each curve shape, kept only where it scores better, and joins the
// descent. A last descent (the polish) moves every parameter, b0 and b1
// included, scored by the relative errors themselves plus the initial
// loss's (the NNLS weights are a first-order approximation, coarse near the
// floor of a steep curve). The score is the sum of squared relative errors
// of the per-epoch loss. b2 is searched below both
// the lowest measured loss and the scenario's target loss, so the fitted
// scenario stays valid; when the sgd runs end above the target the fit has to
// extrapolate, and the reported errors show how well it does. Terms the
// caller holds (kHoldableTerms) keep the scenario's values in every stage
// above. HSP only (BSP rounds are not replayed).
#ifndef SIREN_SIM_CONVERGENCE_FIT_CONVERGENCE_FIT_H_
#define SIREN_SIM_CONVERGENCE_FIT_CONVERGENCE_FIT_H_

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "sim/convergence/analytic/analytic_convergence.h"
#include "sim/core/epoch_result.h"
#include "sim/scenario/scenario.h"

namespace siren::sim {

// One ground-truth run: a per-epoch schedule (the last action repeats) for
// `epochs` epochs under extra overrides (e.g. another batch size).
struct FitRun {
  std::vector<Action> schedule;
  std::vector<std::string> overrides;
  uint64_t seed = 0;
};

struct FitResult {
  AnalyticSpec fitted;            // The analytic model's fitted parameters.
  double max_relative_error = 0;  // Over every run and epoch.
  double mean_relative_error = 0;
  // Per run, the loss after each epoch: measured (sgd) and fitted (analytic).
  std::vector<std::vector<double>> sgd_loss;
  std::vector<std::vector<double>> fitted_loss;
  std::vector<double> mean_staleness;  // Per run.
};

// The convergence parameters a fit may hold at the scenario's values
// instead of fitting them (kHoldableTerms): when a mechanism test of the
// ground truth rules a term out (for example no staleness shock in a convex
// model), holding it keeps the fit from spending the term on noise.
// "staleness_shock" holds shock_relaxation too, "collapse_staleness" holds
// collapse_loss too.
inline constexpr const char* kHoldableTerms[] = {
    "curve_exponent", "staleness_penalty", "staleness_gain", "staleness_shock",
    "collapse_staleness"};

// Fits `base`'s convergence section (the other sections stay) to sgd runs of
// `base` with convergence.model = sgd; the terms named in `held_terms` (from
// kHoldableTerms) keep `base`'s values. Throws std::invalid_argument naming
// the problem (no runs, a BSP scenario, a bad action, a term that cannot be
// held). `on_epoch` (optional) is called after every simulated epoch with
// (done, total) epochs of all runs, for a progress display.
FitResult FitConvergence(
    const Scenario& base, const std::vector<FitRun>& runs, int epochs,
    const std::function<void(int64_t, int64_t)>& on_epoch = {},
    const std::vector<std::string>& held_terms = {});

}  // namespace siren::sim

#endif  // SIREN_SIM_CONVERGENCE_FIT_CONVERGENCE_FIT_H_
