"""A CloudFormation stack of AWS::Personalize::* resources on the local endpoint, through boto3.

Create, update (a changed solution is replaced beside the retained old one; a changed filter is
replaced and the old one deleted) and delete, each checked in the emulator through the Personalize API.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from botocore.exceptions import ClientError
from pipeline.paths import schema_dir

pytestmark = pytest.mark.functional

STACK = "cfn-check-personalize"
NAME = "cfn-check"


def _template(*, hidden_dimension: str, event_type: str) -> dict[str, Any]:
    interactions = json.loads(
        (schema_dir() / "personalize" / "interactions.json").read_text(encoding="utf-8")
    )
    group_arn = {"Fn::GetAtt": ["Group", "DatasetGroupArn"]}
    return {
        "AWSTemplateFormatVersion": "2010-09-09",
        "Resources": {
            "Group": {"Type": "AWS::Personalize::DatasetGroup", "Properties": {"Name": NAME}},
            "InteractionsSchema": {
                "Type": "AWS::Personalize::Schema",
                "Properties": {"Name": f"{NAME}-interactions", "Schema": json.dumps(interactions)},
            },
            "Interactions": {
                "Type": "AWS::Personalize::Dataset",
                "Properties": {
                    "Name": f"{NAME}-interactions",
                    "DatasetType": "Interactions",
                    "DatasetGroupArn": group_arn,
                    "SchemaArn": {"Ref": "InteractionsSchema"},
                },
            },
            "Solution": {
                "Type": "AWS::Personalize::Solution",
                "DependsOn": ["Interactions"],
                "UpdateReplacePolicy": "Retain",
                "DeletionPolicy": "Delete",
                "Properties": {
                    "Name": f"{NAME}-up-{hidden_dimension}",
                    "DatasetGroupArn": group_arn,
                    "RecipeArn": "arn:aws:personalize:::recipe/aws-user-personalization",
                    "PerformHPO": False,
                    "SolutionConfig": {"AlgorithmHyperParameters": {"hidden_dimension": hidden_dimension}},
                },
            },
            "Filter": {
                "Type": "AWS::Personalize::Filter",
                "DependsOn": ["Interactions"],
                "Properties": {
                    "Name": f"{NAME}-exclude-{event_type.lower()}",
                    "DatasetGroupArn": group_arn,
                    "FilterExpression": f'EXCLUDE ItemID WHERE Interactions.EVENT_TYPE IN ("{event_type}")',
                },
            },
            "Tracker": {
                "Type": "AWS::Personalize::EventTracker",
                "DependsOn": ["Interactions"],
                "Properties": {"Name": f"{NAME}-events", "DatasetGroupArn": group_arn},
            },
        },
        "Outputs": {
            "GroupArn": {"Value": {"Ref": "Group"}},
            "SolutionArn": {"Value": {"Fn::GetAtt": ["Solution", "SolutionArn"]}},
            "FilterArn": {"Value": {"Fn::GetAtt": ["Filter", "FilterArn"]}},
            "TrackerArn": {"Value": {"Fn::GetAtt": ["Tracker", "EventTrackerArn"]}},
            "TrackingId": {"Value": {"Fn::GetAtt": ["Tracker", "TrackingId"]}},
        },
    }


def _outputs(cfn: Any) -> dict[str, str]:
    stack = cfn.describe_stacks(StackName=STACK)["Stacks"][0]
    return {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])}


def test_stack_creates_updates_and_deletes_personalize_resources(local_stack: Any) -> None:
    cfn = local_stack.client("cloudformation")
    personalize = local_stack.client("personalize")

    cfn.create_stack(
        StackName=STACK, TemplateBody=json.dumps(_template(hidden_dimension="64", event_type="Purchase"))
    )
    cfn.get_waiter("stack_create_complete").wait(
        StackName=STACK, WaiterConfig={"Delay": 1, "MaxAttempts": 120}
    )
    first = _outputs(cfn)

    group = personalize.describe_dataset_group(datasetGroupArn=first["GroupArn"])["datasetGroup"]
    assert (group["name"], group["status"]) == (NAME, "ACTIVE")
    assert [d["name"] for d in personalize.list_datasets(datasetGroupArn=first["GroupArn"])["datasets"]] == [
        f"{NAME}-interactions"
    ]
    solution = personalize.describe_solution(solutionArn=first["SolutionArn"])["solution"]
    assert solution["solutionConfig"]["algorithmHyperParameters"] == {"hidden_dimension": "64"}
    assert solution["recipeArn"] == "arn:aws:personalize:::recipe/aws-user-personalization"
    described_filter = personalize.describe_filter(filterArn=first["FilterArn"])["filter"]
    assert (
        described_filter["filterExpression"] == 'EXCLUDE ItemID WHERE Interactions.EVENT_TYPE IN ("Purchase")'
    )
    tracker = personalize.describe_event_tracker(eventTrackerArn=first["TrackerArn"])["eventTracker"]
    assert tracker["trackingId"] == first["TrackingId"]

    # Update: both changes are to create-only properties, so both resources are replaced.
    cfn.update_stack(
        StackName=STACK, TemplateBody=json.dumps(_template(hidden_dimension="128", event_type="Click"))
    )
    cfn.get_waiter("stack_update_complete").wait(
        StackName=STACK, WaiterConfig={"Delay": 1, "MaxAttempts": 120}
    )
    second = _outputs(cfn)

    assert second["SolutionArn"] != first["SolutionArn"]
    solutions = {
        s["solutionArn"] for s in personalize.list_solutions(datasetGroupArn=first["GroupArn"])["solutions"]
    }
    assert solutions == {first["SolutionArn"], second["SolutionArn"]}, "the replaced solution is retained"
    filters = {f["filterArn"] for f in personalize.list_filters(datasetGroupArn=first["GroupArn"])["Filters"]}
    assert filters == {second["FilterArn"]}, "the replaced filter is deleted"
    assert second["TrackingId"] == first["TrackingId"], "an unchanged tracker is left alone"

    # A retained solution is outside the stack: it must go before the dataset group can.
    personalize.delete_solution(solutionArn=first["SolutionArn"])
    cfn.delete_stack(StackName=STACK)
    cfn.get_waiter("stack_delete_complete").wait(
        StackName=STACK, WaiterConfig={"Delay": 1, "MaxAttempts": 120}
    )

    assert NAME not in [g["name"] for g in personalize.list_dataset_groups()["datasetGroups"]]
    assert not [s for s in personalize.list_schemas()["schemas"] if s["name"].startswith(NAME)]
    assert not [t for t in personalize.list_event_trackers()["eventTrackers"] if t["name"].startswith(NAME)]


def test_stack_with_an_invalid_filter_expression_fails_with_the_emulator_message(local_stack: Any) -> None:
    cfn = local_stack.client("cloudformation")
    template = _template(hidden_dimension="64", event_type="Purchase")
    template["Resources"]["Filter"]["Properties"]["FilterExpression"] = "EXCLUDE ItemID WHERE"
    template["Resources"]["Group"]["Properties"]["Name"] = f"{NAME}-bad"
    with pytest.raises(
        ClientError,
        match=r"AWS::Personalize::Filter .*CreateFilter failed: InvalidInputException.*position 20",
    ):
        cfn.create_stack(StackName=f"{STACK}-bad", TemplateBody=json.dumps(template))
