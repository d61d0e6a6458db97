"""events_config through UpdateSolution (train) and ranking_influence through CreateCampaign (promote)."""

from __future__ import annotations

import copy
import dataclasses
from datetime import UTC, datetime
from typing import Any

import pytest

from pipeline.lifecycle.errors import ConfigCheckError
from pipeline.lifecycle.promote import run_promote
from pipeline.lifecycle.training import check_solution_config, run_train

ARN = "arn:aws:personalize:us-east-1:123456789012"
SOLUTION = f"{ARN}:solution/braze-recs-user-personalization"
VERSION = f"{SOLUTION}/v1"
CAMPAIGN = f"{ARN}:campaign/braze-recs-user-personalization"
EVENTS = [
    {"event_type": "Purchase", "weight": 1.0},
    {"event_type": "View", "weight": 0.2, "event_value_threshold": 2},
]
API_EVENTS = {
    "eventParametersList": [
        {"eventType": "Purchase", "weight": 1.0},
        {"eventType": "View", "weight": 0.2, "eventValueThreshold": 2.0},
    ]
}


def _v2(stubbed: Any, solution: dict[str, Any] | None = None, campaign: dict[str, Any] | None = None) -> Any:
    """The stubbed context with user-personalization on the v2 recipe and these settings."""
    config = copy.deepcopy(stubbed.ctx.config)
    spec = next(s for s in config["solutions"] if s["name"] == "user-personalization")
    spec.update(
        recipe="aws-user-personalization-v2", hyperparameters={"hidden_dimension": "64"}, **(solution or {})
    )
    target = next(c for c in config["campaigns"] if c["name"] == "user-personalization")
    target.update(campaign or {})
    return dataclasses.replace(stubbed.ctx, config=config)


def _described(events: dict[str, Any] | None) -> dict[str, Any]:
    config: dict[str, Any] = {"algorithmHyperParameters": {"hidden_dimension": "64"}}
    if events is not None:
        config["eventsConfig"] = events
    return {
        "solution": {
            "name": "braze-recs-user-personalization",
            "solutionArn": SOLUTION,
            "status": "ACTIVE",
            "performHPO": False,
            "performAutoTraining": False,
            "solutionConfig": config,
        }
    }


def _up_to_date_version(stubbed: Any) -> None:
    stubbed.personalize.add_response(
        "list_solution_versions",
        {
            "solutionVersions": [
                {
                    "solutionVersionArn": VERSION,
                    "status": "ACTIVE",
                    "creationDateTime": datetime(2026, 2, 1, tzinfo=UTC),
                }
            ]
        },
    )
    for dataset in ("INTERACTIONS", "USERS", "ITEMS"):
        stubbed.personalize.add_response(
            "list_dataset_import_jobs",
            {
                "datasetImportJobs": [
                    {"status": "ACTIVE", "lastUpdatedDateTime": datetime(2026, 1, 1, tzinfo=UTC)}
                ]
            },
            {"datasetArn": f"{ARN}:dataset/braze-recs/{dataset}"},
        )
    stubbed.personalize.add_response(
        "describe_solution_version", {"solutionVersion": {"solutionVersionArn": VERSION, "status": "ACTIVE"}}
    )
    stubbed.personalize.add_response("get_solution_metrics", {"solutionVersionArn": VERSION, "metrics": {}})


def test_train_sets_the_configured_event_weights_with_update_solution(stubbed: Any) -> None:
    ctx = _v2(stubbed, {"events_config": EVENTS})
    stubbed.personalize.add_response("describe_solution", _described(None))
    stubbed.personalize.add_response("describe_solution", _described(None))
    stubbed.personalize.add_response(
        "update_solution",
        {"solutionArn": SOLUTION},
        {
            "solutionArn": SOLUTION,
            "performAutoTraining": False,
            "solutionUpdateConfig": {"eventsConfig": API_EVENTS},
        },
    )
    stubbed.personalize.add_response(
        "describe_solution",
        {
            "solution": {
                **_described(None)["solution"],
                "latestSolutionUpdate": {
                    "status": "ACTIVE",
                    "solutionUpdateConfig": {"eventsConfig": API_EVENTS},
                },
            }
        },
    )
    _up_to_date_version(stubbed)
    [result] = run_train(ctx, "user-personalization")
    assert result.auto_training_updated
    assert "events configuration updated" in stubbed.out.getvalue()
    stubbed.personalize.assert_no_pending_responses()


def test_train_leaves_event_weights_that_already_match_alone(stubbed: Any) -> None:
    ctx = _v2(stubbed, {"events_config": EVENTS})
    stubbed.personalize.add_response("describe_solution", _described(API_EVENTS))
    stubbed.personalize.add_response("describe_solution", _described(API_EVENTS))
    _up_to_date_version(stubbed)  # no update_solution stubbed: calling it would fail the test
    [result] = run_train(ctx, "user-personalization")
    assert not result.auto_training_updated
    stubbed.personalize.assert_no_pending_responses()


def test_events_config_on_a_v1_recipe_is_refused_before_any_call() -> None:
    with pytest.raises(ConfigCheckError) as err:
        check_solution_config({"name": "up", "recipe": "aws-user-personalization", "events_config": EVENTS})
    assert err.value.where == "solutions/up/events_config"
    assert "does not support an events configuration" in err.value.why


def test_promote_creates_the_campaign_with_its_ranking_influence(stubbed: Any) -> None:
    ctx = _v2(stubbed, campaign={"ranking_influence": {"FRESHNESS": 0.5}})
    stubbed.personalize.add_response(
        "list_solution_versions", {"solutionVersions": [{"solutionVersionArn": VERSION, "status": "ACTIVE"}]}
    )
    stubbed.personalize.add_response("get_solution_metrics", {"solutionVersionArn": VERSION, "metrics": {}})
    stubbed.personalize.add_response("list_campaigns", {"campaigns": []})
    stubbed.personalize.add_response(
        "create_campaign",
        {"campaignArn": CAMPAIGN},
        {
            "name": "braze-recs-user-personalization",
            "solutionVersionArn": VERSION,
            "minProvisionedTPS": 1,
            "campaignConfig": {
                "enableMetadataWithRecommendations": False,
                "rankingInfluence": {"POPULARITY": 0.0, "FRESHNESS": 0.5},
            },
        },
    )
    stubbed.personalize.add_response(
        "describe_campaign", {"campaign": {"campaignArn": CAMPAIGN, "status": "ACTIVE"}}
    )
    [result] = run_promote(ctx, "best", campaign="user-personalization")
    assert result.action == "created"
    stubbed.personalize.assert_no_pending_responses()


def test_promote_refuses_ranking_influence_on_a_recipe_without_it_before_any_call(stubbed: Any) -> None:
    config = copy.deepcopy(stubbed.ctx.config)
    next(c for c in config["campaigns"] if c["name"] == "similar-items")["ranking_influence"] = {
        "POPULARITY": 1
    }
    ctx = dataclasses.replace(stubbed.ctx, config=config)
    with pytest.raises(ConfigCheckError, match="does not support ranking influence"):
        run_promote(ctx, "best", campaign="similar-items")


def test_a_schedule_beyond_thirty_days_is_refused_before_any_call() -> None:
    with pytest.raises(ConfigCheckError) as err:
        check_solution_config(
            {
                "name": "pop",
                "recipe": "aws-popularity-count",
                "auto_training": True,
                "scheduling_expression": "rate(60 days)",
            }
        )
    assert err.value.where == "solutions/pop/scheduling_expression"
