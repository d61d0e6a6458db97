"""The Currents bridge over an in-process S3 (moto) and an in-memory event tracker."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws

from pipeline.config import load_config
from pipeline.currents.bridge import Bridge, BridgeSettings
from pipeline.currents.layout import build_key, parse_key
from pipeline.currents.sample import braze_internal_id, sample_files, write_avro
from pipeline.lifecycle.context import Progress

BUCKET = "data-bucket"


class FakeTracker:
    """PutEvents recorded in memory; `throttle` calls fail with ThrottlingException first."""

    def __init__(self, throttle: int = 0) -> None:
        self.calls: list[dict[str, Any]] = []
        self.throttle = throttle

    def put_events(self, **kwargs: Any) -> dict[str, Any]:
        if self.throttle:
            self.throttle -= 1
            raise ClientError({"Error": {"Code": "ThrottlingException", "Message": "slow down"}}, "PutEvents")
        assert 1 <= len(kwargs["eventList"]) <= 10
        self.calls.append(kwargs)
        return {}

    @property
    def events(self) -> list[dict[str, Any]]:
        return [e | {"userId": c["userId"]} for c in self.calls for e in c["eventList"]]


@pytest.fixture
def s3() -> Iterator[Any]:
    with mock_aws():
        client = boto3.client("s3", region_name="us-east-1")
        client.create_bucket(Bucket=BUCKET)
        yield client


def settings() -> BridgeSettings:
    return BridgeSettings.from_config(load_config()["currents"], bucket=BUCKET, tracking_id="tid")


def bridge(s3: Any, tracker: FakeTracker, **kwargs: Any) -> Bridge:
    import io

    return Bridge(settings(), s3, tracker, progress=Progress(io.StringIO()), sleep=lambda _: None, **kwargs)


def purchase(event_id: str, user: str, item: str, time: int = 1_751_500_000) -> dict[str, Any]:
    return {
        "id": event_id,
        "user_id": braze_internal_id(user),
        "external_user_id": user,
        "time": time,
        "product_id": item,
        "price": 9.5,
        "currency": "EUR",
        "properties": "{}",
    }


def put(s3: Any, event_type: str, records: list[dict[str, Any]], offset: int = 0) -> str:
    key = build_key("currents/", event_type, "2025-07-03-00", integration_id="abc", offset=offset)
    s3.put_object(Bucket=BUCKET, Key=key, Body=write_avro(event_type, records))
    return key


def test_keys_in_brazes_documented_layout_parse_back() -> None:
    key = build_key("currents/", "users.behaviors.Purchase", "2025-07-03-09", integration_id="i1", offset=7)
    assert key.startswith(
        "currents/dataexport.prod-01.S3.integration.i1/event_type=users.behaviors.Purchase/"
    )
    parsed = parse_key(key)
    assert (parsed.event_type, parsed.date_hour, parsed.integration_id) == (
        "users.behaviors.Purchase",
        "2025-07-03-09",
        "i1",
    )
    assert parsed.stem.endswith("+0+7")


def test_a_purchase_becomes_one_put_event_a_bulk_row_and_a_checkpoint(s3: Any) -> None:
    tracker = FakeTracker()
    put(s3, "users.behaviors.Purchase", [purchase("e1", "u1", "i9")])
    result = bridge(s3, tracker).sync()
    assert result.count("sent") == 1
    [event] = tracker.events
    assert (event["userId"], event["itemId"], event["eventType"], event["eventId"]) == (
        "u1",
        "i9",
        "Purchase",
        "e1",
    )
    assert event["eventValue"] == 9.5
    bulk = [o["Key"] for o in s3.list_objects_v2(Bucket=BUCKET, Prefix="currents-bulk/")["Contents"]]
    body = s3.get_object(Bucket=BUCKET, Key=bulk[0])["Body"].read().decode()
    assert body.splitlines() == [
        "USER_ID,ITEM_ID,TIMESTAMP,EVENT_TYPE,EVENT_VALUE",
        "u1,i9,1751500000,Purchase,9.5",
    ]
    again = bridge(s3, tracker).sync()
    assert again.count("sent") == 0 and len(again.by_status("skipped")) == 1
    assert len(tracker.calls) == 1


def test_the_same_events_delivered_in_a_second_file_are_sent_once(s3: Any) -> None:
    tracker = FakeTracker()
    records = [purchase("e1", "u1", "i9"), purchase("e2", "u2", "i3")]
    put(s3, "users.behaviors.Purchase", records, offset=0)
    put(s3, "users.behaviors.Purchase", [*records, records[0]], offset=1)
    result = bridge(s3, tracker).sync()
    assert sorted(e["eventId"] for e in tracker.events) == ["e1", "e2"]
    assert result.count("duplicates") == 3


def test_a_corrupt_file_is_quarantined_with_its_reason_and_the_others_are_processed(s3: Any) -> None:
    tracker = FakeTracker()
    good = put(s3, "users.behaviors.Purchase", [purchase("e1", "u1", "i9")], offset=0)
    bad = build_key("currents/", "users.behaviors.Purchase", "2025-07-03-00", integration_id="abc", offset=1)
    s3.put_object(Bucket=BUCKET, Key=bad, Body=b"Obj\x01 this is not avro")
    result = bridge(s3, tracker).sync()
    assert [f.key for f in result.by_status("processed")] == [good]
    assert [f.key for f in result.by_status("quarantined")] == [bad]
    moved = bad.replace("currents/", "currents-quarantine/", 1)
    reason = json.loads(s3.get_object(Bucket=BUCKET, Key=f"{moved}.reason.json")["Body"].read())
    assert reason["source_key"] == bad and "Avro" in reason["reason"]
    assert "Contents" not in s3.list_objects_v2(Bucket=BUCKET, Prefix=bad)
    assert len(tracker.events) == 1


def test_records_without_the_required_id_are_quarantined_not_half_sent(s3: Any) -> None:
    tracker = FakeTracker()
    put(s3, "users.behaviors.Purchase", [purchase("e1", "u1", "i9"), purchase("", "u2", "i9")])
    result = bridge(s3, tracker).sync()
    assert len(result.by_status("quarantined")) == 1 and "record 1" in result.files[0].reason
    assert tracker.calls == []


def test_throttled_put_events_are_retried(s3: Any) -> None:
    tracker = FakeTracker(throttle=2)
    put(s3, "users.behaviors.Purchase", [purchase("e1", "u1", "i9")])
    bridge(s3, tracker).sync()
    assert len(tracker.events) == 1


def test_many_events_of_one_user_go_in_calls_of_at_most_ten(s3: Any) -> None:
    tracker = FakeTracker()
    put(
        s3,
        "users.behaviors.Purchase",
        [purchase(f"e{n}", "u1", f"i{n}", 1_751_500_000 + n) for n in range(23)],
    )
    bridge(s3, tracker).sync()
    assert [len(c["eventList"]) for c in tracker.calls] == [10, 10, 3]


def test_custom_events_map_their_name_and_json_properties(s3: Any) -> None:
    tracker = FakeTracker()
    base = {"user_id": "b1", "external_user_id": "u1", "time": 1_751_500_000}
    put(
        s3,
        "users.behaviors.CustomEvent",
        [
            base | {"id": "c1", "name": "View", "properties": json.dumps({"product_id": "i4"})},
            base | {"id": "c2", "name": "Login", "properties": "{}"},
            base | {"id": "c3", "name": "AddToCart", "properties": "not json"},
        ],
    )
    result = bridge(s3, tracker).sync()
    assert [(e["eventType"], e["itemId"]) for e in tracker.events] == [("View", "i4")]
    assert result.count("unmapped") == 1  # Login is not a configured name; c3 has no item to send


def test_clicks_on_recommendations_are_kept_for_attribution(s3: Any) -> None:
    tracker = FakeTracker()
    url = "https://shop.example.com/p/i7?item_id=i7&recommendation_id=RID-42"
    click = {
        "id": "k1",
        "user_id": "b1",
        "external_user_id": "u1",
        "time": 1_751_500_000,
        "email_address": "u1@example.com",
        "url": url,
    }
    put(s3, "users.messages.email.Click", [click])
    bridge(s3, tracker).sync()
    [event] = tracker.events
    assert (event["eventType"], event["itemId"], event["recommendationId"]) == ("Click", "i7", "RID-42")
    [key] = [
        o["Key"] for o in s3.list_objects_v2(Bucket=BUCKET, Prefix="currents-state/attribution/")["Contents"]
    ]
    row = json.loads(s3.get_object(Bucket=BUCKET, Key=key)["Body"].read())
    assert (row["recommendation_id"], row["user_id"], row["event_id"]) == ("RID-42", "u1", "k1")


def test_a_user_delete_request_resolves_the_external_id_and_starts_the_forget_flow(s3: Any) -> None:
    tracker = FakeTracker()
    forgotten: list[list[str]] = []
    put(s3, "users.behaviors.Purchase", [purchase("e1", "u1", "i9"), purchase("e2", "u2", "i9")])
    bridge(s3, tracker).sync()  # an earlier run learnt the id pairs
    deletion = [
        {"id": "d1", "user_id": braze_internal_id("u1"), "time": 1_751_600_000},
        {"id": "d2", "user_id": "unknown-internal-id", "time": 1_751_600_000},
    ]
    put(s3, "users.UserDeleteRequest", deletion, offset=5)
    result = bridge(s3, tracker, forget=lambda users: forgotten.append(list(users))).sync()
    assert forgotten == [["u1"]]
    [done] = result.by_status("processed")
    assert done.unresolved_deletions == ["unknown-internal-id"]
    assert bridge(s3, tracker).external_id(braze_internal_id("u1")) is None  # the pair is gone too


def test_sample_files_follow_the_layout_and_cut_at_the_limit() -> None:
    records = [
        ("users.behaviors.Purchase", purchase(f"e{n}", "u1", "i1", 1_751_500_000 + n)) for n in range(25)
    ]
    files = sample_files(records, "currents/", limit=10)
    assert len(files) == 3
    assert all(parse_key(k).event_type == "users.behaviors.Purchase" for k in files)


@pytest.fixture
def lambda_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """The function's environment as terraform/modules/currents sets it (no deletions configured)."""
    monkeypatch.setenv("CURRENTS_CONFIG", json.dumps(load_config()["currents"]))
    monkeypatch.setenv("TRACKING_ID", "tid")
    monkeypatch.delenv("DATASET_GROUP_ARN", raising=False)


def test_the_lambda_handler_decodes_s3_event_keys_and_processes_them(s3: Any, lambda_env: None) -> None:
    from urllib.parse import quote_plus

    from pipeline.currents.handler import handler

    key = put(s3, "users.behaviors.Purchase", [purchase("e1", "u1", "i9")])
    assert "+" in key
    event = {"Records": [{"s3": {"bucket": {"name": BUCKET}, "object": {"key": quote_plus(key)}}}]}
    tracker = FakeTracker()
    out = handler(event, None, s3=s3, events_client=tracker)
    assert out == {"files": [{"key": key, "status": "processed", "sent": 1, "reason": ""}]}
    assert handler(event, None, s3=s3, events_client=tracker)["files"][0]["status"] == "skipped"
    assert len(tracker.events) == 1


def eventbridge_object_created(bucket: str, encoded_key: str) -> dict[str, Any]:
    """An S3 "Object Created" event as EventBridge delivers it (S3 user guide, ev-events.html)."""
    return {
        "version": "0",
        "id": "17793124-05d4-b198-2fde-7ededc63b103",
        "detail-type": "Object Created",
        "source": "aws.s3",
        "account": "111122223333",
        "time": "2025-07-03T00:10:00Z",
        "region": "us-east-1",
        "resources": [f"arn:aws:s3:::{bucket}"],
        "detail": {
            "version": "0",
            "bucket": {"name": bucket},
            "object": {"key": encoded_key, "size": 5, "etag": "b1946ac92492d2347c6235b4d2611184"},
            "request-id": "N4N7GDK58NMKJ12R",
            "requester": "111122223333",
            "reason": "PutObject",
        },
    }


def test_both_event_shapes_name_the_created_object_with_its_key_decoded() -> None:
    from urllib.parse import quote_plus

    from pipeline.currents.handler import created_objects

    key = "currents/dataexport.prod 01.S3.integration.a b/x+0+12.avro"
    records = {"Records": [{"s3": {"bucket": {"name": BUCKET}, "object": {"key": quote_plus(key)}}}]}
    assert created_objects(records) == [(BUCKET, key)]
    assert created_objects(eventbridge_object_created(BUCKET, quote_plus(key))) == [(BUCKET, key)]
    assert "%2B" in quote_plus(key) and "+" in quote_plus(key)  # '+' encoded, space as '+'


def test_eventbridge_events_other_than_object_created_name_no_object() -> None:
    from pipeline.currents.handler import created_objects

    deleted = eventbridge_object_created(BUCKET, "currents/x.avro") | {"detail-type": "Object Deleted"}
    assert created_objects(deleted) == []
    other = eventbridge_object_created(BUCKET, "currents/x.avro") | {"source": "aws.personalize"}
    assert created_objects(other) == []


def test_the_lambda_handler_processes_an_eventbridge_object_created_event(s3: Any, lambda_env: None) -> None:
    from urllib.parse import quote_plus

    from pipeline.currents.handler import handler

    event_type = "users.behaviors.Purchase"
    # A space in the integration id and Currents' '+' separators: both must survive the decoding.
    key = build_key("currents/", event_type, "2025-07-03-00", integration_id="abc def")
    assert " " in key and "+" in key
    s3.put_object(Bucket=BUCKET, Key=key, Body=write_avro(event_type, [purchase("e1", "u1", "i9")]))
    tracker = FakeTracker()
    out = handler(eventbridge_object_created(BUCKET, quote_plus(key)), None, s3=s3, events_client=tracker)
    assert out == {"files": [{"key": key, "status": "processed", "sent": 1, "reason": ""}]}
    # The same object named by an S3 notification record (a manual replay) is the same file: done once.
    record = {"Records": [{"s3": {"bucket": {"name": BUCKET}, "object": {"key": quote_plus(key)}}}]}
    assert handler(record, None, s3=s3, events_client=tracker)["files"][0]["status"] == "skipped"
    assert len(tracker.events) == 1


class SlowTracker(FakeTracker):
    """A tracker with latency, counting how many calls are in flight at once."""

    def __init__(self) -> None:
        super().__init__()
        import threading

        self.lock = threading.Lock()
        self.in_flight = 0
        self.most_in_flight = 0

    def put_events(self, **kwargs: Any) -> dict[str, Any]:
        import time

        with self.lock:
            self.in_flight += 1
            self.most_in_flight = max(self.most_in_flight, self.in_flight)
        time.sleep(0.005)
        try:
            with self.lock:
                return super().put_events(**kwargs)
        finally:
            with self.lock:
                self.in_flight -= 1


def test_put_events_for_many_users_run_in_parallel_and_each_users_events_stay_in_order(s3: Any) -> None:
    tracker = SlowTracker()
    records = [purchase(f"e{n}", f"u{n % 40}", f"i{n}", 1_751_500_000 + n) for n in range(200)]
    put(s3, "users.behaviors.Purchase", records)
    result = bridge(s3, tracker).sync()
    assert result.count("sent") == 200 and len(tracker.events) == 200
    assert tracker.most_in_flight > 1
    for call in tracker.calls:
        stamps = [e["sentAt"] for e in call["eventList"]]
        assert stamps == sorted(stamps)
