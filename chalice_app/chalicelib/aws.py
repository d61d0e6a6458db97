"""Lazily created, shared boto3 clients: nothing touches boto3 at import time (Lambda cold start)."""

from __future__ import annotations

import threading
from typing import Any

__all__ = ["ClientFactory"]


class ClientFactory:
    """Makes one client per service on first use. AWS_ENDPOINT_URL (local stack) applies as usual.

    Every client on the request path (SSM, S3, Personalize) gets connect/read timeouts equal to the request
    deadline and a single attempt: a retry could not finish within the deadline, and a hung socket must
    free its worker soon after the request gave up on it.
    """

    def __init__(self, timeout_ms: int, max_pool_connections: int = 64) -> None:
        self._timeout = max(timeout_ms / 1000.0, 0.01)
        self._max_pool = max_pool_connections
        self._clients: dict[str, Any] = {}
        self._lock = threading.Lock()
        self._session: Any = None

    def client(self, service: str) -> Any:
        found = self._clients.get(service)
        if found is not None:
            return found
        with self._lock:
            found = self._clients.get(service)
            if found is None:
                found = self._make(service)
                self._clients[service] = found
            return found

    def config(self) -> Any:
        """The botocore configuration every client gets."""
        from botocore.config import Config  # deferred with boto3 itself

        return Config(
            connect_timeout=self._timeout,
            read_timeout=self._timeout,
            retries={"total_max_attempts": 1, "mode": "standard"},
            max_pool_connections=self._max_pool,
        )

    def _make(self, service: str) -> Any:
        import boto3  # deferred: importing boto3 costs a cold start ~100+ ms

        if self._session is None:
            self._session = boto3.session.Session()
        return self._session.client(service, config=self.config())
