"""Type stubs for siren._core, the compiled pybind11 module (bindings/core_module.cc)."""

from typing import Any

import numpy as np
import numpy.typing as npt

__version__: str

class ScenarioError(ValueError):
    """Invalid scenario input; `field` is the dotted parameter path ('' if none)."""

    field: str

class InvalidActionError(ValueError):
    """An action that cannot run (memory off-grid or infeasible, n <= 0, job stopped)."""

def preset_names() -> list[str]: ...
def default_preset_name() -> str: ...
def load_scenario(name_or_path: str, overrides: list[str] = ...) -> Scenario: ...
def parse_scenario(
    yaml_text: str, overrides: list[str] = ..., origin: str = "<string>"
) -> Scenario: ...
def describe_parameters() -> str: ...

class Scenario:
    @property
    def name(self) -> str: ...
    def to_yaml(self) -> str: ...
    def get(self, path: str) -> Any:
        """The parameter at dotted `path` (KeyError if unknown)."""
    @property
    def batch_size(self) -> int: ...
    @property
    def batches_per_epoch(self) -> int: ...
    def memory_grid(self) -> list[int]: ...
    @property
    def min_feasible_memory_mb(self) -> int: ...
    def memory_error(self, memory_mb: int) -> str: ...
    @property
    def era(self) -> str: ...
    @property
    def budget_usd(self) -> float: ...
    @property
    def max_epochs(self) -> int: ...
    @property
    def target_loss(self) -> float: ...

class Simulation:
    def __init__(self, scenario: Scenario, seed: int) -> None: ...
    def run_epoch(self, functions: int, memory_mb: int) -> dict[str, Any]:
        """One epoch; keys: epoch, action_functions, action_memory_mb, functions_used,
        duration_s, fetch_mean_s, fetch_p95_s, compute_mean_s, compute_p95_s,
        update_mean_s, update_p95_s, batches, updates, mean_staleness, max_staleness, update_conflicts,
        invocations, cold_starts, warm_starts, throttles, timeouts, reinvocations,
        s3_slowdowns, s3_gets, s3_puts, billed_gb_s, cpu_utilisation,
        memory_utilisation, cost_lambda_duration_usd, cost_lambda_request_usd,
        cost_s3_request_usd, cost_total_usd, loss, true_loss, progress,
        cumulative_time_s, cumulative_cost_usd, status (str), events."""
    def reset(self, seed: int) -> None: ...
    def copy(self) -> Simulation: ...
    @property
    def scenario(self) -> Scenario: ...
    @property
    def epoch(self) -> int: ...
    @property
    def time_s(self) -> float: ...
    @property
    def cost_usd(self) -> float: ...
    @property
    def loss(self) -> float: ...
    @property
    def true_loss(self) -> float: ...
    @property
    def status(self) -> str: ...
    @property
    def done(self) -> bool: ...
    @property
    def total_events(self) -> int: ...

def run_benchmark(
    scenario: Scenario,
    functions: int,
    memory_mb: int,
    min_wall_s: float = 1.0,
    min_epochs: int = 3,
    seed: int = 0,
) -> dict[str, Any]:
    """Keys: events, epochs, batches, wall_s, events_per_s, epochs_per_s."""

def run_ec2_job(scenario: Scenario) -> dict[str, Any]:
    """Keys: epochs, time_s, cost_usd, final_loss, converged, epoch_end_time_s, epoch_loss."""

def ec2_instance_types() -> list[dict[str, Any]]:
    """Each: name, vcpus, memory_gb, usd_per_hour, network_mb_per_s."""

# --- the env layer (bindings/env_bindings.cc, env/*.h) -------------------------

observation_size: int

def observation_names() -> list[str]:
    """Observation fields in index order (env/observation.h)."""

def info_names() -> list[str]:
    """Columns of the per-step info row (env/step_info.h); "status" is 0 running,
    1 converged, 2 budget_exhausted, 3 epoch_limit."""

def episode_seed(seed: int, k: int) -> int:
    """The seed of the k-th auto-reset episode (k >= 1) of a vector env slot
    first seeded with `seed`."""

class Env:
    """One SIREN MDP over a simulated job (env/siren_env.h)."""

    def __init__(self, scenario: Scenario, action_encoding: str = "box") -> None: ...
    def reset(self, seed: int) -> npt.NDArray[np.float32]:
        """Starts a new job; returns the first observation."""
    def step(
        self, action: npt.ArrayLike
    ) -> tuple[npt.NDArray[np.float32], float, bool, bool, npt.NDArray[np.float64]]:
        """Runs one epoch: (observation, reward, terminated, truncated, info_row).
        InvalidActionError for NaN/inf or a bad discrete index (naming the
        coordinate), RuntimeError before reset() or after the episode ended,
        ValueError unless the action has 2 values."""
    def decode(self, action: npt.ArrayLike) -> dict[str, Any]:
        """Keys: functions, memory_mb, requested_memory_mb, memory_clamped."""
    def encode(self, functions: int, memory_mb: int) -> npt.NDArray[np.float64]:
        """An action in this env's encoding decoding to the nearest (n, m)."""
    @property
    def observation_low(self) -> npt.NDArray[np.float32]: ...
    @property
    def observation_high(self) -> npt.NDArray[np.float32]: ...
    @property
    def function_bins(self) -> int: ...
    @property
    def memory_bins(self) -> int: ...
    @property
    def action_encoding(self) -> str: ...
    @property
    def needs_reset(self) -> bool: ...

class VectorEnv:
    """N envs stepped on a thread pool into caller-owned buffers (env/vector_env.h);
    the GIL is released while they run."""

    def __init__(
        self,
        scenario: Scenario,
        num_envs: int,
        action_encoding: str = "box",
        autoreset_mode: str = "next_step",
        num_threads: int = 1,
    ) -> None: ...
    def reset(self, seeds: npt.NDArray[np.uint64], observations: npt.NDArray[np.float32]) -> None:
        """seeds [N] uint64; writes observations [N, observation_size] float32."""
    def step(
        self,
        actions: npt.NDArray[np.float64],
        observations: npt.NDArray[np.float32],
        rewards: npt.NDArray[np.float64],
        terminated: npt.NDArray[np.bool_],
        truncated: npt.NDArray[np.bool_],
        info: npt.NDArray[np.float64],
        info_valid: npt.NDArray[np.bool_],
        final_observations: npt.NDArray[np.float32] | None = None,
        has_final: npt.NDArray[np.bool_] | None = None,
    ) -> None:
        """actions [N, 2] float64; writes every other (C-contiguous) buffer:
        info [N, len(info_names())]; final_observations and has_final are
        required in same_step mode. A bad action raises InvalidActionError
        naming the env and coordinate, and no env is stepped."""
    @property
    def num_envs(self) -> int: ...
    @property
    def num_threads(self) -> int: ...

def bench_env(
    scenario: Scenario, action_encoding: str, action: npt.ArrayLike, steps: int, seed: int = 0
) -> dict[str, Any]:
    """Times `steps` steps of one C++ env with a fixed action (no Python).
    Keys: steps, episodes, wall_s."""

# Ground-truth convergence (bindings/convergence_bindings.cc).
def generate_click_through(
    rows: int, features: int = 4096, fields: int = 39, seed: int = 1
) -> dict[str, Any]:
    """The seeded click-through generator as CSR arrays: indptr, indices,
    values, labels, features, classes."""
def save_dataset(
    path: str,
    indptr: npt.ArrayLike,
    indices: npt.ArrayLike,
    values: npt.ArrayLike,
    labels: npt.ArrayLike,
    features: int,
    classes: int,
) -> None:
    """Validates and writes a CSR dataset in Siren's HDF5 layout."""
def load_dataset(path: str) -> dict[str, Any]:
    """Reads and validates a dataset in Siren's HDF5 layout."""
def fit_convergence(scenario: Scenario, runs: list[dict[str, Any]], epochs: int) -> dict[str, Any]:
    """Runs each schedule under the sgd model and fits the analytic model.
    Keys: fitted, yaml, max_relative_error, mean_relative_error, sgd_loss,
    fitted_loss, mean_staleness."""

# Baselines (agent/baselines/; bindings/baselines_bindings.cc).
def evaluate_schedule(scenario: Scenario, schedule: list[tuple[int, int]], seeds: list[int],
                      budget_usd: float | None = None, num_threads: int = 1) -> dict[str, Any]:
    """Runs the schedule (last pair repeats) from each seed. Keys: mean_jct_s,
    mean_cost_usd, success_rate, successes, episodes."""
def grid_search(scenario: Scenario, budgets: list[float], seeds: list[int],
                functions: list[int] = ..., memory_mb: list[int] = ..., memory_stride: int = 0,
                num_threads: int = 1) -> list[dict[str, Any]]:
    """Best static (functions, memory_mb) per budget: highest success count,
    then lowest mean JCT. Per budget: budget_usd, best, required_success_rate,
    points."""
def grid_axes(scenario: Scenario, functions: list[int] = ..., memory_mb: list[int] = ...,
              memory_stride: int = 0) -> tuple[list[int], list[int]]:
    """The (functions, memory_mb) axes grid_search would use."""

class GridPlan:
    """Grid searches taken apart, for running their episodes elsewhere (the
    Ray backend): `runs` lists each distinct (budget_usd, functions,
    memory_mb) once; each is run from every seed of `seeds`, and `reduce`
    turns the per-seed outcomes into grid_search's results per grid."""

    def __init__(self, scenario: Scenario, budgets: list[float], seeds: list[int],
                 function_grids: list[list[int]], memory_mb: list[int] = ...,
                 memory_stride: int = 0) -> None: ...
    @property
    def runs(self) -> list[tuple[float, int, int]]:
        """Distinct (budget_usd, functions, memory_mb), in order of first use."""
    @property
    def seeds(self) -> list[int]: ...
    def reduce(self, episodes: list[list[dict[str, Any]]]) -> list[list[dict[str, Any]]]:
        """Per grid, grid_search's list per budget, from episodes[r]: run r's
        evaluate_schedule "episodes" (one per seed, in order)."""
    def run(self, num_threads: int = 1) -> list[list[dict[str, Any]]]:
        """Runs every run from every seed here and reduces (as `reduce`)."""

def cem_search(scenario: Scenario, seeds: list[int], budget_usd: float | None = None, slots: int = 10,
               population: int = 48, elite_fraction: float = 0.125, iterations: int = 15,
               seed: int = 0, initial: tuple[int, int] | None = None,
               include: list[list[tuple[int, int]]] = ..., initial_std_log_n: float = 0.5,
               initial_std_memory: float = 0.15, failure_penalty_s: float = 1e5,
               keep_elite: bool = True, num_threads: int = 1) -> dict[str, Any]:
    """Cross-entropy search over per-epoch schedules. Keys: schedule,
    objective, evaluated, history and the best schedule's evaluation."""
def hand_schedule(scenario: Scenario, scale: float = 1.0, memory_mb: int | None = None,
                  mid_epochs: int = 4, high: int = 120, mid: int = 20,
                  low: int = 10) -> list[tuple[int, int]]:
    """The talk's hand schedule: high, then mid for mid_epochs epochs, then low."""
def summarise_episodes(episodes: list[dict[str, Any]]) -> dict[str, Any]:
    """Means of per-seed outcomes (seed, jct_s, cost_usd, epochs, status),
    summed in their order (agent/baselines Summarise)."""
def ec2_baseline(scenario: Scenario, instance_types: list[str] = ...,
                 instances: list[int] = ...) -> list[dict[str, Any]]:
    """The EC2 cluster baseline per instance type x count. Keys:
    instance_type, instances, time_s, cost_usd, converged, epochs."""

# The runner's bridge to the env layer (bindings/runner_bindings.cc).
class ActionCodec:
    """The env's action decoder on its own (env/action_codec.h)."""

    def __init__(self, scenario: Scenario, action_encoding: str = "box") -> None: ...
    def decode(self, action: npt.ArrayLike) -> dict[str, Any]:
        """Keys: functions, memory_mb, requested_memory_mb, memory_clamped."""
    def encode(self, functions: int, memory_mb: int) -> npt.NDArray[np.float64]: ...
    @property
    def action_encoding(self) -> str: ...
    @property
    def memory_grid(self) -> list[int]: ...

def initial_observation(scenario: Scenario) -> npt.NDArray[np.float32]: ...
def score_epoch(scenario: Scenario, record: dict[str, Any]) -> dict[str, Any]:
    """Observation, reward, terminated, truncated and status after a measured
    epoch, by the env's rules."""
def bill_epoch(scenario: Scenario, durations_s: list[float], memory_mb: int, s3_gets: int,
               s3_puts: int) -> dict[str, Any]:
    """Keys: billed_s, billed_gb_s, cost_lambda_duration_usd,
    cost_lambda_request_usd, cost_s3_request_usd, cost_total_usd."""
