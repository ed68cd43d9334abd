// The observation: SIREN's state s_t = (t, l_t, P_t, P^F_t, P^C_t, P^U_t, u_t,
// w_t, b_t) (DESIGN.md §3.1) as a flat float32 vector with finite bounds.
//
//  index  name               meaning                                bounds
//  0      epoch_fraction     t: epochs done / job.max_epochs        [0, 1]
//  1      loss               l_t: observed loss / initial loss      [0, clip]
//  2      epoch_duration     P_t: last epoch's wall time /          [0, clip]
//                            env.time_scale_s
//  3      fetch_time         P^F_t: mean batch + parameter fetch    [0, clip]
//                            per batch / env.batch_time_scale_s
//  4      compute_time       P^C_t: mean compute per batch / same   [0, clip]
//  5      update_time        P^U_t: mean update push / same         [0, clip]
//  6      utilisation        u_t: compute time / billed time        [0, 1]
//  7      functions          w_t: last n / env.max_functions        [0, 1]
//  8      memory             w_t: last memory / largest size        [0, 1]
//                            on the platform's memory grid
//  9      budget_remaining   b_t: 1 - cost so far / budget (>= 0)   [0, 1]
//  10     budget             the episode's budget /                 [0, clip]
//                            env.budget_scale_usd
//  11     dataset_scale      the episode's workload.dataset_samples [0, clip]
//                            / the scenario's
//
// Indices 10 and 11 are constant within an episode; they differ between
// episodes when the scenario draws its job per episode
// (sim/engine/job_draw.h: job.budget_range,
// variability.dataset_scale_range), so one policy can serve many jobs. The
// other drawn quantities (loss noise, compute and S3 slowdowns) are not
// observed directly, only through the epochs' times and losses.
//
// clip = env.observation_clip; values beyond a bound are clipped to it. Before
// the first epoch the time fields, utilisation and last action are 0, the
// loss 1 and the budget 1.
#ifndef SIREN_ENV_OBSERVATION_H_
#define SIREN_ENV_OBSERVATION_H_

#include <array>
#include <string>

#include "env/env_spec.h"
#include "sim/core/epoch_result.h"
#include "sim/platform/platform.h"
#include "sim/scenario/scenario.h"

namespace siren::env {

inline constexpr int kObservationSize = 12;

// Field names in index order.
const std::array<std::string, kObservationSize>& ObservationNames();

// What the observation needs from a scenario, read once.
struct ObservationScale {
  EnvSpec env;
  int max_epochs = 1;
  double budget_usd = 1;     // The episode's budget.
  double dataset_scale = 1;  // The episode's dataset / the scenario's.
  double initial_loss = 1;   // The convergence model's loss before training.
  double max_memory_mb = 1;  // Largest size on the platform's memory grid.

  // From a scenario alone (builds its platform and convergence model).
  static ObservationScale FromScenario(const sim::Scenario& scenario);
  // From a scenario whose platform and initial loss the caller already has.
  static ObservationScale FromScenario(const sim::Scenario& scenario,
                                       const sim::Platform& platform,
                                       double initial_loss);
  // This scale for the episode of `episode`, drawn from `base`
  // (sim/engine/job_draw.h): its budget and dataset scale.
  ObservationScale ForEpisode(const sim::Scenario& base,
                              const sim::Scenario& episode) const;
};

// Lower and upper bounds of every field.
std::array<float, kObservationSize> ObservationLow(const ObservationScale& s);
std::array<float, kObservationSize> ObservationHigh(const ObservationScale& s);

// The observation before the first epoch.
void WriteInitialObservation(const ObservationScale& s, float* out);

// The observation after `epoch` (cumulative fields come from it too).
void WriteObservation(const ObservationScale& s, const sim::EpochResult& epoch,
                      float* out);

}  // namespace siren::env

#endif  // SIREN_ENV_OBSERVATION_H_
