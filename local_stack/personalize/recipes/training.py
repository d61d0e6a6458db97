"""train(): what CreateSolutionVersion runs — optional HPO, offline metrics, then the final model."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from local_stack.personalize import metrics as offline_metrics
from local_stack.personalize.recipes.data import TrainingData, encode_interactions
from local_stack.personalize.recipes.fit import fit_model
from local_stack.personalize.recipes.hpo import plan_search
from local_stack.personalize.recipes.models import TrainedModel
from personalize_rules.recipe_specs import (
    ResolvedHyperparameters,
    recipe_name_from_arn,
    resolve_hyperparameters,
)

__all__ = ["train"]


def train(
    recipe_name: str,
    data: TrainingData,
    *,
    hyperparameters: Mapping[str, str] | None = None,
    event_type: str | None = None,
    event_value_threshold: str | None = None,
    perform_hpo: bool = False,
    hpo_config: Mapping[str, Any] | None = None,
    seed: int = 42,
) -> TrainedModel:
    """Train a solution version of `recipe_name` (name or recipe ARN) on `data`.

    Metrics come from a model trained on the evaluation split (see metrics.py); with HPO each trial is
    scored on that split and the best by the objective wins. The returned model is then trained on all
    the (filtered) interactions with the chosen hyperparameters.
    """
    recipe = recipe_name_from_arn(recipe_name)
    hp = resolve_hyperparameters(recipe, hyperparameters)
    encoded = encode_interactions(
        data.interactions, event_type=event_type, event_value_threshold=event_value_threshold
    )
    split = offline_metrics.split_for_evaluation(encoded, seed)
    n_catalog = offline_metrics.catalog_size(data)
    tuned: dict[str, str] = {}
    trials: list[tuple[dict[str, str], dict[str, float]]] = []
    if perform_hpo:
        plan = plan_search(recipe, hp.raw, hpo_config, seed)
        best_score: float | None = None
        best: tuple[ResolvedHyperparameters, dict[str, float], TrainedModel] | None = None
        for raw in plan.trials:
            candidate = resolve_hyperparameters(recipe, raw)
            scores, trial_model = offline_metrics.evaluate_model(
                recipe, split, candidate, n_catalog_items=n_catalog, seed=seed
            )
            trials.append((dict(candidate.raw), scores))
            if plan.better(scores[plan.metric], best_score):
                best_score, best = scores[plan.metric], (candidate, scores, trial_model)
        assert best is not None  # plan_search always yields at least one trial
        hp, metric_values, split_model = best
        tuned = {name: hp.raw[name] for name in plan.tuned_names}
    else:
        metric_values, split_model = offline_metrics.evaluate_model(
            recipe, split, hp, n_catalog_items=n_catalog, seed=seed
        )
    # The split model saw ~99% of the rows: starting from it, the final ALS needs only a few sweeps.
    model = fit_model(recipe, encoded, hp, seed=seed, warm_start=split_model)
    model.metrics = {name: round(float(value), 4) for name, value in metric_values.items()}
    model.tuned_hyperparameters = tuned
    model.hpo_trials = trials
    return model
