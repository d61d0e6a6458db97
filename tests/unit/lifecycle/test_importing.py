from __future__ import annotations

import shutil
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from botocore.stub import ANY

from pipeline.lifecycle.errors import JobFailedError, ValidationFailedError
from pipeline.lifecycle.importing import content_key, run_import, sha256_of

INTERACTIONS_ARN = "arn:aws:personalize:us-east-1:123456789012:dataset/braze-recs/INTERACTIONS"
JOB_ARN = "arn:aws:personalize:us-east-1:123456789012:dataset-import-job/braze-recs-interactions-1"


@pytest.fixture
def interactions_only(sample_dir: Path, tmp_path: Path) -> Path:
    shutil.copy(sample_dir / "interactions.csv", tmp_path / "interactions.csv")
    return tmp_path


def _key(data: Path) -> str:
    return content_key("imports/", "interactions", sha256_of(data / "interactions.csv"))


def _job(status: str, location: str, **extra: object) -> dict:
    return {
        "datasetImportJob": {
            "jobName": "braze-recs-interactions-1",
            "datasetImportJobArn": JOB_ARN,
            "datasetArn": INTERACTIONS_ARN,
            "dataSource": {"dataLocation": location},
            "status": status,
            "importMode": "FULL",
            **extra,
        }
    }


def test_the_upload_key_is_named_after_the_content(tmp_path: Path) -> None:
    a, b = tmp_path / "a.csv", tmp_path / "b.csv"
    a.write_text("USER_ID\n1\n")
    b.write_text("USER_ID\n2\n")
    assert content_key("imports/", "users", sha256_of(a)) != content_key("imports/", "users", sha256_of(b))
    assert sha256_of(a) in content_key("imports/", "users", sha256_of(a))


def test_a_failed_import_job_reports_aws_failure_reason_with_a_hint(
    stubbed: Any, interactions_only: Path
) -> None:
    key = _key(interactions_only)
    location = f"s3://braze-recs-data/{key}"
    stubbed.s3.add_response("head_object", {}, {"Bucket": "braze-recs-data", "Key": key})
    stubbed.personalize.add_response(
        "list_dataset_import_jobs", {"datasetImportJobs": []}, {"datasetArn": INTERACTIONS_ARN}
    )
    stubbed.personalize.add_response(
        "create_dataset_import_job",
        {"datasetImportJobArn": JOB_ARN},
        {
            "jobName": ANY,
            "datasetArn": INTERACTIONS_ARN,
            "dataSource": {"dataLocation": location},
            "roleArn": stubbed.ctx.outputs["personalize_role_arn"],
            "importMode": "FULL",
        },
    )
    stubbed.personalize.add_response("describe_dataset_import_job", _job("CREATE IN_PROGRESS", location))
    reason = f"Access Denied to {location}"
    stubbed.personalize.add_response(
        "describe_dataset_import_job", _job("CREATE FAILED", location, failureReason=reason)
    )

    with pytest.raises(JobFailedError) as err:
        run_import(stubbed.ctx, interactions_only)

    assert reason in err.value.why
    assert "personalize_role_arn" in err.value.hint
    assert "waiting for interactions import job" in stubbed.out.getvalue()
    stubbed.personalize.assert_no_pending_responses()


def test_rejects_interactions_with_millisecond_timestamps_and_uploads_nothing(
    stubbed: Any, sample_dir: Path, tmp_path: Path
) -> None:
    lines = (sample_dir / "interactions.csv").read_text().splitlines()
    header, rows = lines[0], lines[1:]
    converted = []
    for row in rows:
        user, item, ts, *rest = row.split(",")
        converted.append(",".join([user, item, str(int(ts) * 1000), *rest]))
    (tmp_path / "interactions.csv").write_text("\n".join([header, *converted]) + "\n")

    # No stubbed responses: any S3 or Personalize call would fail the test with a stubber error.
    with pytest.raises(ValidationFailedError) as err:
        run_import(stubbed.ctx, tmp_path)

    assert "nothing was uploaded" in err.value.why


def test_re_importing_the_same_file_starts_no_new_job(stubbed: Any, interactions_only: Path) -> None:
    key = _key(interactions_only)
    location = f"s3://braze-recs-data/{key}"
    stubbed.s3.add_response("head_object", {}, {"Bucket": "braze-recs-data", "Key": key})
    stubbed.personalize.add_response(
        "list_dataset_import_jobs",
        {
            "datasetImportJobs": [
                {
                    "datasetImportJobArn": JOB_ARN,
                    "jobName": "braze-recs-interactions-1",
                    "status": "ACTIVE",
                    "creationDateTime": datetime(2026, 1, 1, tzinfo=UTC),
                }
            ]
        },
        {"datasetArn": INTERACTIONS_ARN},
    )
    stubbed.personalize.add_response("describe_dataset_import_job", _job("ACTIVE", location))
    stubbed.personalize.add_response("describe_dataset_import_job", _job("ACTIVE", location))

    results = run_import(stubbed.ctx, interactions_only)

    assert [(r.dataset_type, r.started, r.uploaded, r.job_arn) for r in results] == [
        ("interactions", False, False, JOB_ARN)
    ]
    assert results[0].rows == len((interactions_only / "interactions.csv").read_text().splitlines()) - 1
    stubbed.personalize.assert_no_pending_responses()


def test_a_full_import_writes_the_api_catalog_in_popularity_order(sample_dir: Path, tmp_path: Path) -> None:
    import csv
    import io
    from collections import Counter
    from types import SimpleNamespace

    from chalicelib.catalog_artifact import open_catalog
    from pipeline.config import load_config
    from pipeline.lifecycle.context import Progress
    from pipeline.lifecycle.importing import write_catalog

    uploaded: dict[str, Any] = {}

    class CapturingS3:
        def upload_file(self, path: str, bucket: str, key: str, **kwargs: Any) -> None:
            copy = tmp_path / "uploaded.bin"
            copy.write_bytes(Path(path).read_bytes())
            uploaded.update(bucket=bucket, key=key, path=copy, extra=kwargs["ExtraArgs"])

    ctx: Any = SimpleNamespace(
        config=load_config(),
        outputs={"kms_key_arn": "arn:aws:kms:us-east-1:123456789012:key/abc"},
        s3=CapturingS3(),
        bucket="braze-recs-data",
        progress=Progress(io.StringIO()),
    )
    uri = write_catalog(ctx, sample_dir / "items.csv", sample_dir / "interactions.csv")
    assert uri == "s3://braze-recs-data/artifacts/catalog/catalog.bin"
    assert uploaded["extra"]["ServerSideEncryption"] == "aws:kms"
    with (sample_dir / "interactions.csv").open(newline="") as handle:
        counts = Counter(row["ITEM_ID"] for row in csv.DictReader(handle))
    with (sample_dir / "items.csv").open(newline="") as handle:
        items = {row["ITEM_ID"]: row for row in csv.DictReader(handle)}
    catalog = open_catalog(uploaded["path"])
    assert len(catalog) == len(items)
    order = [row["ITEM_ID"] for _, row in catalog.in_popularity_order()]
    assert [counts[i] for i in order] == sorted((counts[i] for i in items), reverse=True)
    some = next(iter(items))
    assert catalog.get(some)["NAME"] == items[some]["NAME"]  # type: ignore[index]
    catalog.close()
