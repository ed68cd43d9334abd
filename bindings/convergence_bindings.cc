// Ground-truth convergence in siren._core: datasets (the seeded click-through
// generator and the HDF5 format shared with the runner) and the fitter of the
// analytic model. Thin: conversions and GIL release; behaviour lives in sim/.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <cstdint>
#include <functional>
#include <iterator>
#include <string>
#include <vector>

#include "bindings/py_scenario.h"
#include "sim/convergence/fit/convergence_fit.h"
#include "sim/convergence/sgd/sgd_model.h"
#include "sim/data/dataset.h"
#include "sim/scenario/param_table.h"
#include "sim/scenario/scenario_loader.h"

namespace py = pybind11;

namespace siren::bindings {
namespace {

template <typename T>
py::array_t<T> ToArray(const std::vector<T>& values) {
  py::array_t<T> out(values.size());
  std::copy(values.begin(), values.end(), out.mutable_data());
  return out;
}

template <typename T>
std::vector<T> FromArray(const py::array_t<T, py::array::forcecast>& a) {
  return std::vector<T>(a.data(), a.data() + a.size());
}

py::dict DatasetToDict(const sim::Dataset& d) {
  py::dict out;
  out["indptr"] = ToArray(d.indptr);
  out["indices"] = ToArray(d.indices);
  out["values"] = ToArray(d.values);
  out["labels"] = ToArray(d.labels);
  out["features"] = d.features;
  out["classes"] = d.classes;
  out["height"] = d.height;
  out["width"] = d.width;
  return out;
}

py::dict ConvergenceToDict(const sim::AnalyticSpec& c) {
  py::dict out;
  out["b0"] = c.b0;
  out["b1"] = c.b1;
  out["b2"] = c.b2;
  out["curve_exponent"] = c.curve_exponent;
  out["staleness_penalty"] = c.staleness_penalty;
  out["staleness_gain"] = c.staleness_gain;
  out["batch_exponent"] = c.batch_exponent;
  out["lr_progress_exponent"] = c.lr_progress_exponent;
  out["staleness_lr_exponent"] = c.staleness_lr_exponent;
  out["collapse_staleness"] = c.collapse_staleness;
  out["collapse_loss"] = c.collapse_loss;
  out["staleness_shock"] = c.staleness_shock;
  out["shock_relaxation"] = c.shock_relaxation;
  return out;
}

}  // namespace

void DefineConvergenceBindings(py::module_& m) {
  m.def(
      "generate_click_through",
      [](int64_t rows, int64_t features, int fields, uint64_t seed) {
        sim::Dataset d;
        {
          py::gil_scoped_release release;
          d = sim::GenerateClickThrough(rows, features, fields, seed);
        }
        return DatasetToDict(d);
      },
      py::arg("rows"), py::arg("features") = 4096, py::arg("fields") = 39,
      py::arg("seed") = 1,
      "The seeded click-through generator (sim/dataset.h) as a dict of CSR "
      "arrays: indptr, indices, values, labels, features, classes, height "
      "and width (0: not images).");
  m.def(
      "save_dataset",
      [](const std::string& path,
         const py::array_t<int64_t, py::array::forcecast>& indptr,
         const py::array_t<int32_t, py::array::forcecast>& indices,
         const py::array_t<float, py::array::forcecast>& values,
         const py::array_t<int32_t, py::array::forcecast>& labels,
         int64_t features, int classes, int64_t height, int64_t width) {
        sim::Dataset d;
        d.name = path;
        d.indptr = FromArray(indptr);
        d.indices = FromArray(indices);
        d.values = FromArray(values);
        d.labels = FromArray(labels);
        d.features = features;
        d.classes = classes;
        d.height = height;
        d.width = width;
        py::gil_scoped_release release;
        sim::SaveDatasetHdf5(d, path);
      },
      py::arg("path"), py::arg("indptr"), py::arg("indices"), py::arg("values"),
      py::arg("labels"), py::arg("features"), py::arg("classes"),
      py::arg("height") = 0, py::arg("width") = 0,
      "Validates and writes a CSR dataset in Siren's HDF5 layout; height and "
      "width (both or neither) mark the rows as height x width images.");
  m.def(
      "load_dataset",
      [](const std::string& path) {
        sim::Dataset d;
        {
          py::gil_scoped_release release;
          d = sim::LoadDatasetHdf5(path);
        }
        return DatasetToDict(d);
      },
      py::arg("path"), "Reads and validates a dataset in Siren's HDF5 layout.");
  m.def("sgd_matmul_isa", &sim::SgdMatMulIsa,
        "The instruction set of the sgd model's mlp and lenet matrix products "
        "on this machine: baseline, avx2 or avx512.");
  {
    py::tuple terms(std::size(sim::kHoldableTerms));
    for (size_t i = 0; i < std::size(sim::kHoldableTerms); ++i) {
      terms[i] = py::str(sim::kHoldableTerms[i]);
    }
    m.attr("FIT_HOLDABLE_TERMS") = terms;
  }
  m.def(
      "fit_convergence",
      [](const PyScenario& scenario, const py::list& runs, int epochs,
         const py::object& progress, const std::vector<std::string>& hold) {
        std::vector<sim::FitRun> fit_runs;
        for (const py::handle& item : runs) {
          const py::dict run = py::reinterpret_borrow<py::dict>(item);
          sim::FitRun r;
          for (const auto& pair :
               run["schedule"].cast<std::vector<std::pair<int, int>>>()) {
            r.schedule.push_back({pair.first, pair.second});
          }
          if (r.schedule.empty()) {
            throw py::value_error("runs: a run has an empty schedule");
          }
          if (run.contains("overrides")) {
            r.overrides = run["overrides"].cast<std::vector<std::string>>();
          }
          if (run.contains("seed")) r.seed = run["seed"].cast<uint64_t>();
          fit_runs.push_back(std::move(r));
        }
        std::function<void(int64_t, int64_t)> on_epoch;
        if (!progress.is_none()) {
          on_epoch = [&progress](int64_t done, int64_t total) {
            py::gil_scoped_acquire acquire;
            progress(done, total);
          };
        }
        sim::FitResult fit;
        {
          py::gil_scoped_release release;
          fit = sim::FitConvergence(*scenario.scenario, fit_runs, epochs,
                                    on_epoch, hold);
        }
        sim::Scenario fitted = *scenario.scenario;
        fit.fitted.WriteTo(fitted);
        fitted.models.convergence = "analytic";
        py::dict out;
        out["fitted"] = ConvergenceToDict(fit.fitted);
        out["yaml"] = sim::ScenarioToYaml(fitted);
        out["max_relative_error"] = fit.max_relative_error;
        out["mean_relative_error"] = fit.mean_relative_error;
        out["sgd_loss"] = fit.sgd_loss;
        out["fitted_loss"] = fit.fitted_loss;
        out["mean_staleness"] = fit.mean_staleness;
        return out;
      },
      py::arg("scenario"), py::arg("runs"), py::arg("epochs"),
      py::arg("progress") = py::none(),
      py::arg("hold") = std::vector<std::string>{},
      "Runs each schedule under the sgd model and fits the analytic model "
      "(sim/convergence/fit/convergence_fit.h). runs: list of dicts with "
      "`schedule` [(functions, memory_mb), ...], optional `overrides` and "
      "`seed`. progress: optional callable(done, total) after every "
      "simulated epoch of the runs. hold: terms that keep the scenario's "
      "values (curve_exponent, staleness_penalty, staleness_gain, "
      "staleness_shock, collapse_staleness).");
}

}  // namespace siren::bindings
