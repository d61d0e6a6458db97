"""Load and validate the project config (config/project.yaml) against its JSON Schema.

The config's `overrides` section holds per-environment settings (staging, production); `load_config`
merges the selected environment's over the base settings, exactly as terraform/modules/platform does:
`api_limits` and `monitoring` key by key, `campaigns` by campaign name.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import jsonschema
import yaml

from pipeline.errors import PipelineError
from pipeline.experiments_config import experiment_problems
from pipeline.paths import config_path, repo_root, schema_dir

__all__ = ["OVERRIDABLE_SECTIONS", "ConfigError", "apply_overrides", "load_config", "load_dataset_schemas"]

# Sections an environment may override key by key (campaigns: by campaign name).
OVERRIDABLE_SECTIONS: tuple[str, ...] = ("api_limits", "monitoring")


class ConfigError(PipelineError):
    """The project config is unreadable or breaks its schema; says where and why."""

    def __init__(self, path: Path, where: str, why: str) -> None:
        super().__init__(where, why, f"{path}: {where}: {why}")
        self.path = path


def load_config(path: Path | None = None, stage: str | None = None) -> dict[str, Any]:
    """Read the config, check it against schemas/project-config.schema.json and merge the overrides of
    `stage` (default: $STAGE, as `make ... ENV=aws STAGE=<stage>` exports it; none for local)."""
    path = path or config_path()
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise ConfigError(path, "file", str(exc)) from exc
    schema = json.loads((schema_dir() / "project-config.schema.json").read_text(encoding="utf-8"))
    errors = sorted(jsonschema.Draft202012Validator(schema).iter_errors(data), key=lambda e: list(e.path))
    if errors:
        first = errors[0]
        where = "/".join(str(p) for p in first.path) or "(top level)"
        raise ConfigError(path, where, first.message)
    names = {s["name"] for s in data["solutions"]}
    for i, campaign in enumerate(data["campaigns"]):
        if campaign["solution"] not in names:
            raise ConfigError(path, f"campaigns/{i}/solution", f"no solution named {campaign['solution']!r}")
    filter_names = {f["name"] for f in data["filters"]}
    for i, promotion in enumerate(data.get("promotions") or []):
        if promotion["filter"] not in filter_names:
            raise ConfigError(path, f"promotions/{i}/filter", f"no filter named {promotion['filter']!r}")
    campaign_names = {c["name"] for c in data["campaigns"]}
    for env_name, override in (data.get("overrides") or {}).items():
        for name in (override.get("campaigns") or {}).keys() - campaign_names:
            raise ConfigError(path, f"overrides/{env_name}/campaigns/{name}", "no campaign of that name")
    for where, why in experiment_problems(data):
        raise ConfigError(path, where, why)
    stage = stage if stage is not None else (os.environ.get("STAGE") or None)
    return apply_overrides(dict(data), stage)


def apply_overrides(config: dict[str, Any], stage: str | None) -> dict[str, Any]:
    """`config` with the overrides of `stage` merged in (a new dict; `config` is not changed)."""
    override = (config.get("overrides") or {}).get(stage) if stage else None
    if not override:
        return dict(config)
    merged = dict(config)
    for section in OVERRIDABLE_SECTIONS:
        if section in override:
            merged[section] = {**(config.get(section) or {}), **override[section]}
    by_name = override.get("campaigns") or {}
    merged["campaigns"] = [{**c, **by_name.get(c["name"], {})} for c in config["campaigns"]]
    return merged


def load_dataset_schemas(config: dict[str, Any] | None = None) -> dict[str, dict[str, Any]]:
    """The Avro schema of each configured dataset type, keyed by type."""
    config = config or load_config()
    return {
        dataset_type: json.loads((repo_root() / rel).read_text(encoding="utf-8"))
        for dataset_type, rel in config["datasets"].items()
    }
