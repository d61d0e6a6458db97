"""Trending-Now keeps up with new interactions without a new solution version.

"The items considered come from the interactions data you imported in bulk and incrementally. You don't
have to manually create a new solution version for Trending-Now to consider new items in interactions
data." (Trending-Now recipe, Personalize developer guide,
https://docs.aws.amazon.com/personalize/latest/dg/native-recipe-trending-now.html). The emulator
recomputes a trending version's trends from the dataset group's current interactions (imports and
PutEvents) when they changed since the model was computed, with the version's own settings.
"""

from __future__ import annotations

import threading
from typing import Any

from local_stack.personalize.recipes import TrainedModel, TrendingModel, encode_interactions
from local_stack.personalize.recipes.fit import fit_baseline
from local_stack.personalize.store import DatasetGroupStore
from personalize_rules.recipe_specs import RecipeError, resolve_hyperparameters

__all__ = ["current_trends"]

_lock = threading.Lock()


def current_trends(model: TrainedModel, store: DatasetGroupStore, version: dict[str, Any]) -> TrainedModel:
    """`model` when the interactions have not changed since its trends were computed, else a model with
    fresh trends (the caller keeps it for the version). Other models pass through."""
    if not isinstance(model, TrendingModel) or model.data_key is None:
        return model
    with _lock:
        key = store.interactions_key()
        if model.data_key == key:
            return model
        config = version.get("solutionConfig") or {}
        hp = resolve_hyperparameters(model.recipe, config.get("algorithmHyperParameters"))
        try:
            data = encode_interactions(
                store.training_data().interactions,
                event_type=version.get("eventType"),
                event_value_threshold=config.get("eventValueThreshold"),
            )
        except RecipeError:
            return model  # nothing left to train on: keep the trends of the last good data
        fresh = fit_baseline(model.recipe, data, hp)
        assert isinstance(fresh, TrendingModel)
        fresh.metrics, fresh.hyperparameters = model.metrics, model.hyperparameters
        fresh.candidate, fresh.data_key = model.candidate, key
        return fresh
