"""Metric attributions over HTTP with plain boto3, every response checked against botocore's shapes."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError

pytestmark = pytest.mark.functional

ACCOUNT = "123456789012"
CLICKS = {"eventType": "Click", "metricName": "clicks", "expression": "SAMPLECOUNT()"}
REVENUE = {"eventType": "Purchase", "metricName": "revenue", "expression": "SUM(Interactions.EVENT_VALUE)"}


@pytest.fixture(scope="module")
def group(clients: dict[str, Any], h: Any) -> str:
    p = clients["personalize"]
    arn = p.create_dataset_group(name=h.unique("ma"))["datasetGroupArn"]
    h.wait_for(lambda: p.describe_dataset_group(datasetGroupArn=arn)["datasetGroup"])
    schema = p.create_schema(name=h.unique("interactions"), schema=h.avro_schema("interactions"))["schemaArn"]
    dataset = p.create_dataset(
        name=h.unique("interactions"), schemaArn=schema, datasetGroupArn=arn, datasetType="Interactions"
    )["datasetArn"]
    h.wait_for(lambda: p.describe_dataset(datasetArn=dataset)["dataset"])
    return str(arn)


def _output(path: str) -> dict[str, Any]:
    return {"roleArn": f"arn:aws:iam::{ACCOUNT}:role/personalize", "s3DataDestination": {"path": path}}


def test_the_metric_attribution_lifecycle_through_boto3(clients: dict[str, Any], group: str, h: Any) -> None:
    p = clients["personalize"]
    name = h.unique("metrics")
    arn = p.create_metric_attribution(
        name=name, datasetGroupArn=group, metrics=[CLICKS], metricsOutputConfig=_output("s3://b/one/")
    )["metricAttributionArn"]
    assert arn == f"arn:aws:personalize:us-east-1:{ACCOUNT}:metric-attribution/{name}"
    described = h.wait_for(
        lambda: p.describe_metric_attribution(metricAttributionArn=arn)["metricAttribution"]
    )
    assert described["status"] == "ACTIVE"
    assert described["datasetGroupArn"] == group
    assert described["creationDateTime"] <= described["lastUpdatedDateTime"]

    p.update_metric_attribution(
        metricAttributionArn=arn, addMetrics=[REVENUE], metricsOutputConfig=_output("s3://b/two/")
    )
    metrics = p.list_metric_attribution_metrics(metricAttributionArn=arn)["metrics"]
    assert metrics == [CLICKS, REVENUE]
    again = p.describe_metric_attribution(metricAttributionArn=arn)["metricAttribution"]
    assert again["metricsOutputConfig"]["s3DataDestination"]["path"] == "s3://b/two/"
    listed = p.list_metric_attributions(datasetGroupArn=group)["metricAttributions"]
    assert [m["name"] for m in listed] == [name]

    with pytest.raises(ClientError) as err:  # one per dataset group
        p.create_metric_attribution(
            name=h.unique("second"),
            datasetGroupArn=group,
            metrics=[CLICKS],
            metricsOutputConfig=_output("s3://b/"),
        )
    assert err.value.response["Error"]["Code"] == "ResourceAlreadyExistsException"

    p.delete_metric_attribution(metricAttributionArn=arn)
    with pytest.raises(ClientError) as err:
        p.describe_metric_attribution(metricAttributionArn=arn)
    assert err.value.response["Error"]["Code"] == "ResourceNotFoundException"


def test_an_expression_personalize_refuses_is_an_invalid_input(
    clients: dict[str, Any], group: str, h: Any
) -> None:
    bad = {**REVENUE, "expression": "SUM(Interactions.EVENT_TYPE)"}  # a string column
    with pytest.raises(ClientError) as err:
        clients["personalize"].create_metric_attribution(
            name=h.unique("bad"), datasetGroupArn=group, metrics=[bad], metricsOutputConfig=_output("s3://b/")
        )
    assert err.value.response["Error"]["Code"] == "InvalidInputException"
    assert "not a numeric column" in err.value.response["Error"]["Message"]


def test_eleven_metrics_are_refused_by_botocores_limit_in_the_emulator(
    clients: dict[str, Any], group: str, h: Any
) -> None:
    metrics = [{**CLICKS, "metricName": f"m{n}"} for n in range(11)]
    with pytest.raises(ClientError) as err:
        clients["personalize"].create_metric_attribution(
            name=h.unique("many"),
            datasetGroupArn=group,
            metrics=metrics,
            metricsOutputConfig=_output("s3://b/"),
        )
    assert err.value.response["Error"]["Code"] == "InvalidInputException"
