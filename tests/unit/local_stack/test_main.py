from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from local_stack.__main__ import main


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("LOCAL_STACK_HOME", str(tmp_path))
    return tmp_path


def test_down_without_a_pid_file_is_a_no_op(home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["down", "--port", "1"]) == 0
    assert "not running" in capsys.readouterr().out


def test_down_removes_a_stale_pid_file(home: Path) -> None:
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    pid_file = home / "local_stack-1.pid"
    pid_file.write_text(str(dead.pid))
    assert main(["down", "--port", "1"]) == 0
    assert not pid_file.exists()


def test_status_reports_not_running_with_exit_code_3(home: Path) -> None:
    assert main(["status", "--port", "1"]) == 3
