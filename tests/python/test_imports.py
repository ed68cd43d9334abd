"""The package's import graph: the library never imports the command line
(``siren.cli``), no two modules import each other, not even lazily (inside a
function), and every module imports on its own in a fresh interpreter."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

import siren

PACKAGE = Path(siren.__file__).resolve().parent


def _modules() -> dict[str, Path]:
    """Every module of the installed package by dotted name (a package by its
    ``__init__``), the compiled ``_core`` excluded."""
    modules = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        if parts[-1] == "__init__":
            parts = parts[:-1]
        modules[".".join(parts)] = path
    return modules


MODULES = _modules()


def _imports(name: str, path: Path) -> set[str]:
    """The siren modules that `name` imports anywhere in its source (at the
    top or inside functions): ``import siren.x``, ``from siren.x import y``
    (y too when it is a module), relative imports resolved."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(anchor + ([base] if base else []))
            targets = [base] + [f"{base}.{alias.name}" for alias in node.names]
        else:
            continue
        found.update(target for target in targets if target in MODULES)
    # A module's own packages are imported before it anyway.
    return {target for target in found if not name.startswith(target + ".") and target != name}


GRAPH = {name: _imports(name, path) for name, path in MODULES.items()}


def _is_cli(name: str) -> bool:
    return name == "siren.__main__" or name == "siren.cli" or name.startswith("siren.cli.")


def test_the_graph_sees_the_known_imports() -> None:
    assert "siren.policy" in GRAPH["siren.backends"]
    assert "siren.backend_jobs" in GRAPH["siren.ray_backend"]
    assert "siren.cli.sweep" in GRAPH["siren.cli"]
    assert "siren.cli._common" in GRAPH["siren.cli.agent"]


def test_library_modules_do_not_import_the_command_line() -> None:
    offending = {name: sorted(filter(_is_cli, targets)) for name, targets in GRAPH.items() if not _is_cli(name)}
    assert {name: targets for name, targets in offending.items() if targets} == {}


def test_no_import_cycle() -> None:
    """Depth-first search for a back edge; the message names the cycle."""
    state: dict[str, str] = {}
    stack: list[str] = []

    def visit(name: str) -> None:
        state[name] = "open"
        stack.append(name)
        for target in sorted(GRAPH[name]):
            if state.get(target) == "open":
                cycle = stack[stack.index(target):] + [target]
                pytest.fail("import cycle: " + " -> ".join(cycle))
            if target not in state:
                visit(target)
        stack.pop()
        state[name] = "done"

    for name in sorted(GRAPH):
        if name not in state:
            visit(name)


# The modules that used to import each other (agent_cli <-> backends <->
# ray_backend), and every module of the command line, each imported first in
# a fresh interpreter.
@pytest.mark.parametrize("name", ["siren.ray_backend", "siren.backends", "siren.backend_jobs", "siren.policy",
                                  *sorted(name for name in MODULES
                                         if name.startswith("siren.cli") and not name.endswith("__main__"))])
def test_module_imports_first_in_a_fresh_interpreter(name: str) -> None:
    proc = subprocess.run([sys.executable, "-c", f"import {name}"], capture_output=True, text=True,
                          timeout=60, stdin=subprocess.DEVNULL)
    assert proc.returncode == 0, proc.stderr
