from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from botocore.stub import ANY

from pipeline.lifecycle.errors import ConfigCheckError, JobFailedError
from pipeline.lifecycle.training import check_solution_config, run_train

ARN = "arn:aws:personalize:us-east-1:123456789012"

SOLUTION = f"{ARN}:solution/braze-recs-user-personalization"
VERSION = f"{SOLUTION}/v1"
HYPER = {
    "hidden_dimension": "64",
    "min_user_history_length_percentile": "0.0",
    "max_user_history_length_percentile": "0.99",
}


def _solution(auto: bool, **extra: object) -> dict:
    return {
        "solution": {
            "name": "braze-recs-user-personalization",
            "solutionArn": SOLUTION,
            "status": "ACTIVE",
            "performHPO": False,
            "performAutoTraining": auto,
            "solutionConfig": {"algorithmHyperParameters": HYPER},
            **extra,
        }
    }


def _imports(stubbed: Any, when: datetime) -> None:
    for dataset in ("INTERACTIONS", "USERS", "ITEMS"):
        stubbed.personalize.add_response(
            "list_dataset_import_jobs",
            {
                "datasetImportJobs": [
                    {
                        "datasetImportJobArn": f"{ARN}:dataset-import-job/{dataset}",
                        "status": "ACTIVE",
                        "lastUpdatedDateTime": when,
                    }
                ]
            },
            {"datasetArn": f"{ARN}:dataset/braze-recs/{dataset}"},
        )


def _version_list(created: datetime) -> dict:
    return {
        "solutionVersions": [
            {
                "solutionVersionArn": VERSION,
                "status": "ACTIVE",
                "trainingMode": "FULL",
                "creationDateTime": created,
            }
        ]
    }


def test_a_failed_solution_version_raises_with_the_failure_reason(stubbed: Any) -> None:
    stubbed.personalize.add_response("describe_solution", _solution(False))
    stubbed.personalize.add_response("describe_solution", _solution(False))
    stubbed.personalize.add_response(
        "list_solution_versions", {"solutionVersions": []}, {"solutionArn": SOLUTION}
    )
    stubbed.personalize.add_response(
        "create_solution_version",
        {"solutionVersionArn": VERSION},
        {"solutionArn": SOLUTION, "trainingMode": "FULL", "name": ANY},
    )
    stubbed.personalize.add_response(
        "describe_solution_version",
        {"solutionVersion": {"solutionVersionArn": VERSION, "status": "CREATE IN_PROGRESS"}},
    )
    reason = "There must be at least 25 users with at least 2 interactions each"
    stubbed.personalize.add_response(
        "describe_solution_version",
        {
            "solutionVersion": {
                "solutionVersionArn": VERSION,
                "status": "CREATE FAILED",
                "failureReason": reason,
            }
        },
    )

    with pytest.raises(JobFailedError) as err:
        run_train(stubbed.ctx, "user-personalization")

    assert reason in err.value.why
    assert "more data" in err.value.hint
    stubbed.personalize.assert_no_pending_responses()


def test_turns_auto_training_off_and_reuses_an_up_to_date_version(stubbed: Any) -> None:
    trained = datetime(2026, 2, 1, tzinfo=UTC)
    stubbed.personalize.add_response("describe_solution", _solution(True))
    stubbed.personalize.add_response("describe_solution", _solution(True))
    stubbed.personalize.add_response(
        "update_solution", {"solutionArn": SOLUTION}, {"solutionArn": SOLUTION, "performAutoTraining": False}
    )
    stubbed.personalize.add_response(
        "describe_solution",
        _solution(True, latestSolutionUpdate={"status": "ACTIVE", "performAutoTraining": False}),
    )
    stubbed.personalize.add_response(
        "list_solution_versions", _version_list(trained), {"solutionArn": SOLUTION}
    )
    _imports(stubbed, datetime(2026, 1, 1, tzinfo=UTC))
    stubbed.personalize.add_response(
        "describe_solution_version", {"solutionVersion": {"solutionVersionArn": VERSION, "status": "ACTIVE"}}
    )
    stubbed.personalize.add_response(
        "get_solution_metrics", {"solutionVersionArn": VERSION, "metrics": {"coverage": 0.5}}
    )

    [result] = run_train(stubbed.ctx, "user-personalization")

    assert (result.created, result.auto_training_updated, result.metrics) == (False, True, {"coverage": 0.5})
    stubbed.personalize.assert_no_pending_responses()


def test_with_nothing_changed_train_makes_no_update_and_no_version(stubbed: Any) -> None:
    after = datetime(2026, 2, 1, tzinfo=UTC)
    stubbed.personalize.add_response("describe_solution", _solution(False))
    stubbed.personalize.add_response(
        "describe_solution",
        _solution(False, latestSolutionUpdate={"status": "ACTIVE", "performAutoTraining": False}),
    )
    stubbed.personalize.add_response(
        "list_solution_versions", _version_list(after), {"solutionArn": SOLUTION}
    )
    _imports(stubbed, datetime(2026, 1, 1, tzinfo=UTC))
    stubbed.personalize.add_response(
        "describe_solution_version", {"solutionVersion": {"solutionVersionArn": VERSION, "status": "ACTIVE"}}
    )
    stubbed.personalize.add_response("get_solution_metrics", {"solutionVersionArn": VERSION, "metrics": {}})

    [result] = run_train(stubbed.ctx, "user-personalization")

    assert (result.created, result.auto_training_updated) == (False, False)
    stubbed.personalize.assert_no_pending_responses()


def test_refuses_a_solution_created_with_other_hyperparameters(stubbed: Any) -> None:
    drifted = _solution(False)
    drifted["solution"]["solutionConfig"] = {"algorithmHyperParameters": {**HYPER, "hidden_dimension": "128"}}
    stubbed.personalize.add_response("describe_solution", drifted)
    with pytest.raises(ConfigCheckError) as err:
        run_train(stubbed.ctx, "user-personalization")
    assert "hidden_dimension=128" in err.value.why
    assert "make apply" in err.value.hint


@pytest.mark.parametrize(
    ("changes", "fragment"),
    [
        ({"hyperparameters": {"no_such_param": "64"}}, "no_such_param"),
        ({"hyperparameters": {"hidden_dimension": "999"}}, "hidden_dimension"),
        (
            {
                "perform_hpo": True,
                "hpo": {
                    "integer_ranges": [{"name": "min_user_history_length_percentile", "min": 0, "max": 1}]
                },
            },
            "not tunable",
        ),
        (
            {
                "perform_hpo": True,
                "hpo": {"integer_ranges": [{"name": "hidden_dimension", "min": 200, "max": 100}]},
            },
            "above max",
        ),
        ({"perform_hpo": False, "hpo": {"max_number_of_training_jobs": 4}}, "perform_hpo is false"),
        (
            {"perform_hpo": True, "hpo": {"max_number_of_training_jobs": 2, "max_parallel_training_jobs": 4}},
            "exceeds",
        ),
    ],
)
def test_checks_hyperparameters_and_hpo_before_any_call(stubbed: Any, changes: dict, fragment: str) -> None:
    solution = {"name": "user-personalization", "recipe": "aws-user-personalization", **changes}
    with pytest.raises(ConfigCheckError) as err:
        check_solution_config(solution)
    assert fragment in err.value.why


def test_accepts_the_shipped_solutions_and_a_valid_hpo_range() -> None:
    check_solution_config(
        {
            "name": "up",
            "recipe": "aws-user-personalization",
            "perform_hpo": True,
            "hpo": {
                "integer_ranges": [{"name": "hidden_dimension", "min": 32, "max": 128}],
                "max_number_of_training_jobs": 4,
            },
        }
    )


def test_update_mode_is_refused_for_recipes_other_than_user_personalization(stubbed: Any) -> None:
    popularity = f"{ARN}:solution/braze-recs-popularity"
    body = _solution(False)
    body["solution"].update(solutionArn=popularity, solutionConfig={})
    stubbed.personalize.add_response("describe_solution", body)
    stubbed.personalize.add_response("describe_solution", body)
    stubbed.personalize.add_response("list_solution_versions", {"solutionVersions": []})
    with pytest.raises(ConfigCheckError) as err:
        run_train(stubbed.ctx, "popularity", mode="UPDATE")
    assert "UPDATE" in err.value.why
