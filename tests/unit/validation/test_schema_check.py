from __future__ import annotations

import copy
import json
from typing import Any

import pyarrow as pa
import pytest

from personalize_rules.avro_types import arrow_types
from pipeline.paths import schema_dir
from pipeline.validation import PersonalizeSchemaError, check_schema, schema_issues


@pytest.mark.parametrize("dataset_type", ["interactions", "users", "items"])
def test_every_project_schema_satisfies_the_personalize_rules(dataset_type: str) -> None:
    schema = json.loads((schema_dir() / "personalize" / f"{dataset_type}.json").read_text())
    assert schema_issues(dataset_type, schema) == []


def _with(dataset_type: str, change: Any) -> dict[str, Any]:
    schema = json.loads((schema_dir() / "personalize" / f"{dataset_type}.json").read_text())
    schema = copy.deepcopy(schema)
    change(schema)
    return schema


def _field(schema: dict[str, Any], name: str) -> dict[str, Any]:
    return next(f for f in schema["fields"] if f["name"] == name)


DEFECTS = [
    ("interactions", lambda s: s.update(name="Users"), "must be named 'Interactions'"),
    ("items", lambda s: s.update(name="Products"), "Products"),
    ("interactions", lambda s: s.update(type="enum"), "'record' was expected"),
    (
        "users",
        lambda s: s["fields"].append({"name": "TAGS", "type": {"type": "array", "items": "string"}}),
        "TAGS",
    ),
    ("users", lambda s: s["fields"].append({"name": "X", "type": "bytes"}), "fields/4/type"),
    ("interactions", lambda s: _field(s, "EVENT_TYPE").update(categorical=True), "categorical"),
    ("users", lambda s: _field(s, "COUNTRY").update(textual=True, categorical=False), "textual"),
    (
        "items",
        lambda s: s["fields"].append({"name": "NOTES", "type": "string", "textual": True}),
        "at most one textual",
    ),
    ("interactions", lambda s: s["fields"].pop(2), "required field TIMESTAMP is missing"),
    ("interactions", lambda s: _field(s, "TIMESTAMP").update(type="int"), "type must be 'long'"),
    ("interactions", lambda s: _field(s, "USER_ID").update(type=["null", "string"]), "not nullable"),
    ("interactions", lambda s: _field(s, "EVENT_VALUE").update(type="string"), "reserved field"),
    ("items", lambda s: _field(s, "CREATION_TIMESTAMP").update(type="float"), "reserved field"),
    ("items", lambda s: _field(s, "PRICE").update(categorical=True), "categorical"),
    ("users", lambda s: s["fields"].extend({"name": f"M{i}", "type": "int"} for i in range(25)), "fields"),
    (
        "interactions",
        lambda s: s["fields"].extend({"name": f"CTX{i}", "type": "string"} for i in range(6)),
        "at most 5",
    ),
    ("users", lambda s: s["fields"].append({"name": "MEMBERSHIPTIER", "type": "int"}), "clashes"),
    ("users", lambda s: _field(s, "AGE").update(type=["int", "null"]), '"null" first'),
    ("users", lambda s: s.update(fields=[{"name": "USER_ID", "type": "string"}]), "fields"),
    ("items", lambda s: _field(s, "NAME").update(name="1NAME"), "does not match"),
]


@pytest.mark.parametrize(("dataset_type", "change", "says"), DEFECTS)
def test_defective_schema_is_rejected_with_a_clear_message(dataset_type: str, change: Any, says: str) -> None:
    schema = _with(dataset_type, change)
    issues = schema_issues(dataset_type, schema)
    assert issues, "the defect was not detected"
    text = " | ".join(f"{i.where}: {i.why}" for i in issues)
    assert says in text
    with pytest.raises(PersonalizeSchemaError) as info:
        check_schema(dataset_type, schema)
    assert info.value.dataset_type == dataset_type
    assert info.value.where and info.value.why


def test_unknown_dataset_type_is_an_issue() -> None:
    assert schema_issues("actions", {"type": "record"})[0].why.startswith("unknown dataset type")


def test_avro_types_read_as_their_width_whether_nullable_or_not() -> None:
    schema = {
        "fields": [
            {"name": "A", "type": "int"},
            {"name": "B", "type": ["null", "float"]},
            {"name": "C", "type": "long"},
            {"name": "D", "type": ["null", "double"]},
            {"name": "E", "type": "boolean"},
            {"name": "F", "type": ["null", "string"]},
        ]
    }
    assert arrow_types(schema) == {
        "A": pa.int32(),  # Avro int and float are 32-bit
        "B": pa.float32(),
        "C": pa.int64(),
        "D": pa.float64(),
        "E": pa.bool_(),
        "F": pa.string(),
    }
