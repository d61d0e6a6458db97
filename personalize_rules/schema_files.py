"""Where the repository's `schemas/` folder is: the one source of truth the rules read from."""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["schema_dir"]


def schema_dir() -> Path:
    """`$BP_REPO_ROOT/schemas` if that variable is set, else the `schemas/` folder beside this package."""
    override = os.environ.get("BP_REPO_ROOT")
    root = Path(override) if override else Path(__file__).resolve().parents[1]
    return root / "schemas"
