from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from pipeline.config import ConfigError, load_config
from pipeline.paths import config_path


def _config_with(tmp_path: Path, promotion: dict) -> Path:
    data = yaml.safe_load(config_path().read_text(encoding="utf-8"))
    data["promotions"] = [promotion]
    path = tmp_path / "project.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    return path


def test_the_shipped_promotions_name_configured_filters() -> None:
    config = load_config()
    assert {p["filter"] for p in config["promotions"]} <= {f["name"] for f in config["filters"]}


def test_a_promotion_naming_an_unknown_filter_is_refused_where_it_is(tmp_path: Path) -> None:
    path = _config_with(tmp_path, {"name": "p", "filter": "nope", "percent_promoted_items": 10})
    with pytest.raises(ConfigError) as err:
        load_config(path)
    assert (err.value.where, "nope" in err.value.why) == ("promotions/0/filter", True)


@pytest.mark.parametrize("percent", [0, 101])
def test_a_share_outside_1_to_100_breaks_the_schema(tmp_path: Path, percent: int) -> None:
    path = _config_with(tmp_path, {"name": "p", "filter": "in-category", "percent_promoted_items": percent})
    with pytest.raises(ConfigError) as err:
        load_config(path)
    assert err.value.where == "promotions/0/percent_promoted_items"
