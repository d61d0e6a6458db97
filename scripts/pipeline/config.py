"""Load and validate the project config (config/project.yaml) against its JSON Schema."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
import yaml

from pipeline.errors import PipelineError
from pipeline.paths import config_path, repo_root, schema_dir

__all__ = ["ConfigError", "load_config", "load_dataset_schemas"]


class ConfigError(PipelineError):
    """The project config is unreadable or breaks its schema; says where and why."""

    def __init__(self, path: Path, where: str, why: str) -> None:
        super().__init__(where, why, f"{path}: {where}: {why}")
        self.path = path


def load_config(path: Path | None = None) -> dict[str, Any]:
    """Read the config and check it against schemas/project-config.schema.json."""
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
    return dict(data)


def load_dataset_schemas(config: dict[str, Any] | None = None) -> dict[str, dict[str, Any]]:
    """The Avro schema of each configured dataset type, keyed by type."""
    config = config or load_config()
    return {
        dataset_type: json.loads((repo_root() / rel).read_text(encoding="utf-8"))
        for dataset_type, rel in config["datasets"].items()
    }
