"""`batch`: recommendations for a list of users with a batch inference job, downloaded and summarised.

Idempotency: the job name carries a digest of the users, the version, the filter and numResults, so the
same request re-downloads the finished job's output instead of paying for a second job.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
from dataclasses import dataclass, field
from pathlib import Path
from statistics import mean
from typing import TYPE_CHECKING, Any

from pipeline.lifecycle.aws import paginate
from pipeline.lifecycle.context import Context
from pipeline.lifecycle.errors import ValidationFailedError
from pipeline.lifecycle.promote import best_version, find_campaign
from pipeline.lifecycle.waiting import IN_PROGRESS_STATES, wait_for
from pipeline.paths import repo_root

if TYPE_CHECKING:
    from mypy_boto3_personalize.type_defs import BatchInferenceJobInputTypeDef, BatchInferenceJobOutputTypeDef

__all__ = ["BatchResult", "BatchSummary", "read_users", "run_batch", "summarise_output"]


@dataclass
class BatchSummary:
    users: int = 0
    users_with_items: int = 0
    errors: int = 0
    items_per_user_min: int = 0
    items_per_user_mean: float = 0.0
    items_per_user_max: int = 0
    error_samples: list[str] = field(default_factory=list)

    def format(self) -> str:
        return (
            f"{self.users:,} users, {self.users_with_items:,} with recommendations; items per user "
            f"min {self.items_per_user_min} / mean {self.items_per_user_mean:.1f} / "
            f"max {self.items_per_user_max}; "
            f"{self.errors} error(s)"
        )


@dataclass(frozen=True)
class BatchResult:
    job_arn: str
    job_name: str
    started: bool
    files: list[Path]
    summary: BatchSummary


def read_users(path: Path) -> list[str]:
    """User ids from one-id-per-line text or a CSV with a USER_ID column; duplicates and blanks dropped."""
    text = path.read_text(encoding="utf-8-sig")
    lines = [line for line in text.splitlines() if line.strip()]
    if not lines:
        raise ValidationFailedError(
            str(path), "holds no user ids", "one user id per line, or a CSV with USER_ID"
        )
    header = [h.strip() for h in next(csv.reader([lines[0]]))]
    if "USER_ID" in header:
        ids = [
            row["USER_ID"].strip() for row in csv.DictReader(io.StringIO("\n".join(lines)), fieldnames=header)
        ]
        ids = ids[1:]
    else:
        ids = [line.strip() for line in lines]
    users = list(dict.fromkeys(u for u in ids if u))
    if not users:
        raise ValidationFailedError(
            str(path), "holds no user ids", "one user id per line, or a CSV with USER_ID"
        )
    return users


def summarise_output(lines: list[str]) -> BatchSummary:
    """Counts over output lines `{"input": {...}, "output": {"recommendedItems": [...]}, "error": ...}`."""
    summary = BatchSummary()
    counts: list[int] = []
    for line in lines:
        if not line.strip():
            continue
        record = json.loads(line)
        summary.users += 1
        if record.get("error"):
            summary.errors += 1
            if len(summary.error_samples) < 5:
                summary.error_samples.append(f"{record.get('input')}: {record['error']}")
            continue
        items = (record.get("output") or {}).get("recommendedItems") or []
        counts.append(len(items))
        summary.users_with_items += 1 if items else 0
    if counts:
        summary.items_per_user_min, summary.items_per_user_max = min(counts), max(counts)
        summary.items_per_user_mean = mean(counts)
    return summary


def _version(ctx: Context, solution: str | None, version: str | None) -> str:
    if version:
        return version
    if solution is None:
        spec = next(c for c in ctx.config["campaigns"] if c["name"] == ctx.config["api"]["campaign"])
        live = find_campaign(ctx, ctx.campaign_name(spec))
        if live and live.get("solutionVersionArn"):
            return str(live["solutionVersionArn"])  # what Braze sees through the API
        solution = spec["solution"]
    return best_version(ctx, solution)[0]


def run_batch(
    ctx: Context,
    users_file: Path,
    *,
    filter_name: str | None = None,
    solution: str | None = None,
    version: str | None = None,
    num_results: int = 25,
    out_dir: Path | None = None,
) -> BatchResult:
    users = read_users(users_file)
    filter_arn = ctx.output_map("filter_arns", filter_name) if filter_name else None
    version_arn = _version(ctx, solution, version)
    body = "".join(json.dumps({"userId": u}) + "\n" for u in users).encode()
    digest = hashlib.sha256(body + f"|{version_arn}|{filter_arn}|{num_results}".encode()).hexdigest()[:16]
    name = f"{ctx.config['name']}-batch-{digest}"
    existing = [
        j
        for j in paginate(
            ctx.personalize.list_batch_inference_jobs, "batchInferenceJobs", solutionVersionArn=version_arn
        )
        if j.get("jobName") == name
    ]
    usable = [j for j in existing if j.get("status") == "ACTIVE" or j.get("status") in IN_PROGRESS_STATES]
    if existing and not usable:
        name = f"{name}-{len(existing)}"  # an earlier attempt failed: retry under a fresh name
    output_prefix = f"{ctx.storage['batch_output_prefix']}{name}/"
    started = not usable
    if usable:
        arn = str(usable[0]["batchInferenceJobArn"])
        ctx.progress.say(f"batch job {name} already exists ({usable[0].get('status')}); reusing it")
    else:
        input_key = f"{ctx.storage['batch_input_prefix']}{name}/users.json"
        ctx.s3.put_object(Bucket=ctx.bucket, Key=input_key, Body=body, ChecksumAlgorithm="SHA256")
        kms = ctx.outputs.get("kms_key_arn")
        job_input: BatchInferenceJobInputTypeDef = {
            "s3DataSource": {"path": f"s3://{ctx.bucket}/{input_key}"}
        }
        job_output: BatchInferenceJobOutputTypeDef = {
            "s3DataDestination": {"path": f"s3://{ctx.bucket}/{output_prefix}"}
        }
        if kms:
            job_output["s3DataDestination"]["kmsKeyArn"] = str(kms)
        params: dict[str, Any] = {
            "jobName": name,
            "solutionVersionArn": version_arn,
            "numResults": num_results,
            "jobInput": job_input,
            "jobOutput": job_output,
            "roleArn": str(ctx.output("personalize_role_arn")),
        }
        if filter_arn:
            params["filterArn"] = filter_arn
        arn = ctx.personalize.create_batch_inference_job(**params)["batchInferenceJobArn"]
        ctx.progress.say(f"batch job {name}: {len(users):,} users, {num_results} items each")
    wait_for(
        ctx,
        f"batch inference job {name}",
        lambda: ctx.personalize.describe_batch_inference_job(batchInferenceJobArn=arn)["batchInferenceJob"],
    )
    target = out_dir or repo_root() / "data" / "batch" / name
    target.mkdir(parents=True, exist_ok=True)
    files: list[Path] = []
    lines: list[str] = []
    listing = ctx.s3.list_objects_v2(Bucket=ctx.bucket, Prefix=output_prefix)
    for obj in listing.get("Contents", []):
        local = target / Path(obj["Key"]).name
        data = ctx.s3.get_object(Bucket=ctx.bucket, Key=obj["Key"])["Body"].read()
        local.write_bytes(data)
        files.append(local)
        if obj["Key"].endswith(".out"):
            lines += data.decode("utf-8").splitlines()
    summary = summarise_output(lines)
    ctx.progress.say(f"batch output in {target}: {summary.format()}")
    for sample in summary.error_samples:
        ctx.progress.plain(f"    error: {sample}")
    return BatchResult(arn, name, started, files, summary)
