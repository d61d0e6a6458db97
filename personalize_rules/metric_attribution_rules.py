"""Personalize's rules for a metric attribution: its metric expressions and its limits.

Documented behaviour ("MetricAttribute", Amazon Personalize API reference,
https://docs.aws.amazon.com/personalize/latest/dg/API_MetricAttribute.html): "Available functions are
SUM() or SAMPLECOUNT(). For SUM() functions, provide the dataset type (either Interactions or Items) and
column to sum as a parameter. For example SUM(Items.PRICE)." CreateMetricAttribution takes at most 10
metrics ("Array Members: Maximum number of 10 items",
https://docs.aws.amazon.com/personalize/latest/dg/API_CreateMetricAttribution.html). "Guidelines and
requirements for a metric attribution"
(https://docs.aws.amazon.com/personalize/latest/dg/metric-attribution-requirements.html): at most one
metric attribution per dataset group, each with at most 10 metrics; the Item interactions dataset needs an
EVENT_TYPE column. "Creating an Amazon Personalize metric attribution"
(https://docs.aws.amazon.com/personalize/latest/dg/creating-metric-attribution.html): SUM() applies "to only
numeric columns of Items and Item interactions datasets", and to an Items column only once item metadata
exists.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from personalize_rules.errors import RulesError

__all__ = [
    "MAX_METRICS",
    "MAX_METRIC_ATTRIBUTIONS_PER_DATASET_GROUP",
    "NUMERIC_AVRO_TYPES",
    "MetricExpression",
    "MetricExpressionError",
    "parse_metric_expression",
]

MAX_METRICS = 10
MAX_METRIC_ATTRIBUTIONS_PER_DATASET_GROUP = 1
NUMERIC_AVRO_TYPES = frozenset({"int", "long", "float", "double"})
_SUM = re.compile(r"^SUM\((Interactions|Items)\.([A-Za-z_][A-Za-z0-9_]*)\)$", re.IGNORECASE)
_SAMPLECOUNT = re.compile(r"^SAMPLECOUNT\(\)$", re.IGNORECASE)


class MetricExpressionError(RulesError):
    """A metric's expression is not SUM(<Interactions|Items>.<column>) nor SAMPLECOUNT()."""


@dataclass(frozen=True)
class MetricExpression:
    function: str  # SUM or SAMPLECOUNT
    dataset_type: str | None = None  # Interactions or Items, for SUM
    column: str | None = None  # upper case, as dataset columns are compared


def parse_metric_expression(expression: str) -> MetricExpression:
    text = expression.strip()
    if _SAMPLECOUNT.match(text):
        return MetricExpression("SAMPLECOUNT")
    found = _SUM.match(text)
    if found is None:
        raise MetricExpressionError(
            "expression",
            f"{expression[:80]!r} is not SAMPLECOUNT() or SUM(<Interactions|Items>.<column>)",
        )
    dataset_type = "Interactions" if found.group(1).lower() == "interactions" else "Items"
    return MetricExpression("SUM", dataset_type, found.group(2).upper())
