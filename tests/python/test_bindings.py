"""The compiled module siren._core, through the `siren` package."""

from __future__ import annotations

import pickle
import threading
from importlib import metadata

import pytest

import siren
from siren.benchmark import default_bench_memory

from conftest import EPOCH_RESULT_FIELDS, PRESETS

PYTHON_TYPES = {"int": int, "float": float, "string": str}
FIELD_TYPES = {field["name"]: PYTHON_TYPES[field["type"]] for field in siren._core.epoch_fields()}


def run_epochs(scenario: siren.Scenario, seed: int, epochs: int, functions: int = 20) -> list[dict]:
    """Up to `epochs` epochs of a fixed action (fewer if the job stops)."""
    simulation = siren.Simulation(scenario, seed)
    memory_mb = default_bench_memory(scenario)
    results = []
    while len(results) < epochs and not simulation.done:
        results.append(simulation.run_epoch(functions, memory_mb))
    return results


@pytest.fixture(scope="module")
def scenario() -> siren.Scenario:
    return siren.load_scenario("default", ["job.max_epochs=50"])


def test_version_matches_package_metadata() -> None:
    assert siren.__version__ == metadata.version("siren")


def test_presets_and_default() -> None:
    assert PRESETS == sorted(PRESETS)
    assert "default" not in PRESETS
    assert siren.default_preset_name() in PRESETS
    assert siren.load_scenario("default").name == siren.default_preset_name()


@pytest.mark.parametrize("preset", PRESETS)
def test_preset_properties(preset: str) -> None:
    s = siren.load_scenario(preset)
    assert s.name == preset
    assert s.get("lambda.era") in ("2018", "2025+")
    assert s.platform == "aws_lambda"
    assert s.batches_per_epoch > 0
    grid = s.memory_grid()
    assert grid == sorted(set(grid)) and len(grid) > 1
    assert s.min_feasible_memory_mb in grid
    assert s.memory_error(s.min_feasible_memory_mb) == ""
    assert s.memory_error(grid[0] - 1) != ""
    assert s.budget_usd > 0 and s.max_epochs > 0 and s.target_loss > 0
    assert repr(s) == f"<siren.Scenario '{preset}'>"


@pytest.mark.parametrize("preset", PRESETS)
def test_yaml_and_pickle_round_trip(preset: str) -> None:
    s = siren.load_scenario(preset, ["job.max_epochs=7"])
    again = siren.parse_scenario(s.to_yaml(), origin="round-trip")
    assert again.to_yaml() == s.to_yaml()
    assert again.max_epochs == 7
    assert pickle.loads(pickle.dumps(s)).to_yaml() == s.to_yaml()


def test_overrides_apply() -> None:
    s = siren.load_scenario("default", ["job.budget_usd=3.5", "job.max_epochs=11"])
    assert s.budget_usd == 3.5
    assert s.max_epochs == 11


def test_scenario_error_carries_field() -> None:
    assert issubclass(siren.ScenarioError, ValueError)
    with pytest.raises(siren.ScenarioError) as info:
        siren.load_scenario("default", ["job.max_epochs=-1"])
    assert info.value.field == "job.max_epochs"
    assert "job.max_epochs" in str(info.value)


def test_scenario_error_unknown_preset_has_empty_field() -> None:
    with pytest.raises(siren.ScenarioError) as info:
        siren.load_scenario("no-such-preset")
    assert info.value.field == ""
    assert "no-such-preset" in str(info.value)


def test_parse_scenario_error_names_origin_or_field() -> None:
    with pytest.raises(siren.ScenarioError):
        siren.parse_scenario("job: [unclosed", origin="broken.yaml")


def test_epoch_result_has_every_field(scenario: siren.Scenario) -> None:
    (result,) = run_epochs(scenario, seed=0, epochs=1)
    assert list(result) == EPOCH_RESULT_FIELDS
    for key, value in result.items():
        assert type(value) is FIELD_TYPES[key], key
    assert result["epoch"] == 0
    assert result["status"] == "running"
    assert result["cost_total_usd"] == pytest.approx(
        result["cost_function_duration_usd"]
        + result["cost_function_request_usd"]
        + result["cost_s3_request_usd"]
    )


def test_simulation_properties_follow_results(scenario: siren.Scenario) -> None:
    simulation = siren.Simulation(scenario, 3)
    assert (simulation.epoch, simulation.time_s, simulation.cost_usd) == (0, 0.0, 0.0)
    assert simulation.status == "running" and not simulation.done
    memory_mb = default_bench_memory(scenario)
    result = simulation.run_epoch(20, memory_mb)
    assert simulation.epoch == 1
    assert simulation.time_s == result["cumulative_time_s"]
    assert simulation.cost_usd == result["cumulative_cost_usd"]
    assert simulation.loss == result["loss"]
    assert simulation.true_loss == result["true_loss"]
    assert simulation.total_events >= result["events"] > 0
    assert simulation.scenario.to_yaml() == scenario.to_yaml()


def test_same_seed_same_results_different_seed_different(scenario: siren.Scenario) -> None:
    a = run_epochs(scenario, seed=1, epochs=3)
    b = run_epochs(scenario, seed=1, epochs=3)
    c = run_epochs(scenario, seed=2, epochs=3)
    assert a == b
    assert a != c


def test_reset_and_copy_reproduce(scenario: siren.Scenario) -> None:
    memory_mb = default_bench_memory(scenario)
    simulation = siren.Simulation(scenario, 5)
    first = simulation.run_epoch(20, memory_mb)
    branch = simulation.copy()
    assert branch.run_epoch(20, memory_mb) == simulation.run_epoch(20, memory_mb)
    simulation.reset(5)
    assert simulation.epoch == 0
    assert simulation.run_epoch(20, memory_mb) == first


@pytest.mark.parametrize(("functions", "memory_delta"), [(0, 0), (-3, 0), (20, 1)])
def test_invalid_action_changes_nothing(scenario: siren.Scenario, functions: int, memory_delta: int) -> None:
    assert issubclass(siren.InvalidActionError, ValueError)
    simulation = siren.Simulation(scenario, 0)
    memory_mb = scenario.memory_grid()[-1] + memory_delta if memory_delta else scenario.min_feasible_memory_mb
    with pytest.raises(siren.InvalidActionError):
        simulation.run_epoch(functions, memory_mb)
    assert simulation.epoch == 0 and simulation.cost_usd == 0.0


def test_infeasible_memory_is_invalid(scenario: siren.Scenario) -> None:
    below = [m for m in scenario.memory_grid() if m < scenario.min_feasible_memory_mb]
    if not below:
        pytest.skip("the smallest grid size is feasible for this scenario")
    with pytest.raises(siren.InvalidActionError, match="memory"):
        siren.Simulation(scenario, 0).run_epoch(10, below[-1])


def test_job_stops_and_then_refuses_steps() -> None:
    scenario = siren.load_scenario("default", ["job.max_epochs=2"])
    simulation = siren.Simulation(scenario, 0)
    memory_mb = default_bench_memory(scenario)
    while not simulation.done:
        simulation.run_epoch(20, memory_mb)
    assert simulation.status != "running"
    assert simulation.epoch <= 2
    with pytest.raises(siren.InvalidActionError):
        simulation.run_epoch(20, memory_mb)


def test_run_benchmark(scenario: siren.Scenario) -> None:
    result = siren.run_benchmark(scenario, 20, default_bench_memory(scenario), min_wall_s=0.0, min_epochs=2)
    assert set(result) == {"events", "epochs", "batches", "wall_s", "events_per_s", "epochs_per_s"}
    assert result["epochs"] >= 2 and result["events"] > 0 and result["wall_s"] > 0
    assert result["events_per_s"] == pytest.approx(result["events"] / result["wall_s"])


def test_ec2_baseline(scenario: siren.Scenario) -> None:
    types = siren.ec2_instance_types()
    assert types and {"name", "vcpus", "memory_gb", "usd_per_hour", "network_mb_per_s"} <= set(types[0])
    result = siren.run_ec2_job(scenario)
    assert set(result) == {
        "epochs", "time_s", "cost_usd", "final_loss", "converged", "epoch_end_time_s", "epoch_loss",
    }  # fmt: skip
    assert len(result["epoch_end_time_s"]) == len(result["epoch_loss"]) == result["epochs"]
    assert isinstance(result["converged"], bool)


def test_run_epoch_releases_gil_and_threads_agree() -> None:
    """Two threads simulate concurrently (run_epoch drops the GIL): no
    deadlock, and each gets exactly what a sequential run gets."""
    scenario = siren.load_scenario("default", ["job.max_epochs=40"])
    expected = {seed: run_epochs(scenario, seed, epochs=20) for seed in (11, 12)}
    got: dict[int, list[dict]] = {}
    errors: list[BaseException] = []
    start = threading.Barrier(2)

    def work(seed: int) -> None:
        try:
            start.wait(timeout=30)
            got[seed] = run_epochs(scenario, seed, epochs=20)
        except BaseException as error:  # noqa: BLE001 - reported below
            errors.append(error)

    threads = [threading.Thread(target=work, args=(seed,)) for seed in expected]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(thread.is_alive() for thread in threads), "deadlock"
    assert not errors, errors
    assert got == expected


def test_shared_simulation_is_safe_across_threads(scenario: siren.Scenario) -> None:
    """Threads sharing one Simulation are serialised, never corrupt it."""
    simulation = siren.Simulation(scenario, 0)  # 100 functions: >10 epochs to converge
    memory_mb = default_bench_memory(scenario)
    epochs: list[int] = []
    lock = threading.Lock()

    def work() -> None:
        for _ in range(5):
            result = simulation.run_epoch(100, memory_mb)
            with lock:
                epochs.append(result["epoch"])

    threads = [threading.Thread(target=work) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert sorted(epochs) == list(range(10))
    assert simulation.epoch == 10
