"""pipeline.infra's Terraform plumbing: the provider-mirror CLI config and clear errors."""

from __future__ import annotations

from pathlib import Path

import pytest
from pipeline import infra


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("BP_REPO_ROOT", str(tmp_path))
    monkeypatch.delenv("TF_CLI_CONFIG_FILE", raising=False)
    return tmp_path


def test_writes_the_makefile_mirror_config_when_no_cli_config_is_set(
    repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TF_PROVIDER_MIRROR", "/mirror/providers")
    path = infra.ensure_cli_config()
    assert path == repo / ".terraform.d" / "cli.tfrc"
    text = path.read_text(encoding="utf-8")
    assert 'path    = "/mirror/providers"' in text
    assert 'include = ["registry.terraform.io/hashicorp/*"]' in text
    assert 'exclude = ["registry.terraform.io/hashicorp/*"]' in text
    assert infra.terraform_env()["TF_CLI_CONFIG_FILE"] == str(path)


def test_regenerates_the_config_when_tf_cli_config_file_points_to_a_missing_file(
    repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TF_CLI_CONFIG_FILE", str(repo / "gone.tfrc"))
    monkeypatch.setenv("TF_PROVIDER_MIRROR", "/mirror/providers")
    assert infra.ensure_cli_config() == repo / ".terraform.d" / "cli.tfrc"


def test_keeps_an_existing_cli_config(repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    mine = repo / "mine.tfrc"
    mine.write_text("# user config\n", encoding="utf-8")
    monkeypatch.setenv("TF_CLI_CONFIG_FILE", str(mine))
    monkeypatch.setenv("TF_PROVIDER_MIRROR", "/mirror/providers")
    assert infra.ensure_cli_config() == mine
    assert not (repo / ".terraform.d").exists()


def test_leaves_terraform_defaults_alone_without_a_mirror(
    repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TF_PROVIDER_MIRROR", "")
    (repo / "scripts").mkdir()
    (repo / "scripts" / "find-provider-mirror").write_text("#!/usr/bin/env bash\nexit 0\n", encoding="utf-8")
    assert infra.ensure_cli_config() is None
    assert "TF_CLI_CONFIG_FILE" not in infra.terraform_env()


def test_terraform_runs_with_a_lazier_go_collector_unless_the_user_set_one(
    repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TF_PROVIDER_MIRROR", "/mirror/providers")
    monkeypatch.delenv("GOGC", raising=False)
    assert infra.terraform_env()["GOGC"] == infra.TERRAFORM_GOGC
    monkeypatch.setenv("GOGC", "150")
    assert infra.terraform_env()["GOGC"] == "150"


def test_local_env_gets_the_endpoint_from_local_stack_port(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    monkeypatch.setenv("LOCAL_STACK_PORT", "4777")
    assert infra.local_endpoint() == "http://127.0.0.1:4777"


def test_refuses_an_unknown_environment() -> None:
    with pytest.raises(infra.InfraError, match="unknown environment"):
        infra.env_dir("staging")


def test_apply_on_local_says_to_start_the_local_stack_when_it_is_down(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import socket

    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    monkeypatch.setenv("LOCAL_STACK_PORT", str(port))
    with pytest.raises(infra.InfraError, match="make local-up"):
        infra.run("apply", "local")


def test_terraform_gets_its_environment_per_call_and_the_process_environment_stays_untouched(
    repo: Path, tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    import os
    import threading
    import time

    (repo / "terraform" / "envs" / "local").mkdir(parents=True)
    bin_dir = tmp_path_factory.mktemp("bin")
    seen, started, release = bin_dir / "env.txt", bin_dir / "started", bin_dir / "release"
    # A terraform that records its environment, then holds until the test has looked at os.environ.
    fake = bin_dir / "terraform"
    fake.write_text(
        f'#!/bin/sh\nenv > "{seen}"\ntouch "{started}"\n'
        f'i=0; while [ ! -f "{release}" ] && [ $i -lt 600 ]; do sleep 0.05; i=$((i+1)); done\n',
        encoding="utf-8",
    )
    fake.chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setenv("BP_TF_STATE_DIR", str(repo / "state"))
    monkeypatch.setenv("TF_PROVIDER_MIRROR", "/mirror/providers")
    monkeypatch.delenv("TF_DATA_DIR", raising=False)
    monkeypatch.delenv("TF_IN_AUTOMATION", raising=False)
    before = dict(os.environ)
    errors: list[BaseException] = []

    def run_init() -> None:
        try:
            infra.init("local", capture=True)
        except BaseException as exc:  # reported by the main thread
            errors.append(exc)

    worker = threading.Thread(target=run_init)
    worker.start()
    try:
        for _ in range(600):  # terraform is running once `started` exists
            if started.exists() or not worker.is_alive():
                break
            time.sleep(0.05)
        during = dict(os.environ)
    finally:
        release.touch()
        worker.join(timeout=60)
    assert not errors
    assert during == before
    assert dict(os.environ) == before
    child = dict(line.split("=", 1) for line in seen.read_text(encoding="utf-8").splitlines() if "=" in line)
    assert child["TF_DATA_DIR"] == str(repo / "state" / ".terraform")
    assert child["TF_IN_AUTOMATION"] == "1"
    assert child["TF_CLI_CONFIG_FILE"] == str(repo / ".terraform.d" / "cli.tfrc")
    assert child["PATH"] == os.environ["PATH"]
