"""Arguments that several ``siren`` subcommands share."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from siren.backends import BACKENDS, Backend, make_backend

__all__ = ["add_backend_arguments", "add_overrides", "add_quiet", "backend_from_args", "progress_bar"]


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
