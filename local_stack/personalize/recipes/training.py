"""train(): what CreateSolutionVersion runs, in one direction.

encode -> split (metrics' held-out users) -> validation split (training users only) -> fit candidates ->
select -> fit the chosen one on the metrics split (the offline metrics) -> fit it on everything (the model).
With performHPO, each HPO trial's hyperparameters go through the recipe's first candidate and are scored
on the held-out users, as Personalize reports trial metrics; the best trial's model is kept.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from local_stack.personalize.recipes import metrics as offline
from local_stack.personalize.recipes.candidates import Candidate, candidates_for
from local_stack.personalize.recipes.data import TrainingData, encode_interactions
from local_stack.personalize.recipes.hpo import plan_search
from local_stack.personalize.recipes.models import TrainedModel
from local_stack.personalize.recipes.selection import select_candidate, validation_split
from personalize_rules.events_config import EventParameter
from personalize_rules.recipe_specs import RecipeError, recipe_name_from_arn, resolve_hyperparameters

__all__ = ["evaluate", "train"]


def train(
    recipe_name: str,
    data: TrainingData,
    *,
    hyperparameters: Mapping[str, str] | None = None,
    event_type: str | None = None,
    event_value_threshold: str | None = None,
    events: Sequence[EventParameter] = (),
    perform_hpo: bool = False,
    hpo_config: Mapping[str, Any] | None = None,
    seed: int = 42,
    candidates: Sequence[str] | None = None,
) -> TrainedModel:
    """Train a solution version of `recipe_name` (name or recipe ARN) on `data`.

    `events` is the solution's eventsConfig (parsed): event types, their weights and thresholds.
    `candidates` limits selection to these candidate names (tests and benchmarks use it to pin a model).
    """
    recipe = recipe_name_from_arn(recipe_name)
    hp = resolve_hyperparameters(recipe, hyperparameters)
    encoded = encode_interactions(
        data.interactions, event_type=event_type, event_value_threshold=event_value_threshold, events=events
    )
    split = offline.split_for_evaluation(encoded, seed)
    n_catalog = offline.catalog_size(data)
    tuned: dict[str, str] = {}
    trials: list[tuple[dict[str, str], dict[str, float]]] = []
    validation_scores: dict[str, float] = {}
    if perform_hpo:
        plan = plan_search(recipe, hp.raw, hpo_config, seed)
        best_score: float | None = None
        best: tuple[Candidate, dict[str, float], TrainedModel] | None = None
        for raw in plan.trials:
            trial_hp = resolve_hyperparameters(recipe, raw)
            candidate = _pick(candidates_for(recipe, trial_hp, len(encoded)), candidates)[0]
            trial_model = candidate.fit(split.train, seed, None)
            scores = offline.score_model(trial_model, split.truth, n_catalog)
            trials.append((dict(trial_hp.raw), scores))
            if plan.better(scores[plan.metric], best_score):
                best_score, best, hp = scores[plan.metric], (candidate, scores, trial_model), trial_hp
        assert best is not None  # plan_search always yields at least one trial
        chosen, metric_values, split_model = best
        tuned = {name: hp.raw[name] for name in plan.tuned_names}
    else:
        pool = _pick(candidates_for(recipe, hp, len(encoded)), candidates)
        selection = select_candidate(pool, validation_split(split.train, split.truth, seed), seed)
        chosen, validation_scores = selection.candidate, selection.scores
        split_model = chosen.fit(split.train, seed, selection.model)
        metric_values = offline.score_model(split_model, split.truth, n_catalog)
    # Each fit warm-starts from the previous one (validation rows within metric rows within all rows):
    # ALS then needs only a few sweeps.
    model = chosen.fit(encoded, seed, split_model)
    model.hyperparameters = dict(hp.raw)
    model.metrics = {name: round(float(value), 4) for name, value in metric_values.items()}
    model.tuned_hyperparameters = tuned
    model.hpo_trials = trials
    model.candidate = chosen.name
    model.validation_scores = validation_scores
    return model


def _pick(pool: list[Candidate], names: Sequence[str] | None) -> list[Candidate]:
    if names is None:
        return pool
    picked = [c for c in pool if c.name in names]
    if not picked:
        known = ", ".join(c.name for c in pool)
        raise RecipeError(f"No candidate named {', '.join(names)}; this recipe has: {known}.")
    return picked


def evaluate(
    recipe_name: str,
    data: TrainingData,
    *,
    hyperparameters: Mapping[str, str] | None = None,
    event_type: str | None = None,
    event_value_threshold: str | None = None,
    seed: int = 42,
) -> dict[str, float]:
    """Personalize's offline metrics for `recipe_name` trained on `data` with these settings."""
    return train(
        recipe_name,
        data,
        hyperparameters=hyperparameters,
        event_type=event_type,
        event_value_threshold=event_value_threshold,
        seed=seed,
    ).metrics
