"""Progress bars (issue 16): tqdm on stderr when it is a terminal, for sweep,
evaluate, fit-convergence and calibrate; nothing with --quiet or when stderr
is not a terminal (a file, a pipe)."""

from __future__ import annotations

import fcntl
import os
import pty
import struct
import subprocess
import sys
import termios
from pathlib import Path

import pytest

from conftest import CLI_TIMEOUT_S, run_cli, write_synthetic_trace


def run_on_terminal(args: tuple[str, ...], cwd: Path) -> tuple[int, str, str]:
    """Runs `python -m siren ARGS` with stderr on a pseudo-terminal (100
    columns); returns (status, stdout, what the terminal received)."""
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 100, 0, 0))
    proc = subprocess.Popen([sys.executable, "-m", "siren", *args], stdout=subprocess.PIPE, stderr=slave,
                            stdin=subprocess.DEVNULL, cwd=cwd)
    os.close(slave)
    received = []
    while True:
        try:
            data = os.read(master, 65536)
        except OSError:  # The child closed the terminal.
            break
        if not data:
            break
        received.append(data)
    with proc.stdout:
        stdout = proc.stdout.read().decode()
    proc.wait(timeout=CLI_TIMEOUT_S)
    os.close(master)
    return proc.returncode, stdout, b"".join(received).decode(errors="replace")


@pytest.fixture(scope="module")
def workdir(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("progress")
    train = run_cli("train", "--out", "run", "--iterations", "1", "--envs", "2", "--quiet", "job.max_epochs=3",
                    cwd=root)
    assert train.returncode == 0, train.stderr
    write_synthetic_trace(root / "trace.h5")
    return root


COMMANDS = {
    "sweep": (("sweep", "--budgets", "0.25", "--seeds", "2", "--functions-grid", "20,50", "--memory-stride", "8",
               "job.max_epochs=6"), "sweep"),
    "evaluate": (("evaluate", "--policy", "run/policy.pt", "--seeds", "2", "--tuning-seeds", "2", "job.max_epochs=3"),
                 "evaluate"),
    "fit-convergence": (("fit-convergence", "--epochs", "1", "--schedule", "5:1024", "workload.dataset_samples=20000"),
                        "fit-convergence: sgd runs"),
    "calibrate": (("calibrate", "trace.h5", "-o", "cal.yaml", "--server-slots", "1"), "calibrate: server search"),
}


@pytest.mark.parametrize("command", COMMANDS)
def test_progress_bar_on_a_terminal(workdir: Path, command: str) -> None:
    args, label = COMMANDS[command]
    code, _, terminal = run_on_terminal(args, workdir)
    assert code == 0, terminal
    assert label in terminal and "%|" in terminal, terminal


@pytest.mark.parametrize("command", ["sweep", "fit-convergence"])
def test_no_progress_bar_with_quiet_or_off_a_terminal(workdir: Path, command: str) -> None:
    args, _ = COMMANDS[command]
    code, _, terminal = run_on_terminal((*args, "--quiet"), workdir)
    assert code == 0, terminal
    assert "%|" not in terminal, terminal
    proc = run_cli(*args, cwd=workdir)  # stderr is a pipe
    assert proc.returncode == 0, proc.stderr
    assert "%|" not in proc.stderr, proc.stderr
