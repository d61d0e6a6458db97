"""Promotions and item metadata in GetRecommendations, with plain boto3 against the emulator over HTTP.

Every successful answer is checked against botocore's output shape (the `clients` fixture); refusals are
checked for the documented exception and a message naming the rule.
"""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError

from personalize_rules.promotion_rules import promoted_count

pytestmark = pytest.mark.functional

ACCOUNT = "123456789012"
PROMOTED_CATEGORY = "hats"


@pytest.fixture(scope="module")
def world(clients: dict[str, Any], h: Any) -> dict[str, Any]:
    """A small imported group, two filters, a user-personalization campaign with metadata and a
    popularity campaign without."""
    p, s3 = clients["personalize"], clients["s3"]
    role = f"arn:aws:iam::{ACCOUNT}:role/personalize"
    data = h.make_dataset(n_users=60, n_items=80, per_user=20)
    _, group, _ = h.imported_group(p, s3, data, role)
    filters = {
        name: p.create_filter(name=h.unique(name), datasetGroupArn=group, filterExpression=expression)[
            "filterArn"
        ]
        for name, expression in (
            ("in-category", "INCLUDE ItemID WHERE Items.CATEGORY_L1 IN ($CATEGORY)"),
            ("not-category", "EXCLUDE ItemID WHERE Items.CATEGORY_L1 IN ($CATEGORY)"),
        )
    }
    campaigns = {}
    for recipe, hp, metadata in (
        ("aws-user-personalization", {"hidden_dimension": "32"}, True),
        ("aws-popularity-count", {}, False),
    ):
        _, version = h.trained_version(p, group, recipe, hp)
        campaigns[recipe] = p.create_campaign(
            name=h.unique("campaign"),
            solutionVersionArn=version,
            minProvisionedTPS=1,
            campaignConfig={"enableMetadataWithRecommendations": metadata},
        )["campaignArn"]
    for arn in campaigns.values():
        assert h.wait_for(lambda a=arn: p.describe_campaign(campaignArn=a)["campaign"])["status"] == "ACTIVE"
    for arn in filters.values():
        assert h.wait_for(lambda a=arn: p.describe_filter(filterArn=a)["filter"])["status"] == "ACTIVE"
    category = {f"i{k}": ("shoes", "hats", "bags", "toys")[k % 4] for k in range(80)}
    return {"group": group, "filters": filters, "campaigns": campaigns, "category": category}


def _promotion(world: dict[str, Any], percent: int, name: str = "hat-week") -> dict[str, Any]:
    return {
        "name": name,
        "percentPromotedItems": percent,
        "filterArn": world["filters"]["in-category"],
        "filterValues": {"CATEGORY": f'"{PROMOTED_CATEGORY}"'},
    }


@pytest.mark.parametrize("n", [10, 7])
def test_the_documented_share_is_promoted_each_item_tagged_and_none_twice(
    clients: dict[str, Any], world: dict[str, Any], n: int
) -> None:
    rt = clients["personalize-runtime"]
    out = rt.get_recommendations(
        campaignArn=world["campaigns"]["aws-user-personalization"],
        userId="u0",  # prefers shoes: hats would rarely be recommended without the promotion
        numResults=n,
        promotions=[_promotion(world, 30)],
    )["itemList"]
    promoted = [i for i in out if i.get("promotionName") == "hat-week"]
    assert len(out) == n
    assert len(promoted) == promoted_count(n, 30)
    assert all(world["category"][i["itemId"]] == PROMOTED_CATEGORY for i in promoted)
    assert len({i["itemId"] for i in out}) == n
    assert all("promotionName" not in i for i in out if i not in promoted)


def test_the_request_filter_applies_to_the_other_items_only(
    clients: dict[str, Any], world: dict[str, Any]
) -> None:
    rt = clients["personalize-runtime"]
    out = rt.get_recommendations(
        campaignArn=world["campaigns"]["aws-popularity-count"],
        userId="u3",
        numResults=20,
        filterArn=world["filters"]["not-category"],
        filterValues={"CATEGORY": f'"{PROMOTED_CATEGORY}"'},
        promotions=[_promotion(world, 50)],
    )["itemList"]
    promoted = [i["itemId"] for i in out if "promotionName" in i]
    others = [i["itemId"] for i in out if "promotionName" not in i]
    assert len(promoted) == 10 and all(world["category"][i] == PROMOTED_CATEGORY for i in promoted)
    assert len(others) == 10 and all(world["category"][i] != PROMOTED_CATEGORY for i in others)


def test_metadata_columns_come_back_as_strings_with_promotions(
    clients: dict[str, Any], world: dict[str, Any]
) -> None:
    out = clients["personalize-runtime"].get_recommendations(
        campaignArn=world["campaigns"]["aws-user-personalization"],
        userId="u5",
        numResults=50,
        metadataColumns={"ITEMS": ["NAME", "PRICE", "CATEGORY_L1"]},
        promotions=[_promotion(world, 10)],
    )["itemList"]
    assert len(out) == 50
    for item in out:
        assert set(item["metadata"]) == {"NAME", "PRICE", "CATEGORY_L1"}
        assert all(isinstance(v, str) for v in item["metadata"].values())
        assert item["metadata"]["CATEGORY_L1"] == world["category"][item["itemId"]]
    assert sum(1 for i in out if i.get("promotionName")) == 5


def test_update_campaign_turns_metadata_on(clients: dict[str, Any], world: dict[str, Any], h: Any) -> None:
    p, rt = clients["personalize"], clients["personalize-runtime"]
    source = world["campaigns"]["aws-popularity-count"]
    version = p.describe_campaign(campaignArn=source)["campaign"]["solutionVersionArn"]
    campaign = p.create_campaign(name=h.unique("campaign"), solutionVersionArn=version, minProvisionedTPS=1)[
        "campaignArn"
    ]
    described = h.wait_for(lambda: p.describe_campaign(campaignArn=campaign)["campaign"])
    assert described["campaignConfig"]["enableMetadataWithRecommendations"] is False
    with pytest.raises(rt.exceptions.InvalidInputException, match="enableMetadataWithRecommendations"):
        rt.get_recommendations(campaignArn=campaign, userId="u1", metadataColumns={"ITEMS": ["NAME"]})
    p.update_campaign(campaignArn=campaign, campaignConfig={"enableMetadataWithRecommendations": True})
    h.wait_for(lambda: p.describe_campaign(campaignArn=campaign)["campaign"]["latestCampaignUpdate"])
    out = rt.get_recommendations(
        campaignArn=campaign, userId="u1", numResults=3, metadataColumns={"ITEMS": ["NAME"]}
    )
    assert all(set(i["metadata"]) == {"NAME"} for i in out["itemList"])


def _refusal(call: Any) -> tuple[str, str]:
    with pytest.raises(ClientError) as caught:
        call()
    error = caught.value.response["Error"]
    return error["Code"], error["Message"]


def test_what_personalize_refuses(clients: dict[str, Any], world: dict[str, Any]) -> None:
    rt = clients["personalize-runtime"]
    up = world["campaigns"]["aws-user-personalization"]
    pop = world["campaigns"]["aws-popularity-count"]
    missing_filter = world["filters"]["in-category"].rsplit("/", 1)[0] + "/no-such-filter"
    cases = [
        (
            {"campaignArn": up, "userId": "u1", "promotions": [_promotion(world, 101)]},
            "InvalidInputException",
            "percentPromotedItems",
        ),
        (
            {"campaignArn": up, "userId": "u1", "promotions": [_promotion(world, 10)] * 2},
            "InvalidInputException",
            "promotions",
        ),
        (
            {
                "campaignArn": up,
                "userId": "u1",
                "promotions": [{**_promotion(world, 10), "filterArn": missing_filter}],
            },
            "ResourceNotFoundException",
            "no-such-filter",
        ),
        (
            {"campaignArn": up, "userId": "u1", "metadataColumns": {"ITEMS": [f"C{i}" for i in range(11)]}},
            "InvalidInputException",
            "at most 10 columns",
        ),
        (
            {"campaignArn": up, "userId": "u1", "metadataColumns": {"ITEMS": ["NAME", "COLOUR"]}},
            "InvalidInputException",
            "COLOUR",
        ),
        (
            {"campaignArn": up, "userId": "u1", "numResults": 51, "metadataColumns": {"ITEMS": ["NAME"]}},
            "InvalidInputException",
            "at most 50",
        ),
        (
            {"campaignArn": pop, "userId": "u1", "metadataColumns": {"ITEMS": ["NAME"]}},
            "InvalidInputException",
            "enableMetadataWithRecommendations",
        ),
    ]
    for params, code, words in cases:
        got_code, message = _refusal(lambda params=params: rt.get_recommendations(**params))
        assert (got_code, words in message) == (code, True), (params, got_code, message)
    # Without metadata the same campaign answers up to 500.
    assert len(rt.get_recommendations(campaignArn=up, userId="u1", numResults=60)["itemList"]) == 60
