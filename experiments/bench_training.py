#!/usr/bin/env python3
"""Time-to-policy benchmark: Siren's libtorch PPO (siren-agent), Stable-
Baselines3 PPO and the CleanRL-style PPO of train_cleanrl_ppo.py on the same
env, measured in one run.

The target is the oracle static job completion time: the mean JCT of the
oracle static configuration (siren.baselines.oracle_static, the best static
(n, m) on the platform's full grid) on tuning seeds 0..7. A learner reaches
a level (target x (1 + tolerance)) when the mean JCT of its last --window
training episodes is at most that level with a success rate of at least
--min-success; the script reports, for each learner and each level of
--tolerances, the wall time and env steps to reach it (or that it did not
within its budget), and its training throughput (env steps/s). Training
episodes explore (the policies sample their actions), so the window is a
conservative measure of the deterministic policy.

Ours runs first (`siren train`, its HDF5 log gives the wall time of each
iteration); SB3 PPO and CleanRL-style PPO then train on the same C++ vector
env with the same number of envs and watch the finished episodes. The
machine is shared: compare the learners in one run, not across runs.

    .venv/bin/python experiments/bench_training.py --iterations 400 --sb3-timesteps 200000
    .venv/bin/python experiments/bench_training.py --quick    # a smoke run, seconds
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from collections import deque
from pathlib import Path

import h5py
import numpy as np

from siren import _core
from siren.baselines import oracle_static

# Tolerances reported (the last is the check's: the oracle static JCT itself).
TOLERANCES = (0.10, 0.05, 0.02, 0.0)
QUICK_ORACLE = {"function_ratio": 2.0, "coarse_memory": 4, "starts": 1, "function_step": 16, "memory_step": 8}


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--scenario", default="default", help="preset name or YAML path")
    p.add_argument("--envs", type=int, default=16, help="parallel envs for every learner")
    p.add_argument("--threads", type=int, default=2, help="env threads for every learner")
    p.add_argument("--iterations", type=int, default=400, help="siren-agent iterations (one episode per env)")
    p.add_argument("--sb3-timesteps", type=int, default=200_000, help="SB3 PPO timestep budget")
    p.add_argument("--cleanrl-timesteps", type=int, default=200_000, help="CleanRL-style PPO timestep budget")
    p.add_argument("--tolerances", default=",".join(map(str, TOLERANCES)),
                   help="levels: oracle static JCT x (1 + tolerance), comma-separated")
    p.add_argument("--min-success", type=float, default=0.9, help="success rate needed over the window")
    p.add_argument("--window", type=int, default=160, help="training episodes averaged (10 iterations of 16)")
    p.add_argument("--tuning-seeds", type=int, default=8, help="seeds 0..k-1 the oracle static is tuned on")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--skip", default="", help="learners to leave out, comma-separated (siren, sb3, cleanrl)")
    p.add_argument("--quick", action="store_true",
                   help="a smoke run: a coarse oracle, 3 iterations / 2,000 steps per learner, window 16")
    args = p.parse_args()
    args.tolerances = sorted((float(x) for x in args.tolerances.split(",")), reverse=True)
    args.skip = {x for x in args.skip.split(",") if x}
    if args.quick:
        args.iterations, args.sb3_timesteps, args.cleanrl_timesteps = 3, 2_000, 2_000
        args.window, args.tuning_seeds, args.envs = 16, 2, 8
    return args


def oracle_target(scenario: _core.Scenario, args: argparse.Namespace) -> dict:
    """The oracle static configuration and its mean JCT on the tuning seeds."""
    options = QUICK_ORACLE if args.quick else {}
    result = oracle_static(scenario, range(args.tuning_seeds), num_threads=args.threads, **options)
    return result["best"]


class Levels:
    """First (wall s, env steps) at which the trailing window of episodes
    meets each level; `done` once the tightest one is met."""

    def __init__(self, args: argparse.Namespace, target: float, window: int | None = None) -> None:
        self.levels = [(tol, target * (1 + tol)) for tol in args.tolerances]
        self.min_success, self.window = args.min_success, window or args.window
        self.jct: deque = deque(maxlen=self.window)
        self.success: deque = deque(maxlen=self.window)
        self.reached: dict[float, tuple[float, int]] = {}
        self.best_window_jct = float("inf")

    def add(self, jct: float, success: bool, wall_s: float, steps: int) -> None:
        self.jct.append(jct)
        self.success.append(success)
        if len(self.jct) < self.window or np.mean(self.success) < self.min_success:
            return
        mean = float(np.mean(self.jct))
        self.best_window_jct = min(self.best_window_jct, mean)
        for tol, level in self.levels:
            if tol not in self.reached and mean <= level:
                self.reached[tol] = (wall_s, steps)

    @property
    def done(self) -> bool:
        return self.levels[-1][0] in self.reached


def run_ours(args: argparse.Namespace, target: float, out: Path) -> dict:
    """Trains with siren-agent; replays its log (one row per iteration, the
    iteration's episodes' mean JCT and success rate) into the levels."""
    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", "siren", "train", "--scenario", args.scenario, "--iterations",
                    str(args.iterations), "--envs", str(args.envs), "--threads", str(args.threads),
                    "--seed", str(args.seed), "--quiet", "--out", str(out)], check=True)
    total = time.perf_counter() - start
    with h5py.File(out / "log.h5") as log:
        jct, success = log["mean_jct_s"][:], log["success_rate"][:]
        wall, steps, rate = log["wall_s"][:], log["env_steps"][:], log["env_steps_per_s"][:]
    # One row per iteration of args.envs episodes: the window in rows.
    levels = Levels(args, target, window=max(1, args.window // args.envs))
    for i in range(len(jct)):
        levels.add(float(jct[i]), float(success[i]), float(wall[i]), int(steps[i]))
    return {"levels": levels, "wall_s": float(wall[-1]), "env_steps": int(steps[-1]),
            "steps_per_s": float(np.median(rate)), "process_s": total}


def run_sb3(args: argparse.Namespace, target: float) -> dict:
    import torch
    from stable_baselines3 import PPO
    from stable_baselines3.common.callbacks import BaseCallback

    from siren.sb3 import SirenSB3VecEnv

    torch.set_num_threads(1)
    levels = Levels(args, target)

    class Watch(BaseCallback):
        """Feeds finished episodes to the levels; stops at the tightest."""

        def __init__(self) -> None:
            super().__init__()
            self.start = time.perf_counter()

        def _on_step(self) -> bool:
            for done, info in zip(self.locals["dones"], self.locals["infos"]):
                if done:
                    levels.add(info["cumulative_time_s"], info["status"] == "converged",
                               time.perf_counter() - self.start, self.num_timesteps)
            return not levels.done

    env = SirenSB3VecEnv(args.envs, scenario=args.scenario, num_threads=args.threads)
    model = PPO("MlpPolicy", env, seed=args.seed, verbose=0, n_steps=128, batch_size=256)
    start = time.perf_counter()
    model.learn(total_timesteps=args.sb3_timesteps, callback=Watch())
    elapsed = time.perf_counter() - start
    steps = model.num_timesteps
    return {"levels": levels, "wall_s": elapsed, "env_steps": steps, "steps_per_s": steps / elapsed}


def run_cleanrl(args: argparse.Namespace, target: float) -> dict:
    import torch

    sys.path.insert(0, str(Path(__file__).resolve().parent))
    import train_cleanrl_ppo as cleanrl

    torch.set_num_threads(1)
    torch.manual_seed(args.seed)
    np.random.seed(args.seed)
    levels = Levels(args, target)
    start = time.perf_counter()

    def watch(final_info: dict, ended: np.ndarray) -> bool:
        now = time.perf_counter() - start
        for i in ended:
            levels.add(float(final_info["cumulative_time_s"][i]), final_info["status"][i] == "converged", now, 0)
        return levels.done

    cl_args = argparse.Namespace(
        total_timesteps=args.cleanrl_timesteps, num_envs=args.envs, seed=args.seed, scenario=args.scenario,
        num_steps=128, learning_rate=3e-4, gamma=0.99, gae_lambda=0.95, num_minibatches=4, update_epochs=10,
        clip_coef=0.2, ent_coef=0.0, vf_coef=0.5, max_grad_norm=0.5)
    _, elapsed, steps_taken = cleanrl.train(cl_args, watch=watch, num_threads=args.threads)
    return {"levels": levels, "wall_s": elapsed, "env_steps": steps_taken, "steps_per_s": steps_taken / elapsed}


def main() -> int:
    args = parse_args()
    scenario = _core.load_scenario(args.scenario)
    best = oracle_target(scenario, args)
    target = best["mean_jct_s"]
    print(f"scenario={scenario.name} budget={scenario.budget_usd} oracle_static={best['functions']}x"
          f"{best['memory_mb']}MB oracle_jct_s={target:.2f} (seeds 0..{args.tuning_seeds - 1}) "
          f"window={args.window} episodes min_success={args.min_success} envs={args.envs} threads={args.threads}")
    results = {}
    if "siren" not in args.skip:
        with tempfile.TemporaryDirectory() as tmp:
            results["siren"] = run_ours(args, target, Path(tmp) / "run")
    if "sb3" not in args.skip:
        results["sb3"] = run_sb3(args, target)
    if "cleanrl" not in args.skip:
        results["cleanrl"] = run_cleanrl(args, target)
    for name, r in results.items():
        levels = r["levels"]
        best_window = levels.best_window_jct
        best_text = f"{best_window / target - 1:+.1%}" if np.isfinite(best_window) else "n/a"
        print(f"{name}: trained wall_s={r['wall_s']:.1f} env_steps={r['env_steps']} "
              f"steps_per_s={r['steps_per_s']:.0f} best_window_vs_oracle={best_text}")
        for tol, level in levels.levels:
            hit = levels.reached.get(tol)
            text = f"wall_s={hit[0]:.1f}" if hit else "not_reached"
            print(f"  level oracle+{tol:.0%} ({level:.2f} s): {text}")
    if "siren" in results and "sb3" in results:
        for tol, _ in results["siren"]["levels"].levels:
            ours, sb3 = results["siren"]["levels"].reached.get(tol), results["sb3"]["levels"].reached.get(tol)
            if ours and sb3:
                print(f"speedup_wall_vs_sb3 at oracle+{tol:.0%}: {sb3[0] / ours[0]:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
