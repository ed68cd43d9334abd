"""Siren: a fast discrete-event simulator of data-parallel SGD training on AWS
Lambda + S3 (DESIGN.md). The simulator is C++ (`siren._core`); this package
re-exports it and adds schedules, HDF5 traces, the `siren` command line and
the Gymnasium environments: "Siren-v0" (the default preset) and one
"Siren-<preset>-v0" per preset, registered on import (siren.envs.SirenEnv,
vector entry point siren.vector.SirenVectorEnv).
"""

import gymnasium as _gymnasium

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


def _register_envs() -> None:
    """Registers Siren-v0 and Siren-<preset>-v0; a no-op for ids already
    registered (re-import). No max_episode_steps: the env truncates itself at
    job.max_epochs."""
    ids = {"Siren-v0": "default"}
    ids.update({f"Siren-{name}-v0": name for name in preset_names()})
    for env_id, scenario in ids.items():
        if env_id not in _gymnasium.registry:
            _gymnasium.register(
                id=env_id,
                entry_point="siren.envs:SirenEnv",
                vector_entry_point="siren.vector:SirenVectorEnv",
                kwargs={"scenario": scenario},
            )


_register_envs()

_LAZY = {"SirenEnv": "siren.envs", "SirenVectorEnv": "siren.vector"}


def __getattr__(name: str):
    # siren.SirenEnv / siren.SirenVectorEnv without importing them eagerly.
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'siren' has no attribute {name!r}")

__all__ = [
    "InvalidActionError",
    "Scenario",
    "ScenarioError",
    "Schedule",
    "ScheduleError",
    "Simulation",
    "SirenEnv",
    "SirenVectorEnv",
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
