"""Metric attributions in the emulator, in-process: the documented rules, statuses and errors."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from local_stack.personalize.backend import PersonalizeBackend, get_backend
from local_stack.personalize.errors import (
    InvalidInputException,
    ResourceAlreadyExistsException,
    ResourceNotFoundException,
)
from local_stack.personalize.shapes import check_shape, operation_model
from pipeline.paths import schema_dir
from tests.emulator_setup import active_group, interactions_dataset, wait_active

ACCOUNT = "123456789012"
OUTPUT = {"roleArn": f"arn:aws:iam::{ACCOUNT}:role/personalize", "s3DataDestination": {"path": "s3://b/m/"}}
CLICKS = {"eventType": "Click", "metricName": "clicks", "expression": "SAMPLECOUNT()"}
REVENUE = {"eventType": "Purchase", "metricName": "revenue", "expression": "SUM(Interactions.EVENT_VALUE)"}


@pytest.fixture
def backend(monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest) -> PersonalizeBackend:
    monkeypatch.setenv("LOCAL_STACK_PERSONALIZE_STEP_SECONDS", "0.01")
    # A region of its own per test (parametrized ones included) keeps tests independent.
    return get_backend(ACCOUNT, f"test-ma-{uuid.uuid4().hex[:12]}")


def _call(b: PersonalizeBackend, operation: str, params: dict[str, Any]) -> dict[str, Any]:
    """One call, its answer checked against botocore's output shape."""
    out = b.handle(operation, params)
    assert check_shape(operation_model("personalize", operation).output_shape, out) == []
    return out


def _group_with_interactions(b: PersonalizeBackend) -> str:
    group = active_group(b)
    interactions_dataset(b, group)
    return group


def _active(b: PersonalizeBackend, arn: str) -> dict[str, Any]:
    return wait_active(
        lambda: _call(b, "DescribeMetricAttribution", {"metricAttributionArn": arn})["metricAttribution"]
    )


def _create(b: PersonalizeBackend, group: str, metrics: list[dict[str, str]], name: str = "ma") -> str:
    params = {"name": name, "datasetGroupArn": group, "metrics": metrics, "metricsOutputConfig": OUTPUT}
    return str(_call(b, "CreateMetricAttribution", params)["metricAttributionArn"])


def test_a_metric_attribution_goes_active_and_lists_its_metrics(backend: PersonalizeBackend) -> None:
    group = _group_with_interactions(backend)
    arn = _create(backend, group, [CLICKS, REVENUE])
    assert arn == f"arn:aws:personalize:{backend.region}:{ACCOUNT}:metric-attribution/ma"
    first = _call(backend, "DescribeMetricAttribution", {"metricAttributionArn": arn})["metricAttribution"]
    assert first["status"] == "CREATE PENDING"
    described = _active(backend, arn)
    assert described["metricsOutputConfig"] == OUTPUT
    assert "metrics" not in described  # Describe has no metrics: ListMetricAttributionMetrics does
    metrics = _call(backend, "ListMetricAttributionMetrics", {"metricAttributionArn": arn})["metrics"]
    assert metrics == [CLICKS, REVENUE]
    listed = _call(backend, "ListMetricAttributions", {"datasetGroupArn": group})["metricAttributions"]
    assert [m["metricAttributionArn"] for m in listed] == [arn]


def test_a_dataset_group_holds_one_metric_attribution(backend: PersonalizeBackend) -> None:
    group = _group_with_interactions(backend)
    _create(backend, group, [CLICKS])
    with pytest.raises(ResourceAlreadyExistsException, match="already has a metric attribution"):
        _create(backend, group, [CLICKS], name="second")


@pytest.mark.parametrize(
    ("metrics", "why"),
    [
        ([{**CLICKS, "expression": "AVG(Interactions.EVENT_VALUE)"}], "is not SAMPLECOUNT()"),
        ([{**REVENUE, "expression": "SUM(Interactions.EVENT_TYPE)"}], "not a numeric column"),
        ([{**REVENUE, "expression": "SUM(Interactions.NOPE)"}], "not a numeric column"),
        ([CLICKS, CLICKS], "must be unique"),
    ],
)
def test_metrics_personalize_refuses_are_refused(
    backend: PersonalizeBackend, metrics: list[dict[str, str]], why: str
) -> None:
    group = _group_with_interactions(backend)
    with pytest.raises(InvalidInputException, match=why):
        _create(backend, group, metrics)


def test_more_than_ten_metrics_are_refused_by_the_models_limit(backend: PersonalizeBackend) -> None:
    group = _group_with_interactions(backend)
    metrics = [{**CLICKS, "metricName": f"m{n}"} for n in range(11)]
    with pytest.raises(InvalidInputException):
        _create(backend, group, metrics)


def test_an_items_sum_needs_the_items_dataset(backend: PersonalizeBackend) -> None:
    group = _group_with_interactions(backend)
    price = {"eventType": "Purchase", "metricName": "price", "expression": "SUM(Items.PRICE)"}
    with pytest.raises(InvalidInputException, match="no Items dataset"):
        _create(backend, group, [price])
    schema = (schema_dir() / "personalize" / "items.json").read_text(encoding="utf-8")
    schema_arn = backend.handle("CreateSchema", {"name": "items", "schema": schema})["schemaArn"]
    backend.handle(
        "CreateDataset",
        {"name": "i", "schemaArn": schema_arn, "datasetGroupArn": group, "datasetType": "Items"},
    )
    assert _active(backend, _create(backend, group, [price]))["status"] == "ACTIVE"


def test_update_adds_and_removes_metrics_and_replaces_the_output(backend: PersonalizeBackend) -> None:
    group = _group_with_interactions(backend)
    arn = _create(backend, group, [CLICKS])
    _active(backend, arn)
    new_output = {"roleArn": OUTPUT["roleArn"], "s3DataDestination": {"path": "s3://b/other/"}}
    _call(
        backend,
        "UpdateMetricAttribution",
        {
            "metricAttributionArn": arn,
            "addMetrics": [REVENUE],
            "removeMetrics": ["clicks"],
            "metricsOutputConfig": new_output,
        },
    )
    assert _call(backend, "ListMetricAttributionMetrics", {"metricAttributionArn": arn})["metrics"] == [
        REVENUE
    ]
    assert _active(backend, arn)["metricsOutputConfig"] == new_output
    with pytest.raises(ResourceAlreadyExistsException):
        backend.handle("UpdateMetricAttribution", {"metricAttributionArn": arn, "addMetrics": [REVENUE]})
    with pytest.raises(InvalidInputException, match="No metric named"):
        backend.handle("UpdateMetricAttribution", {"metricAttributionArn": arn, "removeMetrics": ["nope"]})


def test_delete_removes_it_and_unknown_arns_are_not_found(backend: PersonalizeBackend) -> None:
    group = _group_with_interactions(backend)
    arn = _create(backend, group, [CLICKS])
    _call(backend, "DeleteMetricAttribution", {"metricAttributionArn": arn})
    with pytest.raises(ResourceNotFoundException):
        backend.handle("DescribeMetricAttribution", {"metricAttributionArn": arn})
    assert _call(backend, "ListMetricAttributions", {"datasetGroupArn": group})["metricAttributions"] == []
    _create(backend, group, [CLICKS], name="again")  # the group is free again
