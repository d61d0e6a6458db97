"""Check a Personalize Avro schema: JSON Schema for the shape, Python for what JSON Schema can't say.

The rules follow the Personalize developer guide: "Schema formatting requirements", "Custom datasets and
schemas" (required fields and reserved keywords per dataset type) and "Service quotas" (field-count limits).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import jsonschema

from personalize_rules.errors import RulesError
from personalize_rules.schema_files import schema_dir

__all__ = [
    "DATASET_RECORD_NAMES",
    "FieldSpec",
    "PersonalizeSchemaError",
    "SchemaIssue",
    "check_schema",
    "field_specs",
    "schema_issues",
]

DATASET_RECORD_NAMES: dict[str, str] = {"interactions": "Interactions", "users": "Users", "items": "Items"}

# name -> (allowed Avro types, may be categorical). Required fields must be present and non-null.
_REQUIRED: dict[str, dict[str, tuple[str, ...]]] = {
    "interactions": {"USER_ID": ("string",), "ITEM_ID": ("string",), "TIMESTAMP": ("long",)},
    "users": {"USER_ID": ("string",)},
    "items": {"ITEM_ID": ("string",)},
}
# Reserved keywords: optional, but when present they must have these types and are never categorical.
_RESERVED: dict[str, dict[str, tuple[Any, ...]]] = {
    "interactions": {
        "EVENT_TYPE": ("string",),
        "EVENT_VALUE": ("float", ("null", "float")),
        "IMPRESSION": ("string", ("null", "string")),
        "RECOMMENDATION_ID": ("string", ("null", "string")),
        "EVENT_ATTRIBUTION_SOURCE": ("string", ("null", "string")),
    },
    "users": {},
    "items": {"CREATION_TIMESTAMP": ("long", ("null", "long"))},
}
# Service quotas: metadata fields (not required, not reserved) per dataset type.
_MAX_METADATA = {"interactions": 5, "users": 25, "items": 100}
_MIN_METADATA = {"interactions": 0, "users": 1, "items": 1}


class PersonalizeSchemaError(RulesError, ValueError):
    """A Personalize schema breaks a documented rule; says which dataset, where and why."""

    def __init__(self, dataset_type: str, where: str, why: str) -> None:
        super().__init__(where, why, f"{dataset_type} schema: {where}: {why}")
        self.dataset_type = dataset_type


@dataclass(frozen=True)
class SchemaIssue:
    where: str
    why: str


@dataclass(frozen=True)
class FieldSpec:
    """One column as the validator needs it."""

    name: str
    avro_type: str  # the non-null primitive
    nullable: bool
    categorical: bool = False
    textual: bool = False

    @property
    def is_id(self) -> bool:
        return self.name in ("USER_ID", "ITEM_ID")

    @property
    def is_timestamp(self) -> bool:
        return self.name in ("TIMESTAMP", "CREATION_TIMESTAMP")


@lru_cache(maxsize=1)
def _validator() -> jsonschema.Draft202012Validator:
    meta = json.loads((schema_dir() / "personalize-schema.schema.json").read_text(encoding="utf-8"))
    return jsonschema.Draft202012Validator(meta)


def _type_key(avro_type: Any) -> Any:
    return tuple(avro_type) if isinstance(avro_type, list) else avro_type


def _path(err: jsonschema.ValidationError) -> list[str]:
    return [str(p) for p in err.absolute_path]


def _json_issue(err: jsonschema.ValidationError, schema: Mapping[str, Any]) -> SchemaIssue:
    """A JSON Schema error as a readable issue: the failing rule's description, and the field's name."""
    path = list(err.absolute_path)
    where = "/".join(str(p) for p in path) or "(top level)"
    if len(path) >= 2 and path[0] == "fields" and isinstance(path[1], int):
        field = schema["fields"][path[1]]
        if isinstance(field, dict) and "name" in field:
            where += f" ({field['name']})"
    why = err.schema.get("description") if isinstance(err.schema, dict) else None
    message = err.message if len(err.message) <= 160 else err.message[:157] + "..."
    return SchemaIssue(where, f"{why} ({message})" if why else message)


def schema_issues(dataset_type: str, schema: Mapping[str, Any]) -> list[SchemaIssue]:
    """Every rule the schema breaks (empty when it is valid), JSON Schema first, then semantic checks."""
    if dataset_type not in DATASET_RECORD_NAMES:
        return [SchemaIssue("dataset type", f"unknown dataset type {dataset_type!r}")]
    issues = [_json_issue(err, schema) for err in sorted(_validator().iter_errors(dict(schema)), key=_path)]
    if issues:
        return issues
    expected = DATASET_RECORD_NAMES[dataset_type]
    if schema["name"] != expected:
        issues.append(
            SchemaIssue("name", f"is {schema['name']!r}; a {dataset_type} schema must be named {expected!r}")
        )
    fields: list[dict[str, Any]] = list(schema["fields"])
    seen: dict[str, str] = {}
    for i, field in enumerate(fields):
        where = f"fields/{i} ({field['name']})"
        # Personalize compares names by their alphanumeric characters only (GENRES_1 clashes with GENRES1).
        key = re.sub(r"[^A-Za-z0-9]", "", field["name"]).upper()
        if key in seen:
            issues.append(
                SchemaIssue(where, f"name clashes with {seen[key]!r}: names must be unique alphanumerically")
            )
        seen[key] = field["name"]
        ftype = field["type"]
        if "default" in field and isinstance(ftype, list) and field["default"] is None and ftype[0] != "null":
            issues.append(SchemaIssue(where, 'default null needs "null" first in the union (Avro rule)'))
    by_name = {f["name"]: f for f in fields}
    for name, allowed in _REQUIRED[dataset_type].items():
        if name not in by_name:
            issues.append(SchemaIssue("fields", f"required field {name} is missing"))
            continue
        if _type_key(by_name[name]["type"]) not in allowed:
            issues.append(
                SchemaIssue(f"fields ({name})", f"type must be {allowed[0]!r} (required, not nullable)")
            )
        if by_name[name].get("categorical"):
            issues.append(SchemaIssue(f"fields ({name})", "a required field can't be categorical"))
    for name, allowed_types in _RESERVED[dataset_type].items():
        if name not in by_name:
            continue
        if _type_key(by_name[name]["type"]) not in allowed_types:
            shown = " or ".join(json.dumps(list(t) if isinstance(t, tuple) else t) for t in allowed_types)
            issues.append(SchemaIssue(f"fields ({name})", f"reserved field must have type {shown}"))
        if by_name[name].get("categorical"):
            issues.append(SchemaIssue(f"fields ({name})", "reserved string fields can't be categorical"))
    metadata = [n for n in by_name if n not in _REQUIRED[dataset_type] and n not in _RESERVED[dataset_type]]
    if len(metadata) > _MAX_METADATA[dataset_type]:
        issues.append(
            SchemaIssue(
                "fields",
                f"{len(metadata)} metadata fields; Personalize allows at most {_MAX_METADATA[dataset_type]} "
                f"in a {dataset_type} schema",
            )
        )
    if len(metadata) + sum(1 for n in _RESERVED[dataset_type] if n in by_name) < _MIN_METADATA[dataset_type]:
        issues.append(SchemaIssue("fields", f"a {dataset_type} schema needs at least one metadata field"))
    return issues


def check_schema(dataset_type: str, schema: Mapping[str, Any]) -> None:
    """Raise PersonalizeSchemaError for the first broken rule."""
    issues = schema_issues(dataset_type, schema)
    if issues:
        raise PersonalizeSchemaError(dataset_type, issues[0].where, issues[0].why)


def field_specs(dataset_type: str, schema: Mapping[str, Any]) -> list[FieldSpec]:
    """The columns in schema order; checks the schema first."""
    check_schema(dataset_type, schema)
    specs = []
    for field in schema["fields"]:
        ftype = field["type"]
        nullable = isinstance(ftype, list)
        base = next(t for t in ftype if t != "null") if nullable else ftype
        specs.append(
            FieldSpec(
                name=field["name"],
                avro_type=base,
                nullable=nullable,
                categorical=bool(field.get("categorical")),
                textual=bool(field.get("textual")),
            )
        )
    return specs
