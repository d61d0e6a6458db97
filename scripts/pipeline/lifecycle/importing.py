"""`import`: validate, upload under content-addressed keys, start dataset import jobs, wait, report rows.

Idempotency: the S3 key holds the file's SHA-256, so an unchanged file is not uploaded again; a job is
started only when the dataset's newest ACTIVE import (FULL mode) or any ACTIVE import (INCREMENTAL mode)
does not already read that exact key. A job still running for that key is waited for, not duplicated.
"""

from __future__ import annotations

import hashlib
import tempfile
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow.csv as pacsv
from boto3.s3.transfer import TransferConfig
from botocore.exceptions import ClientError

from chalicelib.catalog_artifact import write_catalog_from_csv
from pipeline.config import load_dataset_schemas
from pipeline.lifecycle.api_settings import catalog_key
from pipeline.lifecycle.aws import paginate, sort_newest_first
from pipeline.lifecycle.context import Context
from pipeline.lifecycle.errors import ConfigCheckError, ValidationFailedError
from pipeline.lifecycle.waiting import IN_PROGRESS_STATES, wait_for
from pipeline.paths import DATASET_TYPES
from pipeline.validation import ValidationReport, validate_directory

__all__ = [
    "IMPORT_MODES",
    "ImportResult",
    "content_key",
    "item_counts",
    "run_import",
    "sha256_of",
    "write_catalog",
]

IMPORT_MODES = ("FULL", "INCREMENTAL")
# Multipart above 64 MiB, in 64 MiB parts: a 5M-row interactions file goes up in a few parallel parts.
_TRANSFER = TransferConfig(multipart_threshold=64 * 1024 * 1024, multipart_chunksize=64 * 1024 * 1024)


@dataclass(frozen=True)
class ImportResult:
    """One dataset's import: where the file went, which job read it, whether this run started it."""

    dataset_type: str
    data_location: str
    job_arn: str
    started: bool
    uploaded: bool
    rows: int


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1024 * 1024), b""):
            digest.update(block)
    return digest.hexdigest()


def content_key(prefix: str, dataset_type: str, digest: str) -> str:
    """`imports/interactions/sha256-<hex>/interactions.csv`: same content, same key."""
    return f"{prefix}{dataset_type}/sha256-{digest}/{dataset_type}.csv"


def _validate(ctx: Context, data_dir: Path, event_type: str | None) -> ValidationReport:
    ctx.progress.say(f"validating {data_dir}")
    report = validate_directory(str(data_dir), event_type=event_type, digests=True)
    if not report.ok:
        ctx.progress.plain(report.format_text())
        errors = [p for p in report.problems if p.severity == "error"]
        raise ValidationFailedError(
            str(data_dir),
            f"{len(errors)} validation error(s); nothing was uploaded",
            f"fix the data (see above, or `make validate DATA={data_dir}`) and re-run the import",
        )
    ctx.progress.say(f"valid: {', '.join(f'{k} {v:,} rows' for k, v in sorted(report.row_counts.items()))}")
    return report


def _upload(ctx: Context, path: Path, key: str) -> bool:
    """Upload unless the key already exists (its name is its content). True when uploaded."""
    try:
        ctx.s3.head_object(Bucket=ctx.bucket, Key=key)
        ctx.progress.say(f"s3://{ctx.bucket}/{key} already uploaded")
        return False
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") not in ("404", "NoSuchKey", "NotFound"):
            raise
    extra: dict[str, Any] = {"ChecksumAlgorithm": "SHA256"}
    kms = ctx.outputs.get("kms_key_arn")
    if kms:
        extra.update(ServerSideEncryption="aws:kms", SSEKMSKeyId=kms)
    ctx.progress.say(f"uploading {path} ({path.stat().st_size:,} bytes) to s3://{ctx.bucket}/{key}")
    ctx.s3.upload_file(str(path), ctx.bucket, key, ExtraArgs=extra, Config=_TRANSFER)
    return True


def _existing_job(ctx: Context, dataset_arn: str, location: str, mode: str) -> dict[str, Any] | None:
    """An ACTIVE or running job that already imports `location` in a way that makes a new one pointless."""
    jobs = sort_newest_first(
        list(paginate(ctx.personalize.list_dataset_import_jobs, "datasetImportJobs", datasetArn=dataset_arn))
    )
    for job in jobs:
        status = job.get("status", "")
        if status not in IN_PROGRESS_STATES and status != "ACTIVE":
            continue
        detail = ctx.personalize.describe_dataset_import_job(datasetImportJobArn=job["datasetImportJobArn"])
        described: dict[str, Any] = dict(detail["datasetImportJob"])
        same = described.get("dataSource", {}).get("dataLocation") == location
        if same and (
            status in IN_PROGRESS_STATES
            or mode == "INCREMENTAL"
            or described.get("importMode") != "INCREMENTAL"
        ):
            return described
        if mode == "FULL" and status == "ACTIVE":
            # A newer full import of another file replaced the data: this file must be imported again.
            return None
    return None


def item_counts(interactions: Path) -> Counter[str]:
    """Interactions per item: the popularity order of the catalog artifact (and so of the API's fallback)."""
    table = pacsv.read_csv(
        interactions,
        convert_options=pacsv.ConvertOptions(include_columns=["ITEM_ID"], column_types={"ITEM_ID": "string"}),
    )
    counts: Counter[str] = Counter()
    for chunk in table.column("ITEM_ID").value_counts().to_pylist():
        counts[str(chunk["values"])] = int(chunk["counts"])
    return counts


def write_catalog(ctx: Context, items: Path, interactions: Path) -> str:
    """The API's catalog artifact (chalicelib.catalog_artifact: items in popularity order, indexed by id)
    from the imported files, uploaded to `<artifacts_prefix>catalog/catalog.bin`; returns its S3 URI."""
    key = catalog_key(ctx.config)
    with tempfile.TemporaryDirectory(prefix="catalog-") as folder:
        artifact = Path(folder) / "catalog.bin"
        with items.open(encoding="utf-8-sig", newline="") as lines, artifact.open("wb") as out:
            count = write_catalog_from_csv(
                out, lines, load_dataset_schemas()["items"], item_counts(interactions)
            )
        extra: dict[str, Any] = {"ChecksumAlgorithm": "SHA256"}
        kms = ctx.outputs.get("kms_key_arn")
        if kms:
            extra.update(ServerSideEncryption="aws:kms", SSEKMSKeyId=kms)
        ctx.s3.upload_file(str(artifact), ctx.bucket, key, ExtraArgs=extra, Config=_TRANSFER)
        size = artifact.stat().st_size
    uri = f"s3://{ctx.bucket}/{key}"
    ctx.progress.say(f"API catalog: {count:,} items in popularity order ({size:,} bytes) written to {uri}")
    return uri


def run_import(
    ctx: Context, data_dir: Path, mode: str = "FULL", *, event_type: str | None = None
) -> list[ImportResult]:
    """Validate `data_dir`, upload its CSVs and import each into its dataset; waits for every job."""
    if mode not in IMPORT_MODES:
        raise ConfigCheckError("--mode", f"{mode!r} is not one of {', '.join(IMPORT_MODES)}")
    files = {t: data_dir / f"{t}.csv" for t in DATASET_TYPES if (data_dir / f"{t}.csv").is_file()}
    if "interactions" not in files:
        raise ValidationFailedError(
            str(data_dir), "no interactions.csv", "point DATA at a directory holding it"
        )
    report = _validate(ctx, data_dir, event_type)
    rows = dict(report.row_counts)
    role = str(ctx.output("personalize_role_arn"))
    pending: list[tuple[str, str, str, bool, bool]] = []
    for dataset_type, path in files.items():
        dataset_arn = ctx.output_map("dataset_arns", dataset_type)
        digest = report.digests[path.name]  # hashed in the validation's pass over the file
        key = content_key(ctx.storage["import_prefix"], dataset_type, digest)
        uploaded = _upload(ctx, path, key)
        location = f"s3://{ctx.bucket}/{key}"
        existing = _existing_job(ctx, dataset_arn, location, mode)
        if existing is not None:
            ctx.progress.say(f"{dataset_type}: {location} already imported by {existing['jobName']}")
            pending.append((dataset_type, location, existing["datasetImportJobArn"], False, uploaded))
            continue
        name = f"{ctx.config['name']}-{dataset_type}-{digest[:10]}-{int(time.time())}"[:63]
        arn = ctx.personalize.create_dataset_import_job(
            jobName=name,
            datasetArn=dataset_arn,
            dataSource={"dataLocation": location},
            roleArn=role,
            importMode=mode,  # type: ignore[arg-type]
        )["datasetImportJobArn"]
        ctx.progress.say(f"{dataset_type}: started {mode} import job {name}")
        pending.append((dataset_type, location, arn, True, uploaded))
    results = []
    for dataset_type, location, arn, started, uploaded in pending:
        wait_for(
            ctx,
            f"{dataset_type} import job {arn.rsplit('/', 1)[-1]}",
            lambda arn=arn: ctx.personalize.describe_dataset_import_job(datasetImportJobArn=arn)[  # type: ignore[misc]
                "datasetImportJob"
            ],
        )
        results.append(
            ImportResult(dataset_type, location, arn, started, uploaded, rows.get(dataset_type, 0))
        )
    for result in results:
        verb = "imported" if result.started else "already imported"
        ctx.progress.say(f"{result.dataset_type}: {result.rows:,} rows {verb} from {result.data_location}")
    if "items" in files and mode == "FULL":
        write_catalog(ctx, files["items"], files["interactions"])
    elif "items" in files:
        # An incremental file holds only some items: the catalog keeps the last full import's items.
        ctx.progress.say("API catalog: unchanged (an INCREMENTAL import; run a FULL one to rebuild it)")
    else:
        ctx.progress.say("API catalog: no items.csv, so the API can answer item ids only (metadata=false)")
    return results
