"""validate_file / validate_directory: the validator's public entry points (local, s3:// or a stream)."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any, BinaryIO

from personalize_rules.dataset_files import DatasetFileError, FileCheck, FileChecker
from personalize_rules.dataset_report import ProblemCollector, ValidationReport
from personalize_rules.value_rules import LIMITS
from pipeline.errors import PipelineError
from pipeline.paths import DATASET_TYPES
from pipeline.validation.sources import SourceError, list_s3, local_copy

__all__ = ["ValidationError", "validate_directory", "validate_file"]


class ValidationError(PipelineError, ValueError):
    """The validator can't run at all (missing directory or file, unreadable schema); says where and why."""

    def __init__(self, where: str, why: str) -> None:
        super().__init__(where, why)


def _summary(checks: list[FileCheck], event_type: str | None) -> dict[str, Any]:
    return {
        "files": {c.name: c.summary for c in checks},
        "event_type_filter": event_type,
        "limits": dict(LIMITS),
    }


def _report(collector: ProblemCollector, checks: list[FileCheck], event_type: str | None) -> ValidationReport:
    report = ValidationReport.from_collector(
        collector, _summary(checks, event_type), {c.dataset_type: c.rows for c in checks}
    )
    report.digests = {c.name: c.sha256 for c in checks if c.sha256 is not None}
    return report


def _check(
    checker: FileChecker,
    dataset_type: str,
    source: str | Path | BinaryIO,
    schema: Mapping[str, Any],
    name: str,
    **options: Any,
) -> FileCheck:
    try:
        with local_copy(source) as path:
            return checker.check(dataset_type, path, schema, name=name, **options)
    except (SourceError, DatasetFileError) as exc:
        raise ValidationError(exc.where, exc.why) from exc


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
    name = str(source).rsplit("/", 1)[-1] if isinstance(source, str | Path) else f"{dataset_type}.csv"
    collector = ProblemCollector()
    with FileChecker(collector) as checker:
        check = _check(
            checker, dataset_type, source, schema, name, event_type=event_type, check_minimums=check_minimums
        )
    return _report(collector, [check], event_type)


def validate_directory(
    data_dir: str,
    *,
    event_type: str | None = None,
    schemas: Mapping[str, dict[str, Any]] | None = None,
    check_minimums: bool = True,
    digests: bool = False,
) -> ValidationReport:
    """Check interactions.csv and, when present, users.csv and items.csv in a directory or s3:// prefix.

    Users and items are read first so interactions can be checked against their IDs (warnings). With
    `digests`, the report also carries each file's SHA-256, read beside the validation's parse.
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
    checks: list[FileCheck] = []
    references: dict[str, FileCheck] = {}
    with FileChecker(collector, digests=digests) as checker:
        for dataset_type, id_field in (("users", "USER_ID"), ("items", "ITEM_ID")):
            if dataset_type in locate:
                check = _check(
                    checker, dataset_type, locate[dataset_type], schemas[dataset_type],
                    f"{dataset_type}.csv", check_minimums=check_minimums,
                )  # fmt: skip
                checks.append(check)
                if check.readable:
                    references[id_field] = check
        interactions = _check(
            checker, "interactions", locate["interactions"], schemas["interactions"], "interactions.csv",
            event_type=event_type, check_minimums=check_minimums, references=references,
        )  # fmt: skip
    checks.insert(0, interactions)
    return _report(collector, checks, event_type)
