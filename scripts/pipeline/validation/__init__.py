"""Pre-import validator for Amazon Personalize CSV files (interactions, users, items).

The rules are Personalize's and live in `personalize_rules` (the engine: personalize_rules.dataset_files);
this package finds the files (a directory, an s3:// prefix, a stream) and is what the CLI calls.
`validate_file` checks one file against its Avro schema; `validate_directory` checks a directory (or s3://
prefix) holding interactions.csv and optional users.csv/items.csv, including cross-file references.
"""

from __future__ import annotations

from personalize_rules.dataset_report import MAX_EXAMPLES_PER_RULE, Problem, ValidationReport
from personalize_rules.dataset_schemas import (
    PersonalizeSchemaError,
    SchemaIssue,
    check_schema,
    schema_issues,
)
from pipeline.validation.api import ValidationError, validate_directory, validate_file

__all__ = [
    "MAX_EXAMPLES_PER_RULE",
    "PersonalizeSchemaError",
    "Problem",
    "SchemaIssue",
    "ValidationError",
    "ValidationReport",
    "check_schema",
    "schema_issues",
    "validate_directory",
    "validate_file",
]
