"""The fitted analytic model against the sgd ground truth on held-out
schedules (experiments/fit_check.py): the 10 % bar, per epoch, static and
changing schedules, for the deep nets on the digits."""

from __future__ import annotations

import math
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "experiments"))
import fit_check  # noqa: E402


@pytest.fixture(scope="module")
def folder(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("fit_check")


@pytest.mark.parametrize("lr", ["constant", "step"])
def test_mlp_held_out_schedules_within_ten_percent(folder, lr) -> None:
    result = fit_check.check(fit_check.WORKLOADS["mlp-digits"], lr, folder)
    held_out = {r["schedule"] for r in result["rows"]}
    assert held_out == set(fit_check.WORKLOADS["mlp-digits"].held_out)
    assert not held_out & set(fit_check.WORKLOADS["mlp-digits"].fit)
    # Both kinds of held-out schedule: static, and n and m changing per epoch.
    assert any("," in s for s in held_out) and any("," not in s for s in held_out)
    for row in result["rows"]:
        assert len(row["sgd"]) == fit_check.WORKLOADS["mlp-digits"].epochs
        assert row["max_error"] <= fit_check.BAR, (row["schedule"], row["sgd"], row["analytic"])
    if lr == "step":
        # The rate terms were fitted (they stay at the scenario's values
        # when the rate is constant).
        assert result["fitted"]["staleness_lr_exponent"] != 1.0


@pytest.fixture(scope="module")
def lenet_digits(folder) -> dict:
    return fit_check.check(fit_check.WORKLOADS["lenet-digits"], "constant", folder)


def test_lenet_ground_truth_spreads_more_than_the_bar(lenet_digits) -> None:
    # Why the LeNet check below fails: the same schedule under another seed
    # differs from the sgd run by more than 10 % in some epoch, so no
    # deterministic curve is within 10 % of every run.
    assert max(r["seed_spread"] for r in lenet_digits["rows"]) > fit_check.BAR


@pytest.mark.xfail(strict=True, reason="LeNet on the digits: sgd's own seed spread exceeds 10 % (README)")
def test_lenet_held_out_schedules_within_ten_percent(lenet_digits) -> None:
    for row in lenet_digits["rows"]:
        assert row["max_error"] <= fit_check.BAR, row["schedule"]


def test_lenet_against_the_mean_of_many_runs(folder, lenet_digits) -> None:
    # --truth-seeds k: sgd and the analytic model each averaged over k seeds.
    # The mean of 16 runs spreads less between seed sets than one run does
    # between seeds, so what remains of the error is more the model's own.
    workload = fit_check.WORKLOADS["lenet-digits"]
    mean = fit_check.check(workload, "constant", folder, truth_seeds=16)
    assert mean["truth_seeds"] == 16
    # The truth is the mean of the 16 runs, epoch by epoch.
    sgd = fit_check.siren.load_scenario(workload.preset, [
        "convergence.model=sgd", f"convergence.sgd.dataset={fit_check.dataset_path(workload.dataset, folder)}",
        *workload.overrides, *fit_check._RUN, f"job.max_epochs={workload.epochs}"])  # fmt: skip
    runs = [fit_check.run(sgd, workload.held_out[0], workload.epochs, 1001 + 10_000 * k) for k in range(16)]
    expected = [sum(r[e] for r in runs) / 16 for e in range(workload.epochs)]
    assert mean["rows"][0]["sgd"] == pytest.approx(expected, rel=1e-12)
    for one, many in zip(lenet_digits["rows"], mean["rows"]):
        assert one["schedule"] == many["schedule"]
        assert many["seed_spread"] < one["seed_spread"], (many["schedule"], many["seed_spread"], one["seed_spread"])
    # With the staleness shock fitted, the model follows the expected loss:
    # every held-out schedule within 12 % on average over its epochs (the
    # fit without the shock: 9-19 %, README), the static 2 x 1024 MB within
    # the 10 % bar in every epoch.
    assert mean["fitted"]["staleness_shock"] > 0
    for row in mean["rows"]:
        assert row["mean_error"] < 0.12, (row["schedule"], row["sgd"], row["analytic"])
    assert mean["rows"][0]["schedule"] == "2:1024" and mean["rows"][0]["max_error"] <= fit_check.BAR


def test_lenet_ground_truth_has_the_staleness_shock(folder) -> None:
    # experiments/mechanisms.py M5: 12 functions after two epochs at 1 raise
    # the LeNet's loss (16-seed mean), where a LeNet used to 12 keeps
    # falling; the MLP shows no shock (raised within 0.05 of fresh).
    import mechanisms

    nets = mechanisms.nets(fit_check.dataset_path("digits", folder))
    lenet = mechanisms.shock_drops(nets["lenet"])
    assert lenet["raised"][1] < 0 < lenet["used"][1] < lenet["fresh"][1], lenet
    mlp = mechanisms.shock_drops(nets["mlp"])
    assert abs(mlp["raised"][1] - mlp["fresh"][1]) < 0.05, mlp
    assert mlp["raised"][1] > 0, mlp


def test_fitted_shock_slows_the_epoch_where_functions_are_raised(folder, lenet_digits) -> None:
    # The model fitted on the LeNet follows M5 part of the way: one epoch at
    # 12 functions after two at 1 falls about half as far (log loss) as
    # without the shock (0.19 against 0.37 on 2026-12-01; asserted: less than
    # 3/4). It does not rise as the sgd LeNet's does (README, "Staleness
    # shock": the fitted shock is too weak for that).
    fitted = lenet_digits["fitted"]["staleness_shock"]
    assert fitted > 0
    losses = {}
    for shock in (fitted, 0.0):
        scenario = fit_check.fitted_scenario(lenet_digits, folder / "lenet-shock.yaml", 3,
                                             (f"convergence.staleness_shock={shock}",))
        losses[shock] = fit_check.run(scenario, "1:1024,1:1024,12:1024", 3, 7)
    shocked, plain = losses[fitted], losses[0.0]
    assert shocked[:2] == plain[:2]  # Staleness 0 never shocks.
    drop = {k: math.log(v[1] / v[2]) for k, v in losses.items()}
    assert 0 < drop[fitted] < 0.75 * drop[0.0], (shocked, plain)
