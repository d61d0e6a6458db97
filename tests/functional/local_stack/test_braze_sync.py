"""`braze-sync` of 10,000 users against the Braze emulator in the local stack, over real HTTP."""

from __future__ import annotations

import io
import json
from typing import Any

import pytest
import requests

from chalicelib.catalog_artifact import CatalogColumn, write_catalog
from pipeline.braze_sync.client import BrazeClient, BrazeRequestError, client_for
from pipeline.braze_sync.sync import run_braze_sync
from pipeline.config import load_config
from pipeline.lifecycle.api_settings import catalog_key
from pipeline.lifecycle.context import Context, Progress

pytestmark = pytest.mark.functional

USERS = 10_000
JOB = "braze-recs-batch-0123456789abcdef"


@pytest.fixture
def ctx(local_stack: Any, aws_environ: dict[str, str], h: Any) -> Context:
    s3 = local_stack.client("s3")
    bucket = h.unique("braze-sync")
    s3.create_bucket(Bucket=bucket)
    lines = "".join(
        json.dumps(
            {
                "input": {"userId": f"user-{n:05d}"},
                "output": {"recommendedItems": [f"i{(n + k) % 50}" for k in range(8)]},
                "error": None,
            }
        )
        + "\n"
        for n in range(USERS)
    )
    s3.put_object(Bucket=bucket, Key=f"batch/output/{JOB}/users.json.out", Body=lines.encode())
    rows = [
        {
            "ITEM_ID": f"i{n}",
            "NAME": f"Item {n}",
            "URL": f"https://shop.example.com/product/i{n}",
            "IMAGE": f"https://img.example.com/i{n}.jpg",
            "PRICE": f"{n}.5",
        }
        for n in range(50)
    ]
    columns = [
        CatalogColumn("NAME"),
        CatalogColumn("URL"),
        CatalogColumn("IMAGE"),
        CatalogColumn("PRICE", True),
    ]
    artifact = io.BytesIO()
    write_catalog(artifact, columns, rows, {})
    config = load_config()
    s3.put_object(Bucket=bucket, Key=catalog_key(config), Body=artifact.getvalue())
    requests.post(f"{local_stack.endpoint_url}/_braze/reset", timeout=5)
    context = Context(
        env="local", config=config, outputs={"bucket_name": bucket}, progress=Progress(io.StringIO())
    )
    context.clients["s3"] = s3
    return context


def _braze(local_stack: Any, path: str, **body: Any) -> Any:
    url = f"{local_stack.endpoint_url}/_braze/{path}"
    answer = requests.post(url, json=body, timeout=5) if body else requests.get(url, timeout=5)
    return answer.json()


def _track_requests(local_stack: Any) -> list[dict[str, Any]]:
    return [r for r in _braze(local_stack, "requests")["requests"] if r["endpoint"] == "users.track"]


def test_ten_thousand_users_reach_braze_in_75s_with_429s_an_interruption_and_a_no_op_rerun(
    ctx: Context, local_stack: Any
) -> None:
    _braze(local_stack, "faults", endpoint="users.track", statuses=[429, 429])
    flaky = client_for(ctx)  # the endpoint (the local stack) and key `make braze-sync` uses
    original = flaky.post
    sent = {"n": 0}

    def interrupt_after_40_requests(path: str, body: dict[str, Any]) -> dict[str, Any]:
        sent["n"] += 1
        if sent["n"] == 40:  # Braze fails for good: the sync stops here
            flaky.max_attempts = 2
            flaky.sleep = lambda _: None
            _braze(local_stack, "faults", endpoint="users.track", statuses=[503, 503])
        return original(path, body)

    flaky.post = interrupt_after_40_requests  # type: ignore[method-assign]
    with pytest.raises(BrazeRequestError, match="HTTP 503"):
        run_braze_sync(ctx, job=JOB, campaign="weekly", client=flaky)

    resumed = run_braze_sync(ctx, job=JOB, campaign="weekly", client=client_for(ctx))

    tracked = _track_requests(local_stack)
    ok = [r for r in tracked if r["status"] == 201]
    ids = [i for r in ok for i in r["external_ids"]]
    assert len(ids) == len(set(ids)) == USERS  # everyone once, nobody twice
    assert max(r["objects"] for r in ok) == 75
    assert [r["status"] for r in tracked].count(429) == 2
    assert resumed.sent == USERS - 39 * 75  # 39 requests went through before the interruption
    profile = _braze(local_stack, "users/user-00042")
    assert [i["id"] for i in profile["recs_weekly"]] == [f"i{(42 + k) % 50}" for k in range(5)]
    assert profile["recs_weekly"][0]["url"].endswith(f"item_id=i42&recommendation_id={JOB}")
    assert (profile["recs_weekly"][0]["name"], profile["recs_weekly"][0]["price"]) == ("Item 42", 42.5)
    print(f"\nbraze-sync figure: {resumed.format()}")

    again = run_braze_sync(
        ctx, job=JOB, campaign="weekly", client=BrazeClient(local_stack.endpoint_url, flaky.api_key)
    )
    assert (again.changed, again.sent, again.requests) == (0, 0, 0)
    assert len(_track_requests(local_stack)) == len(tracked)
