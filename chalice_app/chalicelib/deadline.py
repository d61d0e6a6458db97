"""One deadline per request, and a bounded way to wait for a dependency within it.

Every dependency call on the request path (SSM, S3, Personalize) runs on a shared worker pool and is waited
for only until the request's deadline; the worker itself is bounded by botocore's connect/read timeouts, so
a hung socket frees it soon after. Waiting for a pooled worker counts against the same deadline.
"""

from __future__ import annotations

import concurrent.futures
import threading
import time
from collections.abc import Callable
from typing import TypeVar

from chalicelib.errors import ApiBaseError

__all__ = ["Deadline", "DeadlineExceededError", "SingleFlight", "WorkerPool", "wait"]

T = TypeVar("T")


class DeadlineExceededError(ApiBaseError, TimeoutError):
    """The request's deadline passed before `what` answered."""

    def __init__(self, what: str, budget_s: float) -> None:
        super().__init__(what, f"no answer within the request's remaining {budget_s * 1000:.0f} ms")
        self.what = what
        self.budget_s = budget_s


class Deadline:
    """The moment a request must be answered by; dependencies get what is left of it, less a reserve
    (a tenth of the budget, at most 100 ms) in which the fallback is composed and the answer written."""

    def __init__(self, budget_ms: float, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self.budget_s = budget_ms / 1000.0
        self.expires = clock() + self.budget_s
        self._dependencies_by = self.expires - min(0.1, self.budget_s / 10)
        self.missed: list[str] = []  # dependencies cut at the deadline (one DeadlineMiss per request)

    def remaining(self) -> float:
        """Seconds a dependency may still take (never negative)."""
        return max(0.0, self._dependencies_by - self._clock())

    @property
    def expired(self) -> bool:
        """The answer itself is due: stop composing it."""
        return self._clock() >= self.expires


class WorkerPool:
    """A lazily started thread pool whose results are awaited no longer than a deadline allows."""

    def __init__(self, max_workers: int, name: str) -> None:
        self._max_workers = max_workers
        self._name = name
        self._pool: concurrent.futures.ThreadPoolExecutor | None = None
        self._lock = threading.Lock()

    def submit(self, fn: Callable[[], T]) -> concurrent.futures.Future[T]:
        if self._pool is None:
            with self._lock:
                if self._pool is None:
                    self._pool = concurrent.futures.ThreadPoolExecutor(
                        max_workers=self._max_workers, thread_name_prefix=self._name
                    )
        return self._pool.submit(fn)

    def run(self, what: str, fn: Callable[[], T], deadline: Deadline) -> T:
        """`fn()` on a worker, waited for until the deadline; raises DeadlineExceededError past it."""
        return wait(what, self.submit(fn), deadline)


def wait(what: str, future: concurrent.futures.Future[T], deadline: Deadline) -> T:
    """The future's result if it arrives before the deadline (its exception, re-raised, if it failed)."""
    budget = deadline.remaining()
    try:
        return future.result(timeout=budget)
    except concurrent.futures.TimeoutError as exc:
        future.cancel()  # still queued (waiting for a worker): never run it
        deadline.missed.append(what)
        raise DeadlineExceededError(what, budget) from exc


class SingleFlight:
    """At most one background load at a time: callers share the one in flight, or start one when due.

    Requests wait for it only until their deadline; a load that is slower keeps running and serves the
    requests that come after it.
    """

    def __init__(self, pool: WorkerPool, what: str) -> None:
        self._pool = pool
        self.what = what
        self._future: concurrent.futures.Future[None] | None = None
        self._lock = threading.Lock()

    def start(
        self, load: Callable[[], None], due: Callable[[], bool]
    ) -> concurrent.futures.Future[None] | None:
        """The load in flight, or a new one if `due()` (called under the lock) says so; None otherwise."""
        with self._lock:
            if self._future is not None and not self._future.done():
                return self._future
            if not due():
                return None
            self._future = self._pool.submit(load)
            return self._future

    def wait(self, future: concurrent.futures.Future[None], deadline: Deadline) -> bool:
        """Wait for `future` until the deadline; False when the deadline cut the wait (the load logs its
        own failures)."""
        try:
            wait(self.what, future, deadline)
        except DeadlineExceededError:
            return False
        except Exception:  # noqa: S110 - the load logged why it failed
            pass
        return True

    def settle(self, timeout: float) -> None:
        """Wait (at most `timeout` s) for a load in flight to end: for shutdown and tests, never a request."""
        future = self._future
        if future is not None:
            concurrent.futures.wait([future], timeout=timeout)
