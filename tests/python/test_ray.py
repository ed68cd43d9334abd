"""Siren on Ray: `siren sweep|evaluate --backend ray` give the local tables bit
for bit, and RLlib PPO trains on Siren-v0, on a real two-node Ray cluster
(a head and a worker node, one CPU each) that the module starts on loopback
and stops again.

The cluster lives on 127.0.0.2: Ray replaces 127.0.0.1 and "localhost" by
the machine's network address (so that other nodes could reach it), but
leaves any other loopback address alone, so every connection of the cluster
stays on the loopback interface (Linux routes all of 127.0.0.0/8 there).
"""

from __future__ import annotations

import json
import math
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

import siren
from siren import _core
from siren.backends import ScheduleJob
from siren.ray_backend import plan_chunks

from conftest import run_cli

HOST = "127.0.0.2"
RAY = Path(sys.executable).with_name("ray")
EXPERIMENTS = Path(__file__).resolve().parents[2] / "experiments"
START_TIMEOUT_S = 90
STOP_WAIT_S = 10
SMALL_SWEEP = ("sweep", "--budgets", "0.15,0.25", "--functions-grid", "20,50", "--memory-stride", "22",
               "--seeds", "2", "--fixed-n", "50", "--cem", "--cem-slots", "2", "--cem-population", "4",
               "--cem-iterations", "2", "--oracle-ratio", "2", "--oracle-coarse-memory", "4")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


@dataclass(frozen=True)
class LoopbackCluster:
    address: str  # HOST:PORT of the head.
    temp_dir: Path  # Ray's --temp-dir of both nodes: logs, sockets, session files.


def _cluster_processes(markers: tuple[str, ...]) -> list[int]:
    """Ids of the processes whose command line names one of `markers` (the
    cluster's temp dir or head address), and of all their descendants."""
    parents: dict[int, int] = {}
    roots: set[int] = set()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            command = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            parents[int(entry.name)] = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        if any(marker in command for marker in markers):
            roots.add(int(entry.name))
    found, grew = set(roots), True
    while grew:
        children = {pid for pid, parent in parents.items() if parent in found} - found
        found |= children
        grew = bool(children)
    return sorted(found)


def _alive(pid: int) -> bool:
    """Whether `pid` runs (exists and is not a zombie)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return False


def _stop_cluster(markers: tuple[str, ...]) -> None:
    """What `ray stop --force` does (SIGKILL; Ray's servers take many seconds
    over SIGTERM), but only to this cluster's processes: `ray stop` stops every
    Ray instance of the machine. Scans again until none is left (a process
    may have started a child meanwhile), for at most STOP_WAIT_S."""
    deadline = time.monotonic() + STOP_WAIT_S
    while time.monotonic() < deadline:
        pids = [pid for pid in _cluster_processes(markers) if _alive(pid)]
        if not pids:
            return
        for pid in pids:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        time.sleep(0.1)


def _ray_start(*args: str) -> None:
    proc = subprocess.run([str(RAY), "start", *args], capture_output=True, text=True,
                          timeout=START_TIMEOUT_S, stdin=subprocess.DEVNULL)
    assert proc.returncode == 0, f"ray start {' '.join(args)} failed:\n{proc.stdout}\n{proc.stderr}"


@pytest.fixture(scope="module")
def cluster() -> Iterator[LoopbackCluster]:
    """A head and a worker node started with `ray start` (1 CPU each, no
    dashboard, a private token and temp dir). This module's processes and the
    CLIs it runs reach it through the environment set here (RAY_ADDRESS
    unset, so each test names the address it uses). Ray reads the token
    settings once, when this process first imports it: here, after setting them."""
    temp_dir = Path(tempfile.mkdtemp(prefix="siren-ray-", dir="/tmp"))  # Ray's socket paths are short.
    port = _free_port()
    address = f"{HOST}:{port}"
    common = ["--num-cpus=1", "--object-store-memory=100000000", "--disable-usage-stats",
              f"--temp-dir={temp_dir}", f"--node-ip-address={HOST}",
              f"--dashboard-agent-listen-port={_free_port()}"]
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("RAY_AUTH_MODE", "token")
        patch.setenv("RAY_AUTH_TOKEN", secrets.token_hex(32))
        patch.setenv("RAY_USAGE_STATS_ENABLED", "0")
        patch.delenv("RAY_ADDRESS", raising=False)
        pytest.importorskip("ray", reason="ray is installed by scripts/setup.sh")
        try:
            _ray_start("--head", f"--port={port}", "--include-dashboard=false",
                       f"--dashboard-port={_free_port()}", f"--ray-client-server-port={_free_port()}", *common)
            _ray_start(f"--address={address}", *common)
            yield LoopbackCluster(address, temp_dir)
        finally:
            _stop_cluster((str(temp_dir), address))
            shutil.rmtree(temp_dir, ignore_errors=True)


def _sweep_json(tmp_path: Path, name: str, *extra: str, args: tuple[str, ...] = SMALL_SWEEP) -> tuple[str, str]:
    """(stdout, JSON text) of one CLI run writing NAME.json."""
    proc = run_cli(*args, *extra, "--json", f"{name}.json", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout, (tmp_path / f"{name}.json").read_text()


@pytest.mark.slow
def test_sweep_table_is_the_same_on_ray(cluster, tmp_path) -> None:
    _, local = _sweep_json(tmp_path, "local")
    stdout, on_ray = _sweep_json(tmp_path, "ray", "--backend", "ray", "--ray-address", cluster.address)
    assert on_ray == local
    assert "backend=ray nodes=2 cpus=2" in stdout
    methods = {row["method"] for row in json.loads(on_ray)["rows"]}
    assert {"GS", "GS-50", "oracle static", "hand", "CEM", "EC2 m4.xlarge x4"} <= methods


@pytest.fixture(scope="module")
def policy(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("policy")
    proc = run_cli("train", "--iterations", "2", "--envs", "4", "--quiet", "--out", str(out), "job.max_epochs=12")
    assert proc.returncode == 0, proc.stderr
    return out / "policy.pt"


@pytest.mark.slow
def test_evaluate_table_is_the_same_on_ray(cluster, policy, tmp_path, monkeypatch) -> None:
    args = ("evaluate", "--policy", str(policy), "--budgets", "0.2,0.3", "--seeds", "5",
            "--tuning-seeds", "2", "--oracle-ratio", "2", "--oracle-coarse-memory", "4", "job.max_epochs=12")
    _, local = _sweep_json(tmp_path, "local", args=args)
    monkeypatch.setenv("RAY_ADDRESS", cluster.address)  # The default of --ray-address.
    _, on_ray = _sweep_json(tmp_path, "ray", "--backend", "ray", args=args)
    assert on_ray == local
    methods = {(row["method"], row["budget_usd"]) for row in json.loads(on_ray)["rows"]}
    assert {("policy", 0.2), ("GS", 0.3), ("oracle static", 0.3), ("hand", 0.3)} <= methods


@pytest.mark.slow
def test_backend_gives_the_core_results_in_full(cluster) -> None:
    import ray

    from siren.ray_backend import RayBackend

    backend = RayBackend(cluster.address)
    try:
        scenario = siren.load_scenario("default", ["job.max_epochs=15"])
        seeds = [3, 4, 5]
        grids = backend.grid_search(scenario, [0.15, 0.3], seeds, [[10, 50], [50]], memory_stride=6)
        for functions, result in zip([[10, 50], [50]], grids):
            assert result == _core.grid_search(scenario, [0.15, 0.3], seeds, functions=functions,
                                               memory_stride=6, num_threads=2)
        hand = _core.hand_schedule(scenario)
        [evaluation] = backend.evaluate_schedules([ScheduleJob(scenario, hand, seeds, 0.2)])
        assert evaluation == _core.evaluate_schedule(scenario, hand, seeds, budget_usd=0.2)
        options = {"function_ratio": 2.0, "coarse_memory": 4, "starts": 2, "include": [(20, 1024)]}
        assert backend.oracle_static(scenario, [0.15, 0.3], seeds, options) == \
            _core.oracle_static(scenario, [0.15, 0.3], seeds, **options, num_threads=2)
    finally:
        backend.close()
    assert not ray.is_initialized()


@pytest.mark.slow
def test_rllib_ppo_trains_on_siren_v0(cluster, tmp_path) -> None:
    proc = subprocess.run(
        [sys.executable, str(EXPERIMENTS / "train_rllib_ppo.py"), "--iterations", "2", "--address",
         cluster.address, "--train-batch-size", "256", "--out", str(tmp_path / "checkpoint"), "--seed", "1"],
        capture_output=True, text=True, timeout=300, stdin=subprocess.DEVNULL,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stdout + proc.stderr
    returns = [float(value) for value in re.findall(r"^iteration=\d+ episode_return_mean=(\S+)", proc.stdout,
                                                    re.MULTILINE)]
    assert len(returns) == 2 and all(math.isfinite(value) for value in returns), proc.stdout
    assert "env=siren:Siren-v0" in proc.stdout
    assert (tmp_path / "checkpoint" / "rllib_checkpoint.json").exists()


# --- without a cluster ----------------------------------------------------------


@pytest.mark.parametrize(
    ("address", "expected"),
    [("not-an-address", "expected HOST:PORT"), (f"{HOST}:{_free_port()}", "no Ray head answers")],
)
def test_bad_ray_address_is_a_clear_error(tmp_path, address, expected) -> None:
    proc = run_cli("sweep", "--functions-grid", "50", "--memory-stride", "22", "--seeds", "1",
                   "--backend", "ray", "--ray-address", address, cwd=tmp_path)  # fmt: skip
    assert proc.returncode == 2, proc.stdout
    assert "--ray-address" in proc.stderr and address in proc.stderr and expected in proc.stderr, proc.stderr


def test_missing_ray_names_the_package_and_the_setup_script(tmp_path) -> None:
    code = ("import sys; sys.modules['ray'] = None; from siren.cli import main; "
            "sys.exit(main(['sweep', '--seeds', '1', '--backend', 'ray']))")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60,
                          cwd=tmp_path, stdin=subprocess.DEVNULL)
    assert proc.returncode == 2
    assert "ray" in proc.stderr and "scripts/setup.sh" in proc.stderr, proc.stderr


def test_plan_chunks_keeps_every_jobs_seeds_in_order() -> None:
    seed_lists = [[0, 1, 2], [5], [7, 8, 9, 10]]
    for parts in (1, 2, 3, 5, 8, 100):
        chunks = plan_chunks(seed_lists, parts)
        assert 1 <= len(chunks) <= min(parts, 8)
        sizes = [sum(len(seeds) for _, seeds in chunk) for chunk in chunks]
        assert max(sizes) - min(sizes) <= 1
        joined: list[list[int]] = [[] for _ in seed_lists]
        for chunk in chunks:
            for job, seeds in chunk:
                joined[job].extend(seeds)
        assert joined == seed_lists
