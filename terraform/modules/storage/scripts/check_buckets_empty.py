"""Destroy-time guard of the storage module: exit 1 while a bucket it may not empty holds anything.

Run by Terraform (a `local-exec` provisioner with `when = destroy`), configured through the environment:
GUARD_BUCKETS (comma-separated names), GUARD_FORCE_DESTROY ("true": Terraform will empty them, nothing to
check), GUARD_REGION and GUARD_ENDPOINT (the local stack's URL, empty in AWS). Credentials are Terraform's.
Object versions and delete markers count: a versioned bucket with only those still cannot be deleted.
"""

from __future__ import annotations

import os
import sys


def main() -> int:
    if os.environ.get("GUARD_FORCE_DESTROY", "false") == "true":
        return 0
    buckets = [b for b in os.environ.get("GUARD_BUCKETS", "").split(",") if b]
    try:
        import boto3
        from botocore.exceptions import BotoCoreError, ClientError
    except ImportError:
        print(
            "destroy guard: boto3 is not installed, so the buckets cannot be checked; run the destroy "
            "through `make destroy` (it sets BP_PYTHON)",
            file=sys.stderr,
        )
        return 1
    s3 = boto3.client(
        "s3",
        region_name=os.environ.get("GUARD_REGION") or None,
        endpoint_url=os.environ.get("GUARD_ENDPOINT") or None,
    )
    holding = []
    for bucket in buckets:
        try:
            page = s3.list_object_versions(Bucket=bucket, MaxKeys=1)
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") == "NoSuchBucket":
                continue
            print(f"destroy guard: cannot list s3://{bucket}: {exc}", file=sys.stderr)
            return 1
        except BotoCoreError as exc:
            print(f"destroy guard: cannot list s3://{bucket}: {exc}", file=sys.stderr)
            return 1
        if page.get("Versions") or page.get("DeleteMarkers"):
            holding.append(bucket)
    if holding:
        names = ", ".join(f"s3://{b}" for b in holding)
        print(
            f"destroy guard: {names} still hold objects and force_destroy is off: nothing was destroyed "
            "(the bucket policy, public-access block, encryption and key are intact). Empty the buckets "
            "(every version) first if you mean to delete the data; see terraform/README.md.",
            file=sys.stderr,
        )
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
