"""Figures and markdown tables of the headroom map from its results JSON
(written by headroom.py; `python experiments/headroom.py --report`).

Gains are per held-out seed, (static JCT - dynamic JCT) / static JCT, over
the seeds where both schedules succeed (a seed where only one succeeds is
counted in the success columns, never as a gain).
"""

from __future__ import annotations

import statistics
from pathlib import Path


def paired_gains(static: dict, dynamic: dict) -> list[float]:
    """Relative gains on the seeds where both converged."""
    return [(s - d) / s for s, d, a, b in zip(static["jct_s"], dynamic["jct_s"], static["status"],
                                             dynamic["status"]) if a == "converged" and b == "converged"]


def describe(schedule: list, cell: dict) -> str:
    """A short text of a schedule: static, or its epochs' (n, m)."""
    if cell["dynamic_is_static"]:
        return "= static"
    return " ".join(f"{n}x{m}" for n, m in schedule[:8]) + (" ..." if len(schedule) > 8 else "")


def cell_rows(data: dict) -> list[dict]:
    rows = []
    for key, c in data["cells"].items():
        h = c["heldout"]
        g = paired_gains(h["static"], h["dynamic"])
        tg = paired_gains(c["oracle"]["tune"], c["tune_dynamic"])
        rows.append({
            "key": key, "workload": c["workload"], "era": c["era"], "budget": c["budget_usd"],
            "factor": c["budget_factor"], "static": f"{c['oracle']['functions']}x{c['oracle']['memory_mb']}",
            "s_jct": h["static"]["mean_jct_s"], "s_succ": h["static"]["successes"],
            "d_jct": h["dynamic"]["mean_jct_s"], "d_succ": h["dynamic"]["successes"],
            "n_seeds": len(h["static"]["jct_s"]), "gains": g, "tune_gains": tg,
            "mean_gain": statistics.mean(g) if g else float("nan"),
            "sd_gain": statistics.stdev(g) if len(g) > 1 else 0.0,
            "tune_gain": statistics.mean(tg) if tg else float("nan"),
            "schedule": describe(c["cem"]["schedule"], c), "family": c["family"]["best"],
            "seconds": c["seconds"]["total"], "cell": c,
        })
    return rows


def table(rows: list[dict]) -> str:
    out = ["| workload | era | budget (x ref) | oracle static n x MB | static JCT s (succ) | dynamic JCT s (succ) "
           "| gain held-out mean ± sd [min, max] | gain tuning | best dynamic schedule (n x MB per epoch) |",
           "| --- | --- | --- | --- | --- | --- | --- | --- | --- |"]
    for r in rows:
        g = r["gains"]
        span = f"[{100 * min(g):+.1f}, {100 * max(g):+.1f}]" if g else ""
        out.append(f"| {r['workload']} | {r['era']} | ${r['budget']:.5f} (x{r['factor']:g}) | {r['static']} "
                   f"| {r['s_jct']:.1f} ({r['s_succ']}/{r['n_seeds']}) | {r['d_jct']:.1f} ({r['d_succ']}/{r['n_seeds']}) "
                   f"| {100 * r['mean_gain']:+.1f} % ± {100 * r['sd_gain']:.1f} {span} | {100 * r['tune_gain']:+.1f} % "
                   f"| {r['schedule']} |")
    return "\n".join(out)


def probe_table(data: dict) -> str:
    out = ["| workload | era | ref n x MB | stage | loss before | drop per s at n = ... (mean over seeds) | best n |",
           "| --- | --- | --- | --- | --- | --- | --- |"]
    for key, p in data["probes"].items():
        lv = p["loss_vs_n"]
        for stage in ("early", "late"):
            rows = lv[stage]
            rates = {int(n): statistics.mean(d / t for d, t in zip(r["drop"], r["time_s"])) for n, r in rows.items()}
            before = statistics.mean(next(iter(rows.values()))["loss_before"])
            best = max(rates, key=rates.get)
            text = ", ".join(f"{n}: {v:.4f}" for n, v in sorted(rates.items()))
            label = "epoch 1" if stage == "early" else f"epoch {lv['late_epochs'] + 1}"
            w, era = key.split("|")
            out.append(f"| {w} | {era} | {lv['ref'][0]}x{lv['ref'][1]} | {label} | {before:.3f} | {text} | {best} |")
    return "\n".join(out)


def change_table(data: dict) -> str:
    out = ["| workload | era | after 2 epochs at | next epoch | time s | cost $ |", "| --- | --- | --- | --- | --- | --- |"]
    for key, p in data["probes"].items():
        w, era = key.split("|")
        cc = p["change_cost"]
        ref = cc["stay"]["action"]
        for name, r in cc.items():
            out.append(f"| {w} | {era} | {ref[0]}x{ref[1]} | {name} ({r['action'][0]}x{r['action'][1]}) "
                       f"| {statistics.mean(r['time_s']):.2f} | {statistics.mean(r['cost_usd']):.6f} |")
    return "\n".join(out)


def figures(rows: list[dict], data: dict, out: Path) -> list[Path]:
    import matplotlib  # noqa: PLC0415

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt  # noqa: PLC0415

    out.mkdir(parents=True, exist_ok=True)
    written = []
    # 1. Gains with their per-seed spread.
    fig, ax = plt.subplots(figsize=(max(6, 0.5 * len(rows)), 4))
    xs = range(len(rows))
    means = [100 * r["mean_gain"] if r["gains"] else 0 for r in rows]
    lo = [m - 100 * min(r["gains"]) if r["gains"] else 0 for m, r in zip(means, rows)]
    hi = [100 * max(r["gains"]) - m if r["gains"] else 0 for m, r in zip(means, rows)]
    colors = {w: f"C{i}" for i, w in enumerate(dict.fromkeys(r["workload"] for r in rows))}
    ax.bar(xs, means, yerr=[lo, hi], color=[colors[r["workload"]] for r in rows], capsize=3)
    ax.axhline(5, color="k", ls="--", lw=0.8)
    ax.axhline(0, color="k", lw=0.5)
    ax.set_xticks(list(xs), [f"{r['era']} x{r['factor']:g}" for r in rows], rotation=70, fontsize=7)
    for w, c in colors.items():
        ax.bar([], [], color=c, label=w)
    ax.legend(fontsize=7)
    ax.set_ylabel("JCT gain of best dynamic over oracle static (%)\nheld-out seeds, bars = min..max")
    fig.tight_layout()
    written.append(out / "gains.png")
    fig.savefig(written[-1], dpi=110)
    plt.close(fig)
    # 2. Schedule shapes, one panel per cell.
    for w in colors:
        cells = [r for r in rows if r["workload"] == w]
        fig, axes = plt.subplots(1, len(cells), figsize=(2.6 * len(cells), 2.8), squeeze=False)
        for ax, r in zip(axes[0], cells):
            c = r["cell"]
            sched = c["cem"]["schedule"]
            epochs = max(max(c["heldout"]["dynamic"]["epochs"]), len(sched))
            ns = [sched[min(e, len(sched) - 1)][0] for e in range(epochs)]
            ms = [sched[min(e, len(sched) - 1)][1] for e in range(epochs)]
            ax.step(range(epochs), ns, where="post", label="dynamic n")
            ax.axhline(c["oracle"]["functions"], color="k", ls="--", lw=0.8, label="static n")
            ax.set_yscale("log", base=2)
            ax2 = ax.twinx()
            ax2.step(range(epochs), ms, where="post", color="C3", alpha=0.5)
            ax2.axhline(c["oracle"]["memory_mb"], color="C3", ls=":", lw=0.8)
            ax2.tick_params(labelsize=6, colors="C3")
            ax.set_title(f"{r['era']} x{r['factor']:g}: {100 * r['mean_gain']:+.1f}%", fontsize=8)
            ax.set_xlabel("epoch", fontsize=7)
            ax.tick_params(labelsize=6)
        axes[0][0].set_ylabel("functions (n, log2); red: MB", fontsize=7)
        fig.suptitle(f"{w}: best dynamic schedule (solid) vs oracle static (dashed)", fontsize=9)
        fig.tight_layout()
        written.append(out / f"schedules_{w}.png")
        fig.savefig(written[-1], dpi=110)
        plt.close(fig)
    # 3. Probe: loss drop per second vs n, early vs late.
    probes = data["probes"]
    if probes:
        fig, axes = plt.subplots(1, len(probes), figsize=(3 * len(probes), 3), squeeze=False)
        for ax, (key, p) in zip(axes[0], probes.items()):
            lv = p["loss_vs_n"]
            for stage, style in (("early", "o-"), ("late", "s--")):
                ns = sorted(int(n) for n in lv[stage])
                rates = [statistics.mean(d / t for d, t in zip(lv[stage][str(n)]["drop"], lv[stage][str(n)]["time_s"]))
                         for n in ns]
                peak = max(abs(x) for x in rates) or 1
                ax.plot(ns, [x / peak for x in rates], style, label=f"{stage}")
            ax.set_xscale("log", base=2)
            ax.axhline(0, color="k", lw=0.5)
            ax.set_title(key, fontsize=8)
            ax.set_xlabel("n for one epoch", fontsize=7)
            ax.tick_params(labelsize=6)
            ax.legend(fontsize=6)
        axes[0][0].set_ylabel("loss drop per second\n(relative to stage's peak)", fontsize=7)
        fig.tight_layout()
        written.append(out / "probe_loss_vs_n.png")
        fig.savefig(written[-1], dpi=110)
        plt.close(fig)
    return written


def report(data: dict, out: Path) -> None:
    rows = cell_rows(data)
    for path in figures(rows, data, out):
        print(f"wrote {path}")
    print(table(rows))
    print()
    print(probe_table(data))
    print()
    print(change_table(data))
    total = sum(r["seconds"] for r in rows) + sum(p.get("seconds", 0) for p in data["probes"].values())
    print(f"\ncells {len(rows)}, search + probes {total:.0f} s")
