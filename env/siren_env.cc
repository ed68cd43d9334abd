#include "env/siren_env.h"

#include <stdexcept>

namespace siren::env {

SirenEnv::SirenEnv(std::shared_ptr<const sim::Scenario> scenario,
                   ActionEncoding encoding)
    : scenario_(scenario),
      simulation_(scenario, 0),
      base_scale_(ObservationScale::FromScenario(
          *scenario, simulation_.platform(), simulation_.true_loss())),
      scale_(base_scale_),
      codec_(*scenario, scale_.env, simulation_.platform(), encoding) {}

void SirenEnv::Reset(uint64_t seed, float* observation) {
  simulation_.Reset(seed);
  scale_ = base_scale_.ForEpisode(*scenario_, simulation_.scenario());
  started_ = true;
  ended_ = false;
  steps_ = 0;
  episode_return_ = 0;
  WriteInitialObservation(scale_, observation);
}

StepOutcome SirenEnv::Step(const double* action, float* observation,
                           StepInfo* info) {
  if (!started_) throw std::logic_error("step() before reset(): call reset()");
  if (ended_) {
    throw std::logic_error(
        "step() after the episode ended (terminated or truncated): call "
        "reset()");
  }
  const DecodedAction decoded = codec_.Decode(action);
  const StepOutcome outcome = DoStep(decoded, observation, info);
  ++steps_;
  episode_return_ += outcome.reward;
  ended_ = outcome.terminated || outcome.truncated;
  return outcome;
}

StepOutcome SirenEnv::DoStep(const DecodedAction& action, float* observation,
                             StepInfo* info) {
  const sim::EpochResult epoch =
      simulation_.RunEpoch({action.functions, action.memory_mb});
  WriteObservation(scale_, epoch, observation);
  const StepOutcome outcome = ScoreEpoch(scale_.env, epoch);
  if (info != nullptr) {
    info->action = action;
    info->epoch = epoch;
  }
  return outcome;
}

}  // namespace siren::env
