"""API keys from an SSM SecureString (comma-separated, for rotation), cached, compared in constant time."""

from __future__ import annotations

import hmac
import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from chalicelib.errors import ApiError
from chalicelib.logs import log_event

__all__ = ["UNSET_PLACEHOLDER", "ApiKeys"]

# The value terraform/modules/platform writes before anyone sets a key.
UNSET_PLACEHOLDER = "UNSET"


class ApiKeys:
    """Verifies a presented key against the current SSM key list (cached for `ttl_seconds`)."""

    def __init__(
        self,
        ssm: Callable[[], Any],
        parameter: str,
        ttl_seconds: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._ssm = ssm
        self._parameter = parameter
        self._ttl = ttl_seconds
        self._clock = clock
        self._keys: tuple[bytes, ...] | None = None
        self._expires = 0.0
        self._lock = threading.Lock()

    def verify(self, presented: str | None) -> bool:
        """True when `presented` equals one of the keys. Raises ApiError(503) if no key list was ever read."""
        if not presented:
            return False
        candidate = presented.encode("utf-8", "surrogateescape")
        matched = False
        # Compare against every key (no early exit), so timing does not reveal which one matched.
        for key in self._current():
            matched |= hmac.compare_digest(candidate, key)
        return matched

    def _current(self) -> tuple[bytes, ...]:
        if self._keys is not None and self._clock() < self._expires:
            return self._keys
        with self._lock:
            if self._keys is None or self._clock() >= self._expires:
                self._load()
            if self._keys is None:
                raise ApiError(503, "auth_unavailable", "the API key store cannot be read; try again shortly")
            return self._keys

    def _load(self) -> None:
        try:
            response = self._ssm().get_parameter(Name=self._parameter, WithDecryption=True)
            raw = str(response["Parameter"]["Value"])
        except Exception as exc:  # keep the last good list rather than locking every caller out
            self._expires = self._clock() + min(self._ttl, 5.0)
            log_event(
                "api_keys_load_failed",
                logging.ERROR,
                parameter=self._parameter,
                error=type(exc).__name__,
                serving_stale=self._keys is not None,
            )
            return
        # Terraform creates the parameter with a placeholder until a real key is written: never a key.
        self._keys = tuple(
            k.strip().encode("utf-8") for k in raw.split(",") if k.strip() and k.strip() != UNSET_PLACEHOLDER
        )
        self._expires = self._clock() + self._ttl
        log_event("api_keys_loaded", parameter=self._parameter, count=len(self._keys))
