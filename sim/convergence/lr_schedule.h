// The learning-rate schedules of a training job (`convergence.sgd.lr_*`), per
// epoch. The `sgd` model steps at this rate; the `analytic` model scales its
// progress and staleness harm by the rate relative to epoch 0's. Per epoch: the
// rate of epoch e (0-based, counting the epochs this job has started) holds
// for every local step of that epoch. Per epoch rather than per update, so
// that the rate of an epoch does not depend on how many functions share it
// (a schedule of actions changes the updates per epoch, not the epochs).
#ifndef SIREN_SIM_CONVERGENCE_SGD_LR_SCHEDULE_H_
#define SIREN_SIM_CONVERGENCE_SGD_LR_SCHEDULE_H_

#include <cstdint>
#include <string>

#include "sim/scenario/scenario.h"

namespace siren::sim {

struct LrSchedule {
  // "constant": rate.
  // "step": rate x step_factor^floor(e / step_epochs) (step decay, e.g.
  //   He et al. 2016: /10 every so many epochs).
  // "cosine": rate x (min_factor + (1 - min_factor) x
  //   (1 + cos(pi x min(e, cosine_epochs) / cosine_epochs)) / 2), which
  //   falls from rate to rate x min_factor over cosine_epochs epochs and
  //   stays there (Loshchilov and Hutter, ICLR 2017, without restarts).
  std::string kind = "constant";
  double rate = 0.1;
  int64_t step_epochs = 10;
  double step_factor = 0.1;
  int64_t cosine_epochs = 30;
  double min_factor = 0.0;

  // The rate of epoch `epoch` (>= 0). An unknown kind throws
  // std::invalid_argument (the parameter table allows only the three).
  double At(int64_t epoch) const;
  // At(epoch) / At(0): 1 for every epoch of a constant schedule.
  double Factor(int64_t epoch) const { return At(epoch) / At(0); }
  // True when the rate never changes (constant, or a decay that is a no-op).
  bool IsConstant() const;

  // The schedule of `scenario` (convergence.sgd.learning_rate and lr_*).
  static LrSchedule FromScenario(const Scenario& scenario);
};

}  // namespace siren::sim

#endif  // SIREN_SIM_CONVERGENCE_SGD_LR_SCHEDULE_H_
