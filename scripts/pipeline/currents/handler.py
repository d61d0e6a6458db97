"""The Currents bridge as an AWS Lambda handler, invoked for new objects under the Currents prefix.

Two event shapes name the new objects:
- an Amazon EventBridge "Object Created" event (source aws.s3), one object in `detail.bucket.name` and
  `detail.object.key`: how terraform/modules/currents triggers it, through a rule on the default bus
  (https://docs.aws.amazon.com/AmazonS3/latest/userguide/ev-events.html);
- an S3 event notification, `Records[].s3.bucket.name` / `.object.key`: a manual invoke with a recorded
  event, or a bucket still wired to the function directly
  (https://docs.aws.amazon.com/AmazonS3/latest/userguide/notification-content-structure.html).
S3 event notifications URL-encode object keys (a space arrives as '+', a '+' as '%2B'), and Currents file
names contain '+', so keys are decoded with unquote_plus. The EventBridge page does not say how
`detail.object.key` is encoded (its examples have no character to encode); S3 emits the same form there,
and AWS's own Lambda Powertools decodes it the same way (S3EventBridgeNotificationObject.key:
unquote_plus), so both shapes go through one decoding.

Environment (set by terraform/modules/currents): CURRENTS_CONFIG (the config's `currents` section as
JSON), TRACKING_ID (the event tracker), and for deletions DATASET_GROUP_ARN, PERSONALIZE_ROLE_ARN,
PROJECT_NAME and FORGET_PREFIXES (comma-separated S3 prefixes of our import copies).
A failure raises: Lambda retries the asynchronous invocation twice and then hands the event to the
dead-letter queue. Run with reserved concurrency 1: the checkpoint and seen-id objects are
read-modify-write.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import unquote_plus

import boto3

from pipeline.currents.bridge import Bridge, BridgeSettings

__all__ = ["created_objects", "handler"]


def _forget(s3: Any, bucket: str) -> Any:
    group = os.environ.get("DATASET_GROUP_ARN")
    if not group:
        return None
    from pipeline.forget import ForgetTarget, forget_users

    prefixes = tuple(p for p in os.environ.get("FORGET_PREFIXES", "").split(",") if p)
    target = ForgetTarget(
        personalize=boto3.client("personalize"),
        s3=s3,
        bucket=bucket,
        dataset_group_arn=group,
        role_arn=os.environ["PERSONALIZE_ROLE_ARN"],
        name=os.environ.get("PROJECT_NAME", "braze-recs"),
        prefixes=prefixes,
        # The first forget prefix is the import prefix, which the Personalize role can read.
        work_prefix=f"{prefixes[0] if prefixes else ''}forget/",
        poll=20.0,
        timeout=600.0,
    )

    def forget(users: Sequence[str]) -> object:
        return forget_users(target, users)

    return forget


def created_objects(event: Mapping[str, Any]) -> list[tuple[str, str]]:
    """(bucket, decoded key) of every object an EventBridge "Object Created" event or S3 notification names.

    Any other EventBridge event names none (a rule matching more than it should must not process files).
    """
    if "detail-type" in event:
        if event.get("source") != "aws.s3" or event.get("detail-type") != "Object Created":
            return []
        detail = event["detail"]
        return [(str(detail["bucket"]["name"]), unquote_plus(str(detail["object"]["key"])))]
    return [
        (str(record["s3"]["bucket"]["name"]), unquote_plus(str(record["s3"]["object"]["key"])))
        for record in event.get("Records", [])
    ]


def handler(
    event: Mapping[str, Any], context: Any = None, *, s3: Any = None, events_client: Any = None
) -> dict[str, Any]:
    """Process every new object the event names; returns per-file outcomes."""
    s3 = s3 or boto3.client("s3")
    events_client = events_client or boto3.client("personalize-events")
    currents = json.loads(os.environ["CURRENTS_CONFIG"])
    outcomes = []
    bridges: dict[str, Bridge] = {}
    for bucket, key in created_objects(event):
        if bucket not in bridges:
            settings = BridgeSettings.from_config(
                currents, bucket=bucket, tracking_id=os.environ["TRACKING_ID"]
            )
            bridges[bucket] = Bridge(settings, s3, events_client, forget=_forget(s3, bucket))
        if not key.startswith(bridges[bucket].settings.prefix):
            continue
        result = bridges[bucket].process(key)
        outcomes.append({"key": key, "status": result.status, "sent": result.sent, "reason": result.reason})
    return {"files": outcomes}
