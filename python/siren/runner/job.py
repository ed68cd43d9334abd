"""The real env: each step runs one epoch of a real SGD job on a backend
(``aws.py`` or ``local.py``), and the observation, reward, end flags, job
status and cost come from the same C++ code as the simulator's
(``_core.ActionCodec``, ``_core.score_epoch``, ``_core.bill_epoch``).

One epoch (DESIGN.md §5, the HSP protocol of ``protocol.py``):
  1. decode the action to (n, m) (infeasible memory is clamped, as in the
     simulator); set the function's memory to m (timed apart: Lambda's
     configuration update is not part of the epoch);
  2. the barrier: the parameter store moves to the epoch, its bitmap empty;
  3. the epoch's batches are split over n' = min(n, batches) workers as the
     simulator splits them (contiguous, sizes differing by at most one) and
     the n' invocations start at once, one thread each;
  4. an invocation that is throttled (429) is retried after a jittered
     exponential back-off (``lambda.throttle_backoff_base_s`` doubling up to
     ``..._cap_s``; those of the scaling-rate limit on new environments are
     also counted apart, ``scaling_throttles``); one that fails, times out or
     stops early near its deadline is re-invoked for its batches not yet
     applied (read from the store), up to ``max_attempts`` times: billed
     again, as on Lambda. One whose outcome is unknown (AWS: a 5xx or a
     dropped connection; it may have run, may still run) is billed at the
     most the platform can bill (the function's timeout, plus INIT's limit
     where billed) and re-invoked the same way after the same back-off as a
     throttle: the store's compare-and-swap bitmap applies each batch at
     most once, whichever invocation pushes it. Every invocation's S3 requests are billed, a failed
     one's included (its error payload, or the local backend's request pipe,
     says what it requested); where nobody can know them (an AWS timeout or
     crash) the invocation's row says so (NaN, ``s3_counts_known`` false)
     and the epoch counts such invocations (``s3_unknown_invocations``);
  5. at the barrier every batch must be applied; missing ones (a worker gave
     up) are run by recovery invocations; if some still are missing (or the
     budget guard refused their recovery) the epoch is not accepted: its
     record has status "failed" and a one-line ``failure``, and the job
     ends there. Nothing is lost silently;
  6. the loss is measured on the held-out rows with the store's parameters.

The model: the worker trains the network the dataset's manifest names
(``models/``: softmax, or the MLP or LeNet of the scenario's
``convergence.sgd.model``, initialised as the simulator's ``sgd`` ground
truth initialises it), and the learning rate of epoch e is the scenario's
``convergence.sgd.lr_schedule`` at e, from ``learning_rate`` (sent with each
invocation). Momentum (``convergence.sgd.momentum`` > 0) is refused: it
needs a velocity kept in the parameter store, which the store's protocols do
not hold.

What the codec or the platform changed of an action is never silent: an
action outside the Box clipped, memory clamped up to the smallest feasible
size, more functions than the epoch has batches; each epoch's ``adjustment``
column says so, and ``adjustments`` lists them for the command line.

Faults: the invocations of an epoch run on daemon threads that the runner
waits for in short slices, checking the backend's health (``check()``: the
local backend's S3 server still running) in between. An exception in the
runner's thread (SIGINT, SIGTERM, a lost S3 server) cancels the in-flight
invocations (``cancel()``: the local backend kills its sandboxes) instead of
waiting for them, and a lost S3 endpoint is a RunnerError naming it
(``S3Unreachable``), not a botocore traceback.

The budget guard (``budget.py``) never lets the job spend more than its
budget: it stops the job *before* an epoch whose projected cost (the
simulator's projection, shared through ``_core.project_epoch_cost``) could
overspend, and during an epoch it invokes only what the budget left can pay
in the worst case (each invocation's reservation: request, billed INIT, run
up to the function's timeout, lowered when needed, and an allowance of S3
requests the worker never exceeds). The job then ends with status
``budget_exhausted``, the simulator's name for a job its budget stopped;
the epoch's ``budget_stop`` column says how (``before_epoch``: the skipped
row; ``mid_epoch``: the guard refused an invocation, and ``failure`` lists
the batches left undone).

With the scenario's ``env.action_clamp=budget`` (as the simulated env does,
env/siren_env.h), an action the guard would not run is first replaced by the
closest one it would (``_core.clamp_to_budget``: same memory and the most
functions the guard's own test accepts, else a smaller memory); the epoch's
``budget_clamped`` and ``requested_functions`` columns and its
``adjustment`` say so. The job then ends ``budget_exhausted`` only when not
even the fewest functions at the smallest feasible memory can run.

Money is the platform's word: each invocation is billed from the billed
duration Lambda reports (REPORT line), else from its measured handler time
plus its measured INIT phase where the generation bills INIT; every
invocation row carries its ``billed_s`` and ``cost_usd``, and the epoch's
cost is their sum plus the S3 requests at their counts.
"""

from __future__ import annotations

import random
import threading
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from siren import _core
from siren.epoch_fields import in_table_order

from . import models
from .backend import ERROR, OK, THROTTLED, TIMEOUT, Backend, BackendLost, Invocation
from .datasets import RunnerDataset, upload
from . import fold
from .budget import INIT_LIMIT_S, EpochLedger, folder_allowance, plan_epoch
from .protocol import PUSH_PROTOCOLS, ParameterStore, S3Counter, validate_bucket_name, validate_prefix
from .worker import MAX_LEARNING_RATE

__all__ = ["RealJob", "RunnerError", "S3Unreachable", "resolve_push_protocol", "split_batches"]


# Throttles in a row before a worker share gives up (with the default
# back-off, 5 s at most apart: several minutes of a full account).
MAX_THROTTLES = 100


# How often the runner's thread looks up from waiting on an epoch's
# invocations (backend health, signals), and how long it waits for their
# threads after cancelling them.
_POLL_S = 0.1
_CANCEL_WAIT_S = 5.0


class RunnerError(RuntimeError):
    """The job cannot go on: one line saying why."""


class S3Unreachable(RunnerError):
    """The S3 endpoint stopped answering (the local S3 server died, the
    network is gone)."""


def _s3_lost(error: BaseException, endpoint: str | None) -> S3Unreachable | None:
    """An S3Unreachable for a lost backend or a botocore connection error,
    else None."""
    if isinstance(error, BackendLost):
        return S3Unreachable(str(error))
    try:
        import botocore.exceptions as bx
    except ImportError:  # pragma: no cover - boto3 is a runner dependency
        return None
    if isinstance(error, (bx.ConnectionError, bx.HTTPClientError)):
        where = endpoint or "AWS S3"
        return S3Unreachable(f"lost the S3 endpoint {where}: {type(error).__name__}")
    return None


def resolve_push_protocol(scenario: _core.Scenario, override: str | None = None) -> str:
    """The push protocol a job runs: ``override`` (``siren run
    --push-protocol``) or else the scenario's ``execution.push_protocol``.
    ValueError naming the value when it has no S3 form (the simulator's
    ``apply``, an ideal parameter server) or is unknown."""
    protocol = override if override is not None else str(scenario.get("execution.push_protocol"))
    if protocol not in PUSH_PROTOCOLS:
        where = "--push-protocol" if override is not None else "execution.push_protocol"
        why = (" (an ideal parameter server that only the simulator has; the runner's parameter store is S3)"
               if protocol == "apply" else "")
        raise ValueError(f"{where}: {protocol!r} cannot run on the runner{why}; expected one of "
                         f"{', '.join(PUSH_PROTOCOLS)} (set execution.push_protocol in the scenario or pass "
                         "--push-protocol)")
    return protocol


def split_batches(batches: int, functions: int) -> list[list[int]]:
    """The simulator's split: min(functions, batches) contiguous runs whose
    sizes differ by at most one, the longer ones first."""
    used = min(functions, batches)
    out, start = [], 0
    for i in range(used):
        size = batches // used + (1 if i < batches % used else 0)
        out.append(list(range(start, start + size)))
        start += size
    return out


def _percentile95(values: list[float]) -> float:
    return float(np.percentile(values, 95)) if values else 0.0


def _mean(values: list[float]) -> float:
    return float(np.mean(values)) if values else 0.0


@dataclass
class _EpochLog:
    """What one epoch's invocations produced (shared by worker threads)."""

    invocations: list[dict] = field(default_factory=list)
    batches: list[dict] = field(default_factory=list)
    requests: S3Counter = field(default_factory=S3Counter)
    throttles: int = 0
    scaling_throttles: int = 0
    # Push protocol fold: the folders' applied deltas, fold PUTs, discarded
    # re-pushes, and whether the last round's folder finished.
    folded: list[dict] = field(default_factory=list)
    folds: int = 0
    discarded: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)


class RealJob:
    """One real training job driven epoch by epoch.

    ``reset()`` uploads the data, writes the initial parameters and returns
    the first observation; ``step(action)`` runs an epoch and returns
    (observation, reward, terminated, truncated, record) where ``record`` has
    every key of ``_core.Simulation.run_epoch`` (in the epoch field table's
    order) plus the runner's own (``worker_errors``, ``recovered_batches``,
    ``missing_batches``, ``reconfigure_s``, ``budget_guard``...; listed with
    their units in ``siren.runner.trace.RUNNER_EPOCH_FIELDS``). ``invocations`` and
    ``batch_rows`` keep every invocation and batch of the job for the trace;
    ``adjustments`` every (epoch, kind, text) the ``adjustment`` column holds.
    """

    def __init__(self, scenario: _core.Scenario, backend: Backend, dataset: RunnerDataset, *, bucket: str,
                 prefix: str = "siren-job", learning_rate: float | None = None, action_encoding: str = "box",
                 max_attempts: int = 4, budget_margin: float | None = None, seed: int = 0,
                 fault: dict | None = None, push_protocol: str | None = None) -> None:
        self.scenario = scenario
        self.push_protocol = resolve_push_protocol(scenario, push_protocol)
        self._cas_backoff_ms = float(scenario.get("execution.cas_backoff_ms"))
        self._cas_backoff_cap_ms = float(scenario.get("execution.cas_backoff_cap_ms"))
        self._fold_interval_ms = float(scenario.get("execution.fold_interval_ms"))
        self.backend = backend
        self.dataset = dataset
        self.bucket = validate_bucket_name(bucket)
        self.prefix = validate_prefix(prefix)
        self.codec = _core.ActionCodec(scenario, action_encoding)
        if learning_rate is None:
            learning_rate = scenario.get("convergence.sgd.learning_rate")
        self.learning_rate = float(learning_rate)
        if not 0 < self.learning_rate <= MAX_LEARNING_RATE:
            raise ValueError(f"learning_rate: must be in (0, {MAX_LEARNING_RATE:g}] (what the worker accepts), got "
                             f"{self.learning_rate}")
        # The worker's model (the dataset's manifest names it) and the
        # simulator's per-epoch learning-rate schedule, from the base rate.
        self.net = dataset.model
        self.schedule = models.LrSchedule.from_scenario(scenario.get, rate=self.learning_rate)
        momentum = float(scenario.get("convergence.sgd.momentum"))
        if momentum != 0:
            raise ValueError(f"convergence.sgd.momentum: got {momentum:g}, expected 0: the runner's parameter store "
                             "applies plain SGD steps (heavy-ball momentum needs a velocity kept in the store)")
        if max_attempts < 1:
            raise ValueError(f"max_attempts: must be >= 1, got {max_attempts}")
        if budget_margin is None:
            budget_margin = float(scenario.get("job.budget_margin"))
        if not budget_margin >= 1:
            raise ValueError(f"budget_margin: must be >= 1, got {budget_margin}")
        self.max_attempts = max_attempts
        self.budget_margin = budget_margin
        self.fault = fault
        self.store = ParameterStore(backend.s3, self.bucket, self.prefix)
        self._rng = random.Random(seed)
        self._seed = seed
        self._backoff_base = float(scenario.get("lambda.throttle_backoff_base_s"))
        self._backoff_cap = float(scenario.get("lambda.throttle_backoff_cap_s"))
        self._timeout_s: float | None = None  # The function's, read at the first epoch.
        self._initial_timeout_s: float | None = None  # Restored by restore_timeout().
        # Largest real cost / projected mean of an epoch so far (>= 1).
        self._correction = 1.0
        self.invocations: list[dict] = []
        self.batch_rows: list[dict] = []
        self.records: list[dict] = []
        self.adjustments: list[tuple[int, str, str]] = []
        self.requests = S3Counter()  # Every worker request of the job.
        self.initial_loss = float("nan")
        self._state = None
        self._manifest = dataset.manifest()  # Sent with every invocation.
        self._ended = True
        self._cancelled = threading.Event()  # Set when the runner stops mid-epoch.

    # --- episode ------------------------------------------------------------
    def reset(self) -> np.ndarray:
        """Uploads the data, initialises the parameters; the first observation."""
        s3 = self.backend.s3
        try:
            _ensure_bucket(s3, self.bucket, create=self.backend.name == "local")
            upload(s3, self.bucket, self.prefix, self.dataset)
            params = self.net.initial_parameters()
            self._state = self.store.initialise(params, len(self.dataset.batches))
        except Exception as error:
            lost = _s3_lost(error, getattr(self.backend, "endpoint_url", None))
            if lost is not None:
                raise lost from None
            raise
        self.initial_loss = self.net.loss(params, self.dataset.held_out)
        self.invocations, self.batch_rows, self.records, self.adjustments = [], [], [], []
        self.requests = S3Counter()
        self._correction = 1.0
        self._ended = False
        self._cancelled.clear()
        return _core.initial_observation(self.scenario)

    def step(self, action: Any) -> tuple[np.ndarray, float, bool, bool, dict]:
        if self._ended:
            raise RuntimeError("step() before reset() or after the job ended")
        decoded = self.codec.decode(np.asarray(action, dtype=np.float64))
        adjustments = self._action_adjustments(action, decoded)
        left = self.scenario.budget_usd - self._cumulative("cumulative_cost_usd")
        if self._timeout_s is None:
            self._timeout_s = float(getattr(self.backend, "timeout_s", None) or self.scenario.get("lambda.timeout_s"))
        decoded = self._clamp_to_budget(decoded, left, adjustments)
        functions, memory_mb = decoded["functions"], decoded["memory_mb"]
        projection, projected, runner_reserve, plan, why = self._guard(functions, memory_mb, left)
        if why:
            outcome = self._stop_for_budget(decoded, projected, why)
            self._note_adjustments(outcome[-1], adjustments)
            return outcome
        try:
            self._check_backend()
            record = self._run_epoch(functions, memory_mb, EpochLedger(left - runner_reserve, plan))
        except BaseException as error:
            self._ended = True  # The store may be mid-epoch: no further step.
            lost = _s3_lost(error, getattr(self.backend, "endpoint_url", None))
            if lost is not None:
                raise lost from None
            raise
        record.update(requested_memory_mb=decoded["requested_memory_mb"],
                      memory_clamped=decoded["memory_clamped"], projected_cost_usd=projected,
                      requested_functions=decoded["requested_functions"],
                      budget_clamped=decoded["budget_clamped"])
        if projection["mean_usd"] > 0:
            self._correction = max(self._correction, record["cost_total_usd"] / projection["mean_usd"])
        if record["functions_used"] < functions:
            adjustments.append(("functions_used", f"{functions} functions asked, {record['functions_used']} ran: "
                                                  f"the epoch has {len(self.dataset.batches)} batches (one "
                                                  "function per batch at most, as in the simulator)"))
        self._note_adjustments(record, adjustments)
        scored = _core.score_epoch(self.scenario, record)
        status = scored["status"]
        if record["budget_guard"]:
            # The guard cut the epoch: the budget stopped the job.
            status = "budget_exhausted"
            record["budget_stop"] = "mid_epoch"
        elif record["failure"]:
            status = "failed"  # Never accepted with missing batches.
        record["status"] = status
        self.records.append(record)
        self._ended = status != "running"
        terminated = scored["terminated"] or status in ("budget_exhausted", "failed")
        return scored["observation"], scored["reward"], terminated, scored["truncated"], record

    def _guard(self, functions: int, memory_mb: int, left: float) -> tuple[dict, float, float, Any, str]:
        """The budget guard's test of an epoch of ``functions`` at
        ``memory_mb`` with ``left`` of budget: (projection, projected cost,
        runner reserve, plan, why), ``why`` empty when the epoch may run."""
        projection = self._projection(functions, memory_mb)
        projected = projection["max_usd"] * self.budget_margin * self._correction
        used = min(functions, len(self.dataset.batches))
        runner_reserve = self._runner_reserve(used, memory_mb)
        folder = None
        if self.push_protocol == "fold":
            folder = folder_allowance(self.scenario, memory_mb, used, len(self.dataset.batches),
                                      self._fold_interval_ms / 1000.0, projection, self._timeout_s)
        plan = plan_epoch(self.scenario, memory_mb, used, left, self._timeout_s, projection, runner_reserve, folder)
        why = ("its projected cost exceeds the budget left" if projected + runner_reserve > left
               else "the budget left cannot pay one short invocation per function" if plan is None else "")
        return projection, projected, runner_reserve, plan, why

    def _clamp_to_budget(self, decoded: dict, left: float, adjustments: list[tuple[str, str]]) -> dict:
        """With the scenario's env.action_clamp budget, the decoded action,
        or the closest one the guard lets run (``_core.clamp_to_budget``
        with the guard's own test, ``_guard``), as the simulated env clamps
        it; a change is added to ``adjustments``. Adds requested_functions
        and budget_clamped to the decoded dict."""
        decoded = dict(decoded, requested_functions=decoded["functions"], budget_clamped=False)
        if self.scenario.get("env.action_clamp") != "budget":
            return decoded
        functions, memory_mb = decoded["functions"], decoded["memory_mb"]
        clamp = _core.clamp_to_budget(self.scenario, functions, memory_mb,
                                      lambda n, m: not self._guard(n, m, left)[-1])
        if not clamp["clamped"]:
            return decoded
        decoded.update(functions=clamp["functions"], memory_mb=clamp["memory_mb"], budget_clamped=True)
        adjustments.append(("budget_clamped", f"{functions} functions at {memory_mb} MB clamped to "
                                              f"{clamp['functions']} at {clamp['memory_mb']} MB: the budget guard "
                                              f"would not run the action with ${left:.6f} left "
                                              "(env.action_clamp=budget)"))
        return decoded

    def _action_adjustments(self, action: Any, decoded: dict) -> list[tuple[str, str]]:
        """(kind, text) of each change the codec made to ``action``."""
        out: list[tuple[str, str]] = []
        raw = np.asarray(action, dtype=np.float64).reshape(-1)
        if self.codec.action_encoding == "box" and np.any(np.abs(raw) > 1):
            shown = ", ".join(f"{v:.4g}" for v in raw)
            out.append(("action_clipped", f"action [{shown}] clipped to the Box [-1, 1] (as the simulator's env "
                                          "clips it)"))
        if decoded["memory_clamped"]:
            out.append(("memory_clamped", f"memory {decoded['requested_memory_mb']} MB clamped up to "
                                          f"{decoded['memory_mb']} MB, the smallest size the workload fits in"))
        return out

    def _note_adjustments(self, record: dict, adjustments: list[tuple[str, str]]) -> None:
        """The epoch's ``action_clipped`` and ``adjustment`` columns, and
        ``self.adjustments``."""
        record["action_clipped"] = any(kind == "action_clipped" for kind, _ in adjustments)
        record["adjustment"] = "; ".join(text for _, text in adjustments)
        self.adjustments += [(record["epoch"], kind, text) for kind, text in adjustments]

    def restore_timeout(self) -> None:
        """Puts back the function's timeout the budget guard lowered (call
        once the job is over: the function outlives the run on AWS)."""
        if self._initial_timeout_s is not None:
            self.backend.set_timeout(self._initial_timeout_s)
            self._timeout_s, self._initial_timeout_s = self._initial_timeout_s, None

    def _check_backend(self) -> None:
        """RunnerError when the backend says it cannot run (its ``check()``)."""
        check = getattr(self.backend, "check", None)
        problem = check() if check is not None else None
        if problem:
            raise S3Unreachable(problem)

    @property
    def ended(self) -> bool:
        return self._ended

    def _cumulative(self, key: str) -> float:
        """The job's running total ``key`` after its last epoch (0 before)."""
        return self.records[-1][key] if self.records else 0.0

    # --- budget guard (budget.py) ---------------------------------------------
    def _projection(self, functions: int, memory_mb: int) -> dict:
        """The simulator's projection of the next epoch from the job's memory
        history (its last epoch's functions stay warm at the same size)."""
        last = self.records[-1] if self.records else None
        previous = int(last["action_memory_mb"]) if last else 0
        warm = int(last["functions_used"]) if last and previous == memory_mb else 0
        return _core.project_epoch_cost(self.scenario, functions, memory_mb, previous_memory_mb=previous,
                                        warm_instances=warm, epoch=len(self.records), seed=self._seed)

    def _runner_reserve(self, used: int, memory_mb: int) -> float:
        """The most the runner's own requests can cost in an epoch: the
        barrier's PUT, its reads at the barrier (one per recovery round and
        the last) and one read after each failed invocation."""
        rates = _core.billing_rates(self.scenario, memory_mb)
        gets = 2 + self.max_attempts * (1 + used + 1)
        # Under fold, the end marker of each round (the shares', then each
        # recovery round's) and a read after each failed folder invocation.
        puts = 1 + (1 + self.max_attempts if self.push_protocol == "fold" else 0)
        if self.push_protocol == "fold":
            gets += (1 + self.max_attempts) * self.max_attempts
        return puts * rates["s3_usd_per_put"] + gets * rates["s3_usd_per_get"]

    def _stop_for_budget(self, decoded: dict, projected: float,
                         why: str) -> tuple[np.ndarray, float, bool, bool, dict]:
        self._ended = True
        record = {"epoch": len(self.records), "action_functions": decoded["functions"],
                  "action_memory_mb": decoded["memory_mb"], "requested_functions": decoded["requested_functions"],
                  "budget_clamped": decoded["budget_clamped"], "status": "budget_exhausted",
                  "budget_stop": "before_epoch", "projected_cost_usd": projected,
                  "cumulative_cost_usd": self._cumulative("cumulative_cost_usd"),
                  "cumulative_time_s": self._cumulative("cumulative_time_s"), "skipped": True,
                  "failure": "", "budget_reason": why}
        if self.records:
            observation = _core.score_epoch(self.scenario, self.records[-1])["observation"]
        else:
            observation = _core.initial_observation(self.scenario)
        reward = -float(self.scenario.get("env.budget_penalty"))
        return observation, reward, True, False, record

    def _invocation_cost(self, row: dict, memory_mb: int, allowance: dict) -> tuple[float, float]:
        """(billed seconds, cost in USD) of one invocation: the platform's
        billed duration when it says, else its handler time plus its INIT
        where billed; its S3 requests at their counts (an unknown count at
        its allowance, the most it can be)."""
        gets = row["s3_gets"] if row["s3_counts_known"] else allowance["gets"]
        # LISTs are billed as PUTs.
        puts = row["s3_puts"] + row["s3_lists"] if row["s3_counts_known"] else \
            allowance["puts"] + allowance.get("lists", 0)
        bill = _core.bill_epoch(self.scenario, [row["duration_s"]], memory_mb, int(gets), int(puts),
                                init_s=[row["init_s"] if row["cold"] else 0.0],
                                platform_billed_s=[row["platform_billed_s"]])
        return bill["billed_s"][0], bill["cost_total_usd"]

    # --- one epoch ----------------------------------------------------------
    def _run_epoch(self, functions: int, memory_mb: int, ledger: EpochLedger) -> dict:
        epoch = len(self.records)
        reconfigure_start = time.perf_counter()
        self.backend.set_memory(memory_mb)
        # The guard's hard cap on time: lowered, never raised, within a job.
        if ledger.plan.timeout_s < self._timeout_s:
            if self._initial_timeout_s is None:
                self._initial_timeout_s = self._timeout_s
            self.backend.set_timeout(ledger.plan.timeout_s)
            self._timeout_s = ledger.plan.timeout_s
        reconfigure_s = time.perf_counter() - reconfigure_start
        runner_requests_before = (self.store.counter.gets, self.store.counter.puts)
        self._state = self.store.begin_epoch(self._state, epoch)
        start_version = self._state.version
        shares = split_batches(len(self.dataset.batches), functions)
        log = _EpochLog()
        guard = {"hit": False}
        start = time.perf_counter()
        try:
            record = self._finish_epoch(epoch, functions, memory_mb, shares, log, guard, ledger, start,
                                        start_version, reconfigure_s, runner_requests_before)
            record["function_timeout_s"] = self._timeout_s
            return record
        finally:
            # Every invocation and batch reaches the trace, also of a failed epoch.
            self.invocations += log.invocations
            self.batch_rows += log.batches
            self.requests.add(log.requests)

    def _finish_epoch(self, epoch: int, functions: int, memory_mb: int, shares: list[list[int]], log: _EpochLog,
                      guard: dict, ledger: EpochLedger, start: float, start_version: int, reconfigure_s: float,
                      runner_requests_before: tuple[int, int]) -> dict:
        self._run_round(epoch, 0, [(worker, share) for worker, share in enumerate(shares)], memory_mb, log, start,
                        guard, ledger)
        # The barrier: every batch applied exactly once, or recover.
        state = self.store.read()
        recovered = 0
        for round_ in range(1, self.max_attempts + 1):
            missing = self._missing(state, log)
            if not missing or guard["hit"]:
                break
            recovered += len(missing)
            self._run_round(epoch, round_, [(len(shares), missing)], memory_mb, log, start, guard, ledger)
            state = self.store.read()
        duration_s = time.perf_counter() - start
        missing = len(self._missing(state, log))
        failure = ""
        if missing and guard["hit"]:
            failure = (f"epoch {epoch}: {missing} of {len(state.applied)} batches not applied: the budget guard "
                       f"refused their invocation (one more could overspend the budget of "
                       f"${self.scenario.budget_usd:g})")
        elif missing:
            failure = (f"epoch {epoch}: {missing} of {len(state.applied)} batches not applied after recovery "
                       f"(max_attempts={self.max_attempts}); see the worker errors in the trace")
        self._state = state
        loss = self.net.loss(state.params, self.dataset.held_out)
        runner_gets = self.store.counter.gets - runner_requests_before[0]
        runner_puts = self.store.counter.puts - runner_requests_before[1]
        protocol_fields = self._protocol_fields(state, log)  # Before the summary: sets fold's staleness.
        record = self._summarise(epoch, functions, memory_mb, len(shares), log, duration_s, loss,
                                 runner_gets, runner_puts)
        # The store counts applied updates exactly, also those whose
        # invocation failed before it could report them. Under overwrite,
        # as in the simulator, every write counts as an applied update (its
        # version is the lineage's: read + 1) and lost_updates says how many
        # of them the final parameters miss.
        record.update(protocol_fields)
        applied = record["updates"] if self.push_protocol == "overwrite" else state.version - start_version
        record.update(updates=applied, reported_updates=record["updates"],
                      reconfigure_s=reconfigure_s, recovered_batches=recovered, budget_guard=guard["hit"],
                      missing_batches=missing, parameter_version=state.version, failure=failure)
        return record

    def _missing(self, state: Any, log: _EpochLog) -> list[int]:
        """The batches a recovery round must run: those not in the store's
        bitmap; under overwrite, of those, the ones no worker reported
        pushing (an update overwritten by another worker's is lost, as the
        protocol allows, not re-run)."""
        missing = [int(b) for b in np.flatnonzero(~state.applied)]
        if self.push_protocol == "overwrite":
            with log.lock:
                pushed = {int(b["batch"]) for b in log.batches if not b["skipped"]}
            missing = [b for b in missing if b not in pushed]
        return missing

    def _protocol_fields(self, state: Any, log: _EpochLog) -> dict:
        """The push protocol's epoch fields: lost_updates (overwrite: pushes
        whose batch is absent from the final bitmap), folds and
        list_requests (fold), discarded_updates (fold: re-pushed deltas of
        batches already applied); and under fold each applied worker row's
        staleness, as the folder measured it."""
        pushes = [b for b in log.batches if not b["skipped"]]
        lost = sum(1 for b in pushes if not state.applied[int(b["batch"])]) \
            if self.push_protocol == "overwrite" else 0
        if self.push_protocol == "fold":
            staleness = {(f["worker"], f["batch"]): f["staleness"] for f in log.folded}
            for row in pushes:
                row["staleness"] = staleness.get((row["worker"], row["batch"]), -1)
        return {"lost_updates": lost, "folds": log.folds, "list_requests": log.requests.lists,
                "discarded_updates": log.discarded}

    def _run_round(self, epoch: int, round_: int, shares: list[tuple[int, list[int]]], memory_mb: int,
                   log: _EpochLog, start: float, guard: dict, ledger: EpochLedger) -> None:
        """Runs one round of worker shares ((worker index, batches) each).
        Under fold the round's folder runs beside them; once every worker
        invocation has returned, the runner writes the round's end marker
        and waits for the folder to fold what is left."""
        workers = [lambda worker=worker, batches=batches: self._run_share(epoch, worker, batches, memory_mb, log,
                                                                          start, guard, ledger)
                   for worker, batches in shares]
        if self.push_protocol != "fold":
            self._run_shares(workers)
            return
        folder = [lambda: self._run_folder(epoch, round_, memory_mb, log, start, guard, ledger)]
        self._run_shares(workers, background=folder, then=lambda: self.store.put(
            fold.end_key(self.prefix, epoch, round_), b""))

    def _run_shares(self, shares: list[Any], background: list[Any] = (), then: Any = None) -> None:
        """Runs each callable of ``shares`` on its own daemon thread and waits
        for all of them in short slices, checking the backend's health in
        between. An exception here (a signal in the runner's thread, a lost
        backend) cancels the in-flight invocations and waits at most
        _CANCEL_WAIT_S for their threads; an exception of a share is raised
        once all have ended. ``background`` callables start first and run
        on: once every share has ended, ``then()`` runs, and the runner waits
        for them too (the fold protocol's folder and its end marker)."""
        errors: list[BaseException] = []

        def run(share: Any) -> None:
            try:
                share()
            except BaseException as error:  # Re-raised in the runner's thread.
                errors.append(error)

        def start(callables: list[Any], first: int) -> list[threading.Thread]:
            threads = [threading.Thread(target=run, args=(share,), daemon=True, name=f"siren-share-{first + i}")
                       for i, share in enumerate(callables)]
            for thread in threads:
                thread.start()
            return threads

        waiting = start(list(background), len(shares))
        threads = start(shares, 0) + waiting
        try:
            for thread in threads[:len(shares)]:
                self._join(thread)
            if then is not None and background:
                then()
            for thread in waiting:
                self._join(thread)
        except BaseException:
            self._cancelled.set()
            cancel = getattr(self.backend, "cancel", None)
            if cancel is not None:
                cancel()
            deadline = time.monotonic() + _CANCEL_WAIT_S
            for thread in threads:
                thread.join(max(0.0, deadline - time.monotonic()))
            raise
        if errors:
            raise errors[0]

    def _join(self, thread: threading.Thread) -> None:
        """Waits for ``thread`` in short slices, checking the backend."""
        while thread.is_alive():
            thread.join(_POLL_S)
            self._check_backend()

    def _run_share(self, epoch: int, worker: int, batches: list[int], memory_mb: int, log: _EpochLog,
                   epoch_start: float, guard: dict, ledger: EpochLedger) -> None:
        """Invokes one worker for ``batches`` until they are applied, with
        throttle back-off and re-invocation; records everything in ``log``.
        Every invocation first gets its reservation from ``ledger``; when it
        does not fit, the guard stops the share. RunnerError after
        MAX_THROTTLES throttles in a row."""
        attempt, throttles, unknown = 0, 0, 0
        todo = list(batches)
        allowance = {"gets": ledger.plan.allowance.gets, "puts": ledger.plan.allowance.puts}
        while todo and attempt < self.max_attempts:
            if self._cancelled.is_set():
                return
            if guard["hit"] or not ledger.reserve(self._cancelled):
                guard["hit"] = True
                return
            event = {"bucket": self.bucket, "prefix": self.prefix, "epoch": epoch, "batches": todo,
                     "learning_rate": self.schedule.at(epoch), "manifest": self._manifest, "allowance": allowance,
                     "push_protocol": self.push_protocol, "worker": worker, "seed": self._seed,
                     "cas_backoff_ms": self._cas_backoff_ms, "cas_backoff_cap_ms": self._cas_backoff_cap_ms}
            if self.fault and attempt == 0 and self.fault.get("worker", 0) == worker and \
                    self.fault.get("epoch", 0) == epoch:
                event["fault"] = {k: v for k, v in self.fault.items() if k in ("token", "at_batch", "when", "how")}
            sent = time.perf_counter() - epoch_start
            result = self.backend.invoke(event)
            returned = time.perf_counter() - epoch_start
            if result.status == THROTTLED:
                ledger.settle(0.0)  # Not run, not billed.
                throttles += 1
                self._back_off_throttled(f"epoch {epoch}, worker {worker}", throttles, result, log)
                continue
            attempt, throttles = attempt + 1, 0
            row = self._record_invocation(epoch, worker, attempt, todo, result, sent, returned, log, memory_mb,
                                          allowance)
            ledger.settle(row["cost_usd"])
            if self._cancelled.is_set():
                return
            if result.status == OK:
                todo = [int(b) for b in result.payload.get("remaining", [])]
            else:
                if result.outcome_unknown:
                    # A platform failure, not the worker's: back off first,
                    # as for a throttle (it may also still be running).
                    unknown += 1
                    delay = min(self._backoff_cap, self._backoff_base * 2 ** min(unknown - 1, 20))
                    with log.lock:
                        jitter = self._rng.uniform(0.5, 1.0)
                    self._cancelled.wait(delay * jitter)
                    if self._cancelled.is_set():
                        return
                # Re-invoke for what the failed attempt did not apply.
                state = self.store.read()
                todo = [b for b in todo if not state.applied[b]]

    def _back_off_throttled(self, who: str, throttles: int, result, log: _EpochLog) -> None:
        """After the ``throttles``-th throttle in a row of ``who`` (a worker or
        the folder): counts it, then waits a jittered exponential back-off
        (or less, when the job is cancelled); more than ``MAX_THROTTLES`` in
        a row is an error."""
        if throttles > MAX_THROTTLES:
            raise RunnerError(f"{who}: throttled {MAX_THROTTLES} times in a row; is the function's reserved or the "
                              "account's concurrency used up?")
        delay = min(self._backoff_cap, self._backoff_base * 2 ** min(throttles - 1, 20))
        with log.lock:
            log.throttles += 1
            log.scaling_throttles += int(result.scaling_throttle)
            jitter = self._rng.uniform(0.5, 1.0)
        self._cancelled.wait(delay * jitter)

    def _run_folder(self, epoch: int, round_: int, memory_mb: int, log: _EpochLog, epoch_start: float, guard: dict,
                    ledger: EpochLedger) -> None:
        """Invokes the fold protocol's folder for ``round_`` until it says it
        finished: a throttled call is retried after the same back-off as a
        worker's, one that fails or stops early (deadline, allowance) is
        re-invoked, up to ``max_attempts`` times, each under its own
        reservation (``plan.folder_reservation_usd``); the guard stops it
        when one does not fit. Its row in the trace has role "folder" and
        worker -1."""
        plan = ledger.plan
        usd = plan.folder_reservation_usd
        allowance = {"gets": plan.folder_allowance.gets, "puts": plan.folder_allowance.puts,
                     "lists": plan.folder_allowance.lists}
        attempt, throttles = 0, 0
        while attempt < self.max_attempts:
            if self._cancelled.is_set():
                return
            if guard["hit"] or not ledger.reserve(self._cancelled, usd):
                guard["hit"] = True
                return
            event = {"role": "folder", "bucket": self.bucket, "prefix": self.prefix, "epoch": epoch, "round": round_,
                     "fold_interval_ms": self._fold_interval_ms, "allowance": allowance}
            sent = time.perf_counter() - epoch_start
            result = self.backend.invoke(event)
            returned = time.perf_counter() - epoch_start
            if result.status == THROTTLED:
                ledger.settle(0.0, usd)
                throttles += 1
                self._back_off_throttled(f"epoch {epoch}, folder", throttles, result, log)
                continue
            attempt, throttles = attempt + 1, 0
            row = self._record_invocation(epoch, -1, attempt, [], result, sent, returned, log, memory_mb, allowance,
                                          role="folder")
            ledger.settle(row["cost_usd"], usd)
            payload = result.payload or {}
            with log.lock:
                log.folded += [dict(f) for f in payload.get("folded", [])]
                log.folds += int(payload.get("folds", 0))
                log.discarded += int(payload.get("discarded", 0))
            if result.status == OK and payload.get("finished"):
                return

    def _record_invocation(self, epoch: int, worker: int, attempt: int, batches: list[int], result: Invocation,
                           sent: float, returned: float, log: _EpochLog, memory_mb: int,
                           allowance: dict, role: str = "worker") -> dict:
        payload = result.payload or {}
        # The requests: the payload's when the handler returned, else what
        # the backend knows of the failed invocation's, else unknown.
        if result.status == OK and "s3_gets" in payload:
            counter: S3Counter | None = S3Counter.from_dict(payload)
        else:
            counter = result.s3_requests
        unknown = float("nan")
        platform_billed_s = result.billed_s if result.billed_s is not None else float("nan")
        if result.outcome_unknown:
            # It may have run to the function's timeout: billed as the most
            # the platform can bill for it, as its reservation assumed.
            bills_init = _core.billing_rates(self.scenario, memory_mb)["bills_init"]
            platform_billed_s = float(self._timeout_s or self.scenario.get("lambda.timeout_s")) + \
                (INIT_LIMIT_S if bills_init else 0.0)
        row = {"epoch": epoch, "worker": worker, "role": role, "attempt": attempt, "status": result.status,
               "error": result.error[:300], "batches_assigned": len(batches), "cold": result.cold,
               "init_s": result.init_s, "duration_s": result.duration_s,
               "platform_billed_s": platform_billed_s,
               "memory_mb": result.memory_mb, "sent_s": sent, "returned_s": returned,
               "s3_gets": counter.gets if counter is not None else unknown,
               "s3_puts": counter.puts if counter is not None else unknown,
               "s3_lists": counter.lists if counter is not None else unknown,
               "s3_counts_known": counter is not None,
               "remaining": len(payload.get("remaining", [])),
               "stopped_by_allowance": payload.get("stopped", "") == "allowance",
               "request_id": result.request_id, "transient_retries": result.transient_retries,
               "outcome_known": not result.outcome_unknown}
        row["billed_s"], row["cost_usd"] = self._invocation_cost(row, memory_mb, allowance)
        with log.lock:
            log.invocations.append(row)
            if counter is not None:
                log.requests.add(counter)
            for batch in payload.get("batches", []):
                log.batches.append(dict(batch, epoch=epoch, worker=worker, attempt=attempt))
        return row

    def _summarise(self, epoch: int, functions: int, memory_mb: int, used: int, log: _EpochLog,
                   duration_s: float, loss: float, runner_gets: int, runner_puts: int) -> dict:
        applied = [b for b in log.batches if not b["skipped"]]
        billed = [i for i in log.invocations if i["status"] != THROTTLED]
        gets = log.requests.gets + runner_gets
        puts = log.requests.puts + runner_puts
        # LISTs (the folder's) are billed as PUTs; s3_puts counts PUTs alone.
        bill = _core.bill_epoch(self.scenario, [i["duration_s"] for i in billed], memory_mb, gets,
                                puts + log.requests.lists,
                                init_s=[i["init_s"] if i["cold"] else 0.0 for i in billed],
                                platform_billed_s=[i["platform_billed_s"] for i in billed])
        compute = sum(b["compute_s"] for b in log.batches)
        billed_seconds = sum(bill["billed_s"])
        staleness = [b["staleness"] for b in applied if b["staleness"] >= 0]  # -1: a fold discarded it.
        record = {
            "epoch": epoch, "action_functions": functions, "action_memory_mb": memory_mb, "functions_used": used,
            "duration_s": duration_s,
            "fetch_mean_s": _mean([b["fetch_s"] for b in log.batches]),
            "fetch_p95_s": _percentile95([b["fetch_s"] for b in log.batches]),
            "compute_mean_s": _mean([b["compute_s"] for b in applied]),
            "compute_p95_s": _percentile95([b["compute_s"] for b in applied]),
            "update_mean_s": _mean([b["update_s"] for b in applied]),
            "update_p95_s": _percentile95([b["update_s"] for b in applied]),
            "batches": len(log.batches), "updates": len(applied),
            "mean_staleness": _mean(staleness), "max_staleness": int(max(staleness, default=0)),
            "invocations": len(billed), "cold_starts": sum(1 for i in billed if i["cold"]),
            "warm_starts": sum(1 for i in billed if not i["cold"]), "throttles": log.throttles,
            "scaling_throttles": log.scaling_throttles,
            "timeouts": sum(1 for i in billed if i["status"] == TIMEOUT),
            "reinvocations": sum(1 for i in billed if i["attempt"] > 1),
            "s3_slowdowns": 0, "s3_gets": gets, "s3_puts": puts,
            "billed_gb_s": bill["billed_gb_s"], "init_billed_s": bill["init_billed_s"],
            "cpu_utilisation": min(1.0, compute / billed_seconds) if billed_seconds > 0 else 0.0,
            "memory_utilisation": min(1.0, self.scenario.get("workload.runtime_memory_mb") / memory_mb),
            "cost_function_duration_usd": bill["cost_function_duration_usd"],
            "cost_function_request_usd": bill["cost_function_request_usd"],
            "cost_s3_request_usd": bill["cost_s3_request_usd"], "cost_total_usd": bill["cost_total_usd"],
            "loss": loss, "true_loss": loss, "progress": float("nan"),
            "cumulative_time_s": self._cumulative("cumulative_time_s") + duration_s,
            "cumulative_cost_usd": self._cumulative("cumulative_cost_usd") + bill["cost_total_usd"],
            "status": "running", "budget_stop": "none", "projected_cost_usd": 0.0, "events": 0,
            "update_conflicts": sum(b["conflicts"] for b in log.batches),
            "lost_updates": 0, "folds": 0, "list_requests": 0,
            "skipped_batches": len(log.batches) - len(applied),
            "worker_errors": sum(1 for i in billed if i["status"] == ERROR),
            "init_mean_s": _mean([i["init_s"] for i in billed if i["cold"]]),
            "runner_s3_gets": runner_gets, "runner_s3_puts": runner_puts,
            "s3_unknown_invocations": sum(1 for i in billed if not i["s3_counts_known"]),
        }
        return in_table_order(record)


def _ensure_bucket(s3: Any, bucket: str, create: bool) -> None:
    """Checks that the bucket exists (HeadBucket: s3:ListBucket on it, in the
    runner's policy); creates it when missing if ``create`` (the local
    server), else raises RunnerError pointing at ``siren deploy``."""
    try:
        s3.head_bucket(Bucket=bucket)
        return
    except Exception as error:  # botocore ClientError; kept import-free.
        code = str(getattr(error, "response", {}).get("Error", {}).get("Code", ""))
        if code not in ("404", "NoSuchBucket", "NotFound"):
            raise RunnerError(f"bucket {bucket!r}: {code or type(error).__name__} "
                              "(is the runner allowed s3:ListBucket on it?)") from None
    if not create:
        raise RunnerError(f"bucket {bucket!r} does not exist: create it with `siren deploy --bucket {bucket} ...`")
    s3.create_bucket(Bucket=bucket)
