"""The Braze client and braze-sync over real HTTP on loopback against the emulator; state in moto's S3."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws
from werkzeug.serving import make_server

from local_stack.braze.app import BrazeApp
from local_stack.braze.limits import RateLimit
from local_stack.braze.workspace import Window, Workspace
from pipeline.braze_sync.client import BrazeClient, BrazeRequestError
from pipeline.braze_sync.sync import SyncState, read_batch_output, sync_users

KEY = "k-1"


@pytest.fixture
def braze() -> Iterator[tuple[str, Workspace]]:
    ws = Workspace(frozenset({KEY}))
    server = make_server("127.0.0.1", 0, BrazeApp(ws), threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}", ws
    server.shutdown()


@pytest.fixture
def s3() -> Iterator[Any]:
    with mock_aws():
        client = boto3.client("s3", region_name="us-east-1")
        client.create_bucket(Bucket="sync-state")
        yield client


def _values(n: int, tag: str = "a") -> dict[str, list[dict[str, Any]]]:
    return {f"u{k:05d}": [{"id": f"{tag}{k % 7}"}] for k in range(n)}


def _tracked_ids(ws: Workspace) -> list[str]:
    return [
        i
        for r in ws.requests
        if r["endpoint"] == "users.track" and r["status"] == 201
        for i in r["external_ids"]
    ]


def test_a_sync_sends_75_per_request_and_a_second_sync_with_nothing_changed_sends_nothing(
    braze: tuple[str, Workspace], s3: Any
) -> None:
    url, ws = braze
    client = BrazeClient(url, KEY, sleep=lambda _: None)
    report = sync_users(
        client, SyncState(s3, "sync-state", "st/").load(), _values(400), attribute="recs_w", job="j"
    )
    assert (report.sent, report.requests, report.max_objects_per_request) == (400, 6, 75)
    assert ws.profiles["u00010"]["recs_w"] == [{"id": "a3"}]
    again = sync_users(
        client, SyncState(s3, "sync-state", "st/").load(), _values(400), attribute="recs_w", job="j"
    )
    assert (again.changed, again.sent, again.requests) == (0, 0, 0)
    changed = _values(400) | {"u00001": [{"id": "new"}]}
    third = sync_users(
        client, SyncState(s3, "sync-state", "st/").load(), changed, attribute="recs_w", job="j"
    )
    assert third.sent == 1


def test_429s_are_waited_out_with_the_rate_limit_headers(braze: tuple[str, Workspace], s3: Any) -> None:
    url, ws = braze
    waits: list[float] = []
    ws.faults["users.track"] = [429, 429]
    client = BrazeClient(url, KEY, sleep=waits.append)
    report = sync_users(
        client, SyncState(s3, "sync-state", "st/").load(), _values(100), attribute="r", job="j"
    )
    assert report.rate_limited == 2 and report.sent == 100
    assert len(waits) >= 2 and all(0 <= w <= 3.01 for w in waits)  # until X-RateLimit-Reset (3 s windows)
    assert sorted(_tracked_ids(ws)) == sorted(_values(100))


def test_the_real_rate_limit_is_respected_by_pacing(braze: tuple[str, Workspace], s3: Any) -> None:
    url, ws = braze
    ws.windows["users.track"] = Window(RateLimit(2, 3.0))
    slept: list[float] = []
    client = BrazeClient(url, KEY, requests_per_window=2, window_seconds=3.0, sleep=slept.append)
    client.post = _fast_forward(client, ws)  # type: ignore[method-assign]
    report = sync_users(
        client, SyncState(s3, "sync-state", "st/").load(), _values(300), attribute="r", job="j"
    )
    assert report.sent == 300 and report.rate_limited == 0


def _fast_forward(client: BrazeClient, ws: Workspace) -> Any:
    """Move both clocks when the client sleeps, so pacing is checked without waiting."""
    now = [10_000.0]
    ws.clock = lambda: now[0]
    client.clock = lambda: now[0]

    def sleep(seconds: float) -> None:
        now[0] += seconds

    client.sleep = sleep
    return BrazeClient.post.__get__(client)


def test_an_interrupted_sync_resumes_without_sending_anyone_twice(
    braze: tuple[str, Workspace], s3: Any
) -> None:
    url, ws = braze
    values = _values(500)
    failing = BrazeClient(url, KEY, sleep=lambda _: None, max_attempts=2)
    original = failing.post
    calls = {"n": 0}

    def flaky(path: str, body: dict[str, Any]) -> dict[str, Any]:
        calls["n"] += 1
        if calls["n"] == 4:
            ws.faults["users.track"] = [500, 500]
        return original(path, body)

    failing.post = flaky  # type: ignore[method-assign]
    with pytest.raises(BrazeRequestError):
        sync_users(failing, SyncState(s3, "sync-state", "st/").load(), values, attribute="r", job="j")
    assert len(_tracked_ids(ws)) == 3 * 75
    resumed = sync_users(
        BrazeClient(url, KEY, sleep=lambda _: None),
        SyncState(s3, "sync-state", "st/").load(),
        values,
        attribute="r",
        job="j",
    )
    assert resumed.sent == 500 - 3 * 75
    ids = _tracked_ids(ws)
    assert len(ids) == len(set(ids)) == 500


def test_a_braze_endpoint_that_hangs_fails_after_the_timeout_and_retries() -> None:
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)  # accepts connections, never answers
    try:
        client = BrazeClient(
            f"http://127.0.0.1:{listener.getsockname()[1]}",
            KEY,
            timeout=0.2,
            max_attempts=2,
            sleep=lambda _: None,
        )
        with pytest.raises(BrazeRequestError, match="no answer"):
            client.track([{"external_id": "u1", "a": 1}])
        assert client.stats.requests == 2
    finally:
        listener.close()


def test_batch_output_lines_become_user_item_lists_and_errors_are_skipped() -> None:
    lines = [
        '{"input": {"userId": "u1"}, "output": {"recommendedItems": ["i1", "i2"]}, "error": null}',
        '{"input": {"userId": "u2"}, "output": null, "error": "user not found"}',
        "",
    ]
    assert read_batch_output(lines) == {"u1": ["i1", "i2"]}
