"""The comparison rules of siren.comparison, which `siren sweep` and `siren
evaluate` print: JCT compared only at equal success, budget overruns shown
first, every percentage naming its baseline."""

from __future__ import annotations

import json
import warnings

import torch

import siren
from siren import _core
from siren.comparison import BASELINES, add_comparisons, compare, table_lines


def _row(method: str, success: float, jct: float, budget: float | None = 0.25, cost: float = 0.2,
         over: int | None = 0) -> dict:
    return {"method": method, "budget_usd": budget, "success_rate": success, "over_budget": over, "seeds": 4,
            "mean_cost_usd": cost, "mean_jct_s": jct, "config": "", "config_text": f"{method} config"}


def test_equal_success_gives_the_jct_improvement() -> None:
    result = compare(_row("policy", 1.0, 80.0), _row("GS", 1.0, 100.0), "GS")
    assert result.improvement_pct == 20.0
    assert "equal success (1.000)" in result.text and "GS" in result.text
    slower = compare(_row("policy", 0.5, 120.0), _row("GS", 0.5, 100.0), "GS")
    assert slower.improvement_pct == -20.0


def test_lower_or_higher_success_gives_no_percentage_but_the_reason() -> None:
    # A policy that never succeeds stops early (the budget runs out): fast, and not comparable.
    fast_failure = compare(_row("policy", 0.0, 9.6), _row("GS", 1.0, 100.0), "GS")
    assert fast_failure.improvement_pct is None
    assert fast_failure.text == "n/a: lower success (0.000 vs 1.000)"
    higher = compare(_row("policy", 1.0, 150.0), _row("GS", 0.75, 100.0), "GS")
    assert higher.improvement_pct is None and higher.text == "n/a: higher success (1.000 vs 0.750)"
    neither = compare(_row("policy", 0.0, 10.0), _row("GS", 0.0, 20.0), "GS")
    assert neither.improvement_pct is None and neither.text == "n/a: neither succeeds"
    assert compare(_row("policy", 1.0, 10.0), None, "oracle static").text == "n/a: no oracle static row"
    ec2 = compare(_row("EC2 m4.xlarge x4", 1.0, 10.0, budget=None), _row("GS", 1.0, 20.0), "GS")
    assert ec2.improvement_pct is None and "budget" in ec2.text


def test_rows_are_compared_with_the_baseline_of_their_budget() -> None:
    rows = [_row("policy", 0.0, 9.6), _row("GS", 1.0, 100.0), _row("oracle static", 1.0, 90.0),
            _row("hand", 1.0, 150.0), _row("GS", 1.0, 50.0, budget=0.4), _row("policy", 1.0, 45.0, budget=0.4),
            _row("EC2 m4.xlarge x4", 1.0, 158.0, budget=None, over=None)]
    add_comparisons(rows)
    policy, gs, oracle, hand, gs_40, policy_40, ec2 = rows
    assert policy["improvement_vs_gs_pct"] is None and policy["improvement_vs_oracle_pct"] is None
    assert policy["comparison_vs_gs"] == "n/a: lower success (0.000 vs 1.000)"
    assert (gs["improvement_vs_gs_pct"], gs["comparison_vs_gs"]) == (0.0, "baseline")
    assert oracle["improvement_vs_gs_pct"] == 10.0 and oracle["comparison_vs_oracle"] == "baseline"
    assert hand["improvement_vs_gs_pct"] == -50.0
    assert round(hand["improvement_vs_oracle_pct"], 6) == round(100 * (90 - 150) / 90, 6)
    assert policy_40["improvement_vs_gs_pct"] == 10.0  # Against the GS row of its own budget.
    assert policy_40["comparison_vs_oracle"] == "n/a: no oracle static row"
    assert ec2["improvement_vs_gs_pct"] is None and ec2["improvement_vs_oracle_pct"] is None


def test_table_shows_success_and_overruns_first_and_names_each_baseline() -> None:
    rows = [_row("policy", 0.0, 9.6, cost=0.2525, over=4), _row("GS", 1.0, 100.0, cost=0.2375),
            _row("oracle static", 1.0, 90.0), _row("EC2 m4.xlarge x4", 1.0, 158.0, budget=None, over=None)]
    add_comparisons(rows)
    header, policy, gs, oracle, ec2 = table_lines(rows)
    columns = header.split()
    assert columns[:3] == ["budget", "method", "success"]
    assert header.index("over budget") < header.index("cost/budget") < header.index("mean_jct_s") \
        < header.index("vs GS") < header.index("vs oracle static")
    # The never-succeeding policy: 4 of 4 jobs over budget, 101 % of it spent, no improvement shown.
    assert "4/4" in policy and "101.0%" in policy
    assert policy.count("n/a: lower success (0.000 vs 1.000)") == 2
    assert "+" not in policy
    assert "baseline" in gs and "-11.1%" in gs  # GS is 11.1 % slower than the oracle static row.
    assert "+10.0%" in oracle and "baseline" in oracle
    assert ec2.split()[0] == "-" and "EC2 m4.xlarge x4" in ec2
    # Without the oracle static baseline the column is left out.
    assert "vs oracle static" not in table_lines(rows, BASELINES[:1])[0]


class _AlwaysOnes(torch.nn.Module):
    """A policy that always asks for the most functions and memory: on the
    default preset the budget guard stops it within its first epochs (never
    over the budget), so it never succeeds, and it stops early."""

    def forward(self, obs: torch.Tensor) -> torch.Tensor:
        return torch.ones(obs.shape[0], 2)


def test_evaluate_shows_no_improvement_for_a_policy_that_never_succeeds(cli, tmp_path) -> None:
    metadata = {"format": "siren-policy-1", "scenario_yaml": siren.load_scenario("default").to_yaml(),
                "action_encoding": "box", "observation_names": _core.observation_names()}
    with warnings.catch_warnings():  # torch 2.13 deprecates TorchScript; Siren's policies are TorchScript.
        warnings.simplefilter("ignore", DeprecationWarning)
        torch.jit.save(torch.jit.script(_AlwaysOnes()), str(tmp_path / "ones.pt"),
                       _extra_files={"siren.json": json.dumps(metadata)})
    proc = cli("evaluate", "--policy", "ones.pt", "--seeds", "2", "--tuning-seeds", "2", "--quiet",
               "--oracle-ratio", "2", "--oracle-coarse-memory", "4", "--json", "table.json")  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    rows = json.loads((tmp_path / "table.json").read_text())["rows"]
    policy = next(row for row in rows if row["method"] == "policy")
    gs = next(row for row in rows if row["method"] == "GS")
    assert policy["success_rate"] == 0.0 and gs["success_rate"] == 1.0
    # It is faster than GS (the budget stops it early), and that is no improvement.
    assert policy["mean_jct_s"] < gs["mean_jct_s"]
    assert policy["improvement_vs_gs_pct"] is None and policy["improvement_vs_oracle_pct"] is None
    assert policy["comparison_vs_gs"] == "n/a: lower success (0.000 vs 1.000)"
    # The budget guard stops it: it never ends over the budget.
    assert policy["over_budget"] == 0 and policy["seeds"] == 2 and policy["mean_cost_usd"] <= 0.25
    [line] = [line for line in proc.stdout.splitlines() if line.split()[1:2] == ["policy"]]
    assert "n/a: lower success (0.000 vs 1.000)" in line and "+" not in line and "0/2" in line
    header = next(line for line in proc.stdout.splitlines() if line.lstrip().startswith("budget"))
    assert "vs GS" in header and "vs oracle static" in header
