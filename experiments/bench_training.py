#!/usr/bin/env python3
"""Time-to-policy benchmark: Siren's libtorch PPO (siren-agent, with and
without its oracle static anchor), Stable-Baselines3 PPO and the CleanRL-style
PPO of train_cleanrl_ppo.py on the same env, measured in one run.

The target is the oracle static configuration: the best static (n, m) at the
budget, searched on tuning seeds 0..k-1 exactly as `siren evaluate` and the
trainer's anchor search it (grid search, then the oracle static search with
the grid's optimum included). It is then run on the evaluation seeds
(--eval-first-seed on, default 2,000,000: disjoint from the tuning seeds,
the learners' training seeds, the trainer's safeguard seeds 500,000 on and
`siren evaluate`'s held-out seeds 1,000,000 on); its mean JCT there is the
target and its success rate the success to match.

Every learner is judged the same way: at regular points of its training
(Siren: a policy snapshot every --snapshot-every iterations and before the
first; SB3 and CleanRL-style: every --eval-every env steps and before the
first) its DETERMINISTIC policy (the Gaussian mean) runs on the evaluation
seeds, and it has reached a level target x (1 + tolerance) at the first point
where its mean JCT is at most that level with a success rate at least the
oracle static's. A learner's time is its training wall time up to that
point; evaluation (and Siren's snapshot writing) is kept out of it, the same
way for all. Siren's time includes its anchor search (before training) and
its safeguard validation (after training, a fixed cost whatever the point):
they are part of its training; its snapshots are the learned policy, not the
safeguard's choice, so a point where only the static policy is good enough
does not count. Every learner gets the same training wall-time cap
(--cap-s); a level not reached within it is reported as such.

Runs learners one after the other on the shared machine: compare the
learners of one run, not across runs.

    .venv/bin/python experiments/bench_training.py --cap-s 300 --budgets 0.25,0.40
    .venv/bin/python experiments/bench_training.py --quick    # a smoke run, a few minutes
"""

from __future__ import annotations

import argparse
import contextlib
import re
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import h5py
import numpy as np

from siren import _core
from siren.policy import evaluate_policy, load_policy

# The levels reported: the oracle static JCT x (1 + tolerance); 0 is the
# check's (Siren's trainer at least 3x faster than SB3 PPO to reach it).
TOLERANCES = (0.05, 0.01, 0.0)
# First evaluation seed: above the safeguard's (500,000 on) and evaluate's
# held-out seeds (1,000,000 on), far from the tuning seeds 0..k-1.
EVAL_FIRST_SEED = 2_000_000
LEARNERS = ("siren", "siren-free", "sb3", "sb3-tuned", "cleanrl")
DEFAULT_LEARNERS = LEARNERS
DESCRIPTIONS = {
    "siren": "Siren PPO (C++, libtorch), oracle static anchor",
    "siren-free": "Siren PPO (C++, libtorch), --anchor none",
    "sb3": "SB3 PPO, default hyperparameters",
    "sb3-tuned": "SB3 PPO, Siren's settings",
    "cleanrl": "CleanRL-style PPO (plain torch)",
}
# SB3 PPO with the settings of Siren's trainer where SB3 has them (an
# iteration of one short episode per env is about 12 steps per env; `siren
# train`'s learning rate, discount, epochs, minibatch and initial log std).
SB3_TUNED = {"n_steps": 16, "batch_size": 64, "n_epochs": 4, "learning_rate": 1e-3, "gamma": 1.0,
             "gae_lambda": 0.95, "policy_kwargs": {"log_std_init": -1.5}}


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--scenario", default="default", help="preset name or YAML path")
    p.add_argument("--budgets", default="",
                   help="budgets in USD, comma-separated (default: the scenario's job.budget_usd)")
    p.add_argument("--learners", default=None,
                   help=f"comma-separated, of {', '.join(LEARNERS)} (default: all; --quick: siren,sb3,cleanrl)")
    p.add_argument("--cap-s", type=float, default=300.0,
                   help="training wall-time cap per learner and budget, in seconds (evaluation excluded)")
    p.add_argument("--envs", type=int, default=16, help="parallel envs for every learner")
    p.add_argument("--threads", type=int, default=2, help="env threads for every learner")
    p.add_argument("--siren-iterations", type=int, default=300,
                   help="siren-agent iterations (`siren train`'s default; its learning rate decays over them), "
                        "or fewer when the cap stops it")
    p.add_argument("--snapshot-every", type=int, default=5, help="siren-agent iterations between policy snapshots")
    p.add_argument("--eval-every", type=int, default=1024, help="SB3 / CleanRL-style env steps between evaluations")
    p.add_argument("--cleanrl-timesteps", type=int, default=200_000,
                   help="CleanRL-style PPO's learning-rate annealing horizon in env steps")
    p.add_argument("--eval-seeds", type=int, default=32, help="evaluation seeds, from --eval-first-seed")
    p.add_argument("--eval-first-seed", type=int, default=EVAL_FIRST_SEED)
    p.add_argument("--tuning-seeds", type=int, default=8, help="seeds 0..k-1 of the oracle static search")
    p.add_argument("--tolerances", default=",".join(map(str, TOLERANCES)),
                   help="levels: oracle static JCT x (1 + tolerance), comma-separated")
    p.add_argument("--seed", type=int, default=0, help="training seed of every learner")
    p.add_argument("--quick", action="store_true",
                   help="a smoke run: siren, sb3 and cleanrl, 8 envs, 2 tuning and 4 evaluation seeds, a 30 s "
                        "cap, Siren 4 iterations")
    args = p.parse_args(argv)
    args.tolerances = sorted((float(x) for x in args.tolerances.split(",")), reverse=True)
    if args.learners is None:
        args.learners = "siren,sb3,cleanrl" if args.quick else ",".join(DEFAULT_LEARNERS)
    args.learners = [x for x in args.learners.split(",") if x]
    unknown = sorted(set(args.learners) - set(LEARNERS))
    if unknown:
        p.error(f"--learners: unknown {unknown[0]!r}, expected some of {', '.join(LEARNERS)}")
    if args.quick:
        args.envs, args.tuning_seeds, args.eval_seeds, args.cap_s = 8, 2, 4, 30.0
        args.siren_iterations, args.snapshot_every, args.eval_every = 4, 2, 256
    for name in ("cap_s", "envs", "threads", "siren_iterations", "snapshot_every", "eval_every", "eval_seeds",
                 "tuning_seeds"):
        if not getattr(args, name) > 0:
            p.error(f"--{name.replace('_', '-')}: got {getattr(args, name)}, expected > 0")
    return args


@dataclass
class Target:
    """The oracle static configuration and its outcome on the evaluation seeds."""

    functions: int
    memory_mb: int
    tuning_jct_s: float
    jct_s: float
    success_rate: float


def oracle_target(scenario: _core.Scenario, args: argparse.Namespace, eval_seeds: list[int]) -> Target:
    """Searched as `siren evaluate` and the trainer's anchor search it."""
    seeds = list(range(args.tuning_seeds))
    budget = scenario.budget_usd
    [gs] = _core.grid_search(scenario, [budget], seeds, num_threads=args.threads)
    include = [(gs["best"]["functions"], gs["best"]["memory_mb"])]
    [oracle] = _core.oracle_static(scenario, [budget], seeds, include=include, num_threads=args.threads)
    best = oracle["best"]
    on_eval = _core.evaluate_schedule(scenario, [(best["functions"], best["memory_mb"])], eval_seeds,
                                      num_threads=args.threads)
    return Target(best["functions"], best["memory_mb"], best["mean_jct_s"], on_eval["mean_jct_s"],
                  on_eval["success_rate"])


@dataclass
class Progress:
    """The evaluated points of one learner and the first point (training
    wall s, env steps) that meets each level."""

    levels: list[tuple[float, float]]  # (tolerance, JCT level).
    min_success: float
    reached: dict[float, tuple[float, int]] = field(default_factory=dict)
    best_jct_s: float = float("inf")  # Lowest mean JCT at full success.
    points: int = 0

    def add(self, summary: dict, train_s: float, steps: int) -> None:
        self.points += 1
        if summary["success_rate"] < self.min_success:
            return
        self.best_jct_s = min(self.best_jct_s, summary["mean_jct_s"])
        for tol, level in self.levels:
            if tol not in self.reached and summary["mean_jct_s"] <= level:
                self.reached[tol] = (train_s, steps)

    @property
    def done(self) -> bool:
        return all(tol in self.reached for tol, _ in self.levels)


class Clock:
    """Training wall time: time since start() minus the paused intervals."""

    def __init__(self) -> None:
        self._start = time.perf_counter()
        self._paused = 0.0

    def elapsed(self) -> float:
        return time.perf_counter() - self._start - self._paused

    @contextlib.contextmanager
    def paused(self) -> Iterator[None]:
        begin = time.perf_counter()
        try:
            yield
        finally:
            self._paused += time.perf_counter() - begin


def run_siren(args: argparse.Namespace, scenario: _core.Scenario, anchor: str, progress: Progress,
              eval_seeds: list[int], out: Path) -> dict:
    """Trains with `siren train --snapshot-every`, then evaluates each
    snapshot within the cap at its time: anchor search + the log's wall_s
    (iterations only) at the snapshot + safeguard validation."""
    command = [sys.executable, "-m", "siren", "train", "--scenario", args.scenario, "--iterations",
               str(args.siren_iterations), "--envs", str(args.envs), "--threads", str(args.threads), "--seed",
               str(args.seed), "--anchor", anchor, "--tuning-seeds", str(args.tuning_seeds), "--snapshot-every",
               str(args.snapshot_every), "--max-train-s", repr(args.cap_s), "--quiet", "--force", "--out", str(out),
               f"job.budget_usd={scenario.budget_usd!r}"]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"siren train failed ({' '.join(command)}): {done.stderr.strip()}")
    timing = re.search(r"^anchor_search_s=([0-9.]+) safeguard_s=([0-9.]+)$", done.stdout, re.MULTILINE)
    if timing is None:
        raise RuntimeError(f"siren train printed no anchor_search_s/safeguard_s line: {done.stdout!r}")
    anchor_s, safeguard_s = float(timing[1]), float(timing[2])
    safeguard_line = next((line for line in done.stdout.splitlines() if line.startswith("safeguard")), "")
    with h5py.File(out / "log.h5") as log:
        wall, steps = log["wall_s"][:], log["env_steps"][:]
    extra = anchor_s + safeguard_s
    snapshots = sorted(int(path.stem.split("_")[1]) for path in (out / "snapshots").glob("policy_*.pt"))
    for k in snapshots:
        train_s = extra + (float(wall[k - 1]) if k > 0 else 0.0)
        if train_s > args.cap_s:
            break
        policy, _ = load_policy(out / "snapshots" / f"policy_{k}.pt")
        progress.add(evaluate_policy(policy, scenario, eval_seeds), train_s, int(steps[k - 1]) if k > 0 else 0)
    iterations_s = float(wall[-1])
    return {"train_s": extra + iterations_s, "env_steps": int(steps[-1]), "steps_per_s": steps[-1] / iterations_s,
            "extra": f"{len(wall)} iterations" + (f", anchor search {anchor_s:.1f} s + safeguard "
                                                  f"{safeguard_s:.1f} s" if anchor == "oracle" else ""),
            "note": safeguard_line}


def run_sb3(args: argparse.Namespace, scenario: _core.Scenario, tuned: bool, progress: Progress,
            eval_seeds: list[int]) -> dict:
    import torch
    from stable_baselines3 import PPO
    from stable_baselines3.common.callbacks import BaseCallback

    from siren.sb3 import SirenSB3VecEnv

    torch.set_num_threads(1)  # As every learner here: the env threads use the cores.
    env = SirenSB3VecEnv(args.envs, scenario=scenario, num_threads=args.threads)
    env.seed(args.seed)
    settings = SB3_TUNED if tuned else {}
    model = PPO("MlpPolicy", env, seed=args.seed, device="cpu", verbose=0, **settings)
    clock = Clock()

    def policy(x):
        return torch.as_tensor(model.predict(x.numpy(), deterministic=True)[0])

    class Watch(BaseCallback):
        """Evaluates every --eval-every steps with the clock paused; stops at
        the cap or when every level is reached."""

        next_eval = 0

        def _evaluate(self) -> None:
            with clock.paused():
                progress.add(evaluate_policy(policy, scenario, eval_seeds), clock.elapsed(), self.num_timesteps)
            self.next_eval = self.num_timesteps + args.eval_every

        def _on_training_start(self) -> None:
            self._evaluate()

        def _on_step(self) -> bool:
            if self.num_timesteps >= self.next_eval:
                self._evaluate()
            return not progress.done and clock.elapsed() < args.cap_s

    model.learn(total_timesteps=10**9, callback=Watch())
    train_s = clock.elapsed()
    env.close()
    return {"train_s": train_s, "env_steps": model.num_timesteps, "steps_per_s": model.num_timesteps / train_s,
            "extra": "", "note": ""}


def run_cleanrl(args: argparse.Namespace, scenario: _core.Scenario, progress: Progress,
                eval_seeds: list[int]) -> dict:
    import torch

    sys.path.insert(0, str(Path(__file__).resolve().parent))
    import train_cleanrl_ppo as cleanrl

    torch.set_num_threads(1)
    torch.manual_seed(args.seed)
    np.random.seed(args.seed)
    clock = Clock()
    next_eval = 0

    def watch(agent, steps: int) -> bool:
        nonlocal next_eval
        if steps >= next_eval:
            with clock.paused():
                def policy(x):
                    return agent.actor_mean(x).clamp(-1.0, 1.0)

                with torch.no_grad():
                    progress.add(evaluate_policy(policy, scenario, eval_seeds), clock.elapsed(), steps)
            next_eval = steps + args.eval_every
        return progress.done or clock.elapsed() >= args.cap_s

    cl_args = argparse.Namespace(
        total_timesteps=args.cleanrl_timesteps, num_envs=args.envs, seed=args.seed, scenario=scenario,
        num_steps=128, learning_rate=3e-4, gamma=0.99, gae_lambda=0.95, num_minibatches=4, update_epochs=10,
        clip_coef=0.2, ent_coef=0.0, vf_coef=0.5, max_grad_norm=0.5)
    _, _, steps = cleanrl.train(cl_args, watch=watch, num_threads=args.threads)
    train_s = clock.elapsed()
    return {"train_s": train_s, "env_steps": steps, "steps_per_s": steps / train_s, "extra": "", "note": ""}


def run_learner(name: str, args: argparse.Namespace, scenario: _core.Scenario, progress: Progress,
                eval_seeds: list[int]) -> dict:
    if name in ("siren", "siren-free"):
        with tempfile.TemporaryDirectory() as tmp:
            return run_siren(args, scenario, "oracle" if name == "siren" else "none", progress, eval_seeds,
                             Path(tmp) / "run")
    if name in ("sb3", "sb3-tuned"):
        return run_sb3(args, scenario, name == "sb3-tuned", progress, eval_seeds)
    return run_cleanrl(args, scenario, progress, eval_seeds)


def reached_text(progress: Progress, tol: float) -> str:
    hit = progress.reached.get(tol)
    return f"{hit[0]:.1f} s ({hit[1]:,} steps)" if hit else "not reached"


def speedup_text(ours: Progress, theirs: Progress, tol: float, cap_s: float) -> str:
    """Their time / ours to the level; a bound when they did not reach it."""
    mine, other = ours.reached.get(tol), theirs.reached.get(tol)
    if mine is None:
        return "n/a (siren did not reach it)"
    if other is None:
        return f">= {cap_s / mine[0]:.1f} (not reached within the {cap_s:.0f} s cap)"
    return f"{other[0] / mine[0]:.1f}"


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    base = _core.load_scenario(args.scenario)
    budgets = [float(b) for b in args.budgets.split(",") if b] or [base.budget_usd]
    eval_seeds = list(range(args.eval_first_seed, args.eval_first_seed + args.eval_seeds))
    print(f"scenario={base.name} learners={','.join(args.learners)} cap_s={args.cap_s:.0f} envs={args.envs} "
          f"threads={args.threads} tuning_seeds=0..{args.tuning_seeds - 1} "
          f"eval_seeds={eval_seeds[0]}..{eval_seeds[-1]} date={time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}")
    rows = []
    for budget in budgets:
        scenario = _core.load_scenario(args.scenario, [f"job.budget_usd={budget!r}"])
        target = oracle_target(scenario, args, eval_seeds)
        print(f"\nbudget={budget} oracle_static={target.functions}x{target.memory_mb}MB "
              f"tuning_jct_s={target.tuning_jct_s:.2f} oracle_jct_s={target.jct_s:.2f} "
              f"oracle_success={target.success_rate:.2f} (evaluation seeds)")
        results = {}
        for name in args.learners:
            progress = Progress([(tol, target.jct_s * (1 + tol)) for tol in args.tolerances], target.success_rate)
            r = run_learner(name, args, scenario, progress, eval_seeds)
            results[name] = (r, progress)
            best = progress.best_jct_s
            best_text = f"{best / target.jct_s - 1:+.2%}" if np.isfinite(best) else "n/a"
            print(f"{name}: trained wall_s={r['train_s']:.1f} env_steps={r['env_steps']} "
                  f"steps_per_s={r['steps_per_s']:.0f} evaluations={progress.points} "
                  f"best_eval_vs_oracle={best_text}" + (f" ({r['extra']})" if r["extra"] else ""))
            if r["note"]:
                print(f"  {r['note']}")
            for tol, level in progress.levels:
                print(f"  level oracle+{tol:.0%} ({level:.2f} s): {reached_text(progress, tol)}")
            rows.append((budget, name, r, progress, best_text))
        if "sb3" in results:
            for ours in ("siren", "siren-free"):
                if ours in results:
                    for tol, _ in results[ours][1].levels:
                        print(f"speedup {ours} vs sb3 at oracle+{tol:.0%}: "
                              f"{speedup_text(results[ours][1], results['sb3'][1], tol, args.cap_s)}")
    header = " / ".join(f"+{tol:.0%}" for tol in args.tolerances)
    print(f"\n| budget | learner | time to oracle {header} | trained (s) | env steps | env steps/s | "
          "best evaluation vs oracle |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    for budget, name, r, progress, best_text in rows:
        times = " / ".join(f"{progress.reached[tol][0]:.1f}" if tol in progress.reached else "-"
                           for tol in args.tolerances)
        print(f"| ${budget:.2f} | {DESCRIPTIONS[name]} | {times} | {r['train_s']:.1f} | {r['env_steps']:,} | "
              f"{r['steps_per_s']:.0f} | {best_text} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
