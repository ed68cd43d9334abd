#include "sim/convergence/fit/convergence_fit.h"

#include <Eigen/Dense>
#include <algorithm>
#include <array>
#include <cmath>
#include <iterator>
#include <limits>
#include <memory>
#include <stdexcept>
#include <utility>
#include <vector>

#include "sim/convergence/analytic/analytic_convergence.h"
#include "sim/convergence/fit/nnls.h"
#include "sim/convergence/lr_schedule.h"
#include "sim/convergence/sgd/sgd_model.h"
#include "sim/engine/simulation.h"
#include "sim/scenario/scenario_loader.h"

namespace siren::sim {
namespace {

// Records the staleness of every applied update, per epoch.
class UpdateRecorder : public Observer {
 public:
  void OnEpochStart(int, double, const Action&) override {
    staleness.emplace_back();
  }
  void OnUpdateApplied(int, double, int64_t, int64_t s) override {
    staleness.back().push_back(static_cast<int32_t>(s));
  }
  std::vector<std::vector<int32_t>> staleness;
};

// What one sgd run contributes to the fit.
struct Trace {
  double batch = 0;  // Batch size.
  int local_steps = 1;
  double initial_loss = 0;
  std::vector<double> lr_factor;                // Per epoch: lr(e) / lr(0).
  std::vector<std::vector<int32_t>> staleness;  // Per epoch, per update.
  std::vector<double> mean_staleness;           // Per epoch (0: no update).
  std::vector<double> loss;                     // Per epoch.
};

struct Candidate {
  double b0 = 0, b1 = 0, b2 = 0, penalty = 0, gain = 0, batch_exponent = 0;
  double lr_progress = 0, lr_harm = 0;  // The two learning-rate exponents.
  double curve = 1;                     // The curve exponent p.
  double collapse = 0;                  // collapse_staleness (0: never).
  double collapse_loss = 0;             // The loss once collapsed.
  double shock = 0;                     // staleness_shock (0: none).
  double relaxation = 0.05;             // shock_relaxation.
};

// Which terms keep the scenario's values (FitConvergence's `held_terms`).
struct Held {
  bool curve = false, penalty = false, gain = false, shock = false;
  bool collapse = false;
};

// Held's flag of each of kHoldableTerms, in that order.
constexpr bool Held::*kHeldFlags[] = {&Held::curve, &Held::penalty, &Held::gain,
                                      &Held::shock, &Held::collapse};
static_assert(std::size(kHeldFlags) == std::size(kHoldableTerms));

// The Held of FitConvergence's `held_terms`; throws std::invalid_argument
// naming a term that cannot be held.
Held ParseHeld(const std::vector<std::string>& names) {
  Held held;
  for (const std::string& name : names) {
    const auto* term =
        std::find(std::begin(kHoldableTerms), std::end(kHoldableTerms), name);
    if (term == std::end(kHoldableTerms)) {
      std::string expected;
      for (const char* holdable : kHoldableTerms) {
        expected += (expected.empty() ? "" : ", ") + std::string(holdable);
      }
      throw std::invalid_argument("fit-convergence held term: got \"" + name +
                                  "\", expected one of " + expected);
    }
    held.*kHeldFlags[term - std::begin(kHoldableTerms)] = true;
  }
  return held;
}

// `spec` with the parameters of `c`.
AnalyticSpec WithCandidate(AnalyticSpec spec, const Candidate& c) {
  spec.b0 = c.b0;
  spec.b1 = c.b1;
  spec.b2 = c.b2;
  spec.staleness_penalty = c.penalty;
  spec.staleness_gain = c.gain;
  spec.batch_exponent = c.batch_exponent;
  spec.lr_progress_exponent = c.lr_progress;
  spec.staleness_lr_exponent = c.lr_harm;
  spec.curve_exponent = c.curve;
  spec.collapse_staleness = c.collapse;
  spec.collapse_loss = c.collapse_loss;
  spec.staleness_shock = c.shock;
  spec.shock_relaxation = c.relaxation;
  return spec;
}

// Progress after each epoch of `trace` under `c`; kCollapsed from the epoch
// the run collapses on (c.collapse).
constexpr double kCollapsed = -1;
std::vector<double> Replay(const Trace& trace, const Candidate& c,
                           const AnalyticSpec& base) {
  const AnalyticConvergence model(WithCandidate(base, c));
  const double step_gain = model.StepGain(trace.batch, trace.local_steps);
  std::vector<double> progress;
  double k = 0;
  ShockState shock;  // As in AnalyticModel.
  bool collapsed = false;
  for (size_t e = 0; e < trace.staleness.size(); ++e) {
    const double r = trace.lr_factor[e];
    const AnalyticConvergence::LrScale lr{std::pow(r, c.lr_progress),
                                          std::pow(r, c.lr_harm), r};
    if (!collapsed) {
      model.StartShockEpoch(shock);
      for (int32_t s : trace.staleness[e]) {
        k = model.ApplyUpdate(k, s, step_gain, lr, shock);
      }
      // As AnalyticModel::EndEpoch: a collapse is for good.
      if (!trace.staleness[e].empty() &&
          model.Collapses(trace.mean_staleness[e], lr)) {
        collapsed = true;
      }
    }
    progress.push_back(collapsed ? kCollapsed : k);
  }
  return progress;
}

// The loss at progress k, as AnalyticConvergence gives it: a collapsed run
// sits at collapse_loss, or at the curve's initial loss when that is 0.
double Predict(const Candidate& c, double k) {
  if (k == kCollapsed) {
    return c.collapse_loss > 0 ? c.collapse_loss
                               : std::pow(c.b1, -c.curve) + c.b2;
  }
  return std::pow(c.b0 * k + c.b1, -c.curve) + c.b2;
}

// Sum of squared relative errors of `c` over every trace and epoch.
double Score(const std::vector<Trace>& traces, const Candidate& c,
             const AnalyticSpec& base) {
  double total = 0;
  for (const Trace& t : traces) {
    const std::vector<double> k = Replay(t, c, base);
    for (size_t e = 0; e < k.size(); ++e) {
      const double r = (Predict(c, k[e]) - t.loss[e]) / t.loss[e];
      total += r * r;
    }
  }
  return total;
}

// The outer parameters the descent and the polish move, in one order.
constexpr int kOuter = 9;
enum OuterIndex {
  kB2 = 0,
  kPenalty,
  kGain,
  kBatchExponent,
  kLrProgress,
  kLrHarm,
  kCurve,
  kShock,
  kRelaxation
};
static_assert(kRelaxation == kOuter - 1);
std::array<double*, kOuter> OuterParameters(Candidate& c) {
  return {&c.b2,      &c.penalty, &c.gain,  &c.batch_exponent, &c.lr_progress,
          &c.lr_harm, &c.curve,   &c.shock, &c.relaxation};
}

// Whether outer parameter `which` may move: the batch exponent only when
// the runs' batches differ, the rate exponents only when some run's rate
// changes (otherwise they are not identifiable and keep the scenario's
// values), the relaxation only with a shock (it does nothing without), and
// no held term.
bool Movable(int which, const Candidate& c, bool batches_differ,
             bool rate_changes, const Held& held) {
  switch (which) {
    case kPenalty:
      return !held.penalty;
    case kGain:
      return !held.gain;
    case kCurve:
      return !held.curve;
    case kShock:
      return !held.shock;
    case kRelaxation:
      return !held.shock && c.shock != 0;
    case kBatchExponent:
      return batches_differ;
    case kLrProgress:
    case kLrHarm:
      return rate_changes;
    default:
      return true;
  }
}

// The outer parameters within the parameter table's ranges, so the fitted
// scenario loads; b2 at least 1e-3 of the lowest loss (a floor of ~0 is as
// good as any tiny one, and the scenario needs b2 >= 1e-9) and below it.
bool OuterInRange(const Candidate& c, double min_loss) {
  return c.b2 >= 1e-3 * min_loss && c.b2 < min_loss && c.batch_exponent <= 1 &&
         c.lr_progress <= 4 && c.lr_harm <= 8 && c.penalty <= 1000 &&
         c.gain <= 1000 && c.curve >= 0.1 && c.curve <= 10 && c.shock <= 100 &&
         c.relaxation >= 1e-6 && c.relaxation <= 1;
}

// Score plus the squared relative error of the curve's initial loss
// against each trace's (the NNLS fit's row at k = 0).
double PolishScore(const std::vector<Trace>& traces, const Candidate& c,
                   const AnalyticSpec& base) {
  double total = Score(traces, c, base);
  const double initial = std::pow(c.b1, -c.curve) + c.b2;
  for (const Trace& t : traces) {
    const double r = (initial - t.initial_loss) / t.initial_loss;
    total += r * r;
  }
  return total;
}

// The NNLS fit of (b0, b1) weights the relative errors only to first order,
// which is coarse where the loss nears the floor b2 on a steep curve. The
// polish: coordinate descent on b0, b1 and the movable outer parameters
// (Movable), scored by the relative errors themselves (PolishScore) from
// `start`. The curve's initial loss stays above `target_loss`, so the
// fitted scenario validates.
Candidate Polish(const std::vector<Trace>& traces, const Candidate& start,
                 const AnalyticSpec& base, double min_loss, double target_loss,
                 bool batches_differ, bool rate_changes, const Held& held) {
  Candidate best = start;
  double best_score = PolishScore(traces, best, base);
  for (double step = 0.2; step > 0.002; step *= 0.5) {
    for (int round = 0; round < 50; ++round) {
      bool improved = false;
      // b0 (-2), b1 (-1), then the outer parameters.
      for (int which = -2; which < kOuter; ++which) {
        for (double direction : {-1.0, 1.0}) {
          Candidate c = best;
          if (which >= 0 &&
              !Movable(which, c, batches_differ, rate_changes, held)) {
            continue;
          }
          double* value = which == -2   ? &c.b0
                          : which == -1 ? &c.b1
                                        : OuterParameters(c)[which];
          // Parameters at 0 stay off (the search above chose them so).
          if (*value <= 0) continue;
          *value *= 1 + direction * step;
          if (!(c.b0 >= 1e-12 && c.b0 <= 1e6 && c.b1 >= 1e-9 && c.b1 <= 1e9) ||
              !OuterInRange(c, min_loss) ||
              !(std::pow(c.b1, -c.curve) + c.b2 > target_loss)) {
            continue;
          }
          const double score = PolishScore(traces, c, base);
          if (score < best_score) {
            best_score = score;
            best = c;
            improved = true;
          }
        }
      }
      if (!improved) break;
    }
  }
  return best;
}

// For fixed b2, curve exponent p and the staleness, batch and rate terms,
// fits (b0, b1) by NNLS on (l - b2)^(-1/p) = b0 k + b1, alternating with the
// replay, then the collapsed loss unless `collapse_held`. Returns the score.
double FitOptimus(const std::vector<Trace>& traces, Candidate& c,
                  const AnalyticSpec& base, bool collapse_held) {
  const double p = c.curve;
  // A row (k, target, weight) for a loss l at progress k. The weight makes
  // the residual approximate the relative loss error: it divides by
  // |d target / d l| * l = (1/p) (l - b2)^(-1/p - 1) * l.
  const auto row = [&](double k, double l) {
    const double gap = l - c.b2;
    return std::array<double, 3>{k, std::pow(gap, -1.0 / p),
                                 p * std::pow(gap, 1.0 / p + 1.0) / l};
  };
  c.b1 = std::pow(std::max(1e-9, traces.front().initial_loss - c.b2), -1 / p);
  if (c.b0 <= 0) c.b0 = 1e-3;
  for (int iteration = 0; iteration < 8; ++iteration) {
    std::vector<std::array<double, 3>> rows;  // k, target, weight
    for (const Trace& t : traces) {
      if (t.initial_loss <= c.b2) {
        return std::numeric_limits<double>::infinity();
      }
      rows.push_back(row(0.0, t.initial_loss));
      const std::vector<double> k = Replay(t, c, base);
      for (size_t e = 0; e < k.size(); ++e) {
        if (k[e] == kCollapsed) continue;  // Not on the curve.
        if (t.loss[e] <= c.b2) return std::numeric_limits<double>::infinity();
        rows.push_back(row(k[e], t.loss[e]));
      }
    }
    Eigen::MatrixXd a(rows.size(), 2);
    Eigen::VectorXd y(rows.size());
    for (size_t r = 0; r < rows.size(); ++r) {
      a(r, 0) = rows[r][0] * rows[r][2];
      a(r, 1) = rows[r][2];
      y[r] = rows[r][1] * rows[r][2];
    }
    const Eigen::VectorXd x = SolveNnls(a, y);
    // Within the parameter table's ranges, so the fitted scenario loads.
    if (!(x[0] >= 1e-12 && x[0] <= 1e6 && x[1] >= 1e-9 && x[1] <= 1e9)) {
      return std::numeric_limits<double>::infinity();
    }
    c.b0 = x[0];
    c.b1 = x[1];
  }
  // A held collapse keeps the scenario's collapse_loss (and is not checked
  // for a plateau below: the user chose it).
  if (collapse_held) return Score(traces, c, base);
  // The collapsed loss minimising the squared relative errors of the
  // collapsed epochs: sum(1/l) / sum(1/l^2). 0 (the initial loss) if none.
  double inverse = 0, inverse_square = 0;
  for (const Trace& t : traces) {
    const std::vector<double> k = Replay(t, c, base);
    for (size_t e = 0; e < k.size(); ++e) {
      if (k[e] != kCollapsed) continue;
      inverse += 1 / t.loss[e];
      inverse_square += 1 / (t.loss[e] * t.loss[e]);
    }
  }
  c.collapse_loss = inverse_square > 0 ? inverse / inverse_square : 0.0;
  // A collapsed net has lost what it learnt: a bound whose collapsed epochs
  // sit below half the initial loss is a plateau, not a collapse.
  if (inverse_square > 0 &&
      c.collapse_loss < 0.5 * traces.front().initial_loss) {
    return std::numeric_limits<double>::infinity();
  }
  return Score(traces, c, base);
}

// The collapse bounds worth trying: 0 (never), and one between each pair of
// neighbouring values of mean staleness x rate over every run's epochs (the
// midpoint: every bound between two values collapses the same epochs).
// Values within 2 % of each other count as one, which keeps the grid short.
std::vector<double> CollapseThresholds(const std::vector<Trace>& traces) {
  std::vector<double> values;
  for (const Trace& t : traces) {
    for (size_t e = 0; e < t.mean_staleness.size(); ++e) {
      const double v = t.mean_staleness[e] * t.lr_factor[e];
      if (v > 0 && !t.staleness[e].empty()) values.push_back(v);
    }
  }
  std::sort(values.begin(), values.end());
  std::vector<double> distinct;
  for (double v : values) {
    if (distinct.empty() || v > distinct.back() * 1.02) distinct.push_back(v);
  }
  std::vector<double> thresholds = {0.0};
  for (size_t i = 1; i < distinct.size(); ++i) {
    thresholds.push_back(0.5 * (distinct[i - 1] + distinct[i]));
  }
  return thresholds;
}

}  // namespace

FitResult FitConvergence(const Scenario& base, const std::vector<FitRun>& runs,
                         int epochs,
                         const std::function<void(int64_t, int64_t)>& on_epoch,
                         const std::vector<std::string>& held_terms) {
  const Held held = ParseHeld(held_terms);
  if (runs.empty()) {
    throw std::invalid_argument(
        "fit-convergence: got no runs, expected at least one schedule");
  }
  if (epochs < 1) {
    throw std::invalid_argument("epochs: got " + std::to_string(epochs) +
                                ", expected >= 1");
  }
  if (base.execution.mode != ExecutionMode::kHsp) {
    throw std::invalid_argument(
        "execution.mode: got \"bsp\", expected \"hsp\" (the fitter replays "
        "asynchronous updates)");
  }

  // Ground truth: every run under sgd, never stopping early. Holding the
  // data keeps it in the cache for every run instead of rebuilding it.
  FitResult result;
  std::vector<Trace> traces;
  const std::string yaml = ScenarioToYaml(base);
  Scenario sgd_base = base;
  sgd_base.models.convergence = "sgd";
  const std::shared_ptr<const SgdData> data = LoadSgdData(sgd_base);
  const int64_t total_epochs = static_cast<int64_t>(runs.size()) * epochs;
  int64_t done_epochs = 0;
  for (const FitRun& run : runs) {
    Scenario s = ParseScenario(yaml, run.overrides, "fit run");
    s.models.convergence = "sgd";
    s.job.budget_usd = std::numeric_limits<double>::max();
    s.job.max_epochs = epochs;
    s.workload.target_loss = 0;
    Simulation sim(std::make_shared<const Scenario>(s), run.seed);
    UpdateRecorder recorder;
    sim.AddObserver(&recorder);
    Trace trace;
    trace.batch = static_cast<double>(s.workload.batch_size);
    trace.local_steps = s.execution.sync_every;
    trace.initial_loss = sim.loss();
    const LrSchedule lr = LrSchedule::FromScenario(s);
    for (int e = 0; e < epochs; ++e) trace.lr_factor.push_back(lr.Factor(e));
    double staleness_sum = 0;
    int64_t updates = 0;
    for (int e = 0; e < epochs; ++e) {
      const Action& action =
          run.schedule[std::min<size_t>(e, run.schedule.size() - 1)];
      const EpochResult r = sim.RunEpoch(action);
      trace.loss.push_back(r.loss);
      staleness_sum += r.mean_staleness * r.updates;
      updates += r.updates;
      if (on_epoch) on_epoch(++done_epochs, total_epochs);
    }
    trace.staleness = std::move(recorder.staleness);
    for (const std::vector<int32_t>& epoch : trace.staleness) {
      double sum = 0;
      for (int32_t s : epoch) sum += s;
      trace.mean_staleness.push_back(epoch.empty() ? 0.0 : sum / epoch.size());
    }
    result.sgd_loss.push_back(trace.loss);
    result.mean_staleness.push_back(updates ? staleness_sum / updates : 0.0);
    traces.push_back(std::move(trace));
  }

  // The batch exponent is only identifiable when batch sizes differ.
  bool batches_differ = false;
  for (const Trace& t : traces)
    batches_differ |= t.batch != traces.front().batch;
  const std::vector<double> exponents =
      batches_differ ? std::vector<double>{0.25, 0.5, 0.75, 1.0}
                     : std::vector<double>{
                           AnalyticSpec::FromScenario(base).batch_exponent};
  // The learning-rate exponents only when some run's rate changes.
  bool rate_changes = false;
  for (const Trace& t : traces) {
    for (double r : t.lr_factor) rate_changes |= r != 1.0;
  }
  const AnalyticSpec base_spec = AnalyticSpec::FromScenario(base);
  const std::vector<double> lr_progress_grid =
      rate_changes ? std::vector<double>{0.5, 1.0}
                   : std::vector<double>{base_spec.lr_progress_exponent};
  const std::vector<double> lr_harm_grid =
      rate_changes ? std::vector<double>{0.0, 2.0, 6.0}
                   : std::vector<double>{base_spec.staleness_lr_exponent};
  // b2 stays below the lowest measured loss and below the scenario's target,
  // so that the fitted scenario is valid (its target reachable).
  double min_loss = base.workload.target_loss;
  for (const Trace& t : traces) {
    for (double l : t.loss) min_loss = std::min(min_loss, l);
  }

  // Coarse grid over (b2, penalty, gain, curve exponent, batch exponent,
  // the learning-rate exponents), then coordinate descent. Penalties up to
  // 10: deep nets can stop learning at a staleness of ten (README, deep
  // models).
  const std::vector<double> collapse_grid =
      held.collapse ? std::vector<double>{base_spec.collapse_staleness}
                    : CollapseThresholds(traces);
  // A held term's grid is the scenario's value alone.
  const auto grid = [](bool is_held, double value, std::vector<double> values) {
    return is_held ? std::vector<double>{value} : values;
  };
  const std::vector<double> penalty_grid =
      grid(held.penalty, base_spec.staleness_penalty,
           {0.0, 1e-4, 1e-3, 0.01, 0.1, 1.0, 10.0});
  const std::vector<double> gain_grid =
      grid(held.gain, base_spec.staleness_gain, {0.0, 2.0, 8.0});
  const std::vector<double> curve_grid =
      grid(held.curve, base_spec.curve_exponent, {0.5, 1.0, 2.0, 3.0, 6.0});
  Candidate best;
  double best_score = std::numeric_limits<double>::infinity();
  const AnalyticSpec& spec = base_spec;
  // The coarse grid's best candidate of each curve shape (b2, curve
  // exponent), for the shock grid below.
  std::vector<std::pair<double, Candidate>> shape_best;
  const auto record_shape = [&](double score, const Candidate& c) {
    const auto it = std::find_if(
        shape_best.begin(), shape_best.end(), [&](const auto& entry) {
          return entry.second.b2 == c.b2 && entry.second.curve == c.curve;
        });
    if (it == shape_best.end()) {
      shape_best.emplace_back(score, c);
    } else if (score < it->first) {
      *it = {score, c};
    }
  };
  // Scores `c` and keeps it if it is the best so far; true then. The
  // coarse grid also records it for its curve shape.
  const auto consider = [&](Candidate c, bool coarse = false) {
    const double score = FitOptimus(traces, c, spec, held.collapse);
    if (coarse) record_shape(score, c);
    if (score < best_score) {
      best_score = score;
      best = c;
      return true;
    }
    return false;
  };
  // The coarse grid's candidates start from the held terms' values.
  Candidate start;
  if (held.collapse) start.collapse_loss = base_spec.collapse_loss;
  if (held.shock) {
    start.shock = base_spec.staleness_shock;
    start.relaxation = base_spec.shock_relaxation;
  }
  for (double collapse : collapse_grid) {
    for (double fraction : {0.5, 0.8, 0.9, 0.95, 0.98}) {
      for (double penalty : penalty_grid) {
        for (double gain : gain_grid) {
          if (penalty == 0 && gain != 0 && !held.gain) continue;
          for (double curve : curve_grid) {
            for (double exponent : exponents) {
              for (double lr_progress : lr_progress_grid) {
                for (double lr_harm : lr_harm_grid) {
                  if (penalty == 0 && lr_harm != lr_harm_grid.front()) continue;
                  Candidate c = start;
                  c.b2 = fraction * min_loss;
                  c.penalty = penalty;
                  c.gain = gain;
                  c.batch_exponent = exponent;
                  c.lr_progress = lr_progress;
                  c.lr_harm = lr_harm;
                  c.curve = curve;
                  c.collapse = collapse;
                  consider(c, /*coarse=*/true);
                }
              }
            }
          }
        }
      }
    }
  }
  // The staleness shock from the coarse grid's best candidate of each
  // curve shape (the shock can turn a curve that is worse without it into
  // the better fit): tried on a grid of its own, with the penalty scaled
  // down as the shock takes over part of the harm, kept only where it
  // scores better; the descent refines it.
  for (const auto& [score, unshocked] : shape_best) {
    if (!std::isfinite(score) || held.shock) continue;
    for (double shock : {0.03, 0.1, 0.3}) {
      for (double relaxation : {0.01, 0.03, 0.1}) {
        for (double penalty_scale : {1.0, 0.5, 0.25}) {
          if ((unshocked.penalty == 0 || held.penalty) &&
              penalty_scale != 1.0) {
            continue;
          }
          Candidate c = unshocked;
          c.shock = shock;
          c.relaxation = relaxation;
          c.penalty *= penalty_scale;
          consider(c);
        }
      }
    }
  }
  // Coordinate descent: move each outer parameter by a factor 1 +- step
  // while that helps, then shrink the step.
  for (double step = 0.5; step > 0.01; step *= 0.5) {
    for (int round = 0; round < 20; ++round) {
      bool improved = false;
      for (int which = 0; which < kOuter; ++which) {
        if (!Movable(which, best, batches_differ, rate_changes, held)) {
          continue;
        }
        for (double direction : {-1.0, 1.0}) {
          Candidate c = best;
          double* value = OuterParameters(c)[which];
          *value = *value > 0 ? *value * (1 + direction * step)
                              : (direction > 0 ? step * 1e-3 : 0.0);
          if (!OuterInRange(c, min_loss)) continue;
          improved |= consider(c);
        }
      }
      if (!improved) break;
    }
  }

  best = Polish(traces, best, spec, min_loss, base.workload.target_loss,
                batches_differ, rate_changes, held);
  result.fitted = WithCandidate(spec, best);
  double error_sum = 0;
  int64_t points = 0;
  for (const Trace& t : traces) {
    const std::vector<double> k = Replay(t, best, spec);
    std::vector<double> predicted;
    for (size_t e = 0; e < k.size(); ++e) {
      predicted.push_back(Predict(best, k[e]));
      const double error = std::abs(predicted.back() - t.loss[e]) / t.loss[e];
      result.max_relative_error = std::max(result.max_relative_error, error);
      error_sum += error;
      ++points;
    }
    result.fitted_loss.push_back(std::move(predicted));
  }
  result.mean_relative_error = points ? error_sum / points : 0.0;
  return result;
}

}  // namespace siren::sim
