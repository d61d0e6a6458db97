"""The API served by `chalice local` against the local stack: every route, every error, fallback and cache."""

from __future__ import annotations

from typing import Any

import pytest

from tests.contract import check_response
from tests.functional.api.world import serve_api, stop

pytestmark = pytest.mark.functional


def conforms(openapi: dict[str, Any], path: str, response: Any) -> Any:
    data = response.json()
    check_response(openapi, path, response.status_code, data, dict(response.headers))
    return data


def test_recommendations_exclude_what_the_user_already_interacted_with(
    api: Any, world: Any, openapi: dict[str, Any]
) -> None:
    response = api.get("/recommendations?user_id=user-003&limit=10")
    assert response.status_code == 200
    assert response.headers["X-Recommendations-Source"] == "personalize"
    assert response.headers["Cache-Control"] == "private, max-age=300"
    items = conforms(openapi, "/recommendations", response)
    assert len(items) == 10
    assert not {i["id"] for i in items} & world.shop.history["user-003"]
    assert all(i["url"] == f"https://shop.example.com/product/{i['id']}" for i in items)
    assert all(i["name"].startswith(world.shop.category[i["id"]]) for i in items)


def test_an_unknown_user_gets_the_cold_start_answer_not_an_error(api: Any, openapi: dict[str, Any]) -> None:
    response = api.get("/recommendations?user_id=never-seen-before&limit=5&envelope=true")
    data = conforms(openapi, "/recommendations", response)
    assert response.status_code == 200
    assert data["source"] == "personalize"
    assert data["recommendation_id"]
    assert len(data["recommendations"]) == 5


def test_a_named_filter_with_its_placeholder_value(api: Any, world: Any, openapi: dict[str, Any]) -> None:
    response = api.get("/recommendations?user_id=user-004&limit=8&filter=in-category&CATEGORY=Books")
    items = conforms(openapi, "/recommendations", response)
    assert response.headers["X-Recommendations-Source"] == "personalize"
    assert items and all(world.shop.category[i["id"]] == "Books" for i in items)


def test_related_items_never_include_the_item_itself(api: Any, openapi: dict[str, Any]) -> None:
    response = api.get("/related-items?item_id=item-0005&limit=6")
    items = conforms(openapi, "/related-items", response)
    assert response.headers["X-Recommendations-Source"] == "personalize"
    assert len(items) == 6 and "item-0005" not in {i["id"] for i in items}


def test_rankings_reorder_exactly_the_given_items(api: Any, openapi: dict[str, Any]) -> None:
    given = ["item-0001", "item-0002", "item-0003", "item-0004", "item-0010"]
    response = api.get("/rankings?user_id=user-001&item_ids=" + ",".join(given) + "&envelope=true")
    data = conforms(openapi, "/rankings", response)
    assert data["source"] == "personalize"
    assert sorted(i["id"] for i in data["recommendations"]) == sorted(given)


@pytest.mark.parametrize(
    ("path", "status", "code"),
    [
        ("/recommendations?user_id=u1&limit=0", 400, "invalid_parameter"),
        ("/recommendations?user_id=u1&limit=51", 400, "invalid_parameter"),
        ("/recommendations?limit=5", 400, "invalid_parameter"),
        ("/recommendations?user_id=" + "x" * 257, 400, "invalid_parameter"),
        ("/recommendations?user_id=u1&filter=not-a-filter", 400, "unknown_filter"),
        ("/recommendations?user_id=u1&filter=in-category", 400, "invalid_parameter"),
        ("/related-items?limit=3", 400, "invalid_parameter"),
        ("/rankings?user_id=u1", 400, "invalid_parameter"),
    ],
)
def test_invalid_requests_get_400_json(
    api: Any, openapi: dict[str, Any], path: str, status: int, code: str
) -> None:
    response = api.get(path)
    assert response.status_code == status
    assert conforms(openapi, path.split("?")[0], response)["error"]["code"] == code


@pytest.mark.parametrize("key", [None, "wrong-key", ""])
def test_missing_or_wrong_keys_get_401_json(api: Any, openapi: dict[str, Any], key: str | None) -> None:
    response = api.get("/recommendations?user_id=user-001", key=key)
    assert response.status_code == 401
    assert conforms(openapi, "/recommendations", response)["error"]["code"] == "unauthorized"


def test_the_rotation_key_is_accepted_too(api: Any) -> None:
    assert api.get("/recommendations?user_id=user-001&limit=2", key="second-key").status_code == 200


def test_identical_requests_are_answered_from_the_cache(api: Any) -> None:
    first = api.get("/recommendations?user_id=user-010&limit=4")
    second = api.get("/recommendations?user_id=user-010&limit=4")
    assert first.headers["X-Cache"] == "miss"
    assert second.headers["X-Cache"] == "hit"
    assert first.json() == second.json()


def test_health_answers_without_a_key(api: Any, openapi: dict[str, Any]) -> None:
    response = api.get("/health", key=None)
    assert response.status_code == 200
    assert conforms(openapi, "/health", response)["status"] == "ok"


def test_a_stopped_backend_answers_200_with_the_popular_fallback(
    api_backend_stopped: Any, world: Any, openapi: dict[str, Any]
) -> None:
    response = api_backend_stopped.get("/recommendations?user_id=user-001&limit=5&envelope=true")
    assert response.status_code == 200
    assert response.headers["X-Recommendations-Source"] == "fallback"
    data = conforms(openapi, "/recommendations", response)
    assert data["source"] == "fallback"
    assert [i["id"] for i in data["recommendations"]] == world.shop.popular[:5]
    related = api_backend_stopped.get("/related-items?item_id=item-0001&limit=3")
    assert related.status_code == 200 and related.headers["X-Recommendations-Source"] == "fallback"
    health = api_backend_stopped.get("/health", key=None).json()
    assert health["counters"]["Fallback"] >= 2


def test_a_hung_backend_is_cut_off_at_the_deadline_with_the_fallback(
    api_backend_hung: Any, world: Any
) -> None:
    response = api_backend_hung.get("/recommendations?user_id=user-001&limit=3")
    assert response.status_code == 200
    assert response.headers["X-Recommendations-Source"] == "fallback"
    assert [i["id"] for i in response.json()] == world.shop.popular[:3]
    assert '"reason":"timeout"' in api_backend_hung.log.read_text(errors="replace")


def test_rankings_without_a_ranking_campaign_fall_back_to_popularity_order(world: Any, tmp_path: Any) -> None:
    # Personalize refuses GetPersonalizedRanking on a User-Personalization campaign (InvalidInputException).
    env = {key: value for key, value in world.env.items() if key != "RANKING_CAMPAIGN_ARN"}
    served = serve_api(env, tmp_path / "chalice.log")
    try:
        given = [world.shop.popular[5], "item-0999", world.shop.popular[0]]
        response = served.get("/rankings?user_id=user-001&item_ids=" + ",".join(given))
    finally:
        stop(served)
    assert response.status_code == 200
    assert response.headers["X-Recommendations-Source"] == "fallback"
    assert [i["id"] for i in response.json()] == [world.shop.popular[0], world.shop.popular[5], "item-0999"]
