"""Arguments that several ``siren`` subcommands share."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from siren import _core
from siren._argtypes import checked, positive_int
from siren.backends import BACKENDS, Backend, make_backend
from siren.baselines import ORACLE_DEFAULTS

__all__ = [
    "add_backend_arguments",
    "add_oracle_arguments",
    "add_overrides",
    "add_quiet",
    "backend_from_args",
    "describe_oracle",
    "oracle_options",
    "progress_bar",
]


def add_overrides(parser: argparse.ArgumentParser) -> None:
    """Adds the trailing ``key=value`` scenario overrides."""
    parser.add_argument(
        "overrides",
        nargs="*",
        metavar="key=value",
        help="scenario overrides with dotted paths, e.g. job.max_epochs=3 workload.batch_size=256",
    )


def add_backend_arguments(parser: argparse.ArgumentParser) -> None:
    """Adds ``--backend {local,ray}`` and ``--ray-address``."""
    parser.add_argument("--backend", choices=BACKENDS, default="local",
                        help="local: this process, C++ threads (default); ray: grid points, seeds and "
                             "policy episodes as Ray tasks, the same results bit for bit")
    parser.add_argument("--ray-address", default=None, metavar="ADDRESS",
                        help="with --backend ray: HOST:PORT of a cluster's head, 'auto' for the cluster "
                             "this node belongs to (started with `ray start`), or 'local' for a private "
                             "instance (default: $RAY_ADDRESS, else 'local')")


def backend_from_args(args: argparse.Namespace, threads: int) -> Backend:
    """`make_backend` from the options `add_backend_arguments` added."""
    return make_backend(args.backend, threads, args.ray_address)


_ratio = checked(float, lambda v: 1 < v < float("inf"), "a number > 1", "a finite number > 1")
_at_least_two = checked(int, lambda v: v >= 2, "an integer >= 2", "an integer >= 2")


def add_oracle_arguments(parser: argparse.ArgumentParser) -> None:
    """Adds ``--no-oracle`` and the oracle static search's options
    (``siren.baselines.oracle_static``)."""
    group = parser.add_argument_group(
        "oracle static", "the best static (n, m) of the full grid: a coarse stage, then pattern searches "
                         "down to the final resolution (README: Evaluation)")
    group.add_argument("--no-oracle", action="store_true", help="leave the oracle static rows out")
    group.add_argument("--oracle-ratio", type=_ratio, default=ORACLE_DEFAULTS["function_ratio"],
                       help="coarse stage: consecutive n differ by at most this factor (default: %(default)s)")
    group.add_argument("--oracle-coarse-memory", type=_at_least_two, default=ORACLE_DEFAULTS["coarse_memory"],
                       help="coarse stage: memory sizes, the largest included (default: %(default)s)")
    group.add_argument("--oracle-starts", type=positive_int, default=ORACLE_DEFAULTS["starts"],
                       help="pattern searches, from the best coarse memory rows (default: %(default)s)")
    group.add_argument("--oracle-function-step", type=positive_int, default=ORACLE_DEFAULTS["function_step"],
                       help="final resolution in functions (default: %(default)s)")
    group.add_argument("--oracle-memory-step", type=positive_int, default=ORACLE_DEFAULTS["memory_step"],
                       help="final resolution in steps of the platform's memory grid: 64 MB in the 2018 era, "
                            "1 MB in 2020+ (default: %(default)s)")


def oracle_options(args: argparse.Namespace) -> dict[str, Any]:
    """The options of ``_core.oracle_static`` from `add_oracle_arguments`'s."""
    return {"function_ratio": args.oracle_ratio, "coarse_memory": args.oracle_coarse_memory,
            "starts": args.oracle_starts, "function_step": args.oracle_function_step,
            "memory_step": args.oracle_memory_step}


def describe_oracle(scenario: _core.Scenario, options: dict[str, Any]) -> str:
    """One line: what the oracle static search covers and its resolution."""
    functions, memory = _core.oracle_axes(scenario, options["function_ratio"], options["coarse_memory"])
    grid = _core.grid_axes(scenario, [], [], 1)[1]
    step = grid[1] - grid[0] if len(grid) > 1 else 0
    return (f"oracle static: n {functions[0]}..{functions[-1]} x {len(grid)} memory sizes {grid[0]}..{grid[-1]} MB, "
            f"resolution {options['function_step']} function(s) x {options['memory_step'] * step} MB; "
            f"coarse stage {len(functions)} n x {len(memory)} sizes, {options['starts']} pattern searches")


def add_quiet(parser: argparse.ArgumentParser, what: str = "no progress bar") -> None:
    """Adds ``--quiet``."""
    parser.add_argument("--quiet", action="store_true", help=what)


def progress_bar(total: int | None, desc: str, quiet: bool, unit: str = "it") -> Any:
    """A tqdm bar on stderr, shown only when stderr is a terminal and not
    `quiet` (a disabled bar is a no-op with the same methods). Use as a
    context manager; ``update(n)`` advances it."""
    from tqdm import tqdm

    return tqdm(total=total, desc=desc, unit=unit, file=sys.stderr, leave=False, dynamic_ncols=True,
                disable=quiet or not sys.stderr.isatty())
