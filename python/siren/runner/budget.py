"""The runner's budget guard: a real job never spends more than
``job.budget_usd``.

Two checks, as in the simulator (``job.budget_guard``, sim/scenario/scenario.h):

1. **Before an epoch**, its cost is projected by the simulator's own
   projection (``_core.project_epoch_cost``: the epoch simulated from the
   job's memory history and warm instances, S3 requests that grow with n,
   cold starts and their billed INIT, throttles and re-invocations
   included), times ``job.budget_margin``, times a correction learnt from
   the job itself: the largest ratio so far of an epoch's real cost to its
   projected mean (never below 1). An epoch that could overspend is not
   started: the job ends ``budget_exhausted`` (``budget_stop`` before_epoch).
2. **During an epoch**, nothing is invoked that the budget left could not
   pay in the worst case. Every invocation holds a reservation of what it
   can cost at most: its request, its INIT phase where billed (up to
   Lambda's INIT limit), its run up to the function's timeout, one billing
   unit, and an allowance of S3 GETs and PUTs that the worker never exceeds
   (``RequestAllowance``: the batch that would is left undone). The
   function's timeout is the hard cap of the run (the platform kills the
   invocation there): before the epoch it is lowered, when needed, so that
   ``functions`` such reservations fit in the budget left. A reservation is
   settled at the invocation's real bill when it returns; a retry or a
   recovery gets a new one only if it fits (waiting, if needed, for the
   invocations in flight to settle), otherwise the guard stops the epoch
   there (``budget_stop`` mid_epoch: its missing batches are listed in
   ``failure``, and the job ends ``budget_exhausted``). Under push protocol
   fold the epoch's folder is one more invocation: its reservation (its
   own allowance, LISTs included, ``folder_allowance``) is part of the plan
   and of the timeout's sizing, like a worker's.

What the guarantee rests on: the platform's timeout (an invocation is billed
at most to it), the INIT limit (AWS ends an INIT phase at 10 s), the worker
counting its requests before sending them, and the prices of the scenario.
A lowered timeout is a configuration update, which on AWS (one function
reconfigured) retires its warm instances: it happens only when the budget is
tight, and only downward within a job.
"""

from __future__ import annotations

import math
import threading
from dataclasses import dataclass

from siren import _core

from .protocol import RequestAllowance

__all__ = ["EpochLedger", "EpochPlan", "INIT_LIMIT_S", "MIN_TIMEOUT_S", "folder_allowance", "plan_epoch"]

# Lambda's limit on the INIT phase of an on-demand function (beyond it the
# phase is cut and retried within the invocation, under its timeout).
INIT_LIMIT_S = 10.0
# The shortest timeout worth running: the worker leaves 1 s before its
# timeout plus 3x its slowest batch (worker.py), so a shorter one could not
# do a batch.
MIN_TIMEOUT_S = 2.0


@dataclass(frozen=True)
class EpochPlan:
    """What the guard allows one epoch: the function timeout (s), each
    invocation's S3 allowance, and the worst-case cost of one invocation
    under them (its reservation); under push protocol fold, the same for
    the folder (None and 0 otherwise)."""

    timeout_s: float
    allowance: RequestAllowance
    reservation_usd: float
    folder_allowance: RequestAllowance | None = None
    folder_reservation_usd: float = 0.0


def folder_allowance(scenario: _core.Scenario, memory_mb: int, functions: int, batches: int,
                     fold_interval_s: float, projection: dict, timeout_s: float) -> RequestAllowance:
    """The fold protocol's folder's S3 allowance for an epoch of ``batches``:
    a GET per delta (twice over, for re-pushes) and per parameter read, a
    fold PUT per delta at most, and a LIST per ``fold_interval_s`` for 2x the
    projected epoch (its duration cost over ``functions`` functions; the
    function's timeout when the projection has none), plus 20. A folder that
    spends it stops and is re-invoked under a new reservation."""
    rates = _core.billing_rates(scenario, memory_mb)
    epoch_s = timeout_s
    if rates["usd_per_s"] > 0 and projection.get("mean_duration_usd", 0) > 0:
        epoch_s = min(timeout_s, projection["mean_duration_usd"] / rates["usd_per_s"] / max(1, functions))
    lists = int(math.ceil(2.0 * epoch_s / fold_interval_s)) + 20
    return RequestAllowance(gets=2 * batches + 4, puts=batches + 2, lists=lists)


def plan_epoch(scenario: _core.Scenario, memory_mb: int, functions: int, left_usd: float, timeout_s: float,
               projection: dict, runner_reserve_usd: float,
               folder: RequestAllowance | None = None) -> EpochPlan | None:
    """The plan for an epoch of ``functions`` invocations at ``memory_mb``
    (and, with ``folder``, the fold protocol's folder under that allowance)
    with ``left_usd`` of budget, or None when the budget cannot pay each
    of them MIN_TIMEOUT_S (or ``timeout_s``, if shorter). ``timeout_s`` is the scenario's (the plan's is never longer);
    ``projection`` is the epoch's (``_core.project_epoch_cost``), whose mean
    S3 requests per function size the allowance at 1.5x the mean plus 2 (an
    invocation that spends it leaves its last batches to a re-invocation,
    which gets a new reservation if the budget allows). LISTs are billed as
    PUTs (S3 prices them alike)."""
    rates = _core.billing_rates(scenario, memory_mb)
    used = max(1, functions)
    allowance = RequestAllowance(gets=int(math.ceil(1.5 * projection["mean_s3_gets"] / used)) + 2,
                                 puts=int(math.ceil(1.5 * projection["mean_s3_puts"] / used)) + 2)
    init_s = INIT_LIMIT_S if rates["bills_init"] else 0.0

    def fixed_usd(requests: RequestAllowance) -> float:
        return (rates["request_usd"] + (init_s + rates["granularity_s"]) * rates["usd_per_s"]
                + requests.gets * rates["s3_usd_per_get"] + (requests.puts + requests.lists) * rates["s3_usd_per_put"])

    fixed = fixed_usd(allowance)
    folder_fixed = fixed_usd(folder) if folder is not None else 0.0
    count = used + (1 if folder is not None else 0)
    # What each of the ``count`` invocations has for its run time.
    per_function = (left_usd - runner_reserve_usd - used * fixed - folder_fixed) / count
    if per_function < 0:
        return None
    if rates["usd_per_s"] > 0:
        # Whole seconds: Lambda's timeout is an integer.
        affordable = math.floor(per_function / rates["usd_per_s"])
        if affordable < min(MIN_TIMEOUT_S, timeout_s):
            return None
        timeout_s = min(timeout_s, affordable)
    run_usd = timeout_s * rates["usd_per_s"]
    return EpochPlan(timeout_s=float(timeout_s), allowance=allowance, reservation_usd=fixed + run_usd,
                     folder_allowance=folder,
                     folder_reservation_usd=folder_fixed + run_usd if folder is not None else 0.0)


class EpochLedger:
    """The epoch's money, shared by its invocation threads: what is spent
    (settled bills, the runner's own requests) and reserved (invocations in
    flight), against the budget left at its start."""

    def __init__(self, left_usd: float, plan: EpochPlan) -> None:
        self.left_usd = left_usd
        self.plan = plan
        self.spent_usd = 0.0
        self.reserved_usd = 0.0
        self._open = 0  # Reservations not yet settled.
        self._changed = threading.Condition()

    def reserve(self, cancelled: threading.Event | None = None, usd: float | None = None) -> bool:
        """Reserves one invocation's worst case (``usd``; default a worker's,
        ``plan.reservation_usd``). When it does not fit while other
        invocations are in flight, waits for them to settle (their real cost
        is usually far below their reservation); False when it does not fit
        with none in flight, or when ``cancelled`` is set."""
        usd = self.plan.reservation_usd if usd is None else usd
        with self._changed:
            while self.spent_usd + self.reserved_usd + usd > self.left_usd:
                if self._open == 0 or (cancelled is not None and cancelled.is_set()):
                    return False
                self._changed.wait(0.1)
            self.reserved_usd += usd
            self._open += 1
            return True

    def settle(self, cost_usd: float, usd: float | None = None) -> None:
        """Replaces one reservation (``usd``, as reserved) by the
        invocation's real cost (0 for a throttled call, which is not
        billed)."""
        usd = self.plan.reservation_usd if usd is None else usd
        with self._changed:
            self.reserved_usd -= usd
            self.spent_usd += cost_usd
            self._open -= 1
            self._changed.notify_all()

    def charge(self, cost_usd: float) -> None:
        """Adds a cost without a reservation (the runner's own requests)."""
        with self._changed:
            self.spent_usd += cost_usd
