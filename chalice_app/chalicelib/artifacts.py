"""The S3 artifacts the API reads: the catalog (the items dataset CSV) and the popular-items fallback list.

Each is loaded once per container and re-read only when its ETag changes, checked at most every
`refresh_seconds`; a failed refresh keeps serving the last good copy.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
import logging
import math
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from chalicelib.errors import CatalogError
from chalicelib.logs import log_event

__all__ = [
    "CatalogItem",
    "RefreshingObject",
    "catalog_object",
    "parse_catalog",
    "parse_popular",
    "popular_object",
]

T = TypeVar("T")
# After a failed first load, try again this soon (seconds) rather than waiting a whole refresh interval.
_RETRY_AFTER_FAILURE = 5.0


@dataclass(frozen=True)
class CatalogItem:
    """One catalog row, already in the API's response shape."""

    id: str
    url: str
    name: str
    price: float | None
    image: str | None

    def to_json(self) -> dict[str, Any]:
        return {"id": self.id, "url": self.url, "name": self.name, "price": self.price, "image": self.image}


def parse_catalog(body: bytes, key: str, url_template: str = "") -> dict[str, CatalogItem]:
    """The items dataset CSV (ITEM_ID, NAME, PRICE, URL, IMAGE columns; others ignored) keyed by item id."""
    if key.endswith(".gz") or body[:2] == b"\x1f\x8b":
        body = gzip.decompress(body)
    reader = csv.DictReader(io.StringIO(body.decode("utf-8-sig")))
    columns = set(reader.fieldnames or ())
    if "ITEM_ID" not in columns:
        raise CatalogError(key, f"no ITEM_ID column (header: {sorted(columns)})")
    items: dict[str, CatalogItem] = {}
    for row in reader:
        item_id = (row.get("ITEM_ID") or "").strip()
        if not item_id:
            continue
        items[item_id] = CatalogItem(
            id=item_id,
            url=(row.get("URL") or "").strip() or url_template.replace("{id}", item_id),
            name=(row.get("NAME") or "").strip() or item_id,
            price=_price(row.get("PRICE")),
            image=(row.get("IMAGE") or "").strip() or None,
        )
    return items


def _price(raw: str | None) -> float | None:
    try:
        value = float(raw) if raw not in (None, "") else None
    except ValueError:
        return None
    return value if value is not None and math.isfinite(value) else None


def parse_popular(body: bytes, key: str) -> list[str]:
    """The fallback list written at training time: `{"items": ["id1", ...]}`."""
    try:
        data = json.loads(body)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise CatalogError(key, f"not JSON: {exc}") from exc
    items = data.get("items") if isinstance(data, dict) else None
    if not isinstance(items, list):
        raise CatalogError(key, 'expected an object {"items": [...]}')
    return [str(i) for i in items if isinstance(i, str | int) and str(i)]


class RefreshingObject(Generic[T]):
    """An S3 object parsed once and re-read when its ETag changes (checked at most every refresh_seconds)."""

    def __init__(
        self,
        s3: Callable[[], Any],
        bucket: str,
        key: str,
        parse: Callable[[bytes], T],
        refresh_seconds: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._s3 = s3
        self.bucket = bucket
        self.key = key
        self._parse = parse
        self._refresh = refresh_seconds
        self._clock = clock
        self._value: T | None = None
        self._etag: str | None = None
        self._next_check = 0.0
        self._lock = threading.Lock()

    @property
    def loaded(self) -> bool:
        return self._value is not None

    def get(self) -> T | None:
        """The current value, refreshing first if due; None when it was never loaded successfully."""
        if self._clock() < self._next_check:
            return self._value
        # Only one thread refreshes; the others keep serving the current copy meanwhile.
        if self._value is not None:
            if not self._lock.acquire(blocking=False):
                return self._value
        else:
            self._lock.acquire()
        try:
            if self._clock() >= self._next_check:
                self._check()
            return self._value
        finally:
            self._lock.release()

    def _check(self) -> None:
        try:
            client = self._s3()
            if self._etag is not None:
                head = client.head_object(Bucket=self.bucket, Key=self.key)
                if head.get("ETag") == self._etag:
                    self._next_check = self._clock() + self._refresh
                    return
            obj = client.get_object(Bucket=self.bucket, Key=self.key)
            body = obj["Body"].read()
            value = self._parse(body)
        except Exception as exc:  # any S3 or parse fault: keep the last good copy, say why
            retry = self._refresh if self._value is not None else min(self._refresh, _RETRY_AFTER_FAILURE)
            self._next_check = self._clock() + retry
            log_event(
                "artifact_load_failed",
                logging.ERROR,
                bucket=self.bucket,
                key=self.key,
                error=type(exc).__name__,
                detail=str(exc)[:300],
                serving_stale=self._value is not None,
            )
            return
        self._value = value
        self._etag = obj.get("ETag")
        self._next_check = self._clock() + self._refresh
        log_event("artifact_loaded", bucket=self.bucket, key=self.key, etag=self._etag)


def catalog_object(
    s3: Callable[[], Any],
    bucket: str,
    key: str,
    refresh_seconds: float,
    url_template: str = "",
    clock: Callable[[], float] = time.monotonic,
) -> RefreshingObject[Mapping[str, CatalogItem]]:
    return RefreshingObject(
        s3, bucket, key, lambda body: parse_catalog(body, key, url_template), refresh_seconds, clock
    )


def popular_object(
    s3: Callable[[], Any],
    bucket: str,
    key: str,
    refresh_seconds: float,
    clock: Callable[[], float] = time.monotonic,
) -> RefreshingObject[list[str]]:
    return RefreshingObject(s3, bucket, key, lambda body: parse_popular(body, key), refresh_seconds, clock)
