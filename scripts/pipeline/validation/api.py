"""validate_file / validate_directory: the validator's public entry points."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np
import numpy.typing as npt

from pipeline.paths import DATASET_TYPES
from pipeline.validation.engine import LIMITS, FileStats, FileValidator
from pipeline.validation.report import ProblemCollector, ValidationReport
from pipeline.validation.sources import Source, SourceError, list_s3, open_source

__all__ = ["ValidationError", "validate_directory", "validate_file"]


class ValidationError(ValueError):
    """The validator can't run at all (missing directory or file, unreadable schema); says where and why."""

    def __init__(self, where: str, why: str) -> None:
        super().__init__(f"{where}: {why}")
        self.where = where
        self.why = why


def _summary(stats: list[FileStats], event_type: str | None) -> dict[str, Any]:
    return {
        "files": {s.name: s.summary for s in stats},
        "event_type_filter": event_type,
        "limits": dict(LIMITS),
    }


def validate_file(
    dataset_type: str,
    source: str | Path | BinaryIO,
    schema: dict[str, Any],
    *,
    event_type: str | None = None,
    check_minimums: bool = True,
) -> ValidationReport:
    """Check one CSV file (path, s3:// URI or binary file-like) against its Personalize Avro schema."""
    if dataset_type not in DATASET_TYPES:
        raise ValidationError("dataset_type", f"{dataset_type!r} is not one of {', '.join(DATASET_TYPES)}")
    try:
        src = open_source(source, f"{dataset_type}.csv" if not isinstance(source, str | Path) else None)
    except SourceError as exc:
        raise ValidationError(exc.where, exc.why) from exc
    collector = ProblemCollector()
    stats = _run(dataset_type, src, schema, collector, event_type, check_minimums, {})
    return ValidationReport.from_collector(
        collector, _summary([stats], event_type), {dataset_type: stats.rows}
    )


def _run(
    dataset_type: str,
    src: Source,
    schema: Mapping[str, Any],
    collector: ProblemCollector,
    event_type: str | None,
    check_minimums: bool,
    references: Mapping[str, tuple[npt.NDArray[np.uint64], str]],
) -> FileStats:
    try:
        return FileValidator(
            dataset_type,
            schema,
            src,
            collector,
            event_type=event_type,
            check_minimums=check_minimums,
            references=references,
        ).run()
    except SourceError as exc:
        raise ValidationError(exc.where, exc.why) from exc


def validate_directory(
    data_dir: str,
    *,
    event_type: str | None = None,
    schemas: Mapping[str, dict[str, Any]] | None = None,
    check_minimums: bool = True,
) -> ValidationReport:
    """Check interactions.csv and, when present, users.csv and items.csv in a directory or s3:// prefix.

    Users and items are read first so interactions can be checked against their IDs (warnings).
    """
    if schemas is None:
        from pipeline.config import load_dataset_schemas

        schemas = load_dataset_schemas()
    data_dir = str(data_dir)
    if data_dir.startswith("s3://"):
        try:
            present = list_s3(data_dir)
        except SourceError as exc:
            raise ValidationError(exc.where, exc.why) from exc
        base = data_dir.rstrip("/") + "/"
        locate = {t: base + f"{t}.csv" for t in DATASET_TYPES if f"{t}.csv" in present}
    else:
        root = Path(data_dir)
        if not root.is_dir():
            raise ValidationError(data_dir, "not a directory")
        locate = {t: str(root / f"{t}.csv") for t in DATASET_TYPES if (root / f"{t}.csv").is_file()}
    if "interactions" not in locate:
        raise ValidationError(data_dir, "no interactions.csv (required)")
    collector = ProblemCollector()
    stats: list[FileStats] = []
    references: dict[str, tuple[npt.NDArray[np.uint64], str]] = {}
    for dataset_type, id_field in (("users", "USER_ID"), ("items", "ITEM_ID")):
        if dataset_type in locate:
            result = _run(
                dataset_type,
                open_source(locate[dataset_type]),
                schemas[dataset_type],
                collector,
                None,
                check_minimums,
                {},
            )
            stats.append(result)
            if result.readable:
                references[id_field] = (result.id_keys, f"{dataset_type}.csv")
    interactions = _run(
        "interactions",
        open_source(locate["interactions"]),
        schemas["interactions"],
        collector,
        event_type,
        check_minimums,
        references,
    )
    stats.insert(0, interactions)
    return ValidationReport.from_collector(
        collector, _summary(stats, event_type), {s.dataset_type: s.rows for s in stats}
    )
