"""Real models behind the Personalize recipes the emulator supports, and how they are trained.

`train(recipe_name, TrainingData(...), ...)` returns a picklable `TrainedModel` answering
recommend_for_user / related_items / rank, carrying its offline `metrics` (see metrics.py).
"""

from __future__ import annotations

from local_stack.personalize.recipes.data import Interactions, TrainingData, encode_interactions
from local_stack.personalize.recipes.models import (
    FactorModel,
    PopularityModel,
    SimsModel,
    TrainedModel,
    TrendingModel,
)
from local_stack.personalize.recipes.synthetic import synthetic_interactions
from local_stack.personalize.recipes.training import train
from personalize_rules.recipe_specs import (
    RECIPE_HYPERPARAMETERS,
    RECIPE_NAMES,
    HyperParameterSpec,
    RecipeError,
    recipe_name_from_arn,
    resolve_hyperparameters,
)

__all__ = [
    "RECIPE_HYPERPARAMETERS",
    "RECIPE_NAMES",
    "FactorModel",
    "HyperParameterSpec",
    "Interactions",
    "PopularityModel",
    "RecipeError",
    "SimsModel",
    "TrainedModel",
    "TrainingData",
    "TrendingModel",
    "encode_interactions",
    "recipe_name_from_arn",
    "resolve_hyperparameters",
    "synthetic_interactions",
    "train",
]
