"""Settings from the environment, and the environment rendered from Terraform outputs + the project config."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from chalicelib.errors import SettingsError
from chalicelib.settings import (
    Settings,
    filter_placeholders,
    optional_placeholders,
    render_chalice_config,
    render_chalice_stage,
    render_environment,
)
from pipeline.config import load_config

ARN = "arn:aws:personalize:eu-west-1:123456789012"
TF_OUTPUTS = {
    "bucket_name": "braze-recs-data-123456789012",
    "dataset_group_arn": "arn:aws:personalize:eu-west-1:123456789012:dataset-group/braze-recs",
    "api_role_arn": "arn:aws:iam::123456789012:role/braze-recs-api",
    "api_key_parameter_name": "/braze-recs/api-keys",
    "filter_arns": {
        "exclude-interacted": f"{ARN}:filter/braze-recs-exclude-interacted",
        "braze-recs-exclude-purchased": f"{ARN}:filter/braze-recs-exclude-purchased",
        "in-category": f"{ARN}:filter/braze-recs-in-category",
    },
    "campaign_arns": {
        "user-personalization": f"{ARN}:campaign/braze-recs-user-personalization",
        "similar-items": f"{ARN}:campaign/braze-recs-similar-items",
        "ranking": f"{ARN}:campaign/braze-recs-ranking",
    },
}


def test_renders_every_setting_the_api_reads_from_the_shipped_config() -> None:
    env = render_environment(TF_OUTPUTS, load_config(), endpoint_url="http://127.0.0.1:4566")
    assert (
        env["CAMPAIGN_ARN"]
        == "arn:aws:personalize:eu-west-1:123456789012:campaign/braze-recs-user-personalization"
    )
    assert env["RELATED_CAMPAIGN_ARN"].endswith(":campaign/braze-recs-similar-items")
    assert env["RANKING_CAMPAIGN_ARN"].endswith(":campaign/braze-recs-ranking")
    assert env["FALLBACK_KEY"] == "artifacts/fallback/popular.json"
    assert env["CATALOG_KEY"] == "artifacts/catalog/items.csv"
    assert env["AWS_ENDPOINT_URL"] == "http://127.0.0.1:4566"
    assert set(json.loads(env["FILTER_ARNS"])) == {"exclude-interacted", "exclude-purchased", "in-category"}
    assert json.loads(env["FILTER_PLACEHOLDERS"])["in-category"] == ["CATEGORY"]
    settings = Settings.from_env(env)
    assert settings.default_filter == "exclude-interacted"
    assert settings.backend_timeout_ms == 800
    assert settings.cache_ttl_seconds == 300
    assert settings.filter_placeholders["in-category"] == ("CATEGORY",)
    assert settings.ranking_campaign_arn == env["RANKING_CAMPAIGN_ARN"]
    assert all(isinstance(v, str) for v in env.values())


def test_aws_environment_has_no_endpoint_override() -> None:
    assert "AWS_ENDPOINT_URL" not in render_environment(TF_OUTPUTS, load_config())


def test_chalice_stage_uses_the_terraform_role_and_no_managed_role() -> None:
    stage = render_chalice_stage(TF_OUTPUTS, load_config())
    assert stage["manage_iam_role"] is False
    assert stage["iam_role_arn"] == TF_OUTPUTS["api_role_arn"]
    assert stage["environment_variables"]["BUCKET"] == TF_OUTPUTS["bucket_name"]


def test_rejects_a_default_filter_terraform_did_not_create() -> None:
    outputs = {**TF_OUTPUTS, "filter_arns": {}}
    with pytest.raises(SettingsError) as info:
        render_environment(outputs, load_config())
    assert info.value.variable == "api.default_filter"


def test_rejects_outputs_without_the_configured_campaign_and_says_to_apply() -> None:
    with pytest.raises(SettingsError, match="make apply"):
        render_environment({**TF_OUTPUTS, "campaign_arns": {"similar-items": "x"}}, load_config())


@pytest.mark.parametrize(
    ("change", "variable"),
    [
        ({"CAMPAIGN_ARN": ""}, "CAMPAIGN_ARN"),
        ({"BACKEND_TIMEOUT_MS": "fast"}, "BACKEND_TIMEOUT_MS"),
        ({"BACKEND_TIMEOUT_MS": "5000"}, "BACKEND_TIMEOUT_MS"),
        ({"FILTER_ARNS": "[1]"}, "FILTER_ARNS"),
        ({"FILTER_ARNS": "{nope"}, "FILTER_ARNS"),
        ({"DEFAULT_FILTER": "missing"}, "DEFAULT_FILTER"),
    ],
)
def test_names_the_environment_variable_that_is_wrong(change: dict[str, str], variable: str) -> None:
    env = {**render_environment(TF_OUTPUTS, load_config()), **change}
    with pytest.raises(SettingsError) as info:
        Settings.from_env(env)
    assert info.value.variable == variable


def test_finds_placeholders_in_filter_expressions() -> None:
    expression = (
        "INCLUDE ItemID WHERE Items.CATEGORY_L1 IN ($CATEGORY) AND Items.PRICE < $MAX_PRICE"
        " OR Items.X IN ($CATEGORY)"
    )
    assert filter_placeholders(expression) == ["CATEGORY", "MAX_PRICE"]
    assert filter_placeholders('EXCLUDE ItemID WHERE Interactions.EVENT_TYPE IN ("*")') == []


def test_placeholders_only_in_exclude_parts_are_optional() -> None:
    expression = (
        "EXCLUDE ItemID WHERE Items.CATEGORY_L1 IN ($SKIP) | "
        "INCLUDE ItemID WHERE Items.CATEGORY_L2 IN ($KEEP) AND Items.CATEGORY_L1 NOT IN ($SKIP2)"
    )
    assert optional_placeholders(expression) == ["SKIP"]
    assert optional_placeholders("INCLUDE ItemID WHERE Items.CATEGORY_L1 IN ($CATEGORY)") == []


def test_a_missing_terraform_output_is_named() -> None:
    outputs = {k: v for k, v in TF_OUTPUTS.items() if k != "bucket_name"}
    with pytest.raises(SettingsError) as info:
        render_environment(outputs, load_config())
    assert info.value.variable == "bucket_name"


def test_the_deploy_config_names_the_app_after_the_project_and_fills_the_stage() -> None:
    base = json.loads((Path(__file__).resolve().parents[3] / "chalice_app/.chalice/config.json").read_text())
    rendered = render_chalice_config(base, TF_OUTPUTS, load_config(), stage="aws")
    assert rendered["app_name"] == "braze-recs-api"
    assert rendered["stages"]["aws"]["iam_role_arn"] == TF_OUTPUTS["api_role_arn"]
    assert rendered["stages"]["aws"]["manage_iam_role"] is False
    assert rendered["stages"]["local"] == base["stages"]["local"]
    assert base["stages"]["aws"]["environment_variables"] == {}  # the repo file is left untouched
