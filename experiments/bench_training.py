#!/usr/bin/env python3
"""Training-throughput benchmark: Siren's libtorch PPO (siren-agent) against
Stable-Baselines3 PPO on the same env, measured in one run.

The target is the grid-search job completion time: the best static
configuration's mean JCT on tuning seeds 0..7 (siren._core.grid_search),
relaxed by --tolerance. A learner reaches it when the mean JCT of its last
--window training episodes is at most GS x (1 + tolerance) with a success
rate of at least --min-success. The script reports, for each learner, the
wall time and env steps to reach the target (or that it did not within its
budget) and its training throughput (env steps/s).

Ours runs first (`siren train`, its HDF5 log gives the wall time of each
iteration); SB3 PPO then trains on siren.sb3.SirenSB3VecEnv with the same
number of envs and a callback that watches the finished episodes. The
machine is shared: compare the two in one run, not across runs.

    .venv/bin/python experiments/bench_training.py --iterations 400 --sb3-timesteps 200000
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


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--scenario", default="default", help="preset name or YAML path")
    p.add_argument("--envs", type=int, default=16, help="parallel envs for both learners")
    p.add_argument("--iterations", type=int, default=400, help="siren-agent iterations (one episode per env)")
    p.add_argument("--sb3-timesteps", type=int, default=200_000, help="SB3 PPO timestep budget")
    p.add_argument("--tolerance", type=float, default=0.10, help="target = GS JCT x (1 + tolerance)")
    p.add_argument("--min-success", type=float, default=0.9, help="success rate needed over the window")
    p.add_argument("--window", type=int, default=160, help="training episodes averaged (10 iterations of 16)")
    p.add_argument("--seed", type=int, default=0)
    return p.parse_args()


def gs_target(scenario: _core.Scenario, tolerance: float) -> tuple[float, float, tuple[int, int]]:
    best = _core.grid_search(scenario, [scenario.budget_usd], list(range(8)), num_threads=2)[0]["best"]
    return best["mean_jct_s"], best["mean_jct_s"] * (1 + tolerance), (best["functions"], best["memory_mb"])


def run_ours(args: argparse.Namespace, target: float, out: Path) -> dict:
    """Trains with siren-agent; finds the first iteration whose trailing
    window of episodes meets the target."""
    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", "siren", "train", "--scenario", args.scenario, "--iterations",
                    str(args.iterations), "--envs", str(args.envs), "--seed", str(args.seed), "--quiet",
                    "--out", str(out)], check=True)
    total = time.perf_counter() - start
    with h5py.File(out / "log.h5") as log:
        jct, success = log["mean_jct_s"][:], log["success_rate"][:]
        wall, steps, rate = log["wall_s"][:], log["env_steps"][:], log["env_steps_per_s"][:]
    per_window = max(1, args.window // args.envs)
    for i in range(per_window - 1, len(jct)):
        window = slice(i - per_window + 1, i + 1)
        if jct[window].mean() <= target and success[window].mean() >= args.min_success:
            return {"reached": True, "wall_s": float(wall[i]), "env_steps": int(steps[i]),
                    "steps_per_s": float(np.median(rate)), "process_s": total}
    return {"reached": False, "wall_s": float(wall[-1]), "env_steps": int(steps[-1]),
            "steps_per_s": float(np.median(rate)), "process_s": total}


def run_sb3(args: argparse.Namespace, target: float) -> dict:
    import torch
    from stable_baselines3 import PPO
    from stable_baselines3.common.callbacks import BaseCallback

    from siren.sb3 import SirenSB3VecEnv

    torch.set_num_threads(1)

    class Watch(BaseCallback):
        """Stops training once the trailing window of episodes meets the target."""

        def __init__(self) -> None:
            super().__init__()
            self.jct: deque = deque(maxlen=args.window)
            self.success: deque = deque(maxlen=args.window)
            self.start = time.perf_counter()
            self.reached_at: tuple[float, int] | None = None

        def _on_step(self) -> bool:
            for done, info in zip(self.locals["dones"], self.locals["infos"]):
                if done:
                    self.jct.append(info["cumulative_time_s"])
                    self.success.append(info["status"] == "converged")
            if (len(self.jct) == args.window and np.mean(self.jct) <= target
                    and np.mean(self.success) >= args.min_success):
                self.reached_at = (time.perf_counter() - self.start, self.num_timesteps)
                return False
            return True

    env = SirenSB3VecEnv(args.envs, scenario=args.scenario, num_threads=2)
    model = PPO("MlpPolicy", env, seed=args.seed, verbose=0, n_steps=128, batch_size=256)
    watch = Watch()
    start = time.perf_counter()
    model.learn(total_timesteps=args.sb3_timesteps, callback=watch)
    elapsed = time.perf_counter() - start
    steps = model.num_timesteps
    if watch.reached_at is not None:
        return {"reached": True, "wall_s": watch.reached_at[0], "env_steps": watch.reached_at[1],
                "steps_per_s": steps / elapsed}
    return {"reached": False, "wall_s": elapsed, "env_steps": steps, "steps_per_s": steps / elapsed}


def main() -> int:
    args = parse_args()
    scenario = _core.load_scenario(args.scenario)
    gs_jct, target, best = gs_target(scenario, args.tolerance)
    print(f"scenario={scenario.name} budget={scenario.budget_usd} GS={best[0]}x{best[1]}MB "
          f"gs_jct_s={gs_jct:.2f} target_jct_s={target:.2f} window={args.window} episodes")
    with tempfile.TemporaryDirectory() as tmp:
        ours = run_ours(args, target, Path(tmp) / "run")
    sb3 = run_sb3(args, target)
    for name, r in (("siren", ours), ("sb3", sb3)):
        status = "reached" if r["reached"] else "not_reached"
        print(f"{name}: {status} wall_s={r['wall_s']:.1f} env_steps={r['env_steps']} "
              f"steps_per_s={r['steps_per_s']:.0f}")
    if ours["reached"] and sb3["reached"]:
        print(f"speedup_wall={sb3['wall_s'] / ours['wall_s']:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
