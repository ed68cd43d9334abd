"""The AWS backend: the worker as a real Lambda function, driven with boto3.

Each epoch the runner calls ``set_memory(m)`` (an UpdateFunctionConfiguration
when m differs from the function's memory, then a wait until the update is
live) and ``invoke(event)`` from one thread per concurrent worker. Lambda
keeps its warm pool per configuration, so a memory change means cold starts,
as in the simulator.

Each invocation is synchronous (``RequestResponse``) with ``LogType='Tail'``:
Lambda returns the last 4 KB of the invocation's log, whose last record is
the REPORT line (duration, billed duration, memory size, max memory used and,
on a cold start, the init duration). ``parse_report_line`` reads it.

Outcomes map to the ``Backend`` statuses:

- the handler returned: OK, with its JSON response;
- ``FunctionError`` set: TIMEOUT when Lambda cut the handler at the
  function's timeout ("Task timed out after ..."), ERROR otherwise (the
  handler raised, or the sandbox crashed), with ``errorType: errorMessage``;
- 429 ``TooManyRequestsException``: THROTTLED, not retried here (the SDK's
  own retries are off for Invoke: the runner retries and counts). Lambda's
  ``Reason`` is kept in the error text; none of its reasons names the
  scaling-rate limit, so no AWS throttle counts as a scaling throttle;
- any other AWS error raises ``AwsError`` with a one-line message.

S3 requests of a failed invocation: a handler that raised reports them in its
error message (``worker.WorkerError``, ``protocol.split_requests``): they
become ``Invocation.s3_requests``. An invocation cut at its timeout, or whose
sandbox crashed, reports nothing, and nothing else says what it requested:
``s3_requests`` is None and the runner records its requests as unknown (NaN
in the trace, not in the bill).

Credentials are boto3's (environment, profile, instance role). They are
never read, printed or logged here, and error messages are redacted of
anything that looks like an access key.
"""

from __future__ import annotations

import base64
import json
import logging
import re
import threading
import time
from typing import Any

from .backend import ERROR, OK, THROTTLED, TIMEOUT, Invocation
from .protocol import split_requests, validate_bucket_name

__all__ = [
    "AwsBackend", "AwsError", "MAX_MEMORY_MB", "MIN_MEMORY_MB", "call_aws", "check_session", "describe_aws_error",
    "error_code",
    "make_session", "parse_report_line", "redact", "validate_function_name", "validate_memory", "validate_region",
    "wait_function",
]

_LOG = logging.getLogger(__name__)

MIN_MEMORY_MB = 128
MAX_MEMORY_MB = 10240
# Lambda's longest timeout is 900 s: a read timeout above it never cuts a
# running invocation short.
_DEFAULT_READ_TIMEOUT_S = 960.0
_FUNCTION_NAME_RE = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
_FUNCTION_ARN_RE = re.compile(r"^arn:aws[a-z-]*:lambda:[a-z]{2}(-[a-z]+)+-\d:\d{12}:function:[A-Za-z0-9_-]{1,64}$")
_REGION_RE = re.compile(r"^[a-z]{2}(-[a-z]+)+-\d$")
_REPORT_FIELD_RE = re.compile(r"(?P<key>[A-Z][A-Za-z]*(?: [A-Z][A-Za-z]*)*): (?P<value>\S+)(?: (?P<unit>ms|MB)\b)?")
_TIMEOUT_MARK = "Task timed out after"
# Access key ids (AKIA.../ASIA...) and key=value secrets, should an error text carry one.
_SECRET_RES = (re.compile(r"\b(?:AKIA|ASIA|AIDA|AROA)[A-Z0-9]{12,}\b"),
               re.compile(r"(?i)(secret[_ ]?access[_ ]?key|session[_ ]?token|signature)([\"']?\s*[:=]\s*)\S+"))
_MAX_ERROR_CHARS = 500


class AwsError(RuntimeError):
    """An AWS call failed; the message is one line, without credentials."""


def redact(text: str) -> str:
    """``text`` with access key ids and ``secret=value`` pairs masked."""
    text = _SECRET_RES[0].sub("<redacted-key-id>", text)
    return _SECRET_RES[1].sub(r"\1\2<redacted>", text)


def describe_aws_error(error: Exception, action: str) -> str:
    """A one-line, redacted description of a botocore error during ``action``:
    "<action>: <Code>: <Message>" for a ClientError, the error's own text
    (first line) for the others."""
    response = getattr(error, "response", None)
    if isinstance(response, dict) and "Error" in response:
        code = response["Error"].get("Code", "Unknown")
        message = response["Error"].get("Message", "")
        text = f"{action}: {code}: {message}" if message else f"{action}: {code}"
    else:
        lines = str(error).splitlines() or [type(error).__name__]
        text = f"{action}: {type(error).__name__}: {lines[0]}"
    return redact(text)[:_MAX_ERROR_CHARS]


def validate_function_name(name: str) -> str:
    """``name`` if it is a Lambda function name (1-64 characters of letters,
    digits, '-' and '_') or an unqualified function ARN; ValueError naming
    it otherwise."""
    if isinstance(name, str) and (_FUNCTION_NAME_RE.match(name) or _FUNCTION_ARN_RE.match(name)):
        return name
    raise ValueError(f"function: {name!r} is not a valid Lambda function name (expected 1-64 characters "
                     "of A-Z, a-z, 0-9, '-' and '_', or an unqualified function ARN "
                     "arn:aws:lambda:REGION:ACCOUNT:function:NAME)")


def validate_region(region: str) -> str:
    """``region`` if it looks like an AWS region (e.g. eu-west-1); ValueError naming it otherwise."""
    if isinstance(region, str) and _REGION_RE.match(region):
        return region
    raise ValueError(f"region: {region!r} is not an AWS region name (expected e.g. 'us-east-1')")


def validate_memory(memory_mb: int) -> int:
    """``memory_mb`` if Lambda accepts it (an integer in [128, 10240]); ValueError otherwise."""
    if isinstance(memory_mb, int) and not isinstance(memory_mb, bool) and \
            MIN_MEMORY_MB <= memory_mb <= MAX_MEMORY_MB:
        return memory_mb
    raise ValueError(f"memory: {memory_mb!r} MB is not a Lambda memory size (expected an integer "
                     f"in [{MIN_MEMORY_MB}, {MAX_MEMORY_MB}])")


def _snake(key: str) -> str:
    """"Max Memory Used" -> "max_memory_used", "RequestId" -> "request_id"."""
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", key.strip()).lower().replace(" ", "_")


def parse_report_line(text: str) -> dict[str, Any]:
    """The fields of the last REPORT line in ``text`` (a log tail or the line).

    Each "Key: value unit" field becomes ``key_unit`` in snake case, numeric
    when it has a unit: ``request_id``, ``duration_ms``,
    ``billed_duration_ms``, ``memory_size_mb``, ``max_memory_used_mb``,
    ``init_duration_ms`` (cold starts only), ``restore_duration_ms`` and
    ``billed_restore_duration_ms`` (SnapStart restores), ``status`` and
    ``error_type`` (newer runtimes, on failures). Fields not listed here are
    kept the same way, so new ones are tolerated.

    Raises ValueError when ``text`` holds no REPORT line with a Duration.
    """
    lines = [line for line in text.splitlines() if line.startswith("REPORT ")]
    if not lines:
        raise ValueError("no REPORT line in the log tail")
    fields: dict[str, Any] = {}
    for match in _REPORT_FIELD_RE.finditer(lines[-1][len("REPORT "):]):
        key, value, unit = match.group("key"), match.group("value"), match.group("unit")
        if unit:
            try:
                fields[f"{_snake(key)}_{unit.lower()}"] = float(value)
                continue
            except ValueError:
                pass
        fields[_snake(key)] = value
    if "duration_ms" not in fields:
        raise ValueError(f"REPORT line without a Duration: {lines[-1][:200]!r}")
    return fields


def _decode_tail(log_result: str | None) -> str:
    if not log_result:
        return ""
    try:
        return base64.b64decode(log_result).decode("utf-8", errors="replace")
    except (ValueError, TypeError):
        return ""


def error_code(error: Exception) -> str:
    """A botocore ClientError's error code ("" for other errors)."""
    return str((getattr(error, "response", None) or {}).get("Error", {}).get("Code", ""))


def _is_throttle(error: Exception) -> bool:
    status = (getattr(error, "response", None) or {}).get("ResponseMetadata", {}).get("HTTPStatusCode")
    return error_code(error) == "TooManyRequestsException" or status == 429


def _function_error(payload: bytes) -> tuple[str, str]:
    """(errorType, errorMessage) of a failed invocation's payload."""
    try:
        body = json.loads(payload or b"{}")
    except ValueError:
        return "Unknown", payload[:200].decode("utf-8", errors="replace")
    if not isinstance(body, dict):
        return "Unknown", str(body)[:200]
    return str(body.get("errorType") or "Unknown"), str(body.get("errorMessage") or "")


class AwsBackend:
    """A ``Backend`` on AWS Lambda + S3 (see the module docstring).

    Args:
        function_name: the worker function (name or unqualified ARN),
            deployed with ``siren deploy``.
        bucket: the job's S3 bucket.
        region: the AWS region (default: boto3's, from the environment or
            profile).
        profile: a named profile of the AWS config files.
        session: a boto3 Session to use instead of one made from
            ``region``/``profile``.
        lambda_client, s3_client: ready clients (tests: moto or a Stubber);
            when given, nothing else is created for them.
        read_timeout_s: how long an Invoke may wait for its response; keep it
            above the function's timeout (Lambda's maximum is 900 s).
        max_concurrency: the HTTP connection pool size (one connection per
            concurrent invocation).
        update_wait_s: how long ``set_memory`` waits for a configuration
            update to become live.

    Raises ValueError for an invalid function, bucket or region name, and
    (check_session) when no region or no credentials are configured.
    """

    name = "aws"
    endpoint_url: str | None = None

    def __init__(self, function_name: str, bucket: str, region: str | None = None, profile: str | None = None,
                 session: Any = None, *, lambda_client: Any = None, s3_client: Any = None,
                 read_timeout_s: float = _DEFAULT_READ_TIMEOUT_S, max_concurrency: int = 128,
                 update_wait_s: float = 300.0) -> None:
        self.function_name = validate_function_name(function_name)
        self.bucket = validate_bucket_name(bucket)
        if region is not None:
            validate_region(region)
        if not max_concurrency >= 1:
            raise ValueError(f"max_concurrency: expected an integer >= 1, got {max_concurrency!r}")
        self.update_wait_s = float(update_wait_s)
        self._owned: list[Any] = []
        if lambda_client is None or s3_client is None:
            from botocore.config import Config

            session = session or make_session(region, profile)
            check_session(session)
            if lambda_client is None:
                # One attempt: a throttle surfaces as THROTTLED for the runner to retry and count.
                config = Config(read_timeout=read_timeout_s, connect_timeout=10, max_pool_connections=max_concurrency,
                                retries={"total_max_attempts": 1, "mode": "standard"})
                lambda_client = session.client("lambda", config=config)
                self._owned.append(lambda_client)
            if s3_client is None:
                config = Config(max_pool_connections=max_concurrency,
                                retries={"max_attempts": 8, "mode": "standard"})
                s3_client = session.client("s3", config=config)
                self._owned.append(s3_client)
        self.lambda_client = lambda_client
        self.s3 = s3_client
        self._lock = threading.Lock()
        self._memory_mb = 0

    # --- configuration -----------------------------------------------------
    def configuration(self) -> dict[str, Any]:
        """The function's configuration (GetFunctionConfiguration)."""
        return self._call("GetFunctionConfiguration", self.lambda_client.get_function_configuration,
                          FunctionName=self.function_name)

    def set_memory(self, memory_mb: int) -> None:
        """Sets the function's memory to ``memory_mb`` and waits until the
        change is live. No update is made when it is already ``memory_mb``
        (an update would cost a round of cold starts for nothing)."""
        validate_memory(memory_mb)
        with self._lock:
            self._wait_updated()
            current = int(self.configuration().get("MemorySize", 0))
            if current != memory_mb:
                _LOG.info("%s: memory %d MB -> %d MB", self.function_name, current, memory_mb)
                self._call("UpdateFunctionConfiguration", self.lambda_client.update_function_configuration,
                           FunctionName=self.function_name, MemorySize=memory_mb)
                self._wait_updated()
            self._memory_mb = memory_mb

    @property
    def timeout_s(self) -> float:
        """The function's configured timeout, s."""
        return float(self.configuration().get("Timeout", 900))

    def set_timeout(self, timeout_s: float) -> None:
        """Sets the function's timeout (whole seconds, rounded down, at least
        1; the budget guard lowers it) and waits until the change is live.
        A configuration update: the function's warm instances retire."""
        seconds = max(1, int(timeout_s))
        with self._lock:
            self._wait_updated()
            current = int(self.configuration().get("Timeout", 0))
            if current != seconds:
                _LOG.info("%s: timeout %d s -> %d s", self.function_name, current, seconds)
                self._call("UpdateFunctionConfiguration", self.lambda_client.update_function_configuration,
                           FunctionName=self.function_name, Timeout=seconds)
                self._wait_updated()

    def _wait_updated(self) -> None:
        wait_function(self.lambda_client, "function_updated_v2", self.function_name, self.update_wait_s)

    # --- invocation -------------------------------------------------------------
    def invoke(self, event: dict) -> Invocation:
        """Runs the worker once, synchronously; see the module docstring."""
        from botocore.exceptions import BotoCoreError, ClientError, ReadTimeoutError

        start = time.perf_counter()
        try:
            response = self.lambda_client.invoke(FunctionName=self.function_name, InvocationType="RequestResponse",
                                                 LogType="Tail", Payload=json.dumps(event).encode("utf-8"))
        except ClientError as error:
            if _is_throttle(error):
                reason = str((getattr(error, "response", None) or {}).get("Reason") or "")
                text = describe_aws_error(error, "Invoke") + (f" (Reason: {redact(reason)[:80]})" if reason else "")
                return Invocation(THROTTLED, error=text, memory_mb=self._memory_mb)
            raise AwsError(describe_aws_error(error, f"Invoke {self.function_name}")) from None
        except ReadTimeoutError:
            # The function may still be running: the runner treats it as timed out.
            elapsed = time.perf_counter() - start
            return Invocation(TIMEOUT, error=f"no response within the client's read timeout ({elapsed:.0f} s)",
                              duration_s=elapsed, memory_mb=self._memory_mb)
        except BotoCoreError as error:  # No connection, no credentials, ...
            raise AwsError(describe_aws_error(error, f"Invoke {self.function_name}")) from None
        payload = response["Payload"].read()
        timings, report_status = self._timings(_decode_tail(response.get("LogResult")),
                                               time.perf_counter() - start)
        if response.get("FunctionError"):
            error_type, message = _function_error(payload)
            timed_out = error_type == "Sandbox.Timedout" or _TIMEOUT_MARK in message or report_status == "timeout"
            message, requests = split_requests(message)
            # The worker's WorkerError carries the original "Type: message".
            text = message if requests is not None and error_type == "WorkerError" else f"{error_type}: {message}"
            return Invocation(TIMEOUT if timed_out else ERROR, error=redact(text)[:_MAX_ERROR_CHARS],
                              s3_requests=None if timed_out else requests, **timings)
        try:
            body = json.loads(payload) if payload else None
        except ValueError:
            return Invocation(ERROR, error="the handler's response is not JSON", **timings)
        return Invocation(OK, payload=body if isinstance(body, dict) else {"response": body}, **timings)

    def _timings(self, tail: str, elapsed_s: float) -> tuple[dict[str, Any], str]:
        """Invocation fields from the log tail's REPORT line, and the line's
        Status (lower case; "" when absent). Without a REPORT line (a
        truncated tail, or an emulator) the round-trip time stands for the
        duration and the billed duration is unknown."""
        try:
            report = parse_report_line(tail)
        except ValueError:
            return {"duration_s": elapsed_s, "memory_mb": self._memory_mb}, ""
        init_ms = report.get("init_duration_ms", report.get("restore_duration_ms"))
        billed = report.get("billed_duration_ms")
        memory = report.get("memory_size_mb")
        return ({"duration_s": report["duration_ms"] / 1000.0,
                 "billed_s": billed / 1000.0 if billed is not None else None,
                 "init_s": (init_ms or 0.0) / 1000.0, "cold": init_ms is not None,
                 "memory_mb": int(memory) if memory is not None else self._memory_mb,
                 "max_memory_used_mb": report.get("max_memory_used_mb")},
                str(report.get("status", "")).lower())

    def _call(self, action: str, method: Any, **kwargs: Any) -> Any:
        return call_aws(f"{action} {self.function_name}", method, **kwargs)

    def close(self) -> None:
        """Closes the clients this backend created (not injected ones)."""
        for client in self._owned:
            client.close()
        self._owned.clear()


def call_aws(action: str, method: Any, **kwargs: Any) -> Any:
    """``method(**kwargs)``; a botocore error becomes a one-line AwsError
    naming ``action``."""
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        return method(**kwargs)
    except (ClientError, BotoCoreError) as error:
        raise AwsError(describe_aws_error(error, action)) from None


def make_session(region: str | None, profile: str | None) -> Any:
    """A boto3 Session; a missing profile becomes AwsError."""
    import boto3

    return call_aws("AWS session", boto3.Session, region_name=region, profile_name=profile)


def check_session(session: Any, need_region: bool = True) -> None:
    """ValueError, before any AWS call, when `session` has no region (with
    `need_region`) or finds no credentials: what to give, and where boto3
    looked. Nothing about the credentials themselves is read or shown."""
    if need_region and not session.region_name:
        raise ValueError("--region: none given and none configured (AWS_REGION, AWS_DEFAULT_REGION or the "
                         "profile's region in ~/.aws/config); expected e.g. --region eu-west-1")
    try:
        credentials = session.get_credentials()
    except Exception as error:  # botocore: a broken profile, a failing credential process...
        raise ValueError(f"AWS credentials: {describe_aws_error(error, 'loading credentials')}") from None
    if credentials is None:
        raise ValueError("AWS credentials: none found (boto3 looked in the environment, ~/.aws/credentials, "
                         "~/.aws/config and the instance role); configure them (`aws configure`, AWS_PROFILE "
                         "or --profile), see docs/runner-aws.md")


def wait_function(client: Any, waiter: str, function_name: str, max_wait_s: float = 300.0) -> None:
    """Waits with the Lambda waiter ``waiter`` (function_updated_v2,
    function_active_v2: one GetFunction a second) for up to ``max_wait_s``;
    AwsError when the update failed or did not finish."""
    from botocore.exceptions import WaiterError

    try:
        client.get_waiter(waiter).wait(FunctionName=function_name,
                                       WaiterConfig={"Delay": 1, "MaxAttempts": max(1, int(max_wait_s))})
    except WaiterError as error:
        raise AwsError(redact(f"waiting for {function_name} ({waiter}): {error}")[:_MAX_ERROR_CHARS]) from None
