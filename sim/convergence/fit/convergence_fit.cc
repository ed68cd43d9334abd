#include "sim/convergence/fit/convergence_fit.h"

#include <Eigen/Dense>
#include <algorithm>
#include <cmath>
#include <limits>
#include <memory>
#include <stdexcept>

#include "sim/convergence/analytic/analytic_convergence.h"
#include "sim/convergence/fit/nnls.h"
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
  std::vector<std::vector<int32_t>> staleness;  // Per epoch, per update.
  std::vector<double> loss;                     // Per epoch.
};

struct Candidate {
  double b0 = 0, b1 = 0, b2 = 0, penalty = 0, gain = 0, batch_exponent = 0;
};

// Progress after each epoch of `trace` under `c`.
std::vector<double> Replay(const Trace& trace, const Candidate& c,
                           const AnalyticSpec& base) {
  AnalyticSpec spec = base;
  spec.b0 = c.b0;
  spec.b1 = c.b1;
  spec.b2 = c.b2;
  spec.staleness_penalty = c.penalty;
  spec.staleness_gain = c.gain;
  spec.batch_exponent = c.batch_exponent;
  const AnalyticConvergence model(spec);
  const double step_gain = model.StepGain(trace.batch, trace.local_steps);
  std::vector<double> progress;
  double k = 0;
  for (const auto& epoch : trace.staleness) {
    for (int32_t s : epoch) k += model.UpdateProgress(k, s, step_gain);
    progress.push_back(k);
  }
  return progress;
}

double Predict(const Candidate& c, double k) {
  return 1.0 / (c.b0 * k + c.b1) + c.b2;
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

// For fixed b2, penalty, gain and batch exponent, fits (b0, b1) by NNLS,
// alternating with the replay. Returns the score.
double FitOptimus(const std::vector<Trace>& traces, Candidate& c,
                  const AnalyticSpec& base) {
  c.b1 = 1.0 / std::max(1e-9, traces.front().initial_loss - c.b2);
  if (c.b0 <= 0) c.b0 = 1e-3;
  for (int iteration = 0; iteration < 8; ++iteration) {
    std::vector<std::array<double, 3>> rows;  // k, target, weight
    for (const Trace& t : traces) {
      const double gap0 = t.initial_loss - c.b2;
      rows.push_back({0.0, 1.0 / gap0, gap0 * gap0 / t.initial_loss});
      const std::vector<double> k = Replay(t, c, base);
      for (size_t e = 0; e < k.size(); ++e) {
        const double gap = t.loss[e] - c.b2;
        if (gap <= 0) return std::numeric_limits<double>::infinity();
        // Weighted so the residual approximates the relative loss error.
        rows.push_back({k[e], 1.0 / gap, gap * gap / t.loss[e]});
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
    if (x[0] <= 0 || x[1] <= 0) return std::numeric_limits<double>::infinity();
    c.b0 = x[0];
    c.b1 = x[1];
  }
  return Score(traces, c, base);
}

}  // namespace

FitResult FitConvergence(
    const Scenario& base, const std::vector<FitRun>& runs, int epochs,
    const std::function<void(int64_t, int64_t)>& on_epoch) {
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
  // b2 stays below the lowest measured loss and below the scenario's target,
  // so that the fitted scenario is valid (its target reachable).
  double min_loss = base.workload.target_loss;
  for (const Trace& t : traces) {
    for (double l : t.loss) min_loss = std::min(min_loss, l);
  }

  // Coarse grid over (b2, penalty, gain, batch exponent).
  Candidate best;
  double best_score = std::numeric_limits<double>::infinity();
  const AnalyticSpec spec = AnalyticSpec::FromScenario(base);
  for (double fraction :
       {0.5, 0.7, 0.8, 0.85, 0.9, 0.93, 0.95, 0.97, 0.98, 0.99}) {
    for (double penalty : {0.0, 1e-4, 3e-4, 1e-3, 3e-3, 0.01, 0.03, 0.1, 0.3}) {
      for (double gain : {0.0, 1.0, 2.0, 4.0}) {
        if (penalty == 0 && gain != 0) continue;
        for (double exponent : exponents) {
          Candidate c{0, 0, fraction * min_loss, penalty, gain, exponent};
          const double score = FitOptimus(traces, c, spec);
          if (score < best_score) {
            best_score = score;
            best = c;
          }
        }
      }
    }
  }
  // Refine each outer parameter around the best point by shrinking steps.
  for (double step = 0.5; step > 0.01; step *= 0.5) {
    for (int which = 0; which < 4; ++which) {
      for (double direction : {-1.0, 1.0}) {
        Candidate c = best;
        double* value = which == 0   ? &c.b2
                        : which == 1 ? &c.penalty
                        : which == 2 ? &c.gain
                                     : &c.batch_exponent;
        if (which == 3 && !batches_differ) continue;
        *value = *value > 0 ? *value * (1 + direction * step)
                            : (direction > 0 ? step * 1e-3 : 0.0);
        if (c.b2 <= 0 || c.b2 >= min_loss || c.batch_exponent > 1) continue;
        const double score = FitOptimus(traces, c, spec);
        if (score < best_score) {
          best_score = score;
          best = c;
        }
      }
    }
  }

  result.fitted = spec;
  result.fitted.b0 = best.b0;
  result.fitted.b1 = best.b1;
  result.fitted.b2 = best.b2;
  result.fitted.staleness_penalty = best.penalty;
  result.fitted.staleness_gain = best.gain;
  result.fitted.batch_exponent = best.batch_exponent;
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
