"""pipeline.tf_outputs: parsing `terraform output -json`, and an environment that was never applied."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pipeline.tf_outputs import REQUIRED_KEYS, OutputsError, parse_outputs, read_outputs


def test_unapplied_environment_fails_naming_the_missing_outputs_and_the_fix(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BP_TF_STATE_DIR", str(tmp_path / "state"))
    with pytest.raises(OutputsError, match=r"missing bucket_name, .*run `make apply ENV=local` first"):
        read_outputs("local")


def test_platform_outputs_come_back_as_top_level_keys_next_to_the_env_outputs() -> None:
    platform = {key: f"{key}-value" for key in REQUIRED_KEYS} | {"campaign_arns": {"main": "arn:campaign"}}
    raw = json.dumps(
        {
            "platform": {"sensitive": False, "type": ["object", {}], "value": platform},
            "endpoint_url": {"sensitive": False, "type": "string", "value": "http://127.0.0.1:4566"},
        }
    )
    values = parse_outputs("local", raw)
    assert "platform" not in values
    assert values["bucket_name"] == "bucket_name-value"
    assert values["campaign_arns"] == {"main": "arn:campaign"}
    assert values["endpoint_url"] == "http://127.0.0.1:4566"


def test_outputs_without_the_platform_object_fail_naming_the_missing_keys() -> None:
    raw = json.dumps({"endpoint_url": {"value": None}})
    with pytest.raises(OutputsError, match=r"missing bucket_name, kms_key_arn"):
        parse_outputs("aws", raw)
