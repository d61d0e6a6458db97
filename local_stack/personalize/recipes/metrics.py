"""Personalize's offline metrics, computed the way its developer guide documents them.

Split: a seeded 10% of users is held out. The model trains on every other user's full history plus the
oldest 90% of each held-out user's history; for each held-out user one query (the equivalent of a
GetRecommendations call) returns 25 items, scored against the newest 10% of that user's history.
See docs/metrics.md for the exact definitions.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from local_stack.personalize.recipes.data import Interactions, TrainingData
from local_stack.personalize.recipes.models import TrainedModel
from personalize_rules.metric_names import METRIC_NAMES

__all__ = [
    "METRIC_NAMES",
    "QUERY_SIZE",
    "EvaluationSplit",
    "catalog_size",
    "score_model",
    "score_queries",
    "split_for_evaluation",
]

QUERY_SIZE = 25


@dataclass(frozen=True)
class EvaluationSplit:
    """Training rows plus, per held-out user (by id), the items of the newest 10% of their history."""

    train: Interactions
    truth: dict[str, set[str]]


def split_for_evaluation(data: Interactions, seed: int) -> EvaluationSplit:
    """Hold out 10% of users rounded half up (at least 1 of 2 or more), chosen by a seeded shuffle.

    For a held-out user with history length L (rows sorted by timestamp, ties in file order), the oldest
    floor(0.9 * L) events stay in training and the remaining newest ones are the ground truth.
    """
    present = np.flatnonzero(np.bincount(data.users, minlength=data.n_users) > 0)
    # Integer arithmetic (10% = 1/10) so the counts never depend on float rounding; halves round up.
    n_holdout = max(1, (present.size + 5) // 10) if present.size >= 2 else 0
    rng = np.random.default_rng(seed)
    held = rng.permutation(present)[:n_holdout]
    bounds = data.user_bounds()
    keep = np.ones(len(data), dtype=bool)
    truth: dict[str, set[str]] = {}
    for user in held:
        start, end = int(bounds[user]), int(bounds[user + 1])
        cut = start + (9 * (end - start)) // 10
        keep[cut:end] = False
        truth[data.user_ids[user]] = {data.item_ids[i] for i in data.items[cut:end]}
    return EvaluationSplit(data.select(keep), truth)


def _dcg(positions: Sequence[int]) -> float:
    return sum(1.0 / math.log2(1.0 + p) for p in positions)


def score_queries(
    recommendations: Mapping[str, Sequence[str]],
    truth: Mapping[str, set[str]],
    n_catalog_items: int,
) -> dict[str, float]:
    """The eight metrics from each query's ranked item ids and each user's relevant (ground truth) items.

    Per query: reciprocal rank of the first relevant item in the top 25 (0 if none); NDCG@K with weight
    1/log2(1 + position), normalised by the ideal DCG of min(K, |relevant|) relevant items at the top;
    precision@K = relevant items in the top K / K. Each is averaged over queries. Coverage = distinct
    items recommended over all queries / n_catalog_items.
    """
    totals = dict.fromkeys(METRIC_NAMES, 0.0)
    recommended: set[str] = set()
    queries = 0
    for user, relevant in truth.items():
        ranked = list(recommendations.get(user, ()))[:QUERY_SIZE]
        recommended.update(ranked)
        if not relevant:
            continue
        queries += 1
        hits = [pos for pos, item in enumerate(ranked, start=1) if item in relevant]
        totals["mean_reciprocal_rank_at_25"] += 1.0 / hits[0] if hits else 0.0
        for k in (5, 10, 25):
            in_k = [p for p in hits if p <= k]
            ideal = _dcg(range(1, min(k, len(relevant)) + 1))
            totals[f"normalized_discounted_cumulative_gain_at_{k}"] += _dcg(in_k) / ideal
            totals[f"precision_at_{k}"] += len(in_k) / k
    metrics = {name: (value / queries if queries else 0.0) for name, value in totals.items()}
    metrics["coverage"] = len(recommended) / n_catalog_items if n_catalog_items else 0.0
    return metrics


def score_model(model: TrainedModel, truth: Mapping[str, set[str]], n_catalog_items: int) -> dict[str, float]:
    """The eight metrics of `model`: one query of QUERY_SIZE items per held-out user."""
    users = list(truth)
    return score_queries(
        dict(zip(users, model.recommend_ids(users, QUERY_SIZE), strict=True)), truth, n_catalog_items
    )


def catalog_size(data: TrainingData) -> int:
    """Distinct item ids across the Interactions dataset (all of it) and the Items dataset."""
    items: set[str] = set()
    for table in (data.interactions, data.items):
        if table is not None and "ITEM_ID" in table.column_names:
            unique = pc.unique(table["ITEM_ID"].cast(pa.string()))
            items.update(str(v) for v in unique.to_pylist() if v is not None)
    return len(items)
