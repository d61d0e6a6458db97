"""Metric attributions: Create/Describe/List/ListMetrics/Update/Delete MetricAttribution.

Documented behaviour imitated (Amazon Personalize API reference: "CreateMetricAttribution",
https://docs.aws.amazon.com/personalize/latest/dg/API_CreateMetricAttribution.html, "UpdateMetricAttribution",
"DeleteMetricAttribution", "ListMetricAttributions", "ListMetricAttributionMetrics"; and "Measuring
recommendation impact with a metric attribution", https://docs.aws.amazon.com/personalize/latest/dg/
metric-attributions.html):
- the dataset group must be ACTIVE and holds at most one metric attribution, of at most 10 metrics, each
  SUM(<Interactions|Items>.<column>) or SAMPLECOUNT() (personalize_rules.metric_attribution_rules); a
  summed column must be a numeric column of a dataset the group has (the guide asks for item metadata
  before SUM(Items.…); the emulator asks for the Items dataset); an Interactions dataset needs EVENT_TYPE;
- statuses go CREATE PENDING > CREATE IN_PROGRESS > ACTIVE; an update needs an ACTIVE attribution
  (ResourceInUseException otherwise), adds metrics (a name already there: ResourceAlreadyExistsException),
  removes metrics by name and replaces the output config;
- metrics are listed without the output config; Describe returns the attribution without its metrics.
The emulator reports nothing to CloudWatch: the project's own view is `make experiment-report`.
"""

from __future__ import annotations

import json
from typing import Any

from local_stack.personalize.core import ACTIVE, BackendCore, public_fields
from local_stack.personalize.errors import (
    InvalidInputException,
    ResourceAlreadyExistsException,
    ResourceInUseException,
    ResourceNotFoundException,
)
from personalize_rules.metric_attribution_rules import (
    MAX_METRIC_ATTRIBUTIONS_PER_DATASET_GROUP,
    MAX_METRICS,
    NUMERIC_AVRO_TYPES,
    MetricExpressionError,
    parse_metric_expression,
)

__all__ = ["MetricAttributionOps"]

KIND = "metric-attribution"
_SUMMARY: tuple[str, ...] = ("name", "metricAttributionArn", "status", "creationDateTime")
_SUMMARY += ("lastUpdatedDateTime", "failureReason")


class MetricAttributionOps(BackendCore):
    """The metric attribution operations of the control plane."""

    def _metric_attributions(self) -> dict[str, dict[str, Any]]:
        # setdefault: state pickled before this kind existed still loads.
        return self.resources.setdefault(KIND, {})

    def _metric_attribution(self, arn: str) -> dict[str, Any]:
        record = self._metric_attributions().get(arn)
        if record is None:
            raise ResourceNotFoundException(f"Could not find the metric attribution with ARN {arn}.")
        return record

    def _columns(self, group: str, dataset_type: str, numeric: bool = False) -> set[str] | None:
        """The (numeric) columns of the group's dataset of that type; None when there is no such dataset."""
        for dataset in self.resources["dataset"].values():
            if dataset.get("datasetGroupArn") != group:
                continue
            if str(dataset.get("datasetType", "")).lower() != dataset_type.lower():
                continue
            schema = json.loads(self._get("schema", dataset["schemaArn"])["schema"])
            columns: set[str] = set()
            for field in schema.get("fields", []):
                types = field["type"] if isinstance(field["type"], list) else [field["type"]]
                if not numeric or any(isinstance(t, str) and t in NUMERIC_AVRO_TYPES for t in types):
                    columns.add(str(field["name"]).upper())
            return columns
        return None

    def _check_metrics(self, group: str, metrics: list[dict[str, Any]]) -> None:
        interactions = self._columns(group, "Interactions")
        if interactions is not None and "EVENT_TYPE" not in interactions:
            raise InvalidInputException("The Item interactions dataset must have an EVENT_TYPE column.")
        if len(metrics) > MAX_METRICS:
            raise InvalidInputException(f"A metric attribution has at most {MAX_METRICS} metrics.")
        names = [m["metricName"] for m in metrics]
        repeated = sorted({n for n in names if names.count(n) > 1})
        if repeated:
            raise InvalidInputException(f"Metric names must be unique: {', '.join(repeated)}.")
        for metric in metrics:
            try:
                parsed = parse_metric_expression(metric["expression"])
            except MetricExpressionError as exc:
                raise InvalidInputException(f"Invalid metric {metric['metricName']}: {exc.why}.") from exc
            if parsed.function != "SUM" or parsed.dataset_type is None:
                continue
            numeric = self._columns(group, parsed.dataset_type, numeric=True)
            if numeric is None:
                raise InvalidInputException(
                    f"Invalid metric {metric['metricName']}: the dataset group has no {parsed.dataset_type} "
                    f"dataset to sum {parsed.column} from."
                )
            if parsed.column not in numeric:
                raise InvalidInputException(
                    f"Invalid metric {metric['metricName']}: {parsed.dataset_type}.{parsed.column} is not "
                    f"a numeric column of the {parsed.dataset_type} dataset."
                )

    def op_CreateMetricAttribution(self, p: dict[str, Any]) -> dict[str, Any]:
        with self._lock:
            group = p["datasetGroupArn"]
            self._require_active("dataset-group", group)
            existing = [r for r in self._metric_attributions().values() if r["datasetGroupArn"] == group]
            if len(existing) >= MAX_METRIC_ATTRIBUTIONS_PER_DATASET_GROUP:
                raise ResourceAlreadyExistsException(
                    f"Dataset group {group} already has a metric attribution: "
                    f"{existing[0]['metricAttributionArn']}."
                )
            self._check_metrics(group, list(p["metrics"]))
            arn = self.arn(KIND, p["name"])
            if arn in self._metric_attributions():
                raise ResourceAlreadyExistsException(f"Another resource with Arn {arn} already exists.")
            record: dict[str, Any] = {
                "name": p["name"],
                "metricAttributionArn": arn,
                "datasetGroupArn": group,
                "metricsOutputConfig": dict(p["metricsOutputConfig"]),
                "_metrics": [dict(m) for m in p["metrics"]],
            }
            self._new(KIND, arn, record, None)
            self._run_async(record)
        return {"metricAttributionArn": arn}

    def op_DescribeMetricAttribution(self, p: dict[str, Any]) -> dict[str, Any]:
        return {"metricAttribution": public_fields(self._metric_attribution(p["metricAttributionArn"]))}

    def op_ListMetricAttributions(self, p: dict[str, Any]) -> dict[str, Any]:
        self._metric_attributions()
        return self._list(
            KIND, p, "metricAttributions", _SUMMARY, parent=("datasetGroupArn", "datasetGroupArn")
        )

    def op_ListMetricAttributionMetrics(self, p: dict[str, Any]) -> dict[str, Any]:
        arn = p.get("metricAttributionArn")
        if not arn:
            raise InvalidInputException("metricAttributionArn is required.")
        record = self._metric_attribution(arn)
        return self._page([dict(m) for m in record["_metrics"]], p, "metrics")

    def op_UpdateMetricAttribution(self, p: dict[str, Any]) -> dict[str, Any]:
        arn = p.get("metricAttributionArn")
        if not arn:
            raise InvalidInputException("metricAttributionArn is required.")
        with self._lock:
            record = self._metric_attribution(arn)
            if record.get("status") != ACTIVE:
                raise ResourceInUseException(
                    f"The metric attribution {arn} is not in ACTIVE state (status: {record.get('status')})."
                )
            metrics = [dict(m) for m in record["_metrics"]]
            names = {m["metricName"] for m in metrics}
            unknown = sorted(set(p.get("removeMetrics") or []) - names)
            if unknown:
                raise InvalidInputException(f"No metric named {', '.join(unknown)} to remove.")
            metrics = [m for m in metrics if m["metricName"] not in set(p.get("removeMetrics") or [])]
            kept = {m["metricName"] for m in metrics}
            for metric in p.get("addMetrics") or []:
                if metric["metricName"] in kept:
                    raise ResourceAlreadyExistsException(f"Metric {metric['metricName']} already exists.")
                metrics.append(dict(metric))
                kept.add(metric["metricName"])
            self._check_metrics(record["datasetGroupArn"], metrics)
            fields: dict[str, Any] = {"_metrics": metrics}
            if p.get("metricsOutputConfig"):
                fields["metricsOutputConfig"] = dict(p["metricsOutputConfig"])
            self._set(record, **fields)
        return {"metricAttributionArn": arn}

    def op_DeleteMetricAttribution(self, p: dict[str, Any]) -> dict[str, Any]:
        with self._lock:
            self._metric_attribution(p["metricAttributionArn"])
            del self._metric_attributions()[p["metricAttributionArn"]]
            self.tags.pop(p["metricAttributionArn"], None)
        return {}
