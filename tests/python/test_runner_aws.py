"""The AWS side of the runner (siren.runner.aws, deploy, iam_policy), without AWS.

No test reaches a real AWS account: credentials are fake, the config files
point nowhere, and every call goes either to moto or to botocore's Stubber.
Which is which, as measured with moto 5.2.5 on a machine without Docker:

- moto's in-process ``mock_aws`` (Lambda and S3 control planes): IAM roles,
  CreateFunction, UpdateFunctionCode, UpdateFunctionConfiguration,
  GetFunction(Configuration), the function_active_v2 / function_updated_v2
  waiters, layers (PublishLayerVersion), S3 buckets in and outside us-east-1
  (with moto's LocationConstraint checks). So ``set_memory`` and ``deploy``
  are tested on moto.
- moto's Invoke runs the handler in a Docker container; without Docker it
  answers FunctionError "Handled" with "error running docker" and no log tail.
  Its Docker-free mode (``config={"lambda": {"use_docker": False}}``) only
  echoes the event back, without a REPORT line. Neither can produce cold
  starts, errors, timeouts or throttles, so ``invoke`` is tested with
  botocore's Stubber (canned responses in Lambda's real formats) and, for the
  no-retry and concurrency checks, with a botocore ``before-send`` hook that
  answers each HTTP request (the client's whole parsing and retry path runs).
  The echo mode is used once, to check the no-REPORT-line fallback.
- The runtime check of ``siren deploy`` invokes the function: its Invoke is
  answered by a hook on the session (the ``runtime`` fixture), and the
  worker's probe itself runs for real in process and from the zip.
- Transient Invoke errors are raised or answered by a ``before-send`` hook;
  the job-level test runs the real worker in process on moto's S3 behind
  such a hook, so the parameter store's bitmap is the real one.
"""

from __future__ import annotations

import base64
import io
import json
import logging
import subprocess
import sys
import textwrap
import threading
import uuid
import zipfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

boto3 = pytest.importorskip("boto3")
moto = pytest.importorskip("moto")

from botocore.awsrequest import AWSResponse  # noqa: E402
from botocore.response import StreamingBody  # noqa: E402
from botocore.stub import Stubber  # noqa: E402

from siren.runner import aws, deploy, iam_policy  # noqa: E402
from siren.runner.backend import ERROR, OK, THROTTLED, TIMEOUT  # noqa: E402

REGION = "eu-west-1"
FUNCTION = "siren-worker"
BUCKET = "siren-test-bucket"
SECRET = "siren-TEST-secret-must-never-be-printed-0123456789"
TOKEN = "siren-TEST-session-token-must-never-be-printed"
REQUEST_ID = "3604209a-e9a3-11e6-939a-754dd98c7be3"
REPORT_COLD = (f"REPORT RequestId: {REQUEST_ID}\tDuration: 1234.56 ms\tBilled Duration: 1235 ms\t"
               "Memory Size: 1024 MB\tMax Memory Used: 180 MB\tInit Duration: 812.34 ms\t\n")
REPORT_WARM = (f"REPORT RequestId: {REQUEST_ID}\tDuration: 345.67 ms\tBilled Duration: 346 ms\t"
               "Memory Size: 1024 MB\tMax Memory Used: 181 MB\t\n")


@pytest.fixture(autouse=True)
def fake_aws(monkeypatch, tmp_path):
    """Fake credentials and region; no config file, profile or instance role."""
    for name in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_ENDPOINT_URL", "AWS_ROLE_ARN",
                 "AWS_WEB_IDENTITY_TOKEN_FILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIAIOSFODNN7EXAMPLE")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", SECRET)
    monkeypatch.setenv("AWS_SESSION_TOKEN", TOKEN)
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-credentials"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")


@pytest.fixture
def mocked():
    # Docker-free Lambda: an Invoke that reaches moto echoes its event, and
    # one answered by a test's hook (which botocore prefers) runs nothing.
    with moto.mock_aws(config={"lambda": {"use_docker": False}}):
        yield


GOOD_PROBE = {"probe": "runtime", "python": "3.12.8", "boto3": "1.37.3", "botocore": "1.37.3", "numpy": "2.2.4",
              "conditional_writes": True, "test_fields": False}


@pytest.fixture
def runtime(monkeypatch):
    """The deployed function's runtime as `siren deploy`'s runtime check sees
    it. moto cannot run the worker without Docker, so the sessions deploy
    makes answer Invoke here: ``state["reply"]`` is the probe's reply, or
    (FunctionError, error payload); ``state["events"]`` the events sent."""
    state = {"reply": dict(GOOD_PROBE), "events": []}
    make_session = deploy.make_session

    def answer(request, **_: object) -> AWSResponse:
        state["events"].append(json.loads(request.body))
        reply = state["reply"]
        if isinstance(reply, tuple):
            body = _Raw(json.dumps(reply[1]).encode())
            return AWSResponse(request.url, 200, {"X-Amz-Function-Error": reply[0]}, body)
        return AWSResponse(request.url, 200, {}, _Raw(json.dumps(reply).encode()))

    def session_with_runtime(region, profile):
        session = make_session(region, profile)
        session.events.register_first("before-send.lambda.Invoke", answer)
        return session

    monkeypatch.setattr(deploy, "make_session", session_with_runtime)
    return state


def _role() -> str:
    trust = iam_policy.least_privilege_policy(FUNCTION, BUCKET)["worker_trust"]
    return boto3.client("iam").create_role(RoleName="siren-worker-role",
                                           AssumeRolePolicyDocument=json.dumps(trust))["Role"]["Arn"]


def _tail(*lines: str) -> str:
    return base64.b64encode("".join(lines).encode()).decode()


def _payload(body: bytes) -> StreamingBody:
    return StreamingBody(io.BytesIO(body), len(body))


# --- the REPORT line -----------------------------------------------------------------
def test_parse_report_line_cold_and_warm() -> None:
    log = f"START RequestId: {REQUEST_ID} Version: $LATEST\nEND RequestId: {REQUEST_ID}\n{REPORT_COLD}"
    cold = aws.parse_report_line(log)
    assert cold == {"request_id": REQUEST_ID, "duration_ms": 1234.56, "billed_duration_ms": 1235.0,
                    "memory_size_mb": 1024.0, "max_memory_used_mb": 180.0, "init_duration_ms": 812.34}
    warm = aws.parse_report_line(REPORT_WARM)
    assert "init_duration_ms" not in warm and warm["duration_ms"] == 345.67


def test_parse_report_line_tolerates_new_and_unknown_fields() -> None:
    # SnapStart restores, the Status/Error Type of newer runtimes, an unknown
    # field, spaces instead of tabs, and an X-Ray line after the REPORT.
    line = (f"REPORT RequestId: {REQUEST_ID} Duration: 3000.00 ms Billed Duration: 3000 ms Memory Size: 128 MB "
            "Max Memory Used: 86 MB Restore Duration: 474.16 ms Billed Restore Duration: 166 ms "
            "Future Thing: 7 ms Status: timeout Error Type: Runtime.OutOfMemory\n"
            "XRAY TraceId: 1-5e1b4151-5ac6c58f5b1c3c7d SegmentId: 6b6e SampledId: true\n")
    fields = aws.parse_report_line(line)
    assert fields["restore_duration_ms"] == 474.16 and fields["billed_restore_duration_ms"] == 166.0
    assert fields["future_thing_ms"] == 7.0
    assert fields["status"] == "timeout" and fields["error_type"] == "Runtime.OutOfMemory"


@pytest.mark.parametrize("text", ["", "START RequestId: x\n", "REPORT RequestId: x\tMemory Size: 128 MB\n"])
def test_parse_report_line_without_report(text: str) -> None:
    with pytest.raises(ValueError, match="REPORT"):
        aws.parse_report_line(text)


# --- invoke: Stubber ------------------------------------------------------------------
def _stubbed_backend() -> tuple[aws.AwsBackend, Stubber]:
    client = boto3.client("lambda", region_name=REGION)
    backend = aws.AwsBackend(FUNCTION, BUCKET, lambda_client=client, s3_client=boto3.client("s3"))
    return backend, Stubber(client)


def _expect_invoke(stub: Stubber, event: dict, body: bytes, tail: str, function_error: str | None = None) -> None:
    response = {"StatusCode": 200, "LogResult": tail, "Payload": _payload(body), "ExecutedVersion": "$LATEST"}
    if function_error:
        response["FunctionError"] = function_error
    stub.add_response("invoke", response, {"FunctionName": FUNCTION, "InvocationType": "RequestResponse",
                                           "LogType": "Tail", "Payload": json.dumps(event).encode()})


def test_invoke_ok_cold_then_warm() -> None:
    backend, stub = _stubbed_backend()
    event = {"epoch": 0, "batches": [0, 1]}
    _expect_invoke(stub, event, b'{"batches": [], "remaining": []}', _tail(REPORT_COLD))
    _expect_invoke(stub, event, b'{"batches": [], "remaining": [1]}', _tail("some handler output\n", REPORT_WARM))
    with stub:
        cold = backend.invoke(event)
        warm = backend.invoke(event)
    assert cold.status == OK and cold.payload == {"batches": [], "remaining": []}
    assert cold.cold and cold.init_s == pytest.approx(0.81234)
    assert cold.duration_s == pytest.approx(1.23456) and cold.billed_s == pytest.approx(1.235)
    assert cold.memory_mb == 1024 and cold.max_memory_used_mb == 180.0
    assert warm.status == OK and not warm.cold and warm.init_s == 0.0 and warm.payload["remaining"] == [1]
    assert warm.duration_s == pytest.approx(0.34567)


def test_invoke_handler_error() -> None:
    backend, stub = _stubbed_backend()
    body = json.dumps({"errorMessage": "event: missing field 'epoch'", "errorType": "ValueError",
                       "requestId": REQUEST_ID, "stackTrace": ["  File \"/var/task/siren_worker/worker.py\"\n"]})
    _expect_invoke(stub, {}, body.encode(), _tail(REPORT_WARM), "Unhandled")
    with stub:
        result = backend.invoke({})
    assert result.status == ERROR and result.payload is None
    assert result.error == "ValueError: event: missing field 'epoch'"  # No stack trace.
    assert result.duration_s == pytest.approx(0.34567) and result.billed_s == pytest.approx(0.346)


@pytest.mark.parametrize("body", [
    # Older runtimes: the message carries the timeout.
    {"errorMessage": f"2024-05-01T10:00:00.000Z {REQUEST_ID} Task timed out after 300.02 seconds"},
    # Newer runtimes: a Sandbox.Timedout error type.
    {"errorType": "Sandbox.Timedout", "errorMessage": f"RequestId: {REQUEST_ID} Error: Task timed out after "
                                                      "300.00 seconds"},
])
def test_invoke_timeout(body: dict) -> None:
    backend, stub = _stubbed_backend()
    report = (f"REPORT RequestId: {REQUEST_ID}\tDuration: 300000.00 ms\tBilled Duration: 300000 ms\t"
              "Memory Size: 1024 MB\tMax Memory Used: 200 MB\t\n")
    _expect_invoke(stub, {}, json.dumps(body).encode(),
                   _tail(f"2024-05-01T10:00:00.000Z {REQUEST_ID} Task timed out after 300.02 seconds\n", report),
                   "Unhandled")
    with stub:
        result = backend.invoke({})
    assert result.status == TIMEOUT and "Task timed out after" in result.error
    assert result.duration_s == pytest.approx(300.0) and result.billed_s == pytest.approx(300.0)
    assert result.s3_requests is None  # Cut at its timeout: nothing says what it requested.


def test_invoke_sandbox_crash_is_an_error() -> None:
    backend, stub = _stubbed_backend()
    body = {"errorType": "Runtime.ExitError",
            "errorMessage": f"RequestId: {REQUEST_ID} Error: Runtime exited with error: signal: killed"}
    report = REPORT_WARM.replace("\t\n", "\tStatus: error\tError Type: Runtime.ExitError\n")
    _expect_invoke(stub, {}, json.dumps(body).encode(), _tail(report), "Unhandled")
    with stub:
        result = backend.invoke({})
    assert result.status == ERROR and result.error.startswith("Runtime.ExitError: ")
    assert result.s3_requests is None


def test_a_failed_handlers_requests_reach_the_runner_in_its_error_payload(mocked, monkeypatch) -> None:
    """The real handler fails after its first push (moto's S3 in process);
    Lambda's error payload for it (errorType, errorMessage = the error's
    text) carries its requests: the backend reads them, and the error text
    is the original error's."""
    import numpy as np

    from siren.runner import model, protocol, worker

    monkeypatch.setattr(worker, "_CLIENTS", {})  # A client made under this mock.
    monkeypatch.setenv(worker.TEST_FIELDS_ENV, "1")  # The fault is a test-only field.
    s3 = boto3.client("s3", region_name="us-east-1")
    s3.create_bucket(Bucket=BUCKET)
    batch = {"indptr": np.array([0, 1, 2]), "indices": np.array([0, 1]), "values": np.ones(2),
             "labels": np.array([0, 1])}
    s3.put_object(Bucket=BUCKET, Key=protocol.batch_key("job", 0), Body=protocol.encode_batch(batch))
    s3.put_object(Bucket=BUCKET, Key="job/" + protocol.MANIFEST_KEY, Body=json.dumps({"features": 2, "classes": 2}))
    protocol.ParameterStore(s3, BUCKET, "job").initialise(model.initial_parameters(2, 2), batches=1)
    event = {"bucket": BUCKET, "prefix": "job", "epoch": 0, "batches": [0], "learning_rate": 0.1,
             "fault": {"token": "t", "at_batch": 0, "when": "after_push"}}
    with pytest.raises(worker.WorkerError) as raised:
        worker.handler(event)
    # The manifest, the batch and the parameters; the push and the fault marker.
    assert (raised.value.requests.gets, raised.value.requests.puts) == (3, 2)
    body = json.dumps({"errorMessage": str(raised.value), "errorType": type(raised.value).__name__,
                       "requestId": REQUEST_ID, "stackTrace": []})
    backend, stub = _stubbed_backend()
    _expect_invoke(stub, event, body.encode(), _tail(REPORT_WARM), "Unhandled")
    with stub:
        result = backend.invoke(event)
    assert result.status == ERROR
    assert result.error == "InjectedFault: injected fault at batch 0 (after_push)"
    assert result.s3_requests == raised.value.requests and len(result.s3_requests.get_seconds) == 3


def test_a_throttle_keeps_lambdas_reason() -> None:
    backend, stub = _stubbed_backend()
    stub.add_client_error("invoke", service_error_code="TooManyRequestsException", service_message="Rate Exceeded.",
                          http_status_code=429, modeled_fields={"Reason": "ConcurrentInvocationLimitExceeded"})
    with stub:
        result = backend.invoke({})
    assert result.status == THROTTLED and result.error.endswith("(Reason: ConcurrentInvocationLimitExceeded)")
    assert not result.scaling_throttle  # No reason of Lambda's names the scaling-rate limit.


def test_invoke_throttle_is_reported_not_raised() -> None:
    backend, stub = _stubbed_backend()
    stub.add_client_error("invoke", service_error_code="TooManyRequestsException", service_message="Rate Exceeded.",
                          http_status_code=429)
    with stub:
        result = backend.invoke({})
    assert result.status == THROTTLED and "TooManyRequestsException" in result.error
    assert result.duration_s == 0.0 and result.billed_s is None


def test_invoke_other_aws_error_raises_one_line() -> None:
    backend, stub = _stubbed_backend()
    stub.add_client_error("invoke", service_error_code="AccessDeniedException", http_status_code=403,
                          service_message="User: arn:aws:iam::123456789012:user/x with key AKIAIOSFODNN7EXAMPLE "
                                          "is not authorized to perform: lambda:InvokeFunction")
    with stub, pytest.raises(aws.AwsError) as raised:
        backend.invoke({})
    message = str(raised.value)
    assert message.startswith(f"Invoke {FUNCTION}: AccessDeniedException: ") and "\n" not in message
    assert "AKIAIOSFODNN7EXAMPLE" not in message and "<redacted-key-id>" in message


class _Raw(io.BytesIO):
    """A raw HTTP body as botocore's AWSResponse reads it: whole (``stream``)
    for parsed responses, by ``read`` for a streaming payload."""

    def stream(self, **_: object):
        yield self.read()


def _answer(status: int, body: bytes, headers: dict[str, str]):
    def handler(request, **_: object) -> AWSResponse:
        return AWSResponse(request.url, status, headers, _Raw(body))

    return handler


def test_invoke_throttle_is_not_retried_by_the_sdk() -> None:
    backend = aws.AwsBackend(FUNCTION, BUCKET, region=REGION)
    attempts = []
    throttle = _answer(429, b'{"Reason": "ConcurrentInvocationLimitExceeded", "Type": "User", '
                            b'"message": "Rate Exceeded."}',
                       {"x-amzn-ErrorType": "TooManyRequestsException", "Content-Type": "application/json"})

    def counting(request, **kwargs: object) -> AWSResponse:
        attempts.append(1)
        return throttle(request, **kwargs)

    backend.lambda_client.meta.events.register("before-send.lambda.Invoke", counting)
    assert backend.invoke({"epoch": 0}).status == THROTTLED
    assert len(attempts) == 1  # One attempt: the runner retries and counts, not botocore.
    config = backend.lambda_client.meta.config
    assert config.max_pool_connections >= 64 and config.read_timeout > 900
    backend.close()


def test_invoke_client_read_timeout_is_a_timeout() -> None:
    from botocore.exceptions import ReadTimeoutError

    backend = aws.AwsBackend(FUNCTION, BUCKET, region=REGION, read_timeout_s=960)

    def no_answer(request, **_: object) -> None:
        raise ReadTimeoutError(endpoint_url=request.url)

    backend.lambda_client.meta.events.register("before-send.lambda.Invoke", no_answer)
    result = backend.invoke({})
    assert result.status == TIMEOUT and "read timeout" in result.error and result.billed_s is None
    backend.close()


def test_invoke_is_thread_safe_with_one_client() -> None:
    backend = aws.AwsBackend(FUNCTION, BUCKET, region=REGION)
    backend.lambda_client.meta.events.register(
        "before-send.lambda.Invoke",
        _answer(200, b'{"batches": []}', {"X-Amz-Log-Result": _tail(REPORT_WARM),
                                          "X-Amz-Executed-Version": "$LATEST"}))
    with ThreadPoolExecutor(max_workers=64) as pool:
        results = list(pool.map(lambda i: backend.invoke({"epoch": 0, "batches": [i]}), range(128)))
    assert all(r.status == OK and r.payload == {"batches": []} and r.duration_s == pytest.approx(0.34567)
               for r in results)
    backend.close()


def test_invoke_on_moto_echo_mode_falls_back_to_round_trip_time() -> None:
    # moto without Docker: the event comes back as the response, with no log
    # tail, so the round-trip time stands for the duration and billing is unknown.
    with moto.mock_aws(config={"lambda": {"use_docker": False}}):
        _create_function(memory_mb=512)
        backend = aws.AwsBackend(FUNCTION, BUCKET, region=REGION)
        backend.set_memory(512)
        result = backend.invoke({"epoch": 3})
    assert result.status == OK and result.payload == {"epoch": 3}
    assert result.billed_s is None and result.duration_s > 0 and result.memory_mb == 512 and not result.cold


# --- set_memory: moto ------------------------------------------------------------------
def _create_function(memory_mb: int) -> None:
    boto3.client("lambda").create_function(FunctionName=FUNCTION, Runtime="python3.12", Role=_role(),
                                           Handler=deploy.HANDLER, Code={"ZipFile": deploy.package_bytes()},
                                           MemorySize=memory_mb, Timeout=60)


def test_set_memory_updates_only_when_different(mocked) -> None:
    _create_function(memory_mb=512)
    backend = aws.AwsBackend(FUNCTION, BUCKET, region=REGION)
    updates = []
    backend.lambda_client.meta.events.register("before-call.lambda.UpdateFunctionConfiguration",
                                               lambda **_: updates.append(1))
    backend.set_memory(1769)
    assert boto3.client("lambda").get_function_configuration(FunctionName=FUNCTION)["MemorySize"] == 1769
    backend.set_memory(1769)
    assert len(updates) == 1
    backend.set_memory(512)
    assert len(updates) == 2 and backend.configuration()["MemorySize"] == 512
    with pytest.raises(ValueError, match=r"memory: 100 MB .*\[128, 10240\]"):
        backend.set_memory(100)
    backend.close()


def test_set_memory_on_a_missing_function(mocked) -> None:
    backend = aws.AwsBackend("not-deployed", BUCKET, region=REGION)
    with pytest.raises(aws.AwsError, match="ResourceNotFoundException"):
        backend.set_memory(1024)


# --- names -----------------------------------------------------------------------------
@pytest.mark.parametrize("function, bucket, region, match", [
    ("bad name!", BUCKET, None, "function: 'bad name!'"),
    ("f" * 65, BUCKET, None, "function: "),
    ("arn:aws:lambda:eu-west-1:123456789012:function:f:live", BUCKET, None, "unqualified function ARN"),
    (FUNCTION, "Bad_Bucket", None, "bucket: 'Bad_Bucket'"),
    (FUNCTION, "ab", None, "bucket: 'ab'"),
    (FUNCTION, BUCKET, "mars-1", "region: 'mars-1'"),
])
def test_names_are_validated(function: str, bucket: str, region: str | None, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        aws.AwsBackend(function, bucket, region=region)


def test_function_arn_is_accepted() -> None:
    arn = "arn:aws:lambda:eu-west-1:123456789012:function:siren-worker"
    assert aws.AwsBackend(arn, BUCKET, region=REGION).function_name == arn


@pytest.mark.parametrize("kwargs, match", [
    ({"role_arn": "siren-worker-role"}, "role ARN: 'siren-worker-role'"),
    ({"region": "Europe"}, "region: 'Europe'"),
    ({"memory_mb": 20000}, "memory: 20000"),
    ({"timeout_s": 901}, "timeout: 901"),
    ({"runtime": "nodejs20.x"}, "runtime: 'nodejs20.x'"),
    ({"layers": ["numpy"]}, "layer: 'numpy'"),
    ({"bucket": "UPPER"}, "bucket: 'UPPER'"),
])
def test_deploy_validates_before_any_call(kwargs: dict, match: str) -> None:
    arguments = {"function_name": FUNCTION, "bucket": BUCKET, "role_arn": "arn:aws:iam::123456789012:role/r",
                 "region": REGION, **kwargs}
    with pytest.raises(ValueError, match=match):
        deploy.deploy(**arguments, session=object())  # Any AWS call would fail on object().


# --- the package ------------------------------------------------------------------------
def test_package_contents_are_the_worker_modules(tmp_path: Path) -> None:
    path = deploy.build_package(tmp_path / "worker.zip")
    with zipfile.ZipFile(path) as archive:
        names = archive.namelist()
        sources = {name: archive.read(name).decode() for name in names}
    assert names == [f"siren_worker/{module}" for module in deploy.PACKAGE_MODULES]
    for name, source in sources.items():
        assert "import siren" not in source and "from siren" not in source, name
    assert deploy.package_bytes() == path.read_bytes()  # Deterministic: redeploys compare hashes.


WORKER_IN_ZIP = textwrap.dedent("""
    import importlib.abc, json, sys
    import numpy as np

    class NoSiren(importlib.abc.MetaPathFinder):
        def find_spec(self, name, path=None, target=None):
            if name == "siren" or name.startswith("siren."):
                raise ImportError("siren must not be imported by the Lambda package")
            return None

    sys.meta_path.insert(0, NoSiren())
    sys.path.insert(0, sys.argv[1])
    from siren_worker import model, protocol, worker
    assert type(worker.__loader__).__name__ == "zipimporter", worker.__loader__

    import boto3
    from moto import mock_aws
    with mock_aws():
        s3 = boto3.client("s3", region_name="us-east-1")
        s3.create_bucket(Bucket="job-bucket")
        store = protocol.ParameterStore(s3, "job-bucket", "job")
        batch = {"indptr": np.array([0, 1, 2]), "indices": np.array([0, 1]), "values": np.ones(2),
                 "labels": np.array([0, 1])}
        s3.put_object(Bucket="job-bucket", Key=protocol.batch_key("job", 0), Body=protocol.encode_batch(batch))
        s3.put_object(Bucket="job-bucket", Key="job/" + protocol.MANIFEST_KEY,
                      Body=json.dumps({"features": 2, "classes": 2}).encode())
        store.initialise(model.initial_parameters(2, 2), batches=1)
        response = worker.handler({"bucket": "job-bucket", "prefix": "job", "epoch": 0, "batches": [0],
                                   "learning_rate": 0.1})
        assert store.read().version == 1 and response["batches"][0]["batch"] == 0
        probe = worker.handler({"probe": "runtime"})
        assert probe["conditional_writes"] and probe["numpy"] == np.__version__, probe
    assert not [name for name in sys.modules if name == "siren" or name.startswith("siren.")]
    print("worker-ran-from-zip")
""")


def test_package_runs_without_siren(tmp_path: Path) -> None:
    """The zip's worker imports (zipimport) and runs one batch on moto's S3
    with only numpy, boto3 (and moto) importable: ``siren`` is blocked."""
    path = deploy.build_package(tmp_path / "worker.zip")
    proc = subprocess.run([sys.executable, "-I", "-c", WORKER_IN_ZIP, str(path)], capture_output=True, text=True,
                          timeout=120, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "worker-ran-from-zip" in proc.stdout


# --- deploy: moto -----------------------------------------------------------------------------
@pytest.mark.parametrize("region", ["us-east-1", REGION])
def test_deploy_creates_then_updates(mocked, runtime, region: str, monkeypatch) -> None:
    role = _role()
    lam = boto3.client("lambda", region_name=region)
    layer = lam.publish_layer_version(LayerName="numpy", Content={"ZipFile": deploy.package_bytes()},
                                      CompatibleRuntimes=["python3.12"])["LayerVersionArn"]
    first = deploy.deploy(FUNCTION, BUCKET, role, region, memory_mb=2048, timeout_s=120, layers=[layer])
    assert first["bucket_created"] and first["function_created"] and first["code_updated"]
    assert first["layers"] == [layer] and first["handler"] == "siren_worker.worker.handler"
    assert first["function_arn"].endswith(f":function:{FUNCTION}")
    boto3.client("s3", region_name=region).head_bucket(Bucket=BUCKET)
    configuration = lam.get_function_configuration(FunctionName=FUNCTION)
    assert (configuration["MemorySize"], configuration["Timeout"], configuration["Handler"]) == \
        (2048, 120, deploy.HANDLER)
    assert configuration["CodeSha256"] == first["code_sha256"]  # moto hashes the zip as Lambda does.

    # Same code: no upload; a new memory size; layers kept when not given.
    second = deploy.deploy(FUNCTION, BUCKET, role, region, memory_mb=512)
    assert not (second["bucket_created"] or second["function_created"] or second["code_updated"])
    assert second["layers"] == [layer]
    assert lam.get_function_configuration(FunctionName=FUNCTION)["MemorySize"] == 512

    # New code: uploaded.
    changed = _repacked(deploy.package_bytes())
    monkeypatch.setattr(deploy, "package_bytes", lambda: changed)
    third = deploy.deploy(FUNCTION, BUCKET, role, region, layers=[])
    assert third["code_updated"] and third["layers"] == []
    assert lam.get_function_configuration(FunctionName=FUNCTION)["CodeSha256"] == third["code_sha256"]


def _repacked(package: bytes) -> bytes:
    """``package`` with one more file (a code change)."""
    out = io.BytesIO(package)
    with zipfile.ZipFile(out, "a") as archive:
        archive.writestr("siren_worker/VERSION", "2")
    return out.getvalue()


# --- the command --------------------------------------------------------------------------------
def _run(capsys, *argv: str) -> tuple[int, str, str]:
    code = deploy.main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_command_is_added_in_the_cli_style() -> None:
    import argparse

    parser = argparse.ArgumentParser(prog="siren")
    deploy.add_commands(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["deploy", "--package-only", "w.zip", "--layer",
                              "arn:aws:lambda:eu-west-1:336392948345:layer:AWSSDKPandas-Python312:16", "--layer",
                              "arn:aws:lambda:eu-west-1:123456789012:layer:extra:1"])
    assert args.handler is deploy.cmd_deploy and len(args.layer) == 2 and args.memory == 1024


def test_command_package_only(capsys, tmp_path: Path) -> None:
    code, out, err = _run(capsys, "--package-only", str(tmp_path / "w.zip"))
    assert code == 0 and err == ""
    assert out.startswith(f"package={tmp_path / 'w.zip'} bytes=") and "handler=siren_worker.worker.handler" in out
    assert zipfile.is_zipfile(tmp_path / "w.zip")


def test_command_package_only_unwritable(capsys, tmp_path: Path) -> None:
    code, _, err = _run(capsys, "--package-only", str(tmp_path / "missing-dir" / "w.zip"))
    assert code == 2 and err.startswith("siren: error: --package-only ")


def test_command_print_policy(capsys) -> None:
    role = "arn:aws:iam::123456789012:role/siren-worker-role"
    code, out, _ = _run(capsys, "--print-policy", "--function", FUNCTION, "--bucket", BUCKET, "--region", REGION,
                        "--account", "123456789012", "--role-arn", role, "--prefix", "jobs")
    assert code == 0
    policies = json.loads(out)
    function_arn = f"arn:aws:lambda:{REGION}:123456789012:function:{FUNCTION}"
    runner = {s["Sid"]: s for s in policies["runner"]["Statement"]}
    assert runner["SirenRunFunction"]["Resource"] == [function_arn]
    assert "lambda:InvokeFunction" in runner["SirenRunFunction"]["Action"]
    assert runner["SirenRunObjects"]["Resource"] == [f"arn:aws:s3:::{BUCKET}/jobs/*"]
    assert runner["SirenDeployPassRole"]["Resource"] == [role]
    assert runner["SirenDeployPassRole"]["Condition"]["StringEquals"]["iam:PassedToService"] == \
        "lambda.amazonaws.com"
    worker = {s["Sid"]: s for s in policies["worker_role"]["Statement"]}
    assert worker["SirenWorkerObjects"]["Action"] == ["s3:GetObject", "s3:PutObject"]
    assert worker["SirenWorkerLogs"]["Resource"] == [
        f"arn:aws:logs:{REGION}:123456789012:log-group:/aws/lambda/{FUNCTION}:*"]
    for document in policies.values():
        for statement in document["Statement"]:
            actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
            assert all("*" not in action for action in actions)
            assert statement.get("Resource") != "*" and statement.get("Resource") != ["*"]


@pytest.mark.parametrize("argv, message", [
    (["--bucket", "Bad_Bucket"], "argument --bucket: 'Bad_Bucket' is not a valid S3 bucket name"),
    (["--function", "no spaces"], "argument --function: 'no spaces' is not a valid Lambda function name"),
    (["--memory", "64"], "argument --memory: expected an integer in [128, 10240] (MB), got '64'"),
    (["--timeout", "soon"], "argument --timeout: expected an integer in [1, 900] (seconds), got 'soon'"),
    (["--layer", "numpy"], "argument --layer: 'numpy' is not valid (expected a layer version ARN"),
    (["--role-arn", "admin"], "argument --role-arn: 'admin' is not valid (expected arn:aws:iam::ACCOUNT:role/NAME)"),
])
def test_command_flag_errors(capsys, argv: list[str], message: str) -> None:
    with pytest.raises(SystemExit) as raised:
        deploy.main(argv)
    assert raised.value.code == 2
    assert message in capsys.readouterr().err


def test_command_missing_flags(capsys) -> None:
    code, out, err = _run(capsys, "--function", FUNCTION, "--bucket", BUCKET)
    assert code == 2 and out == ""
    assert err.strip() == ("siren: error: deploy: missing --role-arn, --region (required unless "
                           "--package-only or --print-policy)")


def _assert_no_credentials(text: str, caplog) -> None:
    """The secret key appears nowhere: not in ``text`` (what was printed or
    raised), not in any log record, botocore's DEBUG ones included. The
    session token appears neither in ``text`` nor in any record of siren's
    loggers or at INFO and above; botocore's own DEBUG records do show it
    (the canonical request signs the x-amz-security-token header), which
    docs/runner-aws.md says."""
    records = "".join(f"{record.getMessage()} {record.__dict__}" for record in caplog.records)
    assert SECRET not in text and SECRET not in records
    shown = [record for record in caplog.records if record.levelno >= logging.INFO or record.name.startswith("siren")]
    assert TOKEN not in text and not [r for r in shown if TOKEN in f"{r.getMessage()} {r.__dict__}"]


def test_command_deploys_and_never_prints_credentials(mocked, runtime, capsys, caplog) -> None:
    caplog.set_level(logging.DEBUG)  # botocore's own debug logs included.
    role = _role()
    code, out, err = _run(capsys, "--function", FUNCTION, "--bucket", BUCKET, "--role-arn", role,
                          "--region", REGION, "--memory", "3008")
    assert code == 0, err
    summary = dict(line.split("=", 1) for line in out.splitlines())
    assert summary["function_created"] == "True" and summary["memory_mb"] == "3008"
    assert "no numpy" in err  # No layer: the warning.
    _assert_no_credentials(out + err, caplog)


def test_aws_errors_are_one_line_and_never_print_credentials(mocked, capsys, caplog) -> None:
    caplog.set_level(logging.DEBUG)
    # moto refuses a role it does not know, as Lambda does.
    code, out, err = _run(capsys, "--function", FUNCTION, "--bucket", BUCKET, "--region", REGION,
                          "--role-arn", "arn:aws:iam::123456789012:role/missing")
    assert code == 1 and out == ""
    assert err.startswith(f"siren: AWS error: CreateFunction {FUNCTION}: InvalidParameterValueException: ")
    assert "retry" in err and len(err.strip().splitlines()) == 1 and "Traceback" not in err
    backend, stub = _stubbed_backend()
    stub.add_client_error("invoke", service_error_code="AccessDeniedException", http_status_code=403)
    with stub, pytest.raises(aws.AwsError) as raised:
        backend.invoke({})
    _assert_no_credentials(out + err + str(raised.value) + repr(backend.__dict__), caplog)


# --- the JSON log format ----------------------------------------------------------------------
def _json_line(kind: str, record: dict) -> str:
    return json.dumps({"time": "2025-06-01T10:00:00.000Z", "type": kind, "record": record}) + "\n"


def _json_report(request_id: str = REQUEST_ID, status: str = "success", cold: bool = True, **extra) -> str:
    metrics = {"durationMs": 1234.56, "billedDurationMs": 1235, "memorySizeMB": 1024, "maxMemoryUsedMB": 180}
    if cold:
        metrics["initDurationMs"] = 812.34
    return _json_line("platform.report", {"requestId": request_id, "metrics": metrics, "status": status, **extra})


def test_parse_report_in_the_json_log_format() -> None:
    """Lambda's JSON log format: the tail's platform.report record; the
    runtimeDone record's own durationMs is not the report's, a JSON line cut
    by the 4 KB tail and the function's JSON log lines are skipped."""
    tail = ('"time":"2025-06-01T09:59:59.000Z","type":"platform.start","record":{"requestId"\n'  # Cut.
            + _json_line("platform.start", {"requestId": REQUEST_ID, "version": "$LATEST"})
            + json.dumps({"timestamp": "2025-06-01T10:00:00Z", "level": "INFO", "message": "platform.report soon",
                          "requestId": REQUEST_ID}) + "\n"
            + _json_line("platform.runtimeDone", {"requestId": REQUEST_ID, "status": "success",
                                                  "metrics": {"durationMs": 1200.0, "producedBytes": 100}})
            + _json_report())
    assert aws.parse_report_line(tail) == {
        "request_id": REQUEST_ID, "duration_ms": 1234.56, "billed_duration_ms": 1235.0, "memory_size_mb": 1024.0,
        "max_memory_used_mb": 180.0, "init_duration_ms": 812.34, "status": "success"}
    # The same fields as the text format's REPORT line.
    text = aws.parse_report_line(REPORT_COLD)
    assert {k: v for k, v in aws.parse_report_line(tail).items() if k != "status"} == text
    with pytest.raises(ValueError, match="platform.report"):
        aws.parse_report_line(_json_line("platform.start", {"requestId": REQUEST_ID}))


def test_invoke_reads_a_json_format_tail() -> None:
    backend, stub = _stubbed_backend()
    _expect_invoke(stub, {}, b'{"batches": [], "remaining": []}', _tail(_json_report()))
    timeout_body = {"errorType": "Sandbox.Timedout", "errorMessage": "RequestId: x Error: Task timed out"}
    _expect_invoke(stub, {}, json.dumps(timeout_body).encode(),
                   _tail(_json_report(request_id="r-2", status="timeout", cold=False, errorType="Sandbox.Timedout")),
                   "Unhandled")
    with stub:
        cold = backend.invoke({})
        timed_out = backend.invoke({})
    assert cold.status == OK and cold.cold and cold.init_s == pytest.approx(0.81234)
    assert cold.billed_s == pytest.approx(1.235) and cold.memory_mb == 1024 and cold.request_id == REQUEST_ID
    assert timed_out.status == TIMEOUT and not timed_out.cold and timed_out.request_id == "r-2"


# --- transient Invoke errors ------------------------------------------------------------------
class _Waits:
    """Stands in for the backend's cancel event: records each back-off."""

    def __init__(self) -> None:
        self.waits: list[float] = []

    def is_set(self) -> bool:
        return False

    def wait(self, seconds: float) -> bool:
        self.waits.append(seconds)
        return False


def _scripted(backend: aws.AwsBackend, answers: list) -> list[dict]:
    """Answers the backend's Invoke requests in turn: an exception to raise
    (as the HTTP layer would) or (status, body, headers). Returns the
    events sent."""
    sent: list[dict] = []

    def answer(request, **_: object) -> AWSResponse:
        sent.append(json.loads(request.body))
        step = answers[min(len(sent), len(answers)) - 1]
        if isinstance(step, Exception):
            raise step
        status, body, headers = step
        return AWSResponse(request.url, status, headers, _Raw(body))

    backend.lambda_client.meta.events.register_first("before-send.lambda.Invoke", answer)
    return sent


def _error(status: int, code: str, request_id: str = "", **fields) -> tuple[int, bytes, dict]:
    return (status, json.dumps({"Type": "Service", "message": f"{code} happened", **fields}).encode(),
            {"x-amzn-ErrorType": code, "Content-Type": "application/json", "x-amzn-RequestId": request_id})


OK_ANSWER = (200, b'{"batches": []}', {"X-Amz-Log-Result": _tail(REPORT_WARM), "x-amzn-RequestId": REQUEST_ID})


def test_a_request_that_never_reached_the_function_is_resent_after_a_jittered_backoff() -> None:
    """No connection, the caller's request rate, a function not ready: sent
    again by the backend (nothing ran), with exponential back-off and
    jitter, at least Lambda's retryAfterSeconds; the throttle count of the
    runner is not touched (the result is OK, not THROTTLED)."""
    from botocore.exceptions import EndpointConnectionError

    backend = aws.AwsBackend(FUNCTION, BUCKET, region=REGION, transient_backoff_s=(0.2, 10.0))
    backend._cancelled = waits = _Waits()
    sent = _scripted(backend, [
        EndpointConnectionError(endpoint_url="https://lambda.eu-west-1.amazonaws.com"),
        _error(429, "TooManyRequestsException", Reason="CallerRateLimitExceeded"),
        _error(502, "ResourceNotReadyException"),
        (*_error(429, "TooManyRequestsException", Reason="CallerRateLimitExceeded")[:2],
         {**_error(429, "TooManyRequestsException")[2], "Retry-After": "7"}),
        OK_ANSWER])
    result = backend.invoke({"epoch": 0, "batches": [3]})
    assert result.status == OK and result.transient_retries == 4 and result.request_id == REQUEST_ID
    assert len(sent) == 5 and all(event == {"epoch": 0, "batches": [3]} for event in sent)
    # 0.2 x 2^k times a jitter in [0.5, 1); the fourth at least Retry-After.
    for k, wait in enumerate(waits.waits[:3]):
        assert 0.2 * 2 ** k * 0.5 <= wait < 0.2 * 2 ** k
    assert waits.waits[3] == pytest.approx(7.0)
    backend.close()


@pytest.mark.parametrize("answer, code", [
    (_error(500, "ServiceException", request_id="rid-500"), "ServiceException"),
    ((503, b"<html>Service Unavailable</html>", {"x-amzn-RequestId": "rid-503"}), "503"),
    ("dropped", "ConnectionClosedError"),
], ids=["ServiceException", "bare-503", "dropped-connection"])
def test_a_request_that_may_have_run_is_never_resent_by_the_backend(answer, code: str) -> None:
    """It may have run (and may still run): the backend reports an error
    whose outcome is unknown, for the runner to re-invoke only what the
    parameter store has not applied."""
    from botocore.exceptions import ConnectionClosedError

    backend = aws.AwsBackend(FUNCTION, BUCKET, region=REGION, transient_backoff_s=(0.0, 0.0))
    if answer == "dropped":
        answer = ConnectionClosedError(endpoint_url="https://lambda.eu-west-1.amazonaws.com")
    sent = _scripted(backend, [answer, OK_ANSWER])
    result = backend.invoke({"epoch": 0})
    assert len(sent) == 1
    assert result.status == ERROR and result.outcome_unknown and result.transient_retries == 0
    assert code in result.error and "outcome unknown" in result.error and result.s3_requests is None
    assert result.request_id == {"ServiceException": "rid-500", "503": "rid-503"}.get(code, "")
    backend.close()


def test_errors_that_persist_or_name_a_configuration_problem_end_in_one_line() -> None:
    from botocore.exceptions import EndpointConnectionError

    backend = aws.AwsBackend(FUNCTION, BUCKET, region=REGION, transient_attempts=3, transient_backoff_s=(0.0, 0.0))
    sent = _scripted(backend, [EndpointConnectionError(endpoint_url="https://lambda.eu-west-1.amazonaws.com")])
    with pytest.raises(aws.AwsError) as raised:
        backend.invoke({})
    message = str(raised.value)
    assert len(sent) == 3 and "\n" not in message
    assert message.startswith(f"Invoke {FUNCTION}: EndpointConnectionError: ") and "after 3 attempts" in message
    assert "is the network up" in message
    # A 5xx that names a configuration problem is not transient: one attempt.
    backend = aws.AwsBackend(FUNCTION, BUCKET, region=REGION, transient_backoff_s=(0.0, 0.0))
    sent = _scripted(backend, [_error(502, "ENILimitReachedException")])
    with pytest.raises(aws.AwsError, match="ENILimitReachedException"):
        backend.invoke({})
    assert len(sent) == 1
    # A throttle of concurrency still goes to the runner at once, counted there.
    backend = aws.AwsBackend(FUNCTION, BUCKET, region=REGION)
    sent = _scripted(backend, [_error(429, "TooManyRequestsException", Reason="ConcurrentInvocationLimitExceeded")])
    assert backend.invoke({}).status == THROTTLED and len(sent) == 1


def test_cancel_ends_the_backoff_and_sends_nothing_more() -> None:
    from botocore.exceptions import EndpointConnectionError

    backend = aws.AwsBackend(FUNCTION, BUCKET, region=REGION, transient_backoff_s=(30.0, 30.0))
    sent = _scripted(backend, [EndpointConnectionError(endpoint_url="https://lambda.eu-west-1.amazonaws.com")])
    threading.Timer(0.2, backend.cancel).start()
    result = backend.invoke({})
    assert result.status == ERROR and result.error.startswith("Cancelled") and len(sent) == 1
    assert result.s3_requests is not None and result.s3_requests.gets == 0  # Nothing ran.
    backend.close()


def test_transient_invoke_errors_are_retried_and_apply_nothing_twice(mocked, monkeypatch) -> None:
    """One epoch of 45 batches on 4 workers (shares of 12, 11, 11, 11), the
    real worker in process on moto's S3 behind the Invoke hook, with three
    transient failures: worker 0's first invocation runs all its batches and
    then answers 500 (it ran: nothing is left to re-invoke); worker 1's runs
    5 of its 11 batches, then its connection drops (re-invoked for exactly
    the other 6); worker 2's first request finds no connection (resent by
    the backend); worker 3's first invocation answers 500 before it has
    applied anything and goes on running: it applies its 11 batches just
    before the re-invocation for them runs, which finds them in the bitmap
    and skips them. Every batch is applied exactly once: the parameter
    version is 45."""
    from siren import _core
    from siren.runner import worker
    from siren.runner.budget import INIT_LIMIT_S
    from siren.runner.datasets import load_dataset
    from siren.runner.job import RealJob, split_batches
    from botocore.exceptions import ConnectionClosedError, EndpointConnectionError

    monkeypatch.setattr(worker, "_CLIENTS", {})
    _create_function(memory_mb=1024)  # Timeout 60 s.
    boto3.client("s3").create_bucket(Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": REGION})
    scenario = _core.load_scenario("softmax-digits", ["job.budget_usd=1", "lambda.throttle_backoff_base_s=0.001",
                                                      "lambda.throttle_backoff_cap_s=0.002"])
    dataset = load_dataset("digits", scenario.batch_size)
    shares = split_batches(len(dataset.batches), 4)
    assert [len(share) for share in shares] == [12, 11, 11, 11]
    backend = aws.AwsBackend(FUNCTION, BUCKET, region=REGION, transient_backoff_s=(0.001, 0.002))
    lock = threading.Lock()  # moto's S3 in process: one handler at a time.
    sent: list[list[int]] = []
    running_on: list[dict] = []  # Invocations that outlive their 500.

    def run(event: dict) -> bytes:
        with lock:
            return json.dumps(worker.handler(event)).encode()

    def answer(request, **_: object) -> AWSResponse:
        event = json.loads(request.body)
        batches = event["batches"]
        first_time = batches[0] not in [b[0] for b in sent]
        sent.append(batches)
        request_id = str(uuid.uuid4())
        if first_time and batches == shares[0]:
            run(event)  # It ran...
            return AWSResponse(request.url, 500, _error(500, "ServiceException", request_id)[2],
                               _Raw(_error(500, "ServiceException")[1]))
        if first_time and batches == shares[1]:
            run(dict(event, batches=batches[:5]))
            raise ConnectionClosedError(endpoint_url=request.url)
        if first_time and batches == shares[2]:
            raise EndpointConnectionError(endpoint_url=request.url)
        if first_time and batches == shares[3]:
            running_on.append(event)
            return AWSResponse(request.url, 500, _error(500, "ServiceException", request_id)[2],
                               _Raw(_error(500, "ServiceException")[1]))
        while running_on:  # The one still running pushes first.
            run(running_on.pop())
        body = run(event)
        return AWSResponse(request.url, 200, {"X-Amz-Log-Result": _tail(_json_report(request_id, cold=False)),
                                              "x-amzn-RequestId": request_id}, _Raw(body))

    backend.lambda_client.meta.events.register_first("before-send.lambda.Invoke", answer)
    job = RealJob(scenario, backend, dataset, bucket=BUCKET, prefix="jobs/transient")
    job.reset()
    record = job.step(job.codec.encode(4, 1024))[-1]
    backend.close()

    assert record["status"] == "running" and record["failure"] == "" and record["missing_batches"] == 0
    assert record["parameter_version"] == record["updates"] == 45  # One update per batch, none twice.
    # The batches the runner heard of: all but those of the two invocations
    # whose answer was lost (0-11 and 12-16), each once; worker 3's were
    # already applied when its re-invocation ran them: skipped.
    assert sorted(row["batch"] for row in job.batch_rows) == list(range(17, 45))
    assert sorted(row["batch"] for row in job.batch_rows if row["skipped"]) == shares[3]
    assert record["reported_updates"] == 17 and record["skipped_batches"] == 11
    assert sent.count(shares[0]) == 1  # It ran all its batches: nothing re-invoked.
    assert sent.count(shares[1][5:]) == 1
    assert sent.count(shares[2]) == 2  # Resent: it had never reached the function.
    assert sent.count(shares[3]) == 2 and len(sent) == 7  # 4 shares, 1 resent, 2 re-invocations.
    rows = {(row["worker"], row["attempt"]): row for row in job.invocations}
    unknown = [rows[(0, 1)], rows[(1, 1)], rows[(3, 1)]]
    assert [row["outcome_known"] for row in job.invocations].count(False) == 3
    assert all(not row["outcome_known"] and row["status"] == ERROR for row in unknown)
    # Billed at the most the platform can bill: the timeout plus INIT's limit (2025+ bills INIT).
    assert all(row["platform_billed_s"] == 60 + INIT_LIMIT_S for row in unknown)
    assert rows[(2, 1)]["transient_retries"] == 1 and rows[(2, 1)]["status"] == OK
    assert unknown[0]["request_id"] and unknown[1]["request_id"] == ""  # No answer, no id.
    assert record["cumulative_cost_usd"] <= 1.0
    assert all(row["request_id"] for row in job.invocations if row["status"] == OK)


# --- test-only event fields --------------------------------------------------------------------
BASE_EVENT = {"epoch": 0, "batches": [0], "learning_rate": 0.1}


@pytest.mark.parametrize("field, value", [("fault", {"token": "t", "at_batch": 0, "when": "after_push"}),
                                          ("cpu_share", 0.5)])
def test_a_test_only_field_is_refused_without_the_enabling_environment(monkeypatch, field: str, value) -> None:
    from siren.runner import worker

    monkeypatch.delenv(worker.TEST_FIELDS_ENV, raising=False)
    with pytest.raises(worker.WorkerError) as raised:
        worker.handler(dict(BASE_EVENT, **{field: value}))
    assert f"ValueError: event: field '{field}' is test-only" in raised.value.error
    assert "SIREN_TEST_FIELDS=1" in raised.value.error and "--enable-test-fields" in raised.value.error
    assert (raised.value.requests.gets, raised.value.requests.puts) == (0, 0)  # Refused before any request.
    # Enabled, the field passes the gate (the event then lacks its bucket).
    monkeypatch.setenv(worker.TEST_FIELDS_ENV, "1")
    with pytest.raises(worker.WorkerError, match="missing field 'bucket'"):
        worker.handler(dict(BASE_EVENT, **{field: value}))


@pytest.mark.parametrize("value", [-0.1, 100.5, 1e300, float("nan"), float("inf")])
def test_the_learning_rate_is_bounded(value: float) -> None:
    from siren.runner import worker

    with pytest.raises(worker.WorkerError, match=r"field 'learning_rate' must be in \[0, 100\]"):
        worker.handler(dict(BASE_EVENT, learning_rate=value))
    # 0 is a rate a schedule reaches (cosine down to lr_min_factor 0).
    for rate in (0, 100):
        with pytest.raises(worker.WorkerError, match="missing field 'bucket'"):
            worker.handler(dict(BASE_EVENT, learning_rate=rate))


def test_the_local_stand_in_enables_test_fields_and_deploy_only_when_asked(mocked, runtime) -> None:
    from siren.runner.local import LocalLambda

    environment = LocalLambda.__new__(LocalLambda)  # Its environment, without starting a server.
    environment.endpoint_url = "http://127.0.0.1:1"
    assert environment._child_environment()["SIREN_TEST_FIELDS"] == "1"
    role = _role()
    lam = boto3.client("lambda")
    variables = lambda: (lam.get_function_configuration(FunctionName=FUNCTION).get("Environment") or {}).get(
        "Variables") or {}
    assert not deploy.deploy(FUNCTION, BUCKET, role, REGION)["test_fields"] and "SIREN_TEST_FIELDS" not in variables()
    lam.update_function_configuration(FunctionName=FUNCTION, Environment={"Variables": {"MINE": "kept"}})
    assert deploy.deploy(FUNCTION, BUCKET, role, REGION, test_fields=True)["test_fields"]
    assert variables() == {"MINE": "kept", "SIREN_TEST_FIELDS": "1"}
    deploy.deploy(FUNCTION, BUCKET, role, REGION)  # Not asked again: removed.
    assert variables() == {"MINE": "kept"}


def test_run_refuses_inject_fault_on_a_function_without_test_fields(mocked, monkeypatch, capsys) -> None:
    from siren.cli import main

    _create_function(memory_mb=1024)
    fault = json.dumps({"token": "t", "worker": 0, "epoch": 0, "at_batch": 0, "when": "after_push"})
    code = main(["run", "--backend", "aws", "--function", FUNCTION, "--bucket", BUCKET, "--region", REGION,
                 "--schedule", "2:1024", "--epochs", "1", "--inject-fault", fault])
    err = capsys.readouterr().err
    assert code == 2 and len(err.strip().splitlines()) == 1 and "Traceback" not in err
    assert err.startswith(f"siren: error: --inject-fault: function '{FUNCTION}' refuses test-only event fields")
    assert "--enable-test-fields" in err


# --- the runtime check of deploy ----------------------------------------------------------------
def test_the_worker_probe_reports_its_runtime() -> None:
    import botocore

    from siren.runner import worker

    probe = worker.handler({"probe": "runtime"})
    assert probe["botocore"] == botocore.__version__ and probe["conditional_writes"] is True
    assert set(probe) == set(GOOD_PROBE)


def test_deploy_refuses_a_botocore_without_conditional_writes(mocked, runtime, capsys) -> None:
    role = _role()
    runtime["reply"] = dict(GOOD_PROBE, botocore="1.35.68", boto3="1.35.68", conditional_writes=False)
    code, out, err = _run(capsys, "--function", FUNCTION, "--bucket", BUCKET, "--role-arn", role, "--region", REGION)
    assert code == 1 and out == "" and len(err.strip().splitlines()) == 1 and "Traceback" not in err
    assert err.startswith(f"siren: error: runtime check: function {FUNCTION}: its runtime's botocore 1.35.68 cannot "
                          "send S3 conditional writes (PutObject with IfMatch)")
    assert "botocore >= 1.35.69" in err and "--layer" in err
    assert runtime["events"] == [{"probe": "runtime"}]
    # A version below the first with IfMatch is refused even if the model claims it.
    runtime["reply"] = dict(GOOD_PROBE, botocore="1.34.162")
    with pytest.raises(deploy.RuntimeCheckError, match=r"botocore 1\.34\.162"):
        deploy.deploy(FUNCTION, BUCKET, role, REGION)
    # A worker that cannot import numpy.
    runtime["reply"] = ("Unhandled", {"errorType": "Runtime.ImportModuleError", "errorMessage":
                                      "Unable to import module 'siren_worker.worker': No module named 'numpy'"})
    with pytest.raises(deploy.RuntimeCheckError, match="does not run: Runtime.ImportModuleError: .*give the function a "
                                                       "layer that provides it"):
        deploy.deploy(FUNCTION, BUCKET, role, REGION)
    # A runtime that can: the summary has its versions; skipped on request.
    runtime["reply"] = dict(GOOD_PROBE)
    summary = deploy.deploy(FUNCTION, BUCKET, role, REGION)
    assert summary["runtime_botocore"] == "1.37.3" and summary["runtime_numpy"] == "2.2.4"
    calls = len(runtime["events"])
    assert "runtime_botocore" not in deploy.deploy(FUNCTION, BUCKET, role, REGION, runtime_check=False)
    assert len(runtime["events"]) == calls


# --- one alias per memory size -----------------------------------------------------------------
def test_function_per_memory_keeps_one_alias_and_warm_pool_per_size(mocked) -> None:
    _create_function(memory_mb=512)
    lam = boto3.client("lambda")
    backend = aws.AwsBackend(FUNCTION, BUCKET, region=REGION, function_per_memory=True)
    assert not backend.single_function
    publishes = []
    backend.lambda_client.meta.events.register("before-call.lambda.PublishVersion", lambda **_: publishes.append(1))
    sent = _scripted(backend, [OK_ANSWER])

    def alias_config(memory_mb: int) -> dict:
        version = lam.get_alias(FunctionName=FUNCTION, Name=aws.alias_name(memory_mb))["FunctionVersion"]
        return lam.get_function_configuration(FunctionName=FUNCTION, Qualifier=version)

    backend.set_memory(1024)
    backend.set_memory(2048)
    backend.set_memory(1024)  # Its alias is current: nothing published.
    assert len(publishes) == 2
    assert (alias_config(1024)["MemorySize"], alias_config(2048)["MemorySize"]) == (1024, 2048)
    backend.invoke({"epoch": 0})
    assert len(sent) == 1  # The hook saw the request; its URL names the alias:
    # (botocore puts the qualifier in the query string)
    invoked = []
    backend.lambda_client.meta.events.register_first("before-send.lambda.Invoke",
                                                     lambda request, **_: invoked.append(request.url))
    backend.invoke({"epoch": 0})
    assert invoked and invoked[0].endswith("Qualifier=siren-1024mb")
    # Another run finds the aliases current (same code, size and timeout).
    again = aws.AwsBackend(FUNCTION, BUCKET, region=REGION, function_per_memory=True)
    again.lambda_client.meta.events.register("before-call.lambda.PublishVersion", lambda **_: publishes.append(1))
    again.set_memory(2048)
    again.set_memory(1024)
    assert len(publishes) == 2
    # The budget guard's lower timeout: a new version for the current size.
    backend.set_timeout(30)
    assert backend.timeout_s == 30 and len(publishes) == 3 and alias_config(1024)["Timeout"] == 30
    # New code deployed: the alias is stale and moves to a new version.
    lam.update_function_code(FunctionName=FUNCTION, ZipFile=_repacked(deploy.package_bytes()))
    third = aws.AwsBackend(FUNCTION, BUCKET, region=REGION, function_per_memory=True)
    third.lambda_client.meta.events.register("before-call.lambda.PublishVersion", lambda **_: publishes.append(1))
    third.set_memory(2048)
    assert len(publishes) == 4
    latest = lam.get_function_configuration(FunctionName=FUNCTION)
    assert alias_config(2048)["CodeSha256"] == latest["CodeSha256"]
    for b in (backend, again, third):
        b.close()


def test_the_policy_for_function_per_memory_names_versions_and_aliases() -> None:
    function_arn = f"arn:aws:lambda:{REGION}:123456789012:function:{FUNCTION}"
    plain = iam_policy.least_privilege_policy(FUNCTION, BUCKET, region=REGION, account="123456789012")
    assert not [s for s in plain["runner"]["Statement"] if "lambda:PublishVersion" in s["Action"]]
    policy = iam_policy.least_privilege_policy(FUNCTION, BUCKET, region=REGION, account="123456789012",
                                               function_per_memory=True)
    statements = {s["Sid"]: s for s in policy["runner"]["Statement"]}
    assert statements["SirenRunVersions"]["Resource"] == [f"{function_arn}:*"]
    assert "lambda:InvokeFunction" in statements["SirenRunVersions"]["Action"]
    assert statements["SirenRunAliases"]["Resource"] == [function_arn, f"{function_arn}:siren-*"]
    assert statements["SirenRunPublish"]["Action"] == ["lambda:PublishVersion"]


# --- teardown ------------------------------------------------------------------------------------
def test_teardown_removes_exactly_the_prefixs_objects(mocked, monkeypatch, capsys) -> None:
    from siren.runner import teardown

    monkeypatch.setattr(teardown, "_DELETE_BATCH", 3)  # Several DeleteObjects requests.
    s3 = boto3.client("s3")
    s3.create_bucket(Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": REGION})
    job = [f"jobs/a/data/batch-{i:06d}.npz" for i in range(7)] + ["jobs/a/params.npz", "jobs/a/data/manifest.json"]
    others = ["jobs/ab/params.npz", "jobs/a", "jobs/params.npz", "other/jobs/a/params.npz"]
    for key in job + others:
        s3.put_object(Bucket=BUCKET, Key=key, Body=b"12345")
    keys = lambda: sorted(o["Key"] for o in s3.list_objects_v2(Bucket=BUCKET).get("Contents", []))
    code = teardown.main(["--bucket", BUCKET, "--prefix", "jobs/a", "--region", REGION, "--dry-run"])
    out = capsys.readouterr().out
    assert code == 0 and out.strip() == f"bucket={BUCKET} prefix=jobs/a/ objects=9 bytes=45 would_delete=9"
    assert keys() == sorted(job + others)
    deletes = []
    original = teardown.teardown

    def counting(client, *args, **kwargs):
        client.meta.events.register("before-call.s3.DeleteObjects", lambda **_: deletes.append(1))
        return original(client, *args, **kwargs)

    monkeypatch.setattr(teardown, "teardown", counting)
    code = teardown.main(["--bucket", BUCKET, "--prefix", "jobs/a/", "--region", REGION])
    assert code == 0 and capsys.readouterr().out.strip().endswith("objects=9 bytes=45 deleted=9")
    assert keys() == sorted(others) and len(deletes) == 3
    assert teardown.teardown(s3, BUCKET, "jobs/a")["objects"] == 0  # Idempotent.


def test_teardown_reports_what_s3_refused_in_one_line(capsys) -> None:
    from siren.runner import teardown

    s3 = boto3.client("s3", region_name=REGION)
    stub = Stubber(s3)
    stub.add_response("list_objects_v2", {"Contents": [{"Key": "jobs/a/x", "Size": 1}, {"Key": "jobs/a/y", "Size": 2}],
                                          "IsTruncated": False}, {"Bucket": BUCKET, "Prefix": "jobs/a/"})
    refused = {"Key": "jobs/a/y", "Code": "AccessDenied", "Message": "Access Denied"}
    stub.add_response("delete_objects", {"Deleted": [{"Key": "jobs/a/x"}], "Errors": [refused]})
    with stub, pytest.raises(aws.AwsError) as raised:
        teardown.teardown(s3, BUCKET, "jobs/a")
    message = str(raised.value)
    assert "\n" not in message and "AccessDenied: Access Denied" in message and "siren deploy --print-policy" in message
    assert "1 of 2 objects in the request not deleted, the first 'jobs/a/y'; 1 of 2 deleted" in message
    with pytest.raises(SystemExit):
        teardown.main(["--bucket", BUCKET, "--prefix", "../etc"])
    assert "argument --prefix: '../etc' is not a valid key prefix" in capsys.readouterr().err


# --- region, credentials, permissions -------------------------------------------------------------
@pytest.mark.parametrize("code, hint", [("AccessDeniedException", "siren deploy --print-policy"),
                                        ("ExpiredTokenException", "have expired"),
                                        ("UnrecognizedClientException", "aws sts get-caller-identity")])
def test_aws_refusals_say_what_to_do(code: str, hint: str) -> None:
    backend, stub = _stubbed_backend()
    stub.add_client_error("invoke", service_error_code=code, http_status_code=403, service_message="no")
    with stub, pytest.raises(aws.AwsError) as raised:
        backend.invoke({})
    assert str(raised.value).startswith(f"Invoke {FUNCTION}: {code}: no (") and hint in str(raised.value)


def test_run_turns_a_refused_s3_request_into_one_line(mocked, monkeypatch, capsys) -> None:
    """The runner's own S3 requests (the data upload here) refused: one
    line naming the request and what to do, exit 1, no traceback."""
    from siren.cli import main

    _create_function(memory_mb=1024)
    boto3.client("s3").create_bucket(Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": REGION})
    make_session = aws.make_session

    def refusing(region, profile):
        session = make_session(region, profile)
        session.events.register_first("before-send.s3.PutObject", _answer(
            403, b"<Error><Code>AccessDenied</Code><Message>Access Denied</Message></Error>", {}))
        return session

    monkeypatch.setattr(aws, "make_session", refusing)
    code = main(["run", "--backend", "aws", "--function", FUNCTION, "--bucket", BUCKET, "--region", REGION,
                 "--schedule", "2:1024", "--epochs", "1"])
    err = capsys.readouterr().err
    assert code == 1 and len(err.strip().splitlines()) == 1 and "Traceback" not in err
    assert err.startswith("siren: AWS error: PutObject: AccessDenied: Access Denied (not permitted")


def test_calibration_ignores_round_trips_of_resent_or_unknown_invocations(tmp_path: Path) -> None:
    """A resent request's round trip holds the backend's back-off, and an
    unknown outcome has no duration: neither is taken for Lambda's
    warm-start overhead."""
    from conftest import synthetic_trace_parts, write_synthetic_trace

    from siren.runner.calibrate import calibrate
    from siren.runner.trace import read_run_trace

    rows = [dict(row, transient_retries=0, outcome_known=True) for row in synthetic_trace_parts()["invocations"]]
    slow = dict(rows[-1], worker=2, returned_s=30.0)  # A warm one.
    write_synthetic_trace(tmp_path / "plain.h5", invocations=rows)
    write_synthetic_trace(tmp_path / "noisy.h5", invocations=rows + [dict(slow, transient_retries=3),
                                                                     dict(slow, worker=3, outcome_known=False)])
    write_synthetic_trace(tmp_path / "counted.h5", invocations=rows + [dict(slow)])  # What would be fitted.

    def warm_start(name: str) -> list[str]:
        overrides = calibrate(read_run_trace(tmp_path / name))["overrides"]
        return [o for o in overrides if o.startswith("lambda.warm_start_")]

    assert warm_start("noisy.h5") == warm_start("plain.h5") != warm_start("counted.h5")
