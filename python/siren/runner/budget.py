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
   ``failure``, and the job ends ``budget_exhausted``).

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

__all__ = ["EpochLedger", "EpochPlan", "INIT_LIMIT_S", "MIN_TIMEOUT_S", "plan_epoch"]

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
    under them (its reservation)."""

    timeout_s: float
    allowance: RequestAllowance
    reservation_usd: float


def plan_epoch(scenario: _core.Scenario, memory_mb: int, functions: int, left_usd: float, timeout_s: float,
               projection: dict, runner_reserve_usd: float) -> EpochPlan | None:
    """The plan for an epoch of ``functions`` invocations at ``memory_mb``
    with ``left_usd`` of budget, or None when the budget cannot pay each
    of them MIN_TIMEOUT_S (or ``timeout_s``, if shorter). ``timeout_s`` is the scenario's (the plan's is never longer);
    ``projection`` is the epoch's (``_core.project_epoch_cost``), whose mean
    S3 requests per function size the allowance at 1.5x the mean plus 2 (an
    invocation that spends it leaves its last batches to a re-invocation,
    which gets a new reservation if the budget allows)."""
    rates = _core.billing_rates(scenario, memory_mb)
    used = max(1, functions)
    allowance = RequestAllowance(gets=int(math.ceil(1.5 * projection["mean_s3_gets"] / used)) + 2,
                                 puts=int(math.ceil(1.5 * projection["mean_s3_puts"] / used)) + 2)
    init_s = INIT_LIMIT_S if rates["bills_init"] else 0.0
    fixed = (rates["request_usd"] + (init_s + rates["granularity_s"]) * rates["usd_per_s"]
             + allowance.gets * rates["s3_usd_per_get"] + allowance.puts * rates["s3_usd_per_put"])
    per_function = (left_usd - runner_reserve_usd) / used
    if per_function < fixed:
        return None
    if rates["usd_per_s"] > 0:
        # Whole seconds: Lambda's timeout is an integer.
        affordable = math.floor((per_function - fixed) / rates["usd_per_s"])
        if affordable < min(MIN_TIMEOUT_S, timeout_s):
            return None
        timeout_s = min(timeout_s, affordable)
    return EpochPlan(timeout_s=float(timeout_s), allowance=allowance,
                     reservation_usd=fixed + timeout_s * rates["usd_per_s"])


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

    def reserve(self, cancelled: threading.Event | None = None) -> bool:
        """Reserves one invocation's worst case. When it does not fit while
        other invocations are in flight, waits for them to settle (their real
        cost is usually far below their reservation); False when it does not
        fit with none in flight, or when ``cancelled`` is set."""
        with self._changed:
            while self.spent_usd + self.reserved_usd + self.plan.reservation_usd > self.left_usd:
                if self._open == 0 or (cancelled is not None and cancelled.is_set()):
                    return False
                self._changed.wait(0.1)
            self.reserved_usd += self.plan.reservation_usd
            self._open += 1
            return True

    def settle(self, cost_usd: float) -> None:
        """Replaces one reservation by the invocation's real cost (0 for a
        throttled call, which is not billed)."""
        with self._changed:
            self.reserved_usd -= self.plan.reservation_usd
            self.spent_usd += cost_usd
            self._open -= 1
            self._changed.notify_all()

    def charge(self, cost_usd: float) -> None:
        """Adds a cost without a reservation (the runner's own requests)."""
        with self._changed:
            self.spent_usd += cost_usd
