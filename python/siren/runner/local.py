"""The local backend: the worker handler in local processes, S3 served by a
local S3-compatible server (moto in server mode) on loopback.

What is real here: process starts (a cold start is a new Python process
importing numpy and boto3 and creating its S3 client, timed), the worker's
numpy SGD, every S3 request (boto3 over HTTP to the server, conditional
writes included), concurrency, timeouts (the process is killed) and crashes.

What is emulated, and how (each configurable):
  - the warm pool: idle processes are kept per memory size and expire after
    ``keep_alive_s``; with ``single_function`` (one function reconfigured,
    as on AWS) a memory change retires every idle process, else each size
    keeps its own (one deployed function per size): the simulator's
    ``lambda.single_function``;
  - the account concurrency limit: an invocation beyond ``concurrency_limit``
    running ones is refused with a throttle (429), as Lambda does;
  - the scaling-rate limit: with ``scaling_burst``, a new execution
    environment (a new sandbox process; reusing a warm one needs none) takes
    a token from a bucket of ``scaling_burst`` tokens refilled continuously
    at ``scaling_refill_per_s`` up to the burst; without a token the
    invocation is throttled (429, ``Invocation.scaling_throttle``), as Lambda
    limits how fast a function scales (today: 1,000 environments per 10 s per
    function, burst 1000 and 100/s; before 2023: a burst of 3,000 then 500
    per minute). The simulator's ``lambda.scaling.*``;
  - the CPU share: with ``emulate_cpu_share``, a function of m MB below one
    vCPU (``mb_per_vcpu``) makes each compute phase last its CPU time /
    share (it sleeps what its wall time has not yet taken), the way
    Lambda's CFS quota stretches it; a host whose cores are busy with other
    work thus stretches it no further, unless its share of a core falls
    below the function's; above one vCPU nothing changes (the worker's
    numpy is single-threaded, on Lambda too);
  - memory is not enforced: a process may use more than m MB.

The sandboxes' environment enables the worker's test-only event fields
(SIREN_TEST_FIELDS=1: the emulated CPU share and injected faults), which a
function deployed by ``siren deploy`` refuses unless asked otherwise.

S3 requests are counted exactly, also those of an invocation that failed:
each sandbox gets a pipe (SIREN_REQUESTS_FD) on which the worker writes every
request as it issues it (``protocol.S3Counter``), and the backend reads it
while it waits for the reply and to its end when the sandbox dies, so a
crashed, killed or timed-out invocation still reports its requests
(``Invocation.s3_requests``).

Children never outlive the runner: every child (sandbox, S3 server) runs in
its own session (a Ctrl-C in the terminal reaches the runner only, which
cleans up) and is tied to the runner by ``_lifeline.py`` (SIGKILL when the
runner ends, even by SIGKILL); the S3 server's log is an unlinked temporary
file. ``cancel()`` kills the sandboxes of in-flight invocations (their
invocations end as errors at once), ``check()`` says when the S3 server has
died.
"""

from __future__ import annotations

import json
import os
import queue
import re
import select
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ._lifeline import PARENT_ENV
from .backend import ERROR, OK, THROTTLED, TIMEOUT, BackendLost, Invocation
from .protocol import S3Counter

__all__ = ["LocalLambda", "S3Server", "LOCAL_CREDENTIALS"]

# Keys for the loopback server only: moto accepts any. Passed explicitly to
# clients and child processes; the user's own AWS credentials are never read
# or forwarded by the local backend.
LOCAL_CREDENTIALS = {"aws_access_key_id": "siren-local", "aws_secret_access_key": "siren-local",
                     "region_name": "us-east-1"}
# The server's access log: '127.0.0.1 - - [date] "GET /bucket/key HTTP/1.1" 200 -',
# the request in colour when it was refused.
_ACCESS_LINE = re.compile(r'\] "([A-Z]+) (\S+) HTTP/[0-9.]+" \d{3} ')
_ANSI = re.compile(r"\x1b\[[0-9;]*m")
_HOST = Path(__file__).with_name("local_host.py")
_LIFELINE = Path(__file__).with_name("_lifeline.py")
# `python -c _MOTO_MAIN <_lifeline.py> ARGS`: moto's server, tied to the runner.
_MOTO_MAIN = (
    "import importlib.util, runpy, sys\n"
    "spec = importlib.util.spec_from_file_location('siren_lifeline', sys.argv[1])\n"
    "lifeline = importlib.util.module_from_spec(spec)\n"
    "spec.loader.exec_module(lifeline)\n"
    "lifeline.die_with_parent()\n"
    "sys.argv = ['moto.server'] + sys.argv[2:]\n"
    "runpy.run_module('moto.server', run_name='__main__', alter_sys=True)\n")


class _Spawner:
    """Starts child processes from one long-lived daemon thread.

    The parent-death signal of ``_lifeline`` fires when the *thread* that
    forked the child ends: a sandbox started by a per-epoch worker thread
    would be killed with it. This thread ends only with the process.
    """

    def __init__(self) -> None:
        self._requests: queue.Queue = queue.Queue()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def popen(self, command: list[str], **options: Any) -> subprocess.Popen:
        with self._lock:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._serve, daemon=True, name="siren-spawner")
                self._thread.start()
        box: dict[str, Any] = {}
        done = threading.Event()
        self._requests.put((command, options, box, done))
        done.wait()
        if "error" in box:
            raise box["error"]
        return box["process"]

    def _serve(self) -> None:
        while True:
            command, options, box, done = self._requests.get()
            try:
                box["process"] = subprocess.Popen(command, **options)
            except BaseException as error:  # Raised in the caller's thread.
                box["error"] = error
            finally:
                done.set()


_SPAWNER = _Spawner()


def _child_options() -> dict[str, Any]:
    """Popen options of every child: its own session (terminal signals reach
    the runner only) and no inherited descriptors."""
    return {"start_new_session": True, "close_fds": True}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class S3Server:
    """moto's S3-compatible server as a child process on 127.0.0.1.

    ``start()`` waits until it answers (RuntimeError with its log if it exits
    or does not answer within ``start_timeout_s``); ``stop()`` ends it. Use as
    a context manager.
    """

    def __init__(self, port: int = 0, start_timeout_s: float = 30.0, log_path: str | None = None) -> None:
        self.port = port or _free_port()
        self.start_timeout_s = start_timeout_s
        self.endpoint_url = f"http://127.0.0.1:{self.port}"
        self._log_path = log_path  # None: an unlinked temporary file, gone whatever ends the runner.
        self._log = None
        self._process: subprocess.Popen | None = None

    def client(self) -> Any:
        """A boto3 S3 client for this server. Once the server's process has
        exited, its requests raise BackendLost at once instead of retrying
        against a closed port."""
        import boto3
        from botocore.config import Config

        client = boto3.client("s3", endpoint_url=self.endpoint_url,
                              config=Config(max_pool_connections=64, retries={"max_attempts": 8, "mode": "standard"}),
                              **LOCAL_CREDENTIALS)
        client.meta.events.register("before-send.s3", self._before_send)
        return client

    def _before_send(self, **_: Any) -> None:
        if self._process is not None and self._process.poll() is not None:
            raise BackendLost(self.problem())

    def start(self) -> "S3Server":
        self._log = open(self._log_path, "w+b") if self._log_path else tempfile.TemporaryFile(prefix="siren-moto-")
        environment = dict(os.environ, **{PARENT_ENV: str(os.getpid())})
        try:
            self._process = _SPAWNER.popen(
                [sys.executable, "-c", _MOTO_MAIN, str(_LIFELINE), "-H", "127.0.0.1", "-p", str(self.port)],
                stdout=self._log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=environment,
                **_child_options())
        except BaseException:
            self.stop()
            raise
        try:
            self._wait_until_answering()
        except BaseException:
            self.stop()
            raise
        return self

    def _wait_until_answering(self) -> None:
        import botocore.exceptions

        client = self.client()
        deadline = time.monotonic() + self.start_timeout_s
        while True:
            if self._process.poll() is not None:
                raise RuntimeError(f"the S3 server (moto) exited with {_exit_description(self._process.returncode)}"
                                   f"{self._log_where()}\n{self._log_tail()}")
            try:
                client.list_buckets()
                return
            except (botocore.exceptions.EndpointConnectionError, botocore.exceptions.ConnectionClosedError):
                if time.monotonic() > deadline:
                    raise RuntimeError(f"the S3 server (moto) did not answer on {self.endpoint_url} within "
                                       f"{self.start_timeout_s:.0f} s{self._log_where()}\n{self._log_tail()}") from None
                time.sleep(0.05)

    def _log_where(self) -> str:
        return f"; log: {self._log_path}" if self._log_path else ""

    def _log_tail(self) -> str:
        """The last 2000 bytes of the server's log."""
        if self._log is None:
            return ""
        try:
            size = os.fstat(self._log.fileno()).st_size
            return os.pread(self._log.fileno(), 2000, max(0, size - 2000)).decode(errors="replace")
        except OSError:
            return ""

    def requests_received(self, path_prefix: str = "/") -> dict[str, int]:
        """How many requests the server has answered, by HTTP method, whose
        path starts with ``path_prefix`` (e.g. "/bucket/prefix/"), from its
        access log: what S3 would bill, counted on the server's side."""
        if self._log is None:
            return {}
        try:
            size = os.fstat(self._log.fileno()).st_size
            text = os.pread(self._log.fileno(), size, 0).decode(errors="replace")
        except OSError:
            return {}
        counts: dict[str, int] = {}
        for method, path in _ACCESS_LINE.findall(_ANSI.sub("", text)):
            if path.startswith(path_prefix):
                counts[method] = counts.get(method, 0) + 1
        return counts

    def problem(self) -> str | None:
        """None while the server runs; else one line saying it is gone."""
        if self._process is None:
            return f"the S3 server at {self.endpoint_url} is not running"
        code = self._process.poll()
        if code is None:
            return None
        return f"lost the S3 server at {self.endpoint_url}: its process exited with {_exit_description(code)}"

    def stop(self) -> None:
        if self._process is not None and self._process.poll() is None:
            self._process.terminate()
            try:
                self._process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()
        self._process = None
        if self._log is not None:
            self._log.close()
            self._log = None

    def __enter__(self) -> "S3Server":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


@dataclass(eq=False)  # Hashed by identity: the busy set holds them.
class _Sandbox:
    """One worker process, and the read end of the pipe on which its worker
    writes each S3 request (``requests_fd``, non-blocking)."""

    process: subprocess.Popen
    memory_mb: int
    requests_fd: int | None = None
    last_used: float = field(default_factory=time.monotonic)
    requests_log: bytearray = field(default_factory=bytearray)

    def alive(self) -> bool:
        return self.process.poll() is None

    def wait_exit(self, timeout_s: float) -> int | None:
        """The exit code once the process has exited, waiting up to
        ``timeout_s``; None if it is still running then."""
        try:
            return self.process.wait(timeout=timeout_s) if timeout_s > 0 else self.process.poll()
        except subprocess.TimeoutExpired:
            return None

    def read_requests(self) -> bool:
        """Moves what the request pipe holds into ``requests_log`` without
        waiting; False at its end (the worker's process is gone)."""
        while self.requests_fd is not None:
            try:
                chunk = os.read(self.requests_fd, 65536)
            except BlockingIOError:
                return True
            except OSError:
                return False
            if not chunk:
                return False
            self.requests_log += chunk
        return False

    def take_requests(self) -> S3Counter:
        """The requests logged since the last call (one invocation's)."""
        counter = S3Counter.from_log(self.requests_log.decode(errors="replace"))
        self.requests_log.clear()
        return counter

    def kill(self) -> None:
        """Kills the process (if alive), keeps what its request pipe still
        held and closes its streams."""
        if self.alive():
            self.process.kill()
        self.process.wait()
        self.read_requests()
        if self.requests_fd is not None:
            os.close(self.requests_fd)
            self.requests_fd = None
        for stream in (self.process.stdin, self.process.stdout):
            if stream is not None:
                stream.close()


class _TokenBucket:
    """``burst`` tokens, refilled continuously at ``refill_per_s`` up to
    ``burst``; ``take()`` spends one if there is one."""

    def __init__(self, burst: int, refill_per_s: float) -> None:
        self.burst = burst
        self.refill_per_s = refill_per_s
        self._tokens = float(burst)
        self._last = time.monotonic()

    def take(self) -> bool:
        now = time.monotonic()
        self._tokens = min(float(self.burst), self._tokens + (now - self._last) * self.refill_per_s)
        self._last = now
        if self._tokens >= 1.0:
            self._tokens -= 1.0
            return True
        return False


_CANCELLED = "Cancelled: the runner is stopping"


def _reply(line: str) -> dict:
    """A protocol line as a dict ({} when it is not a JSON object)."""
    try:
        reply = json.loads(line)
    except ValueError:
        return {}
    return reply if isinstance(reply, dict) else {}


# After its output closes, how long a sandbox may take to be reaped. Its
# pipe closes while the kernel tears the process down, a moment before
# waitpid can see it exit: deciding "still alive" without waiting turned a
# killed worker into a phantom timeout of the full timeout_s.
EXIT_WAIT_S = 5.0


def _read_line(sandbox: _Sandbox, timeout_s: float) -> tuple[str | None, bool]:
    """(the next protocol line, False), (None, False) on timeout or (None,
    True) at the end of the stream (the sandbox closed its output: it exited
    or is exiting). Reads the sandbox's request pipe meanwhile, so that its
    worker never waits on a full pipe."""
    stdout = sandbox.process.stdout
    deadline = time.monotonic() + max(0.0, timeout_s)
    requests_open = sandbox.requests_fd is not None
    while True:
        waiting = [stdout] + ([sandbox.requests_fd] if requests_open else [])
        ready, _, _ = select.select(waiting, [], [], max(0.0, deadline - time.monotonic()))
        if not ready:
            return None, False
        if stdout in ready:
            line = stdout.readline()
            return (line, False) if line else (None, True)
        requests_open = sandbox.read_requests()


def _exit_description(code: int) -> str:
    """'code 3' or 'signal SIGKILL' for a Popen return code."""
    if code < 0:
        try:
            return f"signal {signal.Signals(-code).name}"
        except ValueError:
            return f"signal {-code}"
    return f"code {code}"


class LocalLambda:
    """The worker function on this machine; see the module docstring.

    Thread-safe: the runner calls ``invoke`` from one thread per concurrent
    worker. ``throttle_first`` refuses the first k invocations with a
    throttle (fault injection for tests). ``scaling_burst`` (None: no limit)
    and ``scaling_refill_per_s`` set the scaling-rate limit on new sandboxes.
    """

    name = "local"

    def __init__(self, s3_server: S3Server, *, timeout_s: float = 900.0, keep_alive_s: float = 600.0,
                 concurrency_limit: int = 1000, emulate_cpu_share: bool = True, mb_per_vcpu: float = 1769.0,
                 init_timeout_s: float = 60.0, throttle_first: int = 0, single_function: bool = True,
                 scaling_burst: int | None = None, scaling_refill_per_s: float | None = None) -> None:
        for name, value in (("timeout_s", timeout_s), ("init_timeout_s", init_timeout_s),
                            ("mb_per_vcpu", mb_per_vcpu)):
            if not value > 0:
                raise ValueError(f"{name}: must be > 0, got {value}")
        if keep_alive_s < 0:
            raise ValueError(f"keep_alive_s: must be >= 0, got {keep_alive_s}")
        if concurrency_limit < 1:
            raise ValueError(f"concurrency_limit: must be >= 1, got {concurrency_limit}")
        if scaling_burst is None:
            if scaling_refill_per_s is not None:
                raise ValueError(f"scaling_refill_per_s: got {scaling_refill_per_s} without a scaling_burst; "
                                 "expected both (a limit) or neither (no limit)")
            self._scaling = None
        else:
            if isinstance(scaling_burst, bool) or not isinstance(scaling_burst, int) or scaling_burst < 1:
                raise ValueError(f"scaling_burst: got {scaling_burst!r}, expected an integer >= 1 "
                                 "(or None: no limit)")
            refill = 0.0 if scaling_refill_per_s is None else scaling_refill_per_s
            if not 0 <= refill < float("inf"):
                raise ValueError(f"scaling_refill_per_s: got {scaling_refill_per_s!r}, expected a finite "
                                 "number >= 0")
            self._scaling = _TokenBucket(scaling_burst, float(refill))
        self.scaling_burst = scaling_burst
        self.scaling_refill_per_s = None if scaling_burst is None else float(scaling_refill_per_s or 0.0)
        self.s3_server = s3_server
        self.s3 = s3_server.client()
        self.endpoint_url = s3_server.endpoint_url
        self.timeout_s = timeout_s
        self.keep_alive_s = keep_alive_s
        self.concurrency_limit = concurrency_limit
        self.emulate_cpu_share = emulate_cpu_share
        self.mb_per_vcpu = mb_per_vcpu
        self.init_timeout_s = init_timeout_s
        self.single_function = single_function
        self.memory_mb = 0
        self._throttle_first = throttle_first
        self._idle: dict[int, list[_Sandbox]] = {}
        self._busy: set[_Sandbox] = set()  # Sandboxes of in-flight invocations.
        self._closed = False
        self._running = 0
        self._lock = threading.Lock()
        self._environment = self._child_environment()

    def _child_environment(self) -> dict[str, str]:
        keep = ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR", "PYTHONPATH", "VIRTUAL_ENV")
        environment = {k: os.environ[k] for k in keep if k in os.environ}
        environment.update({
            "AWS_ACCESS_KEY_ID": LOCAL_CREDENTIALS["aws_access_key_id"],
            "AWS_SECRET_ACCESS_KEY": LOCAL_CREDENTIALS["aws_secret_access_key"],
            "AWS_DEFAULT_REGION": LOCAL_CREDENTIALS["region_name"],
            "SIREN_S3_ENDPOINT": self.endpoint_url,
            # One thread per sandbox, as a single-vCPU function runs.
            "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",
            "PYTHONDONTWRITEBYTECODE": "1",
            # The stand-in sends test-only event fields (cpu_share, injected faults).
            "SIREN_TEST_FIELDS": "1",
            PARENT_ENV: str(os.getpid()),
        })
        return environment

    def set_timeout(self, timeout_s: float) -> None:
        """Sets the function's timeout (the budget guard lowers it): a
        configuration update, which with ``single_function`` retires the
        idle sandboxes as on Lambda."""
        if not (timeout_s > 0 and timeout_s < float("inf")):
            raise ValueError(f"timeout_s: must be finite and > 0, got {timeout_s}")
        if self.single_function and timeout_s != self.timeout_s:
            with self._lock:
                retired = [sandbox for pool in self._idle.values() for sandbox in pool]
                self._idle.clear()
            for sandbox in retired:
                sandbox.kill()
        self.timeout_s = float(timeout_s)

    def set_memory(self, memory_mb: int) -> None:
        if memory_mb <= 0:
            raise ValueError(f"memory_mb: must be > 0, got {memory_mb}")
        if self.single_function and memory_mb != self.memory_mb:
            # Reconfiguring the function retires its idle sandboxes.
            with self._lock:
                retired = [sandbox for pool in self._idle.values() for sandbox in pool]
                self._idle.clear()
            for sandbox in retired:
                sandbox.kill()
        self.memory_mb = memory_mb

    # --- the warm pool ------------------------------------------------------
    def _take_warm(self, memory_mb: int) -> _Sandbox | None:
        now = time.monotonic()
        expired: list[_Sandbox] = []
        found = None
        for size, pool in self._idle.items():
            keep = []
            for sandbox in pool:
                if now - sandbox.last_used > self.keep_alive_s or not sandbox.alive():
                    expired.append(sandbox)
                else:
                    keep.append(sandbox)
            self._idle[size] = keep
        pool = self._idle.get(memory_mb, [])
        if pool:
            found = pool.pop()  # Most recently used first, as Lambda tends to.
        for sandbox in expired:
            sandbox.kill()
        return found

    def _start_sandbox(self, memory_mb: int) -> tuple[_Sandbox | None, float, str]:
        start = time.perf_counter()
        requests_read, requests_write = os.pipe()
        os.set_blocking(requests_read, False)
        try:
            process = _SPAWNER.popen([sys.executable, str(_HOST)], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=None, env=dict(self._environment, SIREN_REQUESTS_FD=str(requests_write)),
                                     text=True, bufsize=1, pass_fds=(requests_write,), **_child_options())
        except BaseException:
            os.close(requests_read)
            raise
        finally:
            os.close(requests_write)  # The sandbox holds the only write end: its death ends the pipe.
        sandbox = _Sandbox(process, memory_mb, requests_read)
        if not self._hold(sandbox):
            return None, time.perf_counter() - start, _CANCELLED
        line, eof = _read_line(sandbox, self.init_timeout_s)
        init_s = time.perf_counter() - start
        if line is None or not _reply(line).get("ready"):
            exited = sandbox.wait_exit(EXIT_WAIT_S if eof else 0.0)
            self._release(sandbox, keep=False)
            if self._closed:
                return None, init_s, _CANCELLED
            if exited is not None:
                return None, init_s, f"InitError: the sandbox exited with {_exit_description(exited)} while starting"
            if eof or line is not None:
                return None, init_s, "InitError: the sandbox closed its output or replied with something else"
            return None, init_s, f"InitError: the sandbox did not start within {self.init_timeout_s:.0f} s"
        return sandbox, init_s, ""

    # --- invoke -------------------------------------------------------------
    def invoke(self, event: dict) -> Invocation:
        memory_mb = self.memory_mb
        if memory_mb <= 0:
            raise RuntimeError("invoke before set_memory")
        with self._lock:
            if self._closed:
                return Invocation(ERROR, error=_CANCELLED, memory_mb=memory_mb, s3_requests=S3Counter())
            if self._throttle_first > 0 or self._running >= self.concurrency_limit:
                self._throttle_first = max(0, self._throttle_first - 1)
                return Invocation(THROTTLED, error="TooManyRequestsException: Rate Exceeded.", memory_mb=memory_mb)
            sandbox = self._take_warm(memory_mb)
            if sandbox is None and self._scaling is not None and not self._scaling.take():
                # A new execution environment, and none may start now.
                return Invocation(THROTTLED, memory_mb=memory_mb, scaling_throttle=True,
                                  error=f"TooManyRequestsException: Rate Exceeded. (scaling limit: no new execution "
                                        f"environment available; burst {self._scaling.burst}, refilled at "
                                        f"{self._scaling.refill_per_s:g}/s)")
            self._running += 1
            if sandbox is not None:
                self._busy.add(sandbox)
        try:
            return self._run(sandbox, memory_mb, event)
        finally:
            with self._lock:
                self._running -= 1

    def _hold(self, sandbox: _Sandbox) -> bool:
        """Marks a new sandbox busy; False (and kills it) once cancelled."""
        with self._lock:
            if not self._closed:
                self._busy.add(sandbox)
                return True
        sandbox.kill()
        return False

    def _release(self, sandbox: _Sandbox, keep: bool) -> None:
        """Ends an invocation's hold on ``sandbox``: back to the warm pool
        (``keep``, unless cancelled meanwhile) or killed."""
        with self._lock:
            self._busy.discard(sandbox)
            if keep and not self._closed:
                sandbox.last_used = time.monotonic()
                self._idle.setdefault(sandbox.memory_mb, []).append(sandbox)
                return
        sandbox.kill()

    def _run(self, sandbox: _Sandbox | None, memory_mb: int, event: dict) -> Invocation:
        cold, init_s = sandbox is None, 0.0
        if sandbox is None:
            sandbox, init_s, error = self._start_sandbox(memory_mb)
            if sandbox is None:  # The handler never ran: no request.
                return Invocation(ERROR, error=error, init_s=init_s, cold=True, memory_mb=memory_mb,
                                  s3_requests=S3Counter())
        sandbox.take_requests()  # Nothing of an earlier invocation counts here.
        event = dict(event)
        if self.emulate_cpu_share:
            event["cpu_share"] = min(1.0, memory_mb / self.mb_per_vcpu)
        start = time.perf_counter()
        try:
            sandbox.process.stdin.write(json.dumps({"event": event, "timeout_s": self.timeout_s}) + "\n")
            sandbox.process.stdin.flush()
            line, eof = _read_line(sandbox, self.timeout_s)
        except (BrokenPipeError, OSError):  # A warm sandbox that died while idle.
            line, eof = None, True
        elapsed = time.perf_counter() - start
        reply = _reply(line) if line is not None else {}
        if line is not None and "ok" not in reply:
            self._release(sandbox, keep=False)
            return Invocation(ERROR, error="Runtime.InvalidResponse: the sandbox replied with something else",
                              duration_s=elapsed, init_s=init_s, cold=cold, memory_mb=memory_mb,
                              s3_requests=sandbox.take_requests())
        if eof:
            # A crash, never a timeout: wait (bounded) for the exit the closed
            # pipe announces, then bill the time it actually ran.
            exited = sandbox.wait_exit(EXIT_WAIT_S)
            self._release(sandbox, keep=False)  # A crashed sandbox is not reused.
            how = (f"exited with {_exit_description(exited)}" if exited is not None
                   else f"closed its output and had not exited {EXIT_WAIT_S:.0f} s later (killed)")
            error = _CANCELLED if self._closed else f"Runtime.ExitError: the sandbox {how}"
            return Invocation(ERROR, error=error, duration_s=elapsed, init_s=init_s, cold=cold, memory_mb=memory_mb,
                              s3_requests=sandbox.take_requests())
        if line is None:
            # select() saw nothing for timeout_s and the sandbox never closed
            # its output: a real timeout.
            self._release(sandbox, keep=False)  # A timed-out sandbox is not reused.
            return Invocation(TIMEOUT, error=f"Task timed out after {self.timeout_s:.2f} seconds",
                              duration_s=self.timeout_s, init_s=init_s, cold=cold, memory_mb=memory_mb,
                              s3_requests=sandbox.take_requests())
        # The worker wrote each request before its reply: the pipe holds them all.
        sandbox.read_requests()
        requests = sandbox.take_requests()
        self._release(sandbox, keep=True)
        status = OK if reply["ok"] else ERROR
        return Invocation(status, payload=reply.get("payload"), error=reply.get("error", ""),
                          duration_s=float(reply["duration_s"]), init_s=init_s, cold=cold, memory_mb=memory_mb,
                          s3_requests=None if status == OK else requests)

    def check(self) -> str | None:
        """None while the backend can run invocations; else one line why not
        (the S3 server died)."""
        return self.s3_server.problem()

    def cancel(self) -> None:
        """Kills every sandbox, in-flight invocations' included (they end as
        errors at once); later invocations fail without running."""
        with self._lock:
            self._closed = True
            idle = [sandbox for pool in self._idle.values() for sandbox in pool]
            busy = list(self._busy)  # Their invocations' threads release them.
            self._idle.clear()
        for sandbox in busy + idle:
            if sandbox.alive():
                sandbox.process.kill()
        for sandbox in idle:
            sandbox.kill()
        for sandbox in busy:
            sandbox.wait_exit(EXIT_WAIT_S)

    def close(self) -> None:
        """Ends every sandbox (``cancel``)."""
        self.cancel()
