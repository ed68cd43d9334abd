// siren._core: the pybind11 module over the simulator library. Thin by design
// (STYLE.md 8): it converts types, maps exceptions and releases the GIL around
// simulation work; all behaviour lives in sim/. The Python package re-exports
// it from siren/__init__.py; the stubs are in python/siren/_core.pyi.

#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <cstdint>
#include <exception>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <variant>
#include <vector>

#include "bindings/py_scenario.h"
#include "sim/bench/bench.h"
#include "sim/core/epoch_fields.h"
#include "sim/core/epoch_result.h"
#include "sim/ec2/ec2_cluster.h"
#include "sim/engine/simulation.h"
#include "sim/platform/platform.h"
#include "sim/scenario/param_table.h"
#include "sim/scenario/scenario.h"
#include "sim/scenario/scenario_loader.h"
#include "sim/scenario/workload.h"

namespace py = pybind11;

namespace siren::bindings {
namespace {

using sim::Scenario;

// Exception types created at import; owned by the module (never freed: the
// interpreter keeps the module, and the translator may run until exit).
PyObject* g_scenario_error = nullptr;
PyObject* g_invalid_action_error = nullptr;

}  // namespace

py::dict CostProjectionToDict(const sim::CostProjection& p) {
  py::dict out;
  out["mean_usd"] = p.mean_usd;
  out["max_usd"] = p.max_usd;
  out["bound_usd"] = p.bound_usd;
  out["samples"] = p.samples;
  out["mean_duration_usd"] = p.mean_duration_usd;
  out["mean_s3_gets"] = p.mean_s3_gets;
  out["mean_s3_puts"] = p.mean_s3_puts;
  out["mean_s3_lists"] = p.mean_s3_lists;
  return out;
}

namespace {

// The Python `Simulation`. The mutex serialises calls on one object when
// Python threads share it (the GIL is released while an epoch runs); distinct
// objects run in parallel.
class PySimulation {
 public:
  PySimulation(const PyScenario& scenario, uint64_t seed)
      : scenario_(scenario.scenario), simulation_(scenario.scenario, seed) {}
  PySimulation(const PySimulation& other)
      : scenario_(other.scenario_), simulation_(other.Locked()) {}

  sim::EpochResult RunEpoch(int functions, int memory_mb) {
    std::lock_guard<std::mutex> lock(mutex_);
    return simulation_.RunEpoch(sim::Action{functions, memory_mb});
  }
  void Reset(uint64_t seed) {
    std::lock_guard<std::mutex> lock(mutex_);
    simulation_.Reset(seed);
  }
  // Runs `f(simulation)` under the lock.
  template <typename F>
  auto With(F f) {
    std::lock_guard<std::mutex> lock(mutex_);
    return f(static_cast<const sim::Simulation&>(simulation_));
  }
  PyScenario scenario() const { return PyScenario{scenario_}; }

 private:
  sim::Simulation Locked() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return simulation_;
  }

  std::shared_ptr<const Scenario> scenario_;
  sim::Simulation simulation_;
  mutable std::mutex mutex_;
};

py::dict BenchResultToDict(const sim::BenchResult& r) {
  py::dict d;
  d["events"] = r.events;
  d["epochs"] = r.epochs;
  d["batches"] = r.batches;
  d["wall_s"] = r.wall_s;
  d["events_per_s"] = r.events_per_s();
  d["epochs_per_s"] = r.epochs_per_s();
  return d;
}

py::dict Ec2JobResultToDict(const sim::Ec2JobResult& r) {
  py::dict d;
  d["epochs"] = r.epochs;
  d["time_s"] = r.time_s;
  d["cost_usd"] = r.cost_usd;
  d["final_loss"] = r.final_loss;
  d["converged"] = r.converged;
  d["epoch_end_time_s"] = r.epoch_end_time_s;
  d["epoch_loss"] = r.epoch_loss;
  return d;
}

py::dict Ec2InstanceTypeToDict(const sim::Ec2InstanceType& t) {
  py::dict d;
  d["name"] = t.name;
  d["vcpus"] = t.vcpus;
  d["memory_gb"] = t.memory_gb;
  d["usd_per_hour"] = t.usd_per_hour;
  d["network_mb_per_s"] = t.network_mb_per_s;
  return d;
}

PyScenario Share(Scenario scenario) {
  return PyScenario{std::make_shared<const Scenario>(std::move(scenario))};
}

// A message or key that quotes user input as str. yaml-cpp's own messages
// may quote one byte of a multi-byte character (e.g. "unknown escape
// character: \xc2"), which is not UTF-8: such bytes become U+FFFD instead of
// a UnicodeDecodeError in place of the error.
py::str LossyStr(std::string_view text) {
  PyObject* decoded = PyUnicode_DecodeUTF8(
      text.data(), static_cast<Py_ssize_t>(text.size()), "replace");
  if (decoded == nullptr) throw py::error_already_set();
  return py::reinterpret_steal<py::str>(decoded);
}

// C++ exceptions to Python: ScenarioError (with .field) and InvalidAction to
// their ValueError subclasses. Anything else falls through to pybind11's
// defaults (std::invalid_argument -> ValueError).
void TranslateException(std::exception_ptr p) {
  try {
    if (p) std::rethrow_exception(p);
  } catch (const sim::ScenarioError& e) {
    py::object type = py::reinterpret_borrow<py::object>(g_scenario_error);
    py::object error = type(LossyStr(e.what()));
    error.attr("field") = LossyStr(e.field());
    PyErr_SetObject(g_scenario_error, error.ptr());
  } catch (const sim::InvalidAction& e) {
    PyErr_SetObject(g_invalid_action_error, LossyStr(e.what()).ptr());
  }
}

PyObject* NewValueErrorType(py::module_& m, const char* name, const char* doc,
                            PyObject* attributes) {
  const std::string qualified = std::string("siren._core.") + name;
  PyObject* type = PyErr_NewExceptionWithDoc(qualified.c_str(), doc,
                                             PyExc_ValueError, attributes);
  if (type == nullptr) throw py::error_already_set();
  m.add_object(name, py::reinterpret_borrow<py::object>(type));
  return type;
}

}  // namespace

py::object EpochFieldToPython(const sim::EpochFieldValue& value) {
  return std::visit(
      [](const auto& v) -> py::object {
        using T = std::decay_t<decltype(v)>;
        if constexpr (std::is_same_v<T, std::string_view>) {
          return py::str(v.data(), v.size());
        } else {
          return py::cast(v);
        }
      },
      value);
}

// Every row of the epoch field table (sim/core/epoch_fields.h), in the
// struct's order: every field of EpochResult, nested structs flattened.
py::dict EpochResultToDict(const sim::EpochResult& r) {
  py::dict d;
  for (const sim::EpochField& field : sim::EpochFields()) {
    d[py::str(field.name.data(), field.name.size())] =
        EpochFieldToPython(field.get(r));
  }
  return d;
}

namespace {

py::list EpochFieldsToList() {
  const auto text = [](std::string_view s) {
    return py::str(s.data(), s.size());
  };
  py::list out;
  for (const sim::EpochField& field : sim::EpochFields()) {
    py::dict row;
    row["name"] = text(field.name);
    row["type"] = text(sim::EpochFieldTypeName(field.type));
    row["unit"] = text(field.unit);
    row["description"] = text(field.description);
    row["info"] = field.info_name.empty() ? py::object(py::none())
                                          : py::object(text(field.info_name));
    py::list labels;
    for (std::string_view label : field.labels) labels.append(text(label));
    row["labels"] = labels;
    out.append(row);
  }
  return out;
}

}  // namespace

void DefineModule(py::module_& m) {
  m.doc() =
      "Siren's compiled core: scenarios, the epoch-level simulator, the "
      "throughput benchmark and the EC2 baseline. Use it through `siren`.";
  m.attr("__version__") = SIREN_VERSION;

  // Exceptions.
  py::dict scenario_error_attributes;
  scenario_error_attributes["field"] = "";
  g_scenario_error = NewValueErrorType(
      m, "ScenarioError",
      "Invalid scenario input. `field` is the dotted parameter path the "
      "error is about ('' when it is not about one field, e.g. an unknown "
      "preset).",
      scenario_error_attributes.ptr());
  g_invalid_action_error = NewValueErrorType(
      m, "InvalidActionError",
      "An action that cannot run: memory off the era's grid or below the "
      "workload's need, a non-positive number of functions, or a step after "
      "the job has stopped. Nothing was simulated or billed.",
      nullptr);
  py::register_exception_translator(&TranslateException);

  // Scenarios.
  m.def("preset_names", &sim::PresetNames,
        "Names of the built-in presets, sorted ('default' is an alias).");
  m.def("default_preset_name", &sim::DefaultPresetName,
        "The preset the alias 'default' resolves to.");
  m.def(
      "load_scenario",
      [](const std::string& name_or_path,
         const std::vector<std::string>& overrides) {
        return Share(sim::LoadScenario(name_or_path, overrides));
      },
      py::arg("name_or_path"),
      py::arg("overrides") = std::vector<std::string>{},
      "Loads a preset name, 'default' or a YAML path, applies 'key=value' "
      "overrides and validates. Raises ScenarioError.");
  m.def(
      "parse_scenario",
      [](const std::string& yaml_text,
         const std::vector<std::string>& overrides, const std::string& origin) {
        return Share(sim::ParseScenario(yaml_text, overrides, origin));
      },
      py::arg("yaml_text"), py::arg("overrides") = std::vector<std::string>{},
      py::arg("origin") = "<string>",
      "Parses a scenario from YAML text; `origin` names it in errors. Raises "
      "ScenarioError.");
  m.def("describe_parameters", &sim::DescribeParameters,
        "Every scenario parameter: path, type, default, range, description "
        "and source.");
  m.def("epoch_fields", &EpochFieldsToList,
        "The epoch field table (sim/core/epoch_fields.h): one dict per key "
        "of Simulation.run_epoch, in order, with name, type ('int', "
        "'float' or 'string'), unit, description, info (the Gym info "
        "column, or None) and labels (the values of a labelled string "
        "field, else []).");

  py::class_<PyScenario>(m, "Scenario",
                         "An immutable, validated scenario. Build it with "
                         "load_scenario() or parse_scenario().")
      .def_property_readonly(
          "name", [](const PyScenario& s) { return s.scenario->name; })
      .def(
          "to_yaml",
          [](const PyScenario& s) { return sim::ScenarioToYaml(*s.scenario); },
          "Every parameter as YAML; parse_scenario() reads it back.")
      .def(
          "get",
          [](const PyScenario& s, const std::string& path) -> py::object {
            const sim::ParamSpec* spec = sim::FindParam(path);
            if (spec == nullptr) {
              throw py::key_error("scenario has no parameter '" + path +
                                  "' (`siren scenario --describe` lists them)");
            }
            const sim::ParamValue value = spec->get(*s.scenario);
            return std::visit(
                [](const auto& v) -> py::object {
                  using T = std::decay_t<decltype(v)>;
                  if constexpr (std::is_same_v<T, std::monostate>) {
                    return py::none();
                  } else {
                    return py::cast(v);
                  }
                },
                value);
          },
          py::arg("path"),
          "The value of the parameter at dotted `path` (e.g. "
          "\"lambda.keep_alive_s\"); KeyError for an unknown path.")
      .def_property_readonly(
          "batch_size",
          [](const PyScenario& s) { return s.scenario->workload.batch_size; })
      .def_property_readonly(
          "batches_per_epoch",
          [](const PyScenario& s) {
            return sim::BatchesPerEpoch(s.scenario->workload);
          })
      .def(
          "memory_grid",
          [](const PyScenario& s) { return sim::MemoryGrid(*s.scenario); },
          "Every memory size (MB) the platform allows, ascending.")
      .def_property_readonly("min_feasible_memory_mb",
                             [](const PyScenario& s) {
                               return sim::MinFeasibleMemoryMb(*s.scenario);
                             })
      .def(
          "memory_error",
          [](const PyScenario& s, int memory_mb) {
            return sim::MemoryError(*s.scenario, memory_mb);
          },
          py::arg("memory_mb"),
          "'' when `memory_mb` can run the workload, else why it cannot.")
      .def_property_readonly(
          "platform",
          [](const PyScenario& s) { return s.scenario->models.platform; },
          "The platform model (platform.model), e.g. \"aws_lambda\".")
      .def_property_readonly(
          "convergence_model",
          [](const PyScenario& s) { return s.scenario->models.convergence; },
          "The convergence model (convergence.model).")
      .def_property_readonly(
          "budget_usd",
          [](const PyScenario& s) { return s.scenario->job.budget_usd; })
      .def_property_readonly(
          "max_epochs",
          [](const PyScenario& s) { return s.scenario->job.max_epochs; })
      .def_property_readonly(
          "target_loss",
          [](const PyScenario& s) { return s.scenario->workload.target_loss; })
      .def("__repr__",
           [](const PyScenario& s) {
             return "<siren.Scenario '" + s.scenario->name + "'>";
           })
      .def(py::pickle(
          [](const PyScenario& s) {
            return py::make_tuple(sim::ScenarioToYaml(*s.scenario));
          },
          [](const py::tuple& state) {
            if (state.size() != 1) throw std::invalid_argument("bad state");
            return Share(sim::ParseScenario(state[0].cast<std::string>(), {},
                                            "<pickle>"));
          }));

  // The simulator.
  py::class_<PySimulation>(
      m, "Simulation",
      "One simulated training job, advanced one epoch at a time.")
      .def(py::init<const PyScenario&, uint64_t>(), py::arg("scenario"),
           py::arg("seed"))
      .def(
          "run_epoch",
          [](PySimulation& self, int functions, int memory_mb) {
            sim::EpochResult result;
            {
              py::gil_scoped_release release;
              result = self.RunEpoch(functions, memory_mb);
            }
            return EpochResultToDict(result);
          },
          py::arg("functions"), py::arg("memory_mb"),
          "Runs one epoch of `functions` x `memory_mb` and returns its "
          "result as a flat dict. Raises InvalidActionError (state "
          "unchanged).")
      .def(
          "project_epoch_cost",
          [](PySimulation& self, int functions, int memory_mb) {
            sim::CostProjection p;
            {
              py::gil_scoped_release release;
              p = self.With([&](const sim::Simulation& x) {
                return x.ProjectEpochCost(sim::Action{functions, memory_mb});
              });
            }
            return CostProjectionToDict(p);
          },
          py::arg("functions"), py::arg("memory_mb"),
          "The budget guard's projection of the next epoch at `functions` x "
          "`memory_mb` from the job's state (simulated job.projection_samples "
          "times, nothing changed). Keys: mean_usd, max_usd, bound_usd (max x "
          "job.budget_margin: what the guard compares with the budget left), "
          "samples, and the mean sample's mix: mean_duration_usd, "
          "mean_s3_gets, "
          "mean_s3_puts, mean_s3_lists.")
      .def(
          "reset",
          [](PySimulation& self, uint64_t seed) {
            py::gil_scoped_release release;
            self.Reset(seed);
          },
          py::arg("seed"), "Restarts the job from epoch 0 with `seed`.")
      .def(
          "copy", [](const PySimulation& self) { return PySimulation(self); },
          "An independent copy of the job state (to branch a search).")
      .def_property_readonly("scenario", &PySimulation::scenario)
      .def_property_readonly(
          "epoch",
          [](PySimulation& s) {
            return s.With([](const sim::Simulation& x) { return x.epoch(); });
          })
      .def_property_readonly(
          "time_s",
          [](PySimulation& s) {
            return s.With([](const sim::Simulation& x) { return x.time_s(); });
          })
      .def_property_readonly("cost_usd",
                             [](PySimulation& s) {
                               return s.With([](const sim::Simulation& x) {
                                 return x.cost_usd();
                               });
                             })
      .def_property_readonly(
          "loss",
          [](PySimulation& s) {
            return s.With([](const sim::Simulation& x) { return x.loss(); });
          })
      .def_property_readonly("true_loss",
                             [](PySimulation& s) {
                               return s.With([](const sim::Simulation& x) {
                                 return x.true_loss();
                               });
                             })
      .def_property_readonly(
          "status",
          [](PySimulation& s) {
            return s.With([](const sim::Simulation& x) {
              return std::string(sim::JobStatusName(x.status()));
            });
          })
      .def_property_readonly(
          "done",
          [](PySimulation& s) {
            return s.With([](const sim::Simulation& x) { return x.done(); });
          })
      .def_property_readonly("total_events", [](PySimulation& s) {
        return s.With(
            [](const sim::Simulation& x) { return x.total_events(); });
      });

  // Benchmark and baselines.
  m.def(
      "run_benchmark",
      [](const PyScenario& scenario, int functions, int memory_mb,
         double min_wall_s, int min_epochs, uint64_t seed) {
        sim::BenchResult result;
        {
          py::gil_scoped_release release;
          result = sim::RunBenchmark(*scenario.scenario, functions, memory_mb,
                                     min_wall_s, min_epochs, seed);
        }
        return BenchResultToDict(result);
      },
      py::arg("scenario"), py::arg("functions"), py::arg("memory_mb"),
      py::arg("min_wall_s") = 1.0, py::arg("min_epochs") = 3,
      py::arg("seed") = 0,
      "Simulates epochs of `functions` x `memory_mb` for at least "
      "`min_wall_s` seconds and `min_epochs` epochs; returns events, epochs, "
      "batches, wall_s, events_per_s, epochs_per_s.");
  m.def(
      "run_ec2_job",
      [](const PyScenario& scenario) {
        sim::Ec2JobResult result;
        {
          py::gil_scoped_release release;
          result = sim::RunEc2Job(*scenario.scenario);
        }
        return Ec2JobResultToDict(result);
      },
      py::arg("scenario"),
      "Runs the job on the EC2 cluster of the scenario's `ec2` section.");
  m.def(
      "ec2_instance_types",
      [] {
        py::list types;
        for (const auto& t : sim::Ec2InstanceTypes()) {
          types.append(Ec2InstanceTypeToDict(t));
        }
        return types;
      },
      "The built-in EC2 instance table.");

  DefineEnvBindings(m);
  DefineConvergenceBindings(m);
  DefineBaselinesBindings(m);
  DefineRunnerBindings(m);
}

}  // namespace siren::bindings

PYBIND11_MODULE(_core, m) { siren::bindings::DefineModule(m); }
