"""Held-out evaluation of a Gymnasium policy on SirenEnv, against simple baselines.

Used by the training scripts in experiments/ (train_sb3_ppo.py,
train_cleanrl_ppo.py), which also share add_training_arguments. A policy is
a callable `policy(obs, env) -> action` that acts on one
`siren.envs.SirenEnv`. Every policy is evaluated on the same seeds
EVAL_SEED_BASE + k (k < episodes), with the env's action space seeded
likewise, so a random policy is reproducible too.

    from siren.policy_eval import print_comparison
    print_comparison(lambda obs, env: model.predict(obs, deterministic=True)[0],
                     "default", episodes=20)

prints, one line each, the learned policy ("ppo"), a uniform random policy,
a fixed configuration (FIXED_CONFIGURATION) and the best static configuration
of a small grid searched on those same seeds (an optimistic, oracle bound for
any fixed schedule):

    evaluation over 20 held-out seeds:
      ppo                  mean_return=  -0.1234 mean_epochs=  12.0 success_rate=1.00
      ...
      best_fixed_oracle    mean_return=... (20x2048MB, best of a 6x4 grid on these seeds)
"""

from __future__ import annotations

import argparse
import sys
from typing import Any, Callable, TextIO, Tuple

import numpy as np

from siren.envs import ScenarioLike, SirenEnv

__all__ = [
    "EVAL_SEED_BASE",
    "FIXED_CONFIGURATION",
    "GRID_FUNCTIONS",
    "GRID_MEMORY_MB",
    "Policy",
    "add_training_arguments",
    "baseline_policies",
    "best_fixed_oracle",
    "constant_policy",
    "evaluate",
    "format_result",
    "print_comparison",
    "random_policy",
]

Policy = Callable[[np.ndarray, SirenEnv], Any]
Result = Tuple[float, float, float]  # mean return, mean episode length, success rate

EVAL_SEED_BASE = 1_000_000  # held-out: the scripts train on seeds seed + i
FIXED_CONFIGURATION = (20, 2048)  # functions, memory MB
# Static configurations searched for the best one on the evaluation seeds
# themselves: an optimistic (oracle) bound for any fixed schedule.
GRID_FUNCTIONS = (10, 20, 50, 100, 200, 400)
GRID_MEMORY_MB = (512, 1024, 2048, 3008)


def add_training_arguments(p: argparse.ArgumentParser) -> None:
    """The arguments every training script of experiments/ shares:
    --total-timesteps, --num-envs, --seed, --scenario and --eval-episodes
    (the held-out episodes of print_comparison)."""
    p.add_argument("--total-timesteps", type=int, default=100_000, help="env steps (epochs) to train on")
    p.add_argument("--num-envs", type=int, default=8, help="envs in the vector env")
    p.add_argument("--seed", type=int, default=0, help="seed of training (torch, env seeds seed+i)")
    p.add_argument("--scenario", default="default", help="preset name, 'default' or a YAML path")
    p.add_argument("--eval-episodes", type=int, default=20, help="held-out episodes per policy")


def evaluate(policy: Policy, scenario: ScenarioLike, episodes: int) -> Result:
    """Mean return, mean episode length and success rate of `policy(obs, env)`
    on seeds EVAL_SEED_BASE + k (the same seeds for every policy)."""
    env = SirenEnv(scenario)
    returns, lengths, successes = [], [], []
    for k in range(episodes):
        obs, _ = env.reset(seed=EVAL_SEED_BASE + k)
        env.action_space.seed(EVAL_SEED_BASE + k)
        total, steps, done = 0.0, 0, False
        while not done:
            obs, reward, terminated, truncated, info = env.step(policy(obs, env))
            total, steps, done = total + reward, steps + 1, terminated or truncated
        returns.append(total)
        lengths.append(steps)
        successes.append(info["status"] == "converged")
    return float(np.mean(returns)), float(np.mean(lengths)), float(np.mean(successes))


def random_policy(obs: np.ndarray, env: SirenEnv) -> Any:
    """A uniform sample of the env's (seeded) action space."""
    return env.action_space.sample()


def constant_policy(action: Any) -> Policy:
    """The policy that always plays `action` (e.g. SirenEnv.encode(n, m))."""
    return lambda obs, env: action


def baseline_policies(scenario: ScenarioLike) -> dict[str, Policy]:
    """The baselines on `scenario` by name: "random" (random_policy) and
    "fixed_<n>x<m>MB" (FIXED_CONFIGURATION, as a constant_policy)."""
    functions, memory_mb = FIXED_CONFIGURATION
    return {
        "random": random_policy,
        f"fixed_{functions}x{memory_mb}MB": constant_policy(SirenEnv(scenario).encode(functions, memory_mb)),
    }


def best_fixed_oracle(scenario: ScenarioLike, episodes: int) -> tuple[Result, int, int]:
    """The best (by mean return) static configuration n x m MB of the grid
    GRID_FUNCTIONS x GRID_MEMORY_MB evaluated on the evaluation seeds, as
    (result, n, m). Memory sizes the scenario does not offer exactly are skipped."""
    env = SirenEnv(scenario)
    return max(
        (evaluate(constant_policy(env.encode(n, m)), scenario, episodes), n, m)
        for n in GRID_FUNCTIONS
        for m in GRID_MEMORY_MB
        if env.decode(env.encode(n, m))["memory_mb"] == m
    )


def format_result(name: str, result: Result) -> str:
    """One indented line of the comparison table."""
    mean_return, mean_length, success = result
    return (f"  {name:<20} mean_return={mean_return:9.4f} mean_epochs={mean_length:6.1f} "
            f"success_rate={success:.2f}")


def print_comparison(learned: Policy, scenario: ScenarioLike, episodes: int, name: str = "ppo",
                     file: TextIO | None = None) -> None:
    """Evaluates `learned` (as `name`), the baseline policies and the best
    fixed configuration of the grid on `episodes` held-out seeds of
    `scenario` and prints one line for each (to `file`, default stdout)."""
    out = sys.stdout if file is None else file
    scenario = SirenEnv(scenario).scenario
    policies = {name: learned, **baseline_policies(scenario)}
    print(f"evaluation over {episodes} held-out seeds:", file=out)
    for policy_name, policy in policies.items():
        print(format_result(policy_name, evaluate(policy, scenario, episodes)), file=out)
    result, n, m = best_fixed_oracle(scenario, episodes)
    print(f"{format_result('best_fixed_oracle', result)} ({n}x{m}MB, best of a "
          f"{len(GRID_FUNCTIONS)}x{len(GRID_MEMORY_MB)} grid on these seeds)", file=out)
