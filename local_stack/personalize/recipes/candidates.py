"""The candidate models each recipe's training job chooses from (on a validation split, see selection.py).

user-personalization and personalized-ranking (v1 and v2): implicit ALS at three settings, EASE at three
lambdas (over at most neighbors.EASE_MAX_ITEMS items) and item-kNN (cosine), each summed over the whole
history alike or over recent items more, and recency-weighted item transitions (a sequence-aware model).
aws-sims: co-occurrence with the recipe's own popularity_discount_factor / min_cointeraction_count, cosine
item-kNN, item transitions and EASE. Popularity and trending have one model each.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import scipy.sparse as sp

from local_stack.personalize.recipes import neighbors as nb
from local_stack.personalize.recipes.data import Interactions
from local_stack.personalize.recipes.fit import (
    SIMS_NEIGHBORS,
    AlsSettings,
    fit_als,
    fit_baseline,
    fit_neighbors,
    training_rows,
)
from local_stack.personalize.recipes.models import TrainedModel
from personalize_rules.recipe_specs import RecipeError, ResolvedHyperparameters

__all__ = ["USER_RECIPES", "Candidate", "candidates_for"]

USER_RECIPES = (
    "aws-user-personalization",
    "aws-user-personalization-v2",
    "aws-personalized-ranking",
    "aws-personalized-ranking-v2",
)
# ALS settings tried: the emulator's long-standing default (recency-weighted, alpha 2, reg 1), the
# textbook implicit setting (binary confidence 1, reg 0.01, 20 sweeps) and a high-confidence one.
ALS_CANDIDATES: dict[str, AlsSettings] = {
    "als-recency": AlsSettings(),
    "als-plain": AlsSettings(regularization=0.01, alpha=1.0, iterations=20, recency=False),
    "als-confident": AlsSettings(regularization=0.1, alpha=10.0, iterations=12, recency=False),
}
ALS_SELECTION_BUDGET = 1e7  # interactions x hidden_dimension: ~67k interactions at the default 149 factors
EASE_REGULARIZATIONS = (100.0, 500.0, 2000.0)
USER_HISTORY = 200  # newest items of a user that the neighbor candidates sum over
RECENT_DECAY = 0.97  # "-recent" candidates: each older item weighs 0.97 times the next newer one
NEIGHBORS_PER_ITEM = 400  # non-zero entries kept per row of an EASE or transition matrix

Fit = Callable[[Interactions, int, TrainedModel | None], TrainedModel]


@dataclass(frozen=True)
class Candidate:
    """A named way to fit a model: fit(data, seed, warm_start) -> TrainedModel."""

    name: str
    fit: Fit


def candidates_for(recipe: str, hp: ResolvedHyperparameters, n_interactions: int) -> list[Candidate]:
    """The candidates of `recipe` with these hyperparameters, in a fixed order (ties go to the first).

    ALS dominates training time (it grows with interactions x factors): above ALS_SELECTION_BUDGET only
    the first ALS setting competes, so 1M interactions train within the 60 s budget on 2 cores.
    """
    if recipe in USER_RECIPES:
        out = _user_candidates(recipe, hp)
        if n_interactions * hp.number("hidden_dimension") > ALS_SELECTION_BUDGET:
            first_als = next(iter(ALS_CANDIDATES))
            out = [c for c in out if c.name not in ALS_CANDIDATES or c.name == first_als]
        return out
    if recipe == "aws-sims":
        return _sims_candidates(hp)
    if recipe in ("aws-popularity-count", "aws-trending-now"):
        return [Candidate(recipe.removeprefix("aws-"), lambda data, _s, _w: fit_baseline(recipe, data, hp))]
    raise RecipeError(f"Recipe {recipe} is not supported.")


def _als(recipe: str, hp: ResolvedHyperparameters, settings: AlsSettings) -> Fit:
    return lambda data, seed, warm: fit_als(recipe, data, hp, settings, seed=seed, warm_start=warm)


class _Rows:
    """The rows a neighbor matrix is counted on (users within the history-length percentiles, and for
    SIMS items within the item-count ones), selected once per fitting step and shared."""

    def __init__(self, hp: ResolvedHyperparameters) -> None:
        self.hp = hp
        self.last: tuple[Interactions, Interactions] | None = None

    def __call__(self, data: Interactions) -> Interactions:
        if self.last is None or self.last[0] is not data:
            rows = training_rows(data, self.hp)
            self.last = (data, data if rows.all() else data.select(rows))
        return self.last[1]


class _Matrix:
    """Builds an item-item matrix once per rows object: candidates that differ only in how a user's
    history is weighted, and blends, share it."""

    def __init__(self, build: Callable[[Interactions], sp.csr_matrix]) -> None:
        self.build = build
        self.last: tuple[Interactions, sp.csr_matrix] | None = None

    def __call__(self, rows: Interactions) -> sp.csr_matrix:
        if self.last is None or self.last[0] is not rows:
            self.last = (rows, self.build(rows))
        return self.last[1]


def _neighbors(
    recipe: str,
    rows: _Rows,
    matrix: _Matrix,
    *,
    history_length: int,
    decay: float,
) -> Fit:
    def fit(data: Interactions, _seed: int, _warm: TrainedModel | None) -> TrainedModel:
        if len(data) == 0:
            raise RecipeError("There are no interactions to train on.")
        return fit_neighbors(recipe, data, matrix(rows(data)), history_length=history_length, decay=decay)

    return fit


def _user_candidates(recipe: str, hp: ResolvedHyperparameters) -> list[Candidate]:
    out = [Candidate(name, _als(recipe, hp, settings)) for name, settings in ALS_CANDIDATES.items()]
    rows = _Rows(hp)
    # Each item-item matrix once, with every user weighting: the whole history alike, or recent items more.
    matrices: list[tuple[str, _Matrix]] = []
    matrices += [(f"ease-{lam:g}", _Matrix(_ease(lam, NEIGHBORS_PER_ITEM))) for lam in EASE_REGULARIZATIONS]
    knn = _Matrix(lambda d: nb.cooccurrence_scores(nb.user_item_binary(d), discount=1.0, k=100))
    matrices.append(("knn-cosine", knn))
    for name, matrix in matrices:
        for suffix, decay in (("", 1.0), ("-recent", RECENT_DECAY)):
            fit = _neighbors(recipe, rows, matrix, history_length=USER_HISTORY, decay=decay)
            out.append(Candidate(name + suffix, fit))
    transitions = _Matrix(lambda d: nb.transition_scores(d, window=3, k=NEIGHBORS_PER_ITEM))
    out.append(Candidate("transitions", _neighbors(recipe, rows, transitions, history_length=10, decay=0.7)))
    return out


def _sims_candidates(hp: ResolvedHyperparameters) -> list[Candidate]:
    recipe = "aws-sims"
    rows = _Rows(hp)
    discount = hp.number("popularity_discount_factor")
    min_count = max(int(hp.number("min_cointeraction_count")), 1)
    own = _Matrix(
        lambda d: nb.cooccurrence_scores(
            nb.user_item_binary(d), discount=discount, min_count=min_count, k=SIMS_NEIGHBORS
        )
    )
    cosine = _Matrix(lambda d: nb.cooccurrence_scores(nb.user_item_binary(d), discount=1.0, k=SIMS_NEIGHBORS))
    transitions = _Matrix(lambda d: nb.transition_scores(d, window=3, k=SIMS_NEIGHBORS))
    out = [
        Candidate("cooccurrence", _neighbors(recipe, rows, own, history_length=20, decay=0.9)),
        Candidate("knn-cosine", _neighbors(recipe, rows, cosine, history_length=20, decay=0.9)),
        Candidate("transitions", _neighbors(recipe, rows, transitions, history_length=20, decay=0.7)),
    ]
    ease = _Matrix(_ease(500.0, SIMS_NEIGHBORS))
    out.append(Candidate("ease-500", _neighbors(recipe, rows, ease, history_length=20, decay=0.9)))
    return out


def _ease(regularization: float, k: int) -> Callable[[Interactions], sp.csr_matrix]:
    return lambda data: nb.ease_scores(nb.user_item_binary(data), regularization=regularization, k=k)
