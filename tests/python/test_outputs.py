"""Self-describing outputs and run folders (issue 16): every HDF5 dataset the
project writes has `units` and `description` attributes, attributes that
are numbers are numbers (and strings are str), statuses use the simulator's
names, and `siren train` never overwrites a run unless told to."""

from __future__ import annotations

import h5py
import numpy as np
import pytest

from siren import _core
from siren.envs import STATUS_NAMES

from conftest import run_cli

TINY_TRAIN = ("--iterations", "2", "--envs", "2", "--quiet", "job.max_epochs=2")


def _datasets(path) -> dict[str, dict]:
    """{dataset path: its attributes} of every dataset in the file."""
    out: dict[str, dict] = {}
    with h5py.File(path, "r") as f:
        f.visititems(lambda name, item: out.__setitem__(name, dict(item.attrs))
                     if isinstance(item, h5py.Dataset) else None)
    return out


def _assert_described(path) -> dict[str, dict]:
    datasets = _datasets(path)
    assert datasets, path
    for name, attrs in datasets.items():
        assert isinstance(attrs.get("units"), str), (path, name, attrs)
        assert isinstance(attrs.get("description"), str) and attrs["description"], (path, name, attrs)
        assert "undescribed" not in attrs["description"], (path, name, attrs["description"])
    return datasets


def _file_attrs(path) -> dict:
    with h5py.File(path, "r") as f:
        return dict(f.attrs)


def test_simulator_trace(tmp_path) -> None:
    proc = run_cli("simulate", "--schedule", "20:1024", "--quiet", "--seed", "0", "--out", str(tmp_path / "t.h5"),
                   "job.max_epochs=2")
    assert proc.returncode == 0, proc.stderr
    _assert_described(tmp_path / "t.h5")
    attrs = _file_attrs(tmp_path / "t.h5")
    assert isinstance(attrs["seed"], np.integer) and attrs["seed"] == 0
    assert isinstance(attrs["epochs"], np.integer) and attrs["epochs"] == 2
    assert isinstance(attrs["status"], str) and attrs["status"] in STATUS_NAMES
    assert isinstance(attrs["scenario"], str)


def test_runner_trace(tmp_path) -> None:
    proc = run_cli("run", "--schedule", "2:1024", "--epochs", "1", "--out", str(tmp_path / "run.h5"),
                   "job.max_epochs=3")
    assert proc.returncode == 0, proc.stderr
    datasets = _assert_described(tmp_path / "run.h5")
    groups = {name.split("/")[0] for name in datasets}
    assert groups == {"epochs", "invocations", "batches", "requests"}
    attrs = _file_attrs(tmp_path / "run.h5")
    assert isinstance(attrs["host_cpus"], np.integer)
    assert isinstance(attrs["single_function"], np.bool_)
    assert isinstance(attrs["initial_loss"], np.floating) and isinstance(attrs["learning_rate"], np.floating)
    # --epochs ran out before the job stopped itself: the simulator's epoch_limit.
    assert attrs["status"] == "epoch_limit" and "status=epoch_limit" in proc.stdout
    with h5py.File(tmp_path / "run.h5") as f:
        assert set(f["epochs/status"].asstr()[()]) <= set(STATUS_NAMES)


def test_training_log_and_run_folder(tmp_path) -> None:
    run = tmp_path / "run"
    first = run_cli("train", "--out", str(run), *TINY_TRAIN)
    assert first.returncode == 0, first.stderr
    datasets = _assert_described(run / "log.h5")
    assert datasets["mean_jct_s"]["units"] == "s" and datasets["success_rate"]["units"] == "1"
    with h5py.File(run / "log.h5") as log:
        assert log["iteration"].dtype == np.int64 and log["env_steps"].dtype == np.int64
    attrs = _file_attrs(run / "log.h5")
    for key in ("seed", "num_envs", "hidden", "iterations", "ppo_epochs", "minibatch"):
        assert isinstance(attrs[key], np.integer), (key, attrs[key])
    for key in ("learning_rate", "gamma", "entropy_coef"):
        assert isinstance(attrs[key], np.floating), (key, attrs[key])
    for key in ("algorithm", "scenario", "overrides", "scenario_yaml", "version"):
        assert isinstance(attrs[key], str), (key, attrs[key])
    assert attrs["seed"] == 0 and attrs["algorithm"] == "ppo" and attrs["num_envs"] == 2
    _core.parse_scenario(attrs["scenario_yaml"])

    # A second run into the folder is refused; --force replaces it.
    mtime = (run / "log.h5").stat().st_mtime_ns
    second = run_cli("train", "--out", str(run), *TINY_TRAIN)
    assert second.returncode == 2 and "already holds a training run" in second.stderr, second.stderr
    assert (run / "log.h5").stat().st_mtime_ns == mtime
    forced = run_cli("train", "--out", str(run), "--force", "--iterations", "1", *TINY_TRAIN[2:])
    assert forced.returncode == 0, forced.stderr
    with h5py.File(run / "log.h5") as log:
        assert log["iteration"][()].tolist() == [0]

    # --resume with the same scenario spelled otherwise (an override giving the default: the merged
    # scenario is what counts) runs on.
    budget = _core.load_scenario("default").budget_usd
    resumed = run_cli("train", "--out", str(run), "--resume", "--iterations", "2", "--envs", "2", "--quiet",
                      "job.max_epochs=2", f"job.budget_usd={budget!r}")
    assert resumed.returncode == 0, resumed.stderr
    with h5py.File(run / "log.h5") as log:
        assert log["iteration"][()].tolist() == [0, 1]


def test_dataset_file(tmp_path) -> None:
    proc = run_cli("data", "click-through", "-o", str(tmp_path / "ct.h5"), "--rows", "50", "--features", "64",
                   "--fields", "4")
    assert proc.returncode == 0, proc.stderr
    _assert_described(tmp_path / "ct.h5")
    attrs = _file_attrs(tmp_path / "ct.h5")
    assert isinstance(attrs["features"], np.integer) and attrs["features"] == 64


def test_ec2_summary_uses_the_status_names(cli) -> None:
    proc = cli("ec2", "--quiet", "job.max_epochs=2")
    assert proc.returncode == 0, proc.stderr
    summary = dict(item.split("=", 1) for item in proc.stdout.split())
    assert summary["status"] in STATUS_NAMES and "converged" not in summary


@pytest.mark.parametrize("num_envs, num_threads, needle", [(10**7, 1, "num_envs"), (0, 1, "num_envs"),
                                                            (2, 10**4, "num_threads"), (2, 0, "num_threads")])
def test_vector_env_bounds_fail_fast(num_envs, num_threads, needle) -> None:
    import time

    from siren.vector import SirenVectorEnv

    start = time.perf_counter()
    with pytest.raises(ValueError, match=needle):
        SirenVectorEnv(num_envs, num_threads=num_threads)
    assert time.perf_counter() - start < 1.0  # Before anything is allocated.


def test_vector_env_bounds_agree_with_cpp() -> None:
    from siren.vector import MAX_ENVS, MAX_THREADS

    assert (MAX_ENVS, MAX_THREADS) == (_core.VectorEnv.max_envs, _core.VectorEnv.max_threads) == (16384, 256)
    scenario = _core.load_scenario("default")
    with pytest.raises(ValueError, match=f"num_envs: got {MAX_ENVS + 1}"):
        _core.VectorEnv(scenario, MAX_ENVS + 1, "box", "next_step", 1)
    with pytest.raises(ValueError, match=f"num_threads: got {MAX_THREADS + 1}"):
        _core.VectorEnv(scenario, 1, "box", "next_step", MAX_THREADS + 1)
    assert _core.VectorEnv(scenario, 1, "box", "next_step", MAX_THREADS).num_threads == MAX_THREADS
