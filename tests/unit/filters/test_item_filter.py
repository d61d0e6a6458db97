"""item_filter: the item-metadata part of a filter evaluated on catalog rows (the API fallback uses it)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import pytest

from personalize_rules.filter_expression import parse_filter
from personalize_rules.item_filter import ItemColumn, ItemFilterValuesError, item_filter

COLUMNS = {
    "CATEGORY_L1": ItemColumn(categorical=True),
    "BRAND": ItemColumn(),
    "PRICE": ItemColumn(numeric=True),
}
ROWS = {
    "shoe": {"CATEGORY_L1": "shoes", "BRAND": "acme", "PRICE": "80"},
    "sock": {"CATEGORY_L1": "socks|sale", "BRAND": "acme", "PRICE": "5.5"},
    "hat": {"CATEGORY_L1": "hats", "BRAND": "hatco", "PRICE": ""},
    "bag": {"CATEGORY_L1": "bags|sale", "BRAND": "baggy", "PRICE": "120"},
}


def allowed(expression: str, values: Mapping[str, Sequence[str]] | None = None) -> list[str]:
    found = item_filter(parse_filter(expression), COLUMNS, values or {})
    return [name for name, row in ROWS.items() if found.allows(row.get)]


@pytest.mark.parametrize(
    ("expression", "values", "expected"),
    [
        ('INCLUDE ItemID WHERE Items.CATEGORY_L1 IN ("sale")', {}, ["sock", "bag"]),
        ("INCLUDE ItemID WHERE Items.CATEGORY_L1 IN ($C)", {"C": ["shoes", "hats"]}, ["shoe", "hat"]),
        ('EXCLUDE ItemID WHERE Items.CATEGORY_L1 IN ("sale")', {}, ["shoe", "hat"]),
        ('INCLUDE ItemID WHERE Items.CATEGORY_L1 NOT IN ("sale")', {}, ["shoe", "hat"]),
        ("INCLUDE ItemID WHERE Items.PRICE < 100", {}, ["shoe", "sock"]),  # an empty price never matches
        ("INCLUDE ItemID WHERE Items.PRICE >= $MIN", {"MIN": ["80"]}, ["shoe", "bag"]),
        ('INCLUDE ItemID WHERE Items.BRAND = "acme" AND Items.PRICE > 10', {}, ["shoe"]),
        ('INCLUDE ItemID WHERE Items.BRAND = "hatco" OR Items.PRICE > 100', {}, ["hat", "bag"]),
        ('INCLUDE ItemID WHERE Items.BRAND != "acme"', {}, ["hat", "bag"]),
        (
            'INCLUDE ItemID WHERE Items.CATEGORY_L1 IN ("sale") | EXCLUDE ItemID WHERE Items.PRICE > 100',
            {},
            ["sock"],
        ),
        # An EXCLUDE expression whose placeholder has no value is skipped, as the service does.
        ("EXCLUDE ItemID WHERE Items.CATEGORY_L1 IN ($SKIP)", {}, ["shoe", "sock", "hat", "bag"]),
    ],
)
def test_item_metadata_clauses_select_the_rows_the_service_would(
    expression: str, values: Mapping[str, Sequence[str]], expected: list[str]
) -> None:
    assert allowed(expression, values) == expected


@pytest.mark.parametrize(
    "expression",
    [
        'EXCLUDE ItemID WHERE Interactions.EVENT_TYPE IN ("Purchase")',
        'INCLUDE ItemID WHERE Items.BRAND IN ("acme") IF CurrentUser.AGE > 18',
        "INCLUDE ItemID WHERE Items.CATEGORY_L1 IN CurrentItem.CATEGORY_L1",
    ],
)
def test_clauses_the_catalog_cannot_answer_make_the_filter_incomplete(expression: str) -> None:
    found = item_filter(parse_filter(expression), COLUMNS, {})
    assert not found.complete
    assert not found.includes and not found.excludes


def test_the_evaluable_clauses_still_apply_beside_an_interactions_clause() -> None:
    expression = (
        'EXCLUDE ItemID WHERE Interactions.EVENT_TYPE IN ("*") | INCLUDE ItemID WHERE Items.PRICE < 10'
    )
    found = item_filter(parse_filter(expression), COLUMNS, {})
    assert not found.complete
    assert [n for n, row in ROWS.items() if found.allows(row.get)] == ["sock"]


def test_an_include_without_its_values_matches_nothing() -> None:
    assert allowed("INCLUDE ItemID WHERE Items.CATEGORY_L1 IN ($C)") == []


@pytest.mark.parametrize(
    ("values", "why"), [({"MIN": ["a"]}, "compares numbers"), ({"MIN": ["1", "2"]}, "one value")]
)
def test_a_value_that_does_not_fit_its_condition_names_the_placeholder(
    values: Mapping[str, Sequence[str]], why: str
) -> None:
    with pytest.raises(ItemFilterValuesError, match=why) as info:
        item_filter(parse_filter("INCLUDE ItemID WHERE Items.PRICE > $MIN"), COLUMNS, values)
    assert info.value.placeholder == "MIN"
