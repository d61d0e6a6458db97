"""Real models behind the Personalize recipes the emulator supports, and how they are trained.

`train(recipe_name, TrainingData(...), ...)` returns a picklable `TrainedModel` answering
recommend_for_user / related_items / rank, carrying its offline `metrics` (see metrics.py) and the
candidate model selection chose (see training.py for the path, candidates.py for the candidates).
"""

from __future__ import annotations

from local_stack.personalize.recipes.data import Interactions, TrainingData, encode_interactions
from local_stack.personalize.recipes.models import (
    FactorModel,
    NeighborModel,
    PopularityModel,
    SimsModel,
    TrainedModel,
    TrendingModel,
)
from local_stack.personalize.recipes.synthetic import synthetic_interactions
from local_stack.personalize.recipes.training import evaluate, train
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
    "NeighborModel",
    "PopularityModel",
    "RecipeError",
    "SimsModel",
    "TrainedModel",
    "TrainingData",
    "TrendingModel",
    "encode_interactions",
    "evaluate",
    "recipe_name_from_arn",
    "resolve_hyperparameters",
    "synthetic_interactions",
    "train",
]
