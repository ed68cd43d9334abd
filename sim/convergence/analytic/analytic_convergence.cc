#include "sim/convergence/analytic/analytic_convergence.h"

#include <cmath>

namespace siren::sim {

AnalyticConvergence::AnalyticConvergence(const ConvergenceSpec& spec)
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

}  // namespace siren::sim
