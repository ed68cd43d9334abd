"""``siren teardown``: delete a job's S3 objects (docs/runner-aws.md).

A job of ``siren run --backend aws`` leaves its objects under
``s3://BUCKET/PREFIX/``: the data (manifest and one object per mini-batch),
the parameter store and, in tests, fault markers. ``teardown`` lists every
object whose key starts with ``PREFIX/`` (the prefix and a slash: ``jobs/a``
never touches ``jobs/ab/...``) and deletes them, 1,000 per DeleteObjects
request; ``--dry-run`` only counts them. A prefix is required: the command
never empties a whole bucket. On a bucket with versioning, S3 keeps the
deleted objects' earlier versions (a delete adds a delete marker); remove
those with S3's lifecycle rules or console.

The identity needs ``s3:ListBucket`` on the bucket and ``s3:DeleteObject`` on
the prefix (the runner policy of ``siren deploy --print-policy``).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import Any

from siren._argtypes import validated

from .aws import AwsError, check_session, describe_aws_error, make_session, validate_region
from .protocol import validate_bucket_name, validate_prefix

__all__ = ["add_commands", "cmd_teardown", "main", "teardown"]

_DELETE_BATCH = 1000  # The most keys one DeleteObjects request takes.
_EXIT_USAGE = 2
_EXIT_AWS = 1


def teardown(s3: Any, bucket: str, prefix: str, dry_run: bool = False) -> dict[str, Any]:
    """Deletes every object under ``prefix/`` in ``bucket`` (only counts
    them with ``dry_run``). Returns {"bucket", "prefix", "objects", "bytes",
    "deleted", "dry_run"}.

    Raises ValueError for an invalid bucket or prefix, AwsError (one line)
    when S3 refuses a request or an object could not be deleted.
    """
    from botocore.exceptions import BotoCoreError, ClientError

    validate_bucket_name(bucket)
    prefix = validate_prefix(prefix)
    keys: list[str] = []
    size = 0
    where = f"s3://{bucket}/{prefix}/"
    try:
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=f"{prefix}/"):
            for item in page.get("Contents", []):
                keys.append(item["Key"])
                size += int(item.get("Size", 0))
    except (ClientError, BotoCoreError) as error:
        raise AwsError(describe_aws_error(error, f"ListObjectsV2 {where}")) from None
    deleted = 0
    if not dry_run:
        for start in range(0, len(keys), _DELETE_BATCH):
            chunk = keys[start:start + _DELETE_BATCH]
            try:
                response = s3.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": k} for k in chunk],
                                                                    "Quiet": True})
            except (ClientError, BotoCoreError) as error:
                raise AwsError(describe_aws_error(error, f"DeleteObjects {where}")
                               + f" ({deleted} of {len(keys)} objects deleted before)") from None
            errors = response.get("Errors") or []
            deleted += len(chunk) - len(errors)
            if errors:
                first = errors[0]
                refusal = ClientError({"Error": {"Code": str(first.get("Code", "Unknown")),
                                                 "Message": str(first.get("Message", ""))}}, "DeleteObjects")
                raise AwsError(describe_aws_error(refusal, f"DeleteObjects {where}")
                               + f" ({len(errors)} of {len(chunk)} objects in the request not deleted, the first "
                                 f"{first.get('Key', '?')!r}; {deleted} of {len(keys)} deleted)")
    return {"bucket": bucket, "prefix": prefix, "objects": len(keys), "bytes": size, "deleted": deleted,
            "dry_run": dry_run}


def cmd_teardown(args: argparse.Namespace) -> int:
    """``siren teardown``: prints one ``key=value`` line. Exit 0; 2 for an
    invalid argument or missing region or credentials (``siren: error:
    ...``); 1 when AWS refuses (one line)."""
    try:
        session = make_session(args.region, args.profile)
        check_session(session)
        s3 = session.client("s3")
        try:
            summary = teardown(s3, args.bucket, args.prefix, dry_run=args.dry_run)
        finally:
            s3.close()
    except ValueError as error:
        print(f"siren: error: {error}", file=sys.stderr)
        return _EXIT_USAGE
    except AwsError as error:
        print(f"siren: AWS error: {error}", file=sys.stderr)
        return _EXIT_AWS
    verb = "would_delete" if summary["dry_run"] else "deleted"
    print(f"bucket={summary['bucket']} prefix={summary['prefix']}/ objects={summary['objects']} "
          f"bytes={summary['bytes']} {verb}={summary['objects'] if summary['dry_run'] else summary['deleted']}")
    return 0


def add_commands(sub: argparse._SubParsersAction) -> None:
    """Adds ``teardown`` to the ``siren`` parser."""
    p = sub.add_parser("teardown", help="delete a job's S3 objects (s3://BUCKET/PREFIX/...) left by `siren run "
                                        "--backend aws`")
    p.add_argument("--bucket", type=validated(validate_bucket_name), required=True, help="the jobs' S3 bucket")
    p.add_argument("--prefix", type=validated(validate_prefix), required=True,
                   help="the job's key prefix (its trace's prefix attribute, e.g. jobs/20260101-120000-ab12cd34); "
                        "every object under PREFIX/ is deleted")
    p.add_argument("--dry-run", action="store_true", help="only count the objects and bytes that would be deleted")
    p.add_argument("--region", type=validated(validate_region), default=None,
                   help="AWS region (default: the AWS configuration's)")
    p.add_argument("--profile", default=None, help="named profile of the AWS config files (default: boto3's)")
    p.set_defaults(handler=cmd_teardown)


def main(argv: Sequence[str] | None = None) -> int:
    """``siren teardown`` on its own: ``python -m siren.runner.teardown ARGS``."""
    parser = argparse.ArgumentParser(prog="siren")
    add_commands(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(["teardown", *(argv if argv is not None else sys.argv[1:])])
    return args.handler(args)


if __name__ == "__main__":
    sys.exit(main())
