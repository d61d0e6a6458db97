"""AWS::Personalize::MetricAttribution in a stack: created in the emulator, its output updated in place,
its metrics replaced, deleted with the stack."""

from __future__ import annotations

import json
from typing import Any

from moto.cloudformation.models import cloudformation_backends
from moto.cloudformation.parsing import get_model_map
from pipeline.paths import schema_dir

from local_stack.personalize import cloudformation as cfn_models
from local_stack.personalize.backend import get_backend
from tests.emulator_setup import interactions_stack_resources

ACCOUNT = "123456789012"
REGION = "ap-south-1"  # away from the regions other unit tests use
ROLE = f"arn:aws:iam::{ACCOUNT}:role/personalize"


def _resources(name: str, path: str, metric: str) -> dict[str, Any]:
    group = {"Fn::GetAtt": ["Group", "DatasetGroupArn"]}
    return {
        **interactions_stack_resources(name),
        "Attribution": {
            "Type": "AWS::Personalize::MetricAttribution",
            "DependsOn": "Data",
            "Properties": {
                "Name": name,
                "DatasetGroupArn": group,
                "Metrics": [{"EventType": "Click", "Expression": "SAMPLECOUNT()", "MetricName": metric}],
                "MetricsOutputConfig": {"RoleArn": ROLE, "S3DataDestination": {"Path": path}},
            },
        },
    }


def test_the_metric_attribution_type_is_registered_with_moto() -> None:
    model = get_model_map()["AWS::Personalize::MetricAttribution"]
    assert model is cfn_models.RESOURCE_TYPES["AWS::Personalize::MetricAttribution"]


def test_a_metric_attribution_follows_its_stack() -> None:
    name = "unit-cfn-attribution"
    outputs = {"Arn": {"Value": {"Ref": "Attribution"}}}
    stacks = cloudformation_backends[ACCOUNT][REGION]
    template = {"Resources": _resources(name, "s3://b/one/", "clicks"), "Outputs": outputs}
    stack: Any = stacks.create_stack(name=name, template=json.dumps(template), parameters={})
    backend = get_backend(ACCOUNT, REGION)
    arn = stack.output_map["Arn"].value
    assert arn == f"arn:aws:personalize:{REGION}:{ACCOUNT}:metric-attribution/{name}"

    def described() -> dict[str, Any]:
        return dict(backend.handle("DescribeMetricAttribution", {"metricAttributionArn": arn})["metricAttribution"])

    assert described()["status"] == "ACTIVE"
    assert described()["metricsOutputConfig"]["s3DataDestination"]["path"] == "s3://b/one/"

    # MetricsOutputConfig updates in place: same ARN, new path.
    stack.update(json.dumps({"Resources": _resources(name, "s3://b/two/", "clicks"), "Outputs": outputs}))
    assert stack.output_map["Arn"].value == arn
    assert described()["metricsOutputConfig"]["s3DataDestination"]["path"] == "s3://b/two/"

    stacks.delete_stack(name)
    listed = backend.handle("ListMetricAttributions", {})["metricAttributions"]
    assert arn not in [m["metricAttributionArn"] for m in listed]
