#include "env/observation.h"

#include <algorithm>

namespace siren::env {
namespace {

float Clip(double value, double high) {
  return static_cast<float>(std::clamp(value, 0.0, high));
}

double InitialLoss(const sim::Scenario& s) {
  return 1.0 / s.convergence.b1 + s.convergence.b2;
}

}  // namespace

const std::array<std::string, kObservationSize>& ObservationNames() {
  static const std::array<std::string, kObservationSize> kNames = {
      "epoch_fraction",  "loss",         "epoch_duration",
      "fetch_time",      "compute_time", "update_time",
      "utilisation",     "functions",    "memory",
      "budget_remaining"};
  return kNames;
}

std::array<float, kObservationSize> ObservationLow(const sim::Scenario&) {
  std::array<float, kObservationSize> low;
  low.fill(0.0f);
  return low;
}

std::array<float, kObservationSize> ObservationHigh(const sim::Scenario& s) {
  const float clip = static_cast<float>(s.env.observation_clip);
  return {1.0f, clip, clip, clip, clip, clip, 1.0f, 1.0f, 1.0f, 1.0f};
}

void WriteInitialObservation(const sim::Scenario& s, float* out) {
  std::fill(out, out + kObservationSize, 0.0f);
  out[1] = Clip(1.0, s.env.observation_clip);
  out[9] = 1.0f;
}

void WriteObservation(const sim::Scenario& s, const sim::EpochResult& epoch,
                      float* out) {
  const double clip = s.env.observation_clip;
  const double batch_unit = s.env.batch_time_scale_s;
  out[0] = Clip(static_cast<double>(epoch.epoch + 1) / s.job.max_epochs, 1.0);
  out[1] = Clip(epoch.loss / InitialLoss(s), clip);
  out[2] = Clip(epoch.duration_s / s.env.time_scale_s, clip);
  out[3] = Clip(epoch.fetch.mean_s / batch_unit, clip);
  out[4] = Clip(epoch.compute.mean_s / batch_unit, clip);
  out[5] = Clip(epoch.update.mean_s / batch_unit, clip);
  out[6] = Clip(epoch.cpu_utilisation, 1.0);
  out[7] = Clip(
      static_cast<double>(epoch.action.functions) / s.env.max_functions, 1.0);
  out[8] =
      Clip(static_cast<double>(epoch.action.memory_mb) / s.lambda.max_memory_mb,
           1.0);
  out[9] = Clip(1.0 - epoch.cumulative_cost_usd / s.job.budget_usd, 1.0);
}

}  // namespace siren::env
