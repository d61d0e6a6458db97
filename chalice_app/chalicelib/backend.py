"""The Personalize runtime behind a small interface, bounded by the request's deadline.

The botocore client has connect/read timeouts equal to the deadline and one attempt (a retry could not
finish in time); the wait on the worker also bounds DNS, TLS, credential resolution and the wait for a free
worker, which those timeouts do not cover. Every fault, including an answer that does not have the
documented shape, becomes a BackendError with a reason, and the API falls back.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from chalicelib.deadline import Deadline, DeadlineExceededError, WorkerPool
from chalicelib.errors import BackendError

__all__ = ["REQUEST_FAULTS", "BackendAnswer", "PersonalizeBackend"]

_THROTTLE_CODES = frozenset({"ThrottlingException", "TooManyRequestsException", "LimitExceededException"})
# Faults of the request itself, not of the dependency: they do not count against the breaker.
REQUEST_FAULTS = frozenset({"error:InvalidInputException"})


@dataclass(frozen=True)
class BackendAnswer:
    item_ids: list[str]
    recommendation_id: str | None
    # Per item id: the `metadata` Personalize returned (metadataColumns), the promotion that placed it.
    metadata: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    promoted: Mapping[str, str] = field(default_factory=dict)


class PersonalizeBackend:
    """GetRecommendations / GetPersonalizedRanking; every fault becomes a BackendError with a reason.

    The only backend: tests and benchmarks hand it a fake Personalize runtime client instead.
    """

    def __init__(self, client: Callable[[], Any], pool: WorkerPool | None = None) -> None:
        self._client = client
        self._pool = pool or WorkerPool(32, "personalize")

    def recommendations(
        self,
        campaign_arn: str,
        user_id: str | None,
        num_results: int,
        deadline: Deadline,
        filter_arn: str | None = None,
        filter_values: Mapping[str, str] | None = None,
        promotion: Mapping[str, Any] | None = None,
        metadata_columns: Mapping[str, Sequence[str]] | None = None,
    ) -> BackendAnswer:
        """GetRecommendations for a user; `user_id` None for an aws-trending-now campaign, which answers the
        same trending items to everyone ("Only pass a userId ... if you apply a filter that requires it",
        Trending-Now recipe page)."""
        params: dict[str, Any] = {"campaignArn": campaign_arn, "numResults": num_results}
        if user_id is not None:
            params["userId"] = user_id
        _add_filter(params, filter_arn, filter_values)
        if promotion:
            params["promotions"] = [dict(promotion)]
        if metadata_columns:
            params["metadataColumns"] = {k: list(v) for k, v in metadata_columns.items()}
        response = self._call("GetRecommendations", "get_recommendations", params, deadline)
        return _answer("GetRecommendations", response, "itemList")

    def related_items(
        self, campaign_arn: str, item_id: str, num_results: int, deadline: Deadline
    ) -> BackendAnswer:
        params = {"campaignArn": campaign_arn, "itemId": item_id, "numResults": num_results}
        response = self._call("GetRecommendations", "get_recommendations", params, deadline)
        return _answer("GetRecommendations", response, "itemList")

    def ranking(
        self,
        campaign_arn: str,
        user_id: str,
        item_ids: Sequence[str],
        deadline: Deadline,
        filter_arn: str | None = None,
        filter_values: Mapping[str, str] | None = None,
    ) -> BackendAnswer:
        params: dict[str, Any] = {"campaignArn": campaign_arn, "userId": user_id, "inputList": list(item_ids)}
        _add_filter(params, filter_arn, filter_values)
        response = self._call("GetPersonalizedRanking", "get_personalized_ranking", params, deadline)
        return _answer("GetPersonalizedRanking", response, "personalizedRanking")

    def _call(self, operation: str, method: str, params: dict[str, Any], deadline: Deadline) -> Any:
        def invoke() -> Any:
            return getattr(self._client(), method)(**params)

        try:
            return self._pool.run(f"personalize:{operation}", invoke, deadline)
        except DeadlineExceededError as exc:
            raise BackendError(operation, "timeout", str(exc)) from exc
        except Exception as exc:
            raise _classify(operation, exc) from exc


def _add_filter(params: dict[str, Any], filter_arn: str | None, values: Mapping[str, str] | None) -> None:
    if filter_arn:
        params["filterArn"] = filter_arn
        if values:
            params["filterValues"] = dict(values)


def _answer(operation: str, response: Any, list_key: str) -> BackendAnswer:
    """The item ids and recommendation id of an answer, or BackendError("malformed") when the answer does
    not have the documented shape (a list of objects with string itemId; a string recommendationId)."""

    def malformed(why: str) -> BackendError:
        return BackendError(operation, "malformed", why)

    if not isinstance(response, Mapping):
        raise malformed(f"the answer is a {type(response).__name__}, not an object")
    entries = response.get(list_key, [])
    if not isinstance(entries, list):
        raise malformed(f"{list_key} is a {type(entries).__name__}, not a list")
    items: list[str] = []
    metadata: dict[str, Mapping[str, str]] = {}
    promoted: dict[str, str] = {}
    for entry in entries:
        item_id = entry.get("itemId") if isinstance(entry, Mapping) else None
        if not isinstance(item_id, str) or not item_id:
            raise malformed(f"{list_key} holds an entry without a string itemId: {str(entry)[:80]}")
        items.append(item_id)
        values = entry.get("metadata")
        if values is not None:
            if not isinstance(values, Mapping) or not all(
                isinstance(k, str) and isinstance(v, str) for k, v in values.items()
            ):
                raise malformed(f"metadata of {item_id[:80]} is not a map of strings")
            metadata[item_id] = values
        name = entry.get("promotionName")
        if name is not None:
            if not isinstance(name, str):
                raise malformed(f"promotionName of {item_id[:80]} is a {type(name).__name__}, not a string")
            promoted[item_id] = name
    recommendation_id = response.get("recommendationId")
    if recommendation_id is not None and not isinstance(recommendation_id, str):
        raise malformed(f"recommendationId is a {type(recommendation_id).__name__}, not a string")
    return BackendAnswer(items, recommendation_id, metadata, promoted)


def _classify(operation: str, exc: Exception) -> BackendError:
    """Name the fault: throttled, timeout, unreachable or error:<AWS code>."""
    from botocore.exceptions import (  # deferred with boto3 itself
        ClientError,
        ConnectionError,
        ConnectTimeoutError,
        ReadTimeoutError,
    )

    if isinstance(exc, BackendError):
        return exc
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
