"""The part of a filter expression that reads item metadata alone, as a predicate over catalog rows.

What the API uses when Personalize cannot answer: `Items.CATEGORY_L1 IN ($CATEGORY)` or `Items.PRICE < 50`
can be evaluated on the catalog; `Interactions.EVENT_TYPE`, `IF CurrentUser…` and `CurrentItem` cannot
(they need the user's history, the user's row or a current item), so a clause using them is reported as
not evaluable and the caller decides what the filter means without it.

Semantics follow the service's documentation ("Filtering recommendations and user segments",
https://docs.aws.amazon.com/personalize/latest/dg/filter.html): expressions joined with ``|`` combine as
(union of INCLUDE results) minus (union of EXCLUDE results), everything when no INCLUDE expression is in
force; an EXCLUDE expression whose placeholder has no value is skipped; a categorical cell holds several
values separated by ``|`` and ``IN`` matches any of them; numbers compare as numbers.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from personalize_rules.errors import RulesError
from personalize_rules.filter_expression import (
    Clause,
    Condition,
    FieldRef,
    FilterExpression,
    NumberValue,
    Placeholder,
    StringValue,
)

__all__ = ["ItemColumn", "ItemFilter", "ItemFilterValuesError", "item_filter"]

Row = Callable[[str], str | None]  # the raw text of a column of one catalog row (None when absent)
_Cond = Callable[[Row], bool]


class ItemFilterValuesError(RulesError, ValueError):
    """A placeholder value does not fit its condition (a number expected, one value expected)."""

    def __init__(self, placeholder: str, why: str) -> None:
        super().__init__(f"${placeholder}", why)
        self.placeholder = placeholder


@dataclass(frozen=True)
class ItemColumn:
    """How a catalog column compares: as a number (int, long, float, double) or as text (split on `|`
    when categorical)."""

    numeric: bool = False
    categorical: bool = False


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


def _numeric(raw: str | None) -> float | None:
    if raw is None or raw == "":
        return None
    try:
        return float(raw)
    except ValueError:
        return None


def _strings(raw: str | None, column: ItemColumn) -> frozenset[str]:
    if raw is None or raw == "":
        return frozenset()
    return frozenset(v for v in raw.split("|") if v) if column.categorical else frozenset((raw,))


_COMPARE: dict[str, Callable[[float, float], bool]] = {
    "=": lambda a, b: a == b,
    "!=": lambda a, b: a != b,
    "<": lambda a, b: a < b,
    "<=": lambda a, b: a <= b,
    ">": lambda a, b: a > b,
    ">=": lambda a, b: a >= b,
}


class _Missing(Exception):
    pass


def _condition(
    cond: Condition, columns: Mapping[str, ItemColumn], values: Mapping[str, Sequence[str]]
) -> _Cond:
    name = cond.left.field.upper()
    column = columns.get(name, ItemColumn())
    operand = cond.operand
    assert not isinstance(operand, FieldRef)  # CurrentItem operands are screened out by the caller

    def supplied(placeholder: Placeholder) -> Sequence[str]:
        found = values.get(placeholder.name)
        if not found:
            raise _Missing(placeholder.name)
        return found

    if cond.op in ("IN", "NOT IN"):
        wanted: set[str] = set()
        for value in operand:
            if isinstance(value, StringValue):
                wanted.add(value.value)
            elif isinstance(value, Placeholder):
                wanted.update(supplied(value))
        target = frozenset(wanted)
        if cond.op == "IN":
            return lambda row: not _strings(row(name), column).isdisjoint(target)
        return lambda row: _strings(row(name), column).isdisjoint(target)
    compare = _COMPARE[cond.op]
    value = operand[0]
    number: float | None
    if isinstance(value, NumberValue):
        number = value.value
    elif isinstance(value, StringValue):
        text = frozenset((value.value,))
        if cond.op == "=":
            return lambda row: not _strings(row(name), column).isdisjoint(text)
        return lambda row: _strings(row(name), column).isdisjoint(text)
    else:
        assert isinstance(value, Placeholder)
        given = supplied(value)
        if len(given) != 1:
            raise ItemFilterValuesError(
                value.name, f"{cond.left} {cond.op} takes one value, got {len(given)}"
            )
        if not column.numeric:
            text = frozenset(given)
            if cond.op == "=":
                return lambda row: not _strings(row(name), column).isdisjoint(text)
            return lambda row: _strings(row(name), column).isdisjoint(text)
        number = _numeric(given[0])
        if number is None:
            raise ItemFilterValuesError(
                value.name, f"{cond.left} {cond.op} compares numbers, got {given[0]!r}"
            )
    rhs = number

    def numeric(row: Row) -> bool:
        lhs = _numeric(row(name))
        return lhs is not None and compare(lhs, rhs)

    return numeric


def _evaluable(clause: Clause) -> bool:
    return (
        clause.dataset == "Items"
        and not clause.if_conditions
        and not any(isinstance(c.operand, FieldRef) for c in clause.conditions)
    )


def _clause(
    clause: Clause, columns: Mapping[str, ItemColumn], values: Mapping[str, Sequence[str]]
) -> Callable[[Row], bool]:
    disjuncts = [[_condition(c, columns, values) for c in conj] for conj in clause.where]
    return lambda row: any(all(c(row) for c in conj) for conj in disjuncts)


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
    includes: list[Callable[[Row], bool]] = []
    excludes: list[Callable[[Row], bool]] = []
    complete = True
    for clause in expression.clauses:
        if not _evaluable(clause):
            complete = False
            continue
        try:
            predicate = _clause(clause, columns, values)
        except _Missing:
            if clause.action == "INCLUDE":
                includes.append(lambda row: False)
            continue  # an EXCLUDE expression without values is skipped, as the service does
        (includes if clause.action == "INCLUDE" else excludes).append(predicate)
    return ItemFilter(tuple(includes), tuple(excludes), complete)
