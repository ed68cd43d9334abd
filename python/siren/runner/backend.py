"""The interface between the runner and a platform: AWS Lambda (``aws.py``) or
the local stand-in (``local.py``).

A backend runs one worker invocation at a time per call of ``invoke`` (the
runner calls it from several threads at once: one thread per concurrent
worker) and reports what Lambda's REPORT line reports: the handler's
duration, the init duration of a cold start, and the memory size.
Throttling (HTTP 429) is reported, not retried: retry policy lives in the
runner, which also counts it (and apart, the throttles a backend can
attribute to the scaling-rate limit on new execution environments). A
backend may resend a request that never reached the function (a connection
that could not be made; on AWS, a refusal before the function started), as
an SDK's retries would, and says how often (``transient_retries``); an
invocation that may have started is never resent by the backend: it comes
back with ``outcome_unknown`` for the runner to re-invoke what is missing.

The S3 requests of an invocation come in its payload when it returns. One
that failed has none; its requests are then ``s3_requests`` when the backend
knows them (the local backend always does: the worker writes them to a pipe
as it goes; on AWS the handler's error message carries those of a handler
that raised), and None when nobody can know them (an AWS timeout or crash).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from .protocol import S3Counter

__all__ = ["Backend", "BackendLost", "Invocation", "OK", "THROTTLED", "ERROR", "TIMEOUT"]

OK = "ok"                # The handler returned; `payload` is its response.
THROTTLED = "throttled"  # 429 TooManyRequests: not run, not billed.
ERROR = "error"          # The handler raised (or the sandbox crashed); billed.
TIMEOUT = "timeout"      # Cut at the function's timeout; billed to the timeout.


class BackendLost(RuntimeError):
    """What the backend runs on is gone (the local S3 server died): one line
    naming it. Raised by the backend's S3 client instead of retrying."""


@dataclass
class Invocation:
    """One invocation's outcome, as Lambda reports it."""

    status: str                      # OK, THROTTLED, ERROR or TIMEOUT.
    payload: dict | None = None      # The handler's response (OK only).
    error: str = ""                  # Error type and message (ERROR, TIMEOUT).
    duration_s: float = 0.0          # Handler run time (the billed basis).
    billed_s: float | None = None    # The platform's billed duration, if it says.
    init_s: float = 0.0              # Init duration of a cold start; 0 when warm.
    cold: bool = False
    memory_mb: int = 0
    max_memory_used_mb: float | None = None
    # The S3 requests of an invocation without a payload (not OK), when the
    # backend knows them; None: unknown.
    s3_requests: S3Counter | None = None
    # THROTTLED by the scaling-rate limit on new execution environments.
    scaling_throttle: bool = False
    # The platform's id of the invocation (Lambda's RequestId; "" locally).
    request_id: str = ""
    # Requests the backend sent again because they never reached the
    # function (no connection, a refusal before the function started).
    transient_retries: int = 0
    # The request may have reached the function, and no answer says what it
    # did (AWS: a 5xx ServiceException, a connection dropped after sending):
    # an ERROR whose duration, bill and S3 requests are unknown. The runner
    # bills it at the most the platform can bill, backs off, and re-invokes
    # for the batches not yet applied.
    outcome_unknown: bool = False


class Backend(Protocol):
    """What the runner needs from a platform."""

    #: The runner's S3 client (boto3), for data upload, the barrier and eval.
    s3: Any
    #: The S3 endpoint workers must use (None: AWS's default).
    endpoint_url: str | None
    #: "aws" or "local".
    name: str

    def set_memory(self, memory_mb: int) -> None:
        """Configures the worker function's memory for the next invocations
        (waits until the change is live)."""

    def set_timeout(self, timeout_s: float) -> None:
        """Sets the function's timeout, s (the budget guard's hard cap on an
        invocation's run; waits until the change is live)."""

    def invoke(self, event: dict) -> Invocation:
        """Runs the worker once, synchronously, with ``event``."""

    def close(self) -> None:
        """Releases what the backend started (processes, servers)."""

    # Optional (the local backend has them; the runner uses them if present):
    #   check() -> str | None: None while the backend can run invocations,
    #       else one line why not (its S3 server died);
    #   cancel(): ends the invocations in flight at once (they return as
    #       errors) and refuses later ones: the runner is stopping (on AWS,
    #       what is in flight runs on; only the backend's waits end);
    #   single_function: False when each memory size has its own function
    #       (or alias) and warm pool, the simulator's lambda.single_function.
