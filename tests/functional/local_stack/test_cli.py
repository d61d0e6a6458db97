"""`python -m local_stack up|status|down` as a user runs it, with a state dir surviving a restart."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import boto3
import pytest

from local_stack.process import free_port

pytestmark = pytest.mark.functional


def _cli(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "local_stack", *args], env=env, capture_output=True, text=True, timeout=120
    )


def test_up_down_are_idempotent_and_state_dir_survives_restart(tmp_path: Path) -> None:
    port = str(free_port())
    env = {**os.environ, "LOCAL_STACK_HOME": str(tmp_path / "home"), "LOCAL_STACK_PORT": port}
    state = str(tmp_path / "state")
    try:
        assert _cli("status", env=env).returncode == 3
        assert _cli("up", "--state-dir", state, env=env).returncode == 0
        again = _cli("up", "--state-dir", state, env=env)
        assert again.returncode == 0 and "already running" in again.stdout
        assert _cli("status", env=env).returncode == 0
        client = boto3.client(
            "personalize",
            endpoint_url=f"http://127.0.0.1:{port}",
            region_name="us-east-1",
            aws_access_key_id="t",
            aws_secret_access_key="t",
        )
        arn = client.create_dataset_group(name="survivor")["datasetGroupArn"]
        assert _cli("down", env=env).returncode == 0
        assert _cli("up", "--state-dir", state, env=env).returncode == 0
        assert client.describe_dataset_group(datasetGroupArn=arn)["datasetGroup"]["name"] == "survivor"
    finally:
        assert _cli("down", env=env).returncode == 0
    second = _cli("down", env=env)
    assert second.returncode == 0 and "not running" in second.stdout
    assert list((tmp_path / "home").glob("*.log"))
