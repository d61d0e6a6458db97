from __future__ import annotations

import json
from typing import Any

from werkzeug.test import Client

from local_stack.dispatcher import Dispatcher, credential_scope
from local_stack.process import HEALTH_PATH

SIGNED = (
    "AWS4-HMAC-SHA256 Credential=AKID/20260101/{region}/{service}/aws4_request, "
    "SignedHeaders=host;x-amz-date, Signature=abc"
)


def _app(name: str) -> Any:
    def app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [name.encode()]

    return app


def _client() -> Client:
    return Client(Dispatcher(_app("moto"), _app("personalize")))


def test_credential_scope_reads_region_and_service_from_sigv4_header() -> None:
    header = SIGNED.format(region="eu-west-1", service="personalize")
    assert credential_scope(header) == ("eu-west-1", "personalize")


def test_credential_scope_is_none_without_sigv4() -> None:
    assert credential_scope("Bearer xyz") is None
    assert credential_scope("") is None


def test_personalize_signed_requests_go_to_the_emulator() -> None:
    header = SIGNED.format(region="us-east-1", service="personalize")
    resp = _client().post("/recommendations", headers={"Authorization": header})
    assert resp.get_data() == b"personalize"


def test_requests_signed_for_s3_go_to_moto_even_on_personalize_paths() -> None:
    header = SIGNED.format(region="us-east-1", service="s3")
    resp = _client().post("/recommendations", headers={"Authorization": header})
    assert resp.get_data() == b"moto"


def test_unsigned_json_target_for_personalize_goes_to_the_emulator() -> None:
    resp = _client().post("/", headers={"X-Amz-Target": "AmazonPersonalize.ListSchemas"})
    assert resp.get_data() == b"personalize"


def test_health_route_answers_json_without_touching_backends() -> None:
    resp = _client().get(HEALTH_PATH)
    assert resp.status_code == 200
    doc = json.loads(resp.get_data())
    assert doc["status"] == "running"
    assert {"s3", "personalize-runtime", "cloudformation"} <= set(doc["services"])


def test_conditional_deny_statements_no_longer_deny_plain_reads() -> None:
    from moto.iam.access_control import IAMPolicy, PermissionResult

    from local_stack.moto_patches import apply_moto_patches, revert_moto_patches

    policy = json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Deny",
                    "Principal": "*",
                    "Action": "s3:*",
                    "Resource": "arn:aws:s3:::b/*",
                    "Condition": {"Bool": {"aws:SecureTransport": "false"}},
                },
                {
                    "Effect": "Deny",
                    "Principal": "*",
                    "Action": "s3:DeleteObject",
                    "Resource": "arn:aws:s3:::b/*",
                },
            ],
        }
    )
    get, delete = "s3:GetObject", "s3:DeleteObject"
    # Unpatched moto takes the unverifiable SecureTransport condition as met and denies the read.
    assert IAMPolicy(policy).is_action_permitted(get, "arn:aws:s3:::b/k") == PermissionResult.DENIED
    apply_moto_patches()
    try:
        assert IAMPolicy(policy).is_action_permitted(get, "arn:aws:s3:::b/k") != PermissionResult.DENIED
        assert IAMPolicy(policy).is_action_permitted(delete, "arn:aws:s3:::b/k") == PermissionResult.DENIED
    finally:
        revert_moto_patches()


def test_a_bucket_notification_configuration_reads_back_its_eventbridge_setting() -> None:
    import boto3
    from moto import mock_aws

    from local_stack.moto_patches import apply_moto_patches, revert_moto_patches

    queue: Any = {
        "Id": "new-files",
        "QueueArn": "arn:aws:sqs:eu-west-1:123456789012:new-files",
        "Events": ["s3:ObjectCreated:*"],
        "Filter": {"Key": {"FilterRules": [{"Name": "prefix", "Value": "currents/"}]}},
    }
    with mock_aws():
        s3 = boto3.client("s3", region_name="eu-west-1")
        s3.create_bucket(
            Bucket="events-bucket", CreateBucketConfiguration={"LocationConstraint": "eu-west-1"}
        )

        def read() -> dict[str, Any]:
            got = s3.get_bucket_notification_configuration(Bucket="events-bucket")
            return {k: v for k, v in got.items() if k != "ResponseMetadata"}

        s3.put_bucket_notification_configuration(
            Bucket="events-bucket", NotificationConfiguration={"EventBridgeConfiguration": {}}
        )
        # Unpatched moto keeps the setting but does not return it: Terraform would plan it again forever.
        assert read() == {}
        apply_moto_patches()
        try:
            assert read() == {"EventBridgeConfiguration": {}}
            s3.put_bucket_notification_configuration(
                Bucket="events-bucket",
                NotificationConfiguration={"EventBridgeConfiguration": {}, "QueueConfigurations": [queue]},
            )
            assert read() == {"EventBridgeConfiguration": {}, "QueueConfigurations": [queue]}
            s3.put_bucket_notification_configuration(Bucket="events-bucket", NotificationConfiguration={})
            assert read() == {}
        finally:
            revert_moto_patches()


def test_a_bucket_replication_configuration_reads_back_as_put() -> None:
    import boto3
    from moto import mock_aws

    from local_stack.moto_patches import apply_moto_patches, revert_moto_patches

    rule: Any = {
        "ID": "state-to-peer",
        "Priority": 1,
        "Status": "Enabled",
        "Filter": {"Prefix": ""},
        "DeleteMarkerReplication": {"Status": "Enabled"},
        "SourceSelectionCriteria": {
            "ReplicaModifications": {"Status": "Enabled"},
            "SseKmsEncryptedObjects": {"Status": "Enabled"},
        },
        "Destination": {
            "Bucket": "arn:aws:s3:::state-peer",
            "StorageClass": "STANDARD",
            "EncryptionConfiguration": {"ReplicaKmsKeyID": "arn:aws:kms:eu-central-1:123456789012:key/k"},
        },
    }
    with mock_aws():
        s3 = boto3.client("s3", region_name="eu-west-1")
        s3.create_bucket(Bucket="state", CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
        s3.put_bucket_versioning(Bucket="state", VersioningConfiguration={"Status": "Enabled"})
        role = "arn:aws:iam::123456789012:role/replicate"
        s3.put_bucket_replication(Bucket="state", ReplicationConfiguration={"Role": role, "Rules": [rule]})

        def read() -> Any:
            return s3.get_bucket_replication(Bucket="state")["ReplicationConfiguration"]["Rules"][0]

        # Unpatched moto drops what two-way replication needs: Terraform would plan it again forever.
        assert read()["DeleteMarkerReplication"] == {"Status": "Disabled"}
        assert "SourceSelectionCriteria" not in read()
        apply_moto_patches()
        try:
            assert read() == rule
        finally:
            revert_moto_patches()
        assert "SourceSelectionCriteria" not in read()
