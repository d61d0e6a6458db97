"""compile_filter / CompiledFilter on a small in-memory catalog, user table and history."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import pytest

from local_stack.personalize.filtering import (
    RECENT_INTERACTIONS_PER_EVENT_TYPE,
    CompiledFilter,
    FilterContext,
    FilterContextError,
    FilterValuesError,
    Interaction,
    compile_filter,
    parse_filter_values,
)
from personalize_rules.filter_expression import FilterExpressionError
from pipeline.config import load_dataset_schemas

ITEMS: dict[str, dict[str, Any]] = {
    "shoe-1": {"ITEM_ID": "shoe-1", "CATEGORY_L1": "shoes", "CATEGORY_L2": "boots", "PRICE": 80.0},
    "shoe-2": {"ITEM_ID": "shoe-2", "CATEGORY_L1": "shoes", "CATEGORY_L2": "sneakers", "PRICE": 60.0},
    "sock-1": {"ITEM_ID": "sock-1", "CATEGORY_L1": "socks|sale", "CATEGORY_L2": None, "PRICE": 5.0},
    "hat-1": {"ITEM_ID": "hat-1", "CATEGORY_L1": "hats", "CATEGORY_L2": "", "PRICE": "25.5"},
    "bag-1": {"ITEM_ID": "bag-1", "CATEGORY_L1": "bags|sale", "PRICE": 120},
}
CANDIDATES = ["bag-1", "shoe-2", "hat-1", "sock-1", "shoe-1", "unknown-9"]

USERS: dict[str, dict[str, Any]] = {
    "u-adult": {"USER_ID": "u-adult", "AGE": 40, "MEMBERSHIP_TIER": "gold", "COUNTRY": "UK"},
    "u-teen": {"USER_ID": "u-teen", "AGE": "15", "MEMBERSHIP_TIER": "basic", "COUNTRY": "FR"},
    "u-anon": {"USER_ID": "u-anon", "AGE": None, "MEMBERSHIP_TIER": None, "COUNTRY": None},
}
HISTORY: dict[str, list[Interaction]] = {
    "u-adult": [Interaction("shoe-2", "Purchase", 100), Interaction("hat-1", "click", 200)],
    "u-teen": [Interaction("sock-1", "click", 50)],
}


@pytest.fixture(scope="module")
def schemas() -> dict[str, dict[str, Any]]:
    return load_dataset_schemas()


def ctx(
    user_id: str | None = "u-adult",
    *,
    interactions: Sequence[Interaction] | None = None,
    current_item: str | None = None,
) -> FilterContext:
    return FilterContext(
        user_id=user_id,
        interactions=HISTORY.get(user_id or "", []) if interactions is None else interactions,
        user_metadata=USERS.get(user_id or ""),
        current_item=ITEMS[current_item] if current_item else None,
        item_metadata=ITEMS.get,
        user_metadata_lookup=USERS.get,
        user_interactions_lookup=lambda uid: HISTORY.get(uid, []),
    )


def items(
    schemas: Mapping[str, Mapping[str, Any]],
    expression: str,
    context: FilterContext,
    values: Mapping[str, str] | None = None,
) -> list[str]:
    return compile_filter(expression, schemas).allowed_items(CANDIDATES, context, values or {})


# ------------------------------------------------------------------------------ interactions
def test_exclude_purchased_removes_what_the_user_bought_and_keeps_candidate_order(schemas: Any) -> None:
    got = items(schemas, 'EXCLUDE ItemID WHERE Interactions.EVENT_TYPE IN ("purchase")', ctx())
    assert got == ["bag-1", "hat-1", "sock-1", "shoe-1", "unknown-9"]


def test_event_types_match_case_insensitively_but_item_values_do_not(schemas: Any) -> None:
    assert "shoe-2" not in items(
        schemas, 'EXCLUDE ItemID WHERE Interactions.EVENT_TYPE IN ("PURCHASE")', ctx()
    )
    assert items(schemas, 'INCLUDE ItemID WHERE Items.CATEGORY_L1 IN ("SHOES")', ctx()) == []


def test_star_excludes_items_of_every_event_type(schemas: Any) -> None:
    got = items(schemas, 'EXCLUDE ItemID WHERE Interactions.EVENT_TYPE IN ("*")', ctx())
    assert got == ["bag-1", "sock-1", "shoe-1", "unknown-9"]


def test_include_interacted_keeps_only_items_of_that_event_type(schemas: Any) -> None:
    assert items(schemas, 'INCLUDE ItemID WHERE Interactions.EVENT_TYPE IN ("click")', ctx()) == ["hat-1"]


def test_not_in_on_event_types_means_interacted_with_another_event_type(schemas: Any) -> None:
    assert items(schemas, 'INCLUDE ItemID WHERE Interactions.EVENT_TYPE NOT IN ("click")', ctx()) == [
        "shoe-2"
    ]


def test_only_the_100_most_recent_interactions_per_event_type_count(schemas: Any) -> None:
    views = [Interaction(f"v{i}", "view", float(i)) for i in range(150)]
    history = [*views, Interaction("v0", "purchase", 0.0)]
    context = ctx(interactions=history)
    candidates = [f"v{i}" for i in range(150)]
    f = compile_filter('EXCLUDE ItemID WHERE Interactions.EVENT_TYPE IN ("view")', schemas)
    survivors = f.allowed_items(candidates, context, {})
    assert RECENT_INTERACTIONS_PER_EVENT_TYPE == 100
    assert survivors == [f"v{i}" for i in range(50)]  # the 50 oldest views fall out of the window
    # The window is per event type: an old purchase still counts for "purchase" and for "*".
    everything = compile_filter('EXCLUDE ItemID WHERE Interactions.EVENT_TYPE IN ("*")', schemas)
    assert "v0" not in everything.allowed_items(candidates, context, {})


def test_a_purchase_added_to_the_history_is_excluded_on_the_next_call(schemas: Any) -> None:
    f = compile_filter('EXCLUDE ItemID WHERE Interactions.EVENT_TYPE IN ("Purchase")', schemas)
    history = list(HISTORY["u-adult"])
    assert "bag-1" in f.allowed_items(CANDIDATES, ctx(interactions=history), {})
    history.append(Interaction("bag-1", "Purchase", 300))
    assert "bag-1" not in f.allowed_items(CANDIDATES, ctx(interactions=history), {})


# ------------------------------------------------------------------------------------ items
def test_categorical_multi_values_match_any_of_their_values(schemas: Any) -> None:
    got = items(schemas, 'INCLUDE ItemID WHERE Items.CATEGORY_L1 IN ("sale")', ctx())
    assert got == ["bag-1", "sock-1"]


def test_not_in_keeps_items_without_a_value(schemas: Any) -> None:
    expression = 'EXCLUDE ItemID WHERE Items.CATEGORY_L1 IN ("shoes") AND Items.CATEGORY_L2 NOT IN ("boots")'
    assert items(schemas, expression, ctx()) == ["bag-1", "hat-1", "sock-1", "shoe-1", "unknown-9"]


def test_a_missing_or_empty_value_is_not_in_any_list(schemas: Any) -> None:
    got = items(schemas, 'INCLUDE ItemID WHERE Items.CATEGORY_L2 NOT IN ("boots")', ctx())
    assert got == ["bag-1", "shoe-2", "hat-1", "sock-1", "unknown-9"]
    assert items(schemas, 'INCLUDE ItemID WHERE Items.CATEGORY_L2 IN ("boots")', ctx()) == ["shoe-1"]


def test_and_binds_tighter_than_or_when_evaluating(schemas: Any) -> None:
    expression = (
        'INCLUDE ItemID WHERE Items.CATEGORY_L1 IN ("hats") OR'
        ' Items.CATEGORY_L1 IN ("shoes") AND Items.PRICE < 70'
    )
    assert items(schemas, expression, ctx()) == ["shoe-2", "hat-1"]


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ("INCLUDE ItemID WHERE Items.PRICE < 25.5", ["sock-1"]),
        ("INCLUDE ItemID WHERE Items.PRICE <= 25.5", ["hat-1", "sock-1"]),
        ("INCLUDE ItemID WHERE Items.PRICE = 120", ["bag-1"]),
        ("INCLUDE ItemID WHERE Items.PRICE != 120", ["shoe-2", "hat-1", "sock-1", "shoe-1"]),
        ("INCLUDE ItemID WHERE Items.PRICE > 60", ["bag-1", "shoe-1"]),
        ("INCLUDE ItemID WHERE Items.PRICE >= 60", ["bag-1", "shoe-2", "shoe-1"]),
    ],
)
def test_numeric_comparisons_read_numbers_stored_as_text_too(
    schemas: Any, expression: str, expected: list[str]
) -> None:
    assert items(schemas, expression, ctx()) == expected


# ----------------------------------------------------------------------------- placeholders
def test_placeholder_values_are_quoted_and_comma_separated(schemas: Any) -> None:
    expression = "INCLUDE ItemID WHERE Items.CATEGORY_L1 IN ($CATEGORY)"
    got = items(schemas, expression, ctx(), {"CATEGORY": '"hats","socks"'})
    assert got == ["hat-1", "sock-1"]


def test_numeric_placeholder_accepts_quoted_and_bare_numbers(schemas: Any) -> None:
    expression = "INCLUDE ItemID WHERE Items.PRICE <= $PRICE"
    assert items(schemas, expression, ctx(), {"PRICE": '"25.5"'}) == ["hat-1", "sock-1"]
    assert items(schemas, expression, ctx(), {"PRICE": "5"}) == ["sock-1"]


def test_an_include_placeholder_must_be_supplied(schemas: Any) -> None:
    with pytest.raises(FilterValuesError) as caught:
        items(schemas, "INCLUDE ItemID WHERE Items.CATEGORY_L1 IN ($CATEGORY)", ctx(), {"category": '"hats"'})
    assert caught.value.placeholder == "CATEGORY"


def test_an_omitted_exclude_placeholder_drops_only_its_expression(schemas: Any) -> None:
    expression = (
        "EXCLUDE ItemID WHERE Items.CATEGORY_L1 IN ($CATEGORY)"
        ' | EXCLUDE ItemID WHERE Interactions.EVENT_TYPE IN ("purchase")'
    )
    assert items(schemas, expression, ctx()) == ["bag-1", "hat-1", "sock-1", "shoe-1", "unknown-9"]
    assert items(schemas, expression, ctx(), {"CATEGORY": '"bags"'}) == [
        "hat-1",
        "sock-1",
        "shoe-1",
        "unknown-9",
    ]


def test_event_type_placeholder_matches_case_insensitively(schemas: Any) -> None:
    expression = "EXCLUDE ItemID WHERE Interactions.EVENT_TYPE IN ($EVENT_TYPE)"
    assert items(schemas, expression, ctx(), {"EVENT_TYPE": '"CLICK","purchase"'}) == [
        "bag-1",
        "sock-1",
        "shoe-1",
        "unknown-9",
    ]


@pytest.mark.parametrize(
    ("values", "phrase"),
    [
        ({"PRICE": '"cheap"'}, "must be a number"),
        ({"PRICE": '"1","2"'}, "must hold one value"),
        ({"PRICE": '"10'}, "unterminated"),
        ({f"K{i}": '"x"' for i in range(26)}, "at most 25"),
        ({"PRICE": "9" * 1001}, "longer than 1000"),
    ],
)
def test_malformed_filter_values_are_refused(schemas: Any, values: dict[str, str], phrase: str) -> None:
    with pytest.raises(FilterValuesError) as caught:
        items(schemas, "EXCLUDE ItemID WHERE Items.PRICE > $PRICE", ctx(), values)
    assert phrase in caught.value.message


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ('"shoes","socks"', ["shoes", "socks"]),
        ('"a, b" , "c"', ["a, b", "c"]),
        ('"say \\"hi\\""', ['say "hi"']),
        ("10", ["10"]),
        ("", []),
    ],
)
def test_parse_filter_values(raw: str, expected: list[str]) -> None:
    assert parse_filter_values(raw) == expected


# ------------------------------------------------------------------------- combination rules
def test_includes_are_united_and_excludes_subtracted_whatever_their_order(schemas: Any) -> None:
    a = 'INCLUDE ItemID WHERE Items.CATEGORY_L1 IN ("shoes")'
    b = 'INCLUDE ItemID WHERE Items.CATEGORY_L1 IN ("sale")'
    c = 'EXCLUDE ItemID WHERE Interactions.EVENT_TYPE IN ("purchase")'
    d = "EXCLUDE ItemID WHERE Items.PRICE > 100"
    expected = ["sock-1", "shoe-1"]  # (shoes ∪ sale) − (purchased ∪ over 100)
    assert items(schemas, f"{a} | {b} | {c} | {d}", ctx()) == expected
    assert items(schemas, f"{d} | {c} | {b} | {a}", ctx()) == expected


def test_if_current_user_applies_the_expression_only_when_it_holds(schemas: Any) -> None:
    expression = 'EXCLUDE ItemID WHERE Items.CATEGORY_L1 IN ("shoes") IF CurrentUser.AGE < 18'
    assert items(schemas, expression, ctx("u-teen")) == ["bag-1", "hat-1", "sock-1", "unknown-9"]
    assert items(schemas, expression, ctx("u-adult")) == CANDIDATES
    assert items(schemas, expression, ctx("u-anon")) == CANDIDATES  # no value: the condition is false
    assert items(schemas, expression, ctx("nobody")) == CANDIDATES  # no metadata row at all


def test_if_with_placeholders_and_string_equality(schemas: Any) -> None:
    expression = (
        'INCLUDE ItemID WHERE Items.CATEGORY_L1 IN ($CAT) IF CurrentUser.MEMBERSHIP_TIER = "gold"'
        " AND CurrentUser.AGE >= $MIN_AGE"
    )
    values = {"CAT": '"bags"', "MIN_AGE": "18"}
    assert items(schemas, expression, ctx("u-adult"), values) == ["bag-1"]
    assert items(schemas, expression, ctx("u-teen"), values) == CANDIDATES


def test_current_item_compares_candidates_with_the_item_of_a_related_items_request(schemas: Any) -> None:
    expression = (
        "INCLUDE ItemID WHERE Items.PRICE < CurrentItem.PRICE AND"
        " Items.CATEGORY_L1 IN CurrentItem.CATEGORY_L1"
    )
    assert items(schemas, expression, ctx(current_item="shoe-1")) == ["shoe-2"]
    assert items(schemas, expression, ctx(current_item="bag-1")) == ["sock-1"]  # shares "sale"


def test_current_item_filter_needs_an_item_in_the_request(schemas: Any) -> None:
    with pytest.raises(FilterContextError):
        items(schemas, "INCLUDE ItemID WHERE Items.PRICE < CurrentItem.PRICE", ctx())


# ---------------------------------------------------------------------------- user segments
def test_user_segment_filters_on_user_metadata_and_interactions(schemas: Any) -> None:
    users = ["u-adult", "u-teen", "u-anon", "nobody"]
    tier = compile_filter("INCLUDE UserID WHERE Users.MEMBERSHIP_TIER IN ($TIER)", schemas)
    assert tier.filter_type == "UserID" and tier.placeholders == ("TIER",)
    assert tier.allowed_users(users, ctx(None), {"TIER": '"gold","basic"'}) == ["u-adult", "u-teen"]
    buyers = compile_filter('EXCLUDE UserID WHERE Interactions.EVENT_TYPE IN ("purchase")', schemas)
    assert buyers.allowed_users(users, ctx(None), {}) == ["u-teen", "u-anon", "nobody"]
    adults = compile_filter("EXCLUDE UserID WHERE Users.AGE < 18", schemas)
    assert adults.allowed_users(users, ctx(None), {}) == ["u-adult", "u-anon", "nobody"]


def test_item_and_user_filters_cannot_be_swapped(schemas: Any) -> None:
    item_filter = compile_filter('EXCLUDE ItemID WHERE Interactions.EVENT_TYPE IN ("*")', schemas)
    user_filter = compile_filter("EXCLUDE UserID WHERE Users.AGE < 18", schemas)
    with pytest.raises(FilterContextError):
        item_filter.allowed_users(["u-adult"], ctx(), {})
    with pytest.raises(FilterContextError):
        user_filter.allowed_items(["shoe-1"], ctx(), {})


# ----------------------------------------------------------------------------------- compile
def test_compile_refuses_schema_errors_at_their_position(schemas: Any) -> None:
    expression = 'INCLUDE ItemID WHERE Items.DESCRIPTION IN ("luxury")'
    with pytest.raises(FilterExpressionError) as caught:
        compile_filter(expression, schemas)
    assert caught.value.position == expression.index("Items.DESCRIPTION")
    assert caught.value.message.startswith("Invalid filter expression: ")


def test_compiled_filter_exposes_its_placeholders_and_type(schemas: Any) -> None:
    f = compile_filter(
        "INCLUDE ItemID WHERE Items.CATEGORY_L1 IN ($CATEGORY) IF CurrentUser.AGE > $AGE", schemas
    )
    assert isinstance(f, CompiledFilter)
    assert (f.filter_type, f.placeholders) == ("ItemID", ("CATEGORY", "AGE"))
