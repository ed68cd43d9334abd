#!/usr/bin/env python3
"""PPO (Ray RLlib, new API stack, torch) on Siren's Gymnasium env.

RLlib builds the env from its Gymnasium registration: the id is
"siren:Siren-v0" (or "siren:Siren-<preset>-v0"), Gymnasium's "module:id" form,
so that every env runner process imports `siren` (which registers the ids)
before it makes the env; nothing else is shipped to the workers, so every node
needs the same `siren` installed. Prints one line per iteration (mean episode
return over RLlib's smoothing window, episodes, env steps, wall time) and
writes an RLlib checkpoint to --out:

    .venv/bin/python experiments/train_rllib_ppo.py --iterations 20
    .venv/bin/python experiments/train_rllib_ppo.py --address auto --num-env-runners 4   # on a cluster
    .venv/bin/python experiments/train_rllib_ppo.py --scenario lenet-mnist job.budget_usd=0.5

--address is as `siren sweep --ray-address`: HOST:PORT of a head, "auto",
or "local" (default: $RAY_ADDRESS, else a private local instance).
"""

from __future__ import annotations

import argparse
import math
import time
from pathlib import Path

import siren
from siren.ray_backend import connect


def env_id(scenario: str) -> str:
    """The Gymnasium id of a preset ("default" -> Siren-v0), in the
    "module:id" form that imports siren first."""
    if scenario == "default":
        return "siren:Siren-v0"
    if scenario not in siren.preset_names():
        raise SystemExit(f"--scenario: got {scenario!r}, expected 'default' or one of "
                         f"{', '.join(siren.preset_names())}")
    return f"siren:Siren-{scenario}-v0"


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--iterations", type=int, default=20, help="training iterations (default: %(default)s)")
    p.add_argument("--scenario", default="default", help="preset name or 'default' (default: %(default)s)")
    p.add_argument("--address", default=None,
                   help="Ray address: HOST:PORT, 'auto' or 'local' (default: $RAY_ADDRESS, else 'local')")
    p.add_argument("--seed", type=int, default=0, help="RLlib's seed (default: %(default)s)")
    p.add_argument("--out", default="runs/rllib_ppo", help="checkpoint directory (default: %(default)s)")
    p.add_argument("--num-env-runners", type=int, default=1,
                   help="remote env runners, one CPU each; 0 samples in this process (default: %(default)s)")
    p.add_argument("--train-batch-size", type=int, default=1024,
                   help="env steps per iteration (default: %(default)s)")
    p.add_argument("overrides", nargs="*", metavar="key=value", help="scenario overrides")
    return p.parse_args()


def main() -> int:
    args = parse_args()
    env = env_id(args.scenario)
    ray = connect(args.address)
    from ray.rllib.algorithms.ppo import PPOConfig  # Needs ray; imported after the connection.

    config = (
        PPOConfig()
        .environment(env, env_config={"overrides": list(args.overrides)})
        .framework("torch")
        .env_runners(num_env_runners=args.num_env_runners, num_envs_per_env_runner=1)
        .training(train_batch_size_per_learner=args.train_batch_size,
                  minibatch_size=min(128, args.train_batch_size), num_epochs=4, lr=3e-4)
        .debugging(seed=args.seed)
    )
    algo = config.build_algo()
    start = time.perf_counter()
    episode_return = math.nan
    try:
        for iteration in range(1, args.iterations + 1):
            result = algo.train()
            runners = result.get("env_runners", {})
            episode_return = float(runners.get("episode_return_mean", math.nan))
            print(f"iteration={iteration} episode_return_mean={episode_return:.4f} "
                  f"episodes={int(runners.get('num_episodes', 0))} "
                  f"env_steps={int(runners.get('num_env_steps_sampled_lifetime', 0))} "
                  f"time_s={time.perf_counter() - start:.1f}", flush=True)
        checkpoint = algo.save_to_path(str(Path(args.out).resolve()))
    finally:
        algo.stop()
        ray.shutdown()
    print(f"env={env} final_episode_return_mean={episode_return:.4f} checkpoint={checkpoint}")
    return 0 if math.isfinite(episode_return) else 1


if __name__ == "__main__":
    raise SystemExit(main())
