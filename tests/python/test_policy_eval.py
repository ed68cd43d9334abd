"""siren.policy_eval (the held-out comparison of experiments/train_*_ppo.py)
and siren._argtypes (the argparse converters of the `siren` subcommands)."""

from __future__ import annotations

import argparse
import io
import re

import numpy as np
import pytest

from siren import _argtypes
from siren.envs import SirenEnv
from siren.policy_eval import (
    EVAL_SEED_BASE,
    FIXED_CONFIGURATION,
    GRID_FUNCTIONS,
    GRID_MEMORY_MB,
    baseline_policies,
    best_fixed_oracle,
    constant_policy,
    evaluate,
    format_result,
    print_comparison,
    random_policy,
)

SCENARIO = "default"
EPISODES = 2


def test_evaluate_runs_the_held_out_seeds() -> None:
    env = SirenEnv(SCENARIO)
    action = env.encode(*FIXED_CONFIGURATION)
    returns, lengths = [], []
    for k in range(EPISODES):
        env.reset(seed=EVAL_SEED_BASE + k)
        total, steps, done = 0.0, 0, False
        while not done:
            _, reward, terminated, truncated, _ = env.step(action)
            total, steps, done = total + reward, steps + 1, terminated or truncated
        returns.append(total)
        lengths.append(steps)
    mean_return, mean_length, success = evaluate(constant_policy(action), SCENARIO, EPISODES)
    assert mean_return == pytest.approx(np.mean(returns))
    assert mean_length == pytest.approx(np.mean(lengths))
    assert 0.0 <= success <= 1.0


def test_random_policy_is_reproducible() -> None:
    assert evaluate(random_policy, SCENARIO, EPISODES) == evaluate(random_policy, SCENARIO, EPISODES)


def test_baseline_policies() -> None:
    functions, memory_mb = FIXED_CONFIGURATION
    policies = baseline_policies(SCENARIO)
    assert list(policies) == ["random", f"fixed_{functions}x{memory_mb}MB"]
    env = SirenEnv(SCENARIO)
    fixed = policies[f"fixed_{functions}x{memory_mb}MB"]
    np.testing.assert_array_equal(fixed(None, env), env.encode(functions, memory_mb))


def test_best_fixed_oracle_is_the_best_of_the_grid() -> None:
    (result, n, m) = best_fixed_oracle(SCENARIO, 1)
    assert n in GRID_FUNCTIONS and m in GRID_MEMORY_MB
    env = SirenEnv(SCENARIO)
    assert result == evaluate(constant_policy(env.encode(n, m)), SCENARIO, 1)
    fixed = evaluate(baseline_policies(SCENARIO)["fixed_20x2048MB"], SCENARIO, 1)
    assert result[0] >= fixed[0]


def test_print_comparison_prints_every_policy() -> None:
    out = io.StringIO()
    print_comparison(random_policy, SCENARIO, 1, file=out)
    lines = out.getvalue().splitlines()
    assert lines[0] == "evaluation over 1 held-out seeds:"
    names = [re.match(r"^\s+(\S+)\s+mean_return=\s*-?[0-9.]+ mean_epochs=", line).group(1) for line in lines[1:]]
    assert names == ["ppo", "random", "fixed_20x2048MB", "best_fixed_oracle"]
    # The learned policy here is the random one: same seeds, same numbers.
    assert lines[1].split(None, 1)[1] == lines[2].split(None, 1)[1]
    result, n, m = best_fixed_oracle(SCENARIO, 1)
    assert lines[4] == (f"{format_result('best_fixed_oracle', result)} ({n}x{m}MB, best of a "
                        f"{len(GRID_FUNCTIONS)}x{len(GRID_MEMORY_MB)} grid on these seeds)")


@pytest.mark.parametrize(
    ("convert", "text", "value"),
    [
        (_argtypes.non_negative_int, "0", 0),
        (_argtypes.non_negative_int, "0x10", 16),
        (_argtypes.positive_int, "3", 3),
        (_argtypes.non_negative_float, "0", 0.0),
        (_argtypes.positive_float, "2.5", 2.5),
    ],
)
def test_argtypes_accept(convert, text: str, value) -> None:
    assert convert(text) == value


@pytest.mark.parametrize(
    ("convert", "text", "message"),
    [
        (_argtypes.non_negative_int, "x", "expected an integer >= 0, got 'x'"),
        (_argtypes.non_negative_int, "-1", "expected an integer in [0, 2^64), got '-1'"),
        (_argtypes.non_negative_int, str(2**64), f"expected an integer in [0, 2^64), got '{2**64}'"),
        (_argtypes.positive_int, "0", "expected an integer > 0, got '0'"),
        (_argtypes.positive_int, "1.5", "expected an integer > 0, got '1.5'"),
        (_argtypes.non_negative_float, "-0.5", "expected a finite number >= 0, got '-0.5'"),
        (_argtypes.non_negative_float, "inf", "expected a finite number >= 0, got 'inf'"),
        (_argtypes.non_negative_float, "nan", "expected a finite number >= 0, got 'nan'"),
        (_argtypes.positive_float, "0", "expected a finite number > 0, got '0'"),
        (_argtypes.positive_float, "y", "expected a number > 0, got 'y'"),
    ],
)
def test_argtypes_reject(convert, text: str, message: str) -> None:
    with pytest.raises(argparse.ArgumentTypeError) as error:
        convert(text)
    assert str(error.value) == message


def test_checked_list() -> None:
    parse = _argtypes.checked_list(int, lambda v: v > 0, "integers", "positive integers")
    assert parse("1,2,3") == [1, 2, 3]
    with pytest.raises(argparse.ArgumentTypeError, match=r"^expected integers, got '1,a'$"):
        parse("1,a")
    with pytest.raises(argparse.ArgumentTypeError, match=r"^expected positive integers, got '1,0'$"):
        parse("1,0")
