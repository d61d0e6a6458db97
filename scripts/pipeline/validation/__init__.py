"""Streaming pre-import validator for Amazon Personalize CSV files (interactions, users, items).

`validate_file` checks one file against its Avro schema; `validate_directory` checks a directory (or
s3:// prefix) holding interactions.csv and optional users.csv/items.csv, including cross-file references.
"""

from __future__ import annotations

from personalize_rules.dataset_schemas import (
    PersonalizeSchemaError,
    SchemaIssue,
    check_schema,
    schema_issues,
)
from pipeline.validation.api import ValidationError, validate_directory, validate_file
from pipeline.validation.report import MAX_EXAMPLES_PER_RULE, Problem, ValidationReport

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
