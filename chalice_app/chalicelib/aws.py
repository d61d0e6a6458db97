"""Lazily created, shared boto3 clients: nothing touches boto3 at import time (Lambda cold start)."""

from __future__ import annotations

import threading
from typing import Any

__all__ = ["ClientFactory"]


class ClientFactory:
    """Makes one client per (service, timeout) on first use. AWS_ENDPOINT_URL (local stack) applies as usual.

    Backend clients get connect/read timeouts equal to the request deadline and a single attempt:
    a retry would only spend the time budget that the fallback needs.
    """

    def __init__(self) -> None:
        self._clients: dict[tuple[str, int | None], Any] = {}
        self._lock = threading.Lock()
        self._session: Any = None

    def client(self, service: str, timeout_ms: int | None = None) -> Any:
        key = (service, timeout_ms)
        found = self._clients.get(key)
        if found is not None:
            return found
        with self._lock:
            found = self._clients.get(key)
            if found is None:
                found = self._make(service, timeout_ms)
                self._clients[key] = found
            return found

    def _make(self, service: str, timeout_ms: int | None) -> Any:
        import boto3  # deferred: importing boto3 costs a cold start ~100+ ms
        from botocore.config import Config

        if self._session is None:
            self._session = boto3.session.Session()
        if timeout_ms is None:
            config = Config(connect_timeout=2, read_timeout=5, retries={"total_max_attempts": 2})
        else:
            seconds = max(timeout_ms / 1000.0, 0.01)
            config = Config(
                connect_timeout=seconds,
                read_timeout=seconds,
                retries={"total_max_attempts": 1},
                max_pool_connections=64,
            )
        return self._session.client(service, config=config)
