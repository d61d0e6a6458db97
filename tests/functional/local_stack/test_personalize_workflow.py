"""The whole Personalize workflow over HTTP with plain boto3 clients, every response shape-checked."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest

pytestmark = pytest.mark.functional

ACCOUNT = "123456789012"


@pytest.fixture(scope="module")
def world(clients: dict[str, Any], h: Any) -> dict[str, Any]:
    """A dataset group with imported data, a filter, an event tracker, trained versions and campaigns."""
    p, s3 = clients["personalize"], clients["s3"]
    role = f"arn:aws:iam::{ACCOUNT}:role/personalize"
    bucket, group, datasets = h.imported_group(p, s3, h.make_dataset(), role)
    exclude = p.create_filter(
        name=h.unique("exclude-purchased"),
        datasetGroupArn=group,
        filterExpression='EXCLUDE ItemID WHERE Interactions.EVENT_TYPE IN ("Purchase")',
    )["filterArn"]
    tracker = p.create_event_tracker(name=h.unique("tracker"), datasetGroupArn=group)
    solutions, versions = {}, {}
    for recipe, hp in (
        ("aws-user-personalization", {"hidden_dimension": "32"}),
        ("aws-popularity-count", {}),
        ("aws-sims", {"min_cointeraction_count": "1"}),
    ):
        solutions[recipe] = p.create_solution(
            name=h.unique(recipe[4:]),
            datasetGroupArn=group,
            recipeArn=f"arn:aws:personalize:::recipe/{recipe}",
            performAutoTraining=False,
            solutionConfig={"algorithmHyperParameters": hp},
        )["solutionArn"]
        h.wait_for(lambda arn=solutions[recipe]: p.describe_solution(solutionArn=arn)["solution"])
        versions[recipe] = p.create_solution_version(solutionArn=solutions[recipe])["solutionVersionArn"]
    for recipe, arn in versions.items():
        done = h.wait_for(
            lambda arn=arn: p.describe_solution_version(solutionVersionArn=arn)["solutionVersion"]
        )
        assert done["status"] == "ACTIVE", (recipe, done.get("failureReason"))
    campaigns = {}
    for recipe in ("aws-user-personalization", "aws-sims"):
        campaigns[recipe] = p.create_campaign(
            name=h.unique("campaign"),
            solutionVersionArn=versions[recipe],
            minProvisionedTPS=1,
            campaignConfig={"enableMetadataWithRecommendations": recipe == "aws-user-personalization"},
        )["campaignArn"]
    for arn in [*campaigns.values(), exclude, tracker["eventTrackerArn"]]:
        kind = arn.split(":")[5].split("/")[0]
        describe = {
            "campaign": lambda a: p.describe_campaign(campaignArn=a)["campaign"],
            "filter": lambda a: p.describe_filter(filterArn=a)["filter"],
            "event-tracker": lambda a: p.describe_event_tracker(eventTrackerArn=a)["eventTracker"],
        }[kind]
        assert h.wait_for(lambda a=arn, d=describe: d(a))["status"] == "ACTIVE"
    return {
        "bucket": bucket,
        "group": group,
        "datasets": datasets,
        "filter": exclude,
        "tracker": tracker,
        "solutions": solutions,
        "versions": versions,
        "campaigns": campaigns,
    }


def test_arns_follow_aws_formats(world: dict[str, Any]) -> None:
    assert world["group"].startswith(f"arn:aws:personalize:us-east-1:{ACCOUNT}:dataset-group/dg-")
    assert world["datasets"]["interactions"].endswith("/INTERACTIONS")
    assert world["versions"]["aws-sims"].startswith(world["solutions"]["aws-sims"] + "/")


def test_solution_metrics_have_personalize_keys(clients: dict[str, Any], world: dict[str, Any]) -> None:
    metrics = clients["personalize"].get_solution_metrics(
        solutionVersionArn=world["versions"]["aws-user-personalization"]
    )["metrics"]
    assert {"coverage", "mean_reciprocal_rank_at_25", "normalized_discounted_cumulative_gain_at_10"} <= set(
        metrics
    )


def test_recommendations_default_to_25_items_with_recommendation_id(
    clients: dict[str, Any], world: dict[str, Any]
) -> None:
    out = clients["personalize-runtime"].get_recommendations(
        campaignArn=world["campaigns"]["aws-user-personalization"], userId="u1"
    )
    assert len(out["itemList"]) == 25
    assert out["recommendationId"].startswith("RID-")


def test_recommendations_carry_requested_item_metadata(
    clients: dict[str, Any], world: dict[str, Any]
) -> None:
    out = clients["personalize-runtime"].get_recommendations(
        campaignArn=world["campaigns"]["aws-user-personalization"],
        userId="u2",
        numResults=3,
        metadataColumns={"ITEMS": ["CATEGORY_L1", "NAME"]},
    )
    assert all(set(item["metadata"]) == {"CATEGORY_L1", "NAME"} for item in out["itemList"])


def test_metadata_is_refused_when_the_campaign_does_not_enable_it(
    clients: dict[str, Any], world: dict[str, Any]
) -> None:
    rt = clients["personalize-runtime"]
    with pytest.raises(rt.exceptions.InvalidInputException):
        rt.get_recommendations(
            campaignArn=world["campaigns"]["aws-sims"], itemId="i1", metadataColumns={"ITEMS": ["NAME"]}
        )


def test_related_items_campaign_needs_an_item_and_omits_it(
    clients: dict[str, Any], world: dict[str, Any]
) -> None:
    rt = clients["personalize-runtime"]
    out = rt.get_recommendations(campaignArn=world["campaigns"]["aws-sims"], itemId="i1", numResults=10)
    assert "i1" not in [i["itemId"] for i in out["itemList"]]
    with pytest.raises(rt.exceptions.InvalidInputException):
        rt.get_recommendations(campaignArn=world["campaigns"]["aws-sims"], userId="u1")


def test_num_results_above_500_is_refused(clients: dict[str, Any], world: dict[str, Any]) -> None:
    rt = clients["personalize-runtime"]
    with pytest.raises(rt.exceptions.InvalidInputException):
        rt.get_recommendations(
            campaignArn=world["campaigns"]["aws-user-personalization"], userId="u1", numResults=501
        )


def test_a_purchase_sent_with_put_events_disappears_under_the_exclude_filter(
    clients: dict[str, Any], world: dict[str, Any]
) -> None:
    rt, events = clients["personalize-runtime"], clients["personalize-events"]
    campaign = world["campaigns"]["aws-user-personalization"]
    before = rt.get_recommendations(
        campaignArn=campaign, userId="u3", numResults=10, filterArn=world["filter"]
    )
    bought = before["itemList"][0]["itemId"]
    events.put_events(
        trackingId=world["tracker"]["trackingId"],
        userId="u3",
        sessionId="s-u3",
        eventList=[{"eventType": "Purchase", "itemId": bought, "sentAt": dt.datetime.now(dt.UTC)}],
    )
    after = rt.get_recommendations(
        campaignArn=campaign, userId="u3", numResults=10, filterArn=world["filter"]
    )
    assert bought not in [i["itemId"] for i in after["itemList"]]
    unfiltered = rt.get_recommendations(campaignArn=campaign, userId="u3", numResults=120)
    assert bought in [i["itemId"] for i in unfiltered["itemList"]]


def test_put_events_refuses_more_than_ten_events(clients: dict[str, Any], world: dict[str, Any]) -> None:
    events = clients["personalize-events"]
    now = dt.datetime.now(dt.UTC)
    with pytest.raises(events.exceptions.InvalidInputException):
        events.put_events(
            trackingId=world["tracker"]["trackingId"],
            userId="u4",
            sessionId="s",
            eventList=[{"eventType": "View", "itemId": "i1", "sentAt": now}] * 11,
        )


def test_put_items_updates_metadata_seen_in_recommendations(
    clients: dict[str, Any], world: dict[str, Any]
) -> None:
    for start in range(0, 120, 10):  # PutItems takes at most 10 items per call
        clients["personalize-events"].put_items(
            datasetArn=world["datasets"]["items"],
            items=[
                {"itemId": f"i{k}", "properties": json.dumps({"name": f"Renamed {k}"})}
                for k in range(start, start + 10)
            ],
        )
    out = clients["personalize-runtime"].get_recommendations(
        campaignArn=world["campaigns"]["aws-user-personalization"],
        userId="u5",
        numResults=2,
        metadataColumns={"ITEMS": ["NAME"]},
    )
    assert all(item["metadata"]["NAME"].startswith("Renamed ") for item in out["itemList"])


def test_batch_inference_writes_personalize_output_with_per_line_errors(
    clients: dict[str, Any], world: dict[str, Any], h: Any
) -> None:
    p, s3 = clients["personalize"], clients["s3"]
    bucket = world["bucket"]
    s3.put_object(
        Bucket=bucket, Key="batch/in/users.json", Body=b'{"userId": "u1"}\n{"itemId": "i1"}\nnot json\n'
    )
    job = p.create_batch_inference_job(
        jobName=h.unique("batch"),
        solutionVersionArn=world["versions"]["aws-user-personalization"],
        numResults=5,
        jobInput={"s3DataSource": {"path": f"s3://{bucket}/batch/in/users.json"}},
        jobOutput={"s3DataDestination": {"path": f"s3://{bucket}/batch/out/"}},
        roleArn=f"arn:aws:iam::{ACCOUNT}:role/personalize",
    )["batchInferenceJobArn"]
    done = h.wait_for(lambda: p.describe_batch_inference_job(batchInferenceJobArn=job)["batchInferenceJob"])
    assert done["status"] == "ACTIVE", done
    body = s3.get_object(Bucket=bucket, Key="batch/out/users.json.out")["Body"].read().decode()
    lines = [json.loads(line) for line in body.splitlines()]
    assert lines[0]["input"] == {"userId": "u1"} and len(lines[0]["output"]["recommendedItems"]) == 5
    assert lines[0]["error"] is None
    assert lines[1]["error"] and lines[2]["error"]


def test_update_campaign_switches_to_a_new_solution_version(
    clients: dict[str, Any], world: dict[str, Any], h: Any
) -> None:
    p = clients["personalize"]
    update = p.create_solution_version(
        solutionArn=world["solutions"]["aws-user-personalization"], trainingMode="UPDATE"
    )["solutionVersionArn"]
    done = h.wait_for(lambda: p.describe_solution_version(solutionVersionArn=update)["solutionVersion"])
    assert done["status"] == "ACTIVE" and done["trainingMode"] == "UPDATE", done
    campaign = world["campaigns"]["aws-user-personalization"]
    p.update_campaign(campaignArn=campaign, solutionVersionArn=update, minProvisionedTPS=2)
    latest = h.wait_for(lambda: p.describe_campaign(campaignArn=campaign)["campaign"]["latestCampaignUpdate"])
    assert latest["status"] == "ACTIVE"
    described = p.describe_campaign(campaignArn=campaign)["campaign"]
    assert (described["solutionVersionArn"], described["minProvisionedTPS"]) == (update, 2)


def test_update_solution_keeps_auto_training_settings(
    clients: dict[str, Any], world: dict[str, Any], h: Any
) -> None:
    p = clients["personalize"]
    arn = world["solutions"]["aws-popularity-count"]
    p.update_solution(
        solutionArn=arn,
        performAutoTraining=True,
        solutionUpdateConfig={"autoTrainingConfig": {"schedulingExpression": "rate(3 days)"}},
    )
    h.wait_for(lambda: p.describe_solution(solutionArn=arn)["solution"]["latestSolutionUpdate"])
    solution = p.describe_solution(solutionArn=arn)["solution"]
    assert solution["performAutoTraining"] is True
    assert solution["solutionConfig"]["autoTrainingConfig"] == {"schedulingExpression": "rate(3 days)"}


def test_deleting_a_solution_behind_a_campaign_is_refused(
    clients: dict[str, Any], world: dict[str, Any]
) -> None:
    p = clients["personalize"]
    with pytest.raises(p.exceptions.ResourceInUseException):
        p.delete_solution(solutionArn=world["solutions"]["aws-sims"])
    with pytest.raises(p.exceptions.ResourceInUseException):
        p.delete_dataset_group(datasetGroupArn=world["group"])


def test_list_operations_paginate_with_next_token(clients: dict[str, Any], world: dict[str, Any]) -> None:
    p = clients["personalize"]
    first = p.list_solutions(datasetGroupArn=world["group"], maxResults=2)
    assert len(first["solutions"]) == 2 and "nextToken" in first
    rest = p.list_solutions(datasetGroupArn=world["group"], maxResults=2, nextToken=first["nextToken"])
    names = {s["solutionArn"] for s in first["solutions"] + rest["solutions"]}
    assert names == set(world["solutions"].values())
    with pytest.raises(p.exceptions.InvalidNextTokenException):
        p.list_solutions(nextToken="garbage!")


def test_bad_filter_expression_is_refused_with_its_position(
    clients: dict[str, Any], world: dict[str, Any]
) -> None:
    p = clients["personalize"]
    with pytest.raises(p.exceptions.InvalidInputException, match="position"):
        p.create_filter(
            name="broken",
            datasetGroupArn=world["group"],
            filterExpression="EXCLUDE ItemID WHERE Interactions.X IN",
        )


def test_import_of_a_broken_csv_fails_naming_the_first_problem(
    clients: dict[str, Any], world: dict[str, Any], h: Any
) -> None:
    p, s3 = clients["personalize"], clients["s3"]
    s3.put_object(
        Bucket=world["bucket"],
        Key="imports/broken.csv",
        Body=b"USER_ID,ITEM_ID,TIMESTAMP,EVENT_TYPE,EVENT_VALUE\nu1,i1,1700000000123,View,1\n",
    )
    job = p.create_dataset_import_job(
        jobName=h.unique("broken"),
        datasetArn=world["datasets"]["interactions"],
        dataSource={"dataLocation": f"s3://{world['bucket']}/imports/broken.csv"},
        roleArn=f"arn:aws:iam::{ACCOUNT}:role/personalize",
        importMode="INCREMENTAL",
    )["datasetImportJobArn"]
    done = h.wait_for(lambda: p.describe_dataset_import_job(datasetImportJobArn=job)["datasetImportJob"])
    assert done["status"] == "CREATE FAILED"
    assert "line 2" in done["failureReason"]


def test_missing_required_member_is_refused_by_model_validation(clients: dict[str, Any]) -> None:
    p = clients["personalize"]
    with pytest.raises(p.exceptions.InvalidInputException, match="name"):
        p.create_dataset_group(name="x" * 64)


def test_unknown_resources_are_not_found(clients: dict[str, Any]) -> None:
    p = clients["personalize"]
    with pytest.raises(p.exceptions.ResourceNotFoundException):
        p.describe_campaign(campaignArn=f"arn:aws:personalize:us-east-1:{ACCOUNT}:campaign/nope")


def test_every_response_was_shape_checked(shape_log: Any) -> None:
    assert shape_log.checked > 20


def test_personalized_ranking_orders_the_given_items_only_on_ranking_campaigns(
    clients: dict[str, Any], world: dict[str, Any], h: Any
) -> None:
    p, rt = clients["personalize"], clients["personalize-runtime"]
    _, version = h.trained_version(p, world["group"], "aws-personalized-ranking", {"hidden_dimension": "32"})
    campaign = p.create_campaign(name=h.unique("ranking"), solutionVersionArn=version)["campaignArn"]
    h.wait_for(lambda: p.describe_campaign(campaignArn=campaign)["campaign"])
    items = ["i1", "i2", "i3", "i4", "i5"]
    ranked = rt.get_personalized_ranking(campaignArn=campaign, userId="u1", inputList=items)
    assert sorted(i["itemId"] for i in ranked["personalizedRanking"]) == items
    assert ranked["recommendationId"]
    with pytest.raises(rt.exceptions.InvalidInputException):
        rt.get_personalized_ranking(
            campaignArn=world["campaigns"]["aws-user-personalization"], userId="u1", inputList=items
        )
    p.delete_campaign(campaignArn=campaign)
