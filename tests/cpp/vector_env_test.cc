// The vector env: agreement with single envs, auto-reset modes, thread-count
// independence, and the thread pool.
#include "env/vector_env.h"

#include <gtest/gtest.h>

#include <atomic>
#include <cstring>
#include <limits>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "env/step_info.h"
#include "env/thread_pool.h"
#include "sim/scenario/scenario_loader.h"

namespace siren::env {
namespace {

std::shared_ptr<const sim::Scenario> Short() {
  // Short episodes so that auto-resets happen within a few steps.
  return std::make_shared<const sim::Scenario>(
      sim::LoadScenario("default", {"job.max_epochs=3"}));
}

struct Outputs {
  explicit Outputs(int n)
      : observations(n * kObservationSize),
        rewards(n),
        terminated(n),
        truncated(n),
        info(n * InfoSize()),
        info_valid(n),
        final_observations(n * kObservationSize),
        has_final(n) {}
  VectorStepBuffers Buffers() {
    VectorStepBuffers b;
    b.observations = observations.data();
    b.rewards = rewards.data();
    b.terminated = reinterpret_cast<bool*>(terminated.data());
    b.truncated = reinterpret_cast<bool*>(truncated.data());
    b.info = info.data();
    b.info_valid = reinterpret_cast<bool*>(info_valid.data());
    b.final_observations = final_observations.data();
    b.has_final = reinterpret_cast<bool*>(has_final.data());
    return b;
  }
  std::vector<float> observations;
  std::vector<double> rewards;
  std::vector<char> terminated, truncated;
  std::vector<double> info;
  std::vector<char> info_valid;
  std::vector<float> final_observations;
  std::vector<char> has_final;
};

// Actions that vary per env and per step.
std::vector<double> Actions(int n, int step) {
  std::vector<double> actions(2 * n);
  for (int i = 0; i < n; ++i) {
    actions[2 * i] = -0.8 + 0.1 * ((i + step) % 12);
    actions[2 * i + 1] = 0.9 - 0.15 * ((3 * i + step) % 10);
  }
  return actions;
}

// Everything the vector env wrote over `steps` steps, as one byte string.
std::string RunAndLog(int num_envs, int threads, AutoresetMode mode,
                      int steps) {
  VectorEnv vec(Short(), num_envs, ActionEncoding::kBox, mode, threads);
  std::vector<uint64_t> seeds(num_envs);
  for (int i = 0; i < num_envs; ++i) seeds[i] = 100 + i;
  Outputs out(num_envs);
  vec.Reset(seeds.data(), out.observations.data());
  std::string log;
  for (int s = 0; s < steps; ++s) {
    vec.Step(Actions(num_envs, s).data(), out.Buffers());
    auto append = [&log](const void* p, size_t bytes) {
      log.append(static_cast<const char*>(p), bytes);
    };
    append(out.observations.data(), out.observations.size() * sizeof(float));
    append(out.rewards.data(), out.rewards.size() * sizeof(double));
    append(out.terminated.data(), out.terminated.size());
    append(out.truncated.data(), out.truncated.size());
    append(out.info.data(), out.info.size() * sizeof(double));
    append(out.info_valid.data(), out.info_valid.size());
  }
  return log;
}

TEST(VectorEnvTest, ThreadCountDoesNotChangeResults) {
  for (AutoresetMode mode :
       {AutoresetMode::kNextStep, AutoresetMode::kSameStep}) {
    const std::string one = RunAndLog(7, 1, mode, 9);
    EXPECT_EQ(one, RunAndLog(7, 2, mode, 9));
    EXPECT_EQ(one, RunAndLog(7, 4, mode, 9));
  }
}

TEST(VectorEnvTest, AgreesWithSingleEnvsAcrossAutoResets) {
  const int n = 3;
  auto scenario = Short();
  VectorEnv vec(scenario, n, ActionEncoding::kBox, AutoresetMode::kNextStep, 2);
  std::vector<SirenEnv> singles;
  std::vector<uint64_t> seeds = {5, 6, 7};
  Outputs out(n);
  vec.Reset(seeds.data(), out.observations.data());
  std::vector<float> obs(n * kObservationSize);
  std::vector<int> episodes(n, 0);
  std::vector<bool> pending(n, false);
  for (int i = 0; i < n; ++i) {
    singles.emplace_back(scenario, ActionEncoding::kBox);
    singles[i].Reset(seeds[i], &obs[i * kObservationSize]);
  }
  for (int s = 0; s < 10; ++s) {
    const std::vector<double> actions = Actions(n, s);
    vec.Step(actions.data(), out.Buffers());
    for (int i = 0; i < n; ++i) {
      float* o = &obs[i * kObservationSize];
      double reward = 0;
      if (pending[i]) {
        singles[i].Reset(EpisodeSeed(seeds[i], ++episodes[i]), o);
        pending[i] = false;
        EXPECT_FALSE(out.info_valid[i]);
      } else {
        const StepOutcome r = singles[i].Step(&actions[2 * i], o, nullptr);
        reward = r.reward;
        pending[i] = r.terminated || r.truncated;
        EXPECT_EQ(out.terminated[i], r.terminated);
        EXPECT_EQ(out.truncated[i], r.truncated);
        EXPECT_TRUE(out.info_valid[i]);
      }
      EXPECT_EQ(out.rewards[i], reward) << "env " << i << " step " << s;
      EXPECT_EQ(0, std::memcmp(o, &out.observations[i * kObservationSize],
                               kObservationSize * sizeof(float)))
          << "env " << i << " step " << s;
    }
  }
  EXPECT_GT(episodes[0], 0);  // At least one auto-reset was exercised.
}

TEST(VectorEnvTest, SameStepKeepsTheFinalObservation) {
  const int n = 2;
  VectorEnv vec(Short(), n, ActionEncoding::kBox, AutoresetMode::kSameStep, 1);
  std::vector<uint64_t> seeds = {1, 2};
  Outputs out(n);
  vec.Reset(seeds.data(), out.observations.data());
  bool saw_final = false;
  for (int s = 0; s < 3; ++s) {
    vec.Step(Actions(n, 0).data(), out.Buffers());
    for (int i = 0; i < n; ++i) {
      if (out.truncated[i] || out.terminated[i]) {
        EXPECT_TRUE(out.has_final[i]);
        saw_final = true;
        // The final observation ends the episode; the returned one starts one.
        EXPECT_FLOAT_EQ(out.final_observations[i * kObservationSize], 1.0f);
        EXPECT_FLOAT_EQ(out.observations[i * kObservationSize], 0.0f);
      } else {
        EXPECT_FALSE(out.has_final[i]);
      }
    }
  }
  EXPECT_TRUE(saw_final);
}

TEST(VectorEnvTest, BadActionNamesTheEnvAndStepsNothing) {
  const int n = 3;
  VectorEnv vec(Short(), n, ActionEncoding::kBox, AutoresetMode::kNextStep, 2);
  std::vector<uint64_t> seeds = {1, 2, 3};
  Outputs out(n);
  vec.Reset(seeds.data(), out.observations.data());
  std::vector<double> actions = Actions(n, 0);
  actions[2 * 2 + 1] = std::numeric_limits<double>::infinity();
  try {
    vec.Step(actions.data(), out.Buffers());
    FAIL();
  } catch (const sim::InvalidAction& e) {
    EXPECT_NE(std::string(e.what()).find("env 2: action[1]"), std::string::npos)
        << e.what();
  }
  EXPECT_EQ(vec.env(0).episode_steps(), 0);
}

TEST(VectorEnvTest, InactiveEnvsAreNotStepped) {
  const int n = 3;
  VectorEnv vec(Short(), n, ActionEncoding::kBox, AutoresetMode::kNextStep, 2);
  std::vector<uint64_t> seeds = {1, 2, 3};
  Outputs out(n);
  vec.Reset(seeds.data(), out.observations.data());
  const bool active[3] = {true, false, true};
  out.rewards[1] = 42;
  vec.Step(Actions(n, 0).data(), out.Buffers(), active);
  EXPECT_EQ(vec.env(0).episode_steps(), 1);
  EXPECT_EQ(vec.env(1).episode_steps(), 0);
  EXPECT_EQ(vec.env(2).episode_steps(), 1);
  EXPECT_EQ(out.rewards[1], 42);  // Untouched.
}

TEST(ThreadPoolTest, CoversEveryIndexOnceAndPropagatesErrors) {
  ThreadPool pool(3);
  for (int n : {0, 1, 2, 5, 100}) {
    std::vector<std::atomic<int>> hits(n);
    pool.ParallelFor(n, [&](int begin, int end) {
      for (int i = begin; i < end; ++i) hits[i]++;
    });
    for (int i = 0; i < n; ++i) EXPECT_EQ(hits[i], 1);
  }
  EXPECT_THROW(pool.ParallelFor(9,
                                [](int begin, int) {
                                  if (begin > 0) throw std::runtime_error("x");
                                }),
               std::runtime_error);
  // Still usable after an error.
  std::atomic<int> total{0};
  pool.ParallelFor(10, [&](int b, int e) { total += e - b; });
  EXPECT_EQ(total, 10);
  EXPECT_THROW(ThreadPool(0), std::invalid_argument);
}

}  // namespace
}  // namespace siren::env

namespace siren::env {
namespace {

TEST(VectorEnvTest, EnvAndThreadCountsAreBounded) {
  const auto scenario =
      std::make_shared<const sim::Scenario>(sim::LoadScenario("default"));
  const auto expect_error = [&](int envs, int threads, const char* field) {
    try {
      VectorEnv vec(scenario, envs, ActionEncoding::kBox,
                    AutoresetMode::kNextStep, threads);
      ADD_FAILURE() << envs << " envs, " << threads << " threads";
    } catch (const std::invalid_argument& e) {
      EXPECT_EQ(std::string(e.what()).rfind(field, 0), 0u) << e.what();
    }
  };
  expect_error(VectorEnv::kMaxEnvs + 1, 1, "num_envs: got 16385");
  expect_error(0, 1, "num_envs: got 0");
  expect_error(2, ThreadPool::kMaxThreads + 1, "num_threads: got 257");
  expect_error(2, 0, "num_threads: got 0");
}

}  // namespace
}  // namespace siren::env
