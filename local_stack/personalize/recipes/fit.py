"""Fit one model on encoded interactions: implicit ALS, a neighbor model over an item-item matrix, or the
popularity/trending baselines. No selection and no metrics here (see candidates.py and training.py)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp
from threadpoolctl import threadpool_limits

from local_stack.personalize.recipes.data import Interactions
from local_stack.personalize.recipes.models import (
    FactorModel,
    NeighborModel,
    PopularityModel,
    TrainedModel,
    TrendingModel,
)
from personalize_rules.recipe_specs import RecipeError, ResolvedHyperparameters

__all__ = [
    "ALS_ALPHA",
    "ALS_ITERATIONS",
    "ALS_REGULARIZATION",
    "ALS_WARM_ITERATIONS",
    "SIMS_NEIGHBORS",
    "TRAIN_THREADS",
    "TREND_WINDOWS",
    "AlsSettings",
    "fit_als",
    "fit_baseline",
    "fit_neighbors",
    "history_length_mask",
    "training_rows",
    "trend_scores",
]

TRAIN_THREADS = 2  # the target machine has 2 cores
ALS_ITERATIONS = 10  # NDCG@10 on Online Retail is flat from 8 to 15 iterations
ALS_WARM_ITERATIONS = 4  # the final model starts from the evaluation model's factors
ALS_REGULARIZATION = 1.0
# Confidence per (recency-weighted, 0.5..1) event: 2 keeps every observed confidence >= 1. Chosen by
# NDCG@10 on Online Retail (alpha 0.5..4, reg 0.01..1; ALS also beat EASE there: 0.140 vs 0.126).
ALS_ALPHA = 2.0
RECENT_PER_USER = 50  # items kept per user to fold in new real-time events
SIMS_NEIGHBORS = 600  # >= the runtime's 500 + a margin for filters
TREND_WINDOWS: dict[str, int] = {"30 minutes": 1800, "1 hour": 3600, "3 hours": 10800, "1 day": 86400}


def history_length_mask(data: Interactions, low: float, high: float) -> npt.NDArray[np.bool_]:
    """Per user: is its history length within the [low, high] percentiles of all users' lengths?"""
    lengths = np.bincount(data.users, minlength=data.n_users)
    present = lengths > 0
    if not present.any():
        return present
    lo, hi = np.quantile(lengths[present], [low, high])
    return present & (lengths >= lo) & (lengths <= hi)


def _popularity(data: Interactions) -> npt.NDArray[np.float64]:
    """Interactions per item, each weighted by its event type's weight (eventsConfig)."""
    weights = None if data.weights is None else data.weights.astype(np.float64)
    return np.bincount(data.items, weights=weights, minlength=data.n_items).astype(np.float64)


def _recent_items(data: Interactions, keep: int) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int32]]:
    """Each user's newest `keep` items, oldest first, as CSR (indptr, items)."""
    bounds = data.user_bounds()
    starts = np.maximum(bounds[:-1], bounds[1:] - keep)
    lengths = bounds[1:] - starts
    indptr = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)
    rows = np.repeat(starts - indptr[:-1], lengths) + np.arange(indptr[-1])
    return indptr, data.items[rows].astype(np.int32)


def _recency(data: Interactions, enabled: bool) -> npt.NDArray[np.float64]:
    """Per event weight in [0.5, 1]: 0.5 + 0.5 * 2^(-age / half-life), age from the newest event.

    The half-life is a quarter of the data's time span, so this adapts to minutes-long or year-long logs.
    """
    if not enabled or len(data) == 0:
        return np.ones(len(data))
    newest, oldest = int(data.timestamps.max()), int(data.timestamps.min())
    half_life = max((newest - oldest) / 4.0, 1.0)
    age = (newest - data.timestamps).astype(np.float64)
    return 0.5 + 0.5 * np.exp2(-age / half_life)


@dataclass(frozen=True)
class AlsSettings:
    """One implicit-ALS configuration: confidence = alpha * (recency weight), L2 regularization, sweeps."""

    regularization: float = ALS_REGULARIZATION
    alpha: float = ALS_ALPHA
    iterations: int = ALS_ITERATIONS
    recency: bool = True


def fit_als(
    recipe: str,
    data: Interactions,
    hp: ResolvedHyperparameters,
    settings: AlsSettings,
    *,
    seed: int,
    warm_start: TrainedModel | None = None,
) -> FactorModel:
    """Implicit-feedback ALS with `hidden_dimension` factors; `warm_start` (a FactorModel trained on a
    subset of the same encoded rows) lets it start from those factors and run ALS_WARM_ITERATIONS."""
    from implicit.cpu.als import AlternatingLeastSquares

    keep_user = history_length_mask(
        data, hp.number("min_user_history_length_percentile"), hp.number("max_user_history_length_percentile")
    )
    recency_on = settings.recency and bool(
        hp.values.get("recency_mask", hp.values.get("apply_recency_bias", True))
    )
    # eventsConfig weights scale each event's confidence: a heavier event type pulls its items closer.
    weights = _recency(data, recency_on) * settings.alpha * data.event_weights()
    rows = keep_user[data.users]
    matrix = sp.csr_matrix(
        (weights[rows].astype(np.float32), (data.users[rows], data.items[rows])),
        shape=(data.n_users, data.n_items),
    )
    matrix.sum_duplicates()
    factors = int(hp.number("hidden_dimension"))
    warm = (
        isinstance(warm_start, FactorModel)
        and warm_start.user_factors.shape == (data.n_users, factors)
        and warm_start.item_factors.shape == (data.n_items, factors)
    )
    # implicit parallelises itself; BLAS threads on top of it only contend.
    with threadpool_limits(1, "blas"):
        model = AlternatingLeastSquares(
            factors=factors,
            regularization=settings.regularization,
            alpha=1.0,
            iterations=ALS_WARM_ITERATIONS if warm else settings.iterations,
            num_threads=TRAIN_THREADS,
            random_state=seed,
        )
        if warm:
            assert isinstance(warm_start, FactorModel)
            model.user_factors = warm_start.user_factors.copy()
            model.item_factors = warm_start.item_factors.copy()
        model.fit(matrix, show_progress=False)
    indptr, recent = _recent_items(data, RECENT_PER_USER)
    fitted = FactorModel(
        recipe,
        data.item_ids,
        _popularity(data),
        user_ids=data.user_ids,
        user_factors=np.asarray(model.user_factors, dtype=np.float32),
        item_factors=np.asarray(model.item_factors, dtype=np.float32),
        regularization=settings.regularization,
        fold_in_weight=settings.alpha,
        recent_indptr=indptr,
        recent_items=recent,
    )
    fitted.training_users = int(np.count_nonzero(keep_user))
    fitted.recency = recency_on
    # Users with no rows (e.g. held out for metrics with one event) are unknown: popularity serves them.
    has_rows = np.bincount(data.users, minlength=data.n_users) > 0
    fitted.user_index = {u: i for i, u in enumerate(data.user_ids) if has_rows[i]}
    # Users left out of training by the history percentiles still get a vector, folded in from their items.
    # One BLAS thread: small solves on several threads spend their time waking the threads (28 ms a
    # 149 x 149 solve on 2 busy cores, against well under 1 ms on one).
    with threadpool_limits(1, "blas"):
        for user in np.flatnonzero(~keep_user & has_rows):
            items = recent[indptr[user] : indptr[user + 1]]
            if items.size:
                fitted.user_factors[user] = fitted.fold_in(items.tolist())
    return fitted


def fit_neighbors(
    recipe: str,
    data: Interactions,
    neighbors: sp.csr_matrix,
    *,
    history_length: int,
    decay: float,
) -> NeighborModel:
    """A NeighborModel over `neighbors`; each user keeps their `history_length` newest items.

    With eventsConfig weights, each item's column is scaled by the mean weight of its events: an item
    mostly met through a light event type (a view) ranks below one met through a heavy one (a purchase),
    as "event types with a higher weight ... make the model more likely to recommend items interacted with
    through that event type" (Optimizing a solution with events configuration, Personalize guide)."""
    if data.weights is not None:
        counts = np.bincount(data.items, minlength=data.n_items).astype(np.float64)
        mass = np.bincount(data.items, weights=data.weights.astype(np.float64), minlength=data.n_items)
        mean = np.divide(mass, counts, out=np.zeros_like(mass), where=counts > 0)
        neighbors = sp.csr_matrix(neighbors @ sp.diags(mean.astype(np.float32)), dtype=np.float32)
    indptr, recent = _recent_items(data, history_length)
    has_rows = np.bincount(data.users, minlength=data.n_users) > 0
    model = NeighborModel(
        recipe,
        data.item_ids,
        _popularity(data),
        neighbors=neighbors,
        user_ids=data.user_ids,
        recent_indptr=indptr,
        recent_items=recent,
        history_length=history_length,
        decay=decay,
        softmax=recipe != "aws-sims",
    )
    # Users with no rows (held out, or filtered away) are unknown: popularity serves them.
    model.user_index = {u: i for i, u in enumerate(data.user_ids) if has_rows[i]}
    return model


def training_rows(data: Interactions, hp: ResolvedHyperparameters) -> npt.NDArray[np.bool_]:
    """Rows of users within the history-length percentiles (and, for SIMS, of items within the
    item-count percentiles): what the neighbor matrices are counted on."""
    keep_user = history_length_mask(
        data, hp.number("min_user_history_length_percentile"), hp.number("max_user_history_length_percentile")
    )
    rows = keep_user[data.users]
    if "min_item_interaction_count_percentile" in hp.values:
        counts = np.bincount(data.items, minlength=data.n_items)
        lo, hi = np.quantile(
            counts,
            [
                hp.number("min_item_interaction_count_percentile"),
                hp.number("max_item_interaction_count_percentile"),
            ],
        )
        rows &= ((counts >= lo) & (counts <= hi))[data.items]
    return rows


def trend_scores(data: Interactions, window_seconds: int) -> npt.NDArray[np.float64]:
    """Growth of each item between the last two windows ending at the newest event.

    current = events in (T - w, T], previous = events in (T - 2w, T - w], T = newest timestamp;
    growth = (current - previous) / max(previous, 1). All zero when both windows are empty.
    """
    newest = int(data.timestamps.max())
    current = data.timestamps > newest - window_seconds
    previous = (data.timestamps > newest - 2 * window_seconds) & ~current
    cur = np.bincount(data.items[current], minlength=data.n_items).astype(np.float64)
    prev = np.bincount(data.items[previous], minlength=data.n_items).astype(np.float64)
    return (cur - prev) / np.maximum(prev, 1.0)


def fit_baseline(recipe: str, data: Interactions, hp: ResolvedHyperparameters) -> TrainedModel:
    """aws-popularity-count and aws-trending-now: one model each, nothing to select."""
    if len(data) == 0:
        raise RecipeError("There are no interactions to train on.")
    if recipe == "aws-popularity-count":
        return PopularityModel(recipe, data.item_ids, _popularity(data))
    if recipe == "aws-trending-now":
        window = TREND_WINDOWS[str(hp.values["trend_discovery_frequency"])]
        return TrendingModel(recipe, data.item_ids, _popularity(data), trend_scores(data, window))
    raise RecipeError(f"Recipe {recipe} is not supported.")
