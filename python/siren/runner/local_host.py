"""One local "sandbox": a process hosting the worker handler for the local
backend (``local.py``), run as a script so that it never imports ``siren``
(a real Lambda sandbox holds only the worker package).

Protocol on stdin/stdout, one JSON object per line:
  - on start, after loading the worker (numpy, boto3, the S3 client: the init
    phase of a cold start) it prints {"ready": true, "init_s": seconds};
  - per request {"event": {...}, "timeout_s": s} it runs the handler with a
    context whose get_remaining_time_in_millis counts down from timeout_s and
    prints {"ok": true, "payload": ..., "duration_s": s} or {"ok": false,
    "error": "Type: message", "requests": {...}, "duration_s": s} (the S3
    requests the failed handler made, when it says).
The worker's own output goes to stderr, never to the protocol stream. The
worker writes each S3 request as it issues it to the pipe whose descriptor
is SIREN_REQUESTS_FD (``context.siren_requests_fd``), which the backend
reads: a sandbox that dies mid-invocation leaves its requests there.
The sandbox dies with the runner (``_lifeline.py``: SIGKILL when the runner
ends, whatever ends it) and exits at the end of its stdin.
"""

import importlib.util
import json
import os
import sys
import time

_START = time.perf_counter()

from _lifeline import die_with_parent  # noqa: E402  (a sibling file: sys.path[0] is this folder)

die_with_parent()


class _Context:
    """The slice of Lambda's context object the worker uses."""

    def __init__(self, timeout_s: float, requests_fd: "int | None") -> None:
        self._deadline = time.monotonic() + timeout_s
        self.siren_requests_fd = requests_fd

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))


def _load_worker():
    # The folder this file sits in, loaded as the package "siren_worker" (the
    # name the Lambda package uses), without siren/__init__.py.
    folder = os.path.dirname(os.path.abspath(__file__))
    spec = importlib.util.spec_from_file_location(
        "siren_worker", os.path.join(folder, "__init__.py"), submodule_search_locations=[folder])
    package = importlib.util.module_from_spec(spec)
    sys.modules["siren_worker"] = package
    spec.loader.exec_module(package)
    import siren_worker.worker as worker  # noqa: E402  (after the package exists)

    return worker


def main() -> int:
    protocol = sys.stdout
    sys.stdout = sys.stderr  # Anything the worker prints stays off the protocol.
    worker = _load_worker()
    worker._s3(os.environ.get("SIREN_S3_ENDPOINT") or None)
    requests_fd = int(os.environ["SIREN_REQUESTS_FD"]) if os.environ.get("SIREN_REQUESTS_FD") else None
    protocol.write(json.dumps({"ready": True, "init_s": time.perf_counter() - _START}) + "\n")
    protocol.flush()
    for line in sys.stdin:
        request = json.loads(line)
        start = time.perf_counter()
        try:
            payload = worker.handler(request["event"], _Context(float(request["timeout_s"]), requests_fd))
            reply = {"ok": True, "payload": payload}
        except worker.WorkerError as error:  # Reported to the runner like Lambda's FunctionError.
            reply = {"ok": False, "error": error.error, "requests": error.requests.as_dict()}
        except Exception as error:
            reply = {"ok": False, "error": f"{type(error).__name__}: {error}"}
        reply["duration_s"] = time.perf_counter() - start
        protocol.write(json.dumps(reply) + "\n")
        protocol.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
