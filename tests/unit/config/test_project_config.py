from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from pipeline.config import ConfigError, load_config, load_dataset_schemas
from pipeline.paths import config_path


def _write(tmp_path: Path, data: dict) -> Path:
    path = tmp_path / "project.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    return path


def test_the_shipped_config_is_valid() -> None:
    config = load_config()
    assert config["name"]
    assert {c["solution"] for c in config["campaigns"]} <= {s["name"] for s in config["solutions"]}


def test_every_configured_dataset_schema_loads_with_its_record_name() -> None:
    schemas = load_dataset_schemas()
    assert {t: s["name"] for t, s in schemas.items()} == {
        "interactions": "Interactions",
        "users": "Users",
        "items": "Items",
    }


def test_rejects_a_campaign_that_names_an_unknown_solution(tmp_path: Path) -> None:
    data = yaml.safe_load(config_path().read_text(encoding="utf-8"))
    data["campaigns"][0]["solution"] = "nope"
    with pytest.raises(ConfigError) as err:
        load_config(_write(tmp_path, data))
    assert err.value.where == "campaigns/0/solution"
    assert "nope" in err.value.why


def test_rejects_an_unknown_recipe_and_says_where(tmp_path: Path) -> None:
    data = yaml.safe_load(config_path().read_text(encoding="utf-8"))
    data["solutions"][1]["recipe"] = "aws-hrnn"
    with pytest.raises(ConfigError) as err:
        load_config(_write(tmp_path, data))
    assert err.value.where == "solutions/1/recipe"


def test_rejects_a_cache_age_longer_than_brazes_four_hour_maximum(tmp_path: Path) -> None:
    data = yaml.safe_load(config_path().read_text(encoding="utf-8"))
    data["api"]["cache_ttl_seconds"] = 4 * 3600 + 1
    with pytest.raises(ConfigError) as err:
        load_config(_write(tmp_path, data))
    assert err.value.where == "api/cache_ttl_seconds"


def test_reports_unreadable_yaml_as_a_config_error(tmp_path: Path) -> None:
    path = tmp_path / "project.yaml"
    path.write_text("name: [unclosed", encoding="utf-8")
    with pytest.raises(ConfigError) as err:
        load_config(path)
    assert err.value.where == "file"
