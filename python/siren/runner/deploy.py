"""``siren deploy``: package the worker and create or update the Lambda
function and the S3 bucket (docs/runner-aws.md).

The package is a zip whose only folder is ``siren_worker/``: copies of this
folder's ``__init__``, ``worker``, ``model`` and ``protocol`` modules and
its ``models`` package, which import only numpy, boto3 and each other
(relatively). The handler is
``siren_worker.worker.handler``. The Lambda Python runtime ships boto3 but
not numpy: give the function a layer that has it (``--layer ARN``, e.g.
AWS's managed "AWSSDKPandas-Python312" layer). Nothing is downloaded here.

The zip is deterministic (fixed timestamps and order), so an unchanged
worker has an unchanged CodeSha256 and a redeploy skips the code upload.

After deploying, one invocation checks the runtime (``check_runtime``, the
worker's ``{"probe": "runtime"}`` event): the worker must import (numpy from
a layer) and the runtime's botocore must send S3 conditional writes
(``PutObject`` with ``IfMatch``: botocore >= 1.35.69), which the parameter
store's compare-and-swap needs; otherwise ``siren deploy`` refuses with one
line saying what is missing. The worker's test-only event fields stay
refused unless ``--enable-test-fields`` (SIREN_TEST_FIELDS=1 in the
function's environment; any other variable of an existing function is kept).
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import io
import json
import re
import sys
import zipfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from siren._argtypes import checked, validated
from siren.outputs import check_output_file

from .aws import (MAX_MEMORY_MB, MIN_MEMORY_MB, AwsError, _function_error, call_aws, check_session,
                  describe_aws_error, error_code, make_session, validate_function_name, validate_memory,
                  validate_region, wait_function)
from .iam_policy import least_privilege_policy
from .protocol import validate_bucket_name, validate_prefix
from .worker import MIN_BOTOCORE, TEST_FIELDS_ENV

__all__ = ["HANDLER", "PACKAGE_MODULES", "RuntimeCheckError", "add_commands", "build_package", "check_runtime",
           "code_sha256", "deploy", "main", "package_bytes"]

HANDLER = "siren_worker.worker.handler"
PACKAGE_NAME = "siren_worker"
# The worker's modules: these, and every module of models/ (one file per
# model, registered in models/__init__.py), so that a new model ships as it
# is added.
PACKAGE_MODULES = ("__init__.py", "worker.py", "model.py", "protocol.py", "fold.py") + tuple(
    f"models/{path.name}" for path in sorted((Path(__file__).parent / "models").glob("*.py")))
MAX_TIMEOUT_S = 900
_ZIP_DATE = (1980, 1, 1, 0, 0, 0)
_RUNTIME_RE = re.compile(r"^python3\.\d{1,2}$")
_ROLE_RE = re.compile(r"^arn:aws[a-z-]*:iam::\d{12}:role/[\w+=,.@/-]{1,512}$")
_LAYER_RE = re.compile(r"^arn:aws[a-z-]*:lambda:[a-z]{2}(-[a-z]+)+-\d:\d{12}:layer:[A-Za-z0-9_-]{1,140}:\d+$")
_EXIT_USAGE = 2
_EXIT_AWS = 1
_MIN_BOTOCORE_TEXT = ".".join(map(str, MIN_BOTOCORE))


class RuntimeCheckError(RuntimeError):
    """The deployed function cannot run the worker (one line: why, and what to do)."""


# --- the package ---------------------------------------------------------------
def package_bytes() -> bytes:
    """The worker package as zip bytes (deterministic)."""
    source = Path(__file__).parent
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for module in PACKAGE_MODULES:
            info = zipfile.ZipInfo(f"{PACKAGE_NAME}/{module}", date_time=_ZIP_DATE)
            info.external_attr = 0o644 << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, (source / module).read_bytes())
    return out.getvalue()


def build_package(out_zip: str | Path) -> Path:
    """Writes the worker package to ``out_zip``; returns its path."""
    path = Path(out_zip)
    path.write_bytes(package_bytes())
    return path


def code_sha256(package: bytes) -> str:
    """The package's hash as Lambda reports it (CodeSha256: base64 of SHA-256)."""
    return base64.b64encode(hashlib.sha256(package).digest()).decode("ascii")


# --- validation ----------------------------------------------------------------
def _validate(pattern: re.Pattern, value: Any, what: str, expected: str) -> str:
    if isinstance(value, str) and pattern.match(value):
        return value
    raise ValueError(f"{what}: {value!r} is not valid (expected {expected})")


def validate_role_arn(role_arn: str) -> str:
    """``role_arn`` if it is an IAM role ARN; ValueError naming it otherwise."""
    return _validate(_ROLE_RE, role_arn, "role ARN", "arn:aws:iam::ACCOUNT:role/NAME")


def validate_runtime(runtime: str) -> str:
    """``runtime`` if it names a Lambda Python runtime; ValueError otherwise."""
    return _validate(_RUNTIME_RE, runtime, "runtime", "a Python runtime such as python3.12")


def validate_layer_arn(layer: str) -> str:
    """``layer`` if it is a layer version ARN; ValueError naming it otherwise."""
    return _validate(_LAYER_RE, layer, "layer", "a layer version ARN arn:aws:lambda:REGION:ACCOUNT:layer:NAME:VERSION")


def validate_timeout(timeout_s: int) -> int:
    """``timeout_s`` if Lambda accepts it (an integer in [1, 900]); ValueError otherwise."""
    if not isinstance(timeout_s, int) or isinstance(timeout_s, bool) or not 1 <= timeout_s <= MAX_TIMEOUT_S:
        raise ValueError(f"timeout: {timeout_s!r} s is not a Lambda timeout (expected an integer in "
                         f"[1, {MAX_TIMEOUT_S}])")
    return timeout_s


def _validate_settings(role_arn: str, region: str, memory_mb: int, timeout_s: int, runtime: str,
                       layers: Sequence[str]) -> None:
    validate_role_arn(role_arn)
    validate_region(region)
    validate_memory(memory_mb)
    validate_timeout(timeout_s)
    validate_runtime(runtime)
    for layer in layers:
        validate_layer_arn(layer)


# --- AWS calls -----------------------------------------------------------------
def ensure_bucket(s3: Any, bucket: str, region: str) -> bool:
    """Creates ``bucket`` in ``region`` unless it exists; True if created.
    us-east-1 takes no LocationConstraint, every other region needs one."""
    from botocore.exceptions import ClientError

    try:
        s3.head_bucket(Bucket=bucket)
        return False
    except ClientError as error:
        if error_code(error) not in ("404", "NoSuchBucket", "NotFound"):
            raise AwsError(describe_aws_error(error, f"HeadBucket {bucket}") +
                           (" (the bucket exists and is not yours, or you may not list it)"
                            if error_code(error) == "403" else "")) from None
    arguments: dict[str, Any] = {"Bucket": bucket}
    if region != "us-east-1":
        arguments["CreateBucketConfiguration"] = {"LocationConstraint": region}
    try:
        s3.create_bucket(**arguments)
    except ClientError as error:
        if error_code(error) == "BucketAlreadyOwnedByYou":
            return False
        raise AwsError(describe_aws_error(error, f"CreateBucket {bucket}")) from None
    return True


def _existing_function(client: Any, function_name: str) -> dict[str, Any] | None:
    from botocore.exceptions import ClientError

    try:
        return client.get_function(FunctionName=function_name)["Configuration"]
    except ClientError as error:
        if error_code(error) == "ResourceNotFoundException":
            return None
        raise AwsError(describe_aws_error(error, f"GetFunction {function_name}")) from None


def _create_function(client: Any, function_name: str, package: bytes, settings: dict[str, Any]) -> dict:
    try:
        return call_aws(f"CreateFunction {function_name}", client.create_function, FunctionName=function_name,
                        Code={"ZipFile": package}, Description="Siren worker: mini-batch SGD on S3 (siren deploy)",
                        **settings)
    except AwsError as error:
        if "cannot be assumed" in str(error):
            raise AwsError(f"{error} (a role created moments ago takes a few seconds to reach Lambda: "
                           "retry)") from None
        raise


def _update_function(client: Any, function_name: str, package: bytes, sha: str,
                     existing: dict[str, Any], settings: dict[str, Any]) -> tuple[dict, bool]:
    """Updates the code (when its hash differs) and the configuration; returns
    (configuration, whether the code was uploaded)."""
    wait_function(client, "function_updated_v2", function_name)
    code_updated = existing.get("CodeSha256") != sha
    if code_updated:
        call_aws(f"UpdateFunctionCode {function_name}", client.update_function_code,
                 FunctionName=function_name, ZipFile=package)
        wait_function(client, "function_updated_v2", function_name)
    configuration = call_aws(f"UpdateFunctionConfiguration {function_name}",
                             client.update_function_configuration, FunctionName=function_name, **settings)
    wait_function(client, "function_updated_v2", function_name)
    return configuration, code_updated


def _version(text: str) -> tuple[int, ...] | None:
    match = re.match(r"^(\d+)\.(\d+)\.(\d+)", str(text))
    return tuple(int(part) for part in match.groups()) if match else None


def check_runtime(client: Any, function_name: str) -> dict[str, Any]:
    """Invokes the deployed worker once with ``{"probe": "runtime"}`` and
    returns what it runs with (``python``, ``boto3``, ``botocore``,
    ``numpy``, ``conditional_writes``, ``test_fields``).

    Raises RuntimeCheckError when the worker does not start (e.g. no numpy:
    no layer provides it) or its botocore cannot send S3 conditional writes
    (older than 1.35.69, or a model without PutObject's IfMatch), and
    AwsError when AWS refuses the invocation."""
    response = call_aws(f"Invoke {function_name} (runtime check)", client.invoke, FunctionName=function_name,
                        InvocationType="RequestResponse", Payload=json.dumps({"probe": "runtime"}).encode())
    payload = response["Payload"].read()
    where = f"function {function_name}"
    if response.get("FunctionError"):
        error_type, message = _function_error(payload)
        hint = (" (no numpy: give the function a layer that provides it, --layer ARN, docs/runner-aws.md)"
                if "numpy" in message else "")
        raise RuntimeCheckError(f"{where}: the worker does not run: {error_type}: {message[:300]}{hint}")
    try:
        probe = json.loads(payload)
    except ValueError:
        probe = None
    if not isinstance(probe, dict) or probe.get("probe") != "runtime":
        raise RuntimeCheckError(f"{where}: the runtime check got {payload[:200]!r}, expected the worker's probe "
                                "reply (is the function's handler siren_worker.worker.handler?)")
    botocore = str(probe.get("botocore", "unknown"))
    version = _version(botocore)
    if not probe.get("conditional_writes") or (version is not None and version < MIN_BOTOCORE):
        raise RuntimeCheckError(
            f"{where}: its runtime's botocore {botocore} cannot send S3 conditional writes (PutObject with "
            f"IfMatch), which the parameter store's compare-and-swap needs: expected botocore >= "
            f"{_MIN_BOTOCORE_TEXT}; give the function a layer with a newer boto3 (--layer ARN) or a newer "
            "runtime (--runtime), docs/runner-aws.md")
    return probe


def _environment(existing: dict[str, Any] | None, test_fields: bool) -> dict[str, Any]:
    """The function's Environment: an existing function's variables, with
    SIREN_TEST_FIELDS=1 only when asked."""
    variables = dict(((existing or {}).get("Environment") or {}).get("Variables") or {})
    variables.pop(TEST_FIELDS_ENV, None)
    if test_fields:
        variables[TEST_FIELDS_ENV] = "1"
    return {"Variables": variables}


def deploy(function_name: str, bucket: str, role_arn: str, region: str, memory_mb: int = 1024,
           timeout_s: int = 300, runtime: str = "python3.12", layers: Sequence[str] | None = None,
           create_bucket: bool = True, session: Any = None, profile: str | None = None,
           test_fields: bool = False, runtime_check: bool = True) -> dict[str, Any]:
    """Creates or updates the worker function (and the bucket).

    The bucket is created when missing (``create_bucket``). A new function is
    created from the package and awaited until Active; an existing one gets
    the package (only when its CodeSha256 differs) and the configuration
    (role, handler, runtime, memory, timeout and, when ``layers`` is not
    None, the layers: None keeps an existing function's layers), each
    awaited until the update is live. The function's environment has
    SIREN_TEST_FIELDS=1 only with ``test_fields`` (the worker then accepts
    the test-only event fields; a redeploy without it removes it). Then,
    with ``runtime_check``, one invocation checks the runtime
    (``check_runtime``).

    Returns a summary: function, ARN, region, bucket, what was created or
    updated, the code hash and size, the configuration and, when checked,
    the runtime's versions (``runtime_*``). No credentials.

    Raises ValueError for an invalid argument or missing credentials
    (before any AWS call), AwsError (one line) when AWS refuses or cannot
    be reached, and RuntimeCheckError when the deployed function cannot run
    the worker.
    """
    validate_function_name(function_name)
    validate_bucket_name(bucket)
    _validate_settings(role_arn, region, memory_mb, timeout_s, runtime, layers or [])
    session = session or make_session(region, profile)
    check_session(session, need_region=False)  # The region is an argument.
    package = package_bytes()
    sha = code_sha256(package)
    settings: dict[str, Any] = {"Role": role_arn, "Handler": HANDLER, "Runtime": runtime,
                                "MemorySize": memory_mb, "Timeout": timeout_s}
    if layers is not None:
        settings["Layers"] = list(layers)
    from botocore.exceptions import BotoCoreError

    s3 = session.client("s3", region_name=region)
    client = session.client("lambda", region_name=region)
    probe: dict[str, Any] = {}
    try:
        bucket_created = ensure_bucket(s3, bucket, region) if create_bucket else False
        existing = _existing_function(client, function_name)
        settings["Environment"] = _environment(existing, test_fields)
        if existing is None:
            if not settings["Environment"]["Variables"]:
                del settings["Environment"]
            configuration = _create_function(client, function_name, package, settings)
            wait_function(client, "function_active_v2", function_name)
            code_updated = True
        else:
            configuration, code_updated = _update_function(client, function_name, package, sha, existing,
                                                           settings)
        if runtime_check:
            probe = check_runtime(client, function_name)
    except BotoCoreError as error:  # No connection, expired credentials, ...
        raise AwsError(describe_aws_error(error, f"deploy {function_name}")) from None
    finally:
        client.close()
        s3.close()
    summary = {"function": function_name, "function_arn": configuration.get("FunctionArn"), "region": region,
               "bucket": bucket, "bucket_created": bucket_created, "function_created": existing is None,
               "code_updated": code_updated, "code_sha256": sha, "package_bytes": len(package),
               "handler": HANDLER, "runtime": runtime, "memory_mb": memory_mb, "timeout_s": timeout_s,
               "layers": [layer["Arn"] for layer in configuration.get("Layers") or []],
               "test_fields": test_fields}
    summary.update({f"runtime_{key}": probe[key] for key in ("python", "boto3", "botocore", "numpy") if key in probe})
    return summary


# --- the command ---------------------------------------------------------------
def _print_policy(args: argparse.Namespace) -> int:
    if not args.function or not args.bucket:
        raise ValueError("--print-policy: needs --function and --bucket")
    policies = least_privilege_policy(args.function, args.bucket, region=args.region or "*",
                                      account=args.account, role_arn=args.role_arn, prefix=args.prefix or "",
                                      layers=args.layer or [], function_per_memory=args.function_per_memory)
    print(json.dumps(policies, indent=2))
    return 0


def _require(args: argparse.Namespace, *names: str) -> None:
    missing = [f"--{name.replace('_', '-')}" for name in names if not getattr(args, name)]
    if missing:
        raise ValueError(f"deploy: missing {', '.join(missing)} (required unless --package-only or "
                         "--print-policy)")


def cmd_deploy(args: argparse.Namespace) -> int:
    """``siren deploy``: prints ``key=value`` lines of the summary. Exit 0;
    2 for an invalid argument, missing credentials or an unwritable
    --package-only path (``siren: error: ...``); 1 when AWS refuses or the
    runtime check fails (one line on stderr)."""
    try:
        if args.print_policy:
            return _print_policy(args)
        if args.package_only:
            try:
                check_output_file(args.package_only, "--package-only")
                path = build_package(args.package_only)
            except OSError as error:
                raise ValueError(str(error) if not error.strerror else
                                 f"--package-only: cannot write {args.package_only!r}: {error.strerror}") from None
            print(f"package={path} bytes={path.stat().st_size} sha256={code_sha256(path.read_bytes())} "
                  f"handler={HANDLER}")
            return 0
        _require(args, "function", "bucket", "role_arn", "region")
        summary = deploy(args.function, args.bucket, args.role_arn, args.region, memory_mb=args.memory,
                         timeout_s=args.timeout, runtime=args.runtime, layers=args.layer, profile=args.profile,
                         test_fields=args.enable_test_fields, runtime_check=not args.no_runtime_check)
    except ValueError as error:
        print(f"siren: error: {error}", file=sys.stderr)
        return _EXIT_USAGE
    except AwsError as error:
        print(f"siren: AWS error: {error}", file=sys.stderr)
        return _EXIT_AWS
    except RuntimeCheckError as error:
        print(f"siren: error: runtime check: {error} (the function is deployed but cannot run jobs)",
              file=sys.stderr)
        return _EXIT_AWS
    for key, value in summary.items():
        print(f"{key}={','.join(value) if isinstance(value, list) else value}")
    if not summary["layers"]:
        print("note: the function has no layer: the Lambda Python runtime has no numpy, so the worker "
              "cannot import until it gets one (--layer ARN, docs/runner-aws.md)", file=sys.stderr)
    return 0


def _int_in(low: int, high: int, unit: str) -> Any:
    expected = f"an integer in [{low}, {high}] ({unit})"
    return checked(int, lambda value: low <= value <= high, expected, expected)


def add_commands(sub: argparse._SubParsersAction) -> None:
    """Adds ``deploy`` to the ``siren`` parser."""
    p = sub.add_parser("deploy", help="package the runner's worker and create or update its Lambda function "
                                      "and S3 bucket (boto3)")
    p.add_argument("--function", type=validated(validate_function_name), default=None,
                   help="Lambda function name (created if missing)")
    p.add_argument("--bucket", type=validated(validate_bucket_name), default=None,
                   help="S3 bucket of the jobs (created if missing)")
    p.add_argument("--role-arn", type=validated(validate_role_arn), default=None,
                   help="the worker's execution role (see --print-policy)")
    p.add_argument("--region", type=validated(validate_region), default=None, help="AWS region, e.g. eu-west-1")
    p.add_argument("--profile", default=None, help="named profile of the AWS config files (default: boto3's)")
    p.add_argument("--memory", type=_int_in(MIN_MEMORY_MB, MAX_MEMORY_MB, "MB"), default=1024,
                   help="initial memory in MB; `siren run` sets it per epoch (default: %(default)s)")
    p.add_argument("--timeout", type=_int_in(1, MAX_TIMEOUT_S, "seconds"), default=300,
                   help="function timeout in seconds (default: %(default)s)")
    p.add_argument("--runtime", type=validated(validate_runtime), default="python3.12",
                   help="Lambda Python runtime (default: %(default)s)")
    p.add_argument("--layer", type=validated(validate_layer_arn), action="append", default=None,
                   metavar="ARN", help="layer version ARN, repeatable; one must provide numpy, e.g. AWS's "
                                       "AWSSDKPandas-Python312 (docs/runner-aws.md). Without --layer an "
                                       "existing function keeps its layers")
    p.add_argument("--enable-test-fields", action="store_true",
                   help="let the function accept the worker's test-only event fields (fault injection, an "
                        "emulated CPU share): SIREN_TEST_FIELDS=1 in its environment. Without it a redeploy "
                        "removes the variable")
    p.add_argument("--no-runtime-check", action="store_true",
                   help="skip the one invocation that checks the deployed worker runs and its botocore sends "
                        f"S3 conditional writes (>= {_MIN_BOTOCORE_TEXT})")
    p.add_argument("--package-only", metavar="PATH", default=None,
                   help="only write the worker package (zip) to PATH; no AWS calls")
    p.add_argument("--print-policy", action="store_true",
                   help="print the least-privilege IAM policies (runner, worker role, trust) for "
                        "--function/--bucket and exit; no AWS calls")
    p.add_argument("--account", default="*", help="with --print-policy: the AWS account id (default: any)")
    p.add_argument("--prefix", type=validated(validate_prefix), default=None,
                   help="with --print-policy: the jobs' key prefix (default: the whole bucket)")
    p.add_argument("--function-per-memory", action="store_true",
                   help="with --print-policy: also allow what `siren run --function-per-memory` does (publish "
                        "versions, create and move the siren-<m>mb aliases, invoke them)")
    p.set_defaults(handler=cmd_deploy)


def main(argv: Sequence[str] | None = None) -> int:
    """``siren deploy`` on its own: ``python -m siren.runner.deploy ARGS``."""
    parser = argparse.ArgumentParser(prog="siren")
    add_commands(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(["deploy", *(argv if argv is not None else sys.argv[1:])])
    return args.handler(args)


if __name__ == "__main__":
    sys.exit(main())
