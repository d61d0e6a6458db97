"""/recommendations from a v2 campaign with rankingInfluence: the API serves the influenced order."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.functional.api.world import Served, World, serve_api, stop, wait_active

pytestmark = pytest.mark.functional


@pytest.fixture(scope="module")
def v2_campaigns(world: World, local_stack: Any) -> tuple[str, str]:
    """(plain, popularity-influenced) campaigns on one aws-user-personalization-v2 version of the world."""
    p = local_stack.client("personalize")
    version = p.describe_campaign(campaignArn=world.campaign_arn)["campaign"]["solutionVersionArn"]
    group = p.describe_solution_version(solutionVersionArn=version)["solutionVersion"]["datasetGroupArn"]
    prefix = f"ri-{uuid.uuid4().hex[:8]}"
    solution = p.create_solution(
        name=prefix,
        datasetGroupArn=group,
        recipeArn="arn:aws:personalize:::recipe/aws-user-personalization-v2",
    )["solutionArn"]
    wait_active("v2 solution", p.describe_solution, "solution", solutionArn=solution)
    v2 = p.create_solution_version(solutionArn=solution)["solutionVersionArn"]
    wait_active("v2 version", p.describe_solution_version, "solutionVersion", solutionVersionArn=v2)
    arns = []
    for name, config in (("plain", {}), ("popular", {"rankingInfluence": {"POPULARITY": 1.0}})):
        arn = p.create_campaign(name=f"{prefix}-{name}", solutionVersionArn=v2, campaignConfig=config)[
            "campaignArn"
        ]
        wait_active(f"{name} campaign", p.describe_campaign, "campaign", campaignArn=arn)
        arns.append(arn)
    return arns[0], arns[1]


@pytest.fixture(scope="module")
def influenced_api(
    world: World, v2_campaigns: tuple[str, str], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Served]:
    served = serve_api(
        {**world.env, "CAMPAIGN_ARN": v2_campaigns[1]}, Path(tmp_path_factory.mktemp("ri")) / "log"
    )
    yield served
    stop(served)


def test_the_api_serves_the_popularity_influenced_order_of_its_campaign(
    influenced_api: Served, world: World, local_stack: Any, v2_campaigns: tuple[str, str]
) -> None:
    runtime = local_stack.client("personalize-runtime")
    plain, influenced = v2_campaigns
    rank = {item: n for n, item in enumerate(world.shop.popular)}

    def top(campaign: str, user: str) -> list[str]:
        answer = runtime.get_recommendations(
            campaignArn=campaign, userId=user, numResults=5, filterArn=world.filters["exclude-interacted"]
        )
        return [entry["itemId"] for entry in answer["itemList"]]

    users = sorted(world.shop.history)[:40]
    served = {
        user: [
            i["id"]
            for i in influenced_api.get(f"/recommendations?user_id={user}&limit=5&metadata=false").json()
        ]
        for user in users
    }
    assert served == {user: top(influenced, user) for user in users}  # the API passes the campaign's order on
    plain_lists = {user: top(plain, user) for user in users}
    assert served != plain_lists

    def mean_popularity_rank(lists: dict[str, list[str]]) -> float:
        ranks = [rank.get(item, len(rank)) for items in lists.values() for item in items]
        return sum(ranks) / len(ranks)

    # POPULARITY 1.0 lifts popular items: the served lists sit higher in the popularity order.
    assert mean_popularity_rank(served) < mean_popularity_rank(plain_lists)
