"""promotion= and Personalize-side item metadata, through chalice.test.Client with a stubbed runtime."""

from __future__ import annotations

import json
from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any

import pytest
from botocore.stub import Stubber
from chalice.test import Client

from chalicelib.errors import SettingsError
from chalicelib.item_metadata import parse_metadata_columns
from chalicelib.promotions import parse_promotions
from chalicelib.runtime import build_runtime, set_runtime
from tests.contract import check_response

GARDEN = {"garden-week": {"filter": "in-category", "percent": 20, "filter_values": {"CATEGORY": ["Garden"]}}}


def body(response: Any) -> Any:
    return json.loads(response.body)


class Served:
    def __init__(self, client: Client, stubber: Stubber, headers: dict[str, str]) -> None:
        self.client, self.stubber, self.headers = client, stubber, headers

    def get(self, path: str) -> Any:
        return self.client.http.get(path, headers=self.headers)


@pytest.fixture
def configured(aws: Any, k: SimpleNamespace) -> Iterator[Any]:
    """The app with promotions and (optionally) metadata columns configured."""
    import app as app_module

    stack: list[Any] = []

    def start(metadata: str = "", promotions: dict[str, Any] | None = None) -> Served:
        base = k.make_settings()
        settings = k.make_settings(
            promotions=parse_promotions(
                json.dumps(GARDEN if promotions is None else promotions), base.filters
            ),
            metadata_columns=parse_metadata_columns(metadata),
        )
        client = k.personalize_client()
        stubber = Stubber(client)
        stubber.activate()
        set_runtime(build_runtime(settings, personalize=client, s3=aws["s3"], ssm=aws["ssm"]))
        test_client = Client(app_module.app, stage_name="local", project_dir=str(k.CHALICE_DIR))
        test_client.__enter__()
        stack.append((test_client, stubber))
        return Served(test_client, stubber, {"X-Api-Key": k.API_KEY})

    yield start
    for test_client, stubber in stack:
        test_client.__exit__(None, None, None)
        stubber.deactivate()
        stubber.assert_no_pending_responses()
    set_runtime(None)


def test_promotion_is_passed_as_personalize_promotions_and_promoted_items_are_marked(
    configured: Any, k: SimpleNamespace, openapi: dict[str, Any]
) -> None:
    api = configured()
    api.stubber.add_response(
        "get_recommendations",
        {
            "itemList": [
                {"itemId": "i1", "score": 0.3},
                {"itemId": "i3", "score": 0.2, "promotionName": "garden-week"},
                {"itemId": "i2", "score": 0.1},
            ],
            "recommendationId": "RID-p",
        },
        {
            "campaignArn": k.CAMPAIGN,
            "userId": "u1",
            "numResults": 8,
            "filterArn": k.FILTERS["exclude-interacted"],
            "promotions": [
                {
                    "name": "garden-week",
                    "percentPromotedItems": 20,
                    "filterArn": k.FILTERS["in-category"],
                    "filterValues": {"CATEGORY": '"Garden"'},
                }
            ],
        },
    )
    response = api.get("/recommendations?user_id=u1&limit=3&promotion=garden-week")
    items = body(response)
    check_response(openapi, "/recommendations", 200, items, dict(response.headers))
    assert [(i["id"], i.get("promotion")) for i in items] == [
        ("i1", None),
        ("i3", "garden-week"),
        ("i2", None),
    ]


def test_the_shown_list_holds_the_promoted_share_even_when_personalize_placed_it_past_the_limit(
    configured: Any, k: SimpleNamespace
) -> None:
    api = configured()
    order = ["i1", "i2", "i3", "i4", "i5", "i6", "i9", "i7", "i10", "i8"]
    promoted = ("i9", "i10")
    api.stubber.add_response(
        "get_recommendations",
        {
            "itemList": [
                {"itemId": i, "score": 0.1, **({"promotionName": "garden-week"} if i in promoted else {})}
                for i in order
            ],
            "recommendationId": "RID-p",
        },
    )
    items = body(api.get("/recommendations?user_id=u1&limit=5&promotion=garden-week"))
    # 20 % of 5 is one promoted item, in Personalize's order among the others.
    assert [(i["id"], i.get("promotion")) for i in items] == [
        ("i1", None),
        ("i2", None),
        ("i3", None),
        ("i4", None),
        ("i9", "garden-week"),
    ]


def test_the_promoted_share_backfills_only_with_unpromoted_items() -> None:
    from chalicelib.promotions import keep_promoted_share

    ids = ["p1", "a", "p2", "b", "p3", "c", "d"]
    promoted = {"p1": "x", "p2": "x", "p3": "x"}
    # 40 % of 4 rounds to 2 promoted items: the head is p1, a, p2, b; the backfill never adds p3.
    assert keep_promoted_share(ids, promoted, 4, 40) == ["p1", "a", "p2", "b", "c", "d"]
    assert keep_promoted_share(["a", "b"], {}, 2, 50) == ["a", "b"]  # nothing promoted: as given


def test_an_unknown_promotion_is_a_400_naming_the_known_ones(
    configured: Any, openapi: dict[str, Any]
) -> None:
    api = configured()
    response = api.get("/recommendations?user_id=u1&promotion=summer")
    assert response.status_code == 400
    error = body(response)["error"]
    assert error["code"] == "unknown_promotion" and error["parameter"] == "promotion"
    assert "garden-week" in error["message"]
    check_response(openapi, "/recommendations", 400, body(response))


def test_the_fallback_honours_a_promotion_it_can_evaluate_on_the_catalog(configured: Any) -> None:
    api = configured()
    api.stubber.add_client_error("get_recommendations", "ThrottlingException", "Rate exceeded", 400)
    response = api.get("/recommendations?user_id=u1&limit=10&promotion=garden-week")
    assert response.headers["X-Recommendations-Source"] == "fallback"
    items = body(response)
    promoted = [i["id"] for i in items if i.get("promotion") == "garden-week"]
    # 20 % of 10: the two most popular Garden items (i30, i27), then the popular list without them.
    assert promoted == ["i30", "i27"]
    assert [i["id"] for i in items[2:7]] == ["i29", "i28", "i26", "i25", "i24"]
    assert len(items) == 10 and len({i["id"] for i in items}) == 10


def test_the_fallback_answers_without_a_promotion_it_cannot_evaluate_and_logs_it(
    configured: Any, recs_log: list[str]
) -> None:
    promotions = {"unseen": {"filter": "exclude-interacted", "percent": 50}}
    api = configured(promotions=promotions)
    api.stubber.add_client_error("get_recommendations", "ThrottlingException", "Rate exceeded", 400)
    items = body(api.get("/recommendations?user_id=u1&limit=4&promotion=unseen"))
    assert [i["id"] for i in items] == ["i30", "i29", "i28", "i27"]
    assert not any("promotion" in i for i in items)
    assert any('"event":"fallback_promotion_skipped"' in line for line in recs_log)


def test_with_campaign_metadata_items_come_from_personalize_not_the_catalog(
    configured: Any, k: SimpleNamespace, openapi: dict[str, Any]
) -> None:
    api = configured(metadata="true")
    api.stubber.add_response(
        "get_recommendations",
        {
            "itemList": [
                {
                    "itemId": "ghost1",  # not in the catalog: Personalize's metadata is enough
                    "score": 0.3,
                    "metadata": {"NAME": "Ghost lamp", "PRICE": "12.5", "IMAGE": "", "URL": "https://x/g1"},
                },
                {"itemId": "i2", "score": 0.2, "metadata": {"NAME": "From Personalize", "PRICE": "bad"}},
            ],
            "recommendationId": "RID-m",
        },
        {
            "campaignArn": k.CAMPAIGN,
            "userId": "u1",
            "numResults": 2,  # exactly the limit: nothing to backfill
            "filterArn": k.FILTERS["exclude-interacted"],
            "metadataColumns": {"ITEMS": ["NAME", "PRICE", "IMAGE", "URL"]},
        },
    )
    response = api.get("/recommendations?user_id=u1&limit=2")
    items = body(response)
    check_response(openapi, "/recommendations", 200, items, dict(response.headers))
    assert items == [
        {"id": "ghost1", "url": "https://x/g1", "name": "Ghost lamp", "price": 12.5, "image": None},
        {
            "id": "i2",
            "url": "https://shop.example.com/product/i2",
            "name": "From Personalize",
            "price": None,
            "image": None,
        },
    ]


def test_with_campaign_metadata_the_limit_is_at_most_50_and_ids_only_ask_for_no_columns(
    configured: Any, k: SimpleNamespace
) -> None:
    api = configured(metadata='{"name": "NAME"}')
    refused = api.get("/recommendations?user_id=u1&limit=51")
    assert refused.status_code == 400 and body(refused)["error"]["parameter"] == "limit"
    api.stubber.add_response(
        "get_recommendations",
        {"itemList": [{"itemId": f"i{n}"} for n in range(1, 61)], "recommendationId": "RID-ids"},
        {
            "campaignArn": k.CAMPAIGN,
            "userId": "u1",
            "numResults": 60,
            "filterArn": k.FILTERS["exclude-interacted"],
        },
    )
    ids = body(api.get("/recommendations?user_id=u1&limit=60&metadata=false"))
    assert len(ids) == 60 and ids[0] == {"id": "i1"}


def test_an_answer_whose_metadata_or_promotion_breaks_the_shape_is_malformed() -> None:
    from chalicelib.backend import _answer
    from chalicelib.errors import BackendError

    for entry in ({"itemId": "i1", "metadata": {"PRICE": 3}}, {"itemId": "i1", "promotionName": 7}):
        with pytest.raises(BackendError) as caught:
            _answer("GetRecommendations", {"itemList": [entry]}, "itemList")
        assert caught.value.reason == "malformed"


@pytest.mark.parametrize(
    ("raw", "where"),
    [
        ('{"x": {"filter": "in-category", "percent": 0, "filter_values": {"CATEGORY": ["a"]}}}', "percent"),
        ('{"x": {"filter": "nope", "percent": 5}}', "PROMOTIONS[x].filter"),
        ('{"x": {"filter": "in-category", "percent": 5}}', "PROMOTIONS[x].filter_values"),
        ('{"-x": {"filter": "in-category", "percent": 5}}', "PROMOTIONS[-x]"),
        (
            '{"x": {"filter": "in-category", "percent": 5, "filter_values": {"OTHER": ["a"]}}}',
            "filter_values",
        ),
        ("[]", "PROMOTIONS"),
    ],
)
def test_bad_promotion_settings_are_refused_naming_where(raw: str, where: str, k: SimpleNamespace) -> None:
    with pytest.raises(SettingsError) as caught:
        parse_promotions(raw, k.make_settings().filters)
    assert where in caught.value.where


@pytest.mark.parametrize("raw", ['{"colour": "C"}', "{}", "[1]", '{"name": ""}', "not json"])
def test_bad_metadata_columns_are_refused(raw: str) -> None:
    with pytest.raises(SettingsError):
        parse_metadata_columns(raw)


def test_the_deploy_renders_promotions_and_metadata_columns_from_the_config() -> None:
    from pipeline.config import load_config
    from pipeline.lifecycle.api_settings import render_environment

    config = load_config()
    config["campaigns"] = [
        {**c, "enable_metadata": c["name"] == config["api"]["campaign"]} for c in config["campaigns"]
    ]
    outputs = {
        "campaign_arns": {
            c["name"]: f"arn:aws:personalize:us-east-1:1:campaign/{c['name']}" for c in config["campaigns"]
        },
        "filter_arns": {
            f["name"]: f"arn:aws:personalize:us-east-1:1:filter/{f['name']}" for f in config["filters"]
        },
        "bucket_name": "b",
        "api_key_parameter_name": "/p",
    }
    env = render_environment(outputs, config)
    promotions = json.loads(env["PROMOTIONS"])
    assert promotions["featured-garden"]["filter"] == "in-category"
    assert json.loads(env["METADATA_COLUMNS"]) == config["api"]["metadata_columns"]
    config["campaigns"] = [{**c, "enable_metadata": False} for c in config["campaigns"]]
    assert render_environment(outputs, config)["METADATA_COLUMNS"] == ""


def test_the_promoted_email_template_marks_promoted_items_featured(
    api: Any, served: str, aws: Any, k: SimpleNamespace
) -> None:
    from braze.render import TEMPLATE_DIR, render_template

    featured = {
        "featured-garden": {"filter": "in-category", "percent": 34, "filter_values": {"CATEGORY": ["x"]}}
    }
    base = k.make_settings()
    settings = k.make_settings(promotions=parse_promotions(json.dumps(featured), base.filters))
    set_runtime(build_runtime(settings, personalize=api.stubber.client, s3=aws["s3"], ssm=aws["ssm"]))
    api.stubber.add_response(
        "get_recommendations",
        {
            "itemList": [
                {"itemId": "i1"},
                {"itemId": "i2", "promotionName": "featured-garden"},
                {"itemId": "i3"},
            ]
        },
    )
    result = render_template(
        TEMPLATE_DIR / "promoted_email_block.liquid",
        user={"user_id": "u1"},
        api_base=served,
        api_key=k.API_KEY,
    )
    assert not result.aborted
    assert result.calls[0].endswith("&promotion=featured-garden")
    assert result.text.count("<strong>Featured</strong>") == 1
    assert '<strong>Featured</strong><br><a href="https://shop.example.com/product/i2">' in result.text
