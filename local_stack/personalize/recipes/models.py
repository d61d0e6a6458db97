"""Trained models: what a solution version holds and what the runtime asks for recommendations.

Every model is plain numpy arrays and dicts, so it pickles (the emulator persists solution versions).
Nothing is excluded here: the caller applies filters to the candidate list it gets back.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp

__all__ = [
    "FactorModel",
    "NeighborModel",
    "PopularityModel",
    "SimsModel",
    "TrainedModel",
    "TrendingModel",
]

FloatArray = npt.NDArray[np.float32]
IntArray = npt.NDArray[np.int32]


def _top(scores: npt.NDArray[np.floating], n: int) -> npt.NDArray[np.intp]:
    """Indexes of the n highest scores, best first (argpartition: O(items), not a full sort)."""
    n = min(n, scores.shape[0])
    if n <= 0:
        return np.empty(0, dtype=np.intp)
    part = np.argpartition(-scores, n - 1)[:n] if n < scores.shape[0] else np.arange(scores.shape[0])
    return part[np.argsort(-scores[part], kind="stable")]


class TrainedModel:
    """A solution version's model. Subclasses give per-user scores over the catalog (or None when cold)."""

    def __init__(self, recipe: str, item_ids: list[str], popularity: npt.NDArray[np.float64]) -> None:
        self.recipe = recipe
        self.item_ids: list[str] = list(item_ids)
        self.item_index: dict[str, int] = {item: i for i, item in enumerate(self.item_ids)}
        self.popularity = np.ascontiguousarray(popularity, dtype=np.float64)
        total = float(self.popularity.sum()) or 1.0
        self.popularity_share = (self.popularity / total).astype(np.float32)
        self.popular_order: npt.NDArray[np.intp] = np.argsort(-self.popularity, kind="stable")
        self.tuned_hyperparameters: dict[str, str] = {}
        self.hyperparameters: dict[str, str] = {}
        self.metrics: dict[str, float] = {}
        # (hyperparameters, metrics) of each HPO trial, in the order they ran.
        self.hpo_trials: list[tuple[dict[str, str], dict[str, float]]] = []
        # Model selection: the candidate trained (e.g. "ease-500") and each candidate's validation score.
        self.candidate = ""
        self.validation_scores: dict[str, float] = {}

    # -- what subclasses provide -------------------------------------------------------------
    def user_scores(self, user_id: str | None, history: Sequence[str] = ()) -> FloatArray | None:
        """Scores over the whole catalog for this user, or None to fall back to popularity."""
        return None

    def output_scores(self, raw: FloatArray, reference: FloatArray) -> FloatArray:
        """The scores the API returns for `raw`, a subset of `reference` (all that was scored)."""
        return raw

    # -- the runtime interface -----------------------------------------------------------------
    def popular_items(self, n: int) -> list[tuple[str, float]]:
        """The n most interacted-with items and their share of all interactions."""
        top = self.popular_order[: max(n, 0)]
        return [(self.item_ids[i], float(self.popularity_share[i])) for i in top]

    def recommend_for_user(
        self, user_id: str, n: int, history: Sequence[str] = ()
    ) -> list[tuple[str, float]]:
        """Top n items for the user; `history` are recent item ids from real-time events (newest last)."""
        scores = self.user_scores(user_id, history)
        if scores is None:
            return self.popular_items(n)
        top = _top(scores, n)
        return self._pairs(top, scores)

    def recommend_ids(self, user_ids: Sequence[str], n: int) -> list[list[str]]:
        """Top n item ids for each user (no history); what offline evaluation asks for."""
        return [[item for item, _ in self.recommend_for_user(user, n)] for user in user_ids]

    def related_items(self, item_id: str, n: int) -> list[tuple[str, float]]:
        """Items related to item_id (the item itself excluded); popular items when it is unknown."""
        scores = self.item_scores(item_id)
        if scores is None:
            return [p for p in self.popular_items(n + 1) if p[0] != item_id][:n]
        own = self.item_index.get(item_id)
        top = _top(scores, n + 1)
        top = top[top != own][:n]
        return self._pairs(top, scores)

    def item_scores(self, item_id: str) -> FloatArray | None:
        """Scores of every item as related to item_id (default: none, so popularity)."""
        return None

    def rank(
        self, user_id: str, item_ids: Sequence[str], history: Sequence[str] = ()
    ) -> list[tuple[str, float]]:
        """The given items, best first; items the model has never seen go last in input order."""
        known = [
            (pos, item, self.item_index[item]) for pos, item in enumerate(item_ids) if item in self.item_index
        ]
        unknown = [item for item in item_ids if item not in self.item_index]
        scores = self.user_scores(user_id, history)
        base = self.popularity_share if scores is None else scores
        idx = np.asarray([k[2] for k in known], dtype=np.intp)
        raw = base[idx].astype(np.float32) if idx.size else np.empty(0, dtype=np.float32)
        # Ties keep the caller's order (stable sort on -score).
        order = np.argsort(-raw, kind="stable")
        out = self.output_scores(raw, raw) if scores is not None else raw
        ranked = [(known[i][1], float(out[i])) for i in order]
        return ranked + [(item, 0.0) for item in unknown]

    def _recommend_known(
        self,
        user_ids: Sequence[str],
        n: int,
        user_index: Mapping[str, int],
        chunk_size: int,
        scores: Callable[[list[int]], npt.NDArray[np.floating]],
    ) -> list[list[str]]:
        """Top n item ids for each user: a known user's (in `user_index`) from `scores` of its row, a
        chunk of users at a time; the popular items for the others."""
        popular = [self.item_ids[i] for i in self.popular_order[: max(n, 0)]]
        out: list[list[str]] = [popular] * len(user_ids)
        if n <= 0:
            return out
        known = [(pos, user_index[u]) for pos, u in enumerate(user_ids) if u in user_index]
        n = min(n, len(self.item_ids))
        for start in range(0, len(known), chunk_size):
            chunk = known[start : start + chunk_size]
            ordered = _top_rows(scores([row for _, row in chunk]), n)
            for (pos, _), row in zip(chunk, ordered, strict=True):
                out[pos] = [self.item_ids[i] for i in row]
        return out

    def _pairs(self, top: npt.NDArray[np.intp], scores: FloatArray) -> list[tuple[str, float]]:
        out = self.output_scores(scores[top], scores)
        return [(self.item_ids[i], float(s)) for i, s in zip(top, out, strict=True)]


class PopularityModel(TrainedModel):
    """aws-popularity-count: every user gets the most interacted-with items."""


class TrendingModel(TrainedModel):
    """aws-trending-now: items ordered by growth between the last two trend windows, then by popularity."""

    def __init__(
        self,
        recipe: str,
        item_ids: list[str],
        popularity: npt.NDArray[np.float64],
        trend_score: npt.NDArray[np.float64],
    ) -> None:
        super().__init__(recipe, item_ids, popularity)
        self.trend_score = trend_score.astype(np.float64)
        # The dataset group's interactions key when the trends were computed (see personalize/trending.py).
        self.data_key: tuple[int, int, int] | None = None
        # Growing items first (by growth), then everything else by popularity.
        self.trend_order = np.lexsort((-self.popularity, -np.where(trend_score > 0, trend_score, 0.0)))

    def popular_items(self, n: int) -> list[tuple[str, float]]:
        top = self.trend_order[: max(n, 0)]
        return [(self.item_ids[i], float(max(self.trend_score[i], 0.0))) for i in top]

    def user_scores(self, user_id: str | None, history: Sequence[str] = ()) -> FloatArray | None:
        rank_score = np.empty(len(self.item_ids), dtype=np.float32)
        rank_score[self.trend_order] = np.linspace(1.0, 0.0, num=len(self.item_ids), dtype=np.float32)
        return rank_score

    def recommend_for_user(
        self, user_id: str, n: int, history: Sequence[str] = ()
    ) -> list[tuple[str, float]]:
        return self.popular_items(n)


class FactorModel(TrainedModel):
    """Latent-factor model (implicit-feedback ALS): score(u, i) = user_factor[u] · item_factor[i].

    Users unknown at training time, or known users with new real-time events, are folded in with the
    closed-form ALS user solve against the fixed item factors, weighting recent items more.
    """

    def __init__(
        self,
        recipe: str,
        item_ids: list[str],
        popularity: npt.NDArray[np.float64],
        *,
        user_ids: list[str],
        user_factors: FloatArray,
        item_factors: FloatArray,
        regularization: float,
        fold_in_weight: float,
        recent_indptr: npt.NDArray[np.int64],
        recent_items: IntArray,
    ) -> None:
        super().__init__(recipe, item_ids, popularity)
        self.user_index: dict[str, int] = {u: i for i, u in enumerate(user_ids)}
        self.user_factors = np.ascontiguousarray(user_factors, dtype=np.float32)
        self.item_factors = np.ascontiguousarray(item_factors, dtype=np.float32)
        factors64 = self.item_factors.astype(np.float64)
        self.gram = factors64.T @ factors64 + regularization * np.eye(factors64.shape[1])
        self.fold_in_weight = fold_in_weight
        self.training_users = 0  # users whose rows trained the factors (after the history percentiles)
        self.recency = True  # recency_mask / apply_recency_bias: newer items weigh more when folding in
        self.recent_indptr = recent_indptr
        self.recent_items = recent_items
        norms = np.linalg.norm(self.item_factors, axis=1)
        self.item_unit = np.ascontiguousarray(
            self.item_factors / np.where(norms > 0, norms, 1.0)[:, None], dtype=np.float32
        )

    def fold_in(self, items: Sequence[int]) -> FloatArray:
        """ALS user solve for a user whose (oldest-first) items are `items`; newer items weigh more."""
        idx = np.asarray(items, dtype=np.intp)
        k = idx.shape[0]
        # Same scale as training (alpha * 0.5..1), ramping linearly so the newest event weighs most.
        ramp = 0.5 + 0.5 * np.arange(1, k + 1) / k if self.recency else np.ones(k)
        conf = self.fold_in_weight * ramp
        y = self.item_factors[idx].astype(np.float64)
        a = self.gram + (y.T * (conf - 1.0)) @ y
        b = y.T @ conf
        return np.linalg.solve(a, b).astype(np.float32)

    def user_scores(self, user_id: str | None, history: Sequence[str] = ()) -> FloatArray | None:
        new = [self.item_index[h] for h in history if h in self.item_index]
        row = self.user_index.get(user_id) if user_id is not None else None
        if not new:
            if row is None:
                return None
            vector = self.user_factors[row]
        else:
            past: list[int] = []
            if row is not None:
                past = self.recent_items[self.recent_indptr[row] : self.recent_indptr[row + 1]].tolist()
            vector = self.fold_in(past + new)
        return np.asarray(self.item_factors @ vector, dtype=np.float32)

    def recommend_ids(self, user_ids: Sequence[str], n: int) -> list[list[str]]:
        # Batched matrix product: evaluation queries thousands of users at once.
        return self._recommend_known(
            user_ids, n, self.user_index, 256, lambda rows: self.user_factors[rows] @ self.item_factors.T
        )

    def output_scores(self, raw: FloatArray, reference: FloatArray) -> FloatArray:
        return _softmax(raw, reference)

    def item_scores(self, item_id: str) -> FloatArray | None:
        own = self.item_index.get(item_id)
        if own is None or not self.item_unit[own].any():
            return None
        return np.asarray(self.item_unit @ self.item_unit[own], dtype=np.float32)


class NeighborModel(TrainedModel):
    """Item-to-item model: S (CSR, n_items x n_items) holds each item's top related items.

    A user's score for item j is sum_i w_i * S[i, j] over the distinct items i among the user's newest
    `history_length` events, the newest event weighing 1 and each older one `decay` times the next (an
    item bought again weighs as its newest event). aws-sims serves related items from S's
    rows; the user-personalization and ranking candidates (EASE, item-kNN, item transitions) use the sum.
    """

    def __init__(
        self,
        recipe: str,
        item_ids: list[str],
        popularity: npt.NDArray[np.float64],
        *,
        neighbors: sp.csr_matrix,
        user_ids: list[str],
        recent_indptr: npt.NDArray[np.int64],
        recent_items: IntArray,
        history_length: int = 20,
        decay: float = 0.9,
        softmax: bool = False,
    ) -> None:
        super().__init__(recipe, item_ids, popularity)
        self.neighbors = sp.csr_matrix(neighbors, dtype=np.float32)
        self.user_index: dict[str, int] = {u: i for i, u in enumerate(user_ids)}
        self.recent_indptr = recent_indptr
        self.recent_items = recent_items
        self.history_length = history_length
        self.decay = decay
        self.softmax = softmax
        top = float(self.popularity.max(initial=0.0)) or 1.0
        # A tie-breaker far below any neighbor score: items with none fall back to popularity order.
        self.tiebreak = (1e-6 * self.popularity / top).astype(np.float32)

    def _history(self, user_id: str | None, history: Sequence[str]) -> list[int]:
        items: list[int] = []
        row = self.user_index.get(user_id) if user_id is not None else None
        if row is not None:
            items = self.recent_items[self.recent_indptr[row] : self.recent_indptr[row + 1]].tolist()
        items += [self.item_index[h] for h in history if h in self.item_index]
        return items[-self.history_length :]

    def _weights(self, length: int) -> npt.NDArray[np.float32]:
        """Weights of a history of `length` items, oldest first: the newest weighs 1."""
        return (self.decay ** np.arange(length - 1, -1, -1, dtype=np.float64)).astype(np.float32)

    def _distinct(self, items: IntArray) -> tuple[IntArray, npt.NDArray[np.float32]]:
        """Each item of a history (oldest first) once, weighted by its newest occurrence: a re-bought
        item counts once, as in the binary user vector EASE and kNN are defined on."""
        weights = self._weights(items.size)
        distinct, newest = np.unique(items[::-1], return_index=True)
        return distinct.astype(np.int32), weights[::-1][newest]

    def item_scores(self, item_id: str) -> FloatArray | None:
        own = self.item_index.get(item_id)
        if own is None:
            return None
        scores = self.tiebreak.copy()
        row = self.neighbors.getrow(own)
        scores[row.indices] += row.data
        return scores

    def user_scores(self, user_id: str | None, history: Sequence[str] = ()) -> FloatArray | None:
        items = self._history(user_id, history)
        if not items:
            return None
        distinct, weights = self._distinct(np.asarray(items, dtype=np.int32))
        vector = sp.csr_matrix(
            (weights, (np.zeros(distinct.size, dtype=np.int32), distinct)), shape=(1, len(self.item_ids))
        )
        return np.asarray((vector @ self.neighbors).toarray()).ravel() + self.tiebreak

    def output_scores(self, raw: FloatArray, reference: FloatArray) -> FloatArray:
        if not self.softmax:
            return raw
        return _softmax(raw, reference)

    def recommend_ids(self, user_ids: Sequence[str], n: int) -> list[list[str]]:
        # Batched sparse products: evaluation queries thousands of users at once.
        return self._recommend_known(user_ids, n, self.user_index, 512, self._chunk_scores)

    def _chunk_scores(self, users: list[int]) -> npt.NDArray[np.floating]:
        rows: list[npt.NDArray[np.int64]] = []
        cols: list[IntArray] = []
        vals: list[npt.NDArray[np.float32]] = []
        for r, user in enumerate(users):
            items = self.recent_items[self.recent_indptr[user] : self.recent_indptr[user + 1]]
            distinct, weights = self._distinct(items[-self.history_length :])
            rows.append(np.full(distinct.size, r, dtype=np.int64))
            cols.append(distinct)
            vals.append(weights)
        weights = sp.csr_matrix(
            (np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))),
            shape=(len(users), len(self.item_ids)),
        )
        return np.asarray((weights @ self.neighbors).toarray()) + self.tiebreak[None, :]


# aws-sims is the neighbor model over co-occurrence; the name stays for the runtime and pickles.
SimsModel = NeighborModel


def _softmax(raw: FloatArray, reference: FloatArray) -> FloatArray:
    """Personalize's scores for the user recipes sum to 1 over everything scored (the catalog, or the
    list given to GetPersonalizedRanking): a softmax over `reference`."""
    peak = float(reference.max(initial=0.0))
    total = float(np.exp(reference.astype(np.float64) - peak).sum()) or 1.0
    return (np.exp(raw.astype(np.float64) - peak) / total).astype(np.float32)


def _top_rows(scores: npt.NDArray[np.floating], n: int) -> npt.NDArray[np.intp]:
    """Per row, the indexes of the n highest scores, best first."""
    if n < scores.shape[1]:
        part = np.argpartition(-scores, n - 1, axis=1)[:, :n]
    else:
        part = np.tile(np.arange(scores.shape[1]), (scores.shape[0], 1))
    picked = np.take_along_axis(scores, part, axis=1)
    return np.take_along_axis(part, np.argsort(-picked, axis=1, kind="stable"), axis=1)
