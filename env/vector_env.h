// N independent SirenEnvs stepped together on a fork-join thread pool
// (DESIGN.md §3.4). Results go into caller-owned buffers (zero-copy to
// numpy); the Python layer releases the GIL around Reset and Step.
//
// Auto-reset (Gymnasium 1.x):
//  - kNextStep (Gymnasium's default): when env i ends at step t, step t+1
//    ignores its action, resets it and returns the first observation with
//    reward 0, terminated = truncated = false and info_valid[i] = false.
//  - kSameStep: env i is reset within the step that ended it; the returned
//    observation is the new episode's first, the last one goes to
//    final_observations[i] and has_final[i] is set (SB3's convention).
//
// Seeds: Reset(seeds) seeds env i with seeds[i]; its later episodes use
// EpisodeSeed(seeds[i], k) for the k-th auto-reset. Every env's trajectory
// depends only on its seeds and actions, never on the thread count.
#ifndef SIREN_ENV_VECTOR_ENV_H_
#define SIREN_ENV_VECTOR_ENV_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "env/siren_env.h"
#include "env/thread_pool.h"

namespace siren::env {

enum class AutoresetMode { kNextStep, kSameStep };

// "next_step" / "same_step"; Parse throws std::invalid_argument naming the
// value for anything else.
AutoresetMode ParseAutoresetMode(const std::string& name);

// The seed of the k-th auto-reset episode (k >= 1) of an env first seeded
// with `seed`.
uint64_t EpisodeSeed(uint64_t seed, uint64_t k);

// Caller-owned outputs of one vector step. Shapes: observations [N, D],
// rewards, terminated, truncated, info_valid, has_final [N],
// info [N, InfoSize()], final_observations [N, D]. final_observations and
// has_final are only written in kSameStep mode and may be null otherwise.
struct VectorStepBuffers {
  float* observations = nullptr;
  double* rewards = nullptr;
  bool* terminated = nullptr;
  bool* truncated = nullptr;
  double* info = nullptr;
  bool* info_valid = nullptr;
  float* final_observations = nullptr;
  bool* has_final = nullptr;
};

class VectorEnv {
 public:
  // Envs a vector env may hold (each keeps its own job state, about 100 KB):
  // more than any rollout batch on one machine needs.
  static constexpr int kMaxEnvs = 16384;

  // num_envs in [1, kMaxEnvs], num_threads as ThreadPool takes it; throws
  // std::invalid_argument naming the argument otherwise.
  VectorEnv(std::shared_ptr<const sim::Scenario> scenario, int num_envs,
            ActionEncoding encoding, AutoresetMode mode, int num_threads);

  // Resets every env; `seeds` has num_envs entries.
  void Reset(const uint64_t* seeds, float* observations);

  // Steps every env with actions [N, 2]. Every action is checked first: a
  // bad one throws sim::InvalidAction naming the env and coordinate, and no
  // env is stepped. With `active` ([N], may be null), envs whose flag is
  // false are skipped entirely: no step, no reset, their outputs untouched
  // (a trainer collecting one episode per env stops stepping finished ones).
  void Step(const double* actions, const VectorStepBuffers& out,
            const bool* active = nullptr);

  int num_envs() const { return static_cast<int>(envs_.size()); }
  int num_threads() const { return pool_.threads(); }
  AutoresetMode mode() const { return mode_; }
  const SirenEnv& env(int i) const { return envs_[i]; }

 private:
  void StepOne(int i, const double* action, const VectorStepBuffers& out);

  std::vector<SirenEnv> envs_;
  std::vector<uint64_t> first_seeds_;
  std::vector<uint64_t> episodes_;   // Auto-resets so far, per env.
  std::vector<char> pending_reset_;  // kNextStep: reset on the next step.
  AutoresetMode mode_;
  ThreadPool pool_;
  bool started_ = false;
};

}  // namespace siren::env

#endif  // SIREN_ENV_VECTOR_ENV_H_
