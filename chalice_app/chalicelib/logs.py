"""Structured JSON logs (one object a line, CloudWatch-friendly) and metrics in CloudWatch Embedded Metric
Format, so the metrics exist without a PutMetricData call on the request path.

EMF: a log line whose `_aws.CloudWatchMetrics` names the namespace, dimensions and metrics, with the values
as top-level members ("Specification: Embedded metric format",
https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/CloudWatch_Embedded_Metric_Format_Specification.html).
Nothing here ever receives request headers, so the API key cannot end up in a log line.
"""

from __future__ import annotations

import json
import logging
import sys
import threading
import time
from collections import Counter
from collections.abc import Mapping
from typing import Any

from chalicelib.metric_names import DIMENSION_ROUTE, METRIC_NAMESPACE, UNITS

__all__ = ["LOGGER_NAME", "METRIC_NAMESPACE", "Metrics", "log_event"]

LOGGER_NAME = "recs_api"

_logger = logging.getLogger(LOGGER_NAME)
if not _logger.handlers:
    _handler = logging.StreamHandler(sys.stdout)
    _handler.setFormatter(logging.Formatter("%(message)s"))
    _logger.addHandler(_handler)
    _logger.setLevel(logging.INFO)
    # Raw JSON lines on stdout only: through Lambda's root handler they would be prefixed (and
    # duplicated), and CloudWatch would no longer read the EMF metrics in them.
    _logger.propagate = False


def log_event(event: str, level: int = logging.INFO, **fields: Any) -> None:
    """Log one JSON object with `event`, `level` and the given fields."""
    if not _logger.isEnabledFor(level):
        return
    record = {"event": event, "level": logging.getLevelName(level).lower(), **fields}
    _logger.log(level, json.dumps(record, default=str, separators=(",", ":")))


class Metrics:
    """Thread-safe counters (served by /health) and EMF lines for CloudWatch."""

    def __init__(self) -> None:
        self._counts: Counter[str] = Counter()
        self._lock = threading.Lock()

    def emit(
        self,
        name: str,
        value: float,
        dimensions: Mapping[str, str],
        event: str | None = None,
        level: int = logging.INFO,
        **fields: Any,
    ) -> None:
        """One EMF log line: metric `name` (unit from metric_names) = `value` under `dimensions`."""
        if UNITS[name] == "Count":
            with self._lock:
                self._counts[name] += int(value)
        emf = {
            "_aws": {
                "Timestamp": int(time.time() * 1000),
                "CloudWatchMetrics": [
                    {
                        "Namespace": METRIC_NAMESPACE,
                        "Dimensions": [sorted(dimensions)],
                        "Metrics": [{"Name": name, "Unit": UNITS[name]}],
                    }
                ],
            },
            **dimensions,
            name: value,
        }
        log_event(event or name.lower(), level, **fields, **emf)

    def increment(self, name: str, route: str, **fields: Any) -> None:
        """Count 1 of `name` for `route` (a warning: counted metrics are faults)."""
        self.emit(name, 1, {DIMENSION_ROUTE: route}, level=logging.WARNING, **fields)

    def snapshot(self) -> dict[str, int]:
        with self._lock:
            return dict(self._counts)
