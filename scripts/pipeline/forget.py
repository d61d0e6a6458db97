"""`forget`: users leave Personalize, our S3 copies and (when asked) Braze.

1. A Personalize data deletion job for the users (input: a CSV with a single USER_ID column, read by the
   Personalize role, as the CreateDataDeletionJob reference requires); the job name carries a digest
   of the users, so a re-run waits for the same job instead of starting another.
2. Every CSV under the import and Currents bulk prefixes is rewritten without the users' rows (a new
   version of the same key), and the older versions of those keys are deleted: on a versioned bucket
   the old rows would otherwise stay readable until the noncurrent-version expiry.
3. With `braze=True`, Braze's `/users/delete` for the same external ids.
The job is what makes Personalize stop training on them; models trained before keep what they learnt
until the next training (`make train`), after which the users get cold-start answers.
"""

from __future__ import annotations

import csv
import hashlib
import io
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pipeline.lifecycle.context import Context, Progress
from pipeline.lifecycle.errors import JobFailedError, ValidationFailedError, WaitTimeoutError

__all__ = [
    "ForgetResult",
    "ForgetTarget",
    "forget_flow",
    "forget_users",
    "read_user_file",
    "run_forget",
    "target_for",
]

DONE, FAILED = "COMPLETED", "FAILED"


@dataclass(frozen=True)
class ForgetTarget:
    """Where the users' data lives: one dataset group, one bucket and the prefixes of our copies."""

    personalize: Any
    s3: Any
    bucket: str
    dataset_group_arn: str
    role_arn: str
    name: str
    prefixes: tuple[str, ...]
    work_prefix: str
    poll: float = 0.1
    timeout: float = 900.0
    sleep: Callable[[float], None] = time.sleep


@dataclass
class ForgetResult:
    users: list[str]
    job_arn: str
    job_status: str
    records_deleted: int
    rows_removed: dict[str, int] = field(default_factory=dict)
    old_versions_deleted: int = 0
    braze_deleted: int = 0

    def format(self) -> str:
        files = ", ".join(f"{k} ({n})" for k, n in sorted(self.rows_removed.items())) or "none"
        return (
            f"forgot {len(self.users)} user(s): deletion job {self.job_status}, {self.records_deleted} "
            f"record(s) deleted in Personalize; rows removed from S3 copies: {files}; "
            f"{self.old_versions_deleted} older object version(s) deleted; "
            f"{self.braze_deleted} Braze profile(s) deleted"
        )


def read_user_file(path: Path) -> list[str]:
    """External user ids: one per line, or a CSV with a USER_ID column."""
    from pipeline.lifecycle.batch import read_users

    return read_users(path)


def _job(target: ForgetTarget, users: Sequence[str], progress: Progress) -> dict[str, Any]:
    body = ("USER_ID\n" + "".join(f"{u}\n" for u in users)).encode()
    digest = hashlib.sha256(body).hexdigest()[:16]
    name = f"{target.name}-forget-{digest}"[:63]
    existing = [
        j
        for j in target.personalize.list_data_deletion_jobs(datasetGroupArn=target.dataset_group_arn).get(
            "dataDeletionJobs", []
        )
        if j.get("jobName") == name and j.get("status") != FAILED
    ]
    if existing:
        arn = str(existing[0]["dataDeletionJobArn"])
        progress.say(f"data deletion job {name} already exists ({existing[0].get('status')})")
    else:
        key = f"{target.work_prefix}{name}/users.csv"
        target.s3.put_object(Bucket=target.bucket, Key=key, Body=body, ContentType="text/csv")
        arn = target.personalize.create_data_deletion_job(
            jobName=name,
            datasetGroupArn=target.dataset_group_arn,
            dataSource={"dataLocation": f"s3://{target.bucket}/{key}"},
            roleArn=target.role_arn,
        )["dataDeletionJobArn"]
        progress.say(f"data deletion job {name} started for {len(users)} user(s)")
    started = time.monotonic()
    while True:
        job = dict(target.personalize.describe_data_deletion_job(dataDeletionJobArn=arn)["dataDeletionJob"])
        if job.get("status") == DONE:
            return job
        if job.get("status") == FAILED:
            raise JobFailedError(
                f"data deletion job {name}",
                str(job.get("failureReason")),
                "check that the Personalize role can read the bucket, then re-run",
            )
        if time.monotonic() - started > target.timeout:
            raise WaitTimeoutError(
                f"data deletion job {name}", f"still {job.get('status')}", "re-run later: it resumes"
            )
        target.sleep(target.poll)


def _csv_keys(target: ForgetTarget) -> list[str]:
    paginator = target.s3.get_paginator("list_objects_v2")
    keys = []
    for prefix in target.prefixes:
        for page in paginator.paginate(Bucket=target.bucket, Prefix=prefix):
            keys += [
                str(o["Key"]) for o in page.get("Contents", []) if str(o["Key"]).lower().endswith(".csv")
            ]
    # The deletion jobs' own input files list exactly the users: they are not copies of our data.
    return sorted(k for k in set(keys) if not k.startswith(target.work_prefix))


def _without(data: bytes, users: set[str]) -> tuple[bytes, int]:
    """The CSV without rows whose USER_ID is one of `users` (files without USER_ID are unchanged)."""
    text = data.decode("utf-8-sig")
    reader = csv.reader(io.StringIO(text))
    header = next(reader, None)
    if not header or "USER_ID" not in header:
        return data, 0
    column = header.index("USER_ID")
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(header)
    removed = 0
    for row in reader:
        if len(row) > column and row[column] in users:
            removed += 1
            continue
        writer.writerow(row)
    return out.getvalue().encode(), removed


def _old_versions(target: ForgetTarget, key: str, current: str | None) -> int:
    """Delete every version of `key` but `current` (a bucket without versioning has none)."""
    deleted = 0
    paginator = target.s3.get_paginator("list_object_versions")
    for page in paginator.paginate(Bucket=target.bucket, Prefix=key):
        for version in [*page.get("Versions", []), *page.get("DeleteMarkers", [])]:
            if version["Key"] != key or version.get("VersionId") in (current, None, "null"):
                continue
            target.s3.delete_object(Bucket=target.bucket, Key=key, VersionId=version["VersionId"])
            deleted += 1
    return deleted


def forget_users(
    target: ForgetTarget,
    users: Sequence[str],
    *,
    braze_delete: Callable[[Sequence[str]], int] | None = None,
    progress: Progress | None = None,
) -> ForgetResult:
    progress = progress or Progress()
    wanted = sorted(set(users))
    if not wanted:
        raise ValidationFailedError("users", "no user ids given", "one external user id per line")
    job = _job(target, wanted, progress)
    result = ForgetResult(
        wanted, str(job["dataDeletionJobArn"]), str(job["status"]), int(job.get("numDeleted", 0))
    )
    gone = set(wanted)
    for key in _csv_keys(target):
        data = bytes(target.s3.get_object(Bucket=target.bucket, Key=key)["Body"].read())
        cleaned, removed = _without(data, gone)
        if not removed:
            continue
        put = target.s3.put_object(Bucket=target.bucket, Key=key, Body=cleaned, ContentType="text/csv")
        result.rows_removed[key] = removed
        result.old_versions_deleted += _old_versions(target, key, put.get("VersionId"))
    if braze_delete is not None:
        result.braze_deleted = braze_delete(wanted)
    progress.say(result.format())
    return result


def target_for(ctx: Context) -> ForgetTarget:
    currents = ctx.config.get("currents") or {}
    prefixes = [str(ctx.storage["import_prefix"])]
    if currents.get("bulk_prefix"):
        prefixes.append(str(currents["bulk_prefix"]))
    return ForgetTarget(
        personalize=ctx.personalize,
        s3=ctx.s3,
        bucket=ctx.bucket,
        dataset_group_arn=str(ctx.output("dataset_group_arn")),
        role_arn=str(ctx.output("personalize_role_arn")),
        name=str(ctx.config["name"]),
        prefixes=tuple(prefixes),
        # Under the import prefix: the Personalize role may already read it (modules/storage grants it).
        work_prefix=f"{ctx.storage['import_prefix']}forget/",
        poll=float(ctx.poll or 0.1),
        timeout=float(ctx.timeout or 900.0),
        sleep=ctx.sleep,
    )


def forget_flow(ctx: Context) -> Callable[[Sequence[str]], ForgetResult]:
    """What the Currents bridge calls for `users.UserDeleteRequest` (Braze already deleted the profile)."""
    return lambda users: forget_users(target_for(ctx), users, progress=ctx.progress)


def run_forget(ctx: Context, users_file: Path, *, braze: bool = False) -> ForgetResult:
    users = read_user_file(users_file)
    braze_delete = None
    if braze:
        from pipeline.braze_sync.client import client_for

        braze_delete = client_for(ctx).delete_users
    return forget_users(target_for(ctx), users, braze_delete=braze_delete, progress=ctx.progress)
