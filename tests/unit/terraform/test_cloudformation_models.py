"""AWS::Personalize::* CloudFormation models, driven through moto's in-process CloudFormation backend."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest
from moto.cloudformation.models import cloudformation_backends
from moto.cloudformation.parsing import get_model_map
from moto.s3.models import s3_backends
from pipeline.paths import schema_dir

from local_stack.personalize import cloudformation as cfn_models
from local_stack.personalize.backend import get_backend
from tests.emulator_setup import interactions_stack_resources

ACCOUNT = "123456789012"
REGION = "us-west-2"  # away from the regions other unit tests use


def _stack(name: str, resources: dict[str, Any], outputs: dict[str, Any] | None = None) -> Any:
    template = {"Resources": resources, "Outputs": outputs or {}}
    return cloudformation_backends[ACCOUNT][REGION].create_stack(
        name=name, template=json.dumps(template), parameters={}
    )


def test_every_personalize_resource_type_is_registered_with_moto() -> None:
    model_map = get_model_map()
    for resource_type in (
        "AWS::Personalize::DatasetGroup",
        "AWS::Personalize::Schema",
        "AWS::Personalize::Dataset",
        "AWS::Personalize::Solution",
        "AWS::Personalize::Filter",
        "AWS::Personalize::EventTracker",
        "AWS::Personalize::Campaign",
    ):
        assert model_map[resource_type] is cfn_models.RESOURCE_TYPES[resource_type]


def test_properties_become_api_fields_but_hyperparameter_names_stay_verbatim() -> None:
    properties = {
        "PerformHPO": "true",
        "SolutionConfig": {
            "AlgorithmHyperParameters": {"hidden_dimension": "64"},
            "HpoConfig": {"HpoResourceConfig": {"MaxNumberOfTrainingJobs": "4"}},
        },
        "Tags": [{"Key": "team", "Value": "recs"}],
    }
    assert {k[:1].lower() + k[1:]: cfn_models.to_api(v, k) for k, v in properties.items()} == {
        "performHPO": True,
        "solutionConfig": {
            "algorithmHyperParameters": {"hidden_dimension": "64"},
            "hpoConfig": {"hpoResourceConfig": {"maxNumberOfTrainingJobs": "4"}},
        },
        "tags": [{"tagKey": "team", "tagValue": "recs"}],
    }


def test_ref_and_getatt_resolve_to_emulator_arns_and_tracking_id() -> None:
    schema = (schema_dir() / "personalize" / "interactions.json").read_text(encoding="utf-8")
    group = {"Fn::GetAtt": ["Group", "DatasetGroupArn"]}
    stack = _stack(
        "unit-cfn-refs",
        {
            "Group": {"Type": "AWS::Personalize::DatasetGroup", "Properties": {"Name": "unit-cfn-refs"}},
            "Schema": {
                "Type": "AWS::Personalize::Schema",
                "Properties": {"Name": "unit-cfn-refs", "Schema": schema},
            },
            "Data": {
                "Type": "AWS::Personalize::Dataset",
                "Properties": {
                    "Name": "unit-cfn-refs",
                    "DatasetType": "Interactions",
                    "DatasetGroupArn": group,
                    "SchemaArn": {"Ref": "Schema"},
                },
            },
            "Tracker": {
                "Type": "AWS::Personalize::EventTracker",
                "DependsOn": "Data",
                "Properties": {"Name": "unit-cfn-refs", "DatasetGroupArn": {"Ref": "Group"}},
            },
        },
        {
            "Group": {"Value": {"Ref": "Group"}},
            "Tracking": {"Value": {"Fn::GetAtt": ["Tracker", "TrackingId"]}},
        },
    )
    assert stack.status == "CREATE_COMPLETE"
    outputs = {key: stack.output_map[key].value for key in stack.output_map}
    backend = get_backend(ACCOUNT, REGION)
    assert outputs["Group"] == f"arn:aws:personalize:{REGION}:{ACCOUNT}:dataset-group/unit-cfn-refs"
    trackers = backend.handle("ListEventTrackers", {"datasetGroupArn": outputs["Group"]})["eventTrackers"]
    described = backend.handle("DescribeEventTracker", {"eventTrackerArn": trackers[0]["eventTrackerArn"]})
    assert described["eventTracker"]["trackingId"] == outputs["Tracking"]

    cloudformation_backends[ACCOUNT][REGION].delete_stack("unit-cfn-refs")
    names = [g["name"] for g in backend.handle("ListDatasetGroups", {})["datasetGroups"]]
    assert "unit-cfn-refs" not in names


def test_unknown_getatt_attribute_is_rejected_when_the_template_is_validated() -> None:
    from moto.cloudformation.exceptions import UnsupportedAttribute

    with pytest.raises(UnsupportedAttribute):
        _stack(
            "unit-cfn-bad-attr",
            {
                "Group": {
                    "Type": "AWS::Personalize::DatasetGroup",
                    "Properties": {"Name": "unit-cfn-bad-attr"},
                }
            },
            {"Nope": {"Value": {"Fn::GetAtt": ["Group", "TrackingId"]}}},
        )


def test_missing_required_property_names_the_resource_and_property() -> None:
    with pytest.raises(cfn_models.PersonalizeCfnError, match=r"AWS::Personalize::Filter .*FilterExpression"):
        _stack(
            "unit-cfn-missing",
            {
                "Group": {
                    "Type": "AWS::Personalize::DatasetGroup",
                    "Properties": {"Name": "unit-cfn-missing"},
                },
                "Filter": {
                    "Type": "AWS::Personalize::Filter",
                    "Properties": {"Name": "f", "DatasetGroupArn": {"Ref": "Group"}},
                },
            },
        )


def _wait_status(describe: Any, want: str = "ACTIVE") -> str:
    deadline = time.monotonic() + 60
    status = describe()
    while status != want and "FAILED" not in status and time.monotonic() < deadline:
        time.sleep(0.05)
        status = describe()
    return str(status)


def test_dataset_import_job_and_campaign_follow_the_stack() -> None:
    account, region, name = ACCOUNT, "eu-west-1", "unit-cfn-campaign"
    s3 = s3_backends[account]["global"]
    s3.create_bucket(name, region)
    rows = ["USER_ID,ITEM_ID,TIMESTAMP,EVENT_TYPE,EVENT_VALUE"]
    rows += [f"u{i % 40},i{(i * 7) % 60},{1_700_000_000 + i},Purchase," for i in range(1200)]
    s3.put_object(name, "imports/interactions.csv", "\n".join(rows).encode())
    group = {"Fn::GetAtt": ["Group", "DatasetGroupArn"]}
    resources: dict[str, Any] = {
        **interactions_stack_resources(
            name,
            import_job={
                "JobName": f"{name}-import",
                "DataSource": {"DataLocation": f"s3://{name}/imports/interactions.csv"},
                "RoleArn": f"arn:aws:iam::{account}:role/{name}",
            },
        ),
        "Solution": {
            "Type": "AWS::Personalize::Solution",
            "DependsOn": "Data",
            "Properties": {
                "Name": f"{name}-popularity",
                "DatasetGroupArn": group,
                "RecipeArn": "arn:aws:personalize:::recipe/aws-popularity-count",
            },
        },
    }
    stacks = cloudformation_backends[account][region]
    stack: Any = stacks.create_stack(
        name=name,
        template=json.dumps({"Resources": resources, "Outputs": {"S": {"Value": {"Ref": "Solution"}}}}),
        parameters={},
    )
    backend = get_backend(account, region)
    job_arn = f"arn:aws:personalize:{region}:{account}:dataset-import-job/{name}-import"

    def job_status() -> str:
        return str(
            backend.handle("DescribeDatasetImportJob", {"datasetImportJobArn": job_arn})["datasetImportJob"][
                "status"
            ]
        )

    assert _wait_status(job_status) == "ACTIVE"

    version = backend.handle("CreateSolutionVersion", {"solutionArn": stack.output_map["S"].value})
    version_arn = version["solutionVersionArn"]

    def version_status() -> str:
        described = backend.handle("DescribeSolutionVersion", {"solutionVersionArn": version_arn})
        return str(described["solutionVersion"]["status"])

    assert _wait_status(version_status) == "ACTIVE"

    resources["Campaign"] = {
        "Type": "AWS::Personalize::Campaign",
        "Properties": {"Name": name, "SolutionVersionArn": version_arn, "MinProvisionedTPS": 1},
    }
    outputs = {
        "Campaign": {"Value": {"Ref": "Campaign"}},
        "Status": {"Value": {"Fn::GetAtt": ["Campaign", "Status"]}},
    }
    stack.update(json.dumps({"Resources": resources, "Outputs": outputs}))
    campaign_arn = stack.output_map["Campaign"].value
    assert campaign_arn == f"arn:aws:personalize:{region}:{account}:campaign/{name}"
    assert stack.output_map["Status"].value == "ACTIVE"

    # MinProvisionedTPS is updatable: the same campaign is updated in place, not replaced.
    resources["Campaign"]["Properties"]["MinProvisionedTPS"] = 2
    stack.update(json.dumps({"Resources": resources, "Outputs": outputs}))
    assert stack.output_map["Campaign"].value == campaign_arn
    assert (
        backend.handle("DescribeCampaign", {"campaignArn": campaign_arn})["campaign"]["minProvisionedTPS"]
        == 2
    )

    stacks.delete_stack(name)
    assert backend.handle("ListCampaigns", {})["campaigns"] == []
    assert name not in [g["name"] for g in backend.handle("ListDatasetGroups", {})["datasetGroups"]]
