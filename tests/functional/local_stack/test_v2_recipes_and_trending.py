"""v2 recipes with event weights, UpdateSolution, rankingInfluence and Trending-Now through plain boto3
against the emulator, every response checked against botocore's output shapes."""

from __future__ import annotations

import datetime as dt
import random
from typing import Any

import pytest
from botocore.exceptions import ClientError

pytestmark = pytest.mark.functional

ROLE = "arn:aws:iam::123456789012:role/personalize"
RECIPE = "arn:aws:personalize:::recipe/"
FRESH_ITEM = "p8"  # created last; one of the items the model ranks lowest for u3
PURCHASE_HEAVY = {
    "eventParametersList": [{"eventType": "Purchase", "weight": 1.0}, {"eventType": "View", "weight": 0.05}]
}
ITEM_HEADER = "ITEM_ID,CATEGORY_L1,CATEGORY_L2,PRICE,CREATION_TIMESTAMP,NAME,URL,IMAGE,DESCRIPTION"


def views_and_purchases() -> dict[str, str]:
    """200 users view 5 of 10 v-items twice each and buy 2 of 10 p-items: views dominate by count.
    Every item was created long ago except FRESH_ITEM."""
    rng = random.Random(0)
    rows = ["USER_ID,ITEM_ID,TIMESTAMP,EVENT_TYPE,EVENT_VALUE"]
    for u in range(200):
        t = 1_700_000_000
        for item in rng.sample(range(10), 5):
            for _ in range(2):
                rows.append(f"u{u},v{item},{t},View,")
                t += 60
        for item in rng.sample(range(10), 2):
            rows.append(f"u{u},p{item},{t},Purchase,1")
            t += 60
    items = [ITEM_HEADER]
    for name in [f"v{k}" for k in range(10)] + [f"p{k}" for k in range(10)]:
        created = 1_699_000_000 if name == FRESH_ITEM else 1_600_000_000
        items.append(f"{name},shoes,,9.5,{created},{name},https://shop.example.com/{name},,")
    return {"interactions": "\n".join(rows) + "\n", "items": "\n".join(items) + "\n"}


def surge_in_the_last_day() -> dict[str, str]:
    """30 items interacted with evenly for 9 days; t0..t2 only a little, until they surge on the last day."""
    rng = random.Random(1)
    start, day = 1_700_000_000, 86_400
    rows = ["USER_ID,ITEM_ID,TIMESTAMP,EVENT_TYPE,EVENT_VALUE"]
    for k in range(1200):
        rows.append(f"u{k % 150},i{rng.randrange(30)},{start + rng.randrange(9 * day)},View,")
    for k in range(60):
        rows.append(f"u{k % 150},t{k % 3},{start + rng.randrange(9 * day)},View,")
    for k in range(300):
        rows.append(f"u{k % 150},t{k % 3},{start + 9 * day + rng.randrange(day)},View,")
    return {"interactions": "\n".join(rows) + "\n"}


@pytest.fixture(scope="module")
def group(clients: dict[str, Any], h: Any) -> str:
    _, group, _ = h.imported_group(clients["personalize"], clients["s3"], views_and_purchases(), ROLE)
    return group


def _solution(p: Any, h: Any, group: str, recipe: str, **config: Any) -> str:
    arn = p.create_solution(
        name=h.unique(recipe.removeprefix("aws-")),
        datasetGroupArn=group,
        recipeArn=RECIPE + recipe,
        performAutoTraining=False,
        solutionConfig=config,
    )["solutionArn"]
    assert h.wait_for(lambda: p.describe_solution(solutionArn=arn)["solution"])["status"] == "ACTIVE"
    return arn


def _version(p: Any, h: Any, solution: str) -> str:
    arn = p.create_solution_version(solutionArn=solution)["solutionVersionArn"]
    done = h.wait_for(lambda: p.describe_solution_version(solutionVersionArn=arn)["solutionVersion"])
    assert done["status"] == "ACTIVE", done.get("failureReason")
    return str(arn)


def _campaign(p: Any, h: Any, version: str, **config: Any) -> str:
    arn = p.create_campaign(
        name=h.unique("campaign"), solutionVersionArn=version, minProvisionedTPS=1, campaignConfig=config
    )["campaignArn"]
    assert h.wait_for(lambda: p.describe_campaign(campaignArn=arn)["campaign"])["status"] == "ACTIVE"
    return str(arn)


def _top(rt: Any, campaign: str, user: str | None = "u3", n: int = 5) -> list[str]:
    params: dict[str, Any] = {"campaignArn": campaign, "numResults": n}
    if user is not None:
        params["userId"] = user
    return [entry["itemId"] for entry in rt.get_recommendations(**params)["itemList"]]


@pytest.fixture(scope="module")
def plain_version(clients: dict[str, Any], h: Any, group: str) -> tuple[str, str]:
    p = clients["personalize"]
    solution = _solution(p, h, group, "aws-user-personalization-v2")
    return solution, _version(p, h, solution)


def _refused(call: Any, code: str, match: str) -> None:
    with pytest.raises(ClientError) as caught:
        call()
    assert caught.value.response["Error"]["Code"] == code
    assert match in caught.value.response["Error"]["Message"]


def test_events_config_is_refused_on_a_v1_recipe_and_out_of_range(
    clients: dict[str, Any], h: Any, group: str
) -> None:
    p = clients["personalize"]
    _refused(
        lambda: _solution(p, h, group, "aws-user-personalization", eventsConfig=PURCHASE_HEAVY),
        "InvalidInputException",
        "does not support an events configuration",
    )
    too_heavy = {"eventParametersList": [{"eventType": "Purchase", "weight": 1.5}]}
    _refused(
        lambda: _solution(p, h, group, "aws-user-personalization-v2", eventsConfig=too_heavy),
        "InvalidInputException",
        "outside",
    )
    eleven = {"eventParametersList": [{"eventType": f"t{k}", "weight": 0.5} for k in range(11)]}
    _refused(
        lambda: _solution(p, h, group, "aws-personalized-ranking-v2", eventsConfig=eleven),
        "InvalidInputException",
        "less than or equal to 10",  # the model's limit, checked before the recipe's rules
    )


def test_update_solution_sets_event_weights_that_change_recommendations(
    clients: dict[str, Any], h: Any, plain_version: tuple[str, str]
) -> None:
    p, rt = clients["personalize"], clients["personalize-runtime"]
    solution, plain = plain_version
    before = _top(rt, _campaign(p, h, plain))
    assert any(item.startswith("v") for item in before), before  # views outnumber purchases

    p.update_solution(solutionArn=solution, solutionUpdateConfig={"eventsConfig": PURCHASE_HEAVY})
    update = h.wait_for(lambda: p.describe_solution(solutionArn=solution)["solution"]["latestSolutionUpdate"])
    assert update["status"] == "ACTIVE"
    assert update["solutionUpdateConfig"]["eventsConfig"] == PURCHASE_HEAVY
    described = p.describe_solution(solutionArn=solution)["solution"]
    assert described["solutionConfig"]["eventsConfig"] == PURCHASE_HEAVY
    # The version trained before the update keeps the configuration it was trained with.
    old = p.describe_solution_version(solutionVersionArn=plain)["solutionVersion"]
    assert "eventsConfig" not in old["solutionConfig"]

    weighted = _version(p, h, solution)
    after = _top(rt, _campaign(p, h, weighted))
    assert all(item.startswith("p") for item in after), after


def test_update_solution_refuses_a_schedule_outside_one_to_thirty_days(
    clients: dict[str, Any], h: Any, group: str
) -> None:
    p = clients["personalize"]
    solution = _solution(p, h, group, "aws-popularity-count")
    _refused(
        lambda: p.update_solution(
            solutionArn=solution,
            performAutoTraining=True,
            solutionUpdateConfig={"autoTrainingConfig": {"schedulingExpression": "rate(45 days)"}},
        ),
        "InvalidInputException",
        "between 1 and 30",
    )


def test_ranking_influence_lifts_popular_and_fresh_items(
    clients: dict[str, Any], h: Any, plain_version: tuple[str, str]
) -> None:
    p, rt = clients["personalize"], clients["personalize-runtime"]
    _, version = plain_version
    plain = _top(rt, _campaign(p, h, version), n=20)
    fresh = _top(rt, _campaign(p, h, version, rankingInfluence={"FRESHNESS": 1.0}), n=20)
    assert plain.index(FRESH_ITEM) >= 10, plain
    assert fresh.index(FRESH_ITEM) <= 1, fresh

    campaign = _campaign(p, h, version, rankingInfluence={"POPULARITY": 1.0})
    described = p.describe_campaign(campaignArn=campaign)["campaign"]
    assert described["campaignConfig"]["rankingInfluence"] == {"POPULARITY": 1.0}
    popular = _top(rt, campaign, n=20)
    # Views outnumber purchases: the most interacted-with items are v-items, and popularity lifts them.
    assert not all(i.startswith("v") for i in plain[:5]), plain
    assert all(i.startswith("v") for i in popular[:5]), popular


def test_ranking_influence_is_refused_out_of_range_and_on_other_recipes(
    clients: dict[str, Any], h: Any, group: str, plain_version: tuple[str, str]
) -> None:
    p = clients["personalize"]
    _, version = plain_version
    _refused(
        lambda: _campaign(p, h, version, rankingInfluence={"FRESHNESS": 1.5}),
        "InvalidInputException",
        "outside",
    )
    popularity = _version(p, h, _solution(p, h, group, "aws-popularity-count"))
    _refused(
        lambda: _campaign(p, h, popularity, rankingInfluence={"POPULARITY": 0.5}),
        "InvalidInputException",
        "does not support ranking influence",
    )


def test_trending_now_answers_the_items_that_surged_first_without_a_user(
    clients: dict[str, Any], h: Any
) -> None:
    p, s3, rt = clients["personalize"], clients["s3"], clients["personalize-runtime"]
    _, trend_group, _ = h.imported_group(p, s3, surge_in_the_last_day(), ROLE)
    solution = p.create_solution(
        name=h.unique("trending"),
        datasetGroupArn=trend_group,
        recipeArn=RECIPE + "aws-trending-now",
        performAutoTraining=False,
        solutionConfig={"algorithmHyperParameters": {"trend_discovery_frequency": "1 day"}},
    )["solutionArn"]
    h.wait_for(lambda: p.describe_solution(solutionArn=solution)["solution"])
    version = _version(p, h, solution)
    campaign = _campaign(p, h, version)
    assert sorted(_top(rt, campaign, user=None, n=3)) == ["t0", "t1", "t2"]
    assert sorted(_top(rt, campaign, user="u1", n=3)) == ["t0", "t1", "t2"]  # the same for everyone

    # New interactions count without a new solution version: a burst of events on i5 makes it trend.
    tracker = p.create_event_tracker(name=h.unique("tracker"), datasetGroupArn=trend_group)
    h.wait_for(lambda: p.describe_event_tracker(eventTrackerArn=tracker["eventTrackerArn"])["eventTracker"])
    now = dt.datetime.now(dt.UTC)
    for user in ("u1", "u2", "u3"):
        clients["personalize-events"].put_events(
            trackingId=tracker["trackingId"],
            userId=user,
            sessionId=f"s-{user}",
            eventList=[
                {"eventType": "View", "itemId": "i5", "sentAt": now - dt.timedelta(minutes=k)}
                for k in range(5)
            ],
        )
    assert _top(rt, campaign, user=None, n=1) == ["i5"]
    _refused(
        lambda: p.create_batch_inference_job(
            jobName=h.unique("batch"),
            solutionVersionArn=version,
            jobInput={"s3DataSource": {"path": "s3://nowhere/in.json"}},
            jobOutput={"s3DataDestination": {"path": "s3://nowhere/out/"}},
            roleArn=ROLE,
        ),
        "InvalidInputException",
        "not supported",
    )


def test_every_response_was_shape_checked(shape_log: Any) -> None:
    assert shape_log.checked > 0 and not shape_log.problems
