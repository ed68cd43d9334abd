"""The torch-free baselines from Python: `siren sweep` end to end and the
_core functions it is built on (agent/baselines/)."""

from __future__ import annotations

import json

import pytest

import siren
from siren import _core

SMALL_GRID = ["--functions-grid", "20,50", "--memory-stride", "22", "--seeds", "2", "--threads", "2"]


def test_sweep_json_end_to_end(cli, tmp_path) -> None:
    (tmp_path / "out").mkdir()  # Output folders are not created (siren.outputs).
    proc = cli("sweep", "--budgets", "0.15,0.25", *SMALL_GRID, "--fixed-n", "50", "--cem",
               "--cem-slots", "2", "--cem-population", "4", "--cem-iterations", "2",
               "--json", "out/sweep.json")  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    document = json.loads((tmp_path / "out" / "sweep.json").read_text())
    assert document["seeds"] == [0, 1] and document["budgets"] == [0.15, 0.25]
    rows = document["rows"]
    methods = [(row["method"], row["budget_usd"]) for row in rows]
    for budget in (0.15, 0.25):
        for method in ("GS", "GS-50", "hand", "CEM"):
            assert (method, budget) in methods
    assert ("EC2 m4.xlarge x4", None) in methods
    for row in rows:
        assert set(row) == {"method", "budget_usd", "mean_jct_s", "mean_cost_usd", "success_rate", "config"}
        assert row["mean_jct_s"] > 0 and 0 <= row["success_rate"] <= 1
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
    # The table went to stdout too.
    assert "GS-50" in proc.stdout and "EC2 m4.xlarge x4" in proc.stdout


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
