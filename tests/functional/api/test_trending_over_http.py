"""/trending served by `chalice local` against the local stack's aws-trending-now campaign."""

from __future__ import annotations

from typing import Any

import pytest

from tests.contract import check_response

pytestmark = pytest.mark.functional


def test_trending_answers_the_trending_campaigns_items_for_everyone(
    api: Any, world: Any, local_stack: Any, openapi: dict[str, Any]
) -> None:
    runtime = local_stack.client("personalize-runtime")
    expected = [
        entry["itemId"]
        for entry in runtime.get_recommendations(
            campaignArn=world.env["TRENDING_CAMPAIGN_ARN"], numResults=6
        )["itemList"]
    ]
    response = api.get("/trending?limit=6&metadata=false&envelope=true")
    data = response.json()
    check_response(openapi, "/trending", response.status_code, data, dict(response.headers))
    assert data["source"] == "personalize" and data["list"] == "trending"
    assert [i["id"] for i in data["recommendations"]] == expected
    assert response.headers["Cache-Control"] == "public, max-age=300"


def test_trending_items_carry_catalog_metadata(api: Any, world: Any, openapi: dict[str, Any]) -> None:
    response = api.get("/trending?limit=4")
    items = response.json()
    check_response(openapi, "/trending", response.status_code, items, dict(response.headers))
    assert len(items) == 4
    assert all(i["name"].startswith(world.shop.category[i["id"]]) for i in items)


def test_trending_falls_back_to_popular_items_when_personalize_is_unreachable(
    api_backend_stopped: Any, world: Any
) -> None:
    response = api_backend_stopped.get("/trending?limit=3&metadata=false")
    assert response.status_code == 200
    assert response.headers["X-Recommendations-Source"] == "fallback"
    assert [i["id"] for i in response.json()] == world.shop.popular[:3]
