"""UpdateSolution in-process: its status flow, one update at a time, and what it may change."""

from __future__ import annotations

import pytest

from local_stack.personalize.backend import PersonalizeBackend
from local_stack.personalize.errors import InvalidInputException, ResourceInUseException
from tests.emulator_setup import active_group, active_solution, wait_active

EVENTS = {"eventParametersList": [{"eventType": "Purchase", "weight": 1.0}]}


def _solution(monkeypatch: pytest.MonkeyPatch, recipe: str) -> tuple[PersonalizeBackend, str]:
    monkeypatch.setenv("LOCAL_STACK_PERSONALIZE_STEP_SECONDS", "0.0")
    b = PersonalizeBackend("123456789012", "test-solution-update")
    return b, active_solution(b, active_group(b), recipe)


def test_a_second_update_while_one_is_pending_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    b, arn = _solution(monkeypatch, "aws-user-personalization-v2")
    monkeypatch.setenv("LOCAL_STACK_PERSONALIZE_STEP_SECONDS", "30")  # the update stays pending
    b.handle("UpdateSolution", {"solutionArn": arn, "solutionUpdateConfig": {"eventsConfig": EVENTS}})
    described = b.handle("DescribeSolution", {"solutionArn": arn})["solution"]
    assert described["latestSolutionUpdate"]["status"] == "CREATE PENDING"
    assert "eventsConfig" not in described["solutionConfig"]  # applied only once the update is ACTIVE
    with pytest.raises(ResourceInUseException, match="update in progress"):
        b.handle("UpdateSolution", {"solutionArn": arn, "performAutoTraining": False})


def test_an_update_applies_its_settings_once_active(monkeypatch: pytest.MonkeyPatch) -> None:
    b, arn = _solution(monkeypatch, "aws-personalized-ranking-v2")
    b.handle(
        "UpdateSolution",
        {"solutionArn": arn, "performAutoTraining": False, "solutionUpdateConfig": {"eventsConfig": EVENTS}},
    )
    wait_active(
        lambda: b.handle("DescribeSolution", {"solutionArn": arn})["solution"]["latestSolutionUpdate"]
    )
    described = b.handle("DescribeSolution", {"solutionArn": arn})["solution"]
    assert described["solutionConfig"]["eventsConfig"] == EVENTS
    assert described["performAutoTraining"] is False


def test_event_weights_are_refused_on_a_v1_solution(monkeypatch: pytest.MonkeyPatch) -> None:
    b, arn = _solution(monkeypatch, "aws-user-personalization")
    with pytest.raises(InvalidInputException, match="does not support an events configuration"):
        b.handle("UpdateSolution", {"solutionArn": arn, "solutionUpdateConfig": {"eventsConfig": EVENTS}})
