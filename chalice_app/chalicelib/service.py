"""What each route answers: Personalize when it can, the popular-items fallback when it cannot.

Items are decorated from the catalog; ids missing from it are skipped and the list is backfilled
from extra results fetched up front, so a template always gets complete items.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from chalicelib.artifacts import CatalogItem
from chalicelib.backend import BackendAnswer, PersonalizeBackend
from chalicelib.cache import TTLCache
from chalicelib.errors import BackendError
from chalicelib.logs import Metrics, log_event
from chalicelib.queries import MAX_LIMIT, RankingsQuery, RecommendationsQuery, RelatedItemsQuery
from chalicelib.settings import Settings

__all__ = ["RecommendationService", "Result", "Source"]

Source = Literal["personalize", "fallback"]


@dataclass(frozen=True)
class Result:
    items: list[dict[str, Any]]
    source: Source
    recommendation_id: str | None
    cache_hit: bool = False
    reason: str | None = None


def _overfetch(limit: int) -> int:
    """Ask for a few more than needed so ids missing from the catalog can be backfilled."""
    return min(MAX_LIMIT, limit + max(5, limit // 2))


class RecommendationService:
    def __init__(
        self,
        settings: Settings,
        backend: PersonalizeBackend,
        catalog: Callable[[], Mapping[str, CatalogItem] | None],
        popular: Callable[[], list[str] | None],
        cache: TTLCache[Result],
        metrics: Metrics,
    ) -> None:
        self.settings = settings
        self._backend = backend
        self._catalog = catalog
        self._popular = popular
        self._cache = cache
        self._metrics = metrics

    # -- routes ---------------------------------------------------------------------------------
    def recommendations(self, query: RecommendationsQuery) -> Result:
        key = (
            "recommendations",
            query.user_id,
            query.limit,
            query.filter_name,
            query.filter_values,
            query.metadata,
        )

        def fetch() -> BackendAnswer:
            filter_arn = self.settings.filter_arns.get(query.filter_name) if query.filter_name else None
            return self._backend.recommendations(
                self.settings.campaign_arn,
                query.user_id,
                _overfetch(query.limit) if query.metadata else query.limit,
                filter_arn,
                dict(query.filter_values),
            )

        return self._serve("/recommendations", key, fetch, query.limit, query.metadata, exclude=())

    def related_items(self, query: RelatedItemsQuery) -> Result:
        key = ("related-items", query.item_id, query.limit, query.metadata)
        campaign = self.settings.related_campaign_arn

        def fetch() -> BackendAnswer:
            if not campaign:
                raise BackendError("GetRecommendations", "not_configured", "RELATED_CAMPAIGN_ARN is empty")
            size = _overfetch(query.limit + 1) if query.metadata else query.limit + 1
            return self._backend.related_items(campaign, query.item_id, size)

        return self._serve(
            "/related-items", key, fetch, query.limit, query.metadata, exclude=(query.item_id,)
        )

    def rankings(self, query: RankingsQuery) -> Result:
        key = (
            "rankings",
            query.user_id,
            query.item_ids,
            query.filter_name,
            query.filter_values,
            query.metadata,
        )

        def fetch() -> BackendAnswer:
            filter_arn = self.settings.filter_arns.get(query.filter_name) if query.filter_name else None
            return self._backend.ranking(
                self.settings.ranking_campaign_arn,
                query.user_id,
                query.item_ids,
                filter_arn,
                dict(query.filter_values),
            )

        return self._serve(
            "/rankings", key, fetch, len(query.item_ids), query.metadata, exclude=(), ranking=query.item_ids
        )

    def popular(self, limit: int, metadata: bool = True) -> list[dict[str, Any]]:
        """The fallback list alone (used when something unexpected broke the normal path)."""
        return self._decorate(self._popular() or [], limit, metadata)

    # -- shared path ----------------------------------------------------------------------------
    def _serve(
        self,
        route: str,
        key: tuple[Any, ...],
        fetch: Callable[[], BackendAnswer],
        limit: int,
        metadata: bool,
        exclude: Sequence[str],
        ranking: Sequence[str] | None = None,
    ) -> Result:
        cached = self._cache.get(key)
        if cached is not None:
            return Result(cached.items, cached.source, cached.recommendation_id, cache_hit=True)
        try:
            answer = fetch()
        except BackendError as exc:
            self._metrics.increment(
                "Fallback", route, operation=exc.operation, reason=exc.reason, detail=exc.detail[:200]
            )
            ids = self._fallback_ids(ranking, exclude)
            # A fallback is not cached: the next call should try Personalize again.
            return Result(self._decorate(ids, limit, metadata), "fallback", None, reason=exc.reason)
        ids = [i for i in answer.item_ids if i not in exclude]
        result = Result(self._decorate(ids, limit, metadata), "personalize", answer.recommendation_id)
        self._cache.put(key, result)
        return result

    def _fallback_ids(self, ranking: Sequence[str] | None, exclude: Sequence[str]) -> list[str]:
        popular = self._popular() or []
        if ranking is not None:
            # Rankings fall back to popularity order; ids the list does not know keep their given order.
            position = {item: i for i, item in enumerate(popular)}
            return sorted(ranking, key=lambda i: position.get(i, len(position)))
        return [i for i in popular if i not in exclude]

    def _decorate(self, ids: Sequence[str], limit: int, metadata: bool) -> list[dict[str, Any]]:
        if not metadata:
            return [{"id": i} for i in ids[:limit]]
        catalog = self._catalog()
        if catalog is None:
            log_event("catalog_unavailable", logging.ERROR, skipped=len(ids))
            return []
        items: list[dict[str, Any]] = []
        missing = 0
        for item_id in ids:
            entry = catalog.get(item_id)
            if entry is None:
                missing += 1
                continue
            items.append(entry.to_json())
            if len(items) == limit:
                break
        if missing:
            log_event("items_missing_from_catalog", logging.INFO, count=missing)
        return items
