#include "sim/convergence/sgd/lr_schedule.h"

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

}  // namespace siren::sim
