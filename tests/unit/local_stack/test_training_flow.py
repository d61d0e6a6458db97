"""Import, train, serve and persist in-process: the data path behind the HTTP API."""

from __future__ import annotations

import pickle
import time
from typing import Any

import pytest

from local_stack.personalize.backend import PersonalizeBackend
from pipeline.paths import schema_dir


def _wait(describe: Any) -> dict[str, Any]:
    for _ in range(3000):
        resource = describe()
        if resource.get("status") in ("ACTIVE", "CREATE FAILED"):
            return dict(resource)
        time.sleep(0.01)
    raise AssertionError(resource)


def _csv(n_users: int = 150, per_user: int = 8) -> bytes:
    rows = ["USER_ID,ITEM_ID,TIMESTAMP,EVENT_TYPE,EVENT_VALUE"]
    for u in range(n_users):
        for k in range(per_user):
            rows.append(f"u{u},i{(u * 7 + k * k) % 40},{1_700_000_000 + u * 100 + k},View,")
    return ("\n".join(rows) + "\n").encode()


@pytest.fixture
def served(monkeypatch: pytest.MonkeyPatch) -> tuple[PersonalizeBackend, str, str]:
    monkeypatch.setenv("LOCAL_STACK_PERSONALIZE_STEP_SECONDS", "0.0")
    b = PersonalizeBackend("123456789012", "test-training-flow")
    group = b.handle("CreateDatasetGroup", {"name": "g"})["datasetGroupArn"]
    _wait(lambda: b.handle("DescribeDatasetGroup", {"datasetGroupArn": group})["datasetGroup"])
    text = (schema_dir() / "personalize" / "interactions.json").read_text()
    schema = b.handle("CreateSchema", {"name": "s", "schema": text})["schemaArn"]
    b.handle(
        "CreateDataset",
        {"name": "d", "schemaArn": schema, "datasetGroupArn": group, "datasetType": "Interactions"},
    )
    store = b.store_for(group)
    store.import_table("interactions", store.parse_csv("interactions", _csv()), incremental=False)
    solution = b.handle(
        "CreateSolution",
        {
            "name": "pop",
            "datasetGroupArn": group,
            "recipeArn": "arn:aws:personalize:::recipe/aws-popularity-count",
            "performAutoTraining": False,
        },
    )["solutionArn"]
    _wait(lambda: b.handle("DescribeSolution", {"solutionArn": solution})["solution"])
    version = b.handle("CreateSolutionVersion", {"solutionArn": solution})["solutionVersionArn"]
    done = _wait(
        lambda: b.handle("DescribeSolutionVersion", {"solutionVersionArn": version})["solutionVersion"]
    )
    assert done["status"] == "ACTIVE", done.get("failureReason")
    campaign = b.handle(
        "CreateCampaign",
        {
            "name": "c",
            "solutionVersionArn": version,
            "campaignConfig": {"syncWithLatestSolutionVersion": True},
        },
    )["campaignArn"]
    _wait(lambda: b.handle("DescribeCampaign", {"campaignArn": campaign})["campaign"])
    return b, solution, campaign


def test_trained_campaign_survives_a_pickle_round_trip(served: tuple[PersonalizeBackend, str, str]) -> None:
    backend, _, campaign = served
    before = backend.handle("GetRecommendations", {"campaignArn": campaign, "userId": "u1", "numResults": 5})
    restored: PersonalizeBackend = pickle.loads(pickle.dumps(backend))  # noqa: S301
    after = restored.handle("GetRecommendations", {"campaignArn": campaign, "userId": "u1", "numResults": 5})
    assert [i["itemId"] for i in after["itemList"]] == [i["itemId"] for i in before["itemList"]]


def test_campaign_synced_with_latest_version_follows_retraining(
    served: tuple[PersonalizeBackend, str, str],
) -> None:
    backend, solution, campaign = served
    newer = backend.handle("CreateSolutionVersion", {"solutionArn": solution})["solutionVersionArn"]
    _wait(lambda: backend.handle("DescribeSolutionVersion", {"solutionVersionArn": newer})["solutionVersion"])
    assert (
        backend.handle("DescribeCampaign", {"campaignArn": campaign})["campaign"]["solutionVersionArn"]
        == newer
    )


def test_training_below_the_minimum_interactions_fails_like_aws(
    served: tuple[PersonalizeBackend, str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    backend, solution, _ = served
    monkeypatch.setenv("LOCAL_STACK_PERSONALIZE_MIN_INTERACTIONS", "5000")
    version = backend.handle("CreateSolutionVersion", {"solutionArn": solution})["solutionVersionArn"]
    done = _wait(
        lambda: backend.handle("DescribeSolutionVersion", {"solutionVersionArn": version})["solutionVersion"]
    )
    assert done["status"] == "CREATE FAILED"
    assert "at least 5000" in done["failureReason"]
