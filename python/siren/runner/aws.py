"""The AWS backend: the worker as a real Lambda function, driven with boto3.

Each epoch the runner calls ``set_memory(m)`` (an UpdateFunctionConfiguration
when m differs from the function's memory, then a wait until the update is
live) and ``invoke(event)`` from one thread per concurrent worker. Lambda
keeps its warm pool per configuration, so a memory change means cold starts,
as in the simulator.

With ``function_per_memory`` each memory size has its own published
version of the function behind an alias (``siren-<m>mb``), so each size
keeps its own warm pool, as the simulator's ``lambda.single_function:
false`` models; the alias is created (or moved to a new version) the first
time a size is used, or when the deployed code, configuration or the budget
guard's timeout changed.

Each invocation is synchronous (``RequestResponse``) with ``LogType='Tail'``:
Lambda returns the last 4 KB of the invocation's log, whose last record is
the invocation's report (duration, billed duration, memory size, max memory
used and, on a cold start, the init duration): the REPORT line in Lambda's
text log format, the ``platform.report`` record in its JSON log format.
``parse_report_line`` reads either. The request id (the report's, else the
response's) is kept in ``Invocation.request_id``.

Outcomes map to the ``Backend`` statuses:

- the handler returned: OK, with its JSON response;
- ``FunctionError`` set: TIMEOUT when Lambda cut the handler at the
  function's timeout ("Task timed out after ..."), ERROR otherwise (the
  handler raised, or the sandbox crashed), with ``errorType: errorMessage``;
- 429 ``TooManyRequestsException`` for the function's concurrency or
  invocation rate (or without a reason): THROTTLED, not retried here (the
  SDK's own retries are off for Invoke: the runner retries and counts).
  Lambda's ``Reason`` is kept in the error text; none of its reasons names
  the scaling-rate limit, so no AWS throttle counts as a scaling throttle;
- requests that never reached the function are sent again here, after a
  jittered exponential back-off (``transient_attempts`` in all, counted in
  ``Invocation.transient_retries``): no connection could be made
  (EndpointConnectionError, a connect timeout), a 429 for the caller's
  request rate (``CallerRateLimitExceeded``), or a refusal before the
  function started (``ResourceNotReadyException``,
  ``EC2ThrottledException``, ``ResourceConflictException``,
  ``SnapStartNotReadyException``, ``ThrottlingException``). Nothing ran,
  so nothing is billed or applied twice;
- a request that may have reached the function without an answer saying
  what it did (a 5xx ``ServiceException`` or another 5xx without a Lambda
  error name, a connection dropped after sending): ERROR with
  ``outcome_unknown``, never resent here; the runner bills it at the most
  it can cost, backs off and re-invokes for the batches the parameter store
  has not applied (its compare-and-swap bitmap applies a batch at most once,
  also when the first invocation is still running);
- no response within the client's read timeout (960 s, above Lambda's
  longest timeout): TIMEOUT;
- any other AWS error raises ``AwsError`` with a one-line message (with a
  hint for refused permissions and expired or unknown credentials).

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
import random
import re
import threading
import time
from typing import Any

from .backend import ERROR, OK, THROTTLED, TIMEOUT, Invocation
from .protocol import S3Counter, split_requests, validate_bucket_name

__all__ = [
    "AwsBackend", "AwsError", "MAX_MEMORY_MB", "MIN_MEMORY_MB", "alias_name", "call_aws", "check_session",
    "describe_aws_error", "error_code", "make_session", "parse_report_line", "redact", "validate_function_name",
    "validate_memory", "validate_region", "wait_function",
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
_CANCELLED = "Cancelled: the runner is stopping"
# 429 reasons of Lambda that are not the function's concurrency or
# invocation rate (what the simulator's throttles model): the caller's own
# request rate, SnapStart snapshots. Resent by the backend.
_RATE_REASONS = frozenset({"CallerRateLimitExceeded", "ConcurrentSnapshotCreateLimitExceeded"})
# Invoke errors that Lambda returns before the function starts, and that pass.
_NOT_STARTED_CODES = frozenset({"ResourceNotReadyException", "EC2ThrottledException", "ResourceConflictException",
                                "SnapStartNotReadyException", "ThrottlingException"})
# What to do about an error, by its code (ClientError) or class (others).
_PERMISSION_HINT = ("not permitted: the identity running siren needs the runner policy of `siren deploy "
                    "--print-policy` (docs/runner-aws.md)")
_EXPIRED_HINT = "the credentials have expired: renew them (e.g. `aws sso login`) and run again"
_UNKNOWN_KEY_HINT = ("AWS does not accept these credentials: check which ones boto3 finds "
                     "(`aws sts get-caller-identity`, AWS_PROFILE or --profile)")
_HINTS = {
    "AccessDenied": _PERMISSION_HINT, "AccessDeniedException": _PERMISSION_HINT,
    "UnauthorizedOperation": _PERMISSION_HINT, "AuthorizationError": _PERMISSION_HINT,
    "ExpiredToken": _EXPIRED_HINT, "ExpiredTokenException": _EXPIRED_HINT, "RequestExpired": _EXPIRED_HINT,
    "TokenRefreshRequired": _EXPIRED_HINT,
    "InvalidClientTokenId": _UNKNOWN_KEY_HINT, "UnrecognizedClientException": _UNKNOWN_KEY_HINT,
    "InvalidAccessKeyId": _UNKNOWN_KEY_HINT, "SignatureDoesNotMatch": _UNKNOWN_KEY_HINT,
    "InvalidSignatureException": _UNKNOWN_KEY_HINT,
    "NoCredentialsError": "no AWS credentials found: configure them (`aws configure`, AWS_PROFILE or --profile)",
    "PartialCredentialsError": "incomplete AWS credentials: check the profile or the environment",
    "NoRegionError": "no region: give --region (e.g. --region eu-west-1) or set AWS_REGION",
    "EndpointConnectionError": "no connection to AWS: is the network up and the region right?",
    "ConnectTimeoutError": "no connection to AWS: is the network up and the region right?",
}


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
        code = str(response["Error"].get("Code", "Unknown"))
        message = response["Error"].get("Message", "")
        text = f"{action}: {code}: {message}" if message else f"{action}: {code}"
    else:
        code = type(error).__name__
        lines = str(error).splitlines() or [code]
        text = f"{action}: {code}: {lines[0]}"
    hint = _HINTS.get(code, "")
    text = redact(text)[:_MAX_ERROR_CHARS]
    return f"{text} ({hint})" if hint else text


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
    """The fields of the last invocation report in ``text`` (a log tail, or
    one line), in either of Lambda's log formats:

    - text: the REPORT line. Each "Key: value unit" field becomes
      ``key_unit`` in snake case, numeric when it has a unit;
    - JSON: the ``platform.report`` record, ``{"type": "platform.report",
      "record": {"requestId", "metrics": {"durationMs", "billedDurationMs",
      "memorySizeMB", "maxMemoryUsedMB", "initDurationMs", ...}, "status",
      "errorType"}}``. Each metric becomes the same key (``durationMs`` ->
      ``duration_ms``, ``memorySizeMB`` -> ``memory_size_mb``), numbers as
      floats.

    Either way the keys are ``request_id``, ``duration_ms``,
    ``billed_duration_ms``, ``memory_size_mb``, ``max_memory_used_mb``,
    ``init_duration_ms`` (cold starts only), ``restore_duration_ms`` and
    ``billed_restore_duration_ms`` (SnapStart restores), ``status`` and
    ``error_type`` (on failures; newer runtimes in the text format). Fields
    not listed here are kept the same way, so new ones are tolerated. Lines
    that are neither (function output, a JSON line cut by the 4 KB tail)
    are skipped.

    Raises ValueError when ``text`` holds no report with a duration.
    """
    last: tuple[str, Any] | None = None
    for line in text.splitlines():
        stripped = line.strip()
        if stripped.startswith("REPORT "):
            last = ("text", stripped)
        elif stripped.startswith("{") and "platform.report" in stripped:
            record = _json_report(stripped)
            if record is not None:
                last = ("json", record)
    if last is None:
        raise ValueError("no REPORT line (text log format) or platform.report record (JSON log format) in the "
                         "log tail")
    fields = _text_report_fields(last[1]) if last[0] == "text" else _json_report_fields(last[1])
    if "duration_ms" not in fields:
        shown = last[1] if last[0] == "text" else json.dumps(last[1])
        raise ValueError(f"report without a duration: {shown[:200]!r}")
    return fields


def _text_report_fields(line: str) -> dict[str, Any]:
    fields: dict[str, Any] = {}
    for match in _REPORT_FIELD_RE.finditer(line[len("REPORT "):]):
        key, value, unit = match.group("key"), match.group("value"), match.group("unit")
        if unit:
            try:
                fields[f"{_snake(key)}_{unit.lower()}"] = float(value)
                continue
            except ValueError:
                pass
        fields[_snake(key)] = value
    return fields


def _json_report(line: str) -> dict[str, Any] | None:
    """The ``record`` of a ``platform.report`` JSON log line, else None."""
    try:
        entry = json.loads(line)
    except ValueError:
        return None
    if not isinstance(entry, dict) or entry.get("type") != "platform.report" or \
            not isinstance(entry.get("record"), dict):
        return None
    return entry["record"]


def _json_report_fields(record: dict[str, Any]) -> dict[str, Any]:
    fields: dict[str, Any] = {}
    if record.get("requestId") is not None:
        fields["request_id"] = str(record["requestId"])
    metrics = record.get("metrics")
    for key, value in (metrics.items() if isinstance(metrics, dict) else ()):
        numeric = isinstance(value, (int, float)) and not isinstance(value, bool)
        fields[_snake(key)] = float(value) if numeric else value
    for key in ("status", "errorType"):
        if record.get(key) is not None:
            fields[_snake(key)] = str(record[key])
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


def _http_status(error: Exception) -> int:
    return int((getattr(error, "response", None) or {}).get("ResponseMetadata", {}).get("HTTPStatusCode") or 0)


def _request_id(response: Any) -> str:
    """The RequestId of a response (or of an error's; its header when the
    body did not parse), "" when absent."""
    metadata = (response or {}).get("ResponseMetadata") or {}
    return str(metadata.get("RequestId") or (metadata.get("HTTPHeaders") or {}).get("x-amzn-requestid") or "")


def _is_throttle(error: Exception) -> bool:
    return error_code(error) == "TooManyRequestsException" or _http_status(error) == 429


# What an Invoke ClientError means for the invocation (see the module docstring).
_THROTTLED, _NOT_STARTED, _MAYBE_STARTED, _FATAL = "throttled", "not started", "maybe started", "fatal"


def _classify(error: Exception) -> str:
    if _is_throttle(error):
        reason = str((getattr(error, "response", None) or {}).get("Reason") or "")
        return _NOT_STARTED if reason in _RATE_REASONS else _THROTTLED
    code = error_code(error)
    if code in _NOT_STARTED_CODES:
        return _NOT_STARTED
    # Lambda names the 5xx of a configuration problem (ENILimitReachedException,
    # KMSAccessDeniedException, ...): those are fatal. Its internal error, and
    # a 5xx from something in between, may come after the function ran.
    if code == "ServiceException" or (_http_status(error) >= 500 and not code.endswith("Exception")):
        return _MAYBE_STARTED
    return _FATAL


def _retry_after_s(error: Exception) -> float:
    """Lambda's retryAfterSeconds of a 429 (0 when absent)."""
    try:
        return max(0.0, float((getattr(error, "response", None) or {}).get("retryAfterSeconds") or 0))
    except (TypeError, ValueError):
        return 0.0


def alias_name(memory_mb: int) -> str:
    """The alias of the function's version at ``memory_mb`` (function per memory size)."""
    return f"siren-{validate_memory(memory_mb)}mb"


def _layer_arns(configuration: dict[str, Any]) -> list[str]:
    return sorted(str(layer.get("Arn")) for layer in configuration.get("Layers") or [])


def _variables(configuration: dict[str, Any]) -> dict[str, str]:
    return dict((configuration.get("Environment") or {}).get("Variables") or {})


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
        function_per_memory: one published version and alias per memory
            size (``siren-<m>mb``), each with its own warm pool, instead of
            reconfiguring the function (``single_function`` is then False).
        transient_attempts: how often a request that never reached the
            function is sent in all (1: never resent).
        transient_backoff_s: (base, cap) of the jittered exponential
            back-off between those attempts: base x 2^k, at most cap,
            times a uniform [0.5, 1) (at least Lambda's retryAfterSeconds).

    Raises ValueError for an invalid function, bucket or region name, and
    (check_session) when no region or no credentials are configured.
    """

    name = "aws"
    endpoint_url: str | None = None

    def __init__(self, function_name: str, bucket: str, region: str | None = None, profile: str | None = None,
                 session: Any = None, *, lambda_client: Any = None, s3_client: Any = None,
                 read_timeout_s: float = _DEFAULT_READ_TIMEOUT_S, max_concurrency: int = 128,
                 update_wait_s: float = 300.0, function_per_memory: bool = False, transient_attempts: int = 6,
                 transient_backoff_s: tuple[float, float] = (0.5, 20.0)) -> None:
        self.function_name = validate_function_name(function_name)
        self.bucket = validate_bucket_name(bucket)
        if region is not None:
            validate_region(region)
        if not max_concurrency >= 1:
            raise ValueError(f"max_concurrency: expected an integer >= 1, got {max_concurrency!r}")
        if isinstance(transient_attempts, bool) or not isinstance(transient_attempts, int) or transient_attempts < 1:
            raise ValueError(f"transient_attempts: expected an integer >= 1, got {transient_attempts!r}")
        base, cap = transient_backoff_s
        if not 0 <= base <= cap < float("inf"):
            raise ValueError(f"transient_backoff_s: expected (base, cap) with 0 <= base <= cap, finite, got "
                             f"{transient_backoff_s!r}")
        self.update_wait_s = float(update_wait_s)
        self.function_per_memory = bool(function_per_memory)
        self.single_function = not self.function_per_memory
        self.transient_attempts = transient_attempts
        self._backoff = (float(base), float(cap))
        self._rng = random.Random()
        self._cancelled = threading.Event()
        self._qualifier: str | None = None  # The alias invoked (function per memory).
        self._timeout_override: int | None = None  # The guard's timeout (function per memory).
        self._aliases: dict[int, tuple[str, int]] = {}  # Memory -> (version, timeout) checked in this run.
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
        (an update would cost a round of cold starts for nothing). With
        ``function_per_memory`` the size's alias is used (made or moved to
        a new version first when missing or stale); $LATEST and the other
        sizes' versions keep their warm pools."""
        validate_memory(memory_mb)
        with self._lock:
            if self.function_per_memory:
                self._qualifier = self._ensure_alias(memory_mb)
                self._memory_mb = memory_mb
                return
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
        """The function's configured timeout, s (with ``function_per_memory``,
        the budget guard's once it set one)."""
        if self._timeout_override is not None:
            return float(self._timeout_override)
        return float(self.configuration().get("Timeout", 900))

    def set_timeout(self, timeout_s: float) -> None:
        """Sets the function's timeout (whole seconds, rounded down, at least
        1; the budget guard lowers it) and waits until the change is live.
        A configuration update: the function's warm instances retire (with
        ``function_per_memory``: the current size's alias moves to a new
        version with that timeout, and so will each size's when next used)."""
        seconds = max(1, int(timeout_s))
        with self._lock:
            if self.function_per_memory:
                self._timeout_override = seconds
                if self._memory_mb:
                    self._qualifier = self._ensure_alias(self._memory_mb)
                return
            self._wait_updated()
            current = int(self.configuration().get("Timeout", 0))
            if current != seconds:
                _LOG.info("%s: timeout %d s -> %d s", self.function_name, current, seconds)
                self._call("UpdateFunctionConfiguration", self.lambda_client.update_function_configuration,
                           FunctionName=self.function_name, Timeout=seconds)
                self._wait_updated()

    def _ensure_alias(self, memory_mb: int) -> str:
        """The alias of ``memory_mb``, pointing at a published version of the
        deployed code and configuration at that size and the wanted timeout;
        made, or moved to a newly published version, when it is not."""
        from botocore.exceptions import ClientError

        alias = alias_name(memory_mb)
        self._wait_updated()
        latest = self.configuration()
        timeout = self._timeout_override or int(latest.get("Timeout", 900))
        if self._aliases.get(memory_mb, ("", 0))[1] == timeout:
            return alias
        try:
            current = self.lambda_client.get_alias(FunctionName=self.function_name, Name=alias)
        except ClientError as error:
            if error_code(error) != "ResourceNotFoundException":
                raise AwsError(describe_aws_error(error, f"GetAlias {self.function_name}:{alias}")) from None
            current = None
        if current is not None:
            version = str(current["FunctionVersion"])
            configuration = self._call("GetFunctionConfiguration", self.lambda_client.get_function_configuration,
                                       FunctionName=self.function_name, Qualifier=version)
            if self._matches(configuration, latest, memory_mb, timeout):
                self._aliases[memory_mb] = (version, timeout)
                return alias
        # Publish the deployed code at this size and timeout.
        if int(latest.get("MemorySize", 0)) != memory_mb or int(latest.get("Timeout", 0)) != timeout:
            self._call("UpdateFunctionConfiguration", self.lambda_client.update_function_configuration,
                       FunctionName=self.function_name, MemorySize=memory_mb, Timeout=timeout)
            self._wait_updated()
        published = self._call("PublishVersion", self.lambda_client.publish_version, FunctionName=self.function_name,
                               CodeSha256=str(latest.get("CodeSha256", "")),
                               Description=f"siren: {memory_mb} MB, timeout {timeout} s")
        version = str(published["Version"])
        wait_function(self.lambda_client, "published_version_active", self.function_name, self.update_wait_s,
                      qualifier=version)
        if current is None:
            self._call("CreateAlias", self.lambda_client.create_alias, FunctionName=self.function_name, Name=alias,
                       FunctionVersion=version, Description=f"siren: the worker at {memory_mb} MB")
        else:
            self._call("UpdateAlias", self.lambda_client.update_alias, FunctionName=self.function_name, Name=alias,
                       FunctionVersion=version)
        _LOG.info("%s: alias %s -> version %s (%d MB, %d s)", self.function_name, alias, version, memory_mb, timeout)
        self._aliases[memory_mb] = (version, timeout)
        return alias

    @staticmethod
    def _matches(configuration: dict[str, Any], latest: dict[str, Any], memory_mb: int, timeout: int) -> bool:
        """Whether a version's ``configuration`` is the deployed one
        (``latest``: code, runtime, handler, role, layers, environment) at
        ``memory_mb`` and ``timeout``."""
        same = ("CodeSha256", "Runtime", "Handler", "Role")
        return (int(configuration.get("MemorySize", 0)) == memory_mb and int(configuration.get("Timeout", 0)) == timeout
                and all(configuration.get(key) == latest.get(key) for key in same)
                and _layer_arns(configuration) == _layer_arns(latest)
                and _variables(configuration) == _variables(latest))

    def _wait_updated(self) -> None:
        wait_function(self.lambda_client, "function_updated_v2", self.function_name, self.update_wait_s)

    # --- invocation -------------------------------------------------------------
    def invoke(self, event: dict) -> Invocation:
        """Runs the worker once, synchronously; see the module docstring."""
        from botocore.exceptions import BotoCoreError, ClientError, ConnectionError as NoConnection, HTTPClientError, \
            ReadTimeoutError, SSLError

        arguments = {"FunctionName": self.function_name, "InvocationType": "RequestResponse", "LogType": "Tail",
                     "Payload": json.dumps(event).encode("utf-8")}
        if self._qualifier:
            arguments["Qualifier"] = self._qualifier
        memory_mb = self._memory_mb
        retries = 0
        first = time.perf_counter()
        while True:
            if self._cancelled.is_set():  # Not sent: nothing ran.
                return Invocation(ERROR, error=_CANCELLED, memory_mb=memory_mb, s3_requests=S3Counter(),
                                  transient_retries=retries)
            start = time.perf_counter()
            try:
                response = self.lambda_client.invoke(**arguments)
            except ClientError as error:
                kind = _classify(error)
                request_id = _request_id(getattr(error, "response", None))
                if kind == _NOT_STARTED and retries + 1 < self.transient_attempts:
                    retries += 1
                    self._back_off(retries, _retry_after_s(error))
                    continue
                if kind == _THROTTLED or (kind == _NOT_STARTED and _is_throttle(error)):
                    # Not run; the runner backs off and counts.
                    reason = str((getattr(error, "response", None) or {}).get("Reason") or "")
                    text = describe_aws_error(error, "Invoke") + (f" (Reason: {redact(reason)[:80]})" if reason else "")
                    return Invocation(THROTTLED, error=text, memory_mb=memory_mb, request_id=request_id,
                                      transient_retries=retries)
                if kind == _MAYBE_STARTED:
                    return self._unknown_outcome(describe_aws_error(error, "Invoke"), start, memory_mb, request_id,
                                                 retries)
                raise AwsError(describe_aws_error(error, f"Invoke {self.function_name}")
                               + self._attempts_note(retries, first)) from None
            except ReadTimeoutError:
                # The function may still be running: the runner treats it as timed out.
                elapsed = time.perf_counter() - start
                return Invocation(TIMEOUT, error=f"no response within the client's read timeout ({elapsed:.0f} s)",
                                  duration_s=elapsed, memory_mb=memory_mb, transient_retries=retries)
            except (SSLError, HTTPClientError) as error:  # The request may have gone out: never resent here.
                return self._unknown_outcome(describe_aws_error(error, "Invoke"), start, memory_mb, "", retries)
            except NoConnection as error:  # No connection was made: nothing was sent.
                if retries + 1 < self.transient_attempts:
                    retries += 1
                    self._back_off(retries, 0.0)
                    continue
                raise AwsError(describe_aws_error(error, f"Invoke {self.function_name}")
                               + self._attempts_note(retries, first)) from None
            except BotoCoreError as error:  # No credentials, ...
                raise AwsError(describe_aws_error(error, f"Invoke {self.function_name}")) from None
            break
        payload = response["Payload"].read()
        timings, report_status = self._timings(_decode_tail(response.get("LogResult")),
                                               time.perf_counter() - start)
        timings["request_id"] = timings.get("request_id") or _request_id(response)
        timings["transient_retries"] = retries
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

    def _unknown_outcome(self, text: str, start: float, memory_mb: int, request_id: str,
                         retries: int) -> Invocation:
        """An invocation that may have run, of which nothing is known."""
        return Invocation(ERROR, error=f"{text} (the invocation may have run: outcome unknown)"[:_MAX_ERROR_CHARS],
                          duration_s=time.perf_counter() - start, memory_mb=memory_mb, request_id=request_id,
                          transient_retries=retries, outcome_unknown=True)

    def _back_off(self, retries: int, at_least_s: float) -> None:
        """Waits base x 2^(retries-1) (at most cap) times a jitter in [0.5,
        1), at least ``at_least_s`` (capped too); a cancel ends the wait."""
        base, cap = self._backoff
        delay = min(cap, base * 2 ** min(retries - 1, 30)) * self._rng.uniform(0.5, 1.0)
        self._cancelled.wait(max(delay, min(cap, at_least_s)))

    def _attempts_note(self, retries: int, first: float) -> str:
        if not retries:
            return ""
        return f" (after {retries + 1} attempts over {time.perf_counter() - first:.1f} s)"

    def cancel(self) -> None:
        """The runner is stopping: back-off waits end, and later invocations
        return at once as errors without being sent. Invocations in flight
        run on (Lambda cannot cancel them; they are billed)."""
        self._cancelled.set()

    def _timings(self, tail: str, elapsed_s: float) -> tuple[dict[str, Any], str]:
        """Invocation fields from the log tail's REPORT line, and the line's
        Status (lower case; "" when absent). Without a report (a truncated
        tail, or an emulator) the round-trip time stands for the duration and
        the billed duration is unknown."""
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
                 "max_memory_used_mb": report.get("max_memory_used_mb"),
                 "request_id": str(report.get("request_id", ""))},
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


def wait_function(client: Any, waiter: str, function_name: str, max_wait_s: float = 300.0,
                  qualifier: str | None = None) -> None:
    """Waits with the Lambda waiter ``waiter`` (function_updated_v2,
    function_active_v2, published_version_active with ``qualifier``: one
    GetFunction(Configuration) a second) for up to ``max_wait_s``; AwsError
    when the update failed or did not finish."""
    from botocore.exceptions import WaiterError

    arguments: dict[str, Any] = {"FunctionName": function_name}
    if qualifier is not None:
        arguments["Qualifier"] = qualifier
    try:
        client.get_waiter(waiter).wait(**arguments, WaiterConfig={"Delay": 1, "MaxAttempts": max(1, int(max_wait_s))})
    except WaiterError as error:
        where = f"{function_name}:{qualifier}" if qualifier else function_name
        raise AwsError(redact(f"waiting for {where} ({waiter}): {error}")[:_MAX_ERROR_CHARS]) from None
