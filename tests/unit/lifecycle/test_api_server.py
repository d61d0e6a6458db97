from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from pipeline.lifecycle.api_server import deploy_config, run_down, stop_api
from pipeline.lifecycle.context import Progress
from pipeline.paths import repo_root


def test_deploy_config_sets_the_terraform_role_and_api_environment(stubbed: Any) -> None:
    stubbed.ctx.env = "aws"
    base = json.loads((repo_root() / "chalice_app" / ".chalice" / "config.json").read_text())
    config = deploy_config(stubbed.ctx, base)
    stage = config["stages"]["aws"]
    assert stage["manage_iam_role"] is False
    assert stage["iam_role_arn"] == stubbed.ctx.outputs["api_role_arn"]
    assert stage["environment_variables"]["BUCKET"] == "braze-recs-data"
    assert "AWS_ENDPOINT_URL" not in stage["environment_variables"]
    assert base["stages"]["aws"]["iam_role_arn"] != stage["iam_role_arn"]  # the repo's config is untouched


def test_down_stops_the_background_api_and_is_idempotent(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LOCAL_STACK_HOME", str(tmp_path))
    server = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)"], start_new_session=True)
    (tmp_path / "api.pid").write_text(str(server.pid))
    progress = Progress(stream=io.StringIO())

    run_down(progress=progress)

    assert server.wait(timeout=30) is not None
    assert not (tmp_path / "api.pid").exists()
    assert stop_api(progress) is False
    run_down(progress=progress)  # nothing left to stop: still fine
