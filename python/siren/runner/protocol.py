"""The HSP parameter-store protocols on S3 (DESIGN.md §2.2), shared by the
worker and the runner. Free of ``siren._core``: the Lambda package needs only
numpy and boto3.

Layout under ``s3://<bucket>/<prefix>/``::

    data/manifest.json        features, classes, batch size, batches, rows
    data/batch-000042.npz     one mini-batch (CSR arrays + labels)
    params.npz                the parameter store (one object, see below)
    updates/<epoch>/...       push protocol fold: pushed deltas (fold.py)
    faults/<token>            fault-injection markers (tests only)

The parameter store is a single object holding the parameters, a version
counter, the epoch and the set of the epoch's batches already applied (a
bitmap); the bitmap and the parameters change in one atomic write, so a batch
is applied at most once, whatever retries happen (a retried worker reads the
bitmap and skips applied batches), and the version counts the updates the
parameters hold. A push follows the scenario's ``execution.push_protocol``
(``PUSH_PROTOCOLS``; the simulator's ``apply`` has no S3 form):

- ``cas``: PUT with ``If-Match: <ETag read>`` (S3 conditional writes). When
  another worker wrote first, S3 answers 412; the pusher waits a jittered
  exponential back-off (``Backoff``), re-reads the store and applies its
  gradient to the newer parameters. Every push is applied, in arrival order;
  the staleness of an update is the number of versions written between the
  worker's parameter fetch and its successful push. The runner checks at the
  barrier that every batch is in the bitmap (nothing lost) and re-invokes
  for the missing ones.
- ``overwrite`` (the asynchronous update): one unconditional PUT of the
  parameters read plus the worker's update; last writer wins, and updates
  written by others between a worker's read and its write are lost (counted
  by the runner: pushed batches absent from the final bitmap). The object's
  version is then the length of the lineage it holds (read + 1), not the
  number of writes; the runner's ``updates`` counts the writes, as the
  simulator does, and a writer cannot see what it overwrote (its staleness
  is recorded as 0).
- ``fold``: the worker PUTs its update alone to a key of its own, and a
  folder function adds the updates into the parameters (``fold.py``): no
  push is refused or lost.

The version grows by exactly one per applied batch, which the tests use to
prove that nothing was applied twice.
"""

from __future__ import annotations

import io
import json
import os
import random
import re
import threading
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np

__all__ = [
    "PUSH_PROTOCOLS", "REQUESTS_MARK", "AllowanceSpent", "Backoff", "ParameterState", "ParameterStore",
    "RequestAllowance", "S3Counter", "batch_key", "decode_batch", "encode_batch", "is_precondition_failed",
    "split_requests", "validate_bucket_name", "validate_prefix", "with_requests",
]

PARAMS_KEY = "params.npz"
# The push protocols the runner implements on S3 (the scenario's
# execution.push_protocol; the simulator's "apply" has no S3 form).
PUSH_PROTOCOLS = ("cas", "overwrite", "fold")
MANIFEST_KEY = "data/manifest.json"
_BUCKET_RE = re.compile(r"^(?!xn--)(?!.*-s3alias$)(?!\d+\.\d+\.\d+\.\d+$)[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
_PREFIX_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._/-]{0,200}$")


def validate_bucket_name(name: str) -> str:
    """``name`` if it is a valid S3 bucket name (3-63 characters of lower-case
    letters, digits, dots and hyphens, starting and ending with a letter or
    digit, no '..', not an IP address); ValueError naming it otherwise."""
    if not isinstance(name, str) or not _BUCKET_RE.match(name) or ".." in name:
        raise ValueError(
            f"bucket: {name!r} is not a valid S3 bucket name (expected 3-63 characters of "
            "a-z, 0-9, '.' and '-', starting and ending with a letter or digit)")
    return name


def validate_prefix(prefix: str) -> str:
    """``prefix`` if it is a safe key prefix (letters, digits, '._/-', no '..'
    or '//', no leading '/'); ValueError naming it otherwise."""
    if not isinstance(prefix, str) or not _PREFIX_RE.match(prefix) or ".." in prefix or "//" in prefix:
        raise ValueError(f"prefix: {prefix!r} is not a valid key prefix (expected letters, digits "
                         "and '._/-', not starting with '/', without '..' or '//')")
    return prefix.rstrip("/")


def batch_key(prefix: str, batch: int) -> str:
    """The key of mini-batch ``batch``."""
    return f"{prefix}/data/batch-{batch:06d}.npz"


def encode_batch(batch: dict[str, np.ndarray]) -> bytes:
    """A CSR mini-batch as uncompressed .npz bytes."""
    out = io.BytesIO()
    np.savez(out, indptr=batch["indptr"].astype(np.int64), indices=batch["indices"].astype(np.int32),
             values=batch["values"].astype(np.float32), labels=batch["labels"].astype(np.int32))
    return out.getvalue()


def decode_batch(body: bytes) -> dict[str, np.ndarray]:
    """Inverse of encode_batch."""
    with np.load(io.BytesIO(body)) as archive:
        return {name: archive[name] for name in ("indptr", "indices", "values", "labels")}


@dataclass
class S3Counter:
    """Requests issued and their latencies, by kind (GET, PUT).

    A request is counted when it is issued, whatever its answer (S3 bills a
    refused conditional PUT, 412, and a GET of a missing key, 404, like any
    other); its latency (and a GET's size, 0 when it failed) is recorded
    when it ends. With ``log_fd`` (the local backend's per-sandbox pipe) each
    request is also written there as it goes, one line when it is issued
    ("G", "P") and one when it ends ("g SECONDS BYTES", "p SECONDS"), so the
    backend can count the requests of a sandbox that died mid-invocation
    (``from_log``).
    """

    gets: int = 0
    puts: int = 0
    lists: int = 0  # LIST requests (billed like PUTs): the fold protocol's folder.
    get_seconds: list[float] = field(default_factory=list)
    put_seconds: list[float] = field(default_factory=list)
    get_bytes: list[int] = field(default_factory=list)
    log_fd: int | None = field(default=None, repr=False, compare=False)

    def add(self, other: "S3Counter") -> None:
        self.gets += other.gets
        self.puts += other.puts
        self.lists += other.lists
        self.get_seconds += other.get_seconds
        self.put_seconds += other.put_seconds
        self.get_bytes += other.get_bytes

    def issued(self, kind: str) -> None:
        """Counts a request of ``kind`` ("get", "put" or "list") about to be
        sent."""
        if kind == "get":
            self.gets += 1
        elif kind == "list":
            self.lists += 1
        else:
            self.puts += 1
        self._log({"get": "G\n", "list": "L\n"}.get(kind, "P\n"))

    def ended(self, kind: str, seconds: float, size: int = 0) -> None:
        """Records the latency (and a GET's size) of a request that ended
        (a LIST's latency is not kept)."""
        if kind == "list":
            return
        if kind == "get":
            self.get_seconds.append(seconds)
            self.get_bytes.append(size)
            self._log(f"g {seconds!r} {size}\n")
        else:
            self.put_seconds.append(seconds)
            self._log(f"p {seconds!r}\n")

    def _log(self, line: str) -> None:
        if self.log_fd is None:
            return
        try:
            os.write(self.log_fd, line.encode())  # One write: the pipe keeps it whole.
        except OSError:  # The reader is gone (the runner is stopping): stop logging.
            self.log_fd = None

    def as_dict(self) -> dict[str, Any]:
        """The counts and latencies under the keys of the worker's response."""
        return {"s3_gets": self.gets, "s3_puts": self.puts, "s3_lists": self.lists,
                "get_seconds": list(self.get_seconds),
                "put_seconds": list(self.put_seconds), "get_bytes": list(self.get_bytes)}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "S3Counter":
        """Inverse of as_dict (missing keys are empty)."""
        return cls(gets=int(data.get("s3_gets", 0)), puts=int(data.get("s3_puts", 0)),
                   lists=int(data.get("s3_lists", 0)),
                   get_seconds=[float(v) for v in data.get("get_seconds", [])],
                   put_seconds=[float(v) for v in data.get("put_seconds", [])],
                   get_bytes=[int(v) for v in data.get("get_bytes", [])])

    @classmethod
    def from_log(cls, text: str) -> "S3Counter":
        """The requests of a ``log_fd`` record: every issued request counts,
        also one whose sandbox died before it ended (it was sent, or about to
        be); latencies are those of the requests that ended. A last line cut
        short by the sandbox's death is ignored."""
        counter = cls()
        for line in text.splitlines():
            parts = line.split()
            try:
                if parts == ["G"]:
                    counter.gets += 1
                elif parts == ["P"]:
                    counter.puts += 1
                elif parts == ["L"]:
                    counter.lists += 1
                elif len(parts) == 3 and parts[0] == "g":
                    seconds, size = float(parts[1]), int(parts[2])
                    counter.get_seconds.append(seconds)
                    counter.get_bytes.append(size)
                elif len(parts) == 2 and parts[0] == "p":
                    counter.put_seconds.append(float(parts[1]))
            except ValueError:
                continue
        return counter


# A worker error's message ends with its S3 requests (S3Counter.as_dict as
# JSON) after this mark, so that they reach the runner in the error payload
# of a failed Lambda invocation, which carries only the error's type and text.
REQUESTS_MARK = " [siren-s3-requests "


def with_requests(message: str, counter: S3Counter) -> str:
    """``message`` with ``counter``'s requests appended (see split_requests)."""
    return f"{message}{REQUESTS_MARK}{json.dumps(counter.as_dict(), separators=(',', ':'))}]"


def split_requests(message: str) -> tuple[str, S3Counter | None]:
    """(the message without its requests, the requests) of a worker error's
    message; (message, None) when it carries none or they do not parse."""
    at = message.rfind(REQUESTS_MARK)
    if at < 0 or not message.endswith("]"):
        return message, None
    try:
        data = json.loads(message[at + len(REQUESTS_MARK):-1])
        if not isinstance(data, dict):
            return message, None
        return message[:at], S3Counter.from_dict(data)
    except (ValueError, TypeError):
        return message, None


@dataclass(frozen=True)
class RequestAllowance:
    """The most S3 requests one invocation may send (the budget guard's
    share of the budget for them); LISTs only the fold protocol's folder
    sends."""

    gets: int
    puts: int
    lists: int = 0


class AllowanceSpent(RuntimeError):
    """A request was not sent: the invocation's allowance is spent."""


class Backoff:
    """Full-jitter exponential back-off after a refused compare-and-swap
    (AWS Architecture Blog, "Exponential Backoff And Jitter", 2015): before
    retry ``attempt`` (0 for the first) it sleeps uniform(0, min(cap_s,
    base_s * 2**attempt)) seconds; ``base_s`` 0 disables it. ``rng`` makes
    the draws reproducible; ``slept_s`` totals what it slept."""

    def __init__(self, base_s: float, cap_s: float, rng: random.Random,
                 sleep: Any = time.sleep) -> None:
        if not base_s >= 0 or not cap_s >= 0:
            raise ValueError(f"back-off: base and cap must be >= 0 s, got {base_s!r} and {cap_s!r}")
        self.base_s = float(base_s)
        self.cap_s = float(cap_s)
        self.rng = rng
        self.slept_s = 0.0
        self._sleep = sleep

    def delay(self, attempt: int) -> float:
        """The next draw for retry ``attempt`` (no sleep)."""
        if self.base_s == 0 or self.cap_s == 0:
            return 0.0
        return self.rng.uniform(0.0, min(self.cap_s, self.base_s * 2.0 ** min(attempt, 60)))

    def wait(self, attempt: int) -> float:
        """Sleeps the draw for retry ``attempt``; the seconds drawn."""
        seconds = self.delay(attempt)
        if seconds > 0:
            self._sleep(seconds)
            self.slept_s += seconds
        return seconds


@dataclass
class ParameterState:
    """One read of the parameter store."""

    params: np.ndarray
    version: int
    epoch: int
    applied: np.ndarray  # bool, one per batch of the epoch.
    etag: str


def is_precondition_failed(error: Exception) -> bool:
    response = getattr(error, "response", None) or {}
    code = response.get("Error", {}).get("Code", "")
    status = response.get("ResponseMetadata", {}).get("HTTPStatusCode")
    return code in ("PreconditionFailed", "ConditionalRequestConflict") or status in (409, 412)


class ParameterStore:
    """The parameter store of one job: ``s3://bucket/prefix/params.npz``.

    Every request goes through ``get``/``put`` below, which count it and time
    it in ``counter``.
    """

    def __init__(self, s3: Any, bucket: str, prefix: str) -> None:
        self.s3 = s3
        self.bucket = validate_bucket_name(bucket)
        self.prefix = validate_prefix(prefix)
        self.key = f"{self.prefix}/{PARAMS_KEY}"
        self.counter = S3Counter()
        # The budget guard's cap on this invocation's requests (None: none).
        self.allowance: RequestAllowance | None = None
        # Requests may be sent from several threads (the folder's parallel GETs).
        self._lock = threading.Lock()

    # --- requests -----------------------------------------------------------
    def _issue(self, kind: str) -> None:
        """Admits (``_admit``) and counts a request about to be sent."""
        with self._lock:
            self._admit(kind)
            self.counter.issued(kind)

    def _ended(self, kind: str, seconds: float, size: int = 0) -> None:
        with self._lock:
            self.counter.ended(kind, seconds, size)

    def _admit(self, kind: str) -> None:
        """AllowanceSpent instead of a request over the allowance."""
        allowance = self.allowance
        if allowance is None:
            return
        issued, cap = {"get": (self.counter.gets, allowance.gets), "list": (self.counter.lists, allowance.lists)}.get(
            kind, (self.counter.puts, allowance.puts))
        if issued >= cap:
            raise AllowanceSpent(f"the budget guard's allowance of {cap} S3 {kind.upper()}s is spent")

    def get(self, key: str) -> tuple[bytes, str]:
        """GET: (body, ETag). Counted also when it fails (e.g. 404).
        AllowanceSpent, before sending, when the allowance is spent."""
        self._issue("get")
        start = time.perf_counter()
        size = 0
        try:
            response = self.s3.get_object(Bucket=self.bucket, Key=key)
            body = response["Body"].read()
            size = len(body)
        finally:
            self._ended("get", time.perf_counter() - start, size)
        return body, response["ETag"]

    def put(self, key: str, body: bytes, **conditions: str) -> str:
        """PUT (optionally conditional: IfMatch / IfNoneMatch); the new ETag.
        A refused condition raises botocore's ClientError (412), counted.
        AllowanceSpent, before sending, when the allowance is spent."""
        self._issue("put")
        start = time.perf_counter()
        try:
            response = self.s3.put_object(Bucket=self.bucket, Key=key, Body=body, **conditions)
        finally:
            self._ended("put", time.perf_counter() - start)
        return response["ETag"]

    # --- the store ----------------------------------------------------------
    @staticmethod
    def encode(params: np.ndarray, version: int, epoch: int, applied: np.ndarray) -> bytes:
        out = io.BytesIO()
        np.savez(out, params=params.astype(np.float32), version=np.int64(version), epoch=np.int64(epoch),
                 applied=np.packbits(applied.astype(bool)), batches=np.int64(len(applied)))
        return out.getvalue()

    def read(self) -> ParameterState:
        """The current parameters (one GET)."""
        body, etag = self.get(self.key)
        with np.load(io.BytesIO(body)) as archive:
            batches = int(archive["batches"])
            applied = np.unpackbits(archive["applied"])[:batches].astype(bool)
            return ParameterState(archive["params"], int(archive["version"]), int(archive["epoch"]),
                                  applied, etag)

    def initialise(self, params: np.ndarray, batches: int) -> ParameterState:
        """Writes version 0 for epoch 0 (unconditional: a new job)."""
        applied = np.zeros(batches, dtype=bool)
        etag = self.put(self.key, self.encode(params, 0, 0, applied))
        return ParameterState(params.astype(np.float32), 0, 0, applied, etag)

    def begin_epoch(self, state: ParameterState, epoch: int) -> ParameterState:
        """The barrier: the same parameters and version, the next epoch, an
        empty bitmap. Conditional on ``state`` still being current."""
        applied = np.zeros(len(state.applied), dtype=bool)
        etag = self.put(self.key, self.encode(state.params, state.version, epoch, applied), IfMatch=state.etag)
        return ParameterState(state.params, state.version, epoch, applied, etag)

    def push(self, state: ParameterState, gradient: np.ndarray, learning_rate: float, epoch: int,
             batch: int, backoff: "Backoff | None" = None) -> tuple[ParameterState | None, int, int]:
        """Applies ``-learning_rate * gradient`` for ``batch`` of ``epoch`` by
        compare-and-swap (push protocol ``cas``), starting from ``state`` (the
        worker's last read). After a refused write, ``backoff`` (if any)
        sleeps before the re-read and the retry.

        Returns (new state or None if the batch was already applied, staleness,
        conflicts): staleness counts versions written between ``state`` and
        this push; conflicts counts refused writes (each followed by a GET).
        """
        base_version = state.version
        conflicts = 0
        while True:
            if state.epoch != epoch:
                raise RuntimeError(f"parameter store is at epoch {state.epoch}, the worker at {epoch}: "
                                   "an invocation outlived its epoch")
            if state.applied[batch]:
                return None, state.version - base_version, conflicts
            params = state.params - np.float32(learning_rate) * gradient
            applied = state.applied.copy()
            applied[batch] = True
            body = self.encode(params, state.version + 1, epoch, applied)
            try:
                etag = self.put(self.key, body, IfMatch=state.etag)
            except Exception as error:  # botocore ClientError; kept import-free.
                if not is_precondition_failed(error):
                    raise
                if backoff is not None:
                    backoff.wait(conflicts)
                conflicts += 1
                state = self.read()
                continue
            return (ParameterState(params, state.version + 1, epoch, applied, etag),
                    state.version - base_version, conflicts)

    def overwrite(self, state: ParameterState, gradient: np.ndarray, learning_rate: float, epoch: int,
                  batch: int) -> ParameterState | None:
        """Push protocol ``overwrite`` (the asynchronous update, last writer
        wins): one unconditional PUT of ``state`` (the worker's read) plus
        this update, its version one more than the read's and ``batch`` added
        to the read's bitmap. Whatever others wrote since the read is lost:
        the object then holds exactly the chain of updates its version counts
        and its bitmap lists (so a batch is still never applied twice), and a
        batch pushed but absent from the final bitmap is a lost update.
        None (nothing sent) when ``batch`` is already in the read's bitmap."""
        if state.epoch != epoch:
            raise RuntimeError(f"parameter store is at epoch {state.epoch}, the worker at {epoch}: "
                               "an invocation outlived its epoch")
        if state.applied[batch]:
            return None
        params = state.params - np.float32(learning_rate) * gradient
        applied = state.applied.copy()
        applied[batch] = True
        etag = self.put(self.key, self.encode(params, state.version + 1, epoch, applied))
        return ParameterState(params, state.version + 1, epoch, applied, etag)

    def list_keys(self, prefix: str) -> list[str]:
        """Every key under ``prefix`` (ListObjectsV2, one counted LIST
        request per page of up to 1,000 keys). AllowanceSpent, before
        sending, when the allowance of LISTs is spent."""
        keys: list[str] = []
        token: str | None = None
        while True:
            self._issue("list")
            start = time.perf_counter()
            try:
                options = {"ContinuationToken": token} if token else {}
                response = self.s3.list_objects_v2(Bucket=self.bucket, Prefix=prefix, **options)
            finally:
                self._ended("list", time.perf_counter() - start)
            keys += [item["Key"] for item in response.get("Contents", [])]
            token = response.get("NextContinuationToken")
            if not response.get("IsTruncated") or not token:
                return keys

    def delete_keys(self, keys: list[str]) -> None:
        """DeleteObjects on ``keys`` (1,000 a request). Not counted: S3 does
        not bill DELETE requests."""
        for at in range(0, len(keys), 1000):
            chunk = keys[at:at + 1000]
            self.s3.delete_objects(Bucket=self.bucket,
                                   Delete={"Objects": [{"Key": k} for k in chunk], "Quiet": True})

    def manifest(self) -> dict[str, Any]:
        """The dataset's manifest (one GET)."""
        body, _ = self.get(f"{self.prefix}/{MANIFEST_KEY}")
        return json.loads(body)
