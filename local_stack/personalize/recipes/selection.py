"""Model selection inside a training job: a validation split carved from the training users only, and
the candidate with the best NDCG@10 on it.

The users that the offline metrics hold out (metrics.split_for_evaluation) never take part: validation users
are drawn, seeded, from the other users with at least 2 events (half of them, at most 1,500); each keeps the
oldest 90 % of their events for training (as Personalize's protocol does for the metrics) and their newest
10 % are the truth.
Lists leave out the items the user already has in training, because this project serves recommendations
through an exclude-already-interacted filter: selection scores what the user can actually be shown.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Sequence
from dataclasses import dataclass

import numpy as np

from local_stack.personalize.recipes.candidates import Candidate
from local_stack.personalize.recipes.data import Interactions
from local_stack.personalize.recipes.models import TrainedModel

__all__ = [
    "SELECTION_K",
    "VALIDATION_MAX_USERS",
    "Selection",
    "ValidationSplit",
    "select_candidate",
    "validation_ndcg",
    "validation_split",
]

SELECTION_K = 10
# Percent of the eligible training users. Generous, because it costs the candidates little: a validation
# user only loses their newest 10 % of events, and more users make the choice less noisy.
VALIDATION_SHARE = 50
VALIDATION_MAX_USERS = 1_500  # scoring every candidate over the catalog for each is the cost that grows
LIST_EXTRA_MAX = 300  # at most this many of a user's own items are skipped before the list is cut


@dataclass(frozen=True)
class ValidationSplit:
    """Rows to fit candidates on, and per validation user (encoded index) the truth and seen item sets."""

    train: Interactions
    users: list[int]
    truth: list[set[int]]
    seen: list[set[int]]


@dataclass(frozen=True)
class Selection:
    """The winner, its validation score, every candidate's score, and the winner fitted on the
    validation rows (a warm start for the next fit: those rows are a subset of the next ones)."""

    candidate: Candidate
    score: float
    scores: dict[str, float]
    model: TrainedModel | None


def validation_split(data: Interactions, held_out: Collection[str], seed: int) -> ValidationSplit:
    """Half (at most VALIDATION_MAX_USERS, at least 1) of the users of `data` with >= 2 events that are
    not in `held_out` (the users whose newest events the offline metrics score)."""
    lengths = np.bincount(data.users, minlength=data.n_users)
    held = np.zeros(data.n_users, dtype=bool)
    index = {user: i for i, user in enumerate(data.user_ids)}
    held[[index[u] for u in held_out if u in index]] = True
    eligible = np.flatnonzero((lengths >= 2) & ~held)
    count = min(VALIDATION_MAX_USERS, max(1, (eligible.size * VALIDATION_SHARE + 50) // 100))
    # A seed of its own, so validation users are not a function of the metrics' held-out draw.
    rng = np.random.default_rng([seed, 7])
    chosen = np.sort(rng.permutation(eligible)[:count]) if eligible.size else eligible
    bounds = data.user_bounds()
    keep = np.ones(len(data), dtype=bool)
    truth: list[set[int]] = []
    seen: list[set[int]] = []
    for user in chosen:
        start, end = int(bounds[user]), int(bounds[user + 1])
        cut = start + (9 * (end - start)) // 10
        keep[cut:end] = False
        truth.append(set(data.items[cut:end].tolist()))
        seen.append(set(data.items[start:cut].tolist()))
    return ValidationSplit(data.select(keep), [int(u) for u in chosen], truth, seen)


def validation_ndcg(model: TrainedModel, split: ValidationSplit, k: int = SELECTION_K) -> float:
    """Mean NDCG@k over validation users whose truth has an item they have not seen; seen items skipped."""
    user_ids = [split.train.user_ids[u] for u in split.users]
    extra = min(LIST_EXTRA_MAX, max((len(s) for s in split.seen), default=0))
    lists = model.recommend_ids(user_ids, k + extra)
    total, queries = 0.0, 0
    for ranked, truth, seen in zip(lists, split.truth, split.seen, strict=True):
        relevant = {model.item_index[split.train.item_ids[i]] for i in truth - seen}
        if not relevant:
            continue
        queries += 1
        seen_ids = {split.train.item_ids[i] for i in seen}
        shown = [model.item_index[item] for item in ranked if item not in seen_ids][:k]
        dcg = sum(1.0 / math.log2(pos + 2) for pos, item in enumerate(shown) if item in relevant)
        ideal = sum(1.0 / math.log2(pos + 2) for pos in range(min(k, len(relevant))))
        total += dcg / ideal
    return total / queries if queries else 0.0


def select_candidate(candidates: Sequence[Candidate], split: ValidationSplit, seed: int) -> Selection:
    """Fit each candidate on the validation split's rows; the best NDCG@10 wins (ties: the first listed)."""
    if len(candidates) == 1 or not split.users:
        return Selection(candidates[0], 0.0, {}, None)
    scores: dict[str, float] = {}
    best: tuple[Candidate, TrainedModel] | None = None
    for candidate in candidates:
        model = candidate.fit(split.train, seed, None)
        scores[candidate.name] = round(validation_ndcg(model, split), 6)
        if best is None or scores[candidate.name] > scores[best[0].name]:
            best = (candidate, model)
    assert best is not None
    return Selection(best[0], scores[best[0].name], scores, best[1])
