"""/trending through chalice.test.Client: an aws-trending-now campaign asked without a user, the popular
fallback when it cannot answer (unset, throttled, hung), and the same contract as the other routes."""

from __future__ import annotations

import json
from types import SimpleNamespace
from typing import Any

from chalicelib.runtime import build_runtime, set_runtime
from tests.contract import check_response

TRENDING = "arn:aws:personalize:us-east-1:123456789012:campaign/braze-recs-trending"


def _body(response: Any) -> Any:
    return json.loads(response.body)


def _conforms(openapi: dict[str, Any], response: Any) -> Any:
    data = _body(response)
    check_response(openapi, "/trending", response.status_code, data, dict(response.headers))
    return data


def _with_trending(api: Any, aws: Any, k: SimpleNamespace, **settings: Any) -> Any:
    """The api fixture's runtime rebuilt with a trending campaign (and `settings`)."""
    runtime = build_runtime(
        k.make_settings(trending_campaign_arn=TRENDING, **settings),
        personalize=api.stubber.client,
        s3=aws["s3"],
        ssm=aws["ssm"],
    )
    set_runtime(runtime)
    return api


def test_trending_asks_the_trending_campaign_without_a_user_and_no_default_filter(
    api: Any, aws: Any, k: SimpleNamespace, openapi: dict[str, Any]
) -> None:
    _with_trending(api, aws, k)
    api.expect_recommendations(["i7", "i3", "i9"], {"campaignArn": TRENDING, "numResults": 15})
    response = api.get("/trending")
    assert response.status_code == 200
    items = _conforms(openapi, response)
    assert [i["id"] for i in items] == ["i7", "i3", "i9"]
    assert items[0]["name"] == "Product i7"
    assert response.headers["X-Recommendations-Source"] == "personalize"
    assert response.headers["Cache-Control"] == "public, max-age=300"  # the same list for everyone


def test_trending_envelope_and_a_named_item_filter(
    api: Any, aws: Any, k: SimpleNamespace, openapi: dict[str, Any]
) -> None:
    _with_trending(api, aws, k)
    api.expect_recommendations(
        ["i3", "i6"],
        {
            "campaignArn": TRENDING,
            "numResults": 2,
            "filterArn": k.FILTERS["in-category"],
            "filterValues": {"CATEGORY": '"Garden"'},
        },
    )
    response = api.get("/trending?limit=2&metadata=false&envelope=true&filter=in-category&CATEGORY=Garden")
    data = _conforms(openapi, response)
    assert data == {
        "recommendations": [{"id": "i3"}, {"id": "i6"}],
        "list": "trending",
        "source": "personalize",
        "recommendation_id": "RID-1",
    }


def test_trending_without_a_trending_campaign_answers_popular_items(
    api: Any, openapi: dict[str, Any]
) -> None:
    response = api.get("/trending?limit=3&envelope=true")  # the api fixture configures no trending campaign
    data = _conforms(openapi, response)
    assert data["source"] == "fallback"
    assert [i["id"] for i in data["recommendations"]] == ["i30", "i29", "i28"]
    assert response.headers["Cache-Control"] == "public, max-age=30"


def test_throttled_trending_falls_back_to_popular_items(api: Any, aws: Any, k: SimpleNamespace) -> None:
    _with_trending(api, aws, k)
    api.stubber.add_client_error("get_recommendations", "ThrottlingException", "Rate exceeded", 400)
    response = api.get("/trending?limit=2")
    assert response.headers["X-Recommendations-Source"] == "fallback"
    assert [i["id"] for i in _body(response)] == ["i30", "i29"]


def test_a_hung_trending_campaign_is_cut_off_at_the_deadline(aws: Any, k: SimpleNamespace) -> None:
    from chalice.test import Client

    import app as app_module

    hung = k.BlockingClient()
    settings = k.make_settings(deadline_ms=300, trending_campaign_arn=TRENDING)
    set_runtime(build_runtime(settings, personalize=hung, s3=aws["s3"], ssm=aws["ssm"]))
    try:
        with Client(app_module.app, stage_name="local", project_dir=str(k.CHALICE_DIR)) as client:
            response = client.http.get("/trending?limit=2", headers={"X-Api-Key": k.API_KEY})
    finally:
        hung.release.set()
        set_runtime(None)
    assert response.status_code == 200
    assert response.headers["X-Recommendations-Source"] == "fallback"
    assert [i["id"] for i in _body(response)] == ["i30", "i29"]
    assert hung.calls == 1


def test_trending_refuses_a_bad_limit_and_a_missing_key(api: Any, openapi: dict[str, Any]) -> None:
    bad = api.get("/trending?limit=51")
    assert bad.status_code == 400
    assert _conforms(openapi, bad)["error"]["parameter"] == "limit"
    assert api.get("/trending", headers={}).status_code == 401
