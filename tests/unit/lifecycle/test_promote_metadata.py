"""`enable_metadata: true` reaches the campaign as campaignConfig.enableMetadataWithRecommendations."""

from __future__ import annotations

import copy
from typing import Any

from pipeline.lifecycle.promote import run_promote

ARN = "arn:aws:personalize:us-east-1:123456789012"
SOLUTION = f"{ARN}:solution/braze-recs-user-personalization"
LIVE = f"{SOLUTION}/live"
CAMPAIGN = f"{ARN}:campaign/braze-recs-user-personalization"


def test_turning_metadata_on_updates_the_live_campaign_in_place(stubbed: Any) -> None:
    config = copy.deepcopy(stubbed.ctx.config)
    config["campaigns"] = [
        {**c, "enable_metadata": c["name"] == "user-personalization"} for c in config["campaigns"]
    ]
    stubbed.ctx.config = config
    p = stubbed.personalize
    p.add_response(
        "list_solution_versions", {"solutionVersions": [{"solutionVersionArn": LIVE, "status": "ACTIVE"}]}
    )
    p.add_response(
        "get_solution_metrics",
        {"solutionVersionArn": LIVE, "metrics": {"normalized_discounted_cumulative_gain_at_10": 0.3}},
    )
    p.add_response(
        "list_campaigns",
        {"campaigns": [{"name": "braze-recs-user-personalization", "campaignArn": CAMPAIGN}]},
    )
    live = {
        "campaign": {
            "name": "braze-recs-user-personalization",
            "campaignArn": CAMPAIGN,
            "solutionVersionArn": LIVE,
            "minProvisionedTPS": 1,
            "campaignConfig": {"enableMetadataWithRecommendations": False},
            "status": "ACTIVE",
        }
    }
    p.add_response("describe_campaign", live)  # found
    p.add_response("describe_campaign", live)  # waited for
    p.add_response(
        "update_campaign",
        {"campaignArn": CAMPAIGN},
        {
            "campaignArn": CAMPAIGN,
            "solutionVersionArn": LIVE,
            "minProvisionedTPS": 1,
            "campaignConfig": {"enableMetadataWithRecommendations": True},
        },
    )
    p.add_response(
        "describe_campaign",
        {"campaign": {"campaignArn": CAMPAIGN, "solutionVersionArn": LIVE, "status": "ACTIVE"}},
    )
    [result] = run_promote(stubbed.ctx, "best", campaign="user-personalization")
    assert result.action == "updated"
    p.assert_no_pending_responses()
