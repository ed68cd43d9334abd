#!/usr/bin/env python3
"""Reproduces the seed talk's simulation figures (slides 37-44) from one HDF5
file of results, in three phases:

``run``
    for each budget and training seed: ``siren train`` (the libtorch PPO
    trainer, through the real CLI in a subprocess), ``siren evaluate`` of the
    exported policy beside GS and the hand schedule on held-out seeds
    (``--cem`` once per budget, with the first training seed), and a rollout
    of the policy on the first held-out seed recording the (functions,
    memory) it chooses per epoch; then the EC2 baseline for m4.large /
    m4.xlarge / m4.2xlarge x 2, 4, 8 instances. Everything goes into ONE
    HDF5 file (``--out``).
``plot``
    reads only that file and writes four PNGs (``--figures``, default
    ``build/figures``): (a) total
    reward per training iteration per budget, (b) job completion time
    against budget (policy, GS, CEM, hand), (c) functions and memory per
    epoch chosen by the policy, (d) time against cost of Siren beside EC2.
``report``
    reads only that file and writes the tables and findings (``--report``,
    default ``build/REPORT.md``).

By default nothing tracked is touched: to refresh the committed figures and
report, pass ``--figures experiments/figures --report experiments/REPORT.md``.

``all`` does the three::

    .venv/bin/python experiments/reproduce_figures.py all --out build/figures_results.h5

About 5-15 minutes on 2 cores with the defaults (3 budgets x 3 seeds x 300
iterations). HDF5 layout (all under the root; every dataset has `units` and
`description` attributes, the training columns those of the run's log.h5)::

    attrs: scenario, budgets, train_seeds, iterations, eval_seeds, first_eval_seed,
           tuning_seeds, cem, version, run_wall_s, created
    budget_<i>/            attrs: budget_usd, gs_functions, gs_memory_mb
      seed_<s>/            attrs: seed, train_wall_s, eval_wall_s
        training/          the columns of the run's log.h5 (iteration, mean_return, ...)
        evaluation/        method, mean_jct_s, mean_cost_usd, success_rate,
                           improvement_vs_gs_pct (NaN where none), comparison_vs_gs, config
        rollout/           epoch, functions, memory_mb, epoch_duration_s,
                           epoch_cost_usd, loss, cumulative_time_s, cumulative_cost_usd
                           attrs: seed (held-out), status, jct_s, cost_usd
    ec2/                   instance_type, instances, time_s, cost_usd, converged, epochs
"""

from __future__ import annotations

import argparse
import datetime
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import h5py
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
# Generated outputs go to build/ unless asked for: experiments/figures and
# experiments/REPORT.md are tracked files.
DEFAULT_FIGURES = ROOT / "build" / "figures"
DEFAULT_REPORT = ROOT / "build" / "REPORT.md"
EC2_TYPES = ["m4.large", "m4.xlarge", "m4.2xlarge"]
EC2_COUNTS = [2, 4, 8]
FIGURES = {
    "a": "fig_a_training_reward.png",
    "b": "fig_b_jct_vs_budget.png",
    "c": "fig_c_policy_schedule.png",
    "d": "fig_d_time_vs_cost_ec2.png",
}
# Method names of `siren evaluate` rows, with the labels used in plots.
METHODS = {"policy": "Siren policy (PPO)", "GS": "GS (best static)", "oracle static": "oracle static",
           "CEM bound": "CEM bound", "hand": "hand schedule"}
STRING = h5py.string_dtype()
# (units, description) of every dataset the results file holds but the
# training columns (which keep those of log.h5).
COLUMNS = {
    "evaluation": {
        "method": ("", "Method of the row, as `siren evaluate` names it (policy, GS, oracle static, hand, "
                       "CEM bound)."),
        "config": ("", "The method's configuration, as `siren evaluate` prints it."),
        "mean_jct_s": ("s", "Mean job completion time over the held-out seeds."),
        "mean_cost_usd": ("usd", "Mean cost over the held-out seeds."),
        "success_rate": ("1", "Share of held-out seeds that reached the target loss within the budget."),
        "improvement_vs_gs_pct": ("%", "Mean JCT improvement over GS, in percent; NaN where the success rates "
                                       "differ (JCT is compared only at equal success)."),
        "comparison_vs_gs": ("", "What was compared with GS, or why nothing was (`siren evaluate`'s "
                                 "comparison_vs_gs, e.g. 'n/a: lower success (0.000 vs 1.000)')."),
    },
    "rollout": {
        "epoch": ("index", "0-based epoch of the rolled-out job."),
        "functions": ("count", "Functions the policy chose for the epoch."),
        "memory_mb": ("MB", "Memory per function the policy chose for the epoch."),
        "epoch_duration_s": ("s", "Simulated wall time of the epoch."),
        "epoch_cost_usd": ("usd", "Cost of the epoch."),
        "loss": ("1", "Observed loss after the epoch."),
        "cumulative_time_s": ("s", "Simulated time of the job after the epoch."),
        "cumulative_cost_usd": ("usd", "Cost of the job after the epoch."),
    },
    "ec2": {
        "instance_type": ("", "EC2 instance type of the cluster."),
        "instances": ("count", "Instances in the cluster."),
        "time_s": ("s", "Simulated job completion time on the cluster."),
        "cost_usd": ("usd", "Cost of the job on the cluster."),
        "converged": ("", "True when the job reached the target loss within job.max_epochs."),
        "epochs": ("count", "Epochs the job ran."),
    },
}


def _describe(group: h5py.Group, table: str) -> None:
    """Sets `units` and `description` on every dataset of `group` from COLUMNS[table]."""
    for key, dataset in group.items():
        units, description = COLUMNS[table][key]
        dataset.attrs.update({"units": units, "description": description})


def _floats(text: str) -> list[float]:
    try:
        values = [float(t) for t in text.split(",") if t.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected comma-separated numbers, got {text!r}") from None
    if not values or any(not (0 < v < float("inf")) for v in values):
        raise argparse.ArgumentTypeError(f"expected positive numbers, got {text!r}")
    return values


def _ints(text: str) -> list[int]:
    try:
        values = [int(t) for t in text.split(",") if t.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected comma-separated integers, got {text!r}") from None
    if not values or any(v < 0 for v in values) or len(set(values)) != len(values):
        raise argparse.ArgumentTypeError(f"expected distinct integers >= 0, got {text!r}")
    return values


def _usd(value: float, digits: int = 2) -> str:
    """A dollar amount for a matplotlib label ('$' escaped: not mathtext)."""
    return f"\\${value:.{digits}f}"


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


# --- run ----------------------------------------------------------------------


def _siren(args: list[str], log: Path) -> None:
    """Runs `python -m siren ARGS`, output to `log`; raises with its tail on failure."""
    command = [sys.executable, "-m", "siren", *args]
    with open(log, "w") as out:
        code = subprocess.call(command, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    if code != 0:
        tail = "\n".join(log.read_text().splitlines()[-20:])
        raise RuntimeError(f"{' '.join(command)} exited with {code}:\n{tail}")


def _rollout(policy_path: Path, budget: float, seed: int) -> dict[str, Any]:
    """The deterministic policy on one job: its per-epoch choices."""
    import torch

    from siren import _core
    from siren.policy import load_policy

    policy, metadata = load_policy(policy_path)
    scenario = _core.parse_scenario(metadata["scenario_yaml"], [f"job.budget_usd={budget!r}"], "policy")
    names = _core.info_names()
    columns = {"functions": "functions", "memory_mb": "memory_mb", "epoch_duration_s": "epoch_duration_s",
               "epoch_cost_usd": "epoch_cost_usd", "loss": "loss", "cumulative_time_s": "cumulative_time_s",
               "cumulative_cost_usd": "cumulative_cost_usd"}
    rows: list[np.ndarray] = []
    env = _core.Env(scenario, "box")
    observation = env.reset(seed)
    with torch.no_grad():
        while True:
            action = policy(torch.from_numpy(observation[None]))[0].numpy().astype(np.float64)
            observation, _, terminated, truncated, info = env.step(action)
            rows.append(info)
            if terminated or truncated:
                break
    table = np.array(rows)
    out: dict[str, Any] = {key: table[:, names.index(col)] for key, col in columns.items()}
    out["epoch"] = np.arange(len(rows))
    status = int(table[-1, names.index("status")])
    out["status"] = {0: "running", 1: "converged", 2: "budget_exhausted", 3: "epoch_limit"}.get(status, str(status))
    return out


def _write_evaluation(group: h5py.Group, rows: list[dict[str, Any]]) -> None:
    rows = [r for r in rows if r["budget_usd"] is not None]  # EC2 rows are written once, below
    group.create_dataset("method", data=[r["method"] for r in rows], dtype=STRING)
    group.create_dataset("config", data=[r["config"] for r in rows], dtype=STRING)
    for key in ("mean_jct_s", "mean_cost_usd", "success_rate"):
        group.create_dataset(key, data=np.array([r[key] for r in rows], dtype=np.float64))
    gains = [np.nan if r["improvement_vs_gs_pct"] is None else r["improvement_vs_gs_pct"] for r in rows]
    group.create_dataset("improvement_vs_gs_pct", data=np.array(gains, dtype=np.float64))
    group.create_dataset("comparison_vs_gs", data=[r["comparison_vs_gs"] for r in rows], dtype=STRING)
    _describe(group, "evaluation")


def cmd_run(args: argparse.Namespace) -> None:
    import json

    from siren import _core
    from siren.policy import HELD_OUT_FIRST_SEED

    start = time.monotonic()
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    work = Path(args.work) if args.work else out.with_name(out.stem + "_runs")
    work.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.name + ".partial")
    with h5py.File(tmp, "w") as h5:
        h5.attrs.update({"scenario": args.scenario, "budgets": np.array(args.budgets),
                         "train_seeds": np.array(args.seeds), "iterations": args.iterations,
                         "eval_seeds": args.eval_seeds, "first_eval_seed": HELD_OUT_FIRST_SEED,
                         "tuning_seeds": args.tuning_seeds, "cem": not args.no_cem,
                         "version": _core.__version__, "command": " ".join(sys.argv),
                         "created": datetime.datetime.now().isoformat(timespec="seconds")})
        for b_index, budget in enumerate(args.budgets):
            bgroup = h5.create_group(f"budget_{b_index}")
            bgroup.attrs["budget_usd"] = budget
            for s_index, seed in enumerate(args.seeds):
                run_dir = work / f"b{budget:g}_s{seed}"
                if run_dir.exists():
                    shutil.rmtree(run_dir)
                run_dir.mkdir(parents=True)
                label = f"budget ${budget:g} seed {seed}"
                t0 = time.monotonic()
                _siren(["train", "--scenario", args.scenario, "--iterations", str(args.iterations),
                        "--seed", str(seed), "--out", str(run_dir), "--quiet",
                        f"job.budget_usd={budget!r}"], run_dir / "train.txt")
                train_wall = time.monotonic() - t0
                t0 = time.monotonic()
                evaluate = ["evaluate", "--policy", str(run_dir / "policy.pt"), "--budgets", repr(budget),
                            "--seeds", str(args.eval_seeds), "--tuning-seeds", str(args.tuning_seeds),
                            "--json", str(run_dir / "evaluation.json")]
                if not args.no_cem and s_index == 0:
                    evaluate.append("--cem")  # the bound does not depend on the policy: once per budget
                _siren(evaluate, run_dir / "evaluate.txt")
                eval_wall = time.monotonic() - t0
                rows = json.loads((run_dir / "evaluation.json").read_text())["rows"]
                print(f"[run] {label}: train {train_wall:.1f} s, evaluate {eval_wall:.1f} s; "
                      + ", ".join(f"{r['method']} {r['mean_jct_s']:.2f} s" for r in rows
                                  if r["budget_usd"] is not None), flush=True)

                sgroup = bgroup.create_group(f"seed_{s_index}")
                sgroup.attrs.update({"seed": seed, "train_wall_s": train_wall, "eval_wall_s": eval_wall,
                                     "run_dir": str(run_dir)})
                training = sgroup.create_group("training")
                with h5py.File(run_dir / "log.h5", "r") as log:
                    for key in log:
                        dataset = training.create_dataset(key, data=log[key][()])
                        dataset.attrs.update({k: _text(v) for k, v in log[key].attrs.items()})
                    for key, value in log.attrs.items():
                        training.attrs[key] = _text(value) if isinstance(value, bytes) else value
                _write_evaluation(sgroup.create_group("evaluation"), rows)
                gs = next(r for r in rows if r["method"] == "GS")
                match = re.match(r"(\d+) x (\d+) MB", gs["config"])
                if match:
                    bgroup.attrs["gs_functions"] = int(match.group(1))
                    bgroup.attrs["gs_memory_mb"] = int(match.group(2))

                roll = _rollout(run_dir / "policy.pt", budget, HELD_OUT_FIRST_SEED)
                rgroup = sgroup.create_group("rollout")
                for key, value in roll.items():
                    if key != "status":
                        rgroup.create_dataset(key, data=value)
                _describe(rgroup, "rollout")
                rgroup.attrs.update({"seed": HELD_OUT_FIRST_SEED, "status": roll["status"],
                                     "jct_s": float(roll["cumulative_time_s"][-1]),
                                     "cost_usd": float(roll["cumulative_cost_usd"][-1])})

        scenario = _core.load_scenario(args.scenario)
        ec2 = _core.ec2_baseline(scenario, EC2_TYPES, EC2_COUNTS)
        egroup = h5.create_group("ec2")
        egroup.create_dataset("instance_type", data=[r["instance_type"] for r in ec2], dtype=STRING)
        for key, dtype in (("instances", np.int64), ("time_s", np.float64), ("cost_usd", np.float64),
                           ("converged", np.bool_), ("epochs", np.int64)):
            egroup.create_dataset(key, data=np.array([r[key] for r in ec2], dtype=dtype))
        _describe(egroup, "ec2")
        h5.attrs["run_wall_s"] = time.monotonic() - start
    os.replace(tmp, out)
    print(f"[run] wrote {out} in {time.monotonic() - start:.0f} s", flush=True)


# --- reading the results --------------------------------------------------------


def load_results(path: str | Path) -> dict[str, Any]:
    """The results HDF5 as nested dicts and arrays (the only input of plot and report)."""
    results: dict[str, Any] = {"budgets": []}
    with h5py.File(path, "r") as h5:
        results["attrs"] = {k: (_text(v) if isinstance(v, (bytes, str)) else v) for k, v in h5.attrs.items()}
        budget_groups = sorted((g for g in h5 if g.startswith("budget_")), key=lambda g: int(g.split("_")[1]))
        for name in budget_groups:
            bgroup = h5[name]
            entry: dict[str, Any] = {"budget": float(bgroup.attrs["budget_usd"]), "seeds": [],
                                     "gs": (int(bgroup.attrs.get("gs_functions", 0)),
                                            int(bgroup.attrs.get("gs_memory_mb", 0)))}
            seed_groups = sorted((g for g in bgroup if g.startswith("seed_")), key=lambda g: int(g.split("_")[1]))
            for sname in seed_groups:
                sgroup = bgroup[sname]
                ev = sgroup["evaluation"]
                evaluation = {}
                for i, method in enumerate(ev["method"].asstr()[()]):
                    evaluation[method] = {key: float(ev[key][i]) for key in
                                          ("mean_jct_s", "mean_cost_usd", "success_rate", "improvement_vs_gs_pct")}
                    evaluation[method]["config"] = ev["config"].asstr()[i]
                    evaluation[method]["comparison_vs_gs"] = (ev["comparison_vs_gs"].asstr()[i]
                                                              if "comparison_vs_gs" in ev else "")
                entry["seeds"].append({
                    "seed": int(sgroup.attrs["seed"]),
                    "train_wall_s": float(sgroup.attrs["train_wall_s"]),
                    "eval_wall_s": float(sgroup.attrs["eval_wall_s"]),
                    "training": {k: sgroup["training"][k][()] for k in sgroup["training"]},
                    "evaluation": evaluation,
                    "rollout": {k: sgroup["rollout"][k][()] for k in sgroup["rollout"]},
                    "rollout_attrs": {k: (_text(v) if isinstance(v, (bytes, str)) else v)
                                      for k, v in sgroup["rollout"].attrs.items()},
                })
            results["budgets"].append(entry)
        eg = h5["ec2"]
        results["ec2"] = {k: (eg[k].asstr()[()] if k == "instance_type" else eg[k][()]) for k in eg}
    return results


def _method_values(entry: dict[str, Any], method: str, key: str) -> np.ndarray:
    """`key` of `method` from each seed's evaluation that has it."""
    return np.array([s["evaluation"][method][key] for s in entry["seeds"] if method in s["evaluation"]])


# --- plot ---------------------------------------------------------------------------


def cmd_plot(args: argparse.Namespace) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import MaxNLocator

    results = load_results(args.out)
    figures = Path(args.figures)
    figures.mkdir(parents=True, exist_ok=True)
    budgets = results["budgets"]
    colors = [plt.get_cmap("Dark2")(i % 8) for i in range(len(budgets))]
    scenario = results["attrs"].get("scenario", "default")
    n_seeds = len(budgets[0]["seeds"]) if budgets else 0
    plt.rcParams.update({"font.size": 10, "axes.grid": True, "grid.alpha": 0.3})

    # (a) total reward per training iteration, mean +- std over training seeds.
    fig, axes = plt.subplots(1, 2, figsize=(12, 4.6))
    for color, entry in zip(colors, budgets):
        iterations = entry["seeds"][0]["training"]["iteration"]
        for ax, key in zip(axes, ("mean_return", "mean_jct_s")):
            values = np.array([s["training"][key] for s in entry["seeds"]])
            mean, std = values.mean(axis=0), values.std(axis=0)
            ax.plot(iterations, mean, color=color, lw=1.4, label=f"budget {_usd(entry['budget'])}")
            if len(values) > 1:
                ax.fill_between(iterations, mean - std, mean + std, color=color, alpha=0.2, lw=0)
        gs_jct = _method_values(entry, "GS", "mean_jct_s")
        if len(gs_jct):
            axes[1].axhline(gs_jct[0], color=color, ls=":", lw=1.2)
    axes[0].set_title("Total reward per episode during training\n(the return the policy maximises)")
    axes[0].set_ylabel("total reward (mean over the iteration's episodes)")
    axes[1].set_title("Job completion time during training, stochastic policy\n"
                      "(dotted: GS on the held-out seeds)")
    axes[1].set_ylabel("mean job completion time (s, log scale)")
    _plain_log(axes[1])
    for ax in axes:
        ax.set_xlabel("training iteration (16 episodes each)")
        ax.legend(loc="best")
    fig.suptitle(f"(a) PPO training, {scenario} preset: mean ± std over {n_seeds} training seed(s)")
    fig.tight_layout()
    fig.savefig(figures / FIGURES["a"], dpi=110, bbox_inches="tight")
    plt.close(fig)

    # (b) job completion time against budget.
    fig, axes = plt.subplots(1, 2, figsize=(12, 4.6))
    x = np.array([e["budget"] for e in budgets])
    styles = {"GS": ("tab:orange", "s", "--"), "CEM bound": ("tab:green", "^", ":"),
              "hand": ("tab:gray", "D", "-.")}
    for method, (color, marker, ls) in styles.items():
        points = [(e["budget"], _method_values(e, method, "mean_jct_s")) for e in budgets]
        points = [(b, v.mean()) for b, v in points if len(v)]
        if points:
            bx, by = zip(*points)
            axes[0].plot(bx, by, color=color, marker=marker, ls=ls, label=METHODS[method])
        gains = [(e["budget"], _method_values(e, method, "improvement_vs_gs_pct")) for e in budgets]
        gains = [(b, v.mean()) for b, v in gains if len(v)]
        if method == "CEM bound" and gains:
            gx, gy = zip(*gains)
            axes[1].plot(gx, gy, color=color, marker=marker, ls=ls, label=METHODS[method])
    for ax, key in zip(axes, ("mean_jct_s", "improvement_vs_gs_pct")):
        per_seed = [_method_values(e, "policy", key) for e in budgets]
        mean = np.array([v.mean() for v in per_seed])
        err = np.array([[v.mean() - v.min(), v.max() - v.mean()] for v in per_seed]).T
        ax.errorbar(x, mean, yerr=err, color="tab:blue", marker="o", capsize=4, lw=1.8,
                    label=f"{METHODS['policy']}, mean and range of {n_seeds} seed(s)")
        for b, v in zip(x, per_seed):
            ax.scatter(np.full(len(v), b), v, color="tab:blue", s=12, alpha=0.5, zorder=3)
        ax.set_xlabel("budget ($)")
        ax.margins(x=0.12)
        ax.set_xticks(x)
        ax.set_xticklabels([f"{e['budget']:.2f}\nGS: {e['gs'][0]} x {e['gs'][1]} MB" if e["gs"][0]
                            else f"{e['budget']:.2f}" for e in budgets])
    axes[0].set_title("Job completion time against budget")
    axes[0].set_ylabel(f"mean job completion time (s), {results['attrs'].get('eval_seeds')} held-out seeds")
    axes[1].axhline(0, color="tab:orange", ls="--", lw=1.2, label="GS (0 by definition)")
    axes[1].set_title("Improvement over GS (positive = faster than GS)")
    axes[1].set_ylabel("JCT improvement over GS (%)")
    axes[0].legend(loc="center right")
    axes[1].legend(loc="lower right")
    fig.suptitle(f"(b) Siren policy against the baselines, {scenario} preset")
    fig.tight_layout()
    fig.savefig(figures / FIGURES["b"], dpi=110, bbox_inches="tight")
    plt.close(fig)

    # (c) functions and memory per epoch chosen by the policy, one column per budget.
    fig, axes = plt.subplots(2, len(budgets), figsize=(4.4 * len(budgets) + 0.6, 6.6), squeeze=False,
                             sharex="col")
    seed_colors = plt.get_cmap("tab10")
    for column, entry in enumerate(budgets):
        top, bottom = axes[0, column], axes[1, column]
        for k, s in enumerate(entry["seeds"]):
            roll = s["rollout"]
            label = (f"seed {s['seed']}: {roll['cumulative_time_s'][-1]:.0f} s, "
                     f"{_usd(roll['cumulative_cost_usd'][-1], 3)}")
            top.step(roll["epoch"], roll["functions"], where="mid", color=seed_colors(k), marker="o", ms=3,
                     label=label)
            bottom.step(roll["epoch"], roll["memory_mb"], where="mid", color=seed_colors(k), marker="o", ms=3)
        gs_n, gs_m = entry["gs"]
        if gs_n:
            top.axhline(gs_n, color="black", ls=":", lw=1.2, label=f"GS: {gs_n} functions")
            bottom.axhline(gs_m, color="black", ls=":", lw=1.2, label=f"GS: {gs_m} MB")
        top.set_title(f"budget {_usd(entry['budget'])}")
        _plain_log(top)
        top.legend(fontsize=8, loc="best", title="policy of training seed", title_fontsize=8)
        bottom.legend(fontsize=8, loc="best")
        bottom.set_xlabel("epoch of the ML job")
        bottom.set_ylim(0, 3200)
        bottom.xaxis.set_major_locator(MaxNLocator(integer=True))
        if column == 0:
            top.set_ylabel("number of functions (log scale)")
            bottom.set_ylabel("function memory (MB)")
    first = budgets[0]["seeds"][0]["rollout_attrs"].get("seed", "")
    fig.suptitle(f"(c) Functions and memory per epoch chosen by the policy (held-out job seed {first})")
    fig.tight_layout()
    fig.savefig(figures / FIGURES["c"], dpi=110, bbox_inches="tight")
    plt.close(fig)

    # (d) time against cost: Siren per budget beside EC2 instance types x counts.
    ec2 = results["ec2"]
    fig, axes = plt.subplots(1, 2, figsize=(12, 4.8))
    type_styles = {t: (c, m) for t, c, m in zip(EC2_TYPES, ("tab:red", "tab:purple", "tab:brown"),
                                                 ("v", "s", "P"))}
    for itype in dict.fromkeys(ec2["instance_type"]):
        mask = ec2["instance_type"] == itype
        color, marker = type_styles.get(itype, ("tab:gray", "x"))
        axes[0].plot(ec2["cost_usd"][mask], ec2["time_s"][mask], color=color, marker=marker, ls="-", lw=0.8,
                     ms=8, label=f"EC2 {itype}")
        for n, cst, t in zip(ec2["instances"][mask], ec2["cost_usd"][mask], ec2["time_s"][mask]):
            axes[0].annotate(f"x{n}", (cst, t), textcoords="offset points", xytext=(5, 4), fontsize=8,
                             color=color)
        axes[1].plot(ec2["instances"][mask], ec2["time_s"][mask], color=color, marker=marker, ms=8,
                     label=f"EC2 {itype}")
    for color, entry in zip(colors, budgets):
        jct = _method_values(entry, "policy", "mean_jct_s")
        cost = _method_values(entry, "policy", "mean_cost_usd")
        axes[0].scatter(cost, jct, color=color, marker="*", s=90, edgecolor="black", lw=0.4, zorder=4,
                        label=f"Siren policy, budget {_usd(entry['budget'])}")
        axes[1].axhline(jct.mean(), color=color, ls="--", lw=1.4,
                        label=f"Siren, budget {_usd(entry['budget'])} (cost {_usd(cost.mean(), 3)})")
    axes[0].set_xlabel("cost of the job ($)")
    axes[0].set_ylabel("job completion time (s)")
    axes[0].set_title("Time against cost (Siren: one star per training seed)")
    axes[0].set_xlim(left=0)
    axes[0].set_ylim(bottom=0)
    axes[1].set_xlabel("number of EC2 instances")
    axes[1].set_ylabel("job completion time (s)")
    axes[1].set_xticks(sorted(set(int(n) for n in ec2["instances"])))
    axes[1].set_title("EC2 cluster size against Siren (dashed)")
    axes[1].set_ylim(bottom=0)
    axes[0].legend(fontsize=8, loc="best")
    axes[1].legend(fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.14), ncol=2)
    fig.suptitle(f"(d) Siren on Lambda against EC2 clusters, {scenario} preset "
                 "(EC2: no budget applies, converges by epochs)")
    fig.tight_layout()
    fig.savefig(figures / FIGURES["d"], dpi=110, bbox_inches="tight")
    plt.close(fig)
    for name in FIGURES.values():
        print(f"[plot] wrote {figures / name}")


# --- report ---------------------------------------------------------------------------


def _plain_log(ax: Any) -> None:
    """A log y axis with plain numbers (70, 100, 200) as tick labels."""
    from matplotlib.ticker import FuncFormatter, LogLocator

    ax.set_yscale("log")
    ax.yaxis.set_major_locator(LogLocator(subs=(1.0, 2.0, 5.0)))
    ax.yaxis.set_minor_formatter(FuncFormatter(lambda v, _: ""))
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))


def _gain_text(row: dict[str, Any]) -> str:
    """A row's improvement over GS, or why there is none."""
    gain = row["improvement_vs_gs_pct"]
    return row["comparison_vs_gs"] or "n/a" if np.isnan(gain) else f"{gain:+.2f} %"


def _pct(a: float, b: float) -> float:
    """How much faster a is than b, in % of b."""
    return 100.0 * (b - a) / b


def cmd_report(args: argparse.Namespace) -> None:
    results = load_results(args.out)
    attrs = results["attrs"]
    report = Path(args.report)
    report.parent.mkdir(parents=True, exist_ok=True)
    figures = Path(args.figures)
    rel = os.path.relpath(figures, report.parent)
    seeds = [int(s) for s in np.atleast_1d(attrs["train_seeds"])]
    n = len(seeds)
    first = int(attrs["first_eval_seed"])
    lines = [
        "# Reproducing the paper's simulation figures",
        "",
        "Generated by `experiments/reproduce_figures.py report` from the results file "
        f"`{Path(args.out).name}` (siren {attrs.get('version')}, created {attrs.get('created')}).",
        "",
        f"Setup: the `{attrs['scenario']}` preset; for each budget, PPO (`siren train`, "
        f"{attrs['iterations']} iterations of 16 episodes) trained with seeds {', '.join(map(str, seeds))}; "
        f"every policy evaluated by `siren evaluate` on {attrs['eval_seeds']} held-out seeds "
        f"({first}..{first + int(attrs['eval_seeds']) - 1}) beside GS (best static configuration, tuned "
        f"on seeds 0..{int(attrs['tuning_seeds']) - 1}), the oracle static configuration (the best static "
        "configuration of the full grid, searched on the same seeds), the talk's hand schedule"
        + (", and the CEM per-epoch schedule search (the bound, tuned on the same seeds)" if attrs.get("cem") else "")
        + ". Positive improvement means faster than GS; a JCT is compared with GS's only at equal success "
        "rate (otherwise the table says why not). Run phase: "
        f"{float(attrs['run_wall_s']):.0f} s wall on this machine ({os.cpu_count()} cores).",
        "",
        "## Per budget",
        "",
        "| budget | method | mean JCT (s) | mean cost ($) | success | vs GS | configuration |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    findings: list[str] = []
    summary = ["| budget | policy vs GS, mean (%) | spread over seeds (std; min .. max) | "
               "CEM vs GS (%) | policy gap to CEM (%) | policy success |",
               "| --- | --- | --- | --- | --- | --- |"]
    for entry in results["budgets"]:
        b = entry["budget"]
        jct = _method_values(entry, "policy", "mean_jct_s")
        cost = _method_values(entry, "policy", "mean_cost_usd")
        success = _method_values(entry, "policy", "success_rate")
        # A policy's JCT counts against GS's only where its success rate equals GS's.
        gain = _method_values(entry, "policy", "improvement_vs_gs_pct")
        compared = gain[~np.isnan(gain)]
        ev0 = entry["seeds"][0]["evaluation"]
        mean_gain = f"{compared.mean():+.2f} %" if len(compared) else "n/a"
        if len(compared) < len(gain):
            mean_gain += f" ({len(compared)} of {len(gain)} seeds at GS's success rate)"
        spread = f"± {compared.std():.2f}" if len(compared) > 1 else ""
        lines.append(f"| {b:.2f} | Siren policy, mean of {n} seed(s) | {jct.mean():.2f} "
                     f"{'± %.2f' % jct.std() if n > 1 else ''} | {cost.mean():.4f} | {success.mean():.3f} | "
                     f"{mean_gain} {spread} | per seed: "
                     + ", ".join(f"{j:.1f} s" for j in jct) + " |")
        for method in ("GS", "oracle static", "hand", "CEM bound"):
            if method not in ev0:
                continue
            r = ev0[method]
            lines.append(f"| {b:.2f} | {method} | {r['mean_jct_s']:.2f} | {r['mean_cost_usd']:.4f} | "
                         f"{r['success_rate']:.3f} | {_gain_text(r)} | {r['config']} |")
        gs_jct = ev0["GS"]["mean_jct_s"]
        cem_text, gap_text = "n/a", "n/a"
        if len(compared):
            versus = (f"{abs(compared.mean()):.1f} % {'faster' if compared.mean() > 0 else 'slower'} on average "
                      f"over the {len(compared)} training seed(s) at GS's success rate")
        else:
            versus = "not compared: no training seed's policy reaches GS's success rate"
        sentence = (f"- **${b:.2f}**: the policy's mean JCT is {jct.mean():.2f} s against GS's {gs_jct:.2f} s, "
                    f"{versus} (seeds: "
                    + ", ".join(f"{g:+.1f} %" if not np.isnan(g) else "n/a" for g in gain) + "); "
                    f"success rate {success.mean():.3f} (GS: {ev0['GS']['success_rate']:.3f}), "
                    f"mean cost ${cost.mean():.4f} of ${b:.2f}.")
        if "oracle static" in ev0:
            oracle = ev0["oracle static"]
            sentence += (f" The oracle static configuration ({oracle['config']}) takes {oracle['mean_jct_s']:.2f} s "
                         f"({_gain_text(oracle)} vs GS).")
        if "CEM bound" in ev0:
            cem = ev0["CEM bound"]["mean_jct_s"]
            cem_gain = _pct(cem, gs_jct)
            gap = 100.0 * (jct.mean() - cem) / cem
            cem_text, gap_text = f"{cem_gain:+.2f}", f"{gap:+.2f}"
            sentence += (f" The CEM bound is {cem:.2f} s ({cem_gain:+.1f} % vs GS"
                         + (": no dynamic gain over the static optimum" if abs(cem_gain) < 0.5 else "")
                         + f"); the policy is {gap:.1f} % above it.")
        if len(compared) and compared.max() > 0:
            sentence += f" At least one seed beats GS at equal success (best {compared.max():+.1f} %)."
        elif success.min() < ev0["GS"]["success_rate"]:
            sentence += " Some policy fails the target on some held-out seeds where GS does not."
        first_n = [int(np.max(sd["rollout"]["functions"][:2])) for sd in entry["seeds"]]
        last_n = [int(sd["rollout"]["functions"][-1]) for sd in entry["seeds"]]
        memory = np.concatenate([sd["rollout"]["memory_mb"] for sd in entry["seeds"]])
        sentence += (f" On held-out job {first}, the policies choose up to {', '.join(map(str, first_n))} "
                     f"functions in the first two epochs and {', '.join(map(str, last_n))} in the last "
                     f"(GS: {entry['gs'][0]} throughout), at "
                     + (f"{memory.min():.0f}" if memory.min() == memory.max()
                        else f"{memory.min():.0f}..{memory.max():.0f}") + " MB "
                     f"(GS: {entry['gs'][1]} MB).")
        findings.append(sentence)
        summary.append(f"| {b:.2f} | {mean_gain} | "
                       + (f"{compared.std():.2f}; {compared.min():+.2f} .. {compared.max():+.2f}"
                          if len(compared) > 1 else "one seed" if len(compared) else "n/a")
                       + f" | {cem_text} | {gap_text} | {success.mean():.3f} |")
    ec2 = results["ec2"]
    lines += ["", "## Policy against GS and the CEM bound", "", *summary, "", "## EC2 clusters", "",
              "The EC2 baseline (`sim::RunEc2Job`) runs until convergence; the Lambda budget does not apply.",
              "", "| instance type | instances | time (s) | cost ($) | converged | epochs |",
              "| --- | --- | --- | --- | --- | --- |"]
    for i in range(len(ec2["instances"])):
        lines.append(f"| {ec2['instance_type'][i]} | {ec2['instances'][i]} | {ec2['time_s'][i]:.2f} | "
                     f"{ec2['cost_usd'][i]:.4f} | {'yes' if ec2['converged'][i] else 'no'} | {ec2['epochs'][i]} |")
    fastest = int(np.argmin(ec2["time_s"]))
    cheapest = int(np.argmin(ec2["cost_usd"]))
    policy_best = min((_method_values(e, "policy", "mean_jct_s").mean(), e["budget"]) for e in results["budgets"])
    # Means over the seeds whose policy matches GS's success rate; budgets with none are left out.
    gains_per_budget = [_method_values(e, "policy", "improvement_vs_gs_pct") for e in results["budgets"]]
    mean_gains = [g[~np.isnan(g)].mean() for g in gains_per_budget if (~np.isnan(g)).any()] or [float("nan")]
    beaten = [e["budget"] for e, g in zip(results["budgets"], gains_per_budget)
              if (~np.isnan(g)).any() and g[~np.isnan(g)].mean() > 0]
    overall = (f"Overall: the learned policy beats GS on average at {', '.join(f'${b:.2f}' for b in beaten)}"
               if beaten else "Overall: the learned policy does not beat GS on average at any budget")
    overall += (f"; its JCT improvement over GS, averaged over the training seeds at GS's success rate, ranges over "
                f"{min(mean_gains):+.1f} % .. {max(mean_gains):+.1f} % across budgets. The talk reports the "
                "learned scheduler 10-36 % faster than grid search (slide 37): ")
    overall += ("not reproduced on this preset." if max(mean_gains) < 10 else
                "reached here at some budget." if min(mean_gains) < 10 else "reached here at every budget.")
    lines += ["", "## What the numbers show", "", overall, "", *findings,
              f"- **EC2**: the fastest cluster is {ec2['instance_type'][fastest]} x{ec2['instances'][fastest]} "
              f"({ec2['time_s'][fastest]:.1f} s, ${ec2['cost_usd'][fastest]:.4f}), the cheapest "
              f"{ec2['instance_type'][cheapest]} x{ec2['instances'][cheapest]} ({ec2['time_s'][cheapest]:.1f} s, "
              f"${ec2['cost_usd'][cheapest]:.4f}); the fastest Siren policy (budget ${policy_best[1]:.2f}) "
              f"takes {policy_best[0]:.1f} s.",
              ""]
    lines += ["## Caveats", "",
              "- GS and CEM are tuned on the tuning seeds with `siren evaluate`'s grid (at most 13 memory "
              "sizes), so their configuration can differ from `siren sweep --memory-stride 1` in the README; "
              "all methods are then measured on the same held-out seeds.",
              "- The spread of the policy is over training seeds only; each evaluation is one mean over the "
              "held-out seeds. The baselines are deterministic given their seeds, so they have no spread.",
              "- Training curves (a) are of the stochastic policy (sampled actions); the evaluation and the "
              "schedules (c) use its deterministic action.",
              "- One run on a 2-core machine; training is deterministic under its seed.", ""]
    if args.notes:
        lines += [Path(args.notes).read_text().rstrip(), ""]
    lines += ["## Figures", "",
              f"![(a) training reward]({rel}/{FIGURES['a']})", "",
              "(a) Total reward per episode (mean over the 16 episodes of an iteration) and mean JCT during "
              "training, per budget; line: mean over training seeds, band: ± one standard deviation.", "",
              f"![(b) JCT against budget]({rel}/{FIGURES['b']})", "",
              "(b) Mean JCT on the held-out seeds against the budget for the policy (mean and range over "
              "training seeds, dots: seeds), GS, the CEM bound and the hand schedule; right: improvement "
              "over GS.", "",
              f"![(c) the policy's schedule]({rel}/{FIGURES['c']})", "",
              f"(c) Functions (top, log scale) and memory (bottom) per epoch chosen by each seed's policy on "
              f"held-out job seed {first}; dotted: the GS configuration.", "",
              f"![(d) time against cost]({rel}/{FIGURES['d']})", "",
              "(d) Job time against cost of the Siren policies (one star per training seed and budget) and "
              "of EC2 m4.large / m4.xlarge / m4.2xlarge clusters of 2, 4 and 8 instances; right: EC2 time "
              "against cluster size with Siren's mean time per budget as dashed lines.", ""]
    report.write_text("\n".join(lines))
    print(f"[report] wrote {report}")


# --- command line ----------------------------------------------------------------------


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("phase", choices=["run", "plot", "report", "all"], help="what to do")
    p.add_argument("--out", default=str(ROOT / "build" / "figures_results.h5"),
                   help="the results HDF5 (default: %(default)s)")
    p.add_argument("--budgets", type=_floats, default=[0.15, 0.25, 0.40],
                   help="comma-separated budgets in USD (default: 0.15,0.25,0.40)")
    p.add_argument("--seeds", type=_ints, default=[0, 1, 2],
                   help="comma-separated training seeds (default: 0,1,2)")
    p.add_argument("--iterations", type=int, default=300, help="training iterations (default: %(default)s)")
    p.add_argument("--eval-seeds", type=int, default=16, help="held-out evaluation seeds (default: %(default)s)")
    p.add_argument("--tuning-seeds", type=int, default=8,
                   help="seeds on which GS and CEM are tuned (default: %(default)s)")
    p.add_argument("--no-cem", action="store_true", help="skip the CEM bound")
    p.add_argument("--scenario", default="default", help="preset name or YAML file (default: %(default)s)")
    p.add_argument("--work", default=None,
                   help="directory of the training runs (default: beside --out, <stem>_runs)")
    p.add_argument("--figures", default=str(DEFAULT_FIGURES), help="PNG directory (default: %(default)s)")
    p.add_argument("--report", default=str(DEFAULT_REPORT), help="report path (default: %(default)s)")
    p.add_argument("--notes", default=None, help="a Markdown file appended to the report's findings")
    args = p.parse_args(argv)
    if args.iterations < 1 or args.eval_seeds < 1 or args.tuning_seeds < 1:
        p.error("--iterations, --eval-seeds and --tuning-seeds must be positive")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    start = time.monotonic()
    if args.phase in ("run", "all"):
        cmd_run(args)
    if args.phase in ("plot", "all"):
        cmd_plot(args)
    if args.phase in ("report", "all"):
        cmd_report(args)
    print(f"[{args.phase}] done in {time.monotonic() - start:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
