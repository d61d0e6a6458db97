"""Serving answers from a trained model: top-N with filters, ranking, and the metadata columns."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from local_stack.personalize.errors import InvalidInputException
from local_stack.personalize.filtering import (
    CompiledFilter,
    FilterContext,
    FilterContextError,
    FilterValuesError,
)
from local_stack.personalize.ranking_influence import influenced
from local_stack.personalize.recipes import TrainedModel
from local_stack.personalize.store import DatasetGroupStore

__all__ = [
    "NO_BATCH_RECIPES",
    "RANKING_RECIPES",
    "RELATED_ITEMS_RECIPES",
    "USER_OPTIONAL_RECIPES",
    "filter_context",
    "metadata_for",
    "rank_items",
    "recommend",
]

RELATED_ITEMS_RECIPES = frozenset({"aws-sims", "aws-similar-items", "aws-semantic-similarity"})
RANKING_RECIPES = frozenset({"aws-personalized-ranking", "aws-personalized-ranking-v2"})
# GetRecommendations without a userId, and no batch inference (Trending-Now recipe page).
USER_OPTIONAL_RECIPES = frozenset({"aws-trending-now"})
NO_BATCH_RECIPES = frozenset({"aws-trending-now"})


def filter_context(store: DatasetGroupStore, user_id: str | None, item_id: str | None) -> FilterContext:
    """What a filter may look at for this request: the user's history and metadata, the current item."""
    return FilterContext(
        user_id=user_id,
        interactions=store.interactions_for(user_id) if user_id else (),
        user_metadata=store.user_row(user_id) if user_id else None,
        current_item=store.item_row(item_id) if item_id else None,
        item_metadata=store.item_row,
        user_metadata_lookup=store.user_row,
        user_interactions_lookup=store.interactions_for,
    )


def _apply_filter(
    compiled: CompiledFilter, candidates: Sequence[str], context: FilterContext, values: Mapping[str, str]
) -> set[str]:
    try:
        return set(compiled.allowed_items(candidates, context, values))
    except (FilterValuesError, FilterContextError) as exc:
        raise InvalidInputException(str(exc)) from exc


def recommend(
    model: TrainedModel,
    store: DatasetGroupStore,
    *,
    user_id: str | None,
    item_id: str | None,
    num_results: int,
    compiled: CompiledFilter | None,
    filter_values: Mapping[str, str],
    ranking_influence: Mapping[str, float] | None = None,
) -> list[tuple[str, float]]:
    """Top `num_results` (item, score) for a user or an item, after the filter; a campaign's
    rankingInfluence re-orders the model's candidates (see ranking_influence.py)."""
    history = [e.item_id for e in store.events.get(user_id, ())] if user_id else []

    def model_top(n: int) -> list[tuple[str, float]]:
        if item_id is not None:
            return model.related_items(item_id, n)
        return model.recommend_for_user(user_id or "", n, history)

    def top(n: int) -> list[tuple[str, float]]:
        if not ranking_influence:
            return model_top(n)
        return influenced(model, model_top, n, ranking_influence, store.item_row)

    if compiled is None:
        return top(num_results)
    context = filter_context(store, user_id, item_id)
    catalog = len(model.item_ids)
    # Ask for a margin over what the filter may remove; widen to the catalog only when that is not enough.
    want = min(catalog, num_results * 4 + 100)
    while True:
        candidates = top(want)
        allowed = _apply_filter(compiled, [c for c, _ in candidates], context, filter_values)
        kept = [c for c in candidates if c[0] in allowed]
        if len(kept) >= num_results or want >= catalog:
            return kept[:num_results]
        want = catalog


def rank_items(
    model: TrainedModel,
    store: DatasetGroupStore,
    *,
    user_id: str,
    items: Sequence[str],
    compiled: CompiledFilter | None,
    filter_values: Mapping[str, str],
) -> list[tuple[str, float]]:
    history = [e.item_id for e in store.events.get(user_id, ())]
    ranked = model.rank(user_id, list(items), history)
    if compiled is None:
        return ranked
    allowed = _apply_filter(
        compiled, [i for i, _ in ranked], filter_context(store, user_id, None), filter_values
    )
    return [r for r in ranked if r[0] in allowed]


def metadata_for(store: DatasetGroupStore, item_id: str, columns: Sequence[str]) -> dict[str, str]:
    """The requested Items columns of one item as strings (missing values are empty strings)."""
    row = store.item_row(item_id) or {}
    upper = {k.upper(): v for k, v in row.items()}
    out: dict[str, str] = {}
    for column in columns:
        value: Any = upper.get(column.upper())
        out[column] = "" if value is None else str(value)
    return out
