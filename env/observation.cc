#include "env/observation.h"

#include <algorithm>

#include "sim/convergence/convergence_model.h"
#include "sim/platform/platform.h"

namespace siren::env {
namespace {

float Clip(double value, double high) {
  return static_cast<float>(std::clamp(value, 0.0, high));
}

// Indices 10-11: the episode's job.
void WriteJobFields(const ObservationScale& s, float* out) {
  const double clip = s.env.observation_clip;
  out[10] = Clip(s.budget_usd / s.env.budget_scale_usd, clip);
  out[11] = Clip(s.dataset_scale, clip);
}

}  // namespace

const std::array<std::string, kObservationSize>& ObservationNames() {
  static const std::array<std::string, kObservationSize> kNames = {
      "epoch_fraction",   "loss",         "epoch_duration",
      "fetch_time",       "compute_time", "update_time",
      "utilisation",      "functions",    "memory",
      "budget_remaining", "budget",       "dataset_scale"};
  return kNames;
}

ObservationScale ObservationScale::FromScenario(const sim::Scenario& scenario) {
  return FromScenario(scenario, *sim::MakePlatform(scenario),
                      sim::MakeConvergenceModel(scenario)->InitialLoss());
}

ObservationScale ObservationScale::FromScenario(const sim::Scenario& scenario,
                                                const sim::Platform& platform,
                                                double initial_loss) {
  ObservationScale scale;
  scale.env = EnvSpec::FromScenario(scenario);
  scale.max_epochs = scenario.job.max_epochs;
  scale.budget_usd = scenario.job.budget_usd;
  scale.initial_loss = initial_loss;
  scale.max_memory_mb = platform.MemoryGrid().back();
  return scale;
}

ObservationScale ObservationScale::ForEpisode(
    const sim::Scenario& base, const sim::Scenario& episode) const {
  ObservationScale scale = *this;
  scale.budget_usd = episode.job.budget_usd;
  scale.dataset_scale = static_cast<double>(episode.workload.dataset_samples) /
                        static_cast<double>(base.workload.dataset_samples);
  return scale;
}

std::array<float, kObservationSize> ObservationLow(const ObservationScale&) {
  std::array<float, kObservationSize> low;
  low.fill(0.0f);
  return low;
}

std::array<float, kObservationSize> ObservationHigh(const ObservationScale& s) {
  const float clip = static_cast<float>(s.env.observation_clip);
  return {1.0f, clip, clip, clip, clip, clip,
          1.0f, 1.0f, 1.0f, 1.0f, clip, clip};
}

void WriteInitialObservation(const ObservationScale& s, float* out) {
  std::fill(out, out + kObservationSize, 0.0f);
  out[1] = Clip(1.0, s.env.observation_clip);
  out[9] = 1.0f;
  WriteJobFields(s, out);
}

void WriteObservation(const ObservationScale& s, const sim::EpochResult& epoch,
                      float* out) {
  const double clip = s.env.observation_clip;
  const double batch_unit = s.env.batch_time_scale_s;
  out[0] = Clip(static_cast<double>(epoch.epoch + 1) / s.max_epochs, 1.0);
  out[1] = Clip(epoch.loss / s.initial_loss, clip);
  out[2] = Clip(epoch.duration_s / s.env.time_scale_s, clip);
  out[3] = Clip(epoch.fetch.mean_s / batch_unit, clip);
  out[4] = Clip(epoch.compute.mean_s / batch_unit, clip);
  out[5] = Clip(epoch.update.mean_s / batch_unit, clip);
  out[6] = Clip(epoch.cpu_utilisation, 1.0);
  out[7] = Clip(
      static_cast<double>(epoch.action.functions) / s.env.max_functions, 1.0);
  out[8] =
      Clip(static_cast<double>(epoch.action.memory_mb) / s.max_memory_mb, 1.0);
  out[9] = Clip(1.0 - epoch.cumulative_cost_usd / s.budget_usd, 1.0);
  WriteJobFields(s, out);
}

}  // namespace siren::env
