"""promotion= and Personalize-side item metadata through `chalice local` against the local stack."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import pytest

from personalize_rules.promotion_rules import promoted_count
from tests.contract import check_response
from tests.functional.api.world import Served, free_port, serve_api, stop

pytestmark = pytest.mark.functional

PROMOTIONS = {
    "garden-week": {"filter": "in-category", "percent": 30, "filter_values": {"CATEGORY": ["Garden"]}}
}


@pytest.fixture(scope="module")
def metadata_campaign(world: Any, local_stack: Any) -> str:
    """A campaign on the world's user-personalization version with enableMetadataWithRecommendations."""
    p = local_stack.client("personalize")
    version = p.describe_campaign(campaignArn=world.campaign_arn)["campaign"]["solutionVersionArn"]
    arn = p.create_campaign(
        name=f"meta-{world.campaign_arn.rsplit('/', 1)[-1]}",
        solutionVersionArn=version,
        minProvisionedTPS=1,
        campaignConfig={"enableMetadataWithRecommendations": True},
    )["campaignArn"]
    deadline = time.monotonic() + 60
    while p.describe_campaign(campaignArn=arn)["campaign"]["status"] != "ACTIVE":
        assert time.monotonic() < deadline, "metadata campaign never became ACTIVE"
        time.sleep(0.05)
    return str(arn)


@pytest.fixture(scope="module")
def promo_api(
    world: Any, metadata_campaign: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Served]:
    """The API on the metadata campaign with promotions, and no catalog at all: every item field must
    come from Personalize's answer."""
    env = {
        **world.env,
        "CAMPAIGN_ARN": metadata_campaign,
        "CATALOG_KEY": "artifacts/catalog/missing.bin",
        "PROMOTIONS": json.dumps(PROMOTIONS),
        "METADATA_COLUMNS": "true",
    }
    served = serve_api(env, tmp_path_factory.mktemp("api-promo") / "chalice.log")
    yield served
    stop(served)


def test_promoted_items_fill_their_share_and_are_marked(
    promo_api: Any, world: Any, openapi: dict[str, Any]
) -> None:
    response = promo_api.get("/recommendations?user_id=user-000&limit=10&promotion=garden-week")
    assert response.status_code == 200
    assert response.headers["X-Recommendations-Source"] == "personalize"
    items = response.json()
    check_response(openapi, "/recommendations", 200, items, dict(response.headers))
    promoted = [i["id"] for i in items if i.get("promotion") == "garden-week"]
    assert len(items) == 10 and len({i["id"] for i in items}) == 10
    assert len(promoted) == promoted_count(10, 30)
    assert all(world.shop.category[i] == "Garden" for i in promoted)
    assert not {i["id"] for i in items} & world.shop.history["user-000"]  # the default filter, on the rest


def test_item_fields_come_from_personalize_metadata_without_a_catalog(promo_api: Any, world: Any) -> None:
    items = promo_api.get("/recommendations?user_id=user-007&limit=50").json()
    assert len(items) == 50
    for item in items:
        n = int(item["id"].split("-")[1])
        assert item["name"] == f"{world.shop.category[item['id']]} thing {n}"
        assert item["price"] == pytest.approx(5 + (n % 40) + 0.99)
        assert item["url"] == f"https://shop.example.com/product/{item['id']}"
        assert item["image"] == (f"https://img.example.com/{item['id']}.jpg" if n % 7 else None)


@pytest.mark.parametrize(
    ("query", "code", "parameter"),
    [
        ("user_id=u1&limit=51", "invalid_parameter", "limit"),
        ("user_id=u1&promotion=summer-sale", "unknown_promotion", "promotion"),
    ],
)
def test_refusals_are_400_json_naming_the_parameter(
    promo_api: Any, openapi: dict[str, Any], query: str, code: str, parameter: str
) -> None:
    response = promo_api.get("/recommendations?" + query)
    assert response.status_code == 400
    error = response.json()["error"]
    check_response(openapi, "/recommendations", 400, response.json())
    assert (error["code"], error["parameter"]) == (code, parameter)


def test_ids_only_still_allow_up_to_500(promo_api: Any) -> None:
    response = promo_api.get("/recommendations?user_id=user-007&limit=120&metadata=false")
    assert response.status_code == 200 and len(response.json()) == 120


def test_the_fallback_keeps_the_promotion_from_the_catalog(world: Any, tmp_path: Any) -> None:
    env = {
        **world.env,
        "PROMOTIONS": json.dumps(PROMOTIONS),
        "AWS_ENDPOINT_URL_PERSONALIZE_RUNTIME": f"http://127.0.0.1:{free_port()}",  # nothing listens
    }
    served = serve_api(env, tmp_path / "chalice.log")
    try:
        response = served.get("/recommendations?user_id=user-001&limit=10&promotion=garden-week")
    finally:
        stop(served)
    assert response.headers["X-Recommendations-Source"] == "fallback"
    items = response.json()
    garden = [i for i in world.shop.popular if world.shop.category[i] == "Garden"]
    assert [i["id"] for i in items if i.get("promotion")] == garden[:3]
    assert [i["id"] for i in items if not i.get("promotion")] == [
        i for i in world.shop.popular if i not in garden[:3]
    ][:7]
