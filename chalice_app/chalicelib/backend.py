"""The Personalize runtime behind a small interface, with a hard deadline on every call.

The botocore client already has connect/read timeouts and one attempt; the thread deadline also
bounds DNS, TLS and credential resolution, which those timeouts do not cover.
"""

from __future__ import annotations

import concurrent.futures
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from chalicelib.errors import BackendError

__all__ = ["BackendAnswer", "PersonalizeBackend"]

_THROTTLE_CODES = frozenset({"ThrottlingException", "TooManyRequestsException", "LimitExceededException"})


@dataclass(frozen=True)
class BackendAnswer:
    item_ids: list[str]
    recommendation_id: str | None


class PersonalizeBackend:
    """GetRecommendations / GetPersonalizedRanking; every fault becomes a BackendError with a reason.

    The only backend: tests and benchmarks hand it a fake Personalize runtime client instead.
    """

    def __init__(self, client: Callable[[], Any], timeout_ms: int, max_workers: int = 32) -> None:
        self._client = client
        self._timeout = timeout_ms / 1000.0
        self._max_workers = max_workers
        self._pool: concurrent.futures.ThreadPoolExecutor | None = None
        self._pool_lock = threading.Lock()

    def recommendations(
        self,
        campaign_arn: str,
        user_id: str,
        num_results: int,
        filter_arn: str | None = None,
        filter_values: Mapping[str, str] | None = None,
    ) -> BackendAnswer:
        params: dict[str, Any] = {"campaignArn": campaign_arn, "userId": user_id, "numResults": num_results}
        _add_filter(params, filter_arn, filter_values)
        response = self._call("GetRecommendations", "get_recommendations", params)
        return _answer(response, "itemList")

    def related_items(self, campaign_arn: str, item_id: str, num_results: int) -> BackendAnswer:
        params = {"campaignArn": campaign_arn, "itemId": item_id, "numResults": num_results}
        response = self._call("GetRecommendations", "get_recommendations", params)
        return _answer(response, "itemList")

    def ranking(
        self,
        campaign_arn: str,
        user_id: str,
        item_ids: Sequence[str],
        filter_arn: str | None = None,
        filter_values: Mapping[str, str] | None = None,
    ) -> BackendAnswer:
        params: dict[str, Any] = {"campaignArn": campaign_arn, "userId": user_id, "inputList": list(item_ids)}
        _add_filter(params, filter_arn, filter_values)
        response = self._call("GetPersonalizedRanking", "get_personalized_ranking", params)
        return _answer(response, "personalizedRanking")

    def _executor(self) -> concurrent.futures.ThreadPoolExecutor:
        if self._pool is None:
            with self._pool_lock:
                if self._pool is None:
                    self._pool = concurrent.futures.ThreadPoolExecutor(
                        max_workers=self._max_workers, thread_name_prefix="personalize"
                    )
        return self._pool

    def _call(self, operation: str, method: str, params: dict[str, Any]) -> dict[str, Any]:
        def invoke() -> dict[str, Any]:
            return dict(getattr(self._client(), method)(**params))

        future = self._executor().submit(invoke)
        try:
            return future.result(timeout=self._timeout)
        except concurrent.futures.TimeoutError as exc:
            future.cancel()
            raise BackendError(operation, "timeout", f"no answer within {self._timeout:.3f}s") from exc
        except Exception as exc:
            raise _classify(operation, exc) from exc


def _add_filter(params: dict[str, Any], filter_arn: str | None, values: Mapping[str, str] | None) -> None:
    if filter_arn:
        params["filterArn"] = filter_arn
        if values:
            params["filterValues"] = dict(values)


def _answer(response: Mapping[str, Any], list_key: str) -> BackendAnswer:
    items = [str(entry["itemId"]) for entry in response.get(list_key, []) if entry.get("itemId")]
    return BackendAnswer(items, response.get("recommendationId"))


def _classify(operation: str, exc: Exception) -> BackendError:
    """Name the fault: throttled, timeout, unreachable or error:<AWS code>."""
    from botocore.exceptions import (  # deferred with boto3 itself
        ClientError,
        ConnectionError,
        ConnectTimeoutError,
        ReadTimeoutError,
    )

    if isinstance(exc, ClientError):
        code = str(exc.response.get("Error", {}).get("Code", "Unknown"))
        status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
        if code in _THROTTLE_CODES or status == 429:
            return BackendError(operation, "throttled", code)
        return BackendError(operation, f"error:{code}", str(exc)[:300])
    if isinstance(exc, ReadTimeoutError | ConnectTimeoutError):
        return BackendError(operation, "timeout", str(exc)[:300])
    if isinstance(exc, ConnectionError):
        return BackendError(operation, "unreachable", str(exc)[:300])
    return BackendError(operation, f"error:{type(exc).__name__}", str(exc)[:300])
