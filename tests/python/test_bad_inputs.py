"""Every bad input of issue 16, as a new user meets it: each must end with
`siren: error: <message>` naming the file or field (the needles below),
exit status 2, and no traceback.

BAD_INPUTS is the scripted list: (group, id, command line, needles). Paths
in a command line are relative to a folder of prepared files (the `files`
fixture: a garbage, an empty and a truncated policy, an ONNX name, a policy
whose siren.json is broken, traces missing a group or holding NaN timings,
a trained run). Runs with AWS in them get an environment without any AWS
credentials or region (and no instance metadata lookups).
"""

from __future__ import annotations

import os
import subprocess
import sys
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pytest

from siren.runner.protocol import S3Counter

from conftest import CLI_TIMEOUT_S, synthetic_trace_parts, write_synthetic_trace

TINY_TRAIN = ("--iterations", "2", "--envs", "2", "--checkpoint-every", "1", "--quiet", "--tuning-seeds", "1",
              "--validation-seeds", "2", "job.max_epochs=2")


@dataclass(frozen=True)
class BadInput:
    group: str
    id: str
    args: tuple[str, ...]
    needles: tuple[str, ...]
    env: dict[str, str] = field(default_factory=dict)


NO_AWS = {"AWS_SHARED_CREDENTIALS_FILE": "/nonexistent/credentials", "AWS_CONFIG_FILE": "/nonexistent/config",
          "AWS_EC2_METADATA_DISABLED": "true"}
ROLE = "arn:aws:iam::123456789012:role/siren-worker-role"

BAD_INPUTS = [
    # Tracebacks instead of errors.
    BadInput("tracebacks", "evaluate-garbage-policy", ("evaluate", "--policy", "garbage.pt"),
             ("--policy", "garbage.pt", "not a TorchScript file", "expected")),
    BadInput("tracebacks", "evaluate-empty-policy", ("evaluate", "--policy", "empty.pt"),
             ("--policy", "empty.pt", "is empty")),
    BadInput("tracebacks", "evaluate-truncated-policy", ("evaluate", "--policy", "truncated.pt"),
             ("--policy", "truncated.pt", "not a TorchScript file")),
    BadInput("tracebacks", "evaluate-onnx-policy", ("evaluate", "--policy", "policy.onnx"),
             ("--policy", "policy.onnx", "ONNX", "TorchScript")),
    BadInput("tracebacks", "evaluate-broken-siren-json", ("evaluate", "--policy", "broken-json.pt"),
             ("--policy", "broken-json.pt", "siren.json", "not valid JSON")),
    BadInput("tracebacks", "run-broken-siren-json", ("run", "--policy", "broken-json.pt", "--epochs", "1"),
             ("--policy", "broken-json.pt", "siren.json")),
    BadInput("tracebacks", "export-garbage-checkpoint", ("export", "--checkpoint", "garbage.pt", "--out", "x.pt"),
             ("checkpoint", "garbage.pt", "not a checkpoint written by siren train", "expected")),
    BadInput("tracebacks", "export-truncated-checkpoint",
             ("export", "--checkpoint", "truncated-checkpoint.pt", "--out", "x.pt"),
             ("checkpoint", "truncated-checkpoint.pt", "not a checkpoint")),
    BadInput("tracebacks", "export-out-missing-folder",
             ("export", "--checkpoint", "run/checkpoint.pt", "--out", "/nonexistent/x.pt"),
             ("--out", "/nonexistent/x.pt", "does not exist")),
    BadInput("tracebacks", "export-onnx-missing-folder",
             ("export", "--checkpoint", "run/checkpoint.pt", "--out", "x.pt", "--onnx", "/nonexistent/x.onnx"),
             ("--onnx", "/nonexistent/x.onnx", "does not exist")),
    BadInput("tracebacks", "simulate-huge-functions", ("simulate", "--schedule", "99999999999:1024"),
             ("schedule token 1", "99999999999", "at most 2147483647")),
    BadInput("tracebacks", "simulate-huge-memory", ("simulate", "--schedule", "10:99999999999"),
             ("MEMORY_MB", "at most 2147483647")),
    BadInput("tracebacks", "deploy-without-credentials",
             ("deploy", "--function", "siren-worker", "--bucket", "siren-test-bucket", "--role-arn", ROLE,
              "--region", "eu-west-1"),
             ("AWS credentials", "none found", "aws configure"), NO_AWS),
    BadInput("tracebacks", "run-aws-without-region",
             ("run", "--backend", "aws", "--function", "siren-worker", "--bucket", "siren-test-bucket",
              "--schedule", "2:1024", "--epochs", "1"),
             ("--region", "none given", "eu-west-1"), NO_AWS),
    BadInput("tracebacks", "run-aws-without-credentials",
             ("run", "--backend", "aws", "--function", "siren-worker", "--bucket", "siren-test-bucket",
              "--region", "eu-west-1", "--schedule", "2:1024", "--epochs", "1"),
             ("AWS credentials", "none found"), NO_AWS),
    BadInput("tracebacks", "teardown-without-credentials",
             ("teardown", "--bucket", "siren-test-bucket", "--prefix", "jobs/a", "--region", "eu-west-1"),
             ("AWS credentials", "none found"), NO_AWS),
    BadInput("tracebacks", "teardown-without-region",
             ("teardown", "--bucket", "siren-test-bucket", "--prefix", "jobs/a"),
             ("--region", "none given", "eu-west-1"), NO_AWS),
    BadInput("tracebacks", "run-local-function-per-memory",
             ("run", "--schedule", "2:1024", "--epochs", "1", "--function-per-memory"),
             ("--function-per-memory", "only with --backend aws", "lambda.single_function=false")),
    # The worker refuses a step outside (0, 100]; the runner says so first.
    BadInput("tracebacks", "run-learning-rate-the-worker-refuses",
             ("run", "--schedule", "2:1024", "--epochs", "1", "convergence.sgd.learning_rate=1000"),
             ("learning_rate", "(0, 100]", "1000")),
    # `siren run` never changes an action silently: what the action codec
    # would clamp or move is refused, naming the entry, the value and the range.
    BadInput("tracebacks", "run-schedule-beyond-max-functions", ("run", "--schedule", "5000:1024", "--epochs", "1"),
             ("schedule token 1 of 1 ('5000:1024')", "functions: got 5000", "expected an integer in [1, 32]",
              "env.max_functions")),
    BadInput("tracebacks", "run-schedule-memory-below-the-grid", ("run", "--schedule", "4:100", "--epochs", "1"),
             ("schedule token 1 of 1 ('4:100')", "memory_mb: got 100", "[128, 10240] MB")),
    BadInput("tracebacks", "run-schedule-memory-above-the-grid", ("run", "--schedule", "4:20000", "--epochs", "1"),
             ("schedule token 1 of 1 ('4:20000')", "memory_mb: got 20000", "[128, 10240] MB")),
    BadInput("tracebacks", "run-schedule-later-entry", ("run", "--schedule", "4:1024,8:2048,33:1024"),
             ("schedule token 3 of 3 ('33:1024')", "functions: got 33", "[1, 32]")),
    BadInput("tracebacks", "run-schedule-memory-the-workload-cannot-run",
             ("run", "--schedule", "4:256", "--epochs", "1", "workload.runtime_memory_mb=300"),
             ("schedule token 1 of 1 ('4:256')", "memory_mb: got 256", "expected >=", "needs")),
    # The run's policy was trained on lenet-mnist (the default preset), the run is softmax-digits.
    BadInput("tracebacks", "run-policy-of-another-scenario", ("run", "--policy", "run/policy.pt", "--epochs", "1"),
             ("--policy: 'run/policy.pt' was trained on scenario 'lenet-mnist'", "not on this run's 'softmax-digits'",
              "workload.name", "--allow-scenario-mismatch")),
    BadInput("tracebacks", "calibrate-missing-group", ("calibrate", "no-invocations.h5", "-o", "cal.yaml"),
             ("no-invocations.h5", "no group invocations", "siren run --out")),
    BadInput("tracebacks", "compare-sim-missing-group", ("compare-sim", "no-invocations.h5"),
             ("no-invocations.h5", "no group invocations")),
    BadInput("tracebacks", "calibrate-missing-column", ("calibrate", "no-init.h5", "-o", "cal.yaml"),
             ("no-init.h5", "invocations/", "init_s")),
    BadInput("tracebacks", "calibrate-not-hdf5", ("calibrate", "garbage.pt", "-o", "cal.yaml"),
             ("garbage.pt", "not an HDF5 file", "siren run --out")),
    BadInput("tracebacks", "compare-sim-not-hdf5", ("compare-sim", "garbage.pt"), ("garbage.pt", "not an HDF5 file")),
    BadInput("tracebacks", "calibrate-missing-file", ("calibrate", "missing.h5", "-o", "cal.yaml"),
             ("missing.h5", "not found")),
    BadInput("tracebacks", "calibrate-nan-timings", ("calibrate", "nan.h5", "-o", "cal.yaml"),
             ("nan.h5", "epochs/duration_s", "non-finite", "finite timings")),
    BadInput("tracebacks", "compare-sim-nan-timings", ("compare-sim", "nan.h5"),
             ("nan.h5", "epochs/duration_s", "non-finite")),
    # Run folders and output paths.
    BadInput("run folders", "train-over-a-run", ("train", "--out", "run", *TINY_TRAIN),
             ("--out", "'run' already holds a training run", "--resume", "--force")),
    BadInput("run folders", "train-resume-changed-scenario",
             ("train", "--out", "run", "--resume", *TINY_TRAIN[:-1], "job.max_epochs=3"),
             ("--resume", "other settings", "job.max_epochs 2 -> 3")),
    BadInput("run folders", "train-resume-changed-algorithm-and-envs",
             ("train", "--out", "run", "--resume", "--algorithm", "reinforce", "--iterations", "2", "--envs", "3",
              "--quiet", "job.max_epochs=2"),
             ("--resume", "algorithm (--algorithm): checkpoint ppo, now reinforce", "num_envs (--envs): checkpoint 2, now 3")),
    BadInput("run folders", "train-resume-fewer-iterations",
             ("train", "--out", "run", "--resume", "--iterations", "1", *TINY_TRAIN[2:]),
             ("--iterations", "got 1", "already done 2", "at least 2")),
    BadInput("run folders", "train-resume-without-checkpoint", ("train", "--out", "empty-run", "--resume", *TINY_TRAIN),
             ("--resume", "no checkpoint", "empty-run")),
    BadInput("run folders", "train-resume-and-force", ("train", "--out", "run", "--resume", "--force", *TINY_TRAIN),
             ("--resume and --force",)),
    BadInput("run folders", "train-out-is-a-file", ("train", "--out", "garbage.pt", *TINY_TRAIN),
             ("--out", "garbage.pt", "is a file")),
    # Before any work: a Ray address where nothing answers would fail after the path check.
    BadInput("run folders", "sweep-json-folder",
             ("sweep", "--json", "/tmp", "--backend", "ray", "--ray-address", "127.0.0.1:9"),
             ("--json", "'/tmp' is a folder", "expected a file path")),
    BadInput("run folders", "sweep-json-missing-folder",
             ("sweep", "--json", "no/such/folder/sweep.json", "--backend", "ray", "--ray-address", "127.0.0.1:9"),
             ("--json", "no/such/folder/sweep.json", "does not exist")),
    BadInput("run folders", "simulate-out-missing-folder", ("simulate", "--schedule", "10:1024", "--out", "no/t.h5"),
             ("--out", "no/t.h5", "does not exist")),
    BadInput("run folders", "evaluate-json-missing-folder",
             ("evaluate", "--policy", "run/policy.pt", "--json", "no/table.json"),
             ("--json", "no/table.json", "does not exist")),
    BadInput("run folders", "fit-convergence-out-missing-folder", ("fit-convergence", "-o", "no/fitted.yaml"),
             ("--out", "no/fitted.yaml", "does not exist")),
    BadInput("run folders", "data-out-folder", ("data", "click-through", "-o", "/tmp", "--rows", "10"),
             ("--out", "'/tmp' is a folder")),
    BadInput("run folders", "calibrate-output-missing-folder", ("calibrate", "nan.h5", "-o", "no/cal.yaml"),
             ("--output", "no/cal.yaml", "does not exist")),
    BadInput("run folders", "compare-sim-json-folder", ("compare-sim", "nan.h5", "--json", "/tmp"),
             ("--json", "'/tmp' is a folder")),
    BadInput("run folders", "run-out-missing-folder", ("run", "--schedule", "2:1024", "--out", "no/trace.h5"),
             ("--out", "no/trace.h5", "does not exist")),
    BadInput("run folders", "deploy-package-missing-folder", ("deploy", "--package-only", "no/w.zip"),
             ("--package-only", "no/w.zip", "does not exist")),
]


@pytest.fixture(scope="module")
def files(tmp_path_factory) -> Path:
    import h5py
    import torch

    root = tmp_path_factory.mktemp("bad_inputs")
    proc = _siren(("train", "--out", "run", *TINY_TRAIN), root)
    assert proc.returncode == 0, proc.stderr
    (root / "empty-run").mkdir()
    (root / "garbage.pt").write_text("this is not a policy\n")
    (root / "empty.pt").write_bytes(b"")
    policy = (root / "run" / "policy.pt").read_bytes()
    (root / "truncated.pt").write_bytes(policy[: len(policy) // 2])
    checkpoint = (root / "run" / "checkpoint.pt").read_bytes()
    (root / "truncated-checkpoint.pt").write_bytes(checkpoint[: len(checkpoint) // 2])
    # Named like `siren export --onnx`'s output (the refusal goes by the name).
    (root / "policy.onnx").write_bytes(b"\x08\x08\x12\x07pytorch")
    with warnings.catch_warnings():  # torch 2.13 deprecates TorchScript; Siren's policies are TorchScript.
        warnings.simplefilter("ignore", DeprecationWarning)
        module = torch.jit.load(str(root / "run" / "policy.pt"))
        torch.jit.save(module, str(root / "broken-json.pt"),
                       _extra_files={"siren.json": '{"format": "siren-policy-1",'})
    write_synthetic_trace(root / "nan.h5",
                          epochs=[dict(r, duration_s=float("nan")) for r in synthetic_trace_parts()["epochs"]])
    write_synthetic_trace(root / "no-init.h5",
                          invocations=[{k: v for k, v in r.items() if k != "init_s"}
                                       for r in synthetic_trace_parts()["invocations"]])
    write_synthetic_trace(root / "no-invocations.h5")
    with h5py.File(root / "no-invocations.h5", "a") as f:
        del f["invocations"]
    return root


def _in_process(args: tuple[str, ...], cwd: Path, env: dict[str, str], monkeypatch, capfd) -> tuple[int, str]:
    """`siren ARGS` through siren.cli.main in this process (fast: torch and
    h5py are imported once), with `env`'s AWS setup; (status, stderr).
    capfd also sees what siren-agent, a child process, writes. An exception
    that main does not turn into an error escapes and fails the test, as a
    traceback would."""
    from siren.cli import main

    monkeypatch.chdir(cwd)
    if env:
        for key in [k for k in os.environ if k.startswith("AWS_")]:
            monkeypatch.delenv(key)
        for key, value in env.items():
            monkeypatch.setenv(key, value)
    capfd.readouterr()
    try:
        code = main(list(args))
    except SystemExit as exit_:  # argparse's usage errors
        code = exit_.code
    return code, capfd.readouterr().err


def _siren(args: tuple[str, ...], cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    environment = dict(os.environ)
    if env:
        for key in [k for k in environment if k.startswith("AWS_")]:
            del environment[key]
        environment.update(env)
    return subprocess.run([sys.executable, "-m", "siren", *args], capture_output=True, text=True, cwd=cwd,
                          env=environment, timeout=CLI_TIMEOUT_S, stdin=subprocess.DEVNULL)


def test_the_list_covers_every_group_of_the_issue() -> None:
    ids = [bad.id for bad in BAD_INPUTS]
    assert len(ids) == len(set(ids))
    assert {bad.group for bad in BAD_INPUTS} == {"tracebacks", "run folders"}


def _assert_named_error(bad: BadInput, code: int, stderr: str) -> None:
    assert "Traceback" not in stderr, stderr
    assert code == 2, (code, stderr)
    assert stderr.startswith("siren: error: "), stderr
    message = stderr.strip()
    assert len(message.splitlines()) == 1, message
    for needle in bad.needles:
        assert needle in message, (needle, message)


@pytest.mark.parametrize("bad", BAD_INPUTS, ids=[bad.id for bad in BAD_INPUTS])
def test_bad_input_is_a_named_error(files: Path, bad: BadInput, monkeypatch, capfd) -> None:
    _assert_named_error(bad, *_in_process(bad.args, files, bad.env, monkeypatch, capfd))


@pytest.mark.parametrize("bad_id", ["evaluate-truncated-policy", "export-garbage-checkpoint",
                                    "deploy-without-credentials", "calibrate-missing-group", "sweep-json-folder",
                                    "run-schedule-beyond-max-functions", "run-policy-of-another-scenario"])
def test_bad_input_in_a_real_process(files: Path, bad_id: str) -> None:
    """A few of the list as a user runs them: `python -m siren ...`."""
    bad = next(bad for bad in BAD_INPUTS if bad.id == bad_id)
    proc = _siren(bad.args, files, bad.env)
    _assert_named_error(bad, proc.returncode, proc.stderr)


@pytest.mark.parametrize("schedule", ["4:100", "4:20000", "4:256"])
def test_run_refuses_memory_in_the_words_of_simulate(files: Path, schedule: str, monkeypatch, capfd) -> None:
    """The same schedule on the same scenario: `siren run` and `siren
    simulate` refuse it with the same line (the simulator's own check)."""
    override = ("workload.runtime_memory_mb=300",)
    run = _in_process(("run", "--schedule", schedule, *override), files, {}, monkeypatch, capfd)
    simulate = _in_process(("simulate", "--scenario", "softmax-digits", "--schedule", schedule, *override), files, {},
                           monkeypatch, capfd)
    assert run[0] == simulate[0] == 2
    assert run[1] == simulate[1] and run[1].startswith("siren: error: schedule token 1 of 1"), (run, simulate)


def test_the_run_folder_is_left_as_it_was(files: Path) -> None:
    """After every refusal above the trained run is whole: its log still has
    two iterations, and nothing was written where a path was refused."""
    import h5py

    with h5py.File(files / "run" / "log.h5") as log:
        assert log["iteration"][()].tolist() == [0, 1]
    for name in ("no", "x.pt", "cal.yaml"):
        assert not (files / name).exists(), name


def test_calibrate_reports_values_at_their_search_limit(tmp_path: Path) -> None:
    from siren.runner.calibrate import calibrate
    from siren.runner.trace import read_run_trace

    # GET time does not grow with size: the bandwidth fit ends at its upper limit.
    path = tmp_path / "flat.h5"
    write_synthetic_trace(path, requests=S3Counter(gets=8, puts=4, get_seconds=[0.01] * 8,
                                                    get_bytes=[1000, 9000] * 4, put_seconds=[0.02] * 4))
    result = calibrate(read_run_trace(path), server_slots=0)
    limits = result["fit"]["at_search_limit"]
    assert "s3.connection_cap_mb_per_s" in limits and "upper end" in limits["s3.connection_cap_mb_per_s"]
    proc = _siren(("calibrate", str(path), "-o", str(tmp_path / "cal.yaml"), "--server-slots", "0"), tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "note: s3.connection_cap_mb_per_s sits at its search limit" in proc.stderr
    assert "# At its search limit" in (tmp_path / "cal.yaml").read_text()


def test_calibrate_leaves_out_rows_the_budget_guard_skipped(tmp_path: Path) -> None:
    from siren.runner.calibrate import calibrate, ran_epochs
    from siren.runner.trace import read_run_trace

    rows = synthetic_trace_parts()["epochs"]
    skipped = {"epoch": 2, "action_functions": 2, "action_memory_mb": 1024, "status": "budget_exhausted",
               "skipped": True, "projected_cost_usd": 1.0}
    path = tmp_path / "guarded.h5"
    write_synthetic_trace(path, epochs=rows + [skipped])
    trace = read_run_trace(path)
    assert np.isnan(trace["epochs"]["duration_s"][-1])
    assert len(ran_epochs(trace)["epochs"]["epoch"]) == 2
    calibrate(trace, server_slots=0)  # No non-finite timing left.
