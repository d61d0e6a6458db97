"""Every example schema of the Personalize developer guide is accepted, by the rules and by the emulator."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from local_stack.personalize.backend import PersonalizeBackend, get_backend
from personalize_rules.dataset_schemas import check_schema, schema_issues
from personalize_rules.schema_files import schema_dir
from tests.emulator_setup import wait_active

CASES: list[dict[str, Any]] = json.loads((Path(__file__).parent / "guide_schemas.json").read_text())["cases"]
DATASET_TYPES = {"interactions": "Interactions", "users": "Users", "items": "Items"}


@pytest.mark.parametrize("case", CASES, ids=[c["id"] for c in CASES])
def test_the_rules_accept_every_example_schema_of_the_guide(case: dict[str, Any]) -> None:
    assert schema_issues(case["dataset_type"], case["schema"]) == []


@pytest.mark.parametrize("case", CASES, ids=[c["id"] for c in CASES])
def test_the_emulator_creates_a_schema_and_a_dataset_from_every_example(
    case: dict[str, Any], monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest
) -> None:
    monkeypatch.setenv("LOCAL_STACK_PERSONALIZE_STEP_SECONDS", "0.01")
    backend: PersonalizeBackend = get_backend("123456789012", f"guide-{request.node.name[-40:]}")
    group = backend.handle("CreateDatasetGroup", {"name": "g"})["datasetGroupArn"]
    wait_active(lambda: backend.handle("DescribeDatasetGroup", {"datasetGroupArn": group})["datasetGroup"])
    schema = backend.handle("CreateSchema", {"name": "s", "schema": json.dumps(case["schema"])})["schemaArn"]
    dataset = backend.handle(
        "CreateDataset",
        {
            "name": "d",
            "schemaArn": schema,
            "datasetGroupArn": group,
            "datasetType": DATASET_TYPES[case["dataset_type"]],
        },
    )["datasetArn"]
    final = wait_active(lambda: backend.handle("DescribeDataset", {"datasetArn": dataset})["dataset"])
    assert final["status"] == "ACTIVE"


def _items(*fields: dict[str, Any]) -> dict[str, Any]:
    return {"type": "record", "name": "Items", "fields": [{"name": "ITEM_ID", "type": "string"}, *fields]}


def test_a_second_textual_field_is_still_refused() -> None:
    text = {"type": ["null", "string"], "textual": True}
    schema = _items({"name": "DESCRIPTION", **text}, {"name": "NOTES", **text})
    with pytest.raises(ValueError, match="at most one textual"):
        check_schema("items", schema)


def test_every_contains_rule_either_demands_presence_or_says_how_many_may_be_absent() -> None:
    """`contains` alone means "at least one": only rules about required things may rely on it."""
    meta = json.loads((schema_dir() / "personalize-schema.schema.json").read_text())
    found: list[dict[str, Any]] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if "contains" in node:
                found.append(node)
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(meta)
    assert found
    for rule in found:
        if "maxContains" in rule:
            # An upper bound only ("at most n") must not demand a first one.
            assert rule.get("minContains") == 0, rule
    jsonschema.Draft202012Validator.check_schema(meta)
