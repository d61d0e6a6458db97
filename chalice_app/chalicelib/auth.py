"""API keys from an SSM SecureString (comma-separated, for rotation), cached, compared in constant time.

The parameter is read on a worker and waited for no longer than the request's deadline: a cold start whose
SSM read hangs answers 503 in time instead of leaving API Gateway to answer 502 at the Lambda timeout.
"""

from __future__ import annotations

import concurrent.futures
import hmac
import logging
import time
from collections.abc import Callable
from typing import Any

from chalicelib.deadline import Deadline, SingleFlight, WorkerPool
from chalicelib.errors import ApiError
from chalicelib.logs import log_event

__all__ = ["UNSET_PLACEHOLDER", "ApiKeys"]

# The value terraform/modules/platform writes before anyone sets a key.
UNSET_PLACEHOLDER = "UNSET"
# After a failed read, the next one starts no sooner than this (seconds).
_RETRY_AFTER_FAILURE = 2.0


class ApiKeys:
    """Verifies a presented key against the current SSM key list (cached for `ttl_seconds`)."""

    def __init__(
        self,
        ssm: Callable[[], Any],
        parameter: str,
        ttl_seconds: float,
        pool: WorkerPool,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._ssm = ssm
        self._parameter = parameter
        self._ttl = ttl_seconds
        self._clock = clock
        self._keys: tuple[bytes, ...] | None = None
        self._expires = 0.0
        self._loads = SingleFlight(pool, "ssm:GetParameter")

    def settle(self, timeout: float) -> None:
        """Wait (at most `timeout` s) for a read in flight to end: for shutdown and tests, never a request."""
        self._loads.settle(timeout)

    def verify(self, presented: str | None, deadline: Deadline) -> bool:
        """True when `presented` equals one of the keys. Raises ApiError(503) if no key list could be read
        by the deadline and none was ever read."""
        if not presented:
            return False
        keys = self._current(deadline)
        candidate = presented.encode("utf-8", "surrogateescape")
        matched = False
        # Compare against every key (no early exit), so timing does not reveal which one matched.
        for key in keys:
            matched |= hmac.compare_digest(candidate, key)
        return matched

    def _current(self, deadline: Deadline) -> tuple[bytes, ...]:
        keys = self._keys
        if keys is not None and self._clock() < self._expires:
            return keys
        loading = self._start_load()
        if keys is not None:
            return keys  # refresh in the background; the last good list serves meanwhile
        if loading is not None and not self._loads.wait(loading, deadline):
            log_event("api_keys_wait_cut", logging.ERROR, parameter=self._parameter)
        if self._keys is None:
            raise ApiError(503, "auth_unavailable", "the API key store cannot be read; try again shortly")
        return self._keys

    def _start_load(self) -> concurrent.futures.Future[None] | None:
        def due() -> bool:
            if self._clock() < self._expires and self._keys is not None:
                return False  # (with no keys at all, every request may start the one read in flight)
            self._expires = self._clock() + _RETRY_AFTER_FAILURE  # after a failure, the next read waits
            return True

        return self._loads.start(self._load, due)

    def _load(self) -> None:
        try:
            response = self._ssm().get_parameter(Name=self._parameter, WithDecryption=True)
            raw = str(response["Parameter"]["Value"])
        except Exception as exc:  # keep the last good list rather than locking every caller out
            log_event(
                "api_keys_load_failed",
                logging.ERROR,
                parameter=self._parameter,
                error=type(exc).__name__,
                serving_stale=self._keys is not None,
            )
            raise
        # Terraform creates the parameter with a placeholder until a real key is written: never a key.
        self._keys = tuple(
            k.strip().encode("utf-8") for k in raw.split(",") if k.strip() and k.strip() != UNSET_PLACEHOLDER
        )
        self._expires = self._clock() + self._ttl
        log_event("api_keys_loaded", parameter=self._parameter, count=len(self._keys))
