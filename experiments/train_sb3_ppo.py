#!/usr/bin/env python3
"""PPO (Stable-Baselines3) on Siren through the C++ vector env.

Trains on `siren.sb3.SirenSB3VecEnv` (same-step auto-reset, SB3's convention),
then evaluates the deterministic policy, a uniform random policy and a fixed
configuration (20 functions x 2048 MB) on the same held-out seeds and prints
each one's mean episode return, and the best static configuration of a small
grid searched on those same seeds (an optimistic bound for fixed schedules):

    .venv/bin/python experiments/train_sb3_ppo.py --total-timesteps 100000 --num-envs 8

A few minutes on 2 cores with the defaults.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import torch
from stable_baselines3 import PPO
from stable_baselines3.common.vec_env import VecMonitor

from siren.envs import SirenEnv
from siren.sb3 import SirenSB3VecEnv

EVAL_SEED_BASE = 1_000_000  # held-out: training seeds are args.seed + i
FIXED_CONFIGURATION = (20, 2048)  # functions, memory MB
# Static configurations searched for the best one on the evaluation seeds
# themselves: an optimistic (oracle) bound for any fixed schedule.
GRID_FUNCTIONS = (10, 20, 50, 100, 200, 400)
GRID_MEMORY_MB = (512, 1024, 2048, 3008)


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--total-timesteps", type=int, default=100_000, help="env steps (epochs) to train on")
    p.add_argument("--num-envs", type=int, default=8, help="envs in the vector env")
    p.add_argument("--seed", type=int, default=0, help="seed of training (torch, env seeds seed+i)")
    p.add_argument("--scenario", default="default", help="preset name, 'default' or a YAML path")
    p.add_argument("--eval-episodes", type=int, default=20, help="held-out episodes per policy")
    p.add_argument("--num-threads", type=int, default=None, help="env threads (default: min(envs, cpus))")
    return p.parse_args()


def evaluate(policy, scenario, episodes: int) -> tuple[float, float, float]:
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


def main() -> None:
    args = parse_args()
    torch.set_num_threads(1)  # a 64x64 MLP gains nothing from more; the env threads use the cores
    torch.manual_seed(args.seed)

    venv = SirenSB3VecEnv(args.num_envs, scenario=args.scenario, num_threads=args.num_threads)
    venv.seed(args.seed)
    venv = VecMonitor(venv)
    model = PPO(
        "MlpPolicy",
        venv,
        n_steps=256,
        batch_size=256,
        n_epochs=10,
        learning_rate=3e-4,
        gamma=0.99,
        seed=args.seed,
        device="cpu",
        verbose=0,
    )
    start = time.perf_counter()
    model.learn(total_timesteps=args.total_timesteps)
    train_s = time.perf_counter() - start
    venv.close()
    print(f"trained PPO (SB3) for {model.num_timesteps} steps in {train_s:.1f} s "
          f"({model.num_timesteps / train_s:.0f} steps/s), scenario={args.scenario}")

    scenario = SirenEnv(args.scenario).scenario
    env_template = SirenEnv(scenario)
    fixed = env_template.encode(*FIXED_CONFIGURATION)
    policies = {
        "ppo": lambda obs, env: model.predict(obs, deterministic=True)[0],
        "random": lambda obs, env: env.action_space.sample(),
        f"fixed_{FIXED_CONFIGURATION[0]}x{FIXED_CONFIGURATION[1]}MB": lambda obs, env: fixed,
    }
    print(f"evaluation over {args.eval_episodes} held-out seeds:")
    for name, policy in policies.items():
        mean_return, mean_length, success = evaluate(policy, scenario, args.eval_episodes)
        print(f"  {name:<20} mean_return={mean_return:9.4f} mean_epochs={mean_length:6.1f} "
              f"success_rate={success:.2f}")
    best = max(
        (evaluate(lambda obs, env, a=env_template.encode(n, m): a, scenario, args.eval_episodes), n, m)
        for n in GRID_FUNCTIONS
        for m in GRID_MEMORY_MB
        if env_template.decode(env_template.encode(n, m))["memory_mb"] == m
    )
    (mean_return, mean_length, success), n, m = best
    print(f"  {'best_fixed_oracle':<20} mean_return={mean_return:9.4f} mean_epochs={mean_length:6.1f} "
          f"success_rate={success:.2f} ({n}x{m}MB, best of a {len(GRID_FUNCTIONS)}x{len(GRID_MEMORY_MB)} "
          f"grid on these seeds)")


if __name__ == "__main__":
    main()
