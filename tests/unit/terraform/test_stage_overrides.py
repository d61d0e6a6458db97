"""config/project.yaml's overrides: the stage's settings merged over the base ones, as Terraform does."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from pipeline.config import ConfigError, apply_overrides, load_config
from pipeline.paths import config_path


def _config(tmp_path: Path, **changes: Any) -> Path:
    data = yaml.safe_load(config_path().read_text(encoding="utf-8"))
    data.update(changes)
    path = tmp_path / "project.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path


def test_without_a_stage_the_base_settings_apply(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("STAGE", raising=False)
    config = load_config()
    assert config["api_limits"] == yaml.safe_load(config_path().read_text())["api_limits"]


def test_a_stage_overrides_limits_recipients_and_campaign_tps(tmp_path: Path) -> None:
    path = _config(
        tmp_path,
        overrides={
            "production": {
                "api_limits": {"reserved_concurrency": 77},
                "monitoring": {"alarm_emails": ["oncall@example.com"]},
                "campaigns": {"user-personalization": {"min_provisioned_tps": 9}},
            }
        },
    )
    base = load_config(path, stage="staging")
    prod = load_config(path, stage="production")
    assert prod["api_limits"]["reserved_concurrency"] == 77
    # Keys the stage does not name keep their base values.
    assert prod["api_limits"]["throttle_rate_limit"] == base["api_limits"]["throttle_rate_limit"]
    assert prod["monitoring"]["alarm_emails"] == ["oncall@example.com"]
    tps = {c["name"]: c["min_provisioned_tps"] for c in prod["campaigns"]}
    assert tps["user-personalization"] == 9
    assert (
        tps["similar-items"]
        == {c["name"]: c for c in base["campaigns"]}["similar-items"]["min_provisioned_tps"]
    )


def test_the_stage_variable_selects_the_overrides(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = _config(tmp_path, overrides={"staging": {"api_limits": {"throttle_burst_limit": 3}}})
    monkeypatch.setenv("STAGE", "staging")
    assert load_config(path)["api_limits"]["throttle_burst_limit"] == 3


def test_overriding_an_unknown_campaign_is_an_error(tmp_path: Path) -> None:
    path = _config(
        tmp_path, overrides={"staging": {"campaigns": {"no-such-campaign": {"min_provisioned_tps": 2}}}}
    )
    with pytest.raises(ConfigError, match="overrides/staging/campaigns/no-such-campaign"):
        load_config(path)


def test_an_unknown_environment_in_overrides_breaks_the_schema(tmp_path: Path) -> None:
    path = _config(tmp_path, overrides={"qa": {}})
    with pytest.raises(ConfigError, match="overrides"):
        load_config(path)


def test_apply_overrides_leaves_the_base_config_unchanged() -> None:
    base: dict[str, Any] = {
        "campaigns": [{"name": "a", "min_provisioned_tps": 1}],
        "overrides": {"staging": {"campaigns": {"a": {"min_provisioned_tps": 4}}}},
    }
    merged = apply_overrides(base, "staging")
    assert merged["campaigns"][0]["min_provisioned_tps"] == 4
    assert base["campaigns"][0]["min_provisioned_tps"] == 1
