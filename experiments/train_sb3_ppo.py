#!/usr/bin/env python3
"""PPO (Stable-Baselines3) on Siren through the C++ vector env.

Trains on `siren.sb3.SirenSB3VecEnv` (same-step auto-reset, SB3's convention),
then evaluates the deterministic policy, a uniform random policy and a fixed
configuration (20 functions x 2048 MB) on the same held-out seeds and prints
each one's mean episode return, and the best static configuration of a small
grid searched on those same seeds (an optimistic bound for fixed schedules;
see siren.policy_eval):

    .venv/bin/python experiments/train_sb3_ppo.py --total-timesteps 100000 --num-envs 8

A few minutes on 2 cores with the defaults.
"""

from __future__ import annotations

import argparse
import time

import torch
from stable_baselines3 import PPO
from stable_baselines3.common.vec_env import VecMonitor

from siren.policy_eval import add_training_arguments, print_comparison
from siren.sb3 import SirenSB3VecEnv


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_training_arguments(p)
    p.add_argument("--num-threads", type=int, default=None, help="env threads (default: min(envs, cpus))")
    return p.parse_args()


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

    print_comparison(lambda obs, env: model.predict(obs, deterministic=True)[0], args.scenario,
                     args.eval_episodes)


if __name__ == "__main__":
    main()
