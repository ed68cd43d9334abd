// The env layer in siren._core: Env (one MDP) and VectorEnv (N envs on a
// thread pool writing into caller-owned numpy buffers). Thin: shape and dtype
// checks, GIL release, conversions; behaviour lives in env/.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <cstdint>
#include <mutex>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "bindings/py_action.h"
#include "bindings/py_scenario.h"
#include "env/action_codec.h"
#include "env/env_bench.h"
#include "env/observation.h"
#include "env/siren_env.h"
#include "env/step_info.h"
#include "env/thread_pool.h"
#include "env/vector_env.h"
#include "sim/engine/job_draw.h"

namespace py = pybind11;

namespace siren::bindings {
namespace {

using env::kObservationSize;

// The data pointer of `a` after checking dtype, shape, C order and (for
// outputs) writeability; a mismatch is a ValueError naming the argument.
template <typename T>
T* CheckedBuffer(py::array& a, const char* name,
                 const std::vector<py::ssize_t>& shape, bool output) {
  bool ok = a.dtype().is(py::dtype::of<T>()) &&
            a.ndim() == static_cast<py::ssize_t>(shape.size()) &&
            (a.flags() & py::array::c_style) && (!output || a.writeable());
  for (size_t i = 0; ok && i < shape.size(); ++i) ok = a.shape(i) == shape[i];
  if (!ok) {
    std::ostringstream message;
    message << name << ": expected a C-contiguous"
            << (output ? ", writeable " : " ")
            << std::string(py::str(py::dtype::of<T>())) << " array of shape (";
    for (size_t i = 0; i < shape.size(); ++i) {
      message << (i ? ", " : "") << shape[i];
    }
    message << (shape.size() == 1 ? ",)" : ")") << ", got "
            << std::string(py::str(a.dtype())) << " " << ShapeText(a)
            << (a.writeable() ? "" : " read-only");
    throw py::value_error(message.str());
  }
  return static_cast<T*>(a.mutable_data());
}

py::array_t<float> ToArray(const std::array<float, kObservationSize>& values) {
  py::array_t<float> out(kObservationSize);
  std::copy(values.begin(), values.end(), out.mutable_data());
  return out;
}

// The Python `Env`. The mutex serialises calls when Python threads share one
// env (the GIL is released while an epoch runs).
class PyEnv {
 public:
  PyEnv(const PyScenario& scenario, const std::string& encoding)
      : env_(scenario.scenario, env::ParseActionEncoding(encoding)) {}

  py::array_t<float> Reset(uint64_t seed) {
    py::array_t<float> observation(kObservationSize);
    float* out = observation.mutable_data();
    {
      py::gil_scoped_release release;
      std::lock_guard<std::mutex> lock(mutex_);
      env_.Reset(seed, out);
    }
    return observation;
  }

  py::tuple Step(const py::array_t<double, py::array::forcecast>& action) {
    const std::array<double, 2> values = ActionPair(action);
    py::array_t<float> observation(kObservationSize);
    py::array_t<double> info(env::InfoSize());
    float* obs = observation.mutable_data();
    double* row = info.mutable_data();
    env::StepOutcome outcome;
    {
      py::gil_scoped_release release;
      std::lock_guard<std::mutex> lock(mutex_);
      env::StepInfo step_info;
      outcome = env_.Step(values.data(), obs, &step_info);
      env::WriteInfoRow(step_info, env_.episode_return(), env_.episode_steps(),
                        row);
    }
    return py::make_tuple(observation, outcome.reward, outcome.terminated,
                          outcome.truncated, info);
  }

  const env::SirenEnv& env() const { return env_; }

 private:
  env::SirenEnv env_;
  std::mutex mutex_;
};

class PyVectorEnv {
 public:
  PyVectorEnv(const PyScenario& scenario, int num_envs,
              const std::string& encoding, const std::string& autoreset_mode,
              int num_threads)
      : env_(scenario.scenario, num_envs, env::ParseActionEncoding(encoding),
             env::ParseAutoresetMode(autoreset_mode), num_threads) {}

  void Reset(py::array seeds, py::array observations) {
    const py::ssize_t n = env_.num_envs();
    const uint64_t* seed_data =
        CheckedBuffer<uint64_t>(seeds, "seeds", {n}, false);
    float* obs = CheckedBuffer<float>(observations, "observations",
                                      {n, kObservationSize}, true);
    py::gil_scoped_release release;
    std::lock_guard<std::mutex> lock(mutex_);
    env_.Reset(seed_data, obs);
  }

  void Step(py::array actions, py::array observations, py::array rewards,
            py::array terminated, py::array truncated, py::array info,
            py::array info_valid, std::optional<py::array> final_observations,
            std::optional<py::array> has_final) {
    const py::ssize_t n = env_.num_envs();
    const double* action_data =
        CheckedBuffer<double>(actions, "actions", {n, 2}, false);
    env::VectorStepBuffers out;
    out.observations = CheckedBuffer<float>(observations, "observations",
                                            {n, kObservationSize}, true);
    out.rewards = CheckedBuffer<double>(rewards, "rewards", {n}, true);
    out.terminated = CheckedBuffer<bool>(terminated, "terminated", {n}, true);
    out.truncated = CheckedBuffer<bool>(truncated, "truncated", {n}, true);
    out.info = CheckedBuffer<double>(info, "info", {n, env::InfoSize()}, true);
    out.info_valid = CheckedBuffer<bool>(info_valid, "info_valid", {n}, true);
    if (final_observations) {
      out.final_observations =
          CheckedBuffer<float>(*final_observations, "final_observations",
                               {n, kObservationSize}, true);
    }
    if (has_final) {
      out.has_final = CheckedBuffer<bool>(*has_final, "has_final", {n}, true);
    }
    py::gil_scoped_release release;
    std::lock_guard<std::mutex> lock(mutex_);
    env_.Step(action_data, out);
  }

  const env::VectorEnv& env() const { return env_; }

 private:
  env::VectorEnv env_;
  std::mutex mutex_;
};

}  // namespace

void DefineEnvBindings(py::module_& m) {
  m.attr("observation_size") = kObservationSize;
  m.def(
      "observation_names",
      [] {
        const auto& names = env::ObservationNames();
        return std::vector<std::string>(names.begin(), names.end());
      },
      "Observation fields in index order (see env/observation.h).");
  m.def("info_names", &env::InfoNames,
        "Columns of the per-step info row (see env/step_info.h).");
  m.def(
      "draw_episode_job",
      [](const PyScenario& scenario, uint64_t seed) {
        const sim::EpisodeJob job =
            sim::DrawEpisodeJob(*scenario.scenario, seed);
        py::dict out;
        out["budget_usd"] = job.budget_usd;
        out["dataset_scale"] = job.dataset_scale;
        out["dataset_samples"] = sim::ApplyEpisodeJob(*scenario.scenario, job)
                                     .workload.dataset_samples;
        out["loss_noise_scale"] = job.loss_noise_scale;
        out["compute_slowdown"] = job.compute_slowdown;
        out["s3_slowdown"] = job.s3_slowdown;
        return out;
      },
      py::arg("scenario"), py::arg("seed"),
      "The job of the episode seeded with `seed` (sim/engine/job_draw.h): "
      "budget_usd, dataset_scale, dataset_samples, loss_noise_scale, "
      "compute_slowdown, s3_slowdown (the scenario's own without ranges).");
  m.def("episode_seed", &env::EpisodeSeed, py::arg("seed"), py::arg("k"),
        "The seed of the k-th auto-reset episode of a vector env slot first "
        "seeded with `seed`.");

  py::class_<PyEnv>(m, "Env",
                    "One SIREN MDP over a simulated job (env/siren_env.h).")
      .def(py::init<const PyScenario&, const std::string&>(),
           py::arg("scenario"), py::arg("action_encoding") = "box")
      .def("reset", &PyEnv::Reset, py::arg("seed"),
           "Starts a new job; returns the first observation (float32).")
      .def("step", &PyEnv::Step, py::arg("action"),
           "Runs one epoch; returns (observation, reward, terminated, "
           "truncated, info_row).")
      .def(
          "decode",
          [](const PyEnv& e,
             const py::array_t<double, py::array::forcecast>& a) {
            return DecodeToDict(e.env().codec(), a);
          },
          py::arg("action"))
      .def(
          "encode",
          [](const PyEnv& e, int functions, int memory_mb) {
            return EncodeToArray(e.env().codec(), functions, memory_mb);
          },
          py::arg("functions"), py::arg("memory_mb"),
          "An action in this env's encoding decoding to the nearest (n, m).")
      .def_property_readonly(
          "observation_low",
          [](const PyEnv& e) {
            return ToArray(env::ObservationLow(e.env().observation_scale()));
          })
      .def_property_readonly(
          "observation_high",
          [](const PyEnv& e) {
            return ToArray(env::ObservationHigh(e.env().observation_scale()));
          })
      .def_property_readonly(
          "function_bins",
          [](const PyEnv& e) { return e.env().codec().function_bins(); })
      .def_property_readonly(
          "memory_bins",
          [](const PyEnv& e) { return e.env().codec().memory_bins(); })
      .def_property_readonly("action_encoding",
                             [](const PyEnv& e) {
                               return std::string(env::ActionEncodingName(
                                   e.env().codec().encoding()));
                             })
      .def_property_readonly(
          "needs_reset", [](const PyEnv& e) { return e.env().needs_reset(); });

  py::class_<PyVectorEnv>(
      m, "VectorEnv",
      "N envs stepped on a thread pool into caller-owned buffers "
      "(env/vector_env.h).")
      .def(py::init<const PyScenario&, int, const std::string&,
                    const std::string&, int>(),
           py::arg("scenario"), py::arg("num_envs"),
           py::arg("action_encoding") = "box",
           py::arg("autoreset_mode") = "next_step", py::arg("num_threads") = 1)
      .def("reset", &PyVectorEnv::Reset, py::arg("seeds"),
           py::arg("observations"))
      .def("step", &PyVectorEnv::Step, py::arg("actions"),
           py::arg("observations"), py::arg("rewards"), py::arg("terminated"),
           py::arg("truncated"), py::arg("info"), py::arg("info_valid"),
           py::arg("final_observations") = py::none(),
           py::arg("has_final") = py::none())
      .def_property_readonly(
          "num_envs", [](const PyVectorEnv& v) { return v.env().num_envs(); })
      .def_property_readonly(
          "num_threads",
          [](const PyVectorEnv& v) { return v.env().num_threads(); })
      .def_property_readonly_static(
          "max_envs", [](py::object) { return env::VectorEnv::kMaxEnvs; },
          "The most envs a VectorEnv holds (env::VectorEnv::kMaxEnvs).")
      .def_property_readonly_static(
          "max_threads",
          [](py::object) { return env::ThreadPool::kMaxThreads; },
          "The most threads of its pool (env::ThreadPool::kMaxThreads).");

  m.def(
      "bench_env",
      [](const PyScenario& scenario, const std::string& encoding,
         const py::array_t<double, py::array::forcecast>& action, int64_t steps,
         uint64_t seed) {
        const std::array<double, 2> values = ActionPair(action);
        env::EnvBenchResult r;
        {
          py::gil_scoped_release release;
          r = env::RunEnvBenchmark(scenario.scenario,
                                   env::ParseActionEncoding(encoding),
                                   values.data(), steps, seed);
        }
        py::dict out;
        out["steps"] = r.steps;
        out["episodes"] = r.episodes;
        out["wall_s"] = r.wall_s;
        return out;
      },
      py::arg("scenario"), py::arg("action_encoding"), py::arg("action"),
      py::arg("steps"), py::arg("seed") = 0,
      "Times `steps` steps of one C++ env with a fixed action (no Python).");
}

}  // namespace siren::bindings
