"""Model selection: validation users come from the training users only, and the choice is seeded."""

from __future__ import annotations

from local_stack.personalize.recipes import TrainingData, encode_interactions, train
from local_stack.personalize.recipes import metrics as offline
from local_stack.personalize.recipes.candidates import Candidate, candidates_for
from local_stack.personalize.recipes.fit import fit_baseline
from local_stack.personalize.recipes.selection import select_candidate, validation_split
from personalize_rules.recipe_specs import resolve_hyperparameters

RECIPE = "aws-user-personalization"


def test_validation_users_never_include_the_users_the_metrics_hold_out(two_groups: TrainingData) -> None:
    encoded = encode_interactions(two_groups.interactions)
    split = offline.split_for_evaluation(encoded, 3)
    validation = validation_split(split.train, split.truth, 3)
    chosen = {split.train.user_ids[u] for u in validation.users}
    assert chosen
    assert not chosen & set(split.truth)
    assert len(validation.train) < len(split.train)
    assert all(truth for truth in validation.truth)


def test_the_same_seed_gives_the_same_choice_and_scores(two_groups: TrainingData) -> None:
    first = train(RECIPE, two_groups, hyperparameters={"hidden_dimension": "32"}, seed=5)
    again = train(RECIPE, two_groups, hyperparameters={"hidden_dimension": "32"}, seed=5)
    assert first.candidate == again.candidate
    assert first.validation_scores == again.validation_scores
    assert first.candidate in first.validation_scores


def test_a_model_that_knows_the_tastes_beats_popularity_on_validation(two_groups: TrainingData) -> None:
    encoded = encode_interactions(two_groups.interactions)
    split = offline.split_for_evaluation(encoded, 1)
    validation = validation_split(split.train, split.truth, 1)
    hp = resolve_hyperparameters("aws-popularity-count", None)
    popular = Candidate("popularity", lambda data, _s, _w: fit_baseline("aws-popularity-count", data, hp))
    pool = candidates_for(RECIPE, resolve_hyperparameters(RECIPE, None), len(encoded))
    knn = next(c for c in pool if c.name == "knn-cosine")
    selection = select_candidate([popular, knn], validation, 1)
    assert selection.candidate.name == "knn-cosine"
    assert selection.scores["knn-cosine"] > selection.scores["popularity"]
