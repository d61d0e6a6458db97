from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from pipeline.lifecycle.errors import WorseVersionError
from pipeline.lifecycle.promote import run_promote

ARN = "arn:aws:personalize:us-east-1:123456789012"
SOLUTION = f"{ARN}:solution/braze-recs-user-personalization"
LIVE, CANDIDATE = f"{SOLUTION}/live", f"{SOLUTION}/candidate"
CAMPAIGN = f"{ARN}:campaign/braze-recs-user-personalization"
NDCG10 = "normalized_discounted_cumulative_gain_at_10"


def _metrics(stubbed: Any, version: str, ndcg: float) -> None:
    stubbed.personalize.add_response(
        "get_solution_metrics",
        {"solutionVersionArn": version, "metrics": {NDCG10: ndcg}},
        {"solutionVersionArn": version},
    )


def _campaign(stubbed: Any, serving: str) -> None:
    stubbed.personalize.add_response(
        "list_campaigns",
        {"campaigns": [{"name": "braze-recs-user-personalization", "campaignArn": CAMPAIGN}]},
    )
    body = {
        "campaign": {
            "name": "braze-recs-user-personalization",
            "campaignArn": CAMPAIGN,
            "solutionVersionArn": serving,
            "minProvisionedTPS": 1,
            "campaignConfig": {"enableMetadataWithRecommendations": False},
            "status": "ACTIVE",
        }
    }
    stubbed.personalize.add_response("describe_campaign", body)
    stubbed.personalize.add_response("describe_campaign", body)


def _explicit_candidate(stubbed: Any) -> None:
    stubbed.personalize.add_response(
        "describe_solution_version",
        {"solutionVersion": {"solutionVersionArn": CANDIDATE, "solutionArn": SOLUTION}},
    )
    _metrics(stubbed, CANDIDATE, 0.20)
    _campaign(stubbed, LIVE)
    _metrics(stubbed, LIVE, 0.30)


def test_promote_of_a_worse_version_is_refused(stubbed: Any) -> None:
    _explicit_candidate(stubbed)
    with pytest.raises(WorseVersionError) as err:
        run_promote(stubbed.ctx, CANDIDATE)
    assert "0.2000" in err.value.why and "0.3000" in err.value.why
    assert "FORCE=1" in err.value.hint
    stubbed.personalize.assert_no_pending_responses()


def test_force_promotes_a_worse_version(stubbed: Any) -> None:
    _explicit_candidate(stubbed)
    stubbed.personalize.add_response(
        "update_campaign",
        {"campaignArn": CAMPAIGN},
        {
            "campaignArn": CAMPAIGN,
            "solutionVersionArn": CANDIDATE,
            "minProvisionedTPS": 1,
            "campaignConfig": {"enableMetadataWithRecommendations": False},
        },
    )
    stubbed.personalize.add_response(
        "describe_campaign",
        {"campaign": {"campaignArn": CAMPAIGN, "solutionVersionArn": CANDIDATE, "status": "ACTIVE"}},
    )
    [result] = run_promote(stubbed.ctx, CANDIDATE, force=True)
    assert (result.action, result.solution_version_arn) == ("updated", CANDIDATE)
    stubbed.personalize.assert_no_pending_responses()


def test_promoting_best_when_it_is_already_live_changes_nothing(stubbed: Any) -> None:
    old, new = datetime(2026, 1, 1, tzinfo=UTC), datetime(2026, 2, 1, tzinfo=UTC)
    stubbed.personalize.add_response(
        "list_solution_versions",
        {
            "solutionVersions": [
                {"solutionVersionArn": CANDIDATE, "status": "ACTIVE", "creationDateTime": new},
                {"solutionVersionArn": LIVE, "status": "ACTIVE", "creationDateTime": old},
                {
                    "solutionVersionArn": f"{SOLUTION}/failed",
                    "status": "CREATE FAILED",
                    "creationDateTime": new,
                },
            ]
        },
        {"solutionArn": SOLUTION},
    )
    _metrics(stubbed, CANDIDATE, 0.20)
    _metrics(stubbed, LIVE, 0.30)
    _campaign(stubbed, LIVE)
    # No update_campaign stubbed: calling it would fail the test.
    [result] = run_promote(stubbed.ctx, "best", campaign="user-personalization")
    assert (result.action, result.solution_version_arn) == ("unchanged", LIVE)
    stubbed.personalize.assert_no_pending_responses()


def test_creates_the_campaign_with_the_configured_throughput(stubbed: Any) -> None:
    stubbed.personalize.add_response(
        "list_solution_versions", {"solutionVersions": [{"solutionVersionArn": LIVE, "status": "ACTIVE"}]}
    )
    _metrics(stubbed, LIVE, 0.30)
    stubbed.personalize.add_response("list_campaigns", {"campaigns": []})
    stubbed.personalize.add_response(
        "create_campaign",
        {"campaignArn": CAMPAIGN},
        {
            "name": "braze-recs-user-personalization",
            "solutionVersionArn": LIVE,
            "minProvisionedTPS": 1,
            "campaignConfig": {"enableMetadataWithRecommendations": False},
        },
    )
    stubbed.personalize.add_response(
        "describe_campaign", {"campaign": {"campaignArn": CAMPAIGN, "status": "CREATE IN_PROGRESS"}}
    )
    stubbed.personalize.add_response(
        "describe_campaign", {"campaign": {"campaignArn": CAMPAIGN, "status": "ACTIVE"}}
    )
    [result] = run_promote(stubbed.ctx, "best", campaign="user-personalization")
    assert result.action == "created"
    assert (
        "waiting for campaign braze-recs-user-personalization: CREATE IN_PROGRESS" in stubbed.out.getvalue()
    )
