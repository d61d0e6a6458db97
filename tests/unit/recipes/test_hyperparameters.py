from __future__ import annotations

import pytest

from local_stack.personalize.recipes import (
    RECIPE_NAMES,
    RecipeError,
    TrainingData,
    recipe_name_from_arn,
    resolve_hyperparameters,
    train,
)


def test_recipe_arns_and_names_resolve_to_the_same_recipe() -> None:
    assert recipe_name_from_arn("arn:aws:personalize:::recipe/aws-sims") == "aws-sims"
    assert recipe_name_from_arn("aws-trending-now") == "aws-trending-now"
    assert len(RECIPE_NAMES) == 7


def test_unsupported_recipe_is_rejected() -> None:
    with pytest.raises(RecipeError, match="aws-hrnn is not supported"):
        recipe_name_from_arn("arn:aws:personalize:::recipe/aws-hrnn")


def test_defaults_are_filled_in_as_documented() -> None:
    hp = resolve_hyperparameters("aws-user-personalization", {"hidden_dimension": "64"})
    assert hp.raw["hidden_dimension"] == "64"
    assert hp.raw["max_user_history_length_percentile"] == "0.99"
    assert hp.values["recency_mask"] is True
    assert resolve_hyperparameters("aws-sims", {}).raw["min_cointeraction_count"] == "3"


def test_unknown_hyperparameter_is_an_invalid_input() -> None:
    with pytest.raises(RecipeError) as caught:
        resolve_hyperparameters("aws-sims", {"hidden_dimension": "64"})
    assert caught.value.message.startswith(
        "Provide a hyperparameter that is used in the algorithm: arn:aws:personalize:::algorithm/aws-sims."
    )
    assert "Unknown: hidden_dimension" in caught.value.message
    with pytest.raises(RecipeError, match="Supported hyperparameters: none"):
        resolve_hyperparameters("aws-popularity-count", {"anything": "1"})


@pytest.mark.parametrize(
    ("recipe", "name", "value", "message"),
    [
        (
            "aws-user-personalization",
            "hidden_dimension",
            "16",
            r"out of range. Expected an integer value in range \[32, 256\]",
        ),
        (
            "aws-user-personalization",
            "hidden_dimension",
            "sixty",
            "Invalid value for hyperparameter hidden_dimension",
        ),
        ("aws-sims", "popularity_discount_factor", "1.5", r"range \[0.0, 1.0\]"),
        (
            "aws-sims",
            "min_cointeraction_count",
            "11",
            "min_cointeraction_count with value 11 is out of range",
        ),
        ("aws-user-personalization", "recency_mask", "maybe", r"one of \[true, false\]"),
        ("aws-trending-now", "trend_discovery_frequency", "2 days", "one of"),
    ],
)
def test_out_of_range_or_malformed_values_are_rejected(
    recipe: str, name: str, value: str, message: str
) -> None:
    with pytest.raises(RecipeError, match=message):
        resolve_hyperparameters(recipe, {name: value})


def test_legacy_history_percentile_names_are_accepted() -> None:
    hp = resolve_hyperparameters("aws-user-personalization", {"max_hist_length_percentile": "0.9"})
    assert hp.raw["max_user_history_length_percentile"] == "0.9"


def test_min_percentile_above_max_is_rejected() -> None:
    with pytest.raises(RecipeError, match="must be less than or equal"):
        resolve_hyperparameters(
            "aws-user-personalization",
            {"min_user_history_length_percentile": "0.9", "max_user_history_length_percentile": "0.1"},
        )


def test_train_rejects_bad_hyperparameters_before_training(two_groups: TrainingData) -> None:
    with pytest.raises(RecipeError) as caught:
        train(
            "arn:aws:personalize:::recipe/aws-user-personalization",
            two_groups,
            hyperparameters={"hidden_dimension": "1024"},
            event_type=None,
            event_value_threshold=None,
            perform_hpo=False,
            hpo_config=None,
        )
    assert caught.value.code == "InvalidInputException"


def test_event_filters_that_leave_nothing_are_an_invalid_input(two_groups: TrainingData) -> None:
    with pytest.raises(RecipeError, match="No interactions left"):
        train(
            "aws-popularity-count",
            two_groups,
            hyperparameters={},
            event_type="Click",
            event_value_threshold=None,
            perform_hpo=False,
            hpo_config=None,
        )
