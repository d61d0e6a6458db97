"""Structured JSON logs (one object a line, CloudWatch-friendly) and in-process counters.

Fallbacks are also written in CloudWatch Embedded Metric Format so a `Fallback` metric exists
without a PutMetricData call on the request path. Nothing here ever receives request headers,
so the API key cannot end up in a log line.
"""

from __future__ import annotations

import json
import logging
import sys
import threading
import time
from collections import Counter
from typing import Any

__all__ = ["LOGGER_NAME", "METRIC_NAMESPACE", "Metrics", "log_event"]

LOGGER_NAME = "recs_api"
METRIC_NAMESPACE = "BrazeRecommendationsApi"

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
    """Thread-safe counters (served by /health) with EMF output for the ones CloudWatch should graph."""

    def __init__(self) -> None:
        self._counts: Counter[str] = Counter()
        self._lock = threading.Lock()

    def increment(self, name: str, route: str, **fields: Any) -> None:
        with self._lock:
            self._counts[name] += 1
        emf = {
            "_aws": {
                "Timestamp": int(time.time() * 1000),
                "CloudWatchMetrics": [
                    {
                        "Namespace": METRIC_NAMESPACE,
                        "Dimensions": [["Route"]],
                        "Metrics": [{"Name": name, "Unit": "Count"}],
                    }
                ],
            },
            "Route": route,
            name: 1,
        }
        log_event(name.lower(), logging.WARNING, **fields, **emf)

    def snapshot(self) -> dict[str, int]:
        with self._lock:
            return dict(self._counts)
