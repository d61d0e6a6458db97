"""lint_filter: fields checked against the project's Avro schemas (schemas/personalize/*.json)."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from personalize_rules.filter_expression import lint_filter
from pipeline.config import load_dataset_schemas


@pytest.fixture(scope="module")
def schemas() -> dict[str, dict[str, Any]]:
    return load_dataset_schemas()


# (expression, rule, text the error points at)
PROBLEMS: list[tuple[str, str, str]] = [
    ('INCLUDE ItemID WHERE Items.COLOUR IN ("red")', "unknown-field", "Items.COLOUR"),
    ('INCLUDE ItemID WHERE Items.DESCRIPTION IN ("luxury")', "textual-field", "Items.DESCRIPTION"),
    ('INCLUDE ItemID WHERE Items.PRICE IN ("10")', "type-mismatch", "IN ("),
    ("INCLUDE ItemID WHERE Items.CATEGORY_L1 < 10", "type-mismatch", "10"),
    ('INCLUDE ItemID WHERE Items.PRICE = "ten"', "type-mismatch", '"ten"'),
    ("INCLUDE ItemID WHERE Items.CATEGORY_L1 <= $LEVEL", "type-mismatch", "<="),
    ("INCLUDE ItemID WHERE Items.CATEGORY_L1 IN CurrentItem.PRICE", "type-mismatch", "CurrentItem.PRICE"),
    ("INCLUDE ItemID WHERE Items.PRICE < CurrentItem.NAME", "type-mismatch", "CurrentItem.NAME"),
    (
        'INCLUDE ItemID WHERE Items.CATEGORY_L1 IN ("a") IF CurrentUser.SHOE_SIZE > 40',
        "unknown-field",
        "CurrentUser",
    ),
    ('INCLUDE UserID WHERE Users.AGE IN ("30")', "type-mismatch", "IN ("),
]


@pytest.mark.parametrize(("expression", "rule", "at"), PROBLEMS)
def test_schema_problem_is_reported_with_its_rule_and_position(
    schemas: dict[str, dict[str, Any]], expression: str, rule: str, at: str
) -> None:
    problems = lint_filter(expression, schemas)
    assert [(p.rule, p.position) for p in problems] == [(rule, expression.index(at))], problems


def test_field_names_match_the_schema_case_insensitively(schemas: dict[str, dict[str, Any]]) -> None:
    assert lint_filter('INCLUDE ItemID WHERE items.category_l1 IN ("a") AND Items.Price < 3', schemas) == []


def test_a_filter_on_a_dataset_the_group_lacks_is_reported(schemas: dict[str, dict[str, Any]]) -> None:
    without_users = {k: v for k, v in schemas.items() if k != "users"}
    problems = lint_filter(
        'INCLUDE ItemID WHERE Items.CATEGORY_L1 IN ("a") IF CurrentUser.AGE > 18', without_users
    )
    assert [p.rule for p in problems] == ["missing-dataset"]


def test_boolean_fields_are_refused(schemas: dict[str, dict[str, Any]]) -> None:
    with_flag = copy.deepcopy(schemas)
    with_flag["items"]["fields"].append({"name": "ON_SALE", "type": ["null", "boolean"], "default": None})
    problems = lint_filter('INCLUDE ItemID WHERE Items.ON_SALE = "true"', with_flag)
    assert [p.rule for p in problems] == ["boolean-field"]


def test_every_problem_is_reported_not_only_the_first(schemas: dict[str, dict[str, Any]]) -> None:
    expression = (
        'INCLUDE ItemID WHERE Items.NOPE IN ("a") AND Items.DESCRIPTION IN ("b") AND Items.PRICE IN ("1")'
    )
    assert [p.rule for p in lint_filter(expression, schemas)] == [
        "unknown-field",
        "textual-field",
        "type-mismatch",
    ]


def test_well_typed_filters_on_the_project_schemas_are_clean(schemas: dict[str, dict[str, Any]]) -> None:
    for expression in [
        "INCLUDE ItemID WHERE Items.PRICE < CurrentItem.PRICE AND"
        " Items.CATEGORY_L1 IN CurrentItem.CATEGORY_L1",
        "INCLUDE ItemID WHERE Items.CREATION_TIMESTAMP > $SINCE | EXCLUDE"
        " ItemID WHERE Interactions.EVENT_TYPE IN ($E)",
        'EXCLUDE ItemID WHERE Items.CATEGORY_L2 IN ("boots") IF CurrentUser.MEMBERSHIP_TIER = "gold"',
        "INCLUDE UserID WHERE Users.COUNTRY IN ($COUNTRY) AND Users.AGE >= 18",
    ]:
        assert lint_filter(expression, schemas) == [], expression
