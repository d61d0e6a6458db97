"""Serving-time ranking influence (CampaignConfig.rankingInfluence): popularity and freshness re-weigh a
campaign's recommendations.

Personalize documents the knobs, not the formula (API_CampaignConfig: "a numerical value between 0.0 and
1.0 that determines how much influence that ranking factor has on the final recommendations ... If not
specified, both default to 0.0"). The emulator scores a candidate pool larger than the answer:
    relevance + POPULARITY * popularity + FRESHNESS * freshness,
each term scaled to [0, 1] over the pool (relevance: the model's score; popularity: the item's share of
training interactions; freshness: how recent the item's CREATION_TIMESTAMP is, items without one count as
oldest). With both at 0 the order is the model's own; the scores returned stay the model's.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

from local_stack.personalize.recipes import TrainedModel

__all__ = ["POOL_FACTOR", "influenced"]

POOL_FACTOR = 4  # candidates scored per result asked for (plus a fixed margin)
POOL_MARGIN = 100


def _unit(values: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    """Min-max scaled to [0, 1]; all zero when every value is the same."""
    if values.size == 0:
        return values
    low, high = float(values.min()), float(values.max())
    return (values - low) / (high - low) if high > low else np.zeros_like(values)


def _creation_time(row: Mapping[str, Any] | None) -> float:
    if not row:
        return np.nan
    value = {k.upper(): v for k, v in row.items()}.get("CREATION_TIMESTAMP")
    try:
        return float(value) if value is not None else np.nan
    except (TypeError, ValueError):
        return np.nan


def influenced(
    model: TrainedModel,
    top: Callable[[int], list[tuple[str, float]]],
    n: int,
    influence: Mapping[str, float],
    item_row: Callable[[str], Mapping[str, Any] | None],
) -> list[tuple[str, float]]:
    """The best `n` of a pool from `top` re-ordered by the influence; `top(k)` gives the model's top k."""
    popularity_weight = float(influence.get("POPULARITY", 0.0))
    freshness_weight = float(influence.get("FRESHNESS", 0.0))
    if popularity_weight == 0.0 and freshness_weight == 0.0:
        return top(n)
    pool = top(min(len(model.item_ids), n * POOL_FACTOR + POOL_MARGIN))
    if not pool:
        return pool
    ids: Sequence[str] = [item for item, _ in pool]
    relevance = _unit(np.asarray([score for _, score in pool], dtype=np.float64))
    index = np.asarray([model.item_index.get(item, -1) for item in ids], dtype=np.intp)
    share = np.where(index >= 0, model.popularity_share[np.maximum(index, 0)], 0.0).astype(np.float64)
    created = np.asarray([_creation_time(item_row(item)) for item in ids], dtype=np.float64)
    known = ~np.isnan(created)
    freshness = np.zeros(len(ids), dtype=np.float64)
    if known.any():
        freshness[known] = _unit(created[known])
    combined = relevance + popularity_weight * _unit(share) + freshness_weight * freshness
    order = np.argsort(-combined, kind="stable")[:n]
    return [pool[i] for i in order]
