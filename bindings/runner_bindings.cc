// The runner's bridge to the env layer (DESIGN.md §5): a real epoch measured
// by the runner is decoded, scored, observed and billed by the same C++ code
// as a simulated one, so a policy sees identical inputs in simulation and in
// reality. Thin: conversions and checks only.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <cmath>
#include <string>
#include <string_view>
#include <vector>

#include "bindings/py_action.h"
#include "bindings/py_scenario.h"
#include "env/action_codec.h"
#include "env/observation.h"
#include "env/reward.h"
#include "sim/core/epoch_fields.h"
#include "sim/core/event_queue.h"
#include "sim/engine/billing_meter.h"
#include "sim/engine/job_status.h"
#include "sim/platform/platform.h"

namespace py = pybind11;

namespace siren::bindings {
namespace {

using env::kObservationSize;

// The epoch fields that hold the cost breakdown share this prefix.
constexpr std::string_view kCostPrefix = "cost_";

// A finite number from record[key]; ValueError naming the key otherwise.
double Number(const py::dict& record, const char* key) {
  if (!record.contains(key)) {
    throw py::value_error(std::string("epoch record: missing field '") + key +
                          "'");
  }
  const py::handle value = record[key];
  double x = 0;
  try {
    x = value.cast<double>();
  } catch (const py::cast_error&) {
    throw py::value_error(std::string("epoch record: field '") + key +
                          "' must be a number, got " +
                          std::string(py::repr(value)));
  }
  if (!std::isfinite(x)) {
    throw py::value_error(std::string("epoch record: field '") + key +
                          "' must be finite, got " + std::to_string(x));
  }
  return x;
}

// A non-negative number from record[key].
double NonNegative(const py::dict& record, const char* key) {
  const double x = Number(record, key);
  if (x < 0) {
    throw py::value_error(std::string("epoch record: field '") + key +
                          "' must be >= 0, got " + std::to_string(x));
  }
  return x;
}

// The EpochResult fields that the observation, status and reward read, from a
// runner's epoch record. Unknown keys are allowed (a trace row carries more).
sim::EpochResult EpochFromRecord(const py::dict& record) {
  sim::EpochResult e;
  e.epoch = static_cast<int>(NonNegative(record, "epoch"));
  e.action.functions =
      static_cast<int>(NonNegative(record, "action_functions"));
  e.action.memory_mb =
      static_cast<int>(NonNegative(record, "action_memory_mb"));
  e.duration_s = NonNegative(record, "duration_s");
  e.fetch.mean_s = NonNegative(record, "fetch_mean_s");
  e.compute.mean_s = NonNegative(record, "compute_mean_s");
  e.update.mean_s = NonNegative(record, "update_mean_s");
  e.cpu_utilisation = NonNegative(record, "cpu_utilisation");
  e.loss = NonNegative(record, "loss");
  e.cumulative_cost_usd = NonNegative(record, "cumulative_cost_usd");
  return e;
}

py::array_t<float> ObservationArray(const float* values) {
  py::array_t<float> out(kObservationSize);
  std::copy(values, values + kObservationSize, out.mutable_data());
  return out;
}

}  // namespace

void DefineRunnerBindings(py::module_& m) {
  // ActionCodec copies what it needs from the scenario.
  py::class_<env::ActionCodec>(
      m, "ActionCodec",
      "The env's action decoder (env/action_codec.h) on its own, for the "
      "runner: same encodings, same clamping of infeasible memory.")
      .def(
          py::init([](const PyScenario& scenario, const std::string& encoding) {
            return env::ActionCodec(*scenario.scenario,
                                    env::ParseActionEncoding(encoding));
          }),
          py::arg("scenario"), py::arg("action_encoding") = "box")
      .def(
          "decode",
          [](const env::ActionCodec& c,
             const py::array_t<double, py::array::forcecast>& a) {
            return DecodeToDict(c, a);
          },
          py::arg("action"),
          "Keys: functions, memory_mb, requested_memory_mb, memory_clamped.")
      .def(
          "encode",
          [](const env::ActionCodec& c, int functions, int memory_mb) {
            return EncodeToArray(c, functions, memory_mb);
          },
          py::arg("functions"), py::arg("memory_mb"))
      .def_property_readonly(
          "action_encoding",
          [](const env::ActionCodec& c) {
            return std::string(env::ActionEncodingName(c.encoding()));
          })
      .def_property_readonly("memory_grid", [](const env::ActionCodec& c) {
        return c.memory_grid();
      });

  m.def(
      "initial_observation",
      [](const PyScenario& scenario) {
        float values[kObservationSize];
        env::WriteInitialObservation(
            env::ObservationScale::FromScenario(*scenario.scenario), values);
        return ObservationArray(values);
      },
      py::arg("scenario"), "The observation before the first epoch.");

  m.def(
      "score_epoch",
      [](const PyScenario& scenario, const py::dict& record) {
        const sim::Scenario& s = *scenario.scenario;
        sim::EpochResult epoch = EpochFromRecord(record);
        epoch.status = sim::DecideJobStatus(
            s, epoch.loss, epoch.cumulative_cost_usd, epoch.epoch + 1);
        float values[kObservationSize];
        const env::ObservationScale scale =
            env::ObservationScale::FromScenario(s);
        env::WriteObservation(scale, epoch, values);
        const env::StepOutcome outcome = env::ScoreEpoch(scale.env, epoch);
        py::dict out;
        out["observation"] = ObservationArray(values);
        out["reward"] = outcome.reward;
        out["terminated"] = outcome.terminated;
        out["truncated"] = outcome.truncated;
        out["status"] = sim::JobStatusName(epoch.status);
        return out;
      },
      py::arg("scenario"), py::arg("record"),
      "Observation, reward, end flags and job status after a measured epoch, "
      "by the env's rules. `record` needs epoch (0-based), action_functions, "
      "action_memory_mb, duration_s, fetch_mean_s, compute_mean_s, "
      "update_mean_s, cpu_utilisation, loss and cumulative_cost_usd "
      "(finite, >= 0); other keys are ignored. Keys: observation, reward, "
      "terminated, truncated, status.");

  m.def(
      "bill_epoch",
      [](const PyScenario& scenario, const std::vector<double>& durations_s,
         int memory_mb, int64_t s3_gets, int64_t s3_puts) {
        const sim::Scenario& s = *scenario.scenario;
        if (memory_mb <= 0) {
          throw py::value_error("memory_mb: must be > 0, got " +
                                std::to_string(memory_mb));
        }
        if (s3_gets < 0 || s3_puts < 0) {
          throw py::value_error("s3_gets, s3_puts: must be >= 0, got " +
                                std::to_string(s3_gets) + ", " +
                                std::to_string(s3_puts));
        }
        const std::shared_ptr<const sim::Platform> platform =
            sim::MakePlatform(s);
        sim::BillingMeter meter(*platform, s.billing);
        std::vector<double> billed_s;
        billed_s.reserve(durations_s.size());
        for (size_t i = 0; i < durations_s.size(); ++i) {
          const double d = durations_s[i];
          if (!std::isfinite(d) || d < 0) {
            throw py::value_error("durations_s[" + std::to_string(i) +
                                  "]: must be finite and >= 0, got " +
                                  std::to_string(d));
          }
          const sim::SimTime billed =
              meter.ChargeInvocation(sim::SecondsToSimTime(d), memory_mb);
          billed_s.push_back(sim::SimTimeToSeconds(billed));
        }
        meter.ChargeS3Gets(s3_gets);
        meter.ChargeS3Puts(s3_puts);
        // The cost rows of the epoch field table, read from a result that
        // holds only this bill.
        sim::EpochResult bill;
        bill.cost = meter.cost();
        py::dict out;
        out["billed_s"] = billed_s;
        out["billed_gb_s"] = meter.billed_gb_s();
        for (const sim::EpochField& field : sim::EpochFields()) {
          if (field.name.starts_with(kCostPrefix)) {
            out[py::str(field.name.data(), field.name.size())] =
                EpochFieldToPython(field.get(bill));
          }
        }
        return out;
      },
      py::arg("scenario"), py::arg("durations_s"), py::arg("memory_mb"),
      py::arg("s3_gets"), py::arg("s3_puts"),
      "Bills measured invocations (handler durations in seconds, all at "
      "memory_mb) and S3 requests with the simulator's formula "
      "(Platform::Bill and the S3 prices). Keys: billed_s (per "
      "invocation), billed_gb_s, and the cost_* keys of Simulation.run_epoch "
      "(cost_function_duration_usd, cost_function_request_usd, "
      "cost_s3_request_usd, cost_total_usd).");
}

}  // namespace siren::bindings
