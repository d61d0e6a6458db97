from __future__ import annotations

import io
from pathlib import Path

import pytest

from pipeline.demo import DemoError, _first_users, _python, _Stages
from pipeline.lifecycle.context import Progress
from pipeline.lifecycle.errors import LifecycleError, ValidationFailedError


def test_each_stage_is_timed_and_reported_in_the_table() -> None:
    stages = _Stages(Progress(io.StringIO()))
    assert stages.run("one", lambda: 41 + 1) == 42
    stages.run("two", lambda: None)
    table = stages.table()
    assert [line.split()[0] for line in table.splitlines()] == ["one", "two", "total"]


def test_a_failed_stage_names_the_stage_and_keeps_what_to_do() -> None:
    def fail() -> None:
        raise ValidationFailedError("data/sample", "3 validation error(s)", "fix the data")

    stages = _Stages(Progress(io.StringIO()))
    with pytest.raises(DemoError) as err:
        stages.run("validate", fail)
    assert err.value.where == "stage 'validate'"
    assert "fix the data" in str(err.value)
    assert stages.timings == []


def test_demo_users_are_the_first_distinct_users_of_the_interactions(tmp_path: Path) -> None:
    (tmp_path / "interactions.csv").write_text(
        "USER_ID,ITEM_ID,TIMESTAMP,EVENT_TYPE,EVENT_VALUE\nU2,P1,1,View,\nU2,P2,2,View,\nU1,P1,3,View,\nU3,P1,4,View,\n"
    )
    assert _first_users(tmp_path, 2) == ["U2", "U1"]


def test_a_noisy_step_goes_to_a_log_and_a_failure_shows_its_tail(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LOCAL_STACK_HOME", str(tmp_path))
    script = "import sys\nfor i in range(100): print('line', i)\nsys.exit(3)"
    with pytest.raises(LifecycleError) as err:
        _python("-c", script, log_name="step.log")
    assert "exited with code 3" in err.value.why
    assert "line 99" in err.value.why and "line 10\n" not in err.value.why
    assert "line 0" in (tmp_path / "step.log").read_text()
