"""Settings from the environment, and the environment rendered from Terraform outputs + the project config."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from chalicelib.errors import SettingsError
from chalicelib.settings import Settings, filter_spec
from pipeline.config import load_config
from pipeline.lifecycle.api_settings import render_chalice_config, render_chalice_stage, render_environment

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
        "trending": f"{ARN}:campaign/braze-recs-trending",
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
    assert env["CATALOG_KEY"] == "artifacts/catalog/catalog.bin"
    assert env["AWS_ENDPOINT_URL"] == "http://127.0.0.1:4566"
    filters = json.loads(env["FILTERS"])
    assert set(filters) == {"exclude-interacted", "exclude-purchased", "in-category"}
    assert filters["exclude-purchased"]["on_fallback"] == "empty"
    settings = Settings.from_env(env)
    assert settings.default_filter == "exclude-interacted"
    assert settings.deadline_ms == 1200
    assert settings.cache_ttl_seconds == 300
    assert settings.degraded_cache_seconds == 30
    assert settings.filters["in-category"].placeholders == ("CATEGORY",)
    assert settings.filters["in-category"].arn == f"{ARN}:filter/braze-recs-in-category"
    assert settings.ranking_campaign_arn == env["RANKING_CAMPAIGN_ARN"]
    assert settings.trending_campaign_arn == env["TRENDING_CAMPAIGN_ARN"]
    assert env["TRENDING_CAMPAIGN_ARN"].endswith(":campaign/braze-recs-trending")
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
        ({"DEADLINE_MS": "fast"}, "DEADLINE_MS"),
        ({"DEADLINE_MS": "5000"}, "DEADLINE_MS"),
        ({"DEGRADED_CACHE_SECONDS": "60"}, "DEGRADED_CACHE_SECONDS"),
        ({"FILTERS": "[1]"}, "FILTERS"),
        ({"FILTERS": "{nope"}, "FILTERS"),
        ({"FILTERS": '{"f": {"arn": "a", "expression": "INCLUDE ItemID"}}'}, "FILTERS[f]"),
        (
            {
                "FILTERS": '{"f": {"arn": "a", "expression": "EXCLUDE ItemID WHERE Items.X IN (\\"a\\")", '
                '"on_fallback": "maybe"}}'
            },
            "FILTERS[f].on_fallback",
        ),
        ({"DEFAULT_FILTER": "missing"}, "DEFAULT_FILTER"),
    ],
)
def test_names_the_environment_variable_that_is_wrong(change: dict[str, str], variable: str) -> None:
    env = {**render_environment(TF_OUTPUTS, load_config()), **change}
    with pytest.raises(SettingsError) as info:
        Settings.from_env(env)
    assert info.value.variable == variable


def test_finds_placeholders_with_the_filter_grammar() -> None:
    expression = (
        "INCLUDE ItemID WHERE Items.CATEGORY_L1 IN ($CATEGORY) AND Items.PRICE < $MAX_PRICE"
        " OR Items.X IN ($CATEGORY)"
    )
    assert filter_spec("f", "arn", expression).placeholders == ("CATEGORY", "MAX_PRICE")
    assert filter_spec("f", "arn", 'EXCLUDE ItemID WHERE Interactions.EVENT_TYPE IN ("*")').placeholders == ()


def test_placeholders_only_in_exclude_parts_are_optional() -> None:
    expression = (
        "EXCLUDE ItemID WHERE Items.CATEGORY_L1 IN ($SKIP) | "
        "INCLUDE ItemID WHERE Items.CATEGORY_L2 IN ($KEEP) AND Items.PRICE < $MAX"
    )
    assert filter_spec("f", "arn", expression).optional_placeholders == frozenset({"SKIP"})
    included = filter_spec("f", "arn", "INCLUDE ItemID WHERE Items.CATEGORY_L1 IN ($CATEGORY)")
    assert included.optional_placeholders == frozenset()


def test_the_ranking_campaign_has_no_default() -> None:
    config = load_config()
    config["api"].pop("ranking_campaign")
    env = render_environment(TF_OUTPUTS, config)
    assert env["RANKING_CAMPAIGN_ARN"] == ""
    assert Settings.from_env(env).ranking_campaign_arn == ""


def test_a_missing_terraform_output_is_named() -> None:
    outputs = {k: v for k, v in TF_OUTPUTS.items() if k != "bucket_name"}
    with pytest.raises(SettingsError) as info:
        render_environment(outputs, load_config())
    assert info.value.variable == "bucket_name"


def test_deploy_packages_the_rules_package_into_the_lambda_vendor_folder(tmp_path: Path) -> None:
    from pipeline.lifecycle.api_server import package_rules

    copied = package_rules(tmp_path)
    assert copied == tmp_path / "vendor" / "personalize_rules"
    assert (copied / "filter_expression.py").is_file() and (copied / "item_filter.py").is_file()
    assert not list(copied.rglob("__pycache__"))


def test_the_lambda_code_never_imports_the_pipeline_nor_ships_test_code() -> None:
    chalicelib = Path(__file__).resolve().parents[3] / "chalice_app"
    for source in chalicelib.rglob("*.py"):
        text = source.read_text(encoding="utf-8")
        assert "import pipeline" not in text and "from pipeline" not in text, source
    assert not (chalicelib / "chalicelib" / "contract.py").exists()


def test_the_deploy_config_names_the_app_after_the_project_and_fills_the_stage() -> None:
    base = json.loads((Path(__file__).resolve().parents[3] / "chalice_app/.chalice/config.json").read_text())
    rendered = render_chalice_config(base, TF_OUTPUTS, load_config(), stage="aws")
    assert rendered["app_name"] == "braze-recs-api"
    assert rendered["stages"]["aws"]["iam_role_arn"] == TF_OUTPUTS["api_role_arn"]
    assert rendered["stages"]["aws"]["manage_iam_role"] is False
    assert rendered["stages"]["local"] == base["stages"]["local"]
    assert base["stages"]["aws"]["environment_variables"] == {}  # the repo file is left untouched
