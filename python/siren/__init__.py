"""Siren: a fast discrete-event simulator of data-parallel SGD training on AWS
Lambda + S3 (DESIGN.md). The simulator is C++ (`siren._core`); this package
re-exports it and adds schedules, HDF5 traces and the `siren` command line.
"""

from siren._core import (
    InvalidActionError,
    Scenario,
    ScenarioError,
    Simulation,
    __version__,
    default_preset_name,
    describe_parameters,
    ec2_instance_types,
    load_scenario,
    parse_scenario,
    preset_names,
    run_benchmark,
    run_ec2_job,
)
from siren.schedule import Schedule, ScheduleError, parse_schedule
from siren.trace import read_trace, write_trace

__all__ = [
    "InvalidActionError",
    "Scenario",
    "ScenarioError",
    "Schedule",
    "ScheduleError",
    "Simulation",
    "__version__",
    "default_preset_name",
    "describe_parameters",
    "ec2_instance_types",
    "load_scenario",
    "parse_schedule",
    "parse_scenario",
    "preset_names",
    "read_trace",
    "run_benchmark",
    "run_ec2_job",
    "write_trace",
]
