"""Evaluate Personalize filter expressions over recommendation candidates, as the runtime does.

`compile_filter` parses and lints an expression once (what `CreateFilter` refuses, it refuses); the
`CompiledFilter` then answers per request which candidates survive. Semantics, from the service docs:

- expressions joined with ``|``: included = union of the INCLUDE results, excluded = union of the EXCLUDE
  results; the answer is included - excluded (everything, if no INCLUDE expression is in force);
- ``Interactions.EVENT_TYPE``: the items the user interacted with, matched case-insensitively, counting only
  the 100 most recent interactions per event type; ``"*"`` is every event type;
- a placeholder missing from ``filterValues`` drops its EXCLUDE expression; an INCLUDE expression needs
  every one of its placeholders (`FilterValuesError`, InvalidInputException in the API);
- ``IF CurrentUser.F …`` false (or the user has no metadata) -> that expression is not applied;
- categorical cells hold several values separated by ``|``; ``IN`` matches any of them.
"""

from __future__ import annotations

import functools
import heapq
from collections.abc import Callable, Mapping, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from local_stack.errors import LocalStackError
from personalize_rules.filter_conditions import (
    FieldColumn,
    FilterValueError,
    PlaceholderMissingError,
    condition_predicate,
    where_predicate,
)
from personalize_rules.filter_expression import (
    Clause,
    Condition,
    FieldRef,
    FilterExpression,
    FilterExpressionError,
    Placeholder,
    StringValue,
    WildcardValue,
    field_types,
    lint_filter,
    parse_filter,
    read_quoted,
)

__all__ = [
    "MAX_FILTER_VALUES",
    "MAX_FILTER_VALUE_LENGTH",
    "RECENT_INTERACTIONS_PER_EVENT_TYPE",
    "CompiledFilter",
    "FilterContext",
    "FilterContextError",
    "FilterValuesError",
    "Interaction",
    "compile_filter",
    "parse_filter_values",
]

RECENT_INTERACTIONS_PER_EVENT_TYPE = 100  # the service's (adjustable) default quota
MAX_FILTER_VALUES = 25  # GetRecommendations.filterValues: at most 25 entries
MAX_FILTER_VALUE_LENGTH = 1000  # ... each value at most 1,000 characters

Row = Mapping[str, Any]
_Pred = Callable[[str], bool]


class FilterValuesError(LocalStackError, ValueError):
    """`filterValues` do not fit the filter (missing INCLUDE placeholder, malformed value, too many)."""

    def __init__(self, message: str, placeholder: str | None = None) -> None:
        super().__init__(f"filterValues {placeholder or ''}".rstrip(), message, message)
        self.message = message
        self.placeholder = placeholder


class FilterContextError(LocalStackError, ValueError):
    """The request cannot use this filter (item filter for users, CurrentItem without an item, ...)."""

    def __init__(self, why: str) -> None:
        super().__init__("filter", why, why)


class Interaction(NamedTuple):
    item_id: str
    event_type: str
    timestamp: float
    event_value: float | None = None


def _no_row(_key: str) -> Row | None:
    return None


def _no_interactions(_user_id: str) -> Sequence[Interaction]:
    return ()


@dataclass
class FilterContext:
    """What one request knows: the current user's history and metadata, the current item, and lookups."""

    user_id: str | None = None
    interactions: Sequence[Interaction] = ()
    user_metadata: Row | None = None
    current_item: Row | None = None
    item_metadata: Callable[[str], Row | None] = _no_row
    user_metadata_lookup: Callable[[str], Row | None] = _no_row
    # For user-segment filters on Interactions: a candidate user's interactions.
    user_interactions_lookup: Callable[[str], Sequence[Interaction]] = field(default=_no_interactions)


# ------------------------------------------------------------------------------------------- values
def parse_filter_values(raw: str, placeholder: str = "") -> list[str]:
    """`'"shoes","socks"'` -> `['shoes', 'socks']`; bare tokens (`10`, `a`) are accepted too."""
    values: list[str] = []
    i, n = 0, len(raw)
    while True:
        while i < n and raw[i].isspace():
            i += 1
        if i >= n:
            if values:
                raise FilterValuesError(
                    f"filterValues[{placeholder}]: a value is missing after ','", placeholder
                )
            return values
        if raw[i] == '"':
            quoted = read_quoted(raw, i)
            if quoted is None:
                raise FilterValuesError(
                    f"filterValues[{placeholder}]: unterminated quoted value", placeholder
                )
            value, i = quoted
            values.append(value)
        else:
            j = raw.find(",", i)
            j = n if j < 0 else j
            values.append(raw[i:j].strip())
            i = j
        while i < n and raw[i].isspace():
            i += 1
        if i >= n:
            return values
        if raw[i] != ",":
            raise FilterValuesError(
                f"filterValues[{placeholder}]: expected ',' between values at offset {i}", placeholder
            )
        i += 1


def _check_filter_values(filter_values: Mapping[str, str]) -> None:
    if len(filter_values) > MAX_FILTER_VALUES:
        raise FilterValuesError(f"filterValues has {len(filter_values)} entries; at most {MAX_FILTER_VALUES}")
    for key, value in filter_values.items():
        if not isinstance(value, str):
            raise FilterValuesError(f"filterValues[{key}] must be a string", key)
        if len(value) > MAX_FILTER_VALUE_LENGTH:
            raise FilterValuesError(
                f"filterValues[{key}] is longer than {MAX_FILTER_VALUE_LENGTH} characters", key
            )


_UNSET: Any = object()


# ------------------------------------------------------------------------------------- field access
@dataclass(frozen=True)
class _Field:
    """Where one schema field stands in a metadata row (the schema's spelling first) and how it compares."""

    keys: tuple[str, ...]
    column: FieldColumn

    def raw(self, row: Row | None) -> Any:
        if row is None:
            return None
        value = row.get(self.keys[0])  # rows normally use the schema's spelling: one lookup
        if value is None:
            for key in self.keys[1:]:
                value = row.get(key)
                if value is not None:
                    break
        return value


@dataclass
class _Request:
    """Per-request state shared by every clause: resolved values and memoised rows."""

    context: FilterContext
    values: Mapping[str, str]
    item_rows: dict[str, Row | None] = field(default_factory=dict)
    user_rows: dict[str, Row | None] = field(default_factory=dict)
    _user_events: dict[str, set[str]] | None = None

    def recent_events(self, limit: int) -> dict[str, set[str]]:
        if self._user_events is None:
            self._user_events = _recent_event_types(self.context.interactions, limit)
        return self._user_events

    def placeholder(self, name: str) -> list[str]:
        raw = self.values.get(name)
        if raw is None or not raw.strip():
            raise PlaceholderMissingError(name)
        return parse_filter_values(raw, name)

    def item_row(self, item_id: str) -> Row | None:
        row = self.item_rows.get(item_id, _UNSET)
        if row is _UNSET:
            row = self.item_rows[item_id] = self.context.item_metadata(item_id)
        return row

    def user_row(self, user_id: str) -> Row | None:
        row = self.user_rows.get(user_id, _UNSET)
        if row is _UNSET:
            row = self.user_rows[user_id] = self.context.user_metadata_lookup(user_id)
        return row


def _recent_event_types(interactions: Sequence[Interaction], limit: int) -> dict[str, set[str]]:
    """item_id -> lower-cased event types, keeping only the `limit` most recent per event type."""
    lowers: dict[str, str] = {}
    by_type: dict[str, list[tuple[float, str]]] = {}
    for item_id, event_type, timestamp, _value in interactions:
        lowered = lowers.get(event_type)
        if lowered is None:
            lowered = lowers[event_type] = event_type.lower()
        bucket = by_type.get(lowered)
        if bucket is None:
            bucket = by_type[lowered] = []
        bucket.append((timestamp, item_id))
    out: dict[str, set[str]] = {}
    for lowered, bucket in by_type.items():
        if len(bucket) > limit:
            bucket = heapq.nlargest(limit, bucket)
        for _ts, item_id in bucket:
            types = out.get(item_id)
            if types is None:
                out[item_id] = {lowered}
            else:
                types.add(lowered)
    return out


# ------------------------------------------------------------------------------------------ compile
class CompiledFilter:
    """A parsed, schema-checked filter; evaluate it with `allowed_items` / `allowed_users`."""

    def __init__(
        self,
        expression: FilterExpression,
        dataset_schemas: Mapping[str, Mapping[str, Any]],
        *,
        recent_per_event_type: int = RECENT_INTERACTIONS_PER_EVENT_TYPE,
    ) -> None:
        self.expression = expression
        self.filter_type = expression.filter_type
        self.placeholders: tuple[str, ...] = expression.placeholders
        self.recent_per_event_type = recent_per_event_type
        self._types = {name.lower(): field_types(schema) for name, schema in dataset_schemas.items()}
        self._fields: dict[tuple[str, str], _Field] = {}

    def _field(self, ref: FieldRef) -> _Field:
        key = (ref.dataset, ref.field.upper())
        cached = self._fields.get(key)
        if cached is None:
            ftype = self._types.get(ref.dataset.lower(), {}).get(ref.field.upper())
            name = ftype.name if ftype else ref.field
            keys = tuple(dict.fromkeys((name, ref.field, name.upper(), name.lower())))
            numeric = ftype is not None and ftype.base in ("int", "long", "float", "double")
            categorical = ftype is not None and ftype.categorical
            cached = self._fields[key] = _Field(keys, FieldColumn(numeric, categorical))
        return cached

    # -- public API
    def allowed_items(
        self,
        candidates: Sequence[str],
        context: FilterContext,
        filter_values: Mapping[str, str] | None = None,
    ) -> list[str]:
        """The candidates the filter lets through, in their original order (item filters)."""
        if self.filter_type != "ItemID":
            raise FilterContextError(
                "this filter selects users (UserID); it cannot filter item recommendations"
            )
        return self._apply(candidates, context, filter_values or {})

    def allowed_users(
        self,
        candidates: Sequence[str],
        context: FilterContext,
        filter_values: Mapping[str, str] | None = None,
    ) -> list[str]:
        """The candidate users the filter lets through, in order (user-segment filters)."""
        if self.filter_type != "UserID":
            raise FilterContextError("this filter selects items (ItemID); it cannot filter user segments")
        return self._apply(candidates, context, filter_values or {})

    # -- evaluation
    def _apply(
        self, candidates: Sequence[str], context: FilterContext, filter_values: Mapping[str, str]
    ) -> list[str]:
        _check_filter_values(filter_values)
        req = _Request(context, filter_values)
        # Interactions clauses of item filters reduce to a set of item ids (cheap membership tests);
        # the rest stay per-candidate predicates.
        includes: list[_Pred] = []
        excludes: list[_Pred] = []
        included: set[str] = set()
        excluded: set[str] = set()
        any_include = False
        for clause in self.expression.clauses:
            try:
                pred = self._clause_predicate(clause, req)
                if clause.if_conditions and not self._if_holds(clause, req):
                    continue  # IF CurrentUser... is false: the expression does not apply to this user
            except PlaceholderMissingError as missing:
                if clause.action == "INCLUDE":
                    raise FilterValuesError(
                        f"filterValues must supply ${missing.placeholder}: the INCLUDE expression at "
                        f"position {clause.position} uses it",
                        missing.placeholder,
                    ) from None
                continue  # an omitted placeholder drops its EXCLUDE expression
            except FilterValueError as bad:
                raise FilterValuesError(
                    f"filterValues[{bad.placeholder}] {bad.why}", bad.placeholder
                ) from None
            if clause.action == "INCLUDE":
                any_include = True
                if isinstance(pred, frozenset):
                    included |= pred
                else:
                    includes.append(pred)
            elif isinstance(pred, frozenset):
                excluded |= pred
            else:
                excludes.append(pred)
        if not any_include and not excludes:
            return [c for c in candidates if c not in excluded]
        out: list[str] = []
        # Plain loops, not any()/generators: this runs for every candidate of every request.
        for cand in candidates:
            if cand in excluded:
                continue
            dropped = False
            for pred in excludes:
                if pred(cand):
                    dropped = True
                    break
            if dropped:
                continue
            if any_include and cand not in included:
                for pred in includes:
                    if pred(cand):
                        break
                else:
                    continue
            out.append(cand)
        return out

    def _if_holds(self, clause: Clause, req: _Request) -> bool:
        row = req.context.user_metadata
        # Resolve every condition first so a missing placeholder is reported even when the user has no row.
        preds = [self._row_condition(cond, req) for cond in clause.if_conditions]
        return row is not None and all(p(row) for p in preds)

    def _clause_predicate(self, clause: Clause, req: _Request) -> _Pred | frozenset[str]:
        """A predicate over candidate ids, or (item filters on Interactions) the set of matching item ids."""
        if clause.dataset == "Interactions":
            conds = [[self._event_condition(c, req) for c in conj] for conj in clause.where]
            if clause.target == "ItemID":
                events = req.recent_events(self.recent_per_event_type)
                if len(conds) == 1 and len(conds[0]) == 1:  # the usual single-condition case
                    only = conds[0][0]
                    return frozenset(item_id for item_id, types in events.items() if only(types))
                return frozenset(
                    item_id
                    for item_id, types in events.items()
                    if any(all(c(types) for c in conj) for conj in conds)
                )
            lookup = req.context.user_interactions_lookup
            cache: dict[str, frozenset[str]] = {}

            def user_pred(user_id: str) -> bool:
                types = cache.get(user_id)
                if types is None:
                    types = cache[user_id] = frozenset(i.event_type.lower() for i in lookup(user_id))
                return bool(types) and any(all(c(types) for c in conj) for conj in conds)

            return user_pred
        matches = where_predicate(
            clause, self._reader, req.placeholder, functools.partial(self._current, req)
        )
        get_row = req.item_row if clause.dataset == "Items" else req.user_row
        return lambda key: matches(get_row(key))

    def _event_condition(self, cond: Condition, req: _Request) -> Callable[[AbstractSet[str]], bool]:
        assert not isinstance(cond.operand, FieldRef)
        wanted: set[str] = set()
        wildcard = False
        for value in cond.operand:
            if isinstance(value, WildcardValue):
                wildcard = True
            elif isinstance(value, StringValue):
                wanted.add(value.value.lower())
            elif isinstance(value, Placeholder):
                for v in req.placeholder(value.name):
                    if v == "*":
                        wildcard = True
                    wanted.add(v.lower())
        target = frozenset(wanted)
        if cond.op == "IN":
            return (lambda types: True) if wildcard else (lambda types: not types.isdisjoint(target))
        return (lambda types: False) if wildcard else (lambda types: bool(types - target))

    def _row_condition(self, cond: Condition, req: _Request) -> Callable[[Row | None], bool]:
        return condition_predicate(cond, self._reader, req.placeholder, functools.partial(self._current, req))

    def _reader(self, ref: FieldRef) -> tuple[FieldColumn, Callable[[Row | None], object]]:
        fld = self._field(ref)
        return fld.column, fld.raw

    def _current(self, req: _Request, ref: FieldRef) -> tuple[FieldColumn, object]:
        fld = self._field(ref)
        return fld.column, fld.raw(self._current_item(req))

    @staticmethod
    def _current_item(req: _Request) -> Row:
        if req.context.current_item is None:
            raise FilterContextError("the filter uses CurrentItem, so the request must name an item (itemId)")
        return req.context.current_item


def compile_filter(
    expression: str,
    dataset_schemas: Mapping[str, Mapping[str, Any]],
    *,
    recent_per_event_type: int = RECENT_INTERACTIONS_PER_EVENT_TYPE,
) -> CompiledFilter:
    """Parse and schema-check `expression` (`FilterExpressionError` as CreateFilter), then compile it."""
    parsed = parse_filter(expression)
    problems = lint_filter(expression, dataset_schemas)
    if problems:
        first = problems[0]
        raise FilterExpressionError(f"Invalid filter expression: {first.message}", first.position)
    return CompiledFilter(parsed, dataset_schemas, recent_per_event_type=recent_per_event_type)
