"""The Braze REST emulator's documented behaviour, through werkzeug's test client."""

from __future__ import annotations

import json
from typing import Any

from werkzeug.test import Client

from local_stack.braze.app import BrazeApp
from local_stack.braze.limits import RateLimit
from local_stack.braze.workspace import Window, Workspace

KEY = "k-123"
AUTH = {"Authorization": f"Bearer {KEY}"}


class Clock:
    def __init__(self) -> None:
        self.now = 1_000.0

    def __call__(self) -> float:
        return self.now


def _client(clock: Clock | None = None, track_limit: int = 3000) -> tuple[Client, Workspace]:
    ws = Workspace(frozenset({KEY}), clock=clock or Clock())
    ws.windows["users.track"] = Window(RateLimit(track_limit, 3.0))
    return Client(BrazeApp(ws)), ws


def _track(client: Client, attributes: list[dict[str, Any]], headers: dict[str, str] | None = None) -> Any:
    return client.post(
        "/users/track", json={"attributes": attributes}, headers=AUTH if headers is None else headers
    )


def _body(response: Any) -> Any:
    return json.loads(response.data)


def test_track_sets_attributes_readable_back_and_null_removes_one() -> None:
    client, _ = _client()
    resp = _track(client, [{"external_id": "u1", "recs_weekly": [{"id": "i1"}], "tier": "gold"}])
    assert resp.status_code == 201 and resp.json == {"message": "success", "attributes_processed": 1}
    _track(client, [{"external_id": "u1", "tier": None}])
    assert client.get("/_braze/users/u1").json == {"external_id": "u1", "recs_weekly": [{"id": "i1"}]}


def test_requests_without_a_valid_bearer_key_get_401() -> None:
    client, ws = _client()
    assert _track(client, [{"external_id": "u1", "a": 1}], headers={}).status_code == 401
    assert (
        _track(client, [{"external_id": "u1", "a": 1}], headers={"Authorization": "Bearer nope"}).status_code
        == 401
    )
    assert ws.profiles == {}


def test_more_than_75_objects_per_array_are_refused() -> None:
    client, ws = _client()
    resp = _track(client, [{"external_id": f"u{n}", "a": 1} for n in range(76)])
    assert resp.status_code == 400 and "75" in resp.json["message"]
    assert ws.profiles == {}


def test_attributes_over_brazes_limits_are_reported_per_object() -> None:
    client, ws = _client()
    resp = _track(
        client,
        [
            {"external_id": "u1", "name": "x" * 256},
            {"external_id": "u2", "recs": list(range(26))},
            {"external_id": "u3", "recs": [{"blob": "y" * 200}] * 25, "big": {"b": "z" * (101 * 1024)}},
            {"external_id": "u4", "ok": "fine"},
        ],
    )
    assert resp.status_code == 201
    assert [e["index"] for e in resp.json["errors"]] == [0, 1, 2]
    assert set(ws.profiles) == {"u4"}


def test_every_answer_carries_the_rate_limit_headers_and_429_past_the_limit() -> None:
    clock = Clock()
    client, _ = _client(clock, track_limit=2)
    first = _track(client, [{"external_id": "u1", "a": 1}])
    assert (first.headers["X-RateLimit-Limit"], first.headers["X-RateLimit-Remaining"]) == ("2", "1")
    assert int(first.headers["X-RateLimit-Reset"]) == 1002  # the 3 s window [999, 1002)
    _track(client, [{"external_id": "u1", "a": 2}])
    limited = _track(client, [{"external_id": "u1", "a": 3}])
    assert limited.status_code == 429 and limited.headers["X-RateLimit-Remaining"] == "0"
    assert _body(client.get("/_braze/users/u1"))["a"] == 2
    clock.now = 1002.0
    assert _track(client, [{"external_id": "u1", "a": 4}]).status_code == 201


def test_delete_takes_at_most_50_external_ids() -> None:
    client, _ = _client()
    _track(client, [{"external_id": "u1", "a": 1}, {"external_id": "u2", "a": 1}])
    resp = client.post("/users/delete", json={"external_ids": ["u1", "ghost"]}, headers=AUTH)
    assert resp.status_code == 201 and _body(resp)["deleted"] == 1
    assert client.get("/_braze/users/u1").status_code == 404
    too_many = client.post("/users/delete", json={"external_ids": [str(n) for n in range(51)]}, headers=AUTH)
    assert too_many.status_code == 400


def test_catalog_items_are_created_edited_read_and_deleted() -> None:
    client, _ = _client()
    assert client.post("/catalogs", json={"catalogs": [{"name": "recs"}]}, headers=AUTH).status_code == 201
    body = {"items": [{"id": "i1", "name": "Mug", "price": 4.5}]}
    assert client.post("/catalogs/recs/items", json=body, headers=AUTH).status_code == 202
    client.patch("/catalogs/recs/items", json={"items": [{"id": "i1", "price": 5.0}]}, headers=AUTH)
    got = _body(client.get("/catalogs/recs/items/i1", headers=AUTH))["items"][0]
    assert got == {"id": "i1", "name": "Mug", "price": 5.0}
    client.delete("/catalogs/recs/items", json={"items": [{"id": "i1"}]}, headers=AUTH)
    assert client.get("/catalogs/recs/items/i1", headers=AUTH).status_code == 404
    over = {"items": [{"id": f"i{n}"} for n in range(51)]}
    assert client.post("/catalogs/recs/items", json=over, headers=AUTH).status_code == 400
    assert client.post("/catalogs/none/items", json=body, headers=AUTH).status_code == 404


def test_injected_faults_answer_once_each() -> None:
    client, ws = _client()
    client.post("/_braze/faults", json={"endpoint": "users.track", "statuses": [429, 500]})
    statuses = [_track(client, [{"external_id": "u1", "a": n}]).status_code for n in range(3)]
    assert statuses == [429, 500, 201]
    assert [r["status"] for r in json.loads(client.get("/_braze/requests").data)["requests"]] == [
        429,
        500,
        201,
    ]
    assert ws.profiles["u1"]["a"] == 2
