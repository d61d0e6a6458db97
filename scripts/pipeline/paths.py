"""Where the repo's shared files are, so every tool reads the same schemas and config."""

from __future__ import annotations

import os
from pathlib import Path

from personalize_rules.schema_files import schema_dir

__all__ = ["DATASET_TYPES", "config_path", "repo_root", "schema_dir"]

DATASET_TYPES: tuple[str, ...] = ("interactions", "users", "items")


def repo_root() -> Path:
    """The repository root: `BP_REPO_ROOT` if set, else two levels above this package."""
    override = os.environ.get("BP_REPO_ROOT")
    if override:
        return Path(override)
    return Path(__file__).resolve().parents[2]


def config_path() -> Path:
    """The project config: `BP_CONFIG` if set, else config/project.yaml."""
    override = os.environ.get("BP_CONFIG")
    return Path(override) if override else repo_root() / "config" / "project.yaml"
