"""`lint-filters`: every configured filter expression, parsed and checked against the Avro schemas."""

from __future__ import annotations

from typing import Any

from personalize_rules.filter_expression import lint_filter
from pipeline.config import load_config, load_dataset_schemas
from pipeline.lifecycle.context import Progress
from pipeline.lifecycle.errors import ConfigCheckError

__all__ = ["run_lint_filters"]


def run_lint_filters(
    config: dict[str, Any] | None = None, progress: Progress | None = None
) -> dict[str, list[str]]:
    """Problems per filter name (empty lists when fine); ConfigCheckError when any filter has one."""
    config = config or load_config()
    progress = progress or Progress()
    schemas = load_dataset_schemas(config)
    problems: dict[str, list[str]] = {}
    for spec in config.get("filters", []):
        found = [str(p) for p in lint_filter(spec["expression"], schemas)]
        problems[spec["name"]] = found
        if found:
            progress.plain(f"FAIL {spec['name']}: {spec['expression']}")
            for problem in found:
                progress.plain(f"     {problem}")
        else:
            progress.plain(f"ok   {spec['name']}: {spec['expression']}")
    bad = sorted(name for name, found in problems.items() if found)
    if bad:
        raise ConfigCheckError(
            "config filters",
            f"{len(bad)} filter(s) would be refused: {', '.join(bad)}",
            "fix the expressions in config/project.yaml before `make apply`",
        )
    return problems
