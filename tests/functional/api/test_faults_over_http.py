"""`chalice local` behind a TCP fault proxy to the local stack: warm under hang and reset, a cold start while
AWS hangs, and recovery, each over real HTTP with fresh users (what a Braze send looks like)."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.fault_proxy import FaultProxy
from tests.functional.api.world import Served, serve_api, stop

pytestmark = pytest.mark.functional

BUDGET_S = 1.5  # every answer, whatever the fault (Braze gives a call 2 s)


@pytest.fixture(scope="module")
def proxy(local_stack: Any) -> Iterator[FaultProxy]:
    faults = FaultProxy("127.0.0.1", local_stack.port)
    yield faults
    faults.close()


def behind(world: Any, proxy: FaultProxy) -> dict[str, str]:
    return {**world.env, "AWS_ENDPOINT_URL": proxy.url, "BREAKER_COOLDOWN_SECONDS": "2"}


@pytest.fixture(scope="module")
def warm(world: Any, proxy: FaultProxy, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    proxy.set_mode("pass")
    served = serve_api(behind(world, proxy), tmp_path_factory.mktemp("faults") / "chalice.log")
    assert served.get("/recommendations?user_id=user-001&limit=3").headers["X-Recommendations-Source"] == (
        "personalize"
    )
    yield served
    stop(served)


def timed(served: Served, path: str) -> tuple[Any, float]:
    started = time.perf_counter()
    response = served.get(path)
    return response, time.perf_counter() - started


def fresh() -> str:
    return f"fresh-{uuid.uuid4().hex[:10]}"


@pytest.mark.parametrize("mode", ["hang", "reset"])
def test_a_warm_api_answers_every_call_from_the_fallback_in_time(
    warm: Served, proxy: FaultProxy, world: Any, mode: Any
) -> None:
    proxy.set_mode(mode)
    try:
        for _ in range(8):
            response, took = timed(warm, f"/recommendations?user_id={fresh()}&limit=4")
            assert response.status_code == 200 and took < BUDGET_S, (response.status_code, took)
            assert response.headers["X-Recommendations-Source"] == "fallback"
            assert response.headers["Cache-Control"] == "private, max-age=30"
            assert [i["id"] for i in response.json()] == world.shop.popular[:4]
        category, took = timed(warm, f"/recommendations?user_id={fresh()}&filter=in-category&CATEGORY=Toys")
        assert took < BUDGET_S
        assert category.json() and all(world.shop.category[i["id"]] == "Toys" for i in category.json())
    finally:
        proxy.set_mode("pass")


def test_personalized_answers_are_back_soon_after_recovery(warm: Served, proxy: FaultProxy) -> None:
    proxy.set_mode("hang")
    for _ in range(6):  # enough failures to open the campaign breaker
        warm.get(f"/recommendations?user_id={fresh()}&limit=2")
    proxy.set_mode("pass")
    recovered = time.monotonic()
    while True:
        response, took = timed(warm, f"/recommendations?user_id={fresh()}&limit=2")
        assert response.status_code == 200 and took < BUDGET_S
        if response.headers["X-Recommendations-Source"] == "personalize":
            break
        assert time.monotonic() - recovered < 30, "still answering from the fallback 30 s after recovery"
        time.sleep(0.2)


def test_a_cold_start_while_aws_hangs_answers_503_json_in_time(
    world: Any, proxy: FaultProxy, tmp_path: Path
) -> None:
    proxy.set_mode("hang")
    try:
        served = serve_api(behind(world, proxy), tmp_path / "chalice.log")  # /health needs no AWS
        try:
            response, took = timed(served, f"/recommendations?user_id={fresh()}")
        finally:
            stop(served)
    finally:
        proxy.set_mode("pass")
    assert took < BUDGET_S
    assert response.status_code == 503
    assert response.json() == {
        "error": {
            "code": "auth_unavailable",
            "message": "the API key store cannot be read; try again shortly",
        }
    }
