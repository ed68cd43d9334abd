// The torch-free baselines in siren._core (agent/baselines/): evaluation of
// schedules on seeds, grid search (GS, GS-x, and its plan for running the
// episodes elsewhere), the oracle static search, the CEM schedule search and
// the hand schedule. Thin:
// conversions, a thread pool per call, GIL released while simulating;
// behaviour lives in agent/baselines/.
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "agent/baselines/cem.h"
#include "agent/baselines/evaluation.h"
#include "agent/baselines/grid_search.h"
#include "agent/baselines/hand_schedule.h"
#include "agent/baselines/oracle_static.h"
#include "bindings/py_scenario.h"
#include "env/thread_pool.h"
#include "sim/ec2/ec2_cluster.h"

namespace py = pybind11;

namespace siren::bindings {
namespace {

using baselines::Evaluation;
using baselines::Schedule;
using PairSchedule = std::vector<std::pair<int, int>>;

Schedule ToSchedule(const PairSchedule& pairs) {
  Schedule schedule;
  for (const auto& [n, m] : pairs) schedule.push_back({n, m});
  return schedule;
}

PairSchedule ToPairs(const Schedule& schedule) {
  PairSchedule pairs;
  for (const sim::Action& a : schedule)
    pairs.emplace_back(a.functions, a.memory_mb);
  return pairs;
}

// The scenario with its budget, or a copy with `budget_usd` when given.
std::shared_ptr<const sim::Scenario> Budgeted(
    const PyScenario& scenario, const std::optional<double>& budget_usd) {
  if (!budget_usd) return scenario.scenario;
  return baselines::WithBudget(*scenario.scenario, *budget_usd);
}

// Means and rate; per-seed outcomes when `episodes`.
py::dict EvaluationToDict(const Evaluation& e, bool episodes) {
  py::dict d;
  d["mean_jct_s"] = e.mean_jct_s;
  d["mean_cost_usd"] = e.mean_cost_usd;
  d["success_rate"] = e.success_rate;
  d["successes"] = e.successes;
  d["over_budget"] = e.over_budget;
  if (episodes) {
    py::list list;
    for (const baselines::EpisodeOutcome& o : e.episodes) {
      py::dict row;
      row["seed"] = o.seed;
      row["jct_s"] = o.jct_s;
      row["cost_usd"] = o.cost_usd;
      row["epochs"] = o.epochs;
      row["status"] = sim::JobStatusName(o.status);
      row["over_budget"] = o.over_budget;
      list.append(row);
    }
    d["episodes"] = list;
  }
  return d;
}

py::dict GridPointToDict(const baselines::GridPoint& p, bool episodes) {
  py::dict d = EvaluationToDict(p.evaluation, episodes);
  d["functions"] = p.action.functions;
  d["memory_mb"] = p.action.memory_mb;
  return d;
}

// An EpisodeOutcome from a row of EvaluationToDict's "episodes".
baselines::EpisodeOutcome OutcomeFromDict(const py::handle& row) {
  const py::dict d = py::reinterpret_borrow<py::dict>(row);
  baselines::EpisodeOutcome o;
  o.seed = d["seed"].cast<uint64_t>();
  o.jct_s = d["jct_s"].cast<double>();
  o.cost_usd = d["cost_usd"].cast<double>();
  o.epochs = d["epochs"].cast<int>();
  o.over_budget = d["over_budget"].cast<bool>();
  const std::string status = d["status"].cast<std::string>();
  for (sim::JobStatus s :
       {sim::JobStatus::kRunning, sim::JobStatus::kConverged,
        sim::JobStatus::kBudgetExhausted, sim::JobStatus::kEpochLimit}) {
    if (status == sim::JobStatusName(s)) o.status = s;
  }
  return o;
}

// One grid search's result for one budget, as grid_search returns it.
py::dict GridResultToDict(const baselines::GridSearchResult& r, size_t seeds) {
  py::dict d;
  d["budget_usd"] = r.budget_usd;
  d["best"] = GridPointToDict(r.best_point(), true);
  d["required_success_rate"] =
      static_cast<double>(r.required_successes) / seeds;
  py::list points;
  for (const baselines::GridPoint& p : r.points) {
    points.append(GridPointToDict(p, false));
  }
  d["points"] = points;
  return d;
}

// Per grid, per budget: GridResultToDict.
py::list GridResultsToList(
    const std::vector<std::vector<baselines::GridSearchResult>>& results,
    size_t seeds) {
  py::list out;
  for (const auto& grid : results) {
    py::list per_budget;
    for (const baselines::GridSearchResult& r : grid) {
      per_budget.append(GridResultToDict(r, seeds));
    }
    out.append(per_budget);
  }
  return out;
}

}  // namespace

void DefineBaselinesBindings(py::module_& m) {
  m.def(
      "summarise_episodes",
      [](const py::list& episodes) {
        std::vector<baselines::EpisodeOutcome> outcomes;
        for (const py::handle& row : episodes) {
          outcomes.push_back(OutcomeFromDict(row));
        }
        if (outcomes.empty()) {
          throw py::value_error("episodes: empty, expected at least one");
        }
        return EvaluationToDict(baselines::Summarise(std::move(outcomes)),
                                true);
      },
      py::arg("episodes"),
      "The means of per-seed outcomes (rows of an evaluation's "
      "\"episodes\": seed, jct_s, cost_usd, epochs, status, over_budget) "
      "summed in "
      "their order, as every baseline aggregates (Summarise); keys as "
      "evaluate_schedule.");
  m.def(
      "evaluate_schedule",
      [](const PyScenario& scenario, const PairSchedule& schedule,
         const std::vector<uint64_t>& seeds, std::optional<double> budget_usd,
         int num_threads) {
        const auto budgeted = Budgeted(scenario, budget_usd);
        const Schedule actions = ToSchedule(schedule);
        Evaluation e;
        {
          py::gil_scoped_release release;
          env::ThreadPool pool(num_threads);
          e = baselines::EvaluateSchedule(budgeted, actions, seeds, pool);
        }
        return EvaluationToDict(e, true);
      },
      py::arg("scenario"), py::arg("schedule"), py::arg("seeds"),
      py::arg("budget_usd") = py::none(), py::arg("num_threads") = 1,
      "Runs the per-epoch schedule [(functions, memory_mb), ...] (the last "
      "pair repeats) from each seed until the job stops. Returns mean_jct_s, "
      "mean_cost_usd, success_rate, successes, over_budget (episodes whose "
      "cost exceeds the budget) and per-seed `episodes` (seed, jct_s, "
      "cost_usd, epochs, status, over_budget). `budget_usd` overrides "
      "job.budget_usd. Results do not depend on num_threads.");
  m.def(
      "grid_search",
      [](const PyScenario& scenario, const std::vector<double>& budgets,
         const std::vector<uint64_t>& seeds, const std::vector<int>& functions,
         const std::vector<int>& memory_mb, int memory_stride,
         int num_threads) {
        baselines::GridSpec spec{functions, memory_stride, memory_mb};
        std::vector<baselines::GridSearchResult> results;
        {
          py::gil_scoped_release release;
          env::ThreadPool pool(num_threads);
          results = baselines::GridSearch(*scenario.scenario, budgets, spec,
                                          seeds, pool);
        }
        py::list out;
        for (const baselines::GridSearchResult& r : results) {
          out.append(GridResultToDict(r, seeds.size()));
        }
        return out;
      },
      py::arg("scenario"), py::arg("budgets"), py::arg("seeds"),
      py::arg("functions") = std::vector<int>{},
      py::arg("memory_mb") = std::vector<int>{}, py::arg("memory_stride") = 0,
      py::arg("num_threads") = 1,
      "Grid search over static (functions, memory_mb) for each budget "
      "(agent/baselines/grid_search.h): the best point has the highest "
      "success count of the grid, then the lowest mean JCT. Empty "
      "`functions` = the default values clipped to the env's range (one "
      "value = GS-x); empty `memory_mb` = every memory_stride-th feasible "
      "size plus the largest (0 = auto, <= 13 sizes). One dict per budget: "
      "budget_usd, best, required_success_rate, points.");
  m.def(
      "grid_axes",
      [](const PyScenario& scenario, const std::vector<int>& functions,
         const std::vector<int>& memory_mb, int memory_stride) {
        baselines::GridSpec spec{functions, memory_stride, memory_mb};
        return std::make_pair(
            baselines::GridFunctions(*scenario.scenario, spec),
            baselines::GridMemory(*scenario.scenario, spec));
      },
      py::arg("scenario"), py::arg("functions") = std::vector<int>{},
      py::arg("memory_mb") = std::vector<int>{}, py::arg("memory_stride") = 0,
      "The (functions, memory_mb) axes grid_search would use. Raises "
      "ValueError naming a value out of range or infeasible.");
  py::class_<baselines::GridPlan>(
      m, "GridPlan",
      "Grid searches taken apart (agent/baselines/grid_search.h), for "
      "running their episodes elsewhere: `runs` lists each distinct "
      "(budget_usd, functions, memory_mb) once, even when grids share it; "
      "each is to be run from every seed of `seeds` (evaluate_schedule's "
      "\"episodes\"), and `reduce` turns those per-seed outcomes into what "
      "grid_search returns for each grid, bit for bit. `run` does all of it "
      "here.")
      .def(py::init([](const PyScenario& scenario,
                       const std::vector<double>& budgets,
                       const std::vector<uint64_t>& seeds,
                       const std::vector<std::vector<int>>& function_grids,
                       const std::vector<int>& memory_mb, int memory_stride) {
             std::vector<baselines::GridSpec> specs;
             for (const std::vector<int>& functions : function_grids) {
               specs.push_back({functions, memory_stride, memory_mb});
             }
             return baselines::MakeGridPlan(*scenario.scenario, budgets, specs,
                                            seeds);
           }),
           py::arg("scenario"), py::arg("budgets"), py::arg("seeds"),
           py::arg("function_grids"), py::arg("memory_mb") = std::vector<int>{},
           py::arg("memory_stride") = 0,
           "One grid per entry of `function_grids` (each as grid_search's "
           "`functions`: empty = the default values, one value = GS-x), all "
           "with the same memory axis, budgets and seeds. Raises ValueError "
           "as grid_search does.")
      .def_property_readonly(
          "runs",
          [](const baselines::GridPlan& plan) {
            std::vector<std::tuple<double, int, int>> runs;
            for (const baselines::GridRun& r : plan.runs) {
              runs.emplace_back(plan.budgets[r.budget], r.action.functions,
                                r.action.memory_mb);
            }
            return runs;
          },
          "The distinct (budget_usd, functions, memory_mb) to run, in order "
          "of first use (grid, budget, then grid order).")
      .def_readonly("seeds", &baselines::GridPlan::seeds,
                    "The seeds every run is run from, in order.")
      .def(
          "reduce",
          [](const baselines::GridPlan& plan, const py::list& episodes) {
            std::vector<std::vector<baselines::EpisodeOutcome>> outcomes;
            for (const py::handle& run : episodes) {
              std::vector<baselines::EpisodeOutcome>& row =
                  outcomes.emplace_back();
              for (const py::handle& episode : run) {
                row.push_back(OutcomeFromDict(episode));
              }
            }
            return GridResultsToList(baselines::ReduceGridPlan(plan, outcomes),
                                     plan.seeds.size());
          },
          py::arg("episodes"),
          "The results of every grid from the per-seed outcomes of every "
          "run (episodes[r]: rows as evaluate_schedule's \"episodes\" of "
          "run r, one per seed in order): a list per grid of grid_search's "
          "list per budget. Raises ValueError when runs or seeds do not "
          "match the plan.")
      .def(
          "run",
          [](const baselines::GridPlan& plan, int num_threads) {
            std::vector<std::vector<baselines::GridSearchResult>> results;
            {
              py::gil_scoped_release release;
              env::ThreadPool pool(num_threads);
              results = baselines::RunGridPlan(plan, pool);
            }
            return GridResultsToList(results, plan.seeds.size());
          },
          py::arg("num_threads") = 1,
          "Runs every run from every seed here, in one batch on num_threads "
          "threads, and reduces: a list per grid of grid_search's list per "
          "budget. Results do not depend on num_threads.");
  m.def(
      "cem_search",
      [](const PyScenario& scenario, const std::vector<uint64_t>& seeds,
         std::optional<double> budget_usd, int slots, int population,
         double elite_fraction, int iterations, uint64_t seed,
         std::optional<std::pair<int, int>> initial,
         const std::vector<PairSchedule>& include, double initial_std_log_n,
         double initial_std_memory, double failure_penalty_s, bool keep_elite,
         int num_threads) {
        const auto budgeted = Budgeted(scenario, budget_usd);
        baselines::CemOptions o;
        o.slots = slots;
        o.population = population;
        o.elite_fraction = elite_fraction;
        o.iterations = iterations;
        o.seed = seed;
        if (initial) o.initial = sim::Action{initial->first, initial->second};
        for (const PairSchedule& s : include)
          o.include.push_back(ToSchedule(s));
        o.initial_std_log_n = initial_std_log_n;
        o.initial_std_memory = initial_std_memory;
        o.failure_penalty_s = failure_penalty_s;
        o.keep_elite = keep_elite;
        baselines::CemResult r;
        {
          py::gil_scoped_release release;
          env::ThreadPool pool(num_threads);
          r = baselines::CemSearch(budgeted, seeds, o, pool);
        }
        py::dict d = EvaluationToDict(r.best_evaluation, true);
        d["schedule"] = ToPairs(r.best);
        d["objective"] = r.best_objective;
        d["evaluated"] = r.evaluated;
        py::list history;
        for (const baselines::CemIteration& it : r.history) {
          py::dict row;
          row["best_objective"] = it.best_objective;
          row["elite_mean_objective"] = it.elite_mean_objective;
          row["best_so_far"] = it.best_so_far;
          history.append(row);
        }
        d["history"] = history;
        return d;
      },
      py::arg("scenario"), py::arg("seeds"), py::arg("budget_usd") = py::none(),
      py::arg("slots") = 10, py::arg("population") = 48,
      py::arg("elite_fraction") = 0.125, py::arg("iterations") = 15,
      py::arg("seed") = 0, py::arg("initial") = py::none(),
      py::arg("include") = std::vector<PairSchedule>{},
      py::arg("initial_std_log_n") = 0.5, py::arg("initial_std_memory") = 0.15,
      py::arg("failure_penalty_s") = 1e5, py::arg("keep_elite") = true,
      py::arg("num_threads") = 1,
      "Cross-entropy search over per-epoch schedules of `slots` epochs "
      "(agent/baselines/cem.h); objective = mean JCT + failure_penalty_s x "
      "(1 - success rate) on `seeds`. `initial` (functions, memory_mb) "
      "centres the first distribution; `include` schedules are evaluated "
      "too, so the result is never worse than them. Returns the best "
      "`schedule`, its objective and evaluation, `history` and `evaluated`. "
      "Deterministic in `seed` whatever num_threads.");
  m.def(
      "oracle_static",
      [](const PyScenario& scenario, const std::vector<double>& budgets,
         const std::vector<uint64_t>& seeds, double function_ratio,
         int coarse_memory, int starts, int function_step, int memory_step,
         int max_rounds, const PairSchedule& include, int num_threads) {
        baselines::OracleStaticOptions o;
        o.function_ratio = function_ratio;
        o.coarse_memory = coarse_memory;
        o.starts = starts;
        o.function_step = function_step;
        o.memory_step = memory_step;
        o.max_rounds = max_rounds;
        o.include = ToSchedule(include);
        std::vector<baselines::OracleStaticResult> results;
        {
          py::gil_scoped_release release;
          env::ThreadPool pool(num_threads);
          results = baselines::OracleStatic(*scenario.scenario, budgets, seeds,
                                            o, pool);
        }
        py::list out;
        for (const baselines::OracleStaticResult& r : results) {
          py::dict d;
          d["budget_usd"] = r.budget_usd;
          d["best"] = GridPointToDict(r.best, true);
          d["coarse_points"] = r.coarse_points;
          d["evaluated"] = r.evaluated;
          d["rounds"] = r.rounds;
          d["local_optimum"] = r.local_optimum;
          out.append(d);
        }
        return out;
      },
      py::arg("scenario"), py::arg("budgets"), py::arg("seeds"),
      py::arg("function_ratio") = 1.25, py::arg("coarse_memory") = 12,
      py::arg("starts") = 4, py::arg("function_step") = 1,
      py::arg("memory_step") = 1, py::arg("max_rounds") = 200,
      py::arg("include") = PairSchedule{}, py::arg("num_threads") = 1,
      "The oracle static baseline (agent/baselines/oracle_static.h): the "
      "best static (functions, memory_mb) of the full grid for each budget, "
      "ranked as grid_search ranks, found by a coarse stage (a geometric n "
      "ladder of ratio function_ratio x coarse_memory memory sizes, plus "
      "`include`) and pattern searches from the `starts` best coarse memory "
      "rows down to function_step functions and memory_step grid positions. "
      "One dict per budget: budget_usd, best (with per-seed episodes), "
      "coarse_points, evaluated, rounds, local_optimum. Results do not "
      "depend on num_threads.");
  m.def(
      "oracle_axes",
      [](const PyScenario& scenario, double function_ratio, int coarse_memory) {
        baselines::OracleStaticOptions o;
        o.function_ratio = function_ratio;
        o.coarse_memory = coarse_memory;
        return std::make_pair(
            baselines::OracleCoarseFunctions(*scenario.scenario, o),
            baselines::OracleCoarseMemory(*scenario.scenario, o));
      },
      py::arg("scenario"), py::arg("function_ratio") = 1.25,
      py::arg("coarse_memory") = 12,
      "The coarse stage's (functions, memory_mb) axes of oracle_static. "
      "Raises ValueError naming a bad function_ratio or coarse_memory.");
  m.def(
      "hand_schedule",
      [](const PyScenario& scenario, double scale, std::optional<int> memory_mb,
         int mid_epochs, int high, int mid, int low) {
        baselines::HandScheduleOptions o;
        o.scale = scale;
        o.memory_mb = memory_mb
                          ? *memory_mb
                          : baselines::DefaultHandMemoryMb(*scenario.scenario);
        o.mid_epochs = mid_epochs;
        o.high = high;
        o.mid = mid;
        o.low = low;
        return ToPairs(baselines::HandSchedule(*scenario.scenario, o));
      },
      py::arg("scenario"), py::arg("scale") = 1.0,
      py::arg("memory_mb") = py::none(), py::arg("mid_epochs") = 4,
      py::arg("high") = 120, py::arg("mid") = 20, py::arg("low") = 10,
      "The talk's hand schedule (agent/baselines/hand_schedule.h): epoch 0 "
      "runs high x scale functions, epochs 1..mid_epochs mid x scale, later "
      "epochs low x scale (the last pair repeats). memory_mb defaults to the "
      "smallest feasible grid size >= 2048 MB.");
  m.def(
      "ec2_baseline",
      [](const PyScenario& scenario,
         const std::vector<std::string>& instance_types,
         const std::vector<int>& instances) {
        const sim::Ec2Spec& base = scenario.scenario->ec2;
        const std::vector<std::string> types =
            instance_types.empty() ? std::vector{base.instance_type}
                                   : instance_types;
        const std::vector<int> counts =
            instances.empty() ? std::vector{base.instances} : instances;
        py::list rows;
        for (const std::string& type : types) {
          sim::FindEc2InstanceType(type);  // Names the known types if not.
          for (int k : counts) {
            if (k < 1) {
              throw py::value_error("instances: got " + std::to_string(k) +
                                    ", expected an integer >= 1");
            }
            sim::Scenario copy = *scenario.scenario;
            copy.ec2.instance_type = type;
            copy.ec2.instances = k;
            sim::Ec2JobResult r;
            {
              py::gil_scoped_release release;
              r = sim::RunEc2Job(copy);
            }
            py::dict row;
            row["instance_type"] = type;
            row["instances"] = k;
            row["time_s"] = r.time_s;
            row["cost_usd"] = r.cost_usd;
            row["converged"] = r.converged;
            row["epochs"] = r.epochs;
            rows.append(row);
          }
        }
        return rows;
      },
      py::arg("scenario"),
      py::arg("instance_types") = std::vector<std::string>{},
      py::arg("instances") = std::vector<int>{},
      "The EC2 cluster baseline (sim/ec2_cluster.h) for every instance type "
      "x count k (empty = the scenario's ec2 section): instance_type, "
      "instances, time_s, cost_usd, converged, epochs. The Lambda budget is "
      "not applied.");
}

}  // namespace siren::bindings
