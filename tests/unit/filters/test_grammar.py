"""The filter grammar, table-driven: every documented example, the combination rules, and refusals."""

from __future__ import annotations

from typing import Any

import pytest

from personalize_rules.filter_expression import (
    MAX_EXPRESSION_LENGTH,
    FieldRef,
    FilterExpressionError,
    NumberValue,
    Placeholder,
    StringValue,
    WildcardValue,
    lint_filter,
    parse_filter,
)
from pipeline.config import load_config, load_dataset_schemas

# Every example expression in the Amazon Personalize developer guide ("Filter expression examples",
# item recommendation, user segment and "Combining multiple expressions" pages, current and earlier
# editions), with the filter type and placeholders each must yield.
DOCUMENTED_EXAMPLES: list[tuple[str, str, tuple[str, ...]]] = [
    ("EXCLUDE ItemID WHERE Interactions.EVENT_TYPE IN ($EVENT_TYPE)", "ItemID", ("EVENT_TYPE",)),
    ('EXCLUDE ItemID WHERE Interactions.EVENT_TYPE IN ("click", "stream")', "ItemID", ()),
    ('INCLUDE ItemID WHERE Interactions.EVENT_TYPE IN ("click")', "ItemID", ()),
    ("EXCLUDE ItemID WHERE Items.CATEGORY IN ($CATEGORY)", "ItemID", ("CATEGORY",)),
    (
        "INCLUDE ItemID WHERE Items.PRICE < CurrentItem.PRICE AND Items.GENRE IN CurrentItem.GENRE",
        "ItemID",
        (),
    ),
    (
        'EXCLUDE ItemID WHERE Items.CATEGORY_L1 IN ("shoe") AND Items.CATEGORY_L2 NOT IN ("boot")',
        "ItemID",
        (),
    ),
    ('EXCLUDE ItemID WHERE Items.CATEGORY IN ("shoe") AND Items.DESCRIPTION NOT IN ("boot")', "ItemID", ()),
    ("INCLUDE ItemID WHERE Items.PRICE <= $PRICE", "ItemID", ("PRICE",)),
    ("INCLUDE ItemID WHERE Items.CREATION_TIMESTAMP < $DATE", "ItemID", ("DATE",)),
    ("INCLUDE ItemID WHERE Items.GENRE IN ($GENRE)", "ItemID", ("GENRE",)),
    (
        "INCLUDE ItemID WHERE Items.PRICE < CurrentItem.PRICE AND Items.CREATION_TIMESTAMP > $DATE",
        "ItemID",
        ("DATE",),
    ),
    ("INCLUDE ItemID WHERE Items.NUMBER_OF_DOWNLOADS < 20", "ItemID", ()),
    (
        "INCLUDE ItemID WHERE Items.NUMBER_OF_DOWNLOADS = $NUMBER_OF_DOWNLOADS",
        "ItemID",
        ("NUMBER_OF_DOWNLOADS",),
    ),
    ("EXCLUDE ItemID WHERE Items.GENRE IN ($GENRE) IF CurrentUser.AGE = $AGE", "ItemID", ("GENRE", "AGE")),
    (
        'INCLUDE ItemID WHERE Items.CATEGORY IN ("watch") AND'
        ' Items.DESCRIPTION IN ("luxury") IF CurrentUser.AGE > 18',
        "ItemID",
        (),
    ),
    (
        "EXCLUDE ItemID WHERE Items.NUMBER_OF_DOWNLOADS < 20 IF"
        " CurrentUser.AGE > 18 AND CurrentUser.AGE < 30",
        "ItemID",
        (),
    ),
    ("INCLUDE UserID WHERE Users.MEMBERSHIP_STATUS IN ($MEMBERSHIP)", "UserID", ("MEMBERSHIP",)),
    ("EXCLUDE UserID WHERE Users.AGE < $AGE", "UserID", ("AGE",)),
    ('INCLUDE UserID WHERE Interactions.EVENT_TYPE IN ("click", "rating")', "UserID", ()),
    ("EXCLUDE UserID WHERE Interactions.EVENT_TYPE IN ($EVENT_TYPE)", "UserID", ("EVENT_TYPE",)),
    (
        "INCLUDE ItemID WHERE Items.CATEGORY IN ($CATEGORY) | INCLUDE ItemID"
        ' WHERE Interactions.EVENT_TYPE IN ("favorite")',
        "ItemID",
        ("CATEGORY",),
    ),
    (
        "INCLUDE ItemID WHERE Items.GENRE IN ($GENRE) | EXCLUDE ItemID WHERE"
        ' Interactions.EVENT_TYPE IN ("click", "stream")',
        "ItemID",
        ("GENRE",),
    ),
    # The CreateFilter API reference's original form: keywords and names in any case,
    # "*" for every event type.
    ('EXCLUDE itemId WHERE INTERACTIONS.event_type in ("*")', "ItemID", ()),
]

# A schema that holds every field the documentation's examples use (DESCRIPTION is categorical there).
DOCS_SCHEMAS: dict[str, dict[str, Any]] = {
    "interactions": {
        "type": "record",
        "name": "Interactions",
        "fields": [
            {"name": "USER_ID", "type": "string"},
            {"name": "ITEM_ID", "type": "string"},
            {"name": "EVENT_TYPE", "type": "string"},
            {"name": "TIMESTAMP", "type": "long"},
        ],
    },
    "items": {
        "type": "record",
        "name": "Items",
        "fields": [
            {"name": "ITEM_ID", "type": "string"},
            {"name": "CATEGORY", "type": "string", "categorical": True},
            {"name": "CATEGORY_L1", "type": "string", "categorical": True},
            {"name": "CATEGORY_L2", "type": ["null", "string"], "categorical": True},
            {"name": "GENRE", "type": "string", "categorical": True},
            {"name": "DESCRIPTION", "type": "string", "categorical": True},
            {"name": "PRICE", "type": "float"},
            {"name": "CREATION_TIMESTAMP", "type": "long"},
            {"name": "NUMBER_OF_DOWNLOADS", "type": "int"},
        ],
    },
    "users": {
        "type": "record",
        "name": "Users",
        "fields": [
            {"name": "USER_ID", "type": "string"},
            {"name": "AGE", "type": "int"},
            {"name": "MEMBERSHIP_STATUS", "type": "string", "categorical": True},
        ],
    },
}


@pytest.mark.parametrize(("expression", "filter_type", "placeholders"), DOCUMENTED_EXAMPLES)
def test_every_documented_example_parses_with_its_type_and_placeholders(
    expression: str, filter_type: str, placeholders: tuple[str, ...]
) -> None:
    parsed = parse_filter(expression)
    assert parsed.filter_type == filter_type
    assert parsed.placeholders == placeholders


@pytest.mark.parametrize(("expression", "_type", "_placeholders"), DOCUMENTED_EXAMPLES)
def test_every_documented_example_lints_clean_against_a_schema_with_its_fields(
    expression: str, _type: str, _placeholders: tuple[str, ...]
) -> None:
    assert lint_filter(expression, DOCS_SCHEMAS) == []


def test_every_configured_filter_parses_and_lints_clean_against_the_project_schemas() -> None:
    schemas = load_dataset_schemas()
    for spec in load_config()["filters"]:
        assert lint_filter(spec["expression"], schemas) == [], spec["name"]


# ------------------------------------------------------------------------------ combination rules
def test_and_binds_tighter_than_or() -> None:
    parsed = parse_filter(
        'INCLUDE ItemID WHERE Items.GENRE IN ("a") OR Items.GENRE IN ("b") AND'
        " Items.PRICE < 10 OR Items.PRICE > 99"
    )
    shape = [[str(c.left) + " " + c.op for c in conj] for conj in parsed.clauses[0].where]
    assert shape == [["Items.GENRE IN"], ["Items.GENRE IN", "Items.PRICE <"], ["Items.PRICE >"]]


def test_pipe_separates_expressions_that_keep_their_own_action_dataset_and_if() -> None:
    parsed = parse_filter(
        "INCLUDE ItemID WHERE Items.GENRE IN ($GENRE) IF CurrentUser.AGE >= 18"
        ' | EXCLUDE ItemID WHERE Interactions.EVENT_TYPE IN ("purchase")'
        " | INCLUDE ItemID WHERE Items.PRICE < 5"
    )
    assert [(c.action, c.dataset, len(c.if_conditions)) for c in parsed.clauses] == [
        ("INCLUDE", "Items", 1),
        ("EXCLUDE", "Interactions", 0),
        ("INCLUDE", "Items", 0),
    ]
    assert parsed.clauses[1].position == parsed.text.index("EXCLUDE")


def test_placeholders_are_case_sensitive_and_listed_once_in_order_of_appearance() -> None:
    parsed = parse_filter(
        "INCLUDE ItemID WHERE Items.GENRE IN ($Genre) | EXCLUDE ItemID WHERE Items.GENRE IN ($GENRE)"
        " | EXCLUDE ItemID WHERE Items.CATEGORY IN ($Genre)"
    )
    assert parsed.placeholders == ("Genre", "GENRE")


def test_if_condition_holds_current_user_comparisons_joined_with_and() -> None:
    parsed = parse_filter(
        'INCLUDE ItemID WHERE Items.GENRE IN ("x") IF CurrentUser.AGE > 18 AND CurrentUser.TIER = "gold"'
    )
    conds = parsed.clauses[0].if_conditions
    assert [(str(c.left), c.op) for c in conds] == [("CurrentUser.AGE", ">"), ("CurrentUser.TIER", "=")]
    assert conds[0].operand == (NumberValue(18.0, "18", parsed.text.index("18")),)
    assert conds[1].operand == (StringValue("gold", parsed.text.index('"gold"')),)
    assert parsed.uses_current_user


def test_current_item_is_a_field_reference_operand() -> None:
    parsed = parse_filter("INCLUDE ItemID WHERE Items.GENRE IN CurrentItem.GENRE")
    operand = parsed.clauses[0].where[0][0].operand
    assert isinstance(operand, FieldRef)
    assert (operand.source, operand.dataset, operand.field) == ("CurrentItem", "Items", "GENRE")
    assert parsed.uses_current_item


def test_star_is_the_all_event_types_wildcard() -> None:
    parsed = parse_filter('EXCLUDE ItemID WHERE Interactions.EVENT_TYPE IN ("*")')
    assert parsed.clauses[0].where[0][0].operand == (WildcardValue(parsed.text.index('"*"')),)


def test_placeholder_in_parentheses_after_a_comparison_operator() -> None:
    parsed = parse_filter("INCLUDE ItemID WHERE Items.PRICE > ($VALUE)")
    assert parsed.clauses[0].where[0][0].operand == (Placeholder("VALUE", parsed.text.index("$VALUE")),)


def test_fields_lists_distinct_dataset_fields_with_current_refs_mapped_to_their_datasets() -> None:
    parsed = parse_filter(
        "INCLUDE ItemID WHERE Items.PRICE < CurrentItem.PRICE AND Items.GENRE IN ($G) IF CurrentUser.AGE > 3"
    )
    assert parsed.fields == (("Items", "PRICE"), ("Items", "GENRE"), ("Users", "AGE"))


def test_an_expression_of_exactly_the_maximum_length_is_accepted() -> None:
    base = 'EXCLUDE ItemID WHERE Items.GENRE IN ("'
    expression = base + "x" * (MAX_EXPRESSION_LENGTH - len(base) - 2) + '")'
    assert len(expression) == MAX_EXPRESSION_LENGTH
    assert parse_filter(expression).clauses[0].action == "EXCLUDE"


# ------------------------------------------------------------------------------------- refusals
def _eleven_fields() -> str:
    return "INCLUDE ItemID WHERE " + " AND ".join(f'Items.F{i} IN ("x")' for i in range(11))


def _twenty_six_placeholders() -> str:
    return " | ".join(f"EXCLUDE ItemID WHERE Items.GENRE IN ($P{i})" for i in range(26))


# (expression, 0-based position the error must point at, a phrase the message must contain)
INVALID: list[tuple[str, int, str]] = [
    ("", 0, "expected INCLUDE or EXCLUDE"),
    ("   ", 0, "expected INCLUDE or EXCLUDE"),
    ('KEEP ItemID WHERE Items.GENRE IN ("a")', 0, "expected INCLUDE or EXCLUDE"),
    ('INCLUDE Items WHERE Items.GENRE IN ("a")', 8, "expected ItemID or UserID"),
    ('INCLUDE ItemID Items.GENRE IN ("a")', 15, "expected WHERE"),
    ("INCLUDE ItemID WHERE", 20, "expected a dataset field"),
    ('INCLUDE ItemID WHERE Products.GENRE IN ("a")', 21, "expected a dataset field"),
    ('INCLUDE ItemID WHERE Items GENRE IN ("a")', 27, "expected '.'"),
    ('INCLUDE ItemID WHERE Items.GENRE LIKE ("a")', 33, "expected IN, NOT IN or a comparison operator"),
    ('INCLUDE ItemID WHERE Items.GENRE IN "a"', 36, "expected '('"),
    ("INCLUDE ItemID WHERE Items.GENRE IN ()", 37, 'expected a quoted value ("...") or a $PLACEHOLDER'),
    ('INCLUDE ItemID WHERE Items.GENRE IN ("a" "b")', 41, "expected ',' or ')'"),
    ('INCLUDE ItemID WHERE Items.GENRE IN ("a)', 37, "unterminated string"),
    ("INCLUDE ItemID WHERE Items.GENRE IN (a)", 37, 'expected a quoted value ("...") or a $PLACEHOLDER'),
    ("INCLUDE ItemID WHERE Items.GENRE IN (10)", 37, 'quote the number as "10"'),
    (
        "EXCLUDE ItemID WHERE Items.GENRE NOT IN ($GENRE)",
        41,
        "Placeholders are not allowed with NOT_IN operator",
    ),
    ("INCLUDE ItemID WHERE Items.GENRE IN ($)", 38, "placeholder name"),
    ('INCLUDE ItemID WHERE Items.GENRE IN ("a", $G)', 42, "must be the only value"),
    ('INCLUDE ItemID WHERE Items.GENRE IN ("*")', 37, '"*" (all event types) can be used only with'),
    ('EXCLUDE ItemID WHERE Interactions.EVENT_TYPE IN ("*", "click")', 49, '"*" must be the only event type'),
    ('EXCLUDE ItemID WHERE Interactions.TIMESTAMP IN ("1")', 34, "only EVENT_TYPE"),
    ("EXCLUDE ItemID WHERE Interactions.EVENT_TYPE = $T", 45, "only with IN or NOT IN"),
    (
        'INCLUDE ItemID WHERE Items.GENRE IN ("a") AND Interactions.EVENT_TYPE IN ("click")',
        46,
        "must use the Items dataset of the first condition",
    ),
    ('INCLUDE ItemID WHERE Users.AGE > 3 AND Items.GENRE IN ("a")', 21, "not Users"),
    ('INCLUDE UserID WHERE Items.GENRE IN ("a")', 21, "UserID filters can use Users and Interactions"),
    ("INCLUDE ItemID WHERE CurrentUser.AGE > 18", 21, "only in an IF condition"),
    ('INCLUDE ItemID WHERE CurrentItem.GENRE IN ("a")', 21, "CurrentItem can be used only as the value"),
    ("INCLUDE UserID WHERE Users.AGE > CurrentItem.AGE", 33, "only in the WHERE part of ItemID filters"),
    ('INCLUDE ItemID WHERE Items.GENRE IN ("a") IF Items.PRICE > 3', 45, "expected CurrentUser.FIELD"),
    (
        'INCLUDE ItemID WHERE Items.GENRE IN ("a") IF CurrentUser.AGE > 3 OR CurrentUser.AGE < 2',
        65,
        "only be extended with AND",
    ),
    (
        'INCLUDE ItemID WHERE Items.GENRE IN ("a") IF CurrentUser.AGE > 3 IF CurrentUser.AGE < 9',
        65,
        "only once",
    ),
    ("INCLUDE UserID WHERE Users.AGE > 3 IF CurrentUser.AGE > 3", 35, "only to ItemID filters"),
    ('INCLUDE ItemID WHERE Items.PRICE < "cheap"', 35, "compares numbers"),
    ("INCLUDE ItemID WHERE Items.PRICE <", 34, "expected a number, a $PLACEHOLDER or CurrentItem.FIELD"),
    ('INCLUDE ItemID WHERE Items.GENRE IN ("a") |', 43, "expected INCLUDE or EXCLUDE"),
    (
        'INCLUDE ItemID WHERE Items.GENRE IN ("a") | EXCLUDE UserID WHERE Users.AGE < 3',
        44,
        "must filter ItemID, not UserID",
    ),
    ('INCLUDE ItemID WHERE Items.GENRE IN ("a") AND', 45, "expected a dataset field"),
    ('INCLUDE ItemID WHERE Items.GENRE IN ("a") EXCLUDE', 42, "expected '|', 'AND', 'OR', 'IF'"),
    ('INCLUDE ItemID WHERE Items.GENRE IN ("a"); DROP', 41, "unexpected character ';'"),
    ('INCLUDE ActionID WHERE Actions.CATEGORY IN ("a")', 8, "ActionID filters need an Actions dataset"),
    ('EXCLUDE ItemID WHERE Items.GENRE IN ("' + "x" * 2500 + '")', MAX_EXPRESSION_LENGTH, "longer than 2500"),
    (_eleven_fields(), _eleven_fields().index("Items.F10"), "at most 10 distinct dataset fields"),
    (_twenty_six_placeholders(), _twenty_six_placeholders().index("$P25"), "at most 25 placeholder"),
]


@pytest.mark.parametrize(("expression", "position", "phrase"), INVALID)
def test_invalid_expression_is_refused_at_its_position(expression: str, position: int, phrase: str) -> None:
    with pytest.raises(FilterExpressionError) as caught:
        parse_filter(expression)
    assert (caught.value.position, phrase in caught.value.message) == (position, True), caught.value.message


def test_there_are_at_least_twenty_distinct_refusals() -> None:
    assert len({expression for expression, _, _ in INVALID}) >= 20


def test_error_messages_use_the_service_style_and_say_what_was_expected() -> None:
    with pytest.raises(FilterExpressionError) as caught:
        parse_filter('INCLUDE ItemID WHERE Items.GENRE IN "a"')
    assert str(caught.value) == (
        "Invalid filter expression: expected '(' and a list of values after IN"
        " at position 36 but found '\"a\"'"
    )
    assert caught.value.pointer('INCLUDE ItemID WHERE Items.GENRE IN "a"').splitlines()[1] == " " * 36 + "^"


def test_lint_reports_a_syntax_error_as_one_problem_with_its_position() -> None:
    problems = lint_filter("EXCLUDE ItemID WHERE", DOCS_SCHEMAS)
    assert [(p.position, p.rule) for p in problems] == [(20, "syntax")]
