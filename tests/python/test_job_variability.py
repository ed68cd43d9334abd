"""Per-episode job variability (sim/engine/job_draw.h): validation of each
range, draws within range and deterministic under a seed at any thread
count, and the observation fields that carry the episode's job."""

from __future__ import annotations

import math

import numpy as np
import pytest

import siren
from siren import _core
from siren.envs import OBSERVATION_NAMES, SirenEnv
from siren.vector import SirenVectorEnv

RANGES = {
    "variability.dataset_scale_range": "dataset_scale",
    "variability.loss_noise_scale_range": "loss_noise_scale",
    "variability.compute_slowdown_range": "compute_slowdown",
    "variability.s3_slowdown_range": "s3_slowdown",
}
ALL = ["job.budget_range=[0.1, 0.5]", "variability.dataset_scale_range=[0.5, 2]",
       "variability.loss_noise_scale_range=[1, 4]", "variability.compute_slowdown_range=[1, 2]",
       "variability.s3_slowdown_range=[1, 3]"]


@pytest.mark.parametrize("path", ["job.budget_range", *RANGES])
@pytest.mark.parametrize("value, expected", [
    ("[0.5, 0.1]", "lo <= hi"),
    ("[0.1, 0.2, 0.3]", "a pair [lo, hi]"),
    ("[-1, 2]", "each in (0, "),
])
def test_bad_range_names_field_value_and_expectation(path: str, value: str, expected: str) -> None:
    with pytest.raises(siren.ScenarioError) as error:
        _core.load_scenario("default", [f"{path}={value}"])
    text = str(error.value)
    assert path in text and expected in text, text


def test_budget_draw_must_be_a_known_name() -> None:
    with pytest.raises(siren.ScenarioError, match=r"job\.budget_draw.*log_uniform"):
        _core.load_scenario("default", ["job.budget_draw=gaussian"])


def test_dataset_range_is_checked_against_the_batch_and_the_epoch_limit() -> None:
    scenario = _core.load_scenario("default")
    low = scenario.get("workload.batch_size") / scenario.get("workload.dataset_samples") / 2
    with pytest.raises(siren.ScenarioError, match=r"variability\.dataset_scale_range.*workload\.batch_size"):
        _core.load_scenario("default", [f"variability.dataset_scale_range=[{low}, 1]"])
    with pytest.raises(siren.ScenarioError, match=r"variability\.dataset_scale_range.*1e6 mini-batches"):
        _core.load_scenario("default", ["variability.dataset_scale_range=[1, 1e5]"])


def test_loss_noise_range_keeps_sigma_in_bounds_and_needs_the_analytic_model() -> None:
    with pytest.raises(siren.ScenarioError, match=r"loss_noise_scale_range.*<= 3"):
        _core.load_scenario("default", ["convergence.loss_noise_sigma=0.5", "variability.loss_noise_scale_range=[1, 10]"])
    with pytest.raises(siren.ScenarioError, match=r"loss_noise_scale_range.*analytic"):
        _core.load_scenario("softmax-digits", ["convergence.model=sgd", "variability.loss_noise_scale_range=[1, 2]"])


def test_no_range_draws_the_scenario_itself() -> None:
    scenario = _core.load_scenario("default")
    job = _core.draw_episode_job(scenario, 7)
    assert job["budget_usd"] == scenario.budget_usd
    assert job["dataset_samples"] == scenario.get("workload.dataset_samples")
    assert [job[key] for key in RANGES.values()] == [1, 1, 1, 1]


@pytest.mark.parametrize("draw", ["log_uniform", "uniform"])
def test_draws_lie_in_range_and_spread_over_it(draw: str) -> None:
    scenario = _core.load_scenario("default", [*ALL, f"job.budget_draw={draw}"])
    jobs = [_core.draw_episode_job(scenario, seed) for seed in range(400)]
    budgets = np.array([job["budget_usd"] for job in jobs])
    assert budgets.min() >= 0.1 and budgets.max() <= 0.5
    # Both halves of the range are drawn; the median tells the two draws apart
    # (log-uniform: sqrt(0.05) = 0.224; uniform: 0.3).
    median = np.median(budgets)
    assert (abs(median - math.sqrt(0.05)) < 0.03) if draw == "log_uniform" else (abs(median - 0.3) < 0.03)
    for path, key in RANGES.items():
        lo, hi = scenario.get(path)
        values = np.array([job[key] for job in jobs])
        assert values.min() >= lo and values.max() <= hi and values.max() - values.min() > (hi - lo) / 2, key
    n = scenario.get("workload.dataset_samples")
    assert all(job["dataset_samples"] == round(n * job["dataset_scale"]) for job in jobs)


def test_one_range_does_not_change_the_others_draws() -> None:
    both = _core.load_scenario("default", ["job.budget_range=[0.1, 0.5]", "variability.s3_slowdown_range=[1, 3]"])
    one = _core.load_scenario("default", ["variability.s3_slowdown_range=[1, 3]"])
    assert [_core.draw_episode_job(both, s)["s3_slowdown"] for s in range(20)] == \
        [_core.draw_episode_job(one, s)["s3_slowdown"] for s in range(20)]


def test_observation_carries_the_episodes_budget_and_dataset_scale() -> None:
    assert OBSERVATION_NAMES[10:] == ("budget", "dataset_scale")
    env = SirenEnv("default", overrides=ALL)
    unit = env.scenario.get("env.budget_scale_usd")
    budgets = set()
    for seed in range(5):
        obs, _ = env.reset(seed=seed)
        assert env.observation_space.contains(obs)
        assert 0.1 / unit - 1e-6 <= obs[10] <= 0.5 / unit + 1e-6
        assert 0.5 - 1e-6 <= obs[11] <= 2 + 1e-6
        budgets.add(round(float(obs[10]), 6))
        # Constant within the episode; the budget left is relative to it.
        obs2, _, _, _, info = env.step(env.encode(20, 2048))
        assert obs2[10] == obs[10] and obs2[11] == obs[11]
        assert obs2[9] == pytest.approx(1 - info["cumulative_cost_usd"] / (obs[10] * unit), abs=1e-5)
    assert len(budgets) == 5


def test_core_env_draws_the_job_of_its_seed() -> None:
    scenario = _core.load_scenario("default", ALL)
    env = _core.Env(scenario, "box")
    unit = scenario.get("env.budget_scale_usd")
    for seed in (3, 11):
        obs = env.reset(seed)
        job = _core.draw_episode_job(scenario, seed)
        assert obs[10] == pytest.approx(job["budget_usd"] / unit, rel=1e-6)
        assert obs[11] == pytest.approx(job["dataset_scale"], rel=1e-4)


def test_slowdowns_slow_the_job_down() -> None:
    """The same seed with and without a forced slowdown: epochs take longer."""
    def epoch_s(overrides: list[str]) -> float:
        env = _core.Env(_core.load_scenario("default", overrides), "box")
        env.reset(5)
        info = env.step(env.encode(20, 2048))[4]
        return float(info[_core.info_names().index("epoch_duration_s")])

    base = epoch_s([])
    assert epoch_s(["variability.compute_slowdown_range=[2, 2]"]) > base * 1.2
    assert epoch_s(["variability.s3_slowdown_range=[3, 3]"]) > base


def test_vector_env_is_deterministic_at_any_thread_count() -> None:
    def run(threads: int) -> np.ndarray:
        envs = SirenVectorEnv(4, scenario="default", overrides=ALL, num_threads=threads)
        obs, _ = envs.reset(seed=0)
        rows = [obs]
        for _ in range(3):
            obs, *_ = envs.step(np.zeros((4, 2), dtype=np.float32))
            rows.append(obs)
        envs.close()
        return np.stack(rows)

    one, two = run(1), run(2)
    assert np.array_equal(one, two)
    assert len(set(one[0, :, 10].tolist())) == 4  # each env drew its own budget
