"""Fit one recipe's model on encoded interactions with resolved hyperparameters (no HPO, no metrics)."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp
from threadpoolctl import threadpool_limits

from local_stack.personalize.recipes.data import Interactions
from local_stack.personalize.recipes.models import (
    FactorModel,
    PopularityModel,
    SimsModel,
    TrainedModel,
    TrendingModel,
)
from personalize_rules.recipe_specs import RecipeError, ResolvedHyperparameters

__all__ = [
    "ALS_ALPHA",
    "ALS_ITERATIONS",
    "ALS_REGULARIZATION",
    "ALS_WARM_ITERATIONS",
    "TRAIN_THREADS",
    "TREND_WINDOWS",
    "fit_model",
    "history_length_mask",
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
SIMS_MAX_USER_EVENTS = 500  # newest events per user counted in co-occurrence (bounds the quadratic cost)
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
    return np.bincount(data.items, minlength=data.n_items).astype(np.float64)


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


def _fit_factor(
    recipe: str,
    data: Interactions,
    hp: ResolvedHyperparameters,
    seed: int,
    warm_start: TrainedModel | None,
) -> FactorModel:
    from implicit.cpu.als import AlternatingLeastSquares

    keep_user = history_length_mask(
        data, hp.number("min_user_history_length_percentile"), hp.number("max_user_history_length_percentile")
    )
    recency_on = bool(hp.values.get("recency_mask", hp.values.get("apply_recency_bias", True)))
    weights = _recency(data, recency_on) * ALS_ALPHA
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
            regularization=ALS_REGULARIZATION,
            alpha=1.0,
            iterations=ALS_WARM_ITERATIONS if warm else ALS_ITERATIONS,
            num_threads=TRAIN_THREADS,
            random_state=seed,
        )
        if warm:
            assert isinstance(warm_start, FactorModel)
            model.user_factors = warm_start.user_factors.copy()
            model.item_factors = warm_start.item_factors.copy()
        model.fit(matrix, show_progress=False)
    user_factors = np.asarray(model.user_factors, dtype=np.float32)
    item_factors = np.asarray(model.item_factors, dtype=np.float32)
    indptr, recent = _recent_items(data, RECENT_PER_USER)
    fitted = FactorModel(
        recipe,
        data.item_ids,
        _popularity(data),
        user_ids=data.user_ids,
        user_factors=user_factors,
        item_factors=item_factors,
        regularization=ALS_REGULARIZATION,
        fold_in_weight=ALS_ALPHA,
        recent_indptr=indptr,
        recent_items=recent,
    )
    fitted.training_users = int(np.count_nonzero(keep_user))
    fitted.recency = recency_on
    # Users with no rows (e.g. held out for metrics with one event) are unknown: popularity serves them.
    has_rows = np.bincount(data.users, minlength=data.n_users) > 0
    fitted.user_index = {u: i for i, u in enumerate(data.user_ids) if has_rows[i]}
    # Users left out of training by the history percentiles still get a vector, folded in from their items.
    for user in np.flatnonzero(~keep_user & has_rows):
        items = recent[indptr[user] : indptr[user + 1]]
        if items.size:
            fitted.user_factors[user] = fitted.fold_in(items.tolist())
    return fitted


def _fit_sims(recipe: str, data: Interactions, hp: ResolvedHyperparameters) -> SimsModel:
    keep_user = history_length_mask(
        data, hp.number("min_user_history_length_percentile"), hp.number("max_user_history_length_percentile")
    )
    counts = np.bincount(data.items, minlength=data.n_items)
    lo, hi = np.quantile(
        counts,
        [
            hp.number("min_item_interaction_count_percentile"),
            hp.number("max_item_interaction_count_percentile"),
        ],
    )
    keep_item = (counts >= lo) & (counts <= hi)
    bounds = data.user_bounds()
    from_newest = bounds[data.users + 1] - 1 - np.arange(len(data))
    rows = keep_user[data.users] & keep_item[data.items] & (from_newest < SIMS_MAX_USER_EVENTS)
    binary = sp.csr_matrix(
        (np.ones(int(rows.sum()), dtype=np.float32), (data.users[rows], data.items[rows])),
        shape=(data.n_users, data.n_items),
    )
    binary.sum_duplicates()
    binary.data[:] = 1.0
    users_per_item = np.asarray(binary.sum(axis=0)).ravel()
    co = (binary.T @ binary).tocsr()
    co.setdiag(0)
    co.eliminate_zeros()
    min_count = max(int(hp.number("min_cointeraction_count")), 1)
    co.data[co.data < min_count] = 0
    co.eliminate_zeros()
    # popularity_discount_factor d: score = c_ij / (n_i * n_j)^(d/2); d=0 raw counts, d=1 cosine.
    discount = hp.number("popularity_discount_factor")
    coo = co.tocoo()
    denom = np.power(users_per_item[coo.row] * users_per_item[coo.col], discount / 2.0)
    scores = sp.csr_matrix((coo.data / denom, (coo.row, coo.col)), shape=co.shape, dtype=np.float32)
    indptr = [0]
    items_out: list[npt.NDArray[np.int32]] = []
    scores_out: list[npt.NDArray[np.float32]] = []
    for i in range(data.n_items):
        lo_i, hi_i = scores.indptr[i], scores.indptr[i + 1]
        cols, vals = scores.indices[lo_i:hi_i], scores.data[lo_i:hi_i]
        if cols.size > SIMS_NEIGHBORS:
            part = np.argpartition(-vals, SIMS_NEIGHBORS - 1)[:SIMS_NEIGHBORS]
            cols, vals = cols[part], vals[part]
        items_out.append(cols.astype(np.int32))
        scores_out.append(vals.astype(np.float32))
        indptr.append(indptr[-1] + cols.size)
    recent_indptr, recent = _recent_items(data, 20)
    return SimsModel(
        recipe,
        data.item_ids,
        _popularity(data),
        neighbor_indptr=np.asarray(indptr, dtype=np.int64),
        neighbor_items=np.concatenate(items_out) if items_out else np.empty(0, np.int32),
        neighbor_scores=np.concatenate(scores_out) if scores_out else np.empty(0, np.float32),
        user_ids=data.user_ids,
        recent_indptr=recent_indptr,
        recent_items=recent,
    )


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


def fit_model(
    recipe: str,
    data: Interactions,
    hp: ResolvedHyperparameters,
    *,
    seed: int = 42,
    warm_start: TrainedModel | None = None,
) -> TrainedModel:
    """Train `recipe` (a recipe name) on `data` with the given resolved hyperparameters.

    `warm_start`, a model trained on a subset of the same encoded data (same id lists), lets ALS start
    from its factors and run fewer iterations.
    """
    if len(data) == 0:
        raise RecipeError("There are no interactions to train on.")
    if recipe in (
        "aws-user-personalization",
        "aws-user-personalization-v2",
        "aws-personalized-ranking",
        "aws-personalized-ranking-v2",
    ):
        fitted: TrainedModel = _fit_factor(recipe, data, hp, seed, warm_start)
    elif recipe == "aws-sims":
        fitted = _fit_sims(recipe, data, hp)
    elif recipe == "aws-popularity-count":
        fitted = PopularityModel(recipe, data.item_ids, _popularity(data))
    elif recipe == "aws-trending-now":
        window = TREND_WINDOWS[str(hp.values["trend_discovery_frequency"])]
        fitted = TrendingModel(recipe, data.item_ids, _popularity(data), trend_scores(data, window))
    else:
        raise RecipeError(f"Recipe {recipe} is not supported.")
    fitted.hyperparameters = dict(hp.raw)
    return fitted
