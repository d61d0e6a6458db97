from __future__ import annotations

import pytest

from personalize_rules.metadata_rules import (
    MAX_RESULTS,
    MAX_RESULTS_WITH_METADATA,
    MetadataColumnsError,
    check_metadata_columns,
    max_results,
)
from personalize_rules.promotion_rules import (
    PromotionError,
    check_percent,
    check_promotion_name,
    promoted_count,
)


@pytest.mark.parametrize(
    ("n", "percent", "expected"),
    [(10, 20, 2), (10, 25, 3), (10, 100, 10), (1, 10, 0), (1, 50, 1), (25, 1, 0), (50, 1, 1), (0, 50, 0)],
)
def test_the_promoted_share_rounds_half_up_and_never_exceeds_the_list(
    n: int, percent: int, expected: int
) -> None:
    assert promoted_count(n, percent) == expected


@pytest.mark.parametrize("bad", [0, 101, -5, 12.5, True, "20", None])
def test_a_share_outside_1_to_100_is_refused(bad: object) -> None:
    with pytest.raises(PromotionError, match="from 1 to 100"):
        check_percent(bad)


def test_promotion_names_follow_the_documented_pattern() -> None:
    assert check_promotion_name("new-arrivals_2") == "new-arrivals_2"
    for bad in ("", "-lead", "has space", "x" * 64):
        with pytest.raises(PromotionError):
            check_promotion_name(bad)


def test_metadata_columns_are_checked_against_the_documented_limits_and_the_schema() -> None:
    schema = ["ITEM_ID", "NAME", "PRICE", "IMAGE"]
    assert check_metadata_columns({"ITEMS": ["NAME", "price"]}, schema) == ["NAME", "price"]
    with pytest.raises(MetadataColumnsError, match="at most 10"):
        check_metadata_columns({"ITEMS": [f"C{i}" for i in range(11)]})
    with pytest.raises(MetadataColumnsError, match="not columns of the Items dataset: COLOUR"):
        check_metadata_columns({"ITEMS": ["NAME", "COLOUR"]}, schema)
    with pytest.raises(MetadataColumnsError, match="the only key is ITEMS"):
        check_metadata_columns({"USERS": ["AGE"]}, schema)
    with pytest.raises(MetadataColumnsError, match="twice"):
        check_metadata_columns({"ITEMS": ["NAME", "NAME"]}, schema)


def test_metadata_caps_the_list_at_50() -> None:
    assert (max_results(True), max_results(False)) == (MAX_RESULTS_WITH_METADATA, MAX_RESULTS) == (50, 500)
