"""The CloudWatch metrics the API writes (embedded metric format), named once: alarms use these names.

Namespace `BrazeRecommendationsApi`; every metric has the dimension `Route` except `BreakerOpen`, whose
dimension is `Dependency` (`campaign` or `artifacts`). See chalice_app/README.md, "Metrics".
"""

from __future__ import annotations

__all__ = [
    "BREAKER_OPEN",
    "DEADLINE_MISS",
    "DEPENDENCY_ARTIFACTS",
    "DEPENDENCY_CAMPAIGN",
    "DIMENSION_DEPENDENCY",
    "DIMENSION_ROUTE",
    "FALLBACK",
    "LATENCY",
    "METRIC_NAMESPACE",
    "SERVER_ERROR",
    "UNITS",
]

METRIC_NAMESPACE = "BrazeRecommendationsApi"
DIMENSION_ROUTE = "Route"
DIMENSION_DEPENDENCY = "Dependency"

FALLBACK = "Fallback"  # an answer not from Personalize (fault, open breaker, unconfigured campaign)
DEADLINE_MISS = "DeadlineMiss"  # a dependency was cut at the request's deadline
SERVER_ERROR = "ServerError"  # any 5xx answered
LATENCY = "Latency"  # time from the request's arrival to its answer
BREAKER_OPEN = "BreakerOpen"  # a request found a breaker open, or a breaker opened

DEPENDENCY_CAMPAIGN = "campaign"  # the Personalize campaign calls
DEPENDENCY_ARTIFACTS = "artifacts"  # the catalog artifact in S3

UNITS = {
    FALLBACK: "Count",
    DEADLINE_MISS: "Count",
    SERVER_ERROR: "Count",
    LATENCY: "Milliseconds",
    BREAKER_OPEN: "Count",
}
