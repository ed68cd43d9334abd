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
    order = ["logreg-ct", "softmax-digits", "mlp-digits", "lenet-digits", "lenet-mnist"]
    rows.sort(key=lambda r: (order.index(r["workload"]) if r["workload"] in order else len(order), r["era"],
                             r["factor"]))
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
    """Per workload, era and stage: the loss drop of one epoch at each n from
    the same state, per epoch, per simulated second and per milli-dollar."""
    out = ["| workload | era | ref n x MB | stage (loss before) | metric | at n = ... (mean over seeds) | best n |",
           "| --- | --- | --- | --- | --- | --- | --- |"]
    for key, p in sorted(data["probes"].items()):
        lv = p["loss_vs_n"]
        w, era = key.split("|")
        for stage in ("early", "late"):
            rows = lv[stage]
            before = statistics.mean(next(iter(rows.values()))["loss_before"])
            label = "epoch 1" if stage == "early" else f"epoch {lv['late_epochs'] + 1}"
            metrics = {"drop": lambda r: statistics.mean(r["drop"]),
                       "drop/s": lambda r: statistics.mean(d / t for d, t in zip(r["drop"], r["time_s"]))}
            metrics["epoch s"] = lambda r: statistics.mean(r["time_s"])
            if all("cost_usd" in r for r in rows.values()):
                metrics["drop/m$"] = lambda r: statistics.mean(d / (1e3 * c) for d, c in zip(r["drop"], r["cost_usd"]))
                metrics["epoch m$"] = lambda r: 1e3 * statistics.mean(r["cost_usd"])
            for name, f in metrics.items():
                vals = {int(n): f(r) for n, r in rows.items()}
                best = max(vals, key=vals.get) if name.startswith("drop") else ""
                text = ", ".join(f"{n}: {v:.3g}" for n, v in sorted(vals.items()))
                out.append(f"| {w} | {era} | {lv['ref'][0]}x{lv['ref'][1]} | {label} ({before:.3f}) | {name} | {text} "
                           f"| {best} |")
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
    ax.set_xticks(list(xs), [f"{r['workload']} {r['era']} x{r['factor']:g}" for r in rows], rotation=80, fontsize=6)
    ax.plot(list(xs), [100 * r["tune_gain"] for r in rows], "k.", label="tuning seeds (mean)")
    from matplotlib.patches import Patch  # noqa: PLC0415

    handles = [Patch(color=c, label=f"{w} (held-out)") for w, c in colors.items()]
    ax.legend(handles=handles + ax.get_legend_handles_labels()[0], fontsize=7)
    ax.set_ylabel("JCT gain of best dynamic over oracle static (%)\nheld-out seeds where both succeed, bars = min..max",
                  fontsize=8)
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


def frontier_figure(data: dict, out: Path) -> Path | None:
    """Static configurations' mean JCT against mean cost (no budget), with
    each cell's oracle static and best dynamic schedule (tuning seeds)."""
    import matplotlib  # noqa: PLC0415

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt  # noqa: PLC0415

    fr = data.get("frontier", {})
    if not fr:
        return None
    from matplotlib.ticker import FormatStrFormatter, LogLocator, NullFormatter  # noqa: PLC0415

    cols = min(4, len(fr))
    rows = (len(fr) + cols - 1) // cols
    fig, axes = plt.subplots(rows, cols, figsize=(3.4 * cols, 3.0 * rows), squeeze=False)
    for ax in axes.flat[len(fr):]:
        ax.set_visible(False)
    for ax, (key, f) in zip(axes.flat, sorted(fr.items())):
        pts = [p for p in f["points"] if p["successes"] == f["seeds"]]
        ax.scatter([p["mean_cost_usd"] for p in pts], [p["mean_jct_s"] for p in pts], s=4, c="0.6")
        front, best = [], float("inf")
        for p in sorted(pts, key=lambda p: p["mean_cost_usd"]):
            if p["mean_jct_s"] < best:
                best = p["mean_jct_s"]
                front.append(p)
        ax.step([p["mean_cost_usd"] for p in front], [p["mean_jct_s"] for p in front], where="post", c="k", lw=0.8)
        for ck, c in data["cells"].items():
            if not ck.startswith(key + "|"):
                continue
            s, d = c["oracle"]["tune"], c["tune_dynamic"]
            ax.axvline(c["budget_usd"], color="0.8", lw=0.6, ls=":")
            ax.plot(s["mean_cost_usd"], s["mean_jct_s"], "o", mfc="none", c="C0")
            ax.plot(d["mean_cost_usd"], d["mean_jct_s"], "x", c="C3")
            ax.plot([s["mean_cost_usd"], d["mean_cost_usd"]], [s["mean_jct_s"], d["mean_jct_s"]], c="C3", lw=0.5)
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.xaxis.set_minor_formatter(NullFormatter())
        ax.yaxis.set_minor_locator(LogLocator(subs=(2.0, 3.0, 5.0)))
        ax.yaxis.set_minor_formatter(FormatStrFormatter("%g"))
        ax.set_title(key, fontsize=8)
        ax.set_xlabel("mean cost $", fontsize=7)
        ax.tick_params(labelsize=6)
    axes[0][0].set_ylabel("mean JCT s (static: grey, frontier: black;\noracle static o, dynamic x)", fontsize=7)
    fig.tight_layout()
    path = out / "frontier.png"
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def below_frontier_table(data: dict) -> str:
    """For each cell: the fastest static point (all tuning seeds succeed, no
    budget) whose mean cost is at most the dynamic schedule's, against the
    dynamic schedule on the same seeds."""
    out = ["| cell | dynamic JCT s / cost $ (tuning) | fastest static at <= that cost: n x MB, JCT s | dynamic below the static frontier by |",
           "| --- | --- | --- | --- |"]
    for ck, c in data["cells"].items():
        key = "|".join(ck.split("|")[:2])
        f = data.get("frontier", {}).get(key)
        if not f or c["dynamic_is_static"]:
            continue
        d = c["tune_dynamic"]
        if d["successes"] != len(d["jct_s"]):
            continue
        pts = [p for p in f["points"] if p["successes"] == f["seeds"] and p["mean_cost_usd"] <= d["mean_cost_usd"]]
        if not pts:
            out.append(f"| {ck} | {d['mean_jct_s']:.1f} / {d['mean_cost_usd']:.5f} | none | |")
            continue
        p = min(pts, key=lambda p: p["mean_jct_s"])
        out.append(f"| {ck} | {d['mean_jct_s']:.1f} / {d['mean_cost_usd']:.5f} | {p['functions']}x{p['memory_mb']}, "
                   f"{p['mean_jct_s']:.1f} | {100 * (p['mean_jct_s'] - d['mean_jct_s']) / p['mean_jct_s']:+.1f} % |")
    return "\n".join(out)


def lr_table(data: dict) -> str:
    """Mean held-out loss after epochs 2, 4, 6, 8 of a static job at each n,
    constant learning rate against cosine decay to 0.1x over 8 epochs."""
    out = ["| workload | n | constant lr: loss after epoch 2 / 4 / 6 / 8 | cosine decay: loss after epoch 2 / 4 / 6 / 8 |",
           "| --- | --- | --- | --- |"]
    for key, p in sorted(data.get("lr_decay", {}).items()):
        for n in p["ns"]:
            c, d = p["loss"][f"constant|{n}"], p["loss"][f"cosine|{n}"]
            pick = lambda xs: " / ".join(f"{xs[e]:.3f}" for e in (1, 3, 5, 7))  # noqa: E731
            out.append(f"| {key.split('|')[0]} | {n} | {pick(c)} | {pick(d)} |")
    return "\n".join(out)


def report(data: dict, out: Path) -> None:
    rows = cell_rows(data)
    for path in figures(rows, data, out) + [frontier_figure(data, out)]:
        if path:
            print(f"wrote {path}")
    print(table(rows))
    print()
    print(probe_table(data))
    print()
    print(change_table(data))
    print()
    print(below_frontier_table(data))
    print()
    print(lr_table(data))
    total = sum(r["seconds"] for r in rows) + sum(p.get("seconds", 0) for p in data["probes"].values())
    print(f"\ncells {len(rows)}, search + probes {total:.0f} s")
