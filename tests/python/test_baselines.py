"""The torch-free baselines from Python: `siren sweep` end to end and the
_core functions it is built on (agent/baselines/)."""

from __future__ import annotations

import json

import pytest

import siren
from siren import _core
from siren.baselines import oracle_static

SMALL_GRID = ["--functions-grid", "20,50", "--memory-stride", "22", "--seeds", "2", "--threads", "2"]
# A quick oracle static search: a coarse ladder (ratio 2) x 4 memory sizes.
QUICK_ORACLE = ["--oracle-ratio", "2", "--oracle-coarse-memory", "4"]


def test_sweep_json_end_to_end(cli, tmp_path) -> None:
    (tmp_path / "out").mkdir()  # Output folders are not created (siren.outputs).
    proc = cli("sweep", "--budgets", "0.15,0.25", *SMALL_GRID, *QUICK_ORACLE, "--fixed-n", "50", "--cem",
               "--cem-slots", "2", "--cem-population", "4", "--cem-iterations", "2",
               "--json", "out/sweep.json")  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    document = json.loads((tmp_path / "out" / "sweep.json").read_text())
    assert document["seeds"] == [0, 1] and document["budgets"] == [0.15, 0.25]
    rows = document["rows"]
    methods = [(row["method"], row["budget_usd"]) for row in rows]
    for budget in (0.15, 0.25):
        for method in ("GS", "GS-50", "oracle static", "hand", "CEM"):
            assert (method, budget) in methods
    assert ("EC2 m4.xlarge x4", None) in methods
    for row in rows:
        assert set(row) == {"method", "budget_usd", "success_rate", "over_budget", "seeds", "mean_cost_usd",
                            "mean_jct_s", "config", "improvement_vs_gs_pct", "comparison_vs_gs",
                            "improvement_vs_oracle_pct", "comparison_vs_oracle"}
        assert row["mean_jct_s"] > 0 and 0 <= row["success_rate"] <= 1
        if row["budget_usd"] is not None:
            assert row["seeds"] == 2 and 0 <= row["over_budget"] <= 2
    scenario = siren.load_scenario("default")
    for budget in (0.15, 0.25):
        by_method = {row["method"]: row for row in rows if row["budget_usd"] == budget}
        gs = by_method["GS"]
        # GS agrees with the grid it searched, and CEM (started at GS) is no worse.
        assert gs["config"]["functions"] in (20, 50)
        again = _core.evaluate_schedule(scenario, [(gs["config"]["functions"], gs["config"]["memory_mb"])],
                                        [0, 1], budget_usd=budget)
        assert again["mean_jct_s"] == gs["mean_jct_s"]
        cem = by_method["CEM"]
        assert (cem["success_rate"], -cem["mean_jct_s"]) >= (gs["success_rate"], -gs["mean_jct_s"])
        assert by_method["GS-50"]["config"]["functions"] == 50
        # The oracle static search includes GS's optimum: never worse on these seeds.
        oracle = by_method["oracle static"]
        assert (oracle["success_rate"], -oracle["mean_jct_s"]) >= (gs["success_rate"], -gs["mean_jct_s"])
        assert oracle["config"]["local_optimum"] is True
        # Percentages only at equal success, against the row named in the key.
        for row in by_method.values():
            for key, baseline in (("gs", gs), ("oracle", oracle)):
                gain = row[f"improvement_vs_{key}_pct"]
                assert (gain is None) == (row["success_rate"] != baseline["success_rate"]
                                          or baseline["success_rate"] == 0), row
                if gain is not None and row is not baseline:
                    assert gain == pytest.approx(100 * (baseline["mean_jct_s"] - row["mean_jct_s"])
                                                 / baseline["mean_jct_s"])
    # The table went to stdout too, with the baseline of each percentage named.
    assert "GS-50" in proc.stdout and "EC2 m4.xlarge x4" in proc.stdout
    assert "vs GS" in proc.stdout and "vs oracle static" in proc.stdout


@pytest.mark.parametrize(
    ("args", "named"),
    [
        (["--budgets", "0.1,abc"], "--budgets"),
        (["--budgets", "0"], "--budgets"),
        (["--seeds", "0"], "--seeds"),
        (["--functions-grid", "5000"], "--functions-grid"),
        (["--fixed-n", "0"], "--fixed-n"),
        (["--hand-memory", "1000"], "--hand-memory"),
        (["--ec2-types", "m9.huge"], "--ec2-types"),
        (["--threads", "0"], "--threads"),
        (["--oracle-ratio", "1"], "--oracle-ratio"),
        (["--oracle-coarse-memory", "1"], "--oracle-coarse-memory"),
        (["--oracle-starts", "0"], "--oracle-starts"),
        (["--oracle-memory-step", "x"], "--oracle-memory-step"),
    ],
)
def test_sweep_bad_input_exits_2_naming_the_argument(cli, args, named) -> None:
    proc = cli("sweep", "--functions-grid", "50", "--memory-stride", "22", "--seeds", "1", *args)
    assert proc.returncode == 2, proc.stdout
    assert named in proc.stderr, proc.stderr


def test_core_functions_are_thread_independent() -> None:
    scenario = siren.load_scenario("default")
    kwargs = dict(functions=[20, 50], memory_stride=22)
    one = _core.grid_search(scenario, [0.25], [0, 1], num_threads=1, **kwargs)
    two = _core.grid_search(scenario, [0.25], [0, 1], num_threads=2, **kwargs)
    assert one == two
    cem = dict(budget_usd=0.25, slots=2, population=4, iterations=2, seed=3)
    assert _core.cem_search(scenario, [0, 1], num_threads=1, **cem) == \
        _core.cem_search(scenario, [0, 1], num_threads=2, **cem)
    hand = _core.hand_schedule(scenario, scale=0.5, memory_mb=1024, mid_epochs=2)
    assert hand == [(60, 1024), (10, 1024), (10, 1024), (5, 1024)]
    with pytest.raises(ValueError, match="num_threads"):
        _core.evaluate_schedule(scenario, [(20, 1024)], [0], num_threads=0)


def test_grid_plan_reduces_outcomes_run_elsewhere_to_grid_search() -> None:
    """What the Ray backend relies on: GridPlan lists each (budget, point) of
    several grids once; their episodes, run one by one, reduce to the
    grid_search of each grid bit for bit, as `run` does here."""
    scenario = siren.load_scenario("default", ["job.max_epochs=10"])
    budgets, seeds, grids = [0.15, 0.3], [3, 4, 5], [[10, 50], [50]]
    plan = _core.GridPlan(scenario, budgets, seeds, grids, memory_stride=8)
    _, memory = _core.grid_axes(scenario, [10, 50], [], 8)
    assert plan.seeds == seeds
    assert plan.runs == [(budget, n, m) for budget in budgets for n in (10, 50) for m in memory]  # GS-50 shared.
    episodes = []
    for budget, n, m in plan.runs:
        evaluation = _core.evaluate_schedule(scenario, [(n, m)], seeds, budget_usd=budget)
        assert _core.summarise_episodes(evaluation["episodes"]) == evaluation
        episodes.append(evaluation["episodes"])
    expected = [_core.grid_search(scenario, budgets, seeds, functions=grid, memory_stride=8) for grid in grids]
    assert plan.reduce(episodes) == expected
    assert plan.run(num_threads=2) == expected
    with pytest.raises(ValueError, match="runs"):
        plan.reduce(episodes[1:])
    with pytest.raises(ValueError, match="in its order"):
        plan.reduce([list(reversed(run)) for run in episodes])
    with pytest.raises(ValueError, match="seeds: empty"):
        _core.GridPlan(scenario, budgets, [], grids)


def _ranks_before_or_equal(a: dict, b: dict) -> bool:
    """Grid search's rule: more successes, then lower (or equal) mean JCT."""
    return (-a["successes"], a["mean_jct_s"]) <= (-b["successes"], b["mean_jct_s"])


def test_oracle_static_is_never_worse_than_gs_and_finds_the_brute_force_optimum() -> None:
    """On a tiny grid (n 1..12 x 45 memory sizes, brute force 540
    configurations): the search is at least as good as the coarse GS on the
    same seeds, and here it finds the brute force's best, which lies off its
    coarse stage (tests/cpp/baselines_test.cc checks another budget)."""
    scenario = siren.load_scenario("default", ["env.max_functions=12"])
    seeds, budget = [0, 1], 0.065
    [gs] = _core.grid_search(scenario, [budget], seeds, num_threads=2)
    oracle = oracle_static(scenario, seeds, budget, num_threads=2)
    assert _ranks_before_or_equal(oracle["best"], gs["best"])
    assert oracle["best"]["mean_jct_s"] < gs["best"]["mean_jct_s"]  # Here strictly better.
    [brute] = _core.grid_search(scenario, [budget], seeds, functions=list(range(1, 13)), memory_stride=1,
                                num_threads=2)
    assert len(brute["points"]) == 12 * 45
    coarse_functions, coarse_memory = _core.oracle_axes(scenario)
    assert brute["best"]["memory_mb"] not in coarse_memory  # The refinement found it.
    assert (oracle["best"]["functions"], oracle["best"]["memory_mb"]) == \
        (brute["best"]["functions"], brute["best"]["memory_mb"])
    assert oracle["best"]["mean_jct_s"] == brute["best"]["mean_jct_s"]
    assert oracle["evaluated"] < len(brute["points"]) // 2 and oracle["local_optimum"]
    # The library function is _core.oracle_static for one budget, whatever the threads.
    [again] = _core.oracle_static(scenario, [budget], seeds, num_threads=1)
    assert again == oracle
    with pytest.raises(ValueError, match="function_ratio"):
        oracle_static(scenario, seeds, budget, function_ratio=1.0)
    with pytest.raises(ValueError, match="unknown option 'ratio'"):
        oracle_static(scenario, seeds, budget, ratio=2.0)
