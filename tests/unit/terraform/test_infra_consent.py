"""pipeline.infra asks before it changes anything: saved plans, AUTO_APPROVE, CONFIRM, stages."""

from __future__ import annotations

from pathlib import Path

import pytest
from pipeline import infra


@pytest.fixture(autouse=True)
def no_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    """As in CI: nobody to ask."""
    monkeypatch.setattr("sys.stdin.isatty", lambda: False)
    monkeypatch.delenv("STAGE", raising=False)


def test_destroy_without_confirm_refuses_and_names_the_command() -> None:
    with pytest.raises(infra.InfraError, match="CONFIRM=local"):
        infra.run("destroy", "local")


def test_destroy_confirmed_for_another_environment_refuses() -> None:
    with pytest.raises(infra.InfraError, match="STAGE=production CONFIRM=production"):
        infra.run("destroy", "aws", stage="production", confirm="staging")


def test_aws_needs_a_stage() -> None:
    with pytest.raises(infra.InfraError, match="STAGE=staging or STAGE=production"):
        infra.run("plan", "aws")


def test_the_stage_comes_from_the_environment_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STAGE", "production")
    assert infra.environment_name("aws") == "production"
    assert infra.environment_name("local") == "local"


def test_each_stage_keeps_its_own_terraform_data(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("BP_TF_STATE_DIR", raising=False)
    assert infra.state_dir("aws", "staging") != infra.state_dir("aws", "production")
    assert infra.state_dir("aws", "staging").name == "aws-staging"


def test_apply_to_aws_without_plan_terminal_or_auto_approve_refuses() -> None:
    with pytest.raises(infra.InfraError, match="refusing to apply without consent") as caught:
        infra.run("apply", "aws", stage="staging")
    assert "make plan ENV=aws STAGE=staging PLAN=" in str(caught.value)
    assert "AUTO_APPROVE=1" in str(caught.value)


def test_a_plan_saved_for_another_environment_is_not_applied(tmp_path: Path) -> None:
    plan = tmp_path / "staging.tfplan"
    plan.write_bytes(b"not really a plan")
    (tmp_path / "staging.tfplan.env").write_text("staging\n")
    with pytest.raises(infra.InfraError, match="saved for staging, not production"):
        infra.run("apply", "aws", stage="production", plan_file=plan)


def test_a_plan_applied_already_is_not_applied_again(tmp_path: Path) -> None:
    plan = tmp_path / "staging.tfplan"
    plan.write_bytes(b"not really a plan")  # its .env label is removed once it is applied
    with pytest.raises(infra.InfraError, match="applied already") as caught:
        infra.run("apply", "aws", stage="staging", plan_file=plan)
    assert f"make plan ENV=aws STAGE=staging PLAN={plan}" in str(caught.value)


def test_a_plan_file_that_does_not_exist_is_reported(tmp_path: Path) -> None:
    with pytest.raises(infra.InfraError, match="no such plan file"):
        infra.run("apply", "aws", stage="staging", plan_file=tmp_path / "missing.tfplan")


def test_a_stage_without_backend_config_points_to_bootstrap(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BP_REPO_ROOT", str(tmp_path))
    monkeypatch.setenv("BP_TF_STATE_DIR", str(tmp_path / "state"))
    (tmp_path / "terraform" / "envs" / "aws").mkdir(parents=True)
    with pytest.raises(infra.InfraError, match="make bootstrap ENV=aws STAGE=staging"):
        infra.init("aws", stage="staging")


def test_bootstrap_writes_the_stage_backend_and_its_failover_through_the_replica(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BP_REPO_ROOT", str(tmp_path))
    (tmp_path / "terraform" / "envs" / "aws" / "stages").mkdir(parents=True)
    outputs = {
        "backend_config": {"value": 'bucket = "tfstate-staging"\nregion = "eu-west-1"\n'},
        "failover_backend_config": {"value": 'bucket = "tfstate-staging-dr"\nregion = "eu-central-1"\n'},
    }
    written = infra.write_backend_configs("staging", outputs)
    stages = tmp_path / "terraform" / "envs" / "aws" / "stages"
    assert written == stages / "staging.backend.hcl"
    assert 'bucket = "tfstate-staging"' in written.read_text(encoding="utf-8")
    failover = (stages / "staging.failover.backend.hcl").read_text(encoding="utf-8")
    assert 'bucket = "tfstate-staging-dr"' in failover and 'region = "eu-central-1"' in failover
    assert "region is down" in failover
