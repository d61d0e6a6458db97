"""The part of a filter expression that reads item metadata alone, as a predicate over catalog rows.

What the API uses when Personalize cannot answer: `Items.CATEGORY_L1 IN ($CATEGORY)` or `Items.PRICE < 50`
can be evaluated on the catalog; `Interactions.EVENT_TYPE`, `IF CurrentUser…` and `CurrentItem` cannot
(they need the user's history, the user's row or a current item), so a clause using them is reported as
not evaluable and the caller decides what the filter means without it.

Semantics follow the service's documentation ("Filtering recommendations and user segments",
https://docs.aws.amazon.com/personalize/latest/dg/filter.html): expressions joined with ``|`` combine as
(union of INCLUDE results) minus (union of EXCLUDE results), everything when no INCLUDE expression is in
force; an EXCLUDE expression whose placeholder has no value is skipped. How one condition compares a row
(categorical cells, numbers, placeholder values) is filter_conditions', shared with the emulator.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from personalize_rules.filter_conditions import (
    FieldColumn,
    FilterValueError,
    PlaceholderMissingError,
    where_predicate,
)
from personalize_rules.filter_expression import Clause, FieldRef, FilterExpression

__all__ = ["ItemColumn", "ItemFilter", "ItemFilterValuesError", "item_filter"]

Row = Callable[[str], str | None]  # the raw text of a column of one catalog row (None when absent)

ItemColumn = FieldColumn  # how a catalog column compares (numeric; categorical, split on `|`)
ItemFilterValuesError = FilterValueError  # a placeholder value does not fit its condition


@dataclass(frozen=True)
class ItemFilter:
    """The evaluable part of a filter for one request's values.

    `complete` is False when some clause needs interactions, the user's row or a current item: then
    `allows` is only the item-metadata part of the filter.
    """

    includes: tuple[Callable[[Row], bool], ...]
    excludes: tuple[Callable[[Row], bool], ...]
    complete: bool

    def allows(self, row: Row) -> bool:
        for exclude in self.excludes:
            if exclude(row):
                return False
        if not self.includes:
            return True
        return any(include(row) for include in self.includes)


def _evaluable(clause: Clause) -> bool:
    return (
        clause.dataset == "Items"
        and not clause.if_conditions
        and not any(isinstance(c.operand, FieldRef) for c in clause.conditions)
    )


def item_filter(
    expression: FilterExpression,
    columns: Mapping[str, ItemColumn],
    values: Mapping[str, Sequence[str]],
) -> ItemFilter:
    """The item-metadata clauses of an ItemID filter with the request's placeholder values.

    `columns` maps catalog column names (upper case) to how they compare; `values` maps a placeholder
    name to its values (absent or empty: not supplied). A missing INCLUDE placeholder makes the INCLUDE
    clause match nothing (Personalize refuses such a request, so the caller checks it first).
    """

    def field(ref: FieldRef) -> tuple[ItemColumn, Callable[[Row], object]]:
        name = ref.field.upper()
        return columns.get(name, ItemColumn()), lambda row: row(name)

    def supplied(placeholder: str) -> Sequence[str]:
        found = values.get(placeholder)
        if not found:
            raise PlaceholderMissingError(placeholder)
        return found

    includes: list[Callable[[Row], bool]] = []
    excludes: list[Callable[[Row], bool]] = []
    complete = True
    for clause in expression.clauses:
        if not _evaluable(clause):
            complete = False
            continue
        try:
            predicate = where_predicate(clause, field, supplied)
        except PlaceholderMissingError:
            if clause.action == "INCLUDE":
                includes.append(lambda row: False)
            continue  # an EXCLUDE expression without values is skipped, as the service does
        (includes if clause.action == "INCLUDE" else excludes).append(predicate)
    return ItemFilter(tuple(includes), tuple(excludes), complete)
