"""The README against what the code does: its Python examples run, the
values their comments state are the values they produce, every registered
Gym id is listed, and the tables it shows from `siren sweep` and `siren
evaluate` have the format those commands print."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import gymnasium
import pytest

import siren

from conftest import run_cli

README = Path(__file__).resolve().parents[2] / "README.md"
TEXT = README.read_text()

# Python blocks that are not run here, by a line they contain, with the reason.
SKIPPED = {
    'PPO("MlpPolicy", venv).learn(100_000)':
        "trains Stable-Baselines3 PPO for 100,000 steps (about 45 s); SirenSB3VecEnv is tested in test_sb3.py",
}


def _blocks(language: str) -> list[tuple[int, str]]:
    """(line number, code) of every fenced block of `language`."""
    return [(TEXT[:m.start()].count("\n") + 1, m.group(1))
            for m in re.finditer(rf"^```{language}\n(.*?)^```", TEXT, re.S | re.M)]


PYTHON_BLOCKS = _blocks("python")


def _skip_reason(code: str) -> str | None:
    return next((reason for line, reason in SKIPPED.items() if line in code), None)


def test_every_python_block_is_run_or_skipped_with_a_reason() -> None:
    assert len(PYTHON_BLOCKS) >= 3
    for line in SKIPPED:
        assert any(line in code for _, code in PYTHON_BLOCKS), f"SKIPPED names a line the README lacks: {line}"


@pytest.mark.parametrize("line, code", PYTHON_BLOCKS, ids=[f"README.md:{line}" for line, _ in PYTHON_BLOCKS])
def test_python_block_runs(line: int, code: str) -> None:
    reason = _skip_reason(code)
    if reason:
        pytest.skip(reason)
    namespace: dict = {"__name__": f"README.md:{line}"}
    exec(compile(code, f"README.md:{line}", "exec"), namespace)
    # A comment "# ...: (a, b, c)" after an expression states its value.
    for statement in code.splitlines():
        match = re.match(r"^(?P<expr>[^#]+?)\s+#.*: (?P<value>\(.*\))\s*$", statement)
        if match:
            stated = ast.literal_eval(match.group("value"))
            assert eval(match.group("expr"), namespace) == stated, statement
    for name in ("env", "envs"):
        if hasattr(namespace.get(name), "close"):
            namespace[name].close()


def test_every_registered_gym_id_is_listed() -> None:
    ids = sorted(i for i in gymnasium.registry if i.startswith("Siren"))
    assert "Siren-softmax-digits-v0" in ids
    assert len(ids) == len(siren.preset_names()) + 1
    section = TEXT[TEXT.index("## Gymnasium environment"):TEXT.index("- **Observation**")]
    for env_id in ids:
        assert f"`{env_id}`" in section, env_id


def _table_block(after: str) -> list[str]:
    """The lines of the first ```text block after the heading text `after`."""
    start = TEXT.index(after)
    block = re.search(r"^```text\n(.*?)^```", TEXT[start:], re.S | re.M)
    assert block, f"no text block after {after!r}"
    return block.group(1).splitlines()


# The table sweep and evaluate print (siren.comparison.table_lines): cells
# separated by two or more spaces; success and budget overruns first, mean
# JCT, one column per baseline (a percentage, "baseline", a reason or "-"
# for EC2), then the configuration.
HEADER = ["budget", "method", "success", "over budget", "cost_usd", "cost/budget", "mean_jct_s", "vs GS",
          "vs oracle static", "config"]
CELLS = [r"\d+\.\d\d|-", r"\S.*", r"\d\.\d{3}", r"\d+/\d+|-", r"\d+\.\d{4}", r"\d+\.\d%|-", r"\d+\.\d\d",
         r"[+-]\d+\.\d%|baseline|n/a: .+|-", r"[+-]\d+\.\d%|baseline|n/a: .+|-", r"\S.*"]


def _cells(line: str) -> list[str]:
    return re.split(r"\s{2,}", line.strip())


def _assert_same_format(readme: list[str], printed: list[str], header_at: int) -> None:
    """The lines before the header start with the same `key=` or words, the
    headers name the same columns, and every row of either has a valid
    cell in every column (then the README may show `json=PATH`)."""
    for mine, theirs in zip(readme[:header_at], printed[:header_at]):
        assert re.split(r"[= ]", mine, maxsplit=1)[0] == re.split(r"[= ]", theirs, maxsplit=1)[0], mine
    assert _cells(readme[header_at]) == HEADER, "the README's column header"
    assert _cells(printed[header_at]) == HEADER, "the printed column header"
    for source, lines in (("printed", printed), ("README", readme)):
        for line in lines[header_at + 1:]:
            if source == "README" and re.match(r"^json=\S+$", line):
                continue
            cells = _cells(line)
            assert len(cells) == len(HEADER), f"{source}: {line!r}"
            for cell, pattern, name in zip(cells, CELLS, HEADER):
                assert re.fullmatch(pattern, cell), f"{source}: {name} {cell!r} in {line!r}"


def test_sweep_table_has_the_format_sweep_prints(cli) -> None:
    proc = cli("sweep", "--budgets", "0.15,0.25", "--seeds", "2", "--functions-grid", "20,50", "--memory-stride", "8",
               "--fixed-n", "50", "--cem", "--cem-slots", "2", "--cem-population", "4", "--cem-iterations", "1",
               "--oracle-ratio", "2", "--oracle-coarse-memory", "4", "--quiet", "job.max_epochs=12")
    assert proc.returncode == 0, proc.stderr
    _assert_same_format(_table_block("### Baselines"), proc.stdout.splitlines(), 2)


def test_evaluate_table_has_the_format_evaluate_prints(cli, tmp_path) -> None:
    train = cli("train", "--out", "run", "--iterations", "1", "--envs", "2", "--quiet", "--tuning-seeds", "1",
                "--validation-seeds", "2", "job.max_epochs=4")
    assert train.returncode == 0, train.stderr
    proc = cli("evaluate", "--policy", "run/policy.pt", "--seeds", "2", "--tuning-seeds", "2", "--quiet",
               "--oracle-ratio", "2", "--oracle-coarse-memory", "4", "job.max_epochs=4")
    assert proc.returncode == 0, proc.stderr
    printed = proc.stdout.splitlines()
    _assert_same_format(_table_block("`scripts/main.sh` on the 2-core development machine"), printed, 2)
