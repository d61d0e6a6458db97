"""The candidate models each recipe's training job chooses from (on a validation split, see selection.py).

user-personalization and personalized-ranking (v1 and v2): implicit ALS at three settings, EASE (only when
the catalog has at most neighbors.EASE_MAX_ITEMS items), item-kNN (cosine) over the whole history and over
recent items, and recency-weighted item transitions (a sequence-aware model). aws-sims: co-occurrence with
the recipe's own popularity_discount_factor / min_cointeraction_count, cosine item-kNN, item transitions
and EASE. Popularity and trending have one model each.
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
EASE_REGULARIZATIONS = (100.0, 500.0, 2000.0)
USER_HISTORY = 200  # newest items of a user that the neighbor candidates sum over
NEIGHBORS_PER_ITEM = 200  # non-zero entries kept per row of an item-item matrix (>= kNN's k = 100)

Fit = Callable[[Interactions, int, TrainedModel | None], TrainedModel]


@dataclass(frozen=True)
class Candidate:
    """A named way to fit a model: fit(data, seed, warm_start) -> TrainedModel."""

    name: str
    fit: Fit


def candidates_for(recipe: str, hp: ResolvedHyperparameters, n_items: int) -> list[Candidate]:
    """The candidates of `recipe` with these hyperparameters, in a fixed order (ties go to the first)."""
    if recipe in USER_RECIPES:
        return _user_candidates(recipe, hp, n_items)
    if recipe == "aws-sims":
        return _sims_candidates(hp, n_items)
    if recipe in ("aws-popularity-count", "aws-trending-now"):
        return [Candidate(recipe.removeprefix("aws-"), lambda data, _s, _w: fit_baseline(recipe, data, hp))]
    raise RecipeError(f"Recipe {recipe} is not supported.")


def _als(recipe: str, hp: ResolvedHyperparameters, settings: AlsSettings) -> Fit:
    return lambda data, seed, warm: fit_als(recipe, data, hp, settings, seed=seed, warm_start=warm)


def _neighbors(
    recipe: str,
    hp: ResolvedHyperparameters,
    build: Callable[[Interactions], sp.csr_matrix],
    *,
    history_length: int,
    decay: float,
) -> Fit:
    def fit(data: Interactions, _seed: int, _warm: TrainedModel | None) -> TrainedModel:
        if len(data) == 0:
            raise RecipeError("There are no interactions to train on.")
        matrix = build(data.select(training_rows(data, hp)))
        return fit_neighbors(recipe, data, matrix, history_length=history_length, decay=decay)

    return fit


def _user_candidates(recipe: str, hp: ResolvedHyperparameters, n_items: int) -> list[Candidate]:
    out = [Candidate(name, _als(recipe, hp, settings)) for name, settings in ALS_CANDIDATES.items()]
    if n_items <= nb.EASE_MAX_ITEMS:
        for lam in EASE_REGULARIZATIONS:
            fit = _neighbors(
                recipe, hp, _ease(lam, NEIGHBORS_PER_ITEM), history_length=USER_HISTORY, decay=1.0
            )
            out.append(Candidate(f"ease-{lam:g}", fit))
    cosine = lambda d: nb.cooccurrence_scores(nb.user_item_binary(d), discount=1.0, k=100)  # noqa: E731
    out.append(
        Candidate("knn-cosine", _neighbors(recipe, hp, cosine, history_length=USER_HISTORY, decay=1.0))
    )
    out.append(Candidate("knn-cosine-recent", _neighbors(recipe, hp, cosine, history_length=50, decay=0.9)))
    transitions = lambda d: nb.transition_scores(d, window=3, k=NEIGHBORS_PER_ITEM)  # noqa: E731
    out.append(Candidate("transitions", _neighbors(recipe, hp, transitions, history_length=10, decay=0.7)))
    return out


def _sims_candidates(hp: ResolvedHyperparameters, n_items: int) -> list[Candidate]:
    recipe = "aws-sims"
    discount = hp.number("popularity_discount_factor")
    min_count = max(int(hp.number("min_cointeraction_count")), 1)
    own = lambda d: nb.cooccurrence_scores(  # noqa: E731
        nb.user_item_binary(d), discount=discount, min_count=min_count, k=SIMS_NEIGHBORS
    )
    cosine = lambda d: nb.cooccurrence_scores(nb.user_item_binary(d), discount=1.0, k=SIMS_NEIGHBORS)  # noqa: E731
    transitions = lambda d: nb.transition_scores(d, window=3, k=SIMS_NEIGHBORS)  # noqa: E731
    out = [
        Candidate("cooccurrence", _neighbors(recipe, hp, own, history_length=20, decay=0.9)),
        Candidate("knn-cosine", _neighbors(recipe, hp, cosine, history_length=20, decay=0.9)),
        Candidate("transitions", _neighbors(recipe, hp, transitions, history_length=20, decay=0.7)),
    ]
    if n_items <= nb.EASE_MAX_ITEMS:
        ease = _ease(500.0, SIMS_NEIGHBORS)
        out.append(Candidate("ease-500", _neighbors(recipe, hp, ease, history_length=20, decay=0.9)))
    return out


def _ease(regularization: float, k: int) -> Callable[[Interactions], sp.csr_matrix]:
    return lambda data: nb.ease_scores(nb.user_item_binary(data), regularization=regularization, k=k)
