"""Every route and every error through chalice.test.Client; Personalize answered by botocore's Stubber."""

from __future__ import annotations

import json
import logging
from types import SimpleNamespace
from typing import Any

import pytest

from chalicelib.runtime import build_runtime, set_runtime
from tests.contract import check_response


def body(response: Any) -> Any:
    return json.loads(response.body)


def conforms(openapi: dict, path: str, response: Any) -> Any:
    data = body(response)
    check_response(openapi, path, response.status_code, data, dict(response.headers))
    return data


def test_recommendations_are_catalog_items_with_the_default_filter(
    api: Any, k: SimpleNamespace, openapi: dict[str, Any]
) -> None:
    api.expect_recommendations(
        ["i1", "i2", "i3"],
        {
            "campaignArn": k.CAMPAIGN,
            "userId": "u1",
            "numResults": 15,
            "filterArn": k.FILTERS["exclude-interacted"],
        },
    )
    response = api.get("/recommendations?user_id=u1")
    assert response.status_code == 200
    items = conforms(openapi, "/recommendations", response)
    assert items[0] == {
        "id": "i1",
        "url": "https://shop.example.com/product/i1",
        "name": "Product i1",
        "price": 10.5,
        "image": "https://img.example.com/i1.jpg",
    }
    assert [i["id"] for i in items] == ["i1", "i2", "i3"]
    assert response.headers["X-Recommendations-Source"] == "personalize"
    assert response.headers["Cache-Control"] == "private, max-age=300"


def test_items_missing_from_the_catalog_are_skipped_and_backfilled_to_the_limit(
    api: Any, openapi: dict[str, Any]
) -> None:
    api.expect_recommendations(["ghost1", "i1", "ghost2", "i2", "i3", "i4", "i5"])
    response = api.get("/recommendations?user_id=u1&limit=3")
    assert [i["id"] for i in conforms(openapi, "/recommendations", response)] == ["i1", "i2", "i3"]


def test_envelope_wraps_items_with_source_and_recommendation_id(api: Any, openapi: dict[str, Any]) -> None:
    api.expect_recommendations(["i1", "i2"])
    response = api.get("/recommendations?user_id=u%201&envelope=true&limit=2")
    data = conforms(openapi, "/recommendations", response)
    assert data["source"] == "personalize"
    assert data["recommendation_id"] == "RID-1"
    assert data["user_id"] == "u 1"
    assert [i["id"] for i in data["recommendations"]] == ["i1", "i2"]


def test_named_filter_passes_placeholder_values_in_personalize_quoting(api: Any, k: SimpleNamespace) -> None:
    api.expect_recommendations(
        ["i1"],
        {
            "campaignArn": k.CAMPAIGN,
            "userId": "u1",
            "numResults": 7,
            "filterArn": k.FILTERS["in-category"],
            "filterValues": {"CATEGORY": '"Home","Garden Tools"'},
        },
    )
    response = api.get("/recommendations?user_id=u1&limit=2&filter=in-category&CATEGORY=Home,Garden%20Tools")
    assert response.status_code == 200


def test_an_exclude_placeholder_may_be_omitted_as_personalize_allows(api: Any, k: SimpleNamespace) -> None:
    api.expect_recommendations(
        ["i1"],
        {
            "campaignArn": k.CAMPAIGN,
            "userId": "u1",
            "numResults": 6,
            "filterArn": k.FILTERS["exclude-in-category"],
        },
    )
    response = api.get("/recommendations?user_id=u1&limit=1&filter=exclude-in-category")
    assert response.status_code == 200


def test_metadata_false_returns_ids_only_and_allows_500(
    api: Any, k: SimpleNamespace, openapi: dict[str, Any]
) -> None:
    api.expect_recommendations(
        ["ghost", "i1"],
        {
            "campaignArn": k.CAMPAIGN,
            "userId": "u1",
            "numResults": 500,
            "filterArn": k.FILTERS["exclude-interacted"],
        },
    )
    response = api.get("/recommendations?user_id=u1&limit=500&metadata=false")
    assert conforms(openapi, "/recommendations", response) == [{"id": "ghost"}, {"id": "i1"}]


@pytest.mark.parametrize(
    ("query", "parameter", "code"),
    [
        ("", "user_id", "invalid_parameter"),
        ("user_id=", "user_id", "invalid_parameter"),
        ("user_id=" + "u" * 257, "user_id", "invalid_parameter"),
        ("user_id=u1&limit=0", "limit", "invalid_parameter"),
        ("user_id=u1&limit=501&metadata=false", "limit", "invalid_parameter"),
        ("user_id=u1&limit=51", "limit", "invalid_parameter"),
        ("user_id=u1&limit=ten", "limit", "invalid_parameter"),
        ("user_id=u1&limit=-1", "limit", "invalid_parameter"),
        ("user_id=u1&envelope=maybe", "envelope", "invalid_parameter"),
        ("user_id=u1&filter=no-such-filter", "filter", "unknown_filter"),
        ("user_id=u1&filter=in-category", "CATEGORY", "invalid_parameter"),
        ("user_id=u1&filter=in-category&CATEGORY=%22Home%22", "CATEGORY", "invalid_parameter"),
        ("user_id=u1&filter=in-category&CATEGORY=,,", "CATEGORY", "invalid_parameter"),
        ("user_id=u1&filter=in-category&CATEGORY=Home,,Garden", "CATEGORY", "invalid_parameter"),
        ("user_id=u1&filter=in-category&CATEGORY=Home%0A", "CATEGORY", "invalid_parameter"),
        ("user_id=u%001", "user_id", "invalid_parameter"),
        ("user_id=u1%0D", "user_id", "invalid_parameter"),
        ("user_id=u%0A1", "user_id", "invalid_parameter"),
        ("user_id=u1&user_id=u2", "user_id", "invalid_parameter"),
        ("user_id=u1&limit=2&limit=3", "limit", "invalid_parameter"),
        ("user_id=u1&filter=in-category&CATEGORY=Home&CATEGORY=Garden", "CATEGORY", "invalid_parameter"),
    ],
)
def test_rejects_invalid_recommendation_queries_with_a_400_naming_the_parameter(
    api: Any, openapi: dict[str, Any], query: str, parameter: str, code: str
) -> None:
    response = api.get(f"/recommendations?{query}")
    assert response.status_code == 400
    error = conforms(openapi, "/recommendations", response)["error"]
    assert (error["parameter"], error["code"]) == (parameter, code)
    assert parameter in error["message"] or error["code"] == "unknown_filter"


def test_user_id_of_exactly_256_characters_is_accepted(api: Any) -> None:
    api.expect_recommendations(["i1"])
    assert api.get("/recommendations?user_id=" + "u" * 256).status_code == 200


@pytest.mark.parametrize(
    "headers", [{}, {"X-Api-Key": "wrong"}, {"X-Api-Key": ""}, {"Authorization": "test-key-0123456789"}]
)
def test_rejects_missing_or_wrong_api_keys_with_401_json(
    api: Any, openapi: dict[str, Any], headers: dict[str, str]
) -> None:
    for path in (
        "/recommendations?user_id=u1",
        "/related-items?item_id=i1",
        "/rankings?user_id=u1&item_ids=i1",
    ):
        response = api.get(path, headers=headers)
        assert response.status_code == 401
        assert conforms(openapi, path.split("?")[0], response)["error"]["code"] == "unauthorized"


def test_accepts_every_key_in_the_rotation_list_and_header_name_is_case_insensitive(
    api: Any, k: SimpleNamespace
) -> None:
    api.expect_recommendations(["i1"])
    api.expect_recommendations(["i2"])
    assert api.get("/recommendations?user_id=a", headers={"x-api-key": k.OLD_KEY}).status_code == 200
    assert api.get("/recommendations?user_id=b", headers={"X-API-KEY": k.API_KEY}).status_code == 200


def test_the_api_key_never_appears_in_the_log(
    api: Any, k: SimpleNamespace, caplog: pytest.LogCaptureFixture, recs_log: list[str]
) -> None:
    # Our logger at its most verbose, everything else at INFO (botocore's DEBUG wire log is off in Lambda).
    caplog.set_level(logging.INFO)
    api.expect_recommendations(["i1"])
    api.get("/recommendations?user_id=u1")
    api.get("/recommendations?user_id=u1", headers={"X-Api-Key": "wrong-" + k.API_KEY})
    everything = "\n".join(recs_log) + caplog.text
    assert any('"event":"request_served"' in line for line in recs_log)
    assert any('"event":"request_rejected"' in line for line in recs_log)
    assert k.API_KEY not in everything


def test_throttling_answers_200_with_the_popular_fallback_and_counts_it(
    api: Any, openapi: dict[str, Any], recs_log: list[str]
) -> None:
    api.stubber.add_client_error("get_recommendations", "ThrottlingException", "Rate exceeded", 400)
    response = api.get("/recommendations?user_id=u1&limit=7&envelope=true")
    assert response.status_code == 200
    assert response.headers["X-Recommendations-Source"] == "fallback"
    data = conforms(openapi, "/recommendations", response)
    assert data["source"] == "fallback"
    assert [i["id"] for i in data["recommendations"]] == ["i30", "i29", "i28", "i27", "i26", "i25", "i24"]
    health = body(api.get("/health", headers={}))
    assert health["counters"]["Fallback"] == 1
    logged = [json.loads(line) for line in recs_log if '"event":"fallback"' in line]
    assert logged and logged[0]["reason"] == "throttled" and logged[0]["Fallback"] == 1


def test_a_fallback_is_not_cached_so_the_next_call_asks_personalize_again(api: Any) -> None:
    api.stubber.add_client_error("get_recommendations", "InternalServerError", "boom", 500)
    api.expect_recommendations(["i5"])
    first = api.get("/recommendations?user_id=u1&limit=1")
    second = api.get("/recommendations?user_id=u1&limit=1")
    assert first.headers["X-Recommendations-Source"] == "fallback"
    assert first.headers["Cache-Control"] == "private, max-age=30"
    assert second.headers["X-Recommendations-Source"] == "personalize"
    assert [i["id"] for i in body(second)] == ["i5"]


def test_an_unknown_campaign_falls_back_instead_of_failing(api: Any) -> None:
    api.stubber.add_client_error("get_recommendations", "ResourceNotFoundException", "no campaign", 404)
    response = api.get("/recommendations?user_id=u1")
    assert response.status_code == 200
    assert response.headers["X-Recommendations-Source"] == "fallback"


def test_a_hung_backend_is_cut_off_at_the_deadline_and_falls_back(aws: Any, k: SimpleNamespace) -> None:
    from chalice.test import Client

    import app as app_module

    hung = k.BlockingClient()
    settings = k.make_settings(deadline_ms=300)
    set_runtime(build_runtime(settings, personalize=hung, s3=aws["s3"], ssm=aws["ssm"]))
    try:
        with Client(app_module.app, stage_name="local", project_dir=str(k.CHALICE_DIR)) as client:
            response = client.http.get(
                "/recommendations?user_id=u1&limit=2", headers={"X-Api-Key": k.API_KEY}
            )
    finally:
        hung.release.set()
        set_runtime(None)
    assert response.status_code == 200
    assert response.headers["X-Recommendations-Source"] == "fallback"
    assert [i["id"] for i in body(response)] == ["i30", "i29"]
    assert hung.calls == 1


def test_identical_requests_are_served_from_the_cache(api: Any) -> None:
    api.expect_recommendations(["i1", "i2"])  # exactly one backend answer is queued
    first = api.get("/recommendations?user_id=u1&limit=2")
    second = api.get("/recommendations?user_id=u1&limit=2&envelope=true")
    assert first.headers["X-Cache"] == "miss"
    assert second.headers["X-Cache"] == "hit"
    assert second.headers["X-Recommendations-Source"] == "personalize"
    assert [i["id"] for i in body(second)["recommendations"]] == ["i1", "i2"]


def test_different_limits_are_different_cache_entries(api: Any) -> None:
    api.expect_recommendations(["i1", "i2"])
    api.expect_recommendations(["i3"])
    api.get("/recommendations?user_id=u1&limit=2")
    response = api.get("/recommendations?user_id=u1&limit=1")
    assert response.headers["X-Cache"] == "miss"
    assert [i["id"] for i in body(response)] == ["i3"]


def test_related_items_exclude_the_item_itself(api: Any, k: SimpleNamespace, openapi: dict[str, Any]) -> None:
    api.expect_recommendations(
        ["i7", "i8", "i9"], {"campaignArn": k.RELATED, "itemId": "i7", "numResults": 8}
    )
    response = api.get("/related-items?item_id=i7&limit=2")
    assert [i["id"] for i in conforms(openapi, "/related-items", response)] == ["i8", "i9"]


def test_related_items_envelope_names_the_item(api: Any, openapi: dict[str, Any]) -> None:
    api.expect_recommendations(["i8"])
    response = api.get("/related-items?item_id=i7&envelope=true")
    data = conforms(openapi, "/related-items", response)
    assert (data["item_id"], data["source"]) == ("i7", "personalize")


def test_related_items_fall_back_when_no_similar_items_campaign_is_configured(
    aws: Any, k: SimpleNamespace
) -> None:
    from chalice.test import Client

    import app as app_module

    settings = k.make_settings(related_campaign_arn="")
    set_runtime(build_runtime(settings, personalize=k.personalize_client(), s3=aws["s3"], ssm=aws["ssm"]))
    try:
        with Client(app_module.app, stage_name="local", project_dir=str(k.CHALICE_DIR)) as client:
            response = client.http.get("/related-items?item_id=i30&limit=2", headers={"X-Api-Key": k.API_KEY})
    finally:
        set_runtime(None)
    assert response.headers["X-Recommendations-Source"] == "fallback"
    assert [i["id"] for i in body(response)] == ["i29", "i28"]


@pytest.mark.parametrize(
    ("query", "parameter"),
    [
        ("", "item_id"),
        ("item_id=" + "x" * 257, "item_id"),
        ("item_id=i1&limit=99", "limit"),
        ("item_id=i%0D%0A1", "item_id"),
        ("item_id=i1&item_id=i2", "item_id"),
    ],
)
def test_rejects_invalid_related_items_queries(
    api: Any, openapi: dict[str, Any], query: str, parameter: str
) -> None:
    response = api.get(f"/related-items?{query}")
    assert response.status_code == 400
    assert conforms(openapi, "/related-items", response)["error"]["parameter"] == parameter


def test_rankings_reorder_the_given_items_for_the_user(
    api: Any, k: SimpleNamespace, openapi: dict[str, Any]
) -> None:
    api.expect_ranking(
        ["i3", "i1", "i2"], {"campaignArn": k.CAMPAIGN, "userId": "u1", "inputList": ["i1", "i2", "i3"]}
    )
    response = api.get("/rankings?user_id=u1&item_ids=i1,i2,i3")
    assert [i["id"] for i in conforms(openapi, "/rankings", response)] == ["i3", "i1", "i2"]


def test_rankings_fall_back_to_popularity_order_when_the_campaign_cannot_rank(api: Any) -> None:
    api.stubber.add_client_error("get_personalized_ranking", "InvalidInputException", "wrong recipe", 400)
    response = api.get("/rankings?user_id=u1&item_ids=i1,i29,i30,ghost")
    assert response.headers["X-Recommendations-Source"] == "fallback"
    assert [i["id"] for i in body(response)] == ["i30", "i29", "i1"]


@pytest.mark.parametrize(
    ("query", "parameter"),
    [
        ("item_ids=i1", "user_id"),
        ("user_id=u1", "item_ids"),
        ("user_id=u1&item_ids=,,", "item_ids"),
        ("user_id=u1&item_ids=" + ",".join(f"x{n}" for n in range(51)), "item_ids"),
        ("user_id=u1&item_ids=" + "y" * 257, "item_ids"),
        ("user_id=u1&item_ids=i1&filter=nope", "filter"),
        ("user_id=u1&item_ids=i1,i%002", "item_ids"),
        ("user_id=u1&item_ids=i1&item_ids=i2", "item_ids"),
    ],
)
def test_rejects_invalid_ranking_queries(
    api: Any, openapi: dict[str, Any], query: str, parameter: str
) -> None:
    response = api.get(f"/rankings?{query}")
    assert response.status_code == 400
    assert conforms(openapi, "/rankings", response)["error"]["parameter"] == parameter


def test_health_needs_no_key_and_does_not_call_aws(api: Any, openapi: dict[str, Any]) -> None:
    response = api.get("/health", headers={})
    assert response.status_code == 200
    data = conforms(openapi, "/health", response)
    assert data["status"] == "ok"
    assert data["catalog_loaded"] is False


def test_a_misconfigured_container_answers_500_json_and_health_503(
    monkeypatch: pytest.MonkeyPatch, k: SimpleNamespace, openapi: dict[str, Any]
) -> None:
    from chalice.test import Client

    import app as app_module

    for name in ("CAMPAIGN_ARN", "BUCKET", "CATALOG_KEY", "FALLBACK_KEY", "API_KEY_PARAMETER"):
        monkeypatch.delenv(name, raising=False)
    set_runtime(None)
    with Client(app_module.app, stage_name="local", project_dir=str(k.CHALICE_DIR)) as client:
        route = client.http.get("/recommendations?user_id=u1", headers={"X-Api-Key": k.API_KEY})
        health = client.http.get("/health")
    assert route.status_code == 500
    assert conforms(openapi, "/recommendations", route)["error"]["code"] == "misconfigured"
    assert health.status_code == 503
    assert conforms(openapi, "/health", health)["variable"] == "CAMPAIGN_ARN"


def test_an_unexpected_bug_still_answers_200_with_popular_items(
    aws: dict[str, Any], k: SimpleNamespace
) -> None:
    from chalice.test import Client

    import app as app_module

    class Broken:
        def recommendations(self, *args: Any, **kwargs: Any) -> Any:
            raise KeyError("a bug, not a backend fault")

    backend: Any = Broken()
    set_runtime(build_runtime(k.make_settings(), backend=backend, s3=aws["s3"], ssm=aws["ssm"]))
    try:
        with Client(app_module.app, stage_name="local", project_dir=str(k.CHALICE_DIR)) as client:
            headers = {"X-Api-Key": k.API_KEY}
            response = client.http.get("/recommendations?user_id=u1&limit=2", headers=headers)
    finally:
        set_runtime(None)
    assert response.status_code == 200
    assert response.headers["X-Recommendations-Source"] == "fallback"
    assert [i["id"] for i in body(response)] == ["i30", "i29"]
