#include "sim/convergence/lr_schedule.h"

#include <algorithm>
#include <cmath>
#include <numbers>
#include <stdexcept>

namespace siren::sim {

double LrSchedule::At(int64_t epoch) const {
  if (kind == "constant") return rate;
  if (kind == "step") {
    return rate *
           std::pow(step_factor, static_cast<double>(epoch / step_epochs));
  }
  if (kind == "cosine") {
    const double t =
        static_cast<double>(std::min(epoch, cosine_epochs)) / cosine_epochs;
    return rate * (min_factor + (1.0 - min_factor) * 0.5 *
                                    (1.0 + std::cos(std::numbers::pi * t)));
  }
  throw std::invalid_argument("convergence.sgd.lr_schedule: got '" + kind +
                              "', expected constant, step or cosine");
}

bool LrSchedule::IsConstant() const {
  if (kind == "step") return step_factor == 1.0;
  if (kind == "cosine") return min_factor == 1.0;
  return true;
}

LrSchedule LrSchedule::FromScenario(const Scenario& scenario) {
  const ParamValues& p = scenario.params;
  LrSchedule lr;
  lr.kind = p.String("convergence.sgd.lr_schedule");
  lr.rate = p.Double("convergence.sgd.learning_rate");
  lr.step_epochs = p.Int("convergence.sgd.lr_step_epochs");
  lr.step_factor = p.Double("convergence.sgd.lr_step_factor");
  lr.cosine_epochs = p.Int("convergence.sgd.lr_cosine_epochs");
  lr.min_factor = p.Double("convergence.sgd.lr_min_factor");
  return lr;
}

}  // namespace siren::sim
