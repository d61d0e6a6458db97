from __future__ import annotations

from typing import Any

import pytest

from local_stack.personalize.recipes import RecipeError, TrainedModel, TrainingData, train

OBJECTIVE = "normalized_discounted_cumulative_gain_at_5"
OPEN_SIMS = {
    "min_user_history_length_percentile": "0.0",
    "max_user_history_length_percentile": "1.0",
    "min_item_interaction_count_percentile": "0.0",
    "max_item_interaction_count_percentile": "1.0",
}


def _hpo(
    data: TrainingData, recipe: str, config: dict[str, Any] | None, **hyperparameters: str
) -> TrainedModel:
    return train(
        recipe,
        data,
        hyperparameters=hyperparameters,
        event_type=None,
        event_value_threshold=None,
        perform_hpo=True,
        hpo_config=config,
        seed=11,
    )


def _config(metric: str, direction: str = "Maximize", jobs: str = "5") -> dict[str, Any]:
    return {
        "hpoObjective": {"type": direction, "metricName": metric},
        "hpoResourceConfig": {"maxNumberOfTrainingJobs": jobs, "maxParallelTrainingJobs": "2"},
        "algorithmHyperParameterRanges": {
            "integerHyperParameterRanges": [
                {"name": "min_cointeraction_count", "minValue": 0, "maxValue": 10}
            ],
            "continuousHyperParameterRanges": [
                {"name": "popularity_discount_factor", "minValue": 0.0, "maxValue": 1.0}
            ],
        },
    }


@pytest.mark.parametrize("direction", ["Maximize", "Minimize"])
def test_hpo_keeps_the_best_trial_by_the_objective(two_groups: TrainingData, direction: str) -> None:
    model = _hpo(two_groups, "aws-sims", _config(OBJECTIVE, direction), **OPEN_SIMS)
    assert 2 <= len(model.hpo_trials) <= 5
    scores = [metrics[OBJECTIVE] for _, metrics in model.hpo_trials]
    assert len(set(scores)) > 1, "the ranges should matter on this data"
    best = max(scores) if direction == "Maximize" else min(scores)
    params, metrics = next(t for t in model.hpo_trials if t[1][OBJECTIVE] == best)
    assert model.tuned_hyperparameters == {
        "min_cointeraction_count": params["min_cointeraction_count"],
        "popularity_discount_factor": params["popularity_discount_factor"],
    }
    assert model.hyperparameters["min_cointeraction_count"] == params["min_cointeraction_count"]
    assert model.metrics == {name: round(value, 4) for name, value in metrics.items()}


def test_hpo_trials_stay_inside_the_ranges_and_are_seeded(two_groups: TrainingData) -> None:
    first = _hpo(two_groups, "aws-sims", _config("precision_at_5"), **OPEN_SIMS)
    again = _hpo(two_groups, "aws-sims", _config("precision_at_5"), **OPEN_SIMS)
    assert [p for p, _ in first.hpo_trials] == [p for p, _ in again.hpo_trials]
    for params, _ in first.hpo_trials:
        assert 0 <= int(params["min_cointeraction_count"]) <= 10
        assert 0.0 <= float(params["popularity_discount_factor"]) <= 1.0


def test_hpo_without_ranges_searches_the_recipes_tunable_defaults(two_groups: TrainingData) -> None:
    model = _hpo(
        two_groups, "aws-user-personalization", {"hpoResourceConfig": {"maxNumberOfTrainingJobs": "2"}}
    )
    assert len(model.hpo_trials) == 2
    assert set(model.tuned_hyperparameters) == {"hidden_dimension", "bptt"}
    assert 32 <= int(model.tuned_hyperparameters["hidden_dimension"]) <= 256


def test_categorical_ranges_try_each_listed_value_at_most_once(two_groups: TrainingData) -> None:
    config = {
        "hpoResourceConfig": {"maxNumberOfTrainingJobs": "10"},
        "algorithmHyperParameterRanges": {
            "categoricalHyperParameterRanges": [{"name": "recency_mask", "values": ["true", "false"]}]
        },
    }
    model = _hpo(two_groups, "aws-user-personalization", config, hidden_dimension="32")
    assert sorted(p["recency_mask"] for p, _ in model.hpo_trials) == ["false", "true"]


@pytest.mark.parametrize(
    ("config", "message"),
    [
        (
            {
                "algorithmHyperParameterRanges": {
                    "continuousHyperParameterRanges": [
                        {"name": "min_user_history_length_percentile", "minValue": 0.0, "maxValue": 0.5}
                    ]
                }
            },
            "used in the algorithm: arn:aws:personalize:::algorithm/aws-user-personalization",
        ),
        (
            {
                "algorithmHyperParameterRanges": {
                    "integerHyperParameterRanges": [
                        {"name": "hidden_dimension", "minValue": 8, "maxValue": 64}
                    ]
                }
            },
            "out of range",
        ),
        ({"hpoResourceConfig": {"maxNumberOfTrainingJobs": "0"}}, "maxNumberOfTrainingJobs must be between"),
        ({"hpoObjective": {"type": "Maximize", "metricName": "accuracy"}}, "Invalid hpoObjective metricName"),
    ],
)
def test_invalid_hpo_config_is_an_invalid_input(
    two_groups: TrainingData, config: dict[str, Any], message: str
) -> None:
    with pytest.raises(RecipeError, match=message):
        _hpo(two_groups, "aws-user-personalization", config)


def test_hpo_on_a_recipe_without_tunable_hyperparameters_is_rejected(two_groups: TrainingData) -> None:
    with pytest.raises(RecipeError, match="no hyperparameter ranges"):
        _hpo(two_groups, "aws-popularity-count", None)
