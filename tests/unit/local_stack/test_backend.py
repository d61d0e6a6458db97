"""The backend in-process: async statuses, failures worded like AWS, dependency checks, persistence."""

from __future__ import annotations

import json
import pickle
import time
from pathlib import Path

import pytest

from local_stack.personalize import backend as backend_module
from local_stack.personalize.backend import PersonalizeBackend, get_backend, load_state, save_state
from local_stack.personalize.errors import (
    InvalidInputException,
    ResourceAlreadyExistsException,
    ResourceInUseException,
    ResourceNotFoundException,
)
from pipeline.paths import schema_dir
from tests.emulator_setup import wait_active

ACCOUNT = "123456789012"


@pytest.fixture
def backend(monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest) -> PersonalizeBackend:
    monkeypatch.setenv("LOCAL_STACK_PERSONALIZE_STEP_SECONDS", "0.01")
    # A region of its own per test keeps tests independent of the shared registry.
    return get_backend(ACCOUNT, f"test-{request.node.name[:40]}")


def _group(b: PersonalizeBackend, name: str = "g") -> str:
    arn = b.handle("CreateDatasetGroup", {"name": name})["datasetGroupArn"]
    wait_active(lambda: b.handle("DescribeDatasetGroup", {"datasetGroupArn": arn})["datasetGroup"])
    return str(arn)


def test_dataset_group_moves_from_create_pending_to_active(backend: PersonalizeBackend) -> None:
    arn = backend.handle("CreateDatasetGroup", {"name": "g"})["datasetGroupArn"]
    first = backend.handle("DescribeDatasetGroup", {"datasetGroupArn": arn})["datasetGroup"]["status"]
    assert first == "CREATE PENDING"
    final = wait_active(
        lambda: backend.handle("DescribeDatasetGroup", {"datasetGroupArn": arn})["datasetGroup"]
    )
    assert final["status"] == "ACTIVE"
    assert arn == f"arn:aws:personalize:{backend.region}:{ACCOUNT}:dataset-group/g"


def test_duplicate_names_are_refused(backend: PersonalizeBackend) -> None:
    _group(backend)
    with pytest.raises(ResourceAlreadyExistsException):
        backend.handle("CreateDatasetGroup", {"name": "g"})


def test_datasets_need_an_active_group_and_a_matching_schema(backend: PersonalizeBackend) -> None:
    group = _group(backend)
    users_schema = (schema_dir() / "personalize" / "users.json").read_text()
    schema = backend.handle("CreateSchema", {"name": "users", "schema": users_schema})["schemaArn"]
    with pytest.raises(InvalidInputException, match="not valid for Interactions"):
        backend.handle(
            "CreateDataset",
            {"name": "d", "schemaArn": schema, "datasetGroupArn": group, "datasetType": "Interactions"},
        )


def test_schema_in_use_cannot_be_deleted(backend: PersonalizeBackend) -> None:
    group = _group(backend)
    text = (schema_dir() / "personalize" / "interactions.json").read_text()
    schema = backend.handle("CreateSchema", {"name": "i", "schema": text})["schemaArn"]
    backend.handle(
        "CreateDataset",
        {"name": "d", "schemaArn": schema, "datasetGroupArn": group, "datasetType": "Interactions"},
    )
    with pytest.raises(ResourceInUseException):
        backend.handle("DeleteSchema", {"schemaArn": schema})
    with pytest.raises(ResourceInUseException):
        backend.handle("DeleteDatasetGroup", {"datasetGroupArn": group})


def test_import_from_a_missing_bucket_fails_with_a_reason(backend: PersonalizeBackend) -> None:
    group = _group(backend)
    text = (schema_dir() / "personalize" / "interactions.json").read_text()
    schema = backend.handle("CreateSchema", {"name": "i", "schema": text})["schemaArn"]
    dataset = backend.handle(
        "CreateDataset",
        {"name": "d", "schemaArn": schema, "datasetGroupArn": group, "datasetType": "Interactions"},
    )["datasetArn"]
    wait_active(lambda: backend.handle("DescribeDataset", {"datasetArn": dataset})["dataset"])
    job = backend.handle(
        "CreateDatasetImportJob",
        {
            "jobName": "j",
            "datasetArn": dataset,
            "dataSource": {"dataLocation": "s3://no-such-bucket-h5/x.csv"},
        },
    )["datasetImportJobArn"]
    done = wait_active(
        lambda: backend.handle("DescribeDatasetImportJob", {"datasetImportJobArn": job})["datasetImportJob"]
    )
    assert done["status"] == "CREATE FAILED"
    assert "no-such-bucket-h5" in done["failureReason"]


def _empty_solution(b: PersonalizeBackend) -> str:
    """An ACTIVE popularity-count solution in a dataset group that holds no data."""
    solution = b.handle(
        "CreateSolution",
        {
            "name": "s",
            "datasetGroupArn": _group(b),
            "recipeArn": "arn:aws:personalize:::recipe/aws-popularity-count",
        },
    )["solutionArn"]
    wait_active(lambda: b.handle("DescribeSolution", {"solutionArn": solution})["solution"])
    return str(solution)


def test_training_without_data_fails_instead_of_hanging(backend: PersonalizeBackend) -> None:
    solution = _empty_solution(backend)
    version = backend.handle("CreateSolutionVersion", {"solutionArn": solution})["solutionVersionArn"]
    done = wait_active(
        lambda: backend.handle("DescribeSolutionVersion", {"solutionVersionArn": version})["solutionVersion"]
    )
    assert done["status"] == "CREATE FAILED"
    assert "no interactions" in done["failureReason"]


def test_a_stopped_version_ends_create_stopped_at_the_next_step(
    backend: PersonalizeBackend, monkeypatch: pytest.MonkeyPatch
) -> None:
    solution = _empty_solution(backend)
    monkeypatch.setenv("LOCAL_STACK_PERSONALIZE_STEP_SECONDS", "0.5")  # room to ask for the stop in time
    version = backend.handle("CreateSolutionVersion", {"solutionArn": solution})["solutionVersionArn"]
    backend.handle("StopSolutionVersionCreation", {"solutionVersionArn": version})

    def status() -> str:
        return str(
            backend.handle("DescribeSolutionVersion", {"solutionVersionArn": version})["solutionVersion"][
                "status"
            ]
        )

    assert status() == "CREATE STOPPING"
    for _ in range(300):
        if status() != "CREATE STOPPING":
            break
        time.sleep(0.01)
    assert status() == "CREATE STOPPED"  # not CREATE FAILED: training (which finds no data) never ran


def test_unknown_recipe_is_refused(backend: PersonalizeBackend) -> None:
    group = _group(backend)
    with pytest.raises(InvalidInputException, match="not supported"):
        backend.handle(
            "CreateSolution",
            {"name": "s", "datasetGroupArn": group, "recipeArn": "arn:aws:personalize:::recipe/aws-magic"},
        )


def test_auto_training_defaults_to_aws_schedule(backend: PersonalizeBackend) -> None:
    group = _group(backend)
    arn = backend.handle(
        "CreateSolution",
        {"name": "s", "datasetGroupArn": group, "recipeArn": "arn:aws:personalize:::recipe/aws-sims"},
    )["solutionArn"]
    solution = backend.handle("DescribeSolution", {"solutionArn": arn})["solution"]
    assert solution["performAutoTraining"] is True
    assert solution["solutionConfig"]["autoTrainingConfig"] == {"schedulingExpression": "rate(7 days)"}


def test_one_event_tracker_per_dataset_group(backend: PersonalizeBackend) -> None:
    group = _group(backend)
    backend.handle("CreateEventTracker", {"name": "t1", "datasetGroupArn": group})
    with pytest.raises(ResourceAlreadyExistsException):
        backend.handle("CreateEventTracker", {"name": "t2", "datasetGroupArn": group})


def test_runtime_on_a_missing_campaign_is_not_found(backend: PersonalizeBackend) -> None:
    with pytest.raises(ResourceNotFoundException):
        backend.handle(
            "GetRecommendations",
            {"campaignArn": f"arn:aws:personalize:us-east-1:{ACCOUNT}:campaign/none", "userId": "u"},
        )


def test_state_round_trips_through_the_state_dir(backend: PersonalizeBackend, tmp_path: Path) -> None:
    group = _group(backend, "persisted")
    backend.handle("TagResource", {"resourceArn": group, "tags": [{"tagKey": "k", "tagValue": "v"}]})
    save_state(tmp_path)
    key = (backend.account_id, backend.region)
    del backend_module._BACKENDS[key]
    assert load_state(tmp_path) >= 1
    restored = get_backend(*key)
    assert restored is not backend
    assert (
        restored.handle("DescribeDatasetGroup", {"datasetGroupArn": group})["datasetGroup"]["status"]
        == "ACTIVE"
    )
    assert restored.handle("ListTagsForResource", {"resourceArn": group})["tags"] == [
        {"tagKey": "k", "tagValue": "v"}
    ]


def test_jobs_running_at_shutdown_come_back_failed() -> None:
    b = PersonalizeBackend(ACCOUNT, "test-restart")
    b.resources["solution-version"]["arn:x"] = {"status": "CREATE IN_PROGRESS", "solutionVersionArn": "arn:x"}
    b.resources["dataset-group"]["arn:g"] = {"status": "CREATE PENDING", "datasetGroupArn": "arn:g"}
    restored: PersonalizeBackend = pickle.loads(pickle.dumps(b))  # noqa: S301
    assert restored.resources["solution-version"]["arn:x"]["status"] == "CREATE FAILED"
    assert "stopped" in restored.resources["solution-version"]["arn:x"]["failureReason"]
    assert restored.resources["dataset-group"]["arn:g"]["status"] == "ACTIVE"


def test_handle_validates_against_the_model_before_running(backend: PersonalizeBackend) -> None:
    with pytest.raises(InvalidInputException, match="validation error"):
        backend.handle(
            "CreateFilter", {"name": "f", "datasetGroupArn": "not-an-arn", "filterExpression": "x"}
        )
    assert json.loads(json.dumps(backend.handle("ListDatasetGroups", {"maxResults": 1}), default=str))


def test_every_implemented_operation_exists_in_botocore_models() -> None:
    from local_stack.personalize.shapes import service_model

    known = {
        op
        for svc in ("personalize", "personalize-runtime", "personalize-events")
        for op in service_model(svc).operation_names
    }
    implemented = {name[3:] for name in dir(PersonalizeBackend) if name.startswith("op_")}
    assert implemented - known == set()
    assert len(implemented) >= 50
