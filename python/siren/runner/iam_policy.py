"""Least-privilege IAM policies for the AWS runner (docs/runner-aws.md).

Three documents, for one worker function and one bucket:

- ``runner``: for the identity that runs ``siren deploy``, ``siren run``
  and ``siren teardown``: invoke the function, read and change its
  configuration, wait on it (GetFunction), create it and update its code,
  pass the worker role to Lambda (only to Lambda), create the bucket, read
  and write the job objects under the prefix and delete them (teardown);
  with ``function_per_memory`` also publish versions, make and move the
  ``siren-*`` aliases and invoke them (``siren run --function-per-memory``);
- ``worker_role``: the worker function's execution role: read and write the
  job objects under the prefix, list them and delete them (the fold
  protocol's folder, which runs as the same function), write its own
  CloudWatch logs;
- ``worker_trust``: the execution role's trust policy (Lambda may assume it).

Every resource is named: the function ARN, the role ARN, the bucket and its
prefix, the function's log group. ``account`` and ``region`` default to
"*" where the caller does not know them.
"""

from __future__ import annotations

from typing import Any

from .aws import validate_function_name, validate_region
from .protocol import validate_bucket_name, validate_prefix

__all__ = ["least_privilege_policy"]

_VERSION = "2012-10-17"


def _statement(sid: str, actions: list[str], resources: list[str], **extra: Any) -> dict[str, Any]:
    return {"Sid": sid, "Effect": "Allow", "Action": actions, "Resource": resources, **extra}


def _function_arn(function_name: str, region: str, account: str) -> str:
    if function_name.startswith("arn:"):
        return function_name
    return f"arn:aws:lambda:{region}:{account}:function:{function_name}"


def least_privilege_policy(function_name: str, bucket: str, region: str = "*", account: str = "*",
                           role_arn: str | None = None, prefix: str = "",
                           layers: list[str] | tuple[str, ...] = (),
                           function_per_memory: bool = False) -> dict[str, dict[str, Any]]:
    """The ``runner``, ``worker_role`` and ``worker_trust`` policy documents
    (see the module docstring).

    Args:
        function_name: the worker function (name or ARN).
        bucket: the job bucket.
        region, account: of the function's ARN and log group ("*": any).
        role_arn: the worker's execution role, for iam:PassRole (default:
            any role of the account named ``siren-worker*``).
        prefix: the key prefix of the jobs ("" : the whole bucket, which
            should then be dedicated to Siren).
        layers: layer version ARNs the function uses (CreateFunction needs
            lambda:GetLayerVersion on each).
        function_per_memory: add what one alias per memory size needs
            (PublishVersion; GetAlias, CreateAlias, UpdateAlias on the
            ``siren-*`` aliases; InvokeFunction and GetFunctionConfiguration
            on the function's versions and aliases).

    Raises ValueError for an invalid name.
    """
    validate_function_name(function_name)
    validate_bucket_name(bucket)
    if region != "*":
        validate_region(region)
    if account != "*" and not (account.isdigit() and len(account) == 12):
        raise ValueError(f"account: {account!r} is not an AWS account id (expected 12 digits or '*')")
    objects = f"arn:aws:s3:::{bucket}/{validate_prefix(prefix) + '/' if prefix else ''}*"
    function_arn = _function_arn(function_name, region, account)
    short_name = function_arn.rsplit(":", 1)[-1]
    role = role_arn or f"arn:aws:iam::{account}:role/siren-worker*"

    runner = [
        _statement("SirenRunFunction", ["lambda:InvokeFunction", "lambda:GetFunction",
                                        "lambda:GetFunctionConfiguration", "lambda:UpdateFunctionConfiguration"],
                   [function_arn]),
        _statement("SirenRunObjects", ["s3:GetObject", "s3:PutObject"], [objects]),
        _statement("SirenRunBucket", ["s3:ListBucket"], [f"arn:aws:s3:::{bucket}"]),
        _statement("SirenTeardownObjects", ["s3:DeleteObject"], [objects]),
        _statement("SirenDeployFunction", ["lambda:CreateFunction", "lambda:UpdateFunctionCode"], [function_arn]),
        _statement("SirenDeployPassRole", ["iam:PassRole"], [role],
                   Condition={"StringEquals": {"iam:PassedToService": "lambda.amazonaws.com"}}),
        _statement("SirenDeployBucket", ["s3:CreateBucket"], [f"arn:aws:s3:::{bucket}"]),
    ]
    if layers:
        runner.append(_statement("SirenDeployLayers", ["lambda:GetLayerVersion"], list(layers)))
    if function_per_memory:
        # Versions are qualified ARNs (FUNCTION:7), aliases FUNCTION:siren-1024mb.
        runner += [
            _statement("SirenRunVersions", ["lambda:InvokeFunction", "lambda:GetFunctionConfiguration"],
                       [f"{function_arn}:*"]),
            _statement("SirenRunPublish", ["lambda:PublishVersion"], [function_arn]),
            _statement("SirenRunAliases", ["lambda:GetAlias", "lambda:CreateAlias", "lambda:UpdateAlias"],
                       [function_arn, f"{function_arn}:siren-*"]),
        ]
    log_group = f"arn:aws:logs:{region}:{account}:log-group:/aws/lambda/{short_name}"
    worker = [
        _statement("SirenWorkerObjects", ["s3:GetObject", "s3:PutObject"], [objects]),
        # The fold protocol's folder (the same function): LIST the pushed
        # updates, delete them once folded.
        _statement("SirenWorkerFoldList", ["s3:ListBucket"], [f"arn:aws:s3:::{bucket}"],
                   **({"Condition": {"StringLike": {"s3:prefix": [f"{validate_prefix(prefix)}/*"]}}}
                      if prefix else {})),
        _statement("SirenWorkerFoldDelete", ["s3:DeleteObject"], [objects]),
        _statement("SirenWorkerLogGroup", ["logs:CreateLogGroup"], [log_group]),
        _statement("SirenWorkerLogs", ["logs:CreateLogStream", "logs:PutLogEvents"], [f"{log_group}:*"]),
    ]
    trust = [{"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}]
    return {"runner": {"Version": _VERSION, "Statement": runner},
            "worker_role": {"Version": _VERSION, "Statement": worker},
            "worker_trust": {"Version": _VERSION, "Statement": trust}}
