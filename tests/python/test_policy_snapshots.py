"""`siren train --snapshot-every`: the deterministic learned policy written
during training (what the time-to-policy benchmark evaluates), and the
anchor search and safeguard times the trainer prints."""

from __future__ import annotations

import re

import h5py
import numpy as np
import pytest
import torch

from siren import _core
from siren.policy import load_policy

from conftest import run_cli

TRAIN = ("train", "--iterations", "4", "--envs", "4", "--quiet", "--tuning-seeds", "2", "--validation-seeds", "4",
         "job.max_epochs=12")


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    out = tmp_path_factory.mktemp("run")
    proc = run_cli(*TRAIN, "--snapshot-every", "3", "--no-safeguard", "--out", str(out))
    assert proc.returncode == 0, proc.stderr
    return out, proc.stdout


def actions(path, observations: np.ndarray) -> np.ndarray:
    policy, _ = load_policy(path)
    with torch.no_grad():
        return policy(torch.from_numpy(observations)).numpy()


def test_snapshots_before_training_every_n_and_at_the_end(run) -> None:
    out, _ = run
    assert sorted(p.name for p in (out / "snapshots").iterdir()) == ["policy_0.pt", "policy_3.pt", "policy_4.pt"]


def test_last_snapshot_is_the_exported_learned_policy_and_training_moves_it(run) -> None:
    out, _ = run
    observations = np.random.default_rng(1).random((32, _core.observation_size), dtype=np.float32)
    last = actions(out / "snapshots" / "policy_4.pt", observations)
    # --no-safeguard: policy.pt is the learned policy after the 4 iterations.
    np.testing.assert_array_equal(last, actions(out / "policy.pt", observations))
    assert not np.array_equal(last, actions(out / "snapshots" / "policy_0.pt", observations))
    _, metadata = load_policy(out / "snapshots" / "policy_3.pt")
    assert metadata["exported"] == "learned"


def test_trainer_prints_the_anchor_search_time(run) -> None:
    _, stdout = run
    found = re.search(r"^anchor_search_s=([0-9.]+) safeguard_s=([0-9.]+)$", stdout, re.MULTILINE)
    assert found, stdout
    assert float(found[1]) > 0
    assert float(found[2]) == 0  # --no-safeguard: no validation episodes.


def test_no_snapshots_by_default_and_a_negative_count_is_refused(tmp_path) -> None:
    proc = run_cli(*TRAIN, "--iterations", "1", "--out", str(tmp_path / "plain"))
    assert proc.returncode == 0, proc.stderr
    assert not (tmp_path / "plain" / "snapshots").exists()
    assert re.search(r"^anchor_search_s=[0-9.]+ safeguard_s=[0-9.]*[1-9]", proc.stdout, re.MULTILINE), proc.stdout
    proc = run_cli(*TRAIN, "--snapshot-every", "-1", "--out", str(tmp_path / "bad"))
    assert proc.returncode == 2 and "--snapshot-every" in proc.stderr, proc.stderr


def test_max_train_s_stops_the_run_and_still_exports(tmp_path) -> None:
    # The anchor search alone takes longer than the cap: one iteration, then
    # the safeguard and the export as after the last.
    out = tmp_path / "capped"
    proc = run_cli(*TRAIN, "--max-train-s", "0.001", "--snapshot-every", "3", "--out", str(out))
    assert proc.returncode == 0, proc.stderr
    with h5py.File(out / "log.h5") as log:
        assert log["wall_s"].shape == (1,)
    assert (out / "policy.pt").exists() and "safeguard on 4 validation seeds" in proc.stdout, proc.stdout
    assert sorted(p.name for p in (out / "snapshots").iterdir()) == ["policy_0.pt", "policy_1.pt"]
