"""GetBucketLifecycleConfiguration from moto has the shape hashicorp/aws waits for.

After PutBucketLifecycleConfiguration the provider (>= 5.91) polls GetBucketLifecycleConfiguration until
the returned rules deep-equal the rules it sent AND the `x-amz-transition-default-minimum-object-size`
header equals the planned value (`all_storage_classes_128K`, AWS's documented default for
general-purpose buckets); any difference makes `terraform apply` time out after 3 minutes. These tests
pin that moto still answers in that documented shape, using the same rules as
terraform/modules/storage/main.tf. (The ~55 s the resource takes on the local stack is the provider's
own fixed wait — 10 s delay + 10 matching polls 5 s apart — not a mismatch.)
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws

BUCKET = "lifecycle-shape-test"

# What the provider sends for our storage module's rules (Filter{Prefix:""} for an "everything" filter).
RULES: list[dict[str, Any]] = [
    {
        "ID": "expire-batch-output",
        "Status": "Enabled",
        "Filter": {"Prefix": "batch/output/"},
        "Expiration": {"Days": 30},
        "NoncurrentVersionExpiration": {"NoncurrentDays": 1},
    },
    {
        "ID": "expire-old-imports",
        "Status": "Enabled",
        "Filter": {"Prefix": "imports/"},
        "NoncurrentVersionExpiration": {"NoncurrentDays": 90},
    },
    {
        "ID": "abort-incomplete-uploads",
        "Status": "Enabled",
        "Filter": {"Prefix": ""},
        "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 1},
    },
]


@pytest.fixture
def s3() -> Iterator[Any]:
    with mock_aws():
        client: Any = boto3.client(
            "s3", region_name="us-east-1", aws_access_key_id="test", aws_secret_access_key="test"
        )
        client.create_bucket(Bucket=BUCKET)
        client.put_bucket_lifecycle_configuration(Bucket=BUCKET, LifecycleConfiguration={"Rules": RULES})
        yield client


def test_lifecycle_read_carries_the_transition_default_minimum_object_size_header(s3: Any) -> None:
    response = s3.get_bucket_lifecycle_configuration(Bucket=BUCKET)
    headers = response["ResponseMetadata"]["HTTPHeaders"]
    assert headers["x-amz-transition-default-minimum-object-size"] == "all_storage_classes_128K"
    assert response["TransitionDefaultMinimumObjectSize"] == "all_storage_classes_128K"


def test_lifecycle_rules_read_back_exactly_as_put(s3: Any) -> None:
    rules = s3.get_bucket_lifecycle_configuration(Bucket=BUCKET)["Rules"]
    by_id = {rule["ID"]: rule for rule in rules}
    assert len(rules) == len(RULES)
    for sent in RULES:
        assert by_id[sent["ID"]] == sent
