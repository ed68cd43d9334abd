"""Merges results.json files of experiments/learner_check.py (runs split by
preset or training seed) into one JSON and prints its tables as Markdown:
one line per (preset, budget) with the training seeds side by side, then
one line per run.

    .venv/bin/python experiments/learner_check_report.py build/lc-*/results.json \\
        --out experiments/results/learner_check.json

A (preset, budget, training seed) found in several files is refused: which
one to keep is the user's choice, not this script's. Every file must share
the held-out seeds and the iterations, else the table would mix checks.
"""

from __future__ import annotations

import argparse
import json
import re
from pathlib import Path

from learner_check import PRESETS

CHECK_KEYS = ("held_out", "iterations", "train_args")
# The trainer's safeguard line (agent/trainer/anchor.cc DescribeSafeguard).
SAFEGUARD = re.compile(r"learned (\d+/\d+) successes, \d+ over budget, mean JCT ([0-9.]+) s, .*; "
                       r"oracle static (\d+/\d+), \d+ over budget, ([0-9.]+) s")


def validation(safeguard: str) -> str:
    """The safeguard's comparison on the validation seeds, shortened:
    "learned 32/32 30.16 s, static 30/32 28.31 s" ("-" when not saved)."""
    match = SAFEGUARD.search(safeguard or "")
    if not match:
        return "-"
    learned, learned_jct, fixed, fixed_jct = match.groups()
    return f"learned {learned} {learned_jct} s, static {fixed} {fixed_jct} s"


def merge(documents: list[dict]) -> dict:
    """One document with every row, ordered by preset (PRESETS' order, then
    others by name), budget and training seed. Raises ValueError naming the
    key when the files disagree on CHECK_KEYS or hold the same run twice."""
    first = documents[0]
    for document in documents[1:]:
        for key in CHECK_KEYS:
            if document.get(key) != first.get(key):
                raise ValueError(f"results disagree on {key}: {document.get(key)!r} vs {first.get(key)!r}")
    rows, seen = [], set()
    for document in documents:
        for row in document["rows"]:
            key = (row["preset"], row["budget_usd"], row["train_seed"])
            if key in seen:
                raise ValueError(f"run {key} is in more than one file")
            seen.add(key)
            rows.append(row)

    def order(row: dict) -> tuple:
        preset = row["preset"]
        return (PRESETS.index(preset) if preset in PRESETS else len(PRESETS), preset, row["budget_usd"],
                row["train_seed"])

    return {**{key: first.get(key) for key in CHECK_KEYS}, "tuning_seeds": first.get("tuning_seeds", 8),
            "commands": [document.get("command") for document in documents],
            "dates": [document.get("date") for document in documents], "rows": sorted(rows, key=order)}


def cell_table(rows: list[dict]) -> list[str]:
    """Markdown: one line per (preset, budget), training seeds side by side."""
    lines = ["| preset | budget | training seeds | oracle static (held-out JCT, success) | "
             "policy vs oracle static, per seed | policy success | over budget | exported (per seed) | pass |",
             "|---|---|---|---|---|---|---|---|---|"]
    cells: dict[tuple, list[dict]] = {}
    for row in rows:
        cells.setdefault((row["preset"], row["budget_usd"]), []).append(row)
    for (preset, budget), runs in cells.items():
        n, m = runs[0]["oracle"]
        seeds = ", ".join(str(r["train_seed"]) for r in runs)
        ratios = ", ".join(f"{100 * r['vs_oracle']:+.2f} %" for r in runs)
        successes = ", ".join(f"{r['policy_success']:.2f}" for r in runs)
        exported = ", ".join("static" if r["exported"] == "oracle static" else r["exported"] for r in runs)
        lines.append(f"| {preset} | ${budget:g} | {seeds} | {n} x {m} MB ({runs[0]['oracle_jct_s']:.2f} s, "
                     f"{runs[0]['oracle_success']:.2f}) | {ratios} | {successes} | "
                     f"{sum(r['policy_over_budget'] for r in runs)} | {exported} | "
                     f"{sum(r['pass'] for r in runs)}/{len(runs)} |")
    return lines


def run_table(rows: list[dict]) -> list[str]:
    """Markdown: one line per run."""
    lines = ["| preset | budget | seed | policy JCT s | oracle static JCT s | ratio | vs oracle on common successes "
             "| success (policy / static) | over budget | exported | validation seeds | pass | train s |",
             "|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        common = "-" if r.get("vs_oracle_common") is None else (
            f"{100 * r['vs_oracle_common']:+.2f} % ({r['common_seeds']} seeds)")
        wall = "-" if r.get("train_wall_s") is None else f"{r['train_wall_s']:.0f}"
        lines.append(f"| {r['preset']} | ${r['budget_usd']:g} | {r['train_seed']} | {r['policy_jct_s']:.2f} | "
                     f"{r['oracle_jct_s']:.2f} | {r['policy_jct_s'] / r['oracle_jct_s']:.4f} | {common} | "
                     f"{r['policy_success']:.2f} / {r['oracle_success']:.2f} | {r['policy_over_budget']} | "
                     f"{r['exported']} | {validation(r.get('safeguard'))} | {'yes' if r['pass'] else 'NO'} | {wall} |")
    return lines


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("results", nargs="+", help="results.json files of learner_check.py")
    parser.add_argument("--out", default=None, help="write the merged JSON here")
    args = parser.parse_args()
    merged = merge([json.loads(Path(path).read_text()) for path in args.results])
    if args.out:
        Path(args.out).write_text(json.dumps(merged, indent=1) + "\n")
    rows = merged["rows"]
    passed = sum(r["pass"] for r in rows)
    print("\n".join(cell_table(rows)) + "\n\n" + "\n".join(run_table(rows)))
    print(f"\n{passed}/{len(rows)} pass")
    return 0 if passed == len(rows) else 1


if __name__ == "__main__":
    raise SystemExit(main())
