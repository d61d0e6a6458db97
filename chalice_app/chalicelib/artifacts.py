"""The catalog artifact in S3 (chalicelib.catalog_artifact), loaded lazily and refreshed in the background.

A cold start downloads the artifact to local disk (streamed, so memory does not grow with its size) and
maps it; a request waits for that first load no longer than its deadline. Later, every `refresh_seconds`,
one background load checks the ETag and swaps in a new copy when it changed; requests keep the current
copy meanwhile, so a refresh never holds a request. A failed load keeps the last good copy. Loads go
through the `artifacts` circuit breaker.
"""

from __future__ import annotations

import concurrent.futures
import logging
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from chalicelib.breaker import CircuitBreaker
from chalicelib.catalog_artifact import CatalogFile, open_catalog
from chalicelib.deadline import Deadline, SingleFlight, WorkerPool
from chalicelib.logs import log_event

__all__ = ["CatalogStore", "download_to_disk"]

# After a failed first load, try again this soon (seconds) rather than waiting a whole refresh interval.
_RETRY_AFTER_FAILURE = 2.0
_CHUNK = 1024 * 1024


class CatalogStore:
    """The current catalog; `get(deadline)` never waits past the deadline."""

    def __init__(
        self,
        s3: Callable[[], Any],
        bucket: str,
        key: str,
        refresh_seconds: float,
        breaker: CircuitBreaker,
        pool: WorkerPool,
        directory: str | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._s3 = s3
        self.bucket = bucket
        self.key = key
        self._refresh = refresh_seconds
        self._breaker = breaker
        self._directory = directory
        self._clock = clock
        self._value: CatalogFile | None = None
        self._path: Path | None = None
        self._etag: str | None = None
        self._next_check = 0.0
        self._loads = SingleFlight(pool, "s3:GetObject catalog")

    @property
    def loaded(self) -> bool:
        return self._value is not None

    def settle(self, timeout: float) -> None:
        """Wait (at most `timeout` s) for a load in flight to end: for shutdown and tests, never a request."""
        self._loads.settle(timeout)

    def prefetch(self) -> None:
        """Start the first load (or a due refresh) without waiting: a request calls this on arrival so
        the catalog loads while Personalize is asked."""
        if self._value is None or self._clock() >= self._next_check:
            self._start_load()

    def get(self, deadline: Deadline) -> CatalogFile | None:
        """The current catalog (starting a refresh if due); None when none was loaded by the deadline."""
        value = self._value
        if value is not None and self._clock() < self._next_check:
            return value
        loading = self._start_load()
        if value is not None or loading is None:
            return value  # a refresh runs in the background; this request keeps the current copy
        if not self._loads.wait(loading, deadline):
            log_event("catalog_wait_cut", logging.WARNING, key=self.key, waited_s=deadline.budget_s)
        return self._value

    def _start_load(self) -> concurrent.futures.Future[None] | None:
        def due() -> bool:
            if self._clock() < self._next_check:
                return False
            if not self._breaker.allow():
                self._next_check = self._clock() + 1.0  # ask the breaker again soon, not every request
                return False
            self._next_check = self._clock() + self._refresh  # one load per interval
            return True

        return self._loads.start(self._load, due)

    def _load(self) -> None:
        started = self._clock()
        try:
            client = self._s3()
            if self._etag is not None:
                head = client.head_object(Bucket=self.bucket, Key=self.key)
                if head.get("ETag") == self._etag:
                    self._breaker.success()
                    return
            obj = client.get_object(Bucket=self.bucket, Key=self.key)
            path = download_to_disk(obj["Body"], self._directory)
            value = open_catalog(path, f"s3://{self.bucket}/{self.key}")
        except Exception as exc:  # any S3 or format fault: keep the last good copy, say why
            self._breaker.failure(type(exc).__name__)
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
            raise
        self._breaker.success()
        previous = self._path
        self._value, self._path, self._etag = value, path, obj.get("ETag")
        if previous is not None:
            # The old copy stays mapped while requests still hold it; its name can go now.
            previous.unlink(missing_ok=True)
        log_event(
            "artifact_loaded",
            bucket=self.bucket,
            key=self.key,
            etag=self._etag,
            items=len(value),
            ms=round((self._clock() - started) * 1000, 1),
        )


def download_to_disk(body: Any, directory: str | None = None) -> Path:
    """Stream a readable body (S3's StreamingBody) to a new temporary file in 1 MiB chunks: memory does
    not grow with the object's size."""
    import tempfile  # deferred: only a cold start's first load needs it

    handle, name = tempfile.mkstemp(prefix="catalog-", suffix=".bin", dir=directory)
    try:
        with os.fdopen(handle, "wb") as out:
            for chunk in iter(lambda: body.read(_CHUNK), b""):
                out.write(chunk)
    except BaseException:
        Path(name).unlink(missing_ok=True)
        raise
    return Path(name)
