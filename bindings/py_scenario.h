// Types shared by the translation units of siren._core.
#ifndef SIREN_BINDINGS_PY_SCENARIO_H_
#define SIREN_BINDINGS_PY_SCENARIO_H_

#include <pybind11/pybind11.h>

#include <memory>

#include "sim/core/epoch_fields.h"
#include "sim/core/epoch_result.h"
#include "sim/engine/cost_projection.h"
#include "sim/scenario/scenario.h"

namespace siren::bindings {

// The Python `Scenario`: an immutable scenario shared with every Simulation
// and env built from it.
struct PyScenario {
  std::shared_ptr<const sim::Scenario> scenario;
};

// Every field of EpochResult as a dict, one key per row of the epoch field
// table (sim/core/epoch_fields.h: fetch_mean_s, cost_total_usd, ...) in its
// order, status as its name; defined in core_module.cc.
pybind11::dict EpochResultToDict(const sim::EpochResult& r);

// A cost projection as a dict: mean_usd, max_usd, bound_usd, samples;
// defined in core_module.cc.
pybind11::dict CostProjectionToDict(const sim::CostProjection& p);

// A field value as a Python int, float or str; defined in core_module.cc.
pybind11::object EpochFieldToPython(const sim::EpochFieldValue& value);

// Adds the runner's bridge to the env layer (action codec, epoch scoring,
// billing of measured invocations) to `m`; defined in runner_bindings.cc.
void DefineRunnerBindings(pybind11::module_& m);

// Adds the env layer (Env, VectorEnv, observation and info names) to `m`;
// defined in env_bindings.cc. Needs `Scenario` bound first.
void DefineEnvBindings(pybind11::module_& m);

// Adds datasets and the convergence fitter to `m`; defined in
// convergence_bindings.cc.
void DefineConvergenceBindings(pybind11::module_& m);

// Adds the torch-free baselines (evaluation on seeds, grid search, CEM, the
// hand schedule) to `m`; defined in baselines_bindings.cc.
void DefineBaselinesBindings(pybind11::module_& m);

}  // namespace siren::bindings

#endif  // SIREN_BINDINGS_PY_SCENARIO_H_
