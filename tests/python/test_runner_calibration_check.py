"""The calibration check (fast variant): the simulator calibrated on two
local runs (`siren calibrate a.h5 b.h5`) replays a third, held-out run of
the same schedule (`siren compare-sim`, the mean of 20 simulated seeds)
with every epoch's duration within 15 % and its cost within 5 %, for
softmax and for a deep model (the MLP), on the digits, under the paper's
asynchronous overwrite and under the runner's compare-and-swap; and, under
`overwrite`, the same tolerances against the mean of the two runs it was
calibrated on.

The check compares with one real run, so it is decidable only when real
runs repeat well enough that a failure is unlikely to be the host's noise.
Duration and cost are separate tests on the same three runs, each decided
on its own (under `overwrite` the cost repeats to a few per cent where the
duration often does not). A quantity is decided only when, in every epoch,
the mean of the two calibration runs lies within half its tolerance of the
held-out run (measured as the check measures the simulator, relative to
the held-out run), with two standard errors of the simulated mean (over
the seeds) added after the replay; otherwise its test is skipped with the
numbers in its reason, never passed with looser bounds (under `cas` the
skip comes before calibrating when neither quantity is decidable). A
failure then means the simulator is off the runs it was calibrated on by
more than about half the tolerance of the held-out run's value, which the
host's noise is unlikely to explain.

Why half: with the whole tolerance, a simulator a few per cent off its
calibration runs' mean failed by chance whenever the held-out run happened
to lie just inside the tolerance on the other side. The CI run of 2 Dec
2026 decided the MLP's duration under `overwrite` with the held-out run
13.7 % from the calibration runs' mean and failed with the simulator 15.7 %
off. Three repetitions on the lightly loaded machine (`python
experiments/calibration_repeatability.py --out build/rep --runs 8
--calibrate-on 2 --push-protocol overwrite`, softmax and MLP, and the MLP
with `workload.batch_size=8` at `--runs 6`; 16 held-out runs) reproduce
it: the rule before 2 Dec (the miss relative to the calibration mean, both
quantities together, the whole tolerance) decided 4 runs and failed one by
chance, the MLP's duration at 17.7 % with the held-out run 13.1 % from the
mean, while the simulator lay within 2.2 % of its calibration runs' mean in
cost and 7 % in duration in every epoch. Deciding each quantity on the
whole tolerance with the present measure failed 1 of 14 decided cost
checks (5.9 %: the held-out run's cold epoch 3.9 % dearer than the
calibration runs' mean, the simulator 2.2 % cheaper); on half the
tolerance 6 were decided, all within 2.9 %. The duration, whose real runs
lie 10-36 % from the calibration runs' mean on this host, was decided in
none of the 16 on half its tolerance: on this machine the held-out
duration test mostly skips. Under compare-and-swap on these 45-batch
epochs the real runs do not repeat even on an idle machine: each refused
push is a billed PUT and GET, and their number varies by up to about 20
per epoch between epochs of the same action (README, "Calibrated simulator
against the local runner").
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pytest

from siren.runner.trace import read_run_trace

from conftest import run_cli

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "experiments"))
from calibration_repeatability import COMMON, DECIDING_SHARE, TOLERANCES, decision_margin  # noqa: E402

pytestmark = pytest.mark.slow

CASES = {
    "softmax": [],
    "mlp": ["convergence.sgd.model=mlp", "convergence.sgd.mlp.hidden1=128", "convergence.sgd.learning_rate=0.3"],
}  # fmt: skip
PROTOCOLS = ("overwrite", "cas")
# One tuple per case, shared by every test's parameters, so that the module
# fixture's cache (keyed by the parameter) reruns no case.
ALL_CASES = [(model, protocol) for protocol in PROTOCOLS for model in CASES]
SCHEDULE, EPOCHS, SEEDS = "4:1024", 4, 20


def _run(path: Path, protocol: str, overrides: list[str]) -> dict:
    proc = run_cli("run", "--schedule", SCHEDULE, "--epochs", str(EPOCHS), "--push-protocol", protocol,
                   "--out", str(path), *COMMON, *overrides)
    assert proc.returncode == 0, proc.stderr
    return read_run_trace(path)["epochs"]


def _errors(real: dict, reference: dict) -> dict[str, np.ndarray]:
    """Per epoch, the relative difference of `reference` from `real`,
    |reference / real - 1| (as `siren compare-sim` measures the simulator
    against a run), in duration and cost."""
    return {key: np.abs(np.asarray(reference[key]) / np.asarray(real[key]) - 1) for key in TOLERANCES}


@pytest.fixture(scope="module")
def held_out_case(request, tmp_path_factory) -> dict:
    """Three real runs of one case, (model, protocol) from the test's
    indirect parameter: two to calibrate on, one held out, shared by every
    test of the case; the replay is added by `_replay` when needed."""
    model, protocol = request.param
    folder = tmp_path_factory.mktemp(f"{model}-{protocol}")
    paths = [folder / f"{name}.h5" for name in ("a", "b", "held_out")]
    first, second, held_out = (_run(path, protocol, CASES[model]) for path in paths)
    mean = {key: (np.asarray(first[key]) + np.asarray(second[key])) / 2 for key in TOLERANCES}
    # How far each calibration run lies from their mean (the two are equal).
    disagreement = {key: np.abs(np.asarray(first[key]) / mean[key] - 1) for key in TOLERANCES}
    return {"name": f"{model} under {protocol}", "folder": folder, "paths": paths, "held_out": held_out,
            "calibration_mean": mean,
            "calibration_disagreement": disagreement, "repeat": _errors(held_out, mean)}


def _cases(protocols: tuple[str, ...]) -> pytest.MarkDecorator:
    """Parametrizes `held_out_case` over every model under `protocols`."""
    cases = [case for case in ALL_CASES if case[1] in protocols]
    return pytest.mark.parametrize("held_out_case", cases, ids=["-".join(case) for case in cases], indirect=True)


def _replay(case: dict) -> dict:
    """Calibrates on the first two runs and replays the held-out one
    (`siren compare-sim` over SEEDS seeds), once per case."""
    if "replay" not in case:
        folder, paths = case["folder"], case["paths"]
        proc = run_cli("calibrate", str(paths[0]), str(paths[1]), "-o", str(folder / "cal.yaml"), "--quiet")
        assert proc.returncode == 0, proc.stderr
        proc = run_cli("compare-sim", str(paths[2]), "--scenario", str(folder / "cal.yaml"), "--seeds", str(SEEDS),
                       "--json", str(folder / "cmp.json"))
        assert proc.returncode == 0, proc.stderr
        case["replay"] = json.loads((folder / "cmp.json").read_text())
    return case["replay"]


@_cases(PROTOCOLS)
@pytest.mark.parametrize("key", list(TOLERANCES))
def test_the_calibrated_simulator_predicts_a_held_out_run(held_out_case, key) -> None:
    case, tolerance = held_out_case, TOLERANCES[key]
    held_out, repeat = case["held_out"], case["repeat"][key]
    warm = np.asarray(held_out[key][1:])  # The same action on warm sandboxes.
    warm_spread = float(np.max(np.abs(warm / warm.mean() - 1)))
    if not repeat.max() <= tolerance * DECIDING_SHARE:
        pytest.skip(f"{case['name']}, undecidable on this host now: the mean of the two calibration runs misses "
                    f"the held-out run's {key} by {repeat.max():.1%} at worst per epoch (half the tolerance: "
                    f"{tolerance * DECIDING_SHARE:.1%}); its own warm epochs, one action, lie up to "
                    f"{warm_spread:.1%} from their mean; refused pushes per epoch "
                    f"{list(map(int, held_out['update_conflicts']))}")
    result = _replay(case)
    worst, noise = result["max_abs_error"][key], result["max_spread"][key]
    simulated = (f"calibrated simulator against the held-out run's {key}: {worst:.1%} at worst per epoch (the "
                 f"simulator's own spread over seeds: {noise:.1%}); the calibration runs' mean misses it by "
                 f"{repeat.max():.1%}")
    # The simulated mean's sampling error beside the real runs' difference.
    repeat, margin = decision_margin(result["rows"], case["calibration_mean"][key], key, SEEDS)
    if not margin.max() <= tolerance * DECIDING_SHARE:
        epoch = int(margin.argmax())
        pytest.skip(f"{case['name']}, undecidable on this host now: in epoch {epoch} the calibration runs' mean "
                    f"misses the held-out run by {repeat[epoch]:.1%} and the simulated mean's two standard errors "
                    f"over {SEEDS} seeds add {margin[epoch] - repeat[epoch]:.1%}, beyond half the tolerance "
                    f"({tolerance * DECIDING_SHARE:.1%}); {simulated}")
    print(simulated)
    assert worst <= tolerance, simulated


@_cases(("overwrite",))
@pytest.mark.parametrize("key", list(TOLERANCES))
def test_the_calibrated_simulator_reproduces_its_calibration_runs(held_out_case, key) -> None:
    """The same tolerances against the mean of the two runs calibrated on,
    per epoch, decided whenever the two runs lie within the tolerance of
    their mean in every epoch (a load spike in one run's epoch moves the
    mean where a fit of both runs' pooled timings does not follow). On the
    lightly loaded machine the simulator lay within 7 % and 2.2 % of that
    mean (README). Under `overwrite` only: under `cas` the refused pushes of
    two runs are too few to average (the simulator missed their mean by up
    to 20 % in duration and 12 % in cost, README)."""
    case, tolerance = held_out_case, TOLERANCES[key]
    mean, disagreement = case["calibration_mean"][key], case["calibration_disagreement"][key]
    if not disagreement.max() <= tolerance:
        pytest.skip(f"{case['name']}, undecidable on this host now: the two calibration runs lie "
                    f"{disagreement.max():.1%} from their mean {key} in epoch {int(disagreement.argmax())} "
                    f"(tolerance {tolerance:.0%})")
    simulated = np.asarray([row[f"sim_{key}"] for row in _replay(case)["rows"]])
    error = np.abs(simulated / mean - 1)
    print(f"calibrated simulator against its calibration runs' mean {key}: {error.max():.1%} at worst per epoch")
    assert error.max() <= tolerance, f"{key} per epoch: simulated {simulated}, calibration runs' mean {mean}"
