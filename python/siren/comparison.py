"""Honest comparison of the rows of ``siren sweep`` and ``siren evaluate``.

A row is one method at one budget: its success rate, how many of its jobs
ended over the budget, its mean cost and its mean JCT over the same seeds as
every other row of that budget. JCT is the simulated time when a job
stopped, whatever the status, so a method that fails fast can look fast: a
JCT is compared with a baseline's only when both reached the target on the
same share of the seeds. The rules, for a row against the baseline row of
its budget (GS or oracle static):

* the same success rate, above 0: the improvement of mean JCT over the
  baseline's, in percent (positive: faster);
* a lower success rate: no percentage, ``n/a: lower success (0.000 vs 1.000)``;
* a higher success rate: no percentage either, ``n/a: higher success
  (...)``: a JCT that succeeds more often is not comparable;
* both never succeed: ``n/a: neither succeeds``;
* a row without a Lambda budget (EC2) or a budget without the baseline row:
  no percentage, and the reason.

    compare({"success_rate": 0.0, "mean_jct_s": 9.0}, {"success_rate": 1.0, "mean_jct_s": 90.0})
    # Comparison(improvement_pct=None, text='n/a: lower success (0.000 vs 1.000)')
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

__all__ = ["BASELINES", "Baseline", "Comparison", "add_comparisons", "compare", "table_lines"]


@dataclass(frozen=True)
class Baseline:
    """A baseline a percentage is against: its row's `method` name, the
    suffix of its JSON keys (``improvement_vs_<key>_pct``,
    ``comparison_vs_<key>``) and the column header of the table."""

    method: str
    key: str
    header: str


BASELINES = (Baseline("GS", "gs", "vs GS"), Baseline("oracle static", "oracle", "vs oracle static"))


@dataclass(frozen=True)
class Comparison:
    """`improvement_pct`: the mean JCT improvement over the baseline in
    percent, or None when the rows are not comparable; `text`: why, or what
    was compared (the JSON's ``comparison_vs_<key>``; the table shows it
    where there is no percentage)."""

    improvement_pct: float | None
    text: str


def compare(row: Mapping[str, Any], baseline: Mapping[str, Any] | None, name: str = "the baseline") -> Comparison:
    """`row` against `baseline` (both with success_rate and mean_jct_s, on
    the same seeds) under the rules of the module docstring; `name` is the
    baseline's name in the messages."""
    if row.get("budget_usd") is None:
        return Comparison(None, "n/a: not held to the Lambda budget")
    if baseline is None:
        return Comparison(None, f"n/a: no {name} row")
    mine, theirs = row["success_rate"], baseline["success_rate"]
    if mine < theirs:
        return Comparison(None, f"n/a: lower success ({mine:.3f} vs {theirs:.3f})")
    if mine > theirs:
        return Comparison(None, f"n/a: higher success ({mine:.3f} vs {theirs:.3f})")
    if mine == 0:
        return Comparison(None, "n/a: neither succeeds")
    gain = 100.0 * (baseline["mean_jct_s"] - row["mean_jct_s"]) / baseline["mean_jct_s"]
    return Comparison(gain, f"equal success ({mine:.3f}): mean JCT {row['mean_jct_s']:.2f} s against "
                            f"{baseline['mean_jct_s']:.2f} s of {name}")


def add_comparisons(rows: list[dict[str, Any]], baselines: Sequence[Baseline] = BASELINES) -> None:
    """Adds ``improvement_vs_<key>_pct`` and ``comparison_vs_<key>`` to every
    row for every baseline, each row against the baseline's row of the same
    budget (the first with that method name; that row itself gets 0.0 and
    "baseline")."""
    for baseline in baselines:
        by_budget: dict[float, dict[str, Any]] = {}
        for row in rows:
            if row["method"] == baseline.method and row.get("budget_usd") is not None:
                by_budget.setdefault(row["budget_usd"], row)
        for row in rows:
            reference = by_budget.get(row.get("budget_usd"))
            if row is reference:
                result = Comparison(0.0, "baseline")
            else:
                result = compare(row, reference, baseline.method)
            row[f"improvement_vs_{baseline.key}_pct"] = result.improvement_pct
            row[f"comparison_vs_{baseline.key}"] = result.text


def _budget_cells(row: Mapping[str, Any]) -> tuple[str, str, str]:
    """The budget, jobs over it (k/N) and mean cost as a share of it."""
    budget = row.get("budget_usd")
    if budget is None:
        return "-", "-", "-"
    return f"{budget:.2f}", f"{row['over_budget']}/{row['seeds']}", f"{100.0 * row['mean_cost_usd'] / budget:.1f}%"


def table_lines(rows: Sequence[Mapping[str, Any]], baselines: Sequence[Baseline] = BASELINES) -> list[str]:
    """The table of `rows` as text lines, header first: success and budget
    overruns first (success rate, jobs over budget out of the seeds, mean
    cost, mean cost as a share of the budget), then mean JCT, one column
    per baseline (``vs GS``, ``vs oracle static``: the percentage or the
    reason there is none) and the row's ``config_text``. Rows carry
    budget_usd (None for EC2), method, success_rate, over_budget, seeds,
    mean_cost_usd, mean_jct_s, the comparisons of `add_comparisons` and
    config_text. Columns are as wide as their widest cell."""
    header = ["budget", "method", "success", "over budget", "cost_usd", "cost/budget", "mean_jct_s"]
    header += [baseline.header for baseline in baselines] + ["config"]
    left = {1, len(header) - 1}  # method and config; the rest is right-aligned.
    table = [header]
    for row in rows:
        budget, over, share = _budget_cells(row)
        cells = [budget, row["method"], f"{row['success_rate']:.3f}", over, f"{row['mean_cost_usd']:.4f}", share,
                 f"{row['mean_jct_s']:.2f}"]
        for baseline in baselines:
            gain = row[f"improvement_vs_{baseline.key}_pct"]
            text = row[f"comparison_vs_{baseline.key}"]
            if row.get("budget_usd") is None:
                text = "-"
            elif gain is not None and text != "baseline":
                text = f"{gain:+.1f}%"
            cells.append(text)
        table.append(cells + [row["config_text"]])
    widths = [max(len(line[i]) for line in table) for i in range(len(header))]
    return ["  ".join(cell.ljust(width) if i in left else cell.rjust(width)
                      for i, (cell, width) in enumerate(zip(line, widths))).rstrip()
            for line in table]
