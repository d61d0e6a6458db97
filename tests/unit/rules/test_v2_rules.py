"""Personalize's documented rules for eventsConfig, rankingInfluence and auto-training schedules."""

from __future__ import annotations

from typing import Any

import pytest

from personalize_rules.auto_training import AutoTrainingError, check_scheduling_expression
from personalize_rules.events_config import EventParameter, EventsConfigError, parse_events_config
from personalize_rules.ranking_influence import RankingInfluenceError, parse_ranking_influence

V2 = "aws-user-personalization-v2"


def _params(*entries: dict[str, Any]) -> dict[str, Any]:
    return {"eventParametersList": list(entries)}


def test_events_config_parses_weights_and_thresholds() -> None:
    parsed = parse_events_config(
        "aws-personalized-ranking-v2",
        _params(
            {"eventType": "Purchase", "weight": 1.0},
            {"eventType": "View", "weight": 0.2, "eventValueThreshold": 0.5},
        ),
    )
    assert parsed == [EventParameter("Purchase", 1.0), EventParameter("View", 0.2, 0.5)]


def test_no_events_config_is_no_weighting() -> None:
    assert parse_events_config("aws-user-personalization", None) == []
    assert parse_events_config(V2, {}) == []


@pytest.mark.parametrize("recipe", ["aws-user-personalization", "aws-sims", "aws-trending-now"])
def test_events_config_is_refused_on_recipes_other_than_v2(recipe: str) -> None:
    with pytest.raises(EventsConfigError, match="does not support an events configuration"):
        parse_events_config(recipe, _params({"eventType": "Purchase", "weight": 1.0}))


@pytest.mark.parametrize(
    ("entries", "message"),
    [
        ([{"eventType": "Purchase", "weight": 1.5}], "outside"),
        ([{"eventType": "Purchase", "weight": -0.1}], "outside"),
        ([{"eventType": "Purchase"}], "weight .* is required"),
        ([{"weight": 0.5}], "event type is required"),
        ([{"eventType": "x" * 257, "weight": 0.5}], "longer than 256"),
        ([{"eventType": "View", "weight": 0.5}, {"eventType": "View", "weight": 0.1}], "listed twice"),
        ([{"eventType": "View", "weight": 0.0}], "every weight is 0"),
        ([{"eventType": "View", "weight": "heavy"}], "not a number"),
        ([{"eventType": f"t{i}", "weight": 0.5} for i in range(11)], "at most 10"),
    ],
)
def test_events_config_limits_are_enforced(entries: list[dict[str, Any]], message: str) -> None:
    with pytest.raises(EventsConfigError, match=message):
        parse_events_config(V2, _params(*entries))


def test_ranking_influence_fills_the_documented_zero_defaults() -> None:
    assert parse_ranking_influence(V2, {"POPULARITY": 0.4}) == {"POPULARITY": 0.4, "FRESHNESS": 0.0}
    assert parse_ranking_influence("aws-sims", None) == {}


@pytest.mark.parametrize(
    ("recipe", "influence", "message"),
    [
        (V2, {"RECENCY": 0.5}, "unknown key"),
        (V2, {"FRESHNESS": 1.01}, "outside"),
        (V2, {"POPULARITY": -1}, "outside"),
        (V2, {"POPULARITY": True}, "not a number"),
        ("aws-user-personalization", {"POPULARITY": 0.5}, "does not support ranking influence"),
    ],
)
def test_ranking_influence_refuses_what_personalize_refuses(
    recipe: str, influence: dict[str, Any], message: str
) -> None:
    with pytest.raises(RankingInfluenceError, match=message):
        parse_ranking_influence(recipe, influence)


@pytest.mark.parametrize(
    ("expression", "days"), [("rate(1 day)", 1), ("rate(7 days)", 7), ("rate(30 days)", 30)]
)
def test_scheduling_expressions_within_one_to_thirty_days_are_accepted(expression: str, days: int) -> None:
    assert check_scheduling_expression(expression) == days


@pytest.mark.parametrize(
    "expression", ["rate(0 days)", "rate(31 days)", "rate(7 hours)", "cron(0 0 * * ? *)"]
)
def test_other_scheduling_expressions_are_refused(expression: str) -> None:
    with pytest.raises(AutoTrainingError):
        check_scheduling_expression(expression)
