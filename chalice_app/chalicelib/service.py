"""What each route answers: Personalize when it can, a fallback that honours the request when it cannot.

Items are decorated from the catalog artifact; ids missing from it are skipped and the list is backfilled
from extra results fetched up front, so a template always gets complete items.

The fallback walks the catalog in popularity order and keeps the items the request's filter allows: the
filter's clauses on item metadata are evaluated on the catalog rows (personalize_rules.item_filter, the one
grammar). Clauses the catalog cannot answer (interactions, the user's row, a current item) follow the
filter's `on_fallback`: `popular` answers without them, `empty` answers `[]` (so a template aborts).
`/rankings` falls back to its own items in popularity order, never to others.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, Literal

from chalicelib.backend import REQUEST_FAULTS, BackendAnswer, PersonalizeBackend
from chalicelib.breaker import CircuitBreaker
from chalicelib.cache import TTLCache
from chalicelib.catalog_artifact import CatalogFile
from chalicelib.deadline import Deadline
from chalicelib.errors import BackendError
from chalicelib.logs import Metrics, log_event
from chalicelib.metric_names import FALLBACK
from chalicelib.queries import (
    MAX_LIMIT,
    FilterLists,
    RankingsQuery,
    RecommendationsQuery,
    RelatedItemsQuery,
    TrendingQuery,
)
from chalicelib.settings import FilterSpec, Settings

if TYPE_CHECKING:
    from chalicelib.promotions import PromotionSpec
    from personalize_rules.item_filter import ItemColumn, ItemFilter

__all__ = ["RecommendationService", "Result", "Source"]

# popular: an experiment's popular variant, served from the catalog by design (not degraded).
Source = Literal["personalize", "fallback", "popular"]
# The fallback checks the deadline every this many catalog rows it reads.
_DEADLINE_CHECK_EVERY = 512


@dataclass(frozen=True)
class Result:
    items: list[dict[str, Any]]
    source: Source
    recommendation_id: str | None
    cache_hit: bool = False
    reason: str | None = None

    @property
    def degraded(self) -> bool:
        """A fallback or an empty answer: caches keep it briefly (settings.degraded_cache_seconds)."""
        return self.source == "fallback" or not self.items


def _overfetch(limit: int) -> int:
    """Ask for a few more than needed so ids missing from the catalog can be backfilled."""
    return min(MAX_LIMIT, limit + max(5, limit // 2))


@dataclass(frozen=True)
class _Fallback:
    """What a fallback must honour: the filter (if any), ids to leave out, a fixed candidate list."""

    spec: FilterSpec | None = None
    lists: FilterLists = ()
    exclude: tuple[str, ...] = ()
    candidates: tuple[str, ...] | None = None  # /rankings: only these, in popularity order
    promotion: PromotionSpec | None = None


class RecommendationService:
    def __init__(
        self,
        settings: Settings,
        backend: PersonalizeBackend,
        catalog: Callable[[Deadline], CatalogFile | None],
        cache: TTLCache[Result],
        metrics: Metrics,
        breaker: CircuitBreaker,
    ) -> None:
        self.settings = settings
        self._backend = backend
        self._catalog = catalog
        self._cache = cache
        self._metrics = metrics
        self._breaker = breaker

    # -- routes ---------------------------------------------------------------------------------
    def recommendations(self, query: RecommendationsQuery, deadline: Deadline) -> Result:
        key: tuple[Any, ...] = (
            "recommendations",
            query.user_id,
            query.limit,
            query.filter_name,
            query.filter_values,
            query.metadata,
            query.promotion,
        )
        spec = self.settings.filters.get(query.filter_name) if query.filter_name else None
        promotion = self.settings.promotions.get(query.promotion) if query.promotion else None
        campaign = self.settings.campaign_arn
        if query.assignment is not None:
            variant = query.assignment.variant
            if variant.campaign_arn is None:  # the popular variant: the catalog's order, by design
                fallback = _Fallback(spec, query.filter_lists, promotion=promotion)
                items, _ = self._fallback_items(fallback, query.limit, query.metadata, deadline)
                return Result(items, "popular", None)
            campaign = variant.campaign_arn
            key = (*key, campaign)
        # The campaign returns the item fields itself (enable_metadata, set for api.campaign only): no
        # catalog, no overfetch. A variant's other campaign is decorated from the catalog.
        from_answer = (
            query.metadata and bool(self.settings.metadata_columns) and campaign == self.settings.campaign_arn
        )

        def fetch() -> BackendAnswer:
            from chalicelib.item_metadata import metadata_request
            from chalicelib.promotions import promotion_request

            size = query.limit if from_answer or not query.metadata else _overfetch(query.limit)
            answer = self._backend.recommendations(
                campaign,
                query.user_id,
                size,
                deadline,
                spec.arn if spec else None,
                dict(query.filter_values),
                promotion_request(promotion) if promotion else None,
                metadata_request(self.settings.metadata_columns) if from_answer else None,
            )
            if promotion is None or size == query.limit:
                return answer
            from chalicelib.promotions import keep_promoted_share

            ids = keep_promoted_share(answer.item_ids, answer.promoted, query.limit, promotion.percent)
            return replace(answer, item_ids=ids)

        fallback = _Fallback(spec, query.filter_lists, promotion=promotion)
        return self._serve(
            "/recommendations", key, fetch, query.limit, query.metadata, fallback, deadline, from_answer
        )

    def related_items(self, query: RelatedItemsQuery, deadline: Deadline) -> Result:
        key = ("related-items", query.item_id, query.limit, query.metadata)
        campaign = self.settings.related_campaign_arn

        def fetch() -> BackendAnswer:
            if not campaign:
                raise BackendError("GetRecommendations", "not_configured", "RELATED_CAMPAIGN_ARN is empty")
            size = _overfetch(query.limit + 1) if query.metadata else query.limit + 1
            return self._backend.related_items(campaign, query.item_id, size, deadline)

        fallback = _Fallback(exclude=(query.item_id,))
        return self._serve("/related-items", key, fetch, query.limit, query.metadata, fallback, deadline)

    def rankings(self, query: RankingsQuery, deadline: Deadline) -> Result:
        key = (
            "rankings",
            query.user_id,
            query.item_ids,
            query.filter_name,
            query.filter_values,
            query.metadata,
        )
        spec = self.settings.filters.get(query.filter_name) if query.filter_name else None
        campaign = self.settings.ranking_campaign_arn

        def fetch() -> BackendAnswer:
            if not campaign:
                raise BackendError(
                    "GetPersonalizedRanking", "not_configured", "RANKING_CAMPAIGN_ARN is empty"
                )
            answer = self._backend.ranking(
                campaign,
                query.user_id,
                query.item_ids,
                deadline,
                spec.arn if spec else None,
                dict(query.filter_values),
            )
            asked = set(query.item_ids)
            strays = [i for i in answer.item_ids if i not in asked]
            if strays:  # a ranking reorders the given items; anything else is not a ranking
                raise BackendError(
                    "GetPersonalizedRanking", "malformed", f"items not asked for: {strays[:3]}"
                )
            return answer

        fallback = _Fallback(spec, query.filter_lists, candidates=query.item_ids)
        return self._serve("/rankings", key, fetch, len(query.item_ids), query.metadata, fallback, deadline)

    def trending(self, query: TrendingQuery, deadline: Deadline) -> Result:
        """An aws-trending-now campaign's items; its fallback is the popular items (same filter rules)."""
        key = ("trending", query.limit, query.filter_name, query.filter_values, query.metadata)
        spec = self.settings.filters.get(query.filter_name) if query.filter_name else None
        campaign = self.settings.trending_campaign_arn

        def fetch() -> BackendAnswer:
            if not campaign:
                raise BackendError("GetRecommendations", "not_configured", "TRENDING_CAMPAIGN_ARN is empty")
            size = _overfetch(query.limit) if query.metadata else query.limit
            return self._backend.recommendations(
                campaign, None, size, deadline, spec.arn if spec else None, dict(query.filter_values)
            )

        fallback = _Fallback(spec, query.filter_lists)
        return self._serve("/trending", key, fetch, query.limit, query.metadata, fallback, deadline)

    def fallback(
        self,
        query: RecommendationsQuery | RelatedItemsQuery | RankingsQuery | TrendingQuery,
        deadline: Deadline,
    ) -> list[dict[str, Any]]:
        """What the route falls back to for this query (used when something unexpected broke the normal
        path): the same filter-honouring choice as after a Personalize fault."""
        if isinstance(query, RelatedItemsQuery):
            return self._fallback_items(
                _Fallback(exclude=(query.item_id,)), query.limit, query.metadata, deadline
            )[0]
        spec = self.settings.filters.get(query.filter_name) if query.filter_name else None
        if isinstance(query, RankingsQuery):
            fallback = _Fallback(spec, query.filter_lists, candidates=query.item_ids)
            return self._fallback_items(fallback, len(query.item_ids), query.metadata, deadline)[0]
        promotion = (
            self.settings.promotions.get(query.promotion)
            if isinstance(query, RecommendationsQuery) and query.promotion
            else None
        )
        return self._fallback_items(
            _Fallback(spec, query.filter_lists, promotion=promotion), query.limit, query.metadata, deadline
        )[0]

    # -- shared path ----------------------------------------------------------------------------
    def _serve(
        self,
        route: str,
        key: tuple[Any, ...],
        fetch: Callable[[], BackendAnswer],
        limit: int,
        metadata: bool,
        fallback: _Fallback,
        deadline: Deadline,
        from_answer: bool = False,
    ) -> Result:
        cached = self._cache.get(key)
        if cached is not None:
            return Result(cached.items, cached.source, cached.recommendation_id, cache_hit=True)
        try:
            if not self._breaker.allow():
                raise BackendError(
                    "campaign", "breaker_open", f"cooling down after {self._breaker.dependency} faults"
                )
            try:
                answer = fetch()
            except BackendError as exc:
                if exc.reason in REQUEST_FAULTS or exc.reason == "not_configured":
                    self._breaker.release()  # no verdict on the dependency: the request or setup is at fault
                else:
                    self._breaker.failure(exc.reason)
                raise
            except Exception:
                self._breaker.release()  # a bug here says nothing about Personalize
                raise
            self._breaker.success()
        except BackendError as exc:
            items, why = self._fallback_items(fallback, limit, metadata, deadline)
            self._metrics.increment(
                FALLBACK,
                route,
                operation=exc.operation,
                reason=exc.reason,
                detail=exc.detail[:200],
                items=why,
            )
            # Not kept in this container's cache: the next call should try Personalize again.
            return Result(items, "fallback", None, reason=exc.reason)
        exclude = set(fallback.exclude)
        ids = [i for i in answer.item_ids if i not in exclude]
        if not metadata:
            result = Result([{"id": i} for i in ids[:limit]], "personalize", answer.recommendation_id)
        elif from_answer:
            from chalicelib.item_metadata import metadata_row

            columns = self.settings.metadata_columns
            rows = (metadata_row(i, answer.metadata.get(i, {}), columns) for i in ids[:limit])
            result = Result(
                [_item_json(row, self.settings) for row in rows], "personalize", answer.recommendation_id
            )
        else:
            catalog = self._catalog(deadline)
            if catalog is None:
                log_event("catalog_unavailable", logging.ERROR, route=route, skipped=len(ids))
                self._metrics.increment(FALLBACK, route, reason="catalog_unavailable")
                return Result([], "fallback", None, reason="catalog_unavailable")
            result = Result(
                _decorate(catalog, ids, limit, self.settings), "personalize", answer.recommendation_id
            )
        for item in result.items:
            if item["id"] in answer.promoted:
                item["promotion"] = answer.promoted[item["id"]]
        if result.items:  # an empty answer is degraded: never kept for the full TTL
            self._cache.put(key, result)
        return result

    def _fallback_items(
        self, fallback: _Fallback, limit: int, metadata: bool, deadline: Deadline
    ) -> tuple[list[dict[str, Any]], str]:
        """The fallback's items and a word on how they were chosen (for the log)."""
        catalog = self._catalog(deadline)
        spec = fallback.spec
        allowed: ItemFilter | None = None
        if spec is not None:
            from personalize_rules.item_filter import ItemFilterValuesError, item_filter

            columns = {} if catalog is None else _item_columns(catalog)
            try:
                allowed = item_filter(spec.expression, columns, dict(fallback.lists))
            except ItemFilterValuesError as exc:  # Personalize refuses such values too: nothing matches
                return [], f"empty: {exc}"
            if not allowed.complete and spec.on_fallback == "empty":
                return [], f"empty: filter {spec.name} needs Personalize (on_fallback: empty)"
            if not allowed.includes and not allowed.excludes:
                allowed = None  # nothing the catalog can check
        if catalog is None:
            if fallback.candidates is not None and not metadata and allowed is None:
                return [{"id": i} for i in fallback.candidates[:limit]], "given order: no catalog"
            return [], "empty: no catalog"
        promoted = self._fallback_promoted(catalog, fallback, limit, metadata, deadline)
        exclude = set(fallback.exclude) | {item["id"] for item in promoted}
        items: list[dict[str, Any]] = list(promoted)
        for row in _candidates(catalog, fallback, deadline):
            if len(items) >= limit:
                break
            item_id = row["ITEM_ID"]
            if item_id in exclude or (allowed is not None and not allowed.allows(row.get)):
                continue
            items.append(_item_json(row, self.settings) if metadata else {"id": item_id})
        promotion = f", promotion {fallback.promotion.name}: {len(promoted)}" if fallback.promotion else ""
        return items, "popularity order" + (f", filter {spec.name}" if spec else "") + promotion

    def _fallback_promoted(
        self, catalog: CatalogFile, fallback: _Fallback, limit: int, metadata: bool, deadline: Deadline
    ) -> list[dict[str, Any]]:
        """The promotion's share of a fallback: the most popular items its filter allows, first in the
        list. A filter the catalog cannot fully evaluate is left out (logged): the answer has no
        promoted items rather than items the promotion would not choose."""
        promotion = fallback.promotion
        if promotion is None:
            return []
        from personalize_rules.item_filter import ItemFilterValuesError, item_filter
        from personalize_rules.promotion_rules import promoted_count

        try:
            allowed = item_filter(promotion.filter.expression, _item_columns(catalog), dict(promotion.lists))
        except ItemFilterValuesError as exc:
            log_event("fallback_promotion_skipped", logging.WARNING, promotion=promotion.name, why=str(exc))
            return []
        if not allowed.complete:
            log_event(
                "fallback_promotion_skipped",
                logging.WARNING,
                promotion=promotion.name,
                why=f"filter {promotion.filter.name} needs Personalize (interactions, the user or an item)",
            )
            return []
        want = promoted_count(limit, promotion.percent)
        exclude = set(fallback.exclude)
        promoted: list[dict[str, Any]] = []
        for row in _candidates(catalog, fallback, deadline):
            if len(promoted) >= want:
                break
            if row["ITEM_ID"] in exclude or not allowed.allows(row.get):
                continue
            item = _item_json(row, self.settings) if metadata else {"id": row["ITEM_ID"]}
            promoted.append({**item, "promotion": promotion.name})
        return promoted


def _item_columns(catalog: CatalogFile) -> dict[str, ItemColumn]:
    """The catalog's columns as the item-filter evaluator types them (Items.<NAME> in a filter)."""
    from personalize_rules.item_filter import ItemColumn

    return {c.name.upper(): ItemColumn(c.numeric, c.categorical) for c in catalog.columns}


def _candidates(catalog: CatalogFile, fallback: _Fallback, deadline: Deadline) -> Iterable[dict[str, str]]:
    """Catalog rows in popularity order: every item, or the given candidates that the catalog holds (ids it
    does not hold cannot be decorated)."""
    if fallback.candidates is not None:
        ranked = sorted(
            (r, n)
            for n, r in ((n, catalog.rank(i)) for n, i in enumerate(fallback.candidates))
            if r is not None
        )
        for rank, _ in ranked:
            yield catalog.row(rank)
        return
    for count, (_, row) in enumerate(catalog.in_popularity_order()):
        if count % _DEADLINE_CHECK_EVERY == 0 and count and deadline.expired:
            log_event("fallback_scan_cut", logging.WARNING, rows=count)
            return
        yield row


def _price(raw: str | None) -> float | None:
    try:
        value = float(raw) if raw else None
    except ValueError:
        return None
    return value if value is not None and math.isfinite(value) else None


def _item_json(row: dict[str, str], settings: Settings) -> dict[str, Any]:
    item_id = row["ITEM_ID"]
    return {
        "id": item_id,
        "url": row.get("URL") or settings.item_url_template.replace("{id}", item_id),
        "name": row.get("NAME") or item_id,
        "price": _price(row.get("PRICE")),
        "image": row.get("IMAGE") or None,
    }


def _decorate(
    catalog: CatalogFile, ids: Sequence[str], limit: int, settings: Settings
) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    missing = 0
    for item_id in ids:
        row = catalog.get(item_id)
        if row is None:
            missing += 1
            continue
        items.append(_item_json(row, settings))
        if len(items) == limit:
            break
    if missing:
        log_event("items_missing_from_catalog", logging.INFO, count=missing)
    return items
