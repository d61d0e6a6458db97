"""Braze's documented REST limits, in one place.

Sources (Braze docs): "API rate limits" (braze.com/docs/api/api_limits): /users/track 3,000 requests per
three seconds, 75 events, 75 purchases and 75 attributes per request; /users/delete (shared with the
alias/identify/merge endpoints) 20,000 requests per minute; catalog item bulk endpoints 16,000 requests
per minute, single-item endpoints 50 per minute; every response carries X-RateLimit-Limit,
X-RateLimit-Remaining and X-RateLimit-Reset (UTC epoch seconds), and 429 means the limit was hit.
"Delete users" (/users/delete): up to 50 external_ids per request. "Custom attributes": keys and string
values up to 255 characters; arrays hold up to 25 items by default. "Nested custom attributes": an
object attribute up to 100 KB. Catalog bulk item endpoints: up to 50 items per request.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = [
    "MAX_ARRAY_ITEMS",
    "MAX_CATALOG_ITEMS_PER_REQUEST",
    "MAX_DELETE_IDS",
    "MAX_OBJECTS_PER_ARRAY",
    "MAX_OBJECT_BYTES",
    "MAX_STRING_CHARS",
    "RATE_LIMITS",
    "RateLimit",
]

MAX_OBJECTS_PER_ARRAY = 75
MAX_DELETE_IDS = 50
MAX_STRING_CHARS = 255
MAX_ARRAY_ITEMS = 25
MAX_OBJECT_BYTES = 100 * 1024
MAX_CATALOG_ITEMS_PER_REQUEST = 50


@dataclass(frozen=True)
class RateLimit:
    requests: int
    window_seconds: float


RATE_LIMITS: dict[str, RateLimit] = {
    "users.track": RateLimit(3_000, 3.0),
    "users.delete": RateLimit(20_000, 60.0),
    "catalogs.items.bulk": RateLimit(16_000, 60.0),
    "catalogs.items.single": RateLimit(50, 60.0),
}
