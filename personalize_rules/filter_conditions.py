"""How one condition of a filter expression compares a metadata row: the one implementation.

Both evaluators use it: the emulator's (local_stack/personalize/filtering.py, on Items and Users rows and
`IF CurrentUser…`) and the API fallback's (item_filter.py, on catalog rows). Semantics, from "Filtering
recommendations and user segments" (https://docs.aws.amazon.com/personalize/latest/dg/filter.html) and
"Filter expression elements" (https://docs.aws.amazon.com/personalize/latest/dg/filter-expressions.html):

- a categorical cell holds several values separated by ``|``; ``IN``/``=`` match any of them, ``NOT IN``/
  ``!=`` none of them;
- numeric fields (int, long, float, double) compare as numbers; a cell that is not a number matches no
  comparison;
- a placeholder compared with ``=``, ``<`` … takes exactly one value, a number when the field is numeric;
- a placeholder with no value raises `PlaceholderMissingError`: the caller drops the EXCLUDE expression
  that uses it and refuses (or empties) an INCLUDE one.

A row is whatever the caller reads fields out of: `field` maps a field reference to its `FieldColumn`
and a reader of the field's raw value in a row.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from personalize_rules.errors import RulesError
from personalize_rules.filter_expression import (
    Clause,
    Condition,
    FieldRef,
    NumberValue,
    Placeholder,
    StringValue,
)

__all__ = [
    "COMPARISONS",
    "FieldColumn",
    "FilterValueError",
    "PlaceholderMissingError",
    "condition_predicate",
    "where_predicate",
]

R = TypeVar("R")

COMPARISONS: dict[str, Callable[[float, float], bool]] = {
    "=": lambda a, b: a == b,
    "!=": lambda a, b: a != b,
    "<": lambda a, b: a < b,
    "<=": lambda a, b: a <= b,
    ">": lambda a, b: a > b,
    ">=": lambda a, b: a >= b,
}


class FilterValueError(RulesError, ValueError):
    """A placeholder value does not fit its condition (a number expected, one value expected)."""

    def __init__(self, placeholder: str, why: str) -> None:
        super().__init__(f"${placeholder}", why)
        self.placeholder = placeholder


class PlaceholderMissingError(RulesError, LookupError):
    """A placeholder has no value in the request; the caller decides what the expression then means."""

    def __init__(self, placeholder: str) -> None:
        super().__init__(f"${placeholder}", "no value supplied")
        self.placeholder = placeholder


_EMPTY: frozenset[str] = frozenset()


@functools.lru_cache(maxsize=65536)
def _split_categorical(raw: str) -> frozenset[str]:
    return frozenset(v for v in raw.split("|") if v)


def _to_float(raw: Any) -> float | None:
    if raw is None or raw == "" or isinstance(raw, bool):
        return None
    try:
        return float(raw)
    except (TypeError, ValueError):
        return None


@dataclass(frozen=True)
class FieldColumn:
    """How a field's raw cell compares: as a number (int, long, float, double) or as text (split on `|`
    when categorical)."""

    numeric: bool = False
    categorical: bool = False

    def strings(self, raw: object) -> frozenset[str]:
        if raw is None or raw == "":
            return _EMPTY
        text = raw if isinstance(raw, str) else str(raw)
        return _split_categorical(text) if self.categorical else frozenset((text,))

    @staticmethod
    def number(raw: object) -> float | None:
        return _to_float(raw)


Field = Callable[[FieldRef], tuple[FieldColumn, Callable[[R], object]]]
Values = Callable[[str], Sequence[str]]  # a placeholder's values; raises PlaceholderMissingError
Current = Callable[[FieldRef], tuple[FieldColumn, object]]  # a CurrentItem field: its column and raw value


def _no_current_item(ref: FieldRef) -> tuple[FieldColumn, object]:
    raise RulesError(str(ref), "the caller evaluates no CurrentItem field")


def _numeric(
    column: FieldColumn,
    read: Callable[[R], object],
    compare: Callable[[float, float], bool],
    rhs: float | None,
) -> Callable[[R], bool]:
    if rhs is None:
        return lambda row: False
    number = column.number

    def pred(row: R) -> bool:
        lhs = number(read(row))
        return lhs is not None and compare(lhs, rhs)

    return pred


def _strings(
    column: FieldColumn, read: Callable[[R], object], op: str, wanted: frozenset[str]
) -> Callable[[R], bool]:
    strings = column.strings
    if op in ("IN", "="):
        return lambda row: not strings(read(row)).isdisjoint(wanted)
    if op in ("NOT IN", "!="):
        return lambda row: strings(read(row)).isdisjoint(wanted)
    return lambda row: False  # ordering on text is refused by the linter (lint_filter)


def condition_predicate(
    cond: Condition, field: Field[R], values: Values, current: Current = _no_current_item
) -> Callable[[R], bool]:
    """A predicate over rows for `cond`, with the request's placeholder values resolved once."""
    column, read = field(cond.left)
    operand = cond.operand
    if isinstance(operand, FieldRef):  # CurrentItem.F
        other, raw = current(operand)
        if cond.op in ("IN", "NOT IN") or not (column.numeric or other.numeric):
            return _strings(column, read, cond.op, other.strings(raw))
        return _numeric(column, read, COMPARISONS[cond.op], other.number(raw))
    if cond.op in ("IN", "NOT IN"):
        wanted: set[str] = set()
        for value in operand:
            if isinstance(value, StringValue):
                wanted.add(value.value)
            elif isinstance(value, Placeholder):
                wanted.update(values(value.name))
        return _strings(column, read, cond.op, frozenset(wanted))
    value = operand[0]
    if isinstance(value, NumberValue):
        return _numeric(column, read, COMPARISONS[cond.op], value.value)
    if isinstance(value, StringValue):
        return _strings(column, read, cond.op, frozenset((value.value,)))
    assert isinstance(value, Placeholder)
    supplied = values(value.name)
    if len(supplied) != 1:
        raise FilterValueError(
            value.name, f"must hold one value for {cond.left} {cond.op}, got {len(supplied)}"
        )
    if not column.numeric:
        return _strings(column, read, cond.op, frozenset(supplied))
    number = _to_float(supplied[0])
    if number is None:
        raise FilterValueError(
            value.name,
            f"must be a number for {cond.left} {cond.op} (it compares numbers), got {supplied[0]!r}",
        )
    return _numeric(column, read, COMPARISONS[cond.op], number)


def where_predicate(
    clause: Clause, field: Field[R], values: Values, current: Current = _no_current_item
) -> Callable[[R], bool]:
    """The clause's WHERE part (an OR of ANDs of conditions) as one predicate over rows."""
    disjuncts = [[condition_predicate(c, field, values, current) for c in conj] for conj in clause.where]
    if len(disjuncts) == 1 and len(disjuncts[0]) == 1:  # the usual single-condition case
        return disjuncts[0][0]

    def pred(row: R) -> bool:
        # Plain loops, not any()/all() over generators: the emulator runs this for every candidate.
        for conj in disjuncts:
            for cond in conj:
                if not cond(row):
                    break
            else:
                return True
        return False

    return pred
