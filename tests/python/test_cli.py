"""The `siren` command line, end to end in subprocesses."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import siren
from siren.benchmark import default_bench_memory

from conftest import EPOCH_RESULT_FIELDS, PRESETS, fixed_schedule, summary_fields


def assert_usage_error(proc: subprocess.CompletedProcess[str], *needles: str) -> None:
    assert proc.returncode == 2, (proc.stdout, proc.stderr)
    assert proc.stderr.startswith("siren: error: "), proc.stderr
    assert "Traceback" not in proc.stderr
    for needle in needles:
        assert needle in proc.stderr, (needle, proc.stderr)


def simulate_in_process(preset: str, overrides: list[str], schedule: str, seed: int) -> list[dict]:
    scenario = siren.load_scenario(preset, overrides)
    plan = siren.parse_schedule(schedule)
    simulation = siren.Simulation(scenario, seed)
    results = []
    while not simulation.done:
        results.append(simulation.run_epoch(*plan.action(simulation.epoch)))
    return results


# --- presets / scenario / version ---------------------------------------------


def test_presets_lists_all_and_marks_default(cli) -> None:
    proc = cli("presets")
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert [line.split()[0] for line in lines] == PRESETS
    marked = [line.split()[0] for line in lines if "(default)" in line]
    assert marked == [siren.default_preset_name()]


def test_scenario_prints_merged_yaml(cli) -> None:
    proc = cli("scenario", "--scenario", PRESETS[0], "job.max_epochs=9")
    assert proc.returncode == 0, proc.stderr
    expected = siren.load_scenario(PRESETS[0], ["job.max_epochs=9"]).to_yaml()
    assert proc.stdout.rstrip("\n") == expected.rstrip("\n")
    assert siren.parse_scenario(proc.stdout).max_epochs == 9


def test_scenario_defaults_to_default_preset(cli) -> None:
    proc = cli("scenario")
    assert proc.returncode == 0, proc.stderr
    assert siren.parse_scenario(proc.stdout).name == siren.default_preset_name()


def test_scenario_describe(cli) -> None:
    proc = cli("scenario", "--describe")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.rstrip("\n") == siren.describe_parameters().rstrip("\n")
    assert "job.max_epochs" in proc.stdout


def test_version_and_no_command(cli) -> None:
    proc = cli("--version")
    assert proc.returncode == 0
    assert proc.stdout.strip() == f"siren {siren.__version__}"
    assert cli().returncode == 2


def test_console_script_is_installed() -> None:
    script = Path(sys.executable).parent / "siren"
    if not script.exists():
        script_path = shutil.which("siren")
        if script_path is None:
            pytest.skip("no `siren` console script next to the interpreter or on PATH")
        script = Path(script_path)
    proc = subprocess.run([str(script), "presets"], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert siren.default_preset_name() in proc.stdout


# --- simulate -----------------------------------------------------------------


@pytest.mark.parametrize("preset", PRESETS)
def test_simulate_each_preset_writes_matching_trace(cli, tmp_path: Path, preset: str) -> None:
    scenario = siren.load_scenario(preset)
    schedule = fixed_schedule(scenario)
    overrides = ["job.max_epochs=3"]
    out = tmp_path / "trace.h5"
    proc = cli("simulate", "--scenario", preset, "--schedule", schedule, "--seed", "7",
               "--out", str(out), *overrides)  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr

    expected = simulate_in_process(preset, overrides, schedule, seed=7)
    fields, attrs = siren.read_trace(out)

    # Every epoch-result field, one row per epoch, equal to an in-process run.
    assert list(fields) == EPOCH_RESULT_FIELDS
    for key in EPOCH_RESULT_FIELDS:
        column = [row[key] for row in expected]
        assert fields[key].shape == (len(expected),), key
        np.testing.assert_array_equal(fields[key], np.array(column), err_msg=key)
    assert fields["status"].dtype.kind == "U"  # stored as fixed-length bytes

    # Attributes.
    assert attrs["scenario"] == siren.load_scenario(preset, overrides).to_yaml()
    assert attrs["seed"] == 7
    assert attrs["version"] == siren.__version__
    assert attrs["schedule"] == schedule
    assert attrs["status"] == expected[-1]["status"] != "running"
    assert siren.parse_scenario(attrs["scenario"]).max_epochs == 3

    # The printed table and summary agree with the trace.
    summary = summary_fields(proc.stdout)
    assert summary["status"] == attrs["status"]
    assert int(summary["epochs"]) == len(expected) <= 3
    assert float(summary["jct_s"]) == pytest.approx(expected[-1]["cumulative_time_s"], abs=1e-3)
    assert float(summary["cost_usd"]) == pytest.approx(expected[-1]["cumulative_cost_usd"], abs=1e-6)
    rows = [line.split() for line in proc.stdout.splitlines() if re.match(r"^\s+\d+\s", line)]
    assert [int(row[0]) for row in rows] == [r["epoch"] for r in expected]
    assert [float(row[12]) for row in rows] == pytest.approx([r["loss"] for r in expected], abs=1e-4)


def test_trace_status_is_fixed_length_bytes(cli, tmp_path: Path) -> None:
    import h5py

    out = tmp_path / "t.h5"
    scenario = siren.load_scenario("default")
    proc = cli("simulate", "--schedule", fixed_schedule(scenario), "--quiet", "--out", str(out),
               "job.max_epochs=2")  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    with h5py.File(out, "r") as f:
        assert f["status"].dtype.kind == "S"
        assert set(f.attrs) >= {"scenario", "seed", "version", "schedule", "status"}


def test_per_epoch_schedule_last_pair_repeats(cli, tmp_path: Path) -> None:
    scenario = siren.load_scenario("default")
    feasible = [m for m in scenario.memory_grid() if m >= scenario.min_feasible_memory_mb]
    m1, m2 = feasible[0], feasible[len(feasible) // 2]
    out = tmp_path / "t.h5"
    proc = cli("simulate", "--schedule", f"30:{m2},10:{m1}", "--out", str(out), "--quiet",
               "job.max_epochs=4")  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    fields, _ = siren.read_trace(out)
    n = len(fields["epoch"])
    assert n >= 2
    assert list(fields["action_functions"]) == [30] + [10] * (n - 1)
    assert list(fields["action_memory_mb"]) == [m2] + [m1] * (n - 1)


def test_quiet_prints_only_summary(cli) -> None:
    scenario = siren.load_scenario("default")
    proc = cli("simulate", "--schedule", fixed_schedule(scenario), "--quiet", "job.max_epochs=2")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines()[-1].startswith("status=")
    assert len(proc.stdout.splitlines()) == 1
    assert proc.stderr == ""  # no progress bar when not a TTY / --quiet


def test_simulate_runs_until_job_stops(cli) -> None:
    scenario = siren.load_scenario("default")
    proc = cli("simulate", "--schedule", fixed_schedule(scenario, functions=10), "--quiet")
    assert proc.returncode == 0, proc.stderr
    summary = summary_fields(proc.stdout)
    assert summary["status"] != "running"
    assert 1 <= int(summary["epochs"]) <= scenario.max_epochs


def test_simulate_says_when_the_budget_guard_does_not_run_an_epoch(cli, tmp_path: Path) -> None:
    """4 then 32 functions on $0.002: the guard runs the first epoch and not
    the second (projected over the budget left), and says so; the trace's
    last row is that epoch, budget_stop before_epoch, nothing spent."""
    trace = tmp_path / "t.h5"
    proc = cli("simulate", "--scenario", "softmax-digits", "--schedule", "4:1024,32:1024", "--out", str(trace),
               "job.budget_usd=0.002")
    assert proc.returncode == 0, proc.stderr
    assert "    1 budget guard: not run, its projected cost ~$" in proc.stdout
    summary = summary_fields(proc.stdout)
    assert summary["status"] == "budget_exhausted" and summary["epochs"] == "1"
    assert float(summary["cost_usd"]) <= 0.002
    results, _ = siren.read_trace(trace)
    assert list(results["budget_stop"]) == ["none", "before_epoch"]
    assert results["cost_total_usd"][1] == 0 and results["projected_cost_usd"][1] > 0.002 - results["cost_total_usd"][0]


def test_same_seed_identical_trace_different_seed_different(cli, tmp_path: Path) -> None:
    scenario = siren.load_scenario("default")
    schedule = fixed_schedule(scenario)
    paths = {}
    for name, seed in (("a", "3"), ("b", "3"), ("c", "4")):
        paths[name] = tmp_path / f"{name}.h5"
        proc = cli("simulate", "--schedule", schedule, "--seed", seed, "--quiet",
                   "--out", str(paths[name]), "job.max_epochs=3")  # fmt: skip
        assert proc.returncode == 0, proc.stderr
    a, attrs_a = siren.read_trace(paths["a"])
    b, attrs_b = siren.read_trace(paths["b"])
    c, _ = siren.read_trace(paths["c"])
    assert attrs_a == attrs_b
    for key in a:
        np.testing.assert_array_equal(a[key], b[key], err_msg=key)
    assert any(not np.array_equal(a[key], c[key]) for key in ("loss", "duration_s", "cost_total_usd"))


# --- input errors: exit 2, `siren: error: ...`, no traceback --------------------


def test_unknown_preset(cli) -> None:
    assert_usage_error(cli("simulate", "--scenario", "no-such-preset", "--schedule", "10:1024"),
                       "no-such-preset")  # fmt: skip


def test_missing_scenario_file(cli, tmp_path: Path) -> None:
    path = str(tmp_path / "missing.yaml")
    assert_usage_error(cli("simulate", "--scenario", path, "--schedule", "10:1024"), "missing.yaml")


def test_bad_scenario_file_names_field(cli, tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    text = siren.load_scenario("default").to_yaml().replace("max_epochs: ", "max_epochs: -")
    path.write_text(text)
    assert_usage_error(cli("simulate", "--scenario", str(path), "--schedule", "10:1024"), "job.max_epochs")


def test_unknown_override_key_names_field(cli) -> None:
    assert_usage_error(cli("simulate", "--schedule", "10:1024", "job.max_epoch=3"), "job.max_epoch")


def test_bad_override_value_names_field(cli) -> None:
    assert_usage_error(cli("simulate", "--schedule", "10:1024", "workload.batch_size=abc"),
                       "workload.batch_size")  # fmt: skip


def test_override_without_equals(cli) -> None:
    assert_usage_error(cli("simulate", "--schedule", "10:1024", "job.max_epochs"), "job.max_epochs")


@pytest.mark.parametrize(("schedule", "needle"), [("abc", "'abc'"), ("10:1024,x", "token 2"), ("0:1024", "FUNCTIONS")])
def test_bad_schedule(cli, schedule: str, needle: str) -> None:
    assert_usage_error(cli("simulate", "--schedule", schedule), needle, "FUNCTIONS:MEMORY_MB")


def test_off_grid_and_infeasible_memory(cli) -> None:
    scenario = siren.load_scenario("default")
    off_grid = scenario.memory_grid()[-1] + 1
    assert_usage_error(cli("simulate", "--schedule", f"10:{off_grid}"), "memory_mb", str(off_grid))
    below = [m for m in scenario.memory_grid() if m < scenario.min_feasible_memory_mb]
    if below:
        assert_usage_error(cli("simulate", "--schedule", f"10:{below[-1]}"), "memory_mb")


def test_unwritable_out(cli, tmp_path: Path) -> None:
    scenario = siren.load_scenario("default")
    schedule = fixed_schedule(scenario)
    missing_dir = tmp_path / "no" / "such" / "dir" / "t.h5"
    assert_usage_error(cli("simulate", "--schedule", schedule, "--out", str(missing_dir)), "--out")
    assert_usage_error(cli("simulate", "--schedule", schedule, "--out", str(tmp_path)), "--out")
    if os.geteuid() != 0:  # root writes anywhere
        locked = tmp_path / "locked"
        locked.mkdir(mode=0o500)
        assert_usage_error(cli("simulate", "--schedule", schedule, "--out", str(locked / "t.h5")), "--out")
    assert not missing_dir.exists()


def test_bad_seed_is_a_usage_error(cli) -> None:
    proc = cli("simulate", "--schedule", "10:1024", "--seed", "-1")
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr


# --- bench and ec2 ------------------------------------------------------------


def parse_key_values(stdout: str) -> dict[str, str]:
    return dict(line.split("=", 1) for line in stdout.splitlines() if "=" in line)


def test_bench_prints_events_per_s(cli) -> None:
    proc = cli("bench", "--seconds", "0.2")
    assert proc.returncode == 0, proc.stderr
    match = re.search(r"^events_per_s=([0-9]+(?:\.[0-9]+)?)$", proc.stdout, re.MULTILINE)
    assert match, proc.stdout
    assert float(match.group(1)) > 0
    values = parse_key_values(proc.stdout)
    scenario = siren.load_scenario("default")
    assert values["scenario"] == scenario.name
    assert int(values["memory_mb"]) == default_bench_memory(scenario)
    assert int(values["epochs"]) >= 3 and int(values["events"]) > 0
    assert float(values["wall_s"]) > 0 and float(values["epochs_per_s"]) > 0


def test_bench_with_options_and_overrides(cli) -> None:
    scenario = siren.load_scenario(PRESETS[-1])
    memory = scenario.min_feasible_memory_mb
    proc = cli("bench", "--scenario", PRESETS[-1], "--functions", "7", "--memory", str(memory),
               "--seconds", "0", "--min-epochs", "2", "job.max_epochs=5")  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    values = parse_key_values(proc.stdout)
    assert values["functions"] == "7" and values["memory_mb"] == str(memory)
    assert int(values["epochs"]) >= 2


def test_bench_resizes_the_dataset_for_every_function_to_work(cli) -> None:
    proc = cli("bench", "--functions", "30", "--batches-per-function", "2",
               "--seconds", "0", "--min-epochs", "1")  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    values = parse_key_values(proc.stdout)
    assert values["functions_used"] == "30"
    assert values["batches_per_epoch"] == "60"


def test_bench_without_resizing_reports_idle_functions(cli) -> None:
    # The default preset has 938 batches per epoch: 3000 functions cannot all work.
    proc = cli("bench", "--functions", "3000", "--seconds", "0", "--min-epochs", "1")
    assert proc.returncode == 0, proc.stderr
    values = parse_key_values(proc.stdout)
    assert values["functions_used"] == values["batches_per_epoch"] == "938"


def test_bench_bad_memory(cli) -> None:
    assert_usage_error(cli("bench", "--memory", "1", "--seconds", "0"), "memory")


def test_bench_env_prints_overhead_and_vector_speedup(cli) -> None:
    proc = cli("bench-env", "--seconds", "0.05", "--num-envs", "4")
    assert proc.returncode == 0, proc.stderr
    values = parse_key_values(proc.stdout)
    for key in ("steps_per_s_single", "vector_steps_per_s_1", "vector_steps_per_s_2", "vector_speedup"):
        assert float(values[key]) > 0, key
    float(values["overhead_pct"])  # may be negative on a noisy machine
    assert values["scenario"] == siren.default_preset_name() and values["num_envs"] == "4"


def test_bench_env_bad_scenario(cli) -> None:
    assert_usage_error(cli("bench-env", "--seconds", "0", "job.bogus=1"), "job.bogus")


def test_default_bench_memory_is_feasible_and_on_grid() -> None:
    for preset in PRESETS:
        scenario = siren.load_scenario(preset)
        memory = default_bench_memory(scenario)
        assert scenario.memory_error(memory) == ""
        assert memory >= scenario.min_feasible_memory_mb


def test_ec2(cli) -> None:
    proc = cli("ec2", "job.max_epochs=5")
    assert proc.returncode == 0, proc.stderr
    last = proc.stdout.splitlines()[-1]
    values = dict(item.split("=", 1) for item in last.split())
    expected = siren.run_ec2_job(siren.load_scenario("default", ["job.max_epochs=5"]))
    assert int(values["epochs"]) == expected["epochs"]
    assert values["status"] == ("converged" if expected["converged"] else "epoch_limit")
    assert float(values["cost_usd"]) == pytest.approx(expected["cost_usd"], abs=1e-6)


def test_ec2_list_types_and_bad_override(cli) -> None:
    proc = cli("ec2", "--list-types")
    assert proc.returncode == 0, proc.stderr
    for t in siren.ec2_instance_types():
        assert t["name"] in proc.stdout
    assert_usage_error(cli("ec2", "ec2.instances=0"), "ec2.instances")
