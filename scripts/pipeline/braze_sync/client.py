"""A small Braze REST client: /users/track and /users/delete within Braze's documented limits.

- Pacing: at most `requests_per_window` calls per `window_seconds` (our share of the endpoint's limit),
  and when a response says X-RateLimit-Remaining: 0 the next call waits for X-RateLimit-Reset.
- 429: wait for Retry-After when present, else until X-RateLimit-Reset (Braze documents these three
  X-RateLimit-* headers, with the reset as a UTC epoch second), then retry; 5xx and connection errors are
  retried with exponential backoff; other 4xx raise `BrazeRequestError` at once (retrying cannot help).
- Every call has a timeout: a Braze endpoint that hangs fails the call after `timeout` seconds and is
  retried like a 5xx.
"""

from __future__ import annotations

import collections
import email.utils
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import requests

from pipeline.errors import PipelineError

__all__ = ["BrazeClient", "BrazeRequestError", "ClientStats", "client_for"]

MAX_TRACK_OBJECTS = 75  # /users/track: 75 attribute objects per request (Braze "API rate limits")
MAX_DELETE_IDS = 50  # /users/delete: 50 external_ids per request (Braze "Delete users")


class BrazeRequestError(PipelineError):
    """Braze refused a request, or kept failing; says which endpoint, why and what to do."""

    def __init__(self, where: str, why: str, hint: str = "") -> None:
        super().__init__(where, why, message=f"{where}: {why}" + (f" ({hint})" if hint else ""))


@dataclass
class ClientStats:
    requests: int = 0
    rate_limited: int = 0
    retried_errors: int = 0
    waited_seconds: float = 0.0
    objects_per_request: list[int] = field(default_factory=list)


class BrazeClient:
    def __init__(
        self,
        endpoint: str,
        api_key: str,
        *,
        requests_per_window: int = 2_500,
        window_seconds: float = 3.0,
        timeout: float = 10.0,
        max_attempts: int = 8,
        session: requests.Session | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.endpoint = endpoint.rstrip("/")
        self.api_key = api_key
        self.requests_per_window = requests_per_window
        self.window_seconds = window_seconds
        self.timeout = timeout
        self.max_attempts = max_attempts
        self.session = session or requests.Session()
        self.sleep = sleep
        self.clock = clock
        self.stats = ClientStats()
        self._sent: collections.deque[float] = collections.deque()
        self._blocked_until = 0.0

    def _wait(self, seconds: float) -> None:
        if seconds > 0:
            self.stats.waited_seconds += seconds
            self.sleep(seconds)

    def _pace(self) -> None:
        now = self.clock()
        self._wait(self._blocked_until - now)
        while self._sent and self._sent[0] <= self.clock() - self.window_seconds:
            self._sent.popleft()
        if len(self._sent) >= self.requests_per_window:
            self._wait(self._sent[0] + self.window_seconds - self.clock())
            self._sent.popleft()
        self._sent.append(self.clock())

    def _retry_after(self, response: requests.Response) -> float:
        header = response.headers.get("Retry-After")
        if header:
            try:
                return max(0.0, float(header))
            except ValueError:
                parsed = email.utils.parsedate_to_datetime(header)
                return max(0.0, parsed.timestamp() - self.clock())
        reset = response.headers.get("X-RateLimit-Reset")
        if reset:
            return max(0.0, float(reset) - self.clock())
        return 1.0

    def post(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        where = f"POST {path}"
        for attempt in range(self.max_attempts):
            self._pace()
            self.stats.requests += 1
            try:
                response = self.session.post(
                    f"{self.endpoint}{path}",
                    json=body,
                    headers={"Authorization": f"Bearer {self.api_key}"},
                    timeout=self.timeout,
                )
            except requests.RequestException as exc:
                self.stats.retried_errors += 1
                if attempt == self.max_attempts - 1:
                    raise BrazeRequestError(
                        where, f"no answer: {exc}", "check the endpoint; re-run resumes"
                    ) from None
                self._wait(min(30.0, 0.5 * 2**attempt))
                continue
            if response.headers.get("X-RateLimit-Remaining") == "0":
                reset = response.headers.get("X-RateLimit-Reset")
                self._blocked_until = float(reset) if reset else self.clock() + 1.0
            if response.status_code == 429:
                self.stats.rate_limited += 1
                self._blocked_until = 0.0
                self._wait(self._retry_after(response))
                continue
            if response.status_code >= 500:
                self.stats.retried_errors += 1
                if attempt == self.max_attempts - 1:
                    raise BrazeRequestError(
                        where, f"HTTP {response.status_code}", "Braze is failing; re-run resumes"
                    )
                self._wait(min(30.0, 0.5 * 2**attempt))
                continue
            if response.status_code >= 400:
                raise BrazeRequestError(where, f"HTTP {response.status_code}: {response.text[:300]}")
            return dict(response.json()) if response.content else {}
        raise BrazeRequestError(
            where, f"still failing after {self.max_attempts} attempts", "re-run later: it resumes"
        )

    def track(self, attributes: Sequence[dict[str, Any]]) -> dict[str, Any]:
        if not 0 < len(attributes) <= MAX_TRACK_OBJECTS:
            raise BrazeRequestError(
                "POST /users/track", f"{len(attributes)} objects (1 to {MAX_TRACK_OBJECTS})"
            )
        self.stats.objects_per_request.append(len(attributes))
        answer = self.post("/users/track", {"attributes": list(attributes)})
        if answer.get("errors"):
            raise BrazeRequestError("POST /users/track", f"Braze refused objects: {answer['errors'][:3]}")
        return answer

    def delete_users(self, external_ids: Sequence[str]) -> int:
        deleted = 0
        ids = list(external_ids)
        for start in range(0, len(ids), MAX_DELETE_IDS):
            answer = self.post("/users/delete", {"external_ids": ids[start : start + MAX_DELETE_IDS]})
            deleted += int(answer.get("deleted", 0))
        return deleted


def client_for(ctx: Any) -> BrazeClient:
    """The endpoint from the config (or BRAZE_REST_ENDPOINT), the key from SSM (or BRAZE_API_KEY)."""
    import os

    braze = ctx.config.get("braze") or {}
    endpoint = os.environ.get("BRAZE_REST_ENDPOINT") or str(braze.get("rest_endpoint", ""))
    if ctx.env == "local" and not os.environ.get("BRAZE_REST_ENDPOINT"):
        endpoint = os.environ.get("AWS_ENDPOINT_URL", endpoint)  # the local stack serves the Braze emulator
    key = os.environ.get("BRAZE_API_KEY")
    if not key:
        name = f"/{ctx.config['name']}/{braze.get('api_key_parameter', 'braze-api-key')}"
        try:
            key = ctx.client("ssm").get_parameter(Name=name, WithDecryption=True)["Parameter"]["Value"]
        except Exception as exc:  # botocore's ParameterNotFound and friends
            if ctx.env != "local":
                raise BrazeRequestError(
                    f"SSM parameter {name}", str(exc), "put the Braze REST API key there (SecureString)"
                ) from None
            from local_stack.braze.workspace import DEFAULT_API_KEY

            key = DEFAULT_API_KEY
    per_minute = int(braze.get("requests_per_minute", 50_000))
    return BrazeClient(endpoint, str(key), requests_per_window=max(1, per_minute // 20), window_seconds=3.0)
