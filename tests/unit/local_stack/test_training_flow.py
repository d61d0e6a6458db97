"""Import, train, serve and persist in-process: the data path behind the HTTP API."""

from __future__ import annotations

import pickle

import pytest

from local_stack.personalize.backend import PersonalizeBackend
from tests.emulator_setup import (
    active_group,
    active_solution,
    import_interactions,
    trained_campaign,
    wait_active,
)


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
    group = active_group(b)
    import_interactions(b, group, _csv())
    solution = active_solution(b, group, "aws-popularity-count", name="pop", performAutoTraining=False)
    _, campaign = trained_campaign(b, solution, {"syncWithLatestSolutionVersion": True})
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
    wait_active(
        lambda: backend.handle("DescribeSolutionVersion", {"solutionVersionArn": newer})["solutionVersion"]
    )
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
    done = wait_active(
        lambda: backend.handle("DescribeSolutionVersion", {"solutionVersionArn": version})["solutionVersion"]
    )
    assert done["status"] == "CREATE FAILED"
    assert "at least 5000" in done["failureReason"]
