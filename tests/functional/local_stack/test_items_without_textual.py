"""An Items schema with no textual field (the most common kind) passes `make validate`, CreateDataset and an
import. The guide lists a textual field as optional: "1 metadata field (categorical or textual string field
or numerical field)" (https://docs.aws.amazon.com/personalize/latest/dg/custom-datasets-and-schemas.html)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from pipeline.paths import config_path

pytestmark = pytest.mark.functional

ACCOUNT = "123456789012"
ITEMS_SCHEMA: dict[str, Any] = {
    "type": "record",
    "name": "Items",
    "namespace": "com.amazonaws.personalize.schema",
    "fields": [
        {"name": "ITEM_ID", "type": "string"},
        {"name": "CATEGORY_L1", "type": "string", "categorical": True},
        {"name": "PRICE", "type": "float"},
    ],
    "version": "1.0",
}


def _items_csv(n_items: int) -> str:
    rows = ["ITEM_ID,CATEGORY_L1,PRICE"] + [f"i{k},cat{k % 4},{10 + k % 7}.5" for k in range(n_items)]
    return "\n".join(rows) + "\n"


def test_make_validate_accepts_items_without_a_textual_field(tmp_path: Path, h: Any) -> None:
    data = h.make_dataset(n_items=1000)
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "interactions.csv").write_text(data["interactions"])
    (tmp_path / "data" / "items.csv").write_text(_items_csv(1000))
    schema_path = tmp_path / "items.json"
    schema_path.write_text(json.dumps(ITEMS_SCHEMA))
    config = yaml.safe_load(config_path().read_text())
    config["datasets"]["items"] = str(schema_path)  # absolute: wins over the repo root it is joined to
    (tmp_path / "project.yaml").write_text(yaml.safe_dump(config))
    env = {**os.environ, "BP_CONFIG": str(tmp_path / "project.yaml")}
    done = subprocess.run(
        [sys.executable, "-m", "pipeline.validate", str(tmp_path / "data")],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_create_dataset_and_import_accept_items_without_a_textual_field(
    clients: dict[str, Any], h: Any
) -> None:
    p, s3 = clients["personalize"], clients["s3"]
    bucket = h.unique("no-textual")
    s3.create_bucket(Bucket=bucket)
    s3.put_object(Bucket=bucket, Key="items.csv", Body=_items_csv(1000).encode())
    group = p.create_dataset_group(name=h.unique("dg"))["datasetGroupArn"]
    h.wait_for(lambda: p.describe_dataset_group(datasetGroupArn=group)["datasetGroup"])
    schema = p.create_schema(name=h.unique("items"), schema=json.dumps(ITEMS_SCHEMA))["schemaArn"]
    dataset = p.create_dataset(
        name=h.unique("items"), schemaArn=schema, datasetGroupArn=group, datasetType="Items"
    )["datasetArn"]
    assert h.wait_for(lambda: p.describe_dataset(datasetArn=dataset)["dataset"])["status"] == "ACTIVE"
    job = p.create_dataset_import_job(
        jobName=h.unique("import-items"),
        datasetArn=dataset,
        dataSource={"dataLocation": f"s3://{bucket}/items.csv"},
        roleArn=f"arn:aws:iam::{ACCOUNT}:role/personalize",
    )["datasetImportJobArn"]
    done = h.wait_for(lambda: p.describe_dataset_import_job(datasetImportJobArn=job)["datasetImportJob"])
    assert done["status"] == "ACTIVE", done.get("failureReason")
