"""The config's experiments: checked at load (names that must exist, the split), rendered for the API."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from chalicelib.settings import Settings
from pipeline.config import ConfigError, load_config
from pipeline.lifecycle.api_settings import experiments_environment, render_environment
from pipeline.paths import config_path

ARN = "arn:aws:personalize:eu-west-1:123456789012"
TF_OUTPUTS = {
    "bucket_name": "b",
    "api_key_parameter_name": "/braze-recs/api-keys",
    "filter_arns": {
        name: f"{ARN}:filter/{name}" for name in ("exclude-interacted", "exclude-purchased", "in-category")
    },
    "campaign_arns": {
        name: f"{ARN}:campaign/{name}"
        for name in ("user-personalization", "similar-items", "ranking", "trending")
    },
}


def _config_with(tmp_path: Path, experiment: dict[str, Any]) -> Path:
    data = yaml.safe_load(config_path().read_text(encoding="utf-8"))
    data["experiments"] = [experiment]
    path = tmp_path / "project.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    return path


def _variants(**changes: Any) -> list[dict[str, Any]]:
    treatment = {"name": "b", "campaign": "user-personalization", "weight": 50, **changes}
    return [{"name": "a", "campaign": "popular", "weight": 50}, treatment]


@pytest.mark.parametrize(
    ("variants", "where", "why"),
    [
        (_variants(campaign="nope"), "experiments/0/variants/1/campaign", "no campaign named 'nope'"),
        (_variants(filter="nope"), "experiments/0/variants/1/filter", "no filter named 'nope'"),
        (_variants(weight=40), "experiments/0/variants", "sum to 90, not 100"),
        (_variants(name="a"), "experiments/0/variants/0/name", "appears more than once"),
    ],
)
def test_a_broken_experiment_fails_at_load_saying_where(
    tmp_path: Path, variants: list[dict[str, Any]], where: str, why: str
) -> None:
    with pytest.raises(ConfigError) as err:
        load_config(_config_with(tmp_path, {"name": "e", "variants": variants}))
    assert err.value.where == where
    assert why in err.value.why


def test_the_schema_refuses_a_variant_without_a_weight(tmp_path: Path) -> None:
    variants = _variants()
    del variants[0]["weight"]
    with pytest.raises(ConfigError) as err:
        load_config(_config_with(tmp_path, {"name": "e", "variants": variants}))
    assert err.value.where == "experiments/0/variants/0"


def test_the_shipped_experiment_renders_with_campaign_arns_and_parses_in_the_api() -> None:
    config = load_config()
    rendered = experiments_environment(TF_OUTPUTS, config)
    variants = rendered["personalized-vs-popular"]["variants"]
    assert [v["campaign_arn"] for v in variants] == [None, f"{ARN}:campaign/user-personalization"]
    env = render_environment(TF_OUTPUTS, config)
    assert json.loads(env["EXPERIMENTS"]) == rendered
    experiment = Settings.from_env(env).experiments["personalized-vs-popular"]
    assert [v.name for v in experiment.variants] == ["popular", "personalized"]
    assert experiment.variants[0].campaign_arn is None


def test_a_variants_promotion_must_be_a_configured_promotion() -> None:
    from pipeline.experiments_config import experiment_problems

    config = yaml.safe_load(config_path().read_text(encoding="utf-8"))
    config["promotions"] = [{"name": "overstock"}]
    config["experiments"] = [{"name": "e", "variants": _variants(promotion="overstock")}]
    assert list(experiment_problems(config)) == []
    config["experiments"] = [{"name": "e", "variants": _variants(promotion="new-arrivals")}]
    assert list(experiment_problems(config)) == [
        ("experiments/0/variants/1/promotion", "no promotion named 'new-arrivals' (known: overstock)")
    ]


def test_the_cli_takes_experiment_report_with_one_experiment() -> None:
    from pipeline.cli import build_parser

    args = build_parser().parse_args(["experiment-report", "--env", "local", "--experiment", "e"])
    assert (args.command, args.experiment) == ("experiment-report", "e")
