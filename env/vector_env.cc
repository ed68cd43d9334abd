#include "env/vector_env.h"

#include <algorithm>
#include <stdexcept>

#include "env/step_info.h"
#include "sim/core/rng.h"

namespace siren::env {

AutoresetMode ParseAutoresetMode(const std::string& name) {
  if (name == "next_step") return AutoresetMode::kNextStep;
  if (name == "same_step") return AutoresetMode::kSameStep;
  throw std::invalid_argument("autoreset_mode: got '" + name +
                              "', expected \"next_step\" or \"same_step\"");
}

uint64_t EpisodeSeed(uint64_t seed, uint64_t k) {
  return sim::MixBits(seed + 0x9E3779B97F4A7C15ull * (k + 1));
}

VectorEnv::VectorEnv(std::shared_ptr<const sim::Scenario> scenario,
                     int num_envs, ActionEncoding encoding, AutoresetMode mode,
                     int num_threads)
    : mode_(mode), pool_(num_threads) {
  if (num_envs < 1 || num_envs > kMaxEnvs) {
    throw std::invalid_argument("num_envs: got " + std::to_string(num_envs) +
                                ", expected an integer in [1, " +
                                std::to_string(kMaxEnvs) + "]");
  }
  envs_.reserve(num_envs);
  for (int i = 0; i < num_envs; ++i) envs_.emplace_back(scenario, encoding);
  first_seeds_.assign(num_envs, 0);
  episodes_.assign(num_envs, 0);
  pending_reset_.assign(num_envs, 0);
}

void VectorEnv::Reset(const uint64_t* seeds, float* observations) {
  const int n = num_envs();
  std::copy(seeds, seeds + n, first_seeds_.begin());
  std::fill(episodes_.begin(), episodes_.end(), 0);
  std::fill(pending_reset_.begin(), pending_reset_.end(), 0);
  pool_.ParallelFor(n, [&](int begin, int end) {
    for (int i = begin; i < end; ++i) {
      envs_[i].Reset(seeds[i], observations + i * kObservationSize);
    }
  });
  started_ = true;
}

void VectorEnv::Step(const double* actions, const VectorStepBuffers& out,
                     const bool* active) {
  if (!started_) throw std::logic_error("step() before reset(): call reset()");
  if (mode_ == AutoresetMode::kSameStep &&
      (out.final_observations == nullptr || out.has_final == nullptr)) {
    throw std::invalid_argument(
        "same_step auto-reset needs final_observations and has_final buffers");
  }
  // Check every action before stepping any env.
  const int n = num_envs();
  for (int i = 0; i < n; ++i) {
    if (pending_reset_[i] || (active != nullptr && !active[i])) continue;
    try {
      envs_[i].DecodeAction(actions + 2 * i);
    } catch (const sim::InvalidAction& e) {
      throw sim::InvalidAction("env " + std::to_string(i) + ": " + e.what());
    }
  }
  pool_.ParallelFor(n, [&](int begin, int end) {
    for (int i = begin; i < end; ++i) {
      if (active == nullptr || active[i]) StepOne(i, actions + 2 * i, out);
    }
  });
}

void VectorEnv::StepOne(int i, const double* action,
                        const VectorStepBuffers& out) {
  float* observation = out.observations + i * kObservationSize;
  double* info = out.info + static_cast<size_t>(i) * InfoSize();
  SirenEnv& env = envs_[i];
  if (out.has_final != nullptr) out.has_final[i] = false;
  if (pending_reset_[i]) {
    // kNextStep: this step only starts the next episode.
    pending_reset_[i] = 0;
    env.Reset(EpisodeSeed(first_seeds_[i], ++episodes_[i]), observation);
    out.rewards[i] = 0;
    out.terminated[i] = out.truncated[i] = false;
    out.info_valid[i] = false;
    std::fill(info, info + InfoSize(), 0.0);
    return;
  }
  StepInfo step_info;
  const StepOutcome outcome = env.Step(action, observation, &step_info);
  out.rewards[i] = outcome.reward;
  out.terminated[i] = outcome.terminated;
  out.truncated[i] = outcome.truncated;
  out.info_valid[i] = true;
  WriteInfoRow(step_info, env.episode_return(), env.episode_steps(), info);
  if (!(outcome.terminated || outcome.truncated)) return;
  if (mode_ == AutoresetMode::kNextStep) {
    pending_reset_[i] = 1;
    return;
  }
  // kSameStep: keep the last observation, start the next episode now.
  float* final_observation = out.final_observations + i * kObservationSize;
  std::copy(observation, observation + kObservationSize, final_observation);
  out.has_final[i] = true;
  env.Reset(EpisodeSeed(first_seeds_[i], ++episodes_[i]), observation);
}

}  // namespace siren::env
