"""The `siren` command line: the parser and `main`; each command group lives
in its own module of this package.

    simulator.py    simulate, bench, bench-env, presets, scenario, ec2
    agent.py        train, export, evaluate
    convergence.py  data, fit-convergence
    sweep.py        sweep
    runner.py       run, calibrate, compare-sim, deploy, teardown

A module adds its commands with ``add_commands(sub)``; a command's handler
takes the parsed arguments and returns the exit status.

Input errors (scenario, override, schedule, action, --out path) print
`siren: error: <message>` on stderr and exit with status 2.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

from siren import _core
from siren.cli import agent, convergence, runner, simulator, sweep

__all__ = ["EXIT_USAGE", "build_parser", "main"]

EXIT_USAGE = 2


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="siren",
        description="Siren: discrete-event simulation of data-parallel SGD on AWS Lambda + S3.",
    )
    parser.add_argument("--version", action="version", version=f"siren {_core.__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for group in (simulator, agent, convergence, sweep, runner):
        group.add_commands(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help(sys.stderr)
        return EXIT_USAGE
    try:
        return args.handler(args)
    except BrokenPipeError:
        # Output piped into e.g. `head`: stop quietly.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 1
    except (ValueError, OSError) as error:
        # ScenarioError, InvalidActionError and ScheduleError are ValueErrors;
        # OSError covers an unwritable --out.
        print(f"siren: error: {error}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("siren: interrupted", file=sys.stderr)
        return 130
