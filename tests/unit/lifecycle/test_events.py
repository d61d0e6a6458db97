from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import pytest
from botocore.stub import ANY

from pipeline.lifecycle.errors import ThrottledError, ValidationFailedError
from pipeline.lifecycle.events import Event, batches, read_events, run_events, send_events


def _events(user: str, n: int) -> list[Event]:
    return [Event(user, f"{user}-s", f"P{i:03d}", "View", 1_700_000_000 + i) for i in range(n)]


def test_groups_events_per_user_and_session_at_most_ten_per_call() -> None:
    groups = batches(_events("U1", 23) + _events("U2", 3))
    assert [(user, len(group)) for user, _, group in groups] == [("U1", 10), ("U1", 10), ("U1", 3), ("U2", 3)]
    first = groups[0][2]
    assert [e.timestamp for e in first] == sorted(e.timestamp for e in first)


def test_put_events_retries_with_growing_backoff_after_throttling_then_succeeds(stubbed: Any) -> None:
    events = _events("U1", 4)
    for _ in range(2):
        stubbed.events.add_client_error(
            "put_events", service_error_code="ThrottlingException", http_status_code=400
        )
    stubbed.events.add_response(
        "put_events",
        {},
        {"trackingId": "tracking-123", "userId": "U1", "sessionId": "U1-s", "eventList": ANY},
    )

    result = send_events(
        stubbed.ctx.events_client,
        "tracking-123",
        events,
        progress=stubbed.ctx.progress,
        sleep=stubbed.clock.sleep,
        rng=random.Random(1),
    )

    assert (result.events, result.calls, result.retries) == (4, 1, 2)
    assert len(stubbed.clock.sleeps) == 2 and stubbed.clock.sleeps[1] > stubbed.clock.sleeps[0]
    stubbed.events.assert_no_pending_responses()


def test_gives_up_with_a_throttled_error_after_the_last_attempt(stubbed: Any) -> None:
    for _ in range(3):
        stubbed.events.add_client_error(
            "put_events", service_error_code="ThrottlingException", http_status_code=400
        )
    with pytest.raises(ThrottledError) as err:
        send_events(
            stubbed.ctx.events_client, "t", _events("U1", 1), sleep=stubbed.clock.sleep, max_attempts=3
        )
    assert "3 attempts" in err.value.why
    assert len(stubbed.clock.sleeps) == 2


def test_run_events_sends_the_csv_rows_with_the_terraform_tracking_id(stubbed: Any, tmp_path: Path) -> None:
    csv_file = tmp_path / "events.csv"
    csv_file.write_text(
        "USER_ID,ITEM_ID,TIMESTAMP,EVENT_TYPE,EVENT_VALUE\nU1,P1,1700000000,View,\nU1,P2,1700000001,Purchase,9.5\n"
    )
    stubbed.events.add_response(
        "put_events", {}, {"trackingId": "tracking-123", "userId": "U1", "sessionId": ANY, "eventList": ANY}
    )
    result = run_events(stubbed.ctx, csv_file)
    assert (result.events, result.calls) == (2, 1)


def test_rejects_an_events_file_without_the_schema_columns(tmp_path: Path) -> None:
    csv_file = tmp_path / "events.csv"
    csv_file.write_text("user,item\nU1,P1\n")
    with pytest.raises(ValidationFailedError) as err:
        read_events(csv_file)
    assert "USER_ID" in err.value.why
