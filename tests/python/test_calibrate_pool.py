"""Calibrating from several runs of one job (``siren calibrate a.h5 b.h5``:
runner/trace_pool.py), and the worker's emulated CPU share measured in CPU
time (runner/worker.py)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from siren.runner.calibrate import calibrate
from siren.runner.protocol import S3Counter
from siren.runner.trace import read_run_trace
from siren.runner.trace_pool import pool_traces
from siren.runner.worker import _share_sleep_s

from conftest import run_cli, synthetic_trace_parts, write_synthetic_trace


def _trace(path: Path, get_s: float, put_s: float, **changes) -> dict:
    requests = S3Counter(gets=8, puts=4, get_seconds=[get_s] * 8, get_bytes=[1000, 9000] * 4,
                         put_seconds=[put_s] * 4)
    write_synthetic_trace(path, requests=requests, **changes)
    return read_run_trace(path)


def _fitted(result: dict, name: str) -> float:
    values = [o.split("=", 1)[1] for o in result["overrides"] if o.startswith(name + "=")]
    assert len(values) == 1, (name, result["overrides"])
    return float(values[0])


def test_pooled_traces_keep_every_row_and_each_runs_epoch_numbers(tmp_path: Path) -> None:
    a, b = _trace(tmp_path / "a.h5", 0.01, 0.02), _trace(tmp_path / "b.h5", 0.03, 0.04)
    pooled = pool_traces([a, b])
    for table in ("epochs", "invocations", "batches"):
        assert len(pooled[table]["epoch"]) == len(a[table]["epoch"]) + len(b[table]["epoch"]), table
    # b's epochs 0 and 1 follow a's two: one invocation per (epoch, worker, attempt).
    assert pooled["epochs"]["epoch"].tolist() == [0, 1, 2, 3]
    keys = set(zip(pooled["invocations"]["epoch"], pooled["invocations"]["worker"],
                   pooled["invocations"]["attempt"]))
    assert len(keys) == len(pooled["invocations"]["epoch"])
    assert sorted(np.unique(pooled["requests"]["get_s"]).tolist()) == [0.01, 0.03]
    assert pool_traces([a]) is a


def test_calibrating_from_two_runs_takes_the_statistics_over_both(tmp_path: Path) -> None:
    a, b = _trace(tmp_path / "a.h5", 0.01, 0.02), _trace(tmp_path / "b.h5", 0.03, 0.04)
    alone = calibrate(a, server_slots=0)
    twice = calibrate([a, read_run_trace(tmp_path / "a.h5")], server_slots=0)
    # The same run twice fits what it fits alone.
    assert _fitted(twice, "s3.get_latency_median_ms") == pytest.approx(_fitted(alone, "s3.get_latency_median_ms"))
    assert _fitted(twice, "convergence.b0") == pytest.approx(_fitted(alone, "convergence.b0"), rel=1e-6)
    # Two runs: the median of all their GETs and PUTs lies between the runs'.
    both = calibrate([a, b], server_slots=0)
    assert 10 < _fitted(both, "s3.get_latency_median_ms") < 30
    assert 20 < _fitted(both, "s3.put_latency_median_ms") < 40


def test_traces_of_different_jobs_are_refused(tmp_path: Path) -> None:
    a = _trace(tmp_path / "a.h5", 0.01, 0.02)
    attrs = dict(synthetic_trace_parts()["attrs"], dataset={"train_rows": 1438, "features": 65, "classes": 10})
    b = _trace(tmp_path / "b.h5", 0.01, 0.02, attrs=attrs)
    with pytest.raises(ValueError, match=r"trace 2 differs from trace 1 in attribute 'dataset'.*65"):
        calibrate([a, b], server_slots=0)


def test_siren_calibrate_takes_several_traces_then_overrides(tmp_path: Path) -> None:
    _trace(tmp_path / "a.h5", 0.01, 0.02)
    _trace(tmp_path / "b.h5", 0.03, 0.04)
    proc = run_cli("calibrate", str(tmp_path / "a.h5"), str(tmp_path / "b.h5"), "lambda.mb_per_vcpu=1000",
                   "-o", str(tmp_path / "cal.yaml"), "--server-slots", "0", "--scenario", "softmax-digits")
    assert proc.returncode == 0, proc.stderr
    text = (tmp_path / "cal.yaml").read_text()
    assert "from 2 aws runner traces" in text and "(4 epochs)" in text
    assert "mb_per_vcpu: 1000" in text.replace('"', "")
    proc = run_cli("calibrate", "lambda.mb_per_vcpu=1000", "-o", str(tmp_path / "none.yaml"))
    assert proc.returncode != 0 and "expected at least one trace" in proc.stderr, proc.stderr


def test_the_emulated_cpu_share_counts_cpu_time_not_the_wait_for_a_core() -> None:
    # 0.1 s of CPU at half a core lasts 0.2 s: an uncontended phase sleeps 0.1 s.
    assert _share_sleep_s(0.1, 0.1, 0.5) == pytest.approx(0.1)
    # The same phase that waited 0.05 s for a core on a busy host sleeps only
    # the rest, and one stretched beyond 0.2 s by the host sleeps nothing.
    assert _share_sleep_s(0.1, 0.15, 0.5) == pytest.approx(0.05)
    assert _share_sleep_s(0.1, 0.3, 0.5) == 0.0
