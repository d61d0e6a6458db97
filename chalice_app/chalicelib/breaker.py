"""A circuit breaker per dependency: after consecutive failures it opens and callers fall back at once;
after a cool-down it lets one probe through, and closes again when the probe succeeds.

Transitions are logged, and each request that finds the breaker open (and each opening) counts 1 of the
`BreakerOpen` metric with the dependency as its dimension.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Literal

from chalicelib.logs import Metrics, log_event
from chalicelib.metric_names import BREAKER_OPEN, DIMENSION_DEPENDENCY

__all__ = ["BreakerState", "CircuitBreaker"]

BreakerState = Literal["closed", "open", "half_open"]


class CircuitBreaker:
    """closed → (failure_threshold consecutive failures) → open → (cooldown) → half_open: one probe →
    closed on success, open again on failure."""

    def __init__(
        self,
        dependency: str,
        failure_threshold: int,
        cooldown_seconds: float,
        metrics: Metrics,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.dependency = dependency
        self._threshold = max(1, failure_threshold)
        self._cooldown = cooldown_seconds
        self._metrics = metrics
        self._clock = clock
        self._lock = threading.Lock()
        self._state: BreakerState = "closed"
        self._failures = 0
        self._opened_at = 0.0
        self._probing = False

    @property
    def state(self) -> BreakerState:
        with self._lock:
            if self._state == "open" and self._clock() - self._opened_at >= self._cooldown:
                return "half_open"
            return self._state

    def allow(self) -> bool:
        """May this call go to the dependency? False: answer from the fallback now."""
        with self._lock:
            if self._state == "closed":
                return True
            if self._state == "open" and self._clock() - self._opened_at >= self._cooldown:
                self._transition("half_open")
            if self._state == "half_open" and not self._probing:
                self._probing = True  # this caller is the probe
                return True
        self._metrics.emit(
            BREAKER_OPEN,
            1,
            {DIMENSION_DEPENDENCY: self.dependency},
            event="breaker_rejected",
            level=logging.WARNING,
        )
        return False

    def success(self) -> None:
        with self._lock:
            self._failures = 0
            self._probing = False
            if self._state != "closed":
                self._transition("closed")

    def release(self) -> None:
        """The call allowed by `allow` says nothing about the dependency (the request was at fault)."""
        with self._lock:
            self._probing = False

    def failure(self, reason: str) -> None:
        opened = False
        with self._lock:
            self._failures += 1
            self._probing = False
            if self._state == "half_open" or (self._state == "closed" and self._failures >= self._threshold):
                self._opened_at = self._clock()
                self._transition("open", reason=reason)
                opened = True
        if opened:
            self._metrics.emit(
                BREAKER_OPEN,
                1,
                {DIMENSION_DEPENDENCY: self.dependency},
                event="breaker_opened",
                level=logging.ERROR,
                reason=reason,
                cooldown_seconds=self._cooldown,
            )

    def _transition(self, state: BreakerState, reason: str | None = None) -> None:
        previous, self._state = self._state, state
        log_event(
            "breaker_state",
            logging.WARNING if state != "closed" else logging.INFO,
            dependency=self.dependency,
            state=state,
            previous=previous,
            consecutive_failures=self._failures,
            reason=reason,
        )
