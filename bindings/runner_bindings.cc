// The runner's bridge to the env layer (DESIGN.md §5): a real epoch measured
// by the runner is decoded, scored, observed and billed by the same C++ code
// as a simulated one, so a policy sees identical inputs in simulation and in
// reality. Thin: conversions and checks only.
#include <pybind11/functional.h>
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <cmath>
#include <functional>
#include <optional>
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
#include "sim/engine/budget_clamp.h"
#include "sim/engine/cost_projection.h"
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

// The scenario's platform, after checking an action of `functions` at
// `memory_mb` (py::value_error naming the field otherwise).
std::shared_ptr<const sim::Platform> PlatformForAction(const sim::Scenario& s,
                                                       int functions,
                                                       int memory_mb) {
  if (functions < 1) {
    throw py::value_error("functions: must be >= 1, got " +
                          std::to_string(functions));
  }
  std::shared_ptr<const sim::Platform> platform = sim::MakePlatform(s);
  const std::string memory_error = sim::MemoryError(*platform, s, memory_mb);
  if (!memory_error.empty()) throw py::value_error(memory_error);
  return platform;
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
         int memory_mb, int64_t s3_gets, int64_t s3_puts,
         const std::optional<std::vector<double>>& init_s,
         const std::optional<std::vector<double>>& platform_billed_s) {
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
        const size_t n = durations_s.size();
        for (const auto& [name, list] :
             {std::pair<const char*, const std::optional<std::vector<double>>*>{
                  "init_s", &init_s},
              {"platform_billed_s", &platform_billed_s}}) {
          if (list->has_value() && (*list)->size() != n) {
            throw py::value_error(std::string(name) + ": got " +
                                  std::to_string((*list)->size()) +
                                  " values, expected " + std::to_string(n) +
                                  " (one per duration)");
          }
        }
        const std::shared_ptr<const sim::Platform> platform =
            sim::MakePlatform(s);
        sim::BillingMeter meter(*platform, s.billing);
        std::vector<double> billed_s;
        billed_s.reserve(n);
        double init_billed_s = 0;
        for (size_t i = 0; i < n; ++i) {
          const std::string at = "[" + std::to_string(i) + "]";
          const double d = durations_s[i];
          if (!std::isfinite(d) || d < 0) {
            throw py::value_error("durations_s" + at +
                                  ": must be finite and >= 0, got " +
                                  std::to_string(d));
          }
          const double init = init_s ? (*init_s)[i] : 0.0;
          if (!std::isfinite(init) || init < 0) {
            throw py::value_error("init_s" + at +
                                  ": must be finite and >= 0, got " +
                                  std::to_string(init));
          }
          const double reported =
              platform_billed_s ? (*platform_billed_s)[i] : NAN;
          if (!std::isnan(reported) &&
              !(reported >= 0 && std::isfinite(reported))) {
            throw py::value_error("platform_billed_s" + at +
                                  ": must be finite and >= 0 or NaN "
                                  "(unknown), got " +
                                  std::to_string(reported));
          }
          // The platform's own billed duration wins; else the handler's
          // time plus the INIT phase where the generation bills it.
          const double billable =
              !std::isnan(reported) ? reported
                                    : d + (platform->bills_init() ? init : 0.0);
          if (std::isnan(reported) && platform->bills_init()) {
            init_billed_s += init;
          }
          const sim::InvocationBill bill = meter.ChargeInvocation(
              sim::SecondsToSimTime(billable), memory_mb);
          billed_s.push_back(sim::SimTimeToSeconds(bill.billed));
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
        out["init_billed_s"] = init_billed_s;
        for (const sim::EpochField& field : sim::EpochFields()) {
          if (field.name.starts_with(kCostPrefix)) {
            out[py::str(field.name.data(), field.name.size())] =
                EpochFieldToPython(field.get(bill));
          }
        }
        return out;
      },
      py::arg("scenario"), py::arg("durations_s"), py::arg("memory_mb"),
      py::arg("s3_gets"), py::arg("s3_puts"), py::arg("init_s") = py::none(),
      py::arg("platform_billed_s") = py::none(),
      "Bills measured invocations (all at memory_mb) and S3 requests with "
      "the simulator's formula (Platform::Bill and the S3 prices). Each "
      "invocation's billable time is its platform_billed_s when given and "
      "not NaN (the platform's word: the REPORT line's Billed Duration), "
      "else its handler duration plus its init_s (the measured INIT phase "
      "of a cold start, 0 when warm) where the generation bills INIT "
      "(lambda.init_billed). Keys: billed_s (per invocation), billed_gb_s, "
      "init_billed_s (INIT seconds added), and the cost_* keys of "
      "Simulation.run_epoch (cost_function_duration_usd, "
      "cost_function_request_usd, cost_s3_request_usd, cost_total_usd).");

  m.def(
      "billing_rates",
      [](const PyScenario& scenario, int memory_mb) {
        const sim::Scenario& s = *scenario.scenario;
        const std::shared_ptr<const sim::Platform> platform =
            sim::MakePlatform(s);
        if (!platform->IsOnMemoryGrid(memory_mb)) {
          throw py::value_error("memory_mb: got " + std::to_string(memory_mb) +
                                ", expected " + platform->DescribeMemoryGrid());
        }
        const sim::BillingRates rates = platform->Rates(memory_mb);
        py::dict out;
        out["usd_per_s"] = rates.usd_per_s;
        out["request_usd"] = rates.request_usd;
        out["granularity_s"] = rates.granularity_s;
        out["bills_init"] = platform->bills_init();
        out["s3_usd_per_get"] = s.billing.s3_usd_per_get;
        out["s3_usd_per_put"] = s.billing.s3_usd_per_put;
        return out;
      },
      py::arg("scenario"), py::arg("memory_mb"),
      "The prices behind the bills at memory_mb (Platform::Rates): "
      "usd_per_s (duration price), request_usd, granularity_s, bills_init "
      "(INIT billed with the invocation), s3_usd_per_get, s3_usd_per_put. "
      "An invocation of billable time d costs request_usd + usd_per_s x d "
      "rounded up to granularity_s.");

  m.def(
      "project_epoch_cost",
      [](const PyScenario& scenario, int functions, int memory_mb,
         int previous_memory_mb, int warm_instances, int epoch, uint64_t seed) {
        const sim::Scenario& s = *scenario.scenario;
        const std::shared_ptr<const sim::Platform> platform =
            PlatformForAction(s, functions, memory_mb);
        if (previous_memory_mb != 0 &&
            !platform->IsOnMemoryGrid(previous_memory_mb)) {
          throw py::value_error("previous_memory_mb: got " +
                                std::to_string(previous_memory_mb) +
                                ", expected 0 (no epoch yet) or " +
                                platform->DescribeMemoryGrid());
        }
        if (warm_instances < 0 || epoch < 0) {
          throw py::value_error("warm_instances, epoch: must be >= 0, got " +
                                std::to_string(warm_instances) + ", " +
                                std::to_string(epoch));
        }
        sim::CostProjection p;
        {
          py::gil_scoped_release release;
          p = sim::ProjectEpochCost(
              s, platform,
              sim::JobSummary{previous_memory_mb,
                              previous_memory_mb ? warm_instances : 0, epoch},
              sim::Action{functions, memory_mb}, s.job.projection_samples,
              s.job.budget_margin, seed);
        }
        return CostProjectionToDict(p);
      },
      py::arg("scenario"), py::arg("functions"), py::arg("memory_mb"),
      py::arg("previous_memory_mb") = 0, py::arg("warm_instances") = 0,
      py::arg("epoch") = 0, py::arg("seed") = 0,
      "The budget guard's projection of one epoch (sim/engine/"
      "cost_projection.h), shared by the simulator and the runner: the epoch "
      "simulated job.projection_samples times from a job whose last epoch "
      "ran at previous_memory_mb (0: none) and left warm_instances idle "
      "instances. Keys: mean_usd, max_usd, bound_usd (max x "
      "job.budget_margin), samples, and the mean sample's mix: "
      "mean_duration_usd, mean_s3_gets, mean_s3_puts, mean_s3_lists.");

  m.def(
      "clamp_to_budget",
      [](const PyScenario& scenario, int functions, int memory_mb,
         const std::function<bool(int, int)>& affordable,
         std::optional<int> min_functions) {
        const sim::Scenario& s = *scenario.scenario;
        const std::shared_ptr<const sim::Platform> platform =
            PlatformForAction(s, functions, memory_mb);
        const int lowest =
            min_functions.has_value()
                ? *min_functions
                : static_cast<int>(s.params.Int("env.min_functions"));
        if (lowest < 1) {
          throw py::value_error("min_functions: must be >= 1, got " +
                                std::to_string(lowest));
        }
        std::vector<int> sizes;
        for (int size : platform->MemoryGrid()) {
          if (sim::MemoryError(*platform, s, size).empty()) {
            sizes.push_back(size);
          }
        }
        const sim::BudgetClamp clamp = sim::ClampToBudget(
            {functions, memory_mb}, sizes, lowest, [&](const sim::Action& a) {
              return affordable(a.functions, a.memory_mb);
            });
        py::dict out;
        out["functions"] = clamp.action.functions;
        out["memory_mb"] = clamp.action.memory_mb;
        out["clamped"] = clamp.clamped;
        out["affordable"] = clamp.affordable;
        out["checks"] = clamp.checks;
        return out;
      },
      py::arg("scenario"), py::arg("functions"), py::arg("memory_mb"),
      py::arg("affordable"), py::arg("min_functions") = py::none(),
      "The budget clamp of env.action_clamp budget (sim/engine/"
      "budget_clamp.h), for a caller with its own test of what the budget "
      "left can pay: affordable(functions, memory_mb) -> bool, normally the "
      "budget guard's (project_epoch_cost x margin against the budget left). "
      "Returns the requested action when affordable, else the closest "
      "affordable one (same memory, the most functions by bisection; else "
      "the largest smaller feasible memory), else the requested one with "
      "affordable False. Keys: functions, memory_mb, clamped, affordable, "
      "checks (calls of affordable). min_functions: the fewest functions "
      "to fall back to (default: the scenario's env.min_functions).");
}

}  // namespace siren::bindings
