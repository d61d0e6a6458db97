"""The Amazon Personalize filter expression language: tokenizer, parser, AST and a schema-aware linter.

Grammar (keywords, dataset names, ``ItemID``/``UserID``, ``CurrentUser``/``CurrentItem`` are case-insensitive;
placeholder names and values are case-sensitive)::

    filter     := expression ( "|" expression )*
    expression := ("INCLUDE" | "EXCLUDE") ("ItemID" | "UserID") "WHERE" disjunct ( "OR" disjunct )*
                  [ "IF" user_cond ( "AND" user_cond )* ]
    disjunct   := condition ( "AND" condition )*
    condition  := Dataset "." FIELD ( ["NOT"] "IN" in_operand | cmp_op cmp_operand )
    user_cond  := "CurrentUser" "." FIELD ( ["NOT"] "IN" in_operand | cmp_op cmp_operand )
    in_operand := "(" value ( "," value )* ")" | "(" $PLACEHOLDER ")" | "CurrentItem" "." FIELD
    cmp_op     := "=" | "!=" | "<" | "<=" | ">" | ">="
    cmp_operand:= number | "string" (only with = / !=) | $PLACEHOLDER | "(" ... ")" | "CurrentItem" "." FIELD

AND binds tighter than OR; there are no grouping parentheses (the service has none). The documented rules
enforced here without a schema: ≤2,500 characters, conditions of one expression use one dataset, ``|`` joins
expressions, ``"*"`` only with ``Interactions.EVENT_TYPE``, only ``EVENT_TYPE`` of Interactions, no
placeholder with ``NOT IN``, ``IF`` only once at the end of an expression and only on ``CurrentUser``,
``CurrentItem`` only on the right-hand side of item filters, ≤10 distinct dataset fields per filter,
≤25 placeholders (the size limit of ``filterValues``). `lint_filter` adds the checks that need the Avro
schemas.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from personalize_rules.errors import RulesError

__all__ = [
    "ALL_EVENT_TYPES",
    "MAX_DISTINCT_FIELDS",
    "MAX_EXPRESSION_LENGTH",
    "MAX_PLACEHOLDERS",
    "Clause",
    "Condition",
    "FieldRef",
    "FilterExpression",
    "FilterExpressionError",
    "FilterLintError",
    "NumberValue",
    "Placeholder",
    "StringValue",
    "Value",
    "WildcardValue",
    "field_types",
    "lint_filter",
    "parse_filter",
    "read_quoted",
]

MAX_EXPRESSION_LENGTH = 2500  # CreateFilter: filterExpression length 1..2500
MAX_DISTINCT_FIELDS = 10  # "maximum number of distinct dataset fields for a filter"
MAX_PLACEHOLDERS = 25  # GetRecommendations.filterValues holds at most 25 entries
ALL_EVENT_TYPES = "*"

Action = Literal["INCLUDE", "EXCLUDE"]
Target = Literal["ItemID", "UserID"]

_DATASETS = {"items": "Items", "interactions": "Interactions", "users": "Users"}
_CONTEXT_REFS = {"currentuser": "CurrentUser", "currentitem": "CurrentItem"}
_TARGETS: dict[str, Target] = {"itemid": "ItemID", "userid": "UserID"}
_COMPARISONS = ("=", "!=", "<", "<=", ">", ">=")
_KEYWORDS = {"include", "exclude", "where", "and", "or", "in", "not", "if"}


class FilterExpressionError(RulesError, ValueError):
    """A filter expression the service would refuse; `position` is the 0-based character offset."""

    def __init__(self, message: str, position: int) -> None:
        super().__init__(f"position {position}", message, message)
        self.message = message
        self.position = position

    def pointer(self, expression: str) -> str:
        """The expression with a caret under the offending character, for terminal output."""
        return f"{expression}\n{' ' * self.position}^"


@dataclass(eq=True)
class FilterLintError(RulesError):
    """One problem `lint_filter` found: what is wrong, where (0-based offset) and which rule."""

    message: str
    position: int
    rule: str

    def __post_init__(self) -> None:
        super().__init__(f"position {self.position}", self.message, str(self))

    def __str__(self) -> str:
        return f"position {self.position}: {self.message} [{self.rule}]"


# ---------------------------------------------------------------------------------------------- AST
@dataclass(frozen=True)
class FieldRef:
    """`source.field`; source is a dataset (Items, Interactions, Users) or CurrentUser / CurrentItem."""

    source: str
    field: str
    position: int
    field_position: int = dataclasses.field(default=-1, compare=False)

    @property
    def dataset(self) -> str:
        """The dataset the field lives in (CurrentUser -> Users, CurrentItem -> Items)."""
        return {"CurrentUser": "Users", "CurrentItem": "Items"}.get(self.source, self.source)

    def __str__(self) -> str:
        return f"{self.source}.{self.field}"


@dataclass(frozen=True)
class StringValue:
    value: str
    position: int


@dataclass(frozen=True)
class NumberValue:
    value: float
    text: str
    position: int


@dataclass(frozen=True)
class Placeholder:
    name: str
    position: int


@dataclass(frozen=True)
class WildcardValue:
    """`"*"` in `Interactions.EVENT_TYPE IN ("*")`: every event type."""

    position: int


Value = StringValue | NumberValue | Placeholder | WildcardValue


@dataclass(frozen=True)
class Condition:
    """`left op operand`; operand is a tuple of values, or a CurrentItem field reference."""

    left: FieldRef
    op: str  # IN, NOT IN, =, !=, <, <=, >, >=
    operand: tuple[Value, ...] | FieldRef
    position: int

    @property
    def placeholders(self) -> tuple[str, ...]:
        if isinstance(self.operand, FieldRef):
            return ()
        return tuple(v.name for v in self.operand if isinstance(v, Placeholder))


@dataclass(frozen=True)
class Clause:
    """One `|`-separated expression. `where` is an OR of ANDs (AND binds tighter, no parentheses)."""

    action: Action
    target: Target
    dataset: str
    where: tuple[tuple[Condition, ...], ...]
    if_conditions: tuple[Condition, ...]
    position: int
    end: int

    @property
    def conditions(self) -> tuple[Condition, ...]:
        return tuple(c for conj in self.where for c in conj) + self.if_conditions

    @property
    def placeholders(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(p for c in self.conditions for p in c.placeholders))


@dataclass(frozen=True)
class FilterExpression:
    text: str
    clauses: tuple[Clause, ...]
    filter_type: Target
    placeholders: tuple[str, ...] = ()

    @property
    def uses_current_item(self) -> bool:
        return any(isinstance(c.operand, FieldRef) for cl in self.clauses for c in cl.conditions)

    @property
    def uses_current_user(self) -> bool:
        return any(cl.if_conditions for cl in self.clauses)

    @property
    def fields(self) -> tuple[tuple[str, str], ...]:
        """Distinct (dataset, FIELD) pairs the filter reads, in order of appearance."""
        seen: dict[tuple[str, str], None] = {}
        for ref in _field_refs(self):
            seen[(ref.dataset, ref.field.upper())] = None
        return tuple(seen)


def _field_refs(expr: FilterExpression) -> list[FieldRef]:
    refs: list[FieldRef] = []
    for clause in expr.clauses:
        for cond in clause.conditions:
            refs.append(cond.left)
            if isinstance(cond.operand, FieldRef):
                refs.append(cond.operand)
    return refs


# ------------------------------------------------------------------------------------------ tokenizer
@dataclass(frozen=True)
class _Token:
    kind: str  # WORD, STRING, NUMBER, PARAM, OP, LPAREN, RPAREN, COMMA, PIPE, DOT, EOF
    text: str
    position: int
    value: str = ""


_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_NUMBER = re.compile(r"-?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")
_PARAM = re.compile(r"\$([A-Za-z0-9_]+)")


def read_quoted(text: str, start: int) -> tuple[str, int] | None:
    """The double-quoted string at `start` (backslash escapes the next character) and the index after
    its closing quote; None when it is not closed. Expressions and `filterValues` quote alike."""
    i, n, chars = start + 1, len(text), []
    while i < n and text[i] != '"':
        if text[i] == "\\" and i + 1 < n:
            i += 1
        chars.append(text[i])
        i += 1
    return None if i >= n else ("".join(chars), i + 1)


def _tokenize(text: str) -> list[_Token]:
    tokens: list[_Token] = []
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        if ch.isspace():
            i += 1
        elif ch == '"':
            start = i
            quoted = read_quoted(text, i)
            if quoted is None:
                raise FilterExpressionError(
                    f"Invalid filter expression: unterminated string starting at position {start}", start
                )
            value, i = quoted
            tokens.append(_Token("STRING", text[start:i], start, value))
        elif ch == "$":
            m = _PARAM.match(text, i)
            if not m:
                raise FilterExpressionError(
                    f"Invalid filter expression: expected a placeholder name ([A-Za-z0-9_]+) after '$' "
                    f"at position {i + 1}",
                    i + 1,
                )
            tokens.append(_Token("PARAM", m.group(0), i, m.group(1)))
            i = m.end()
        elif ch.isdigit() or (ch in "-." and i + 1 < n and (text[i + 1].isdigit() or text[i + 1] == ".")):
            m = _NUMBER.match(text, i)
            if not m:
                raise FilterExpressionError(f"Invalid filter expression: bad number at position {i}", i)
            tokens.append(_Token("NUMBER", m.group(0), i, m.group(0)))
            i = m.end()
        elif ch.isalpha() or ch == "_":
            m = _WORD.match(text, i)
            assert m is not None
            tokens.append(_Token("WORD", m.group(0), i, m.group(0)))
            i = m.end()
        elif text.startswith(("<=", ">=", "!="), i):
            tokens.append(_Token("OP", text[i : i + 2], i, text[i : i + 2]))
            i += 2
        elif ch in "=<>":
            tokens.append(_Token("OP", ch, i, ch))
            i += 1
        elif ch in "(),|.":
            kind = {"(": "LPAREN", ")": "RPAREN", ",": "COMMA", "|": "PIPE", ".": "DOT"}[ch]
            tokens.append(_Token(kind, ch, i, ch))
            i += 1
        else:
            raise FilterExpressionError(
                f"Invalid filter expression: unexpected character {ch!r} at position {i}", i
            )
    tokens.append(_Token("EOF", "", n))
    return tokens


def _describe(token: _Token) -> str:
    return "end of expression" if token.kind == "EOF" else repr(token.text)


# --------------------------------------------------------------------------------------------- parser
class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.tokens = _tokenize(text)
        self.i = 0

    # -- token helpers
    @property
    def tok(self) -> _Token:
        return self.tokens[self.i]

    def advance(self) -> _Token:
        token = self.tokens[self.i]
        self.i += 1
        return token

    def is_word(self, *words: str) -> bool:
        return self.tok.kind == "WORD" and self.tok.text.lower() in words

    def fail(self, expected: str, token: _Token | None = None) -> FilterExpressionError:
        token = token or self.tok
        return FilterExpressionError(
            f"Invalid filter expression: expected {expected} at position {token.position} "
            f"but found {_describe(token)}",
            token.position,
        )

    def error(self, message: str, position: int) -> FilterExpressionError:
        return FilterExpressionError(f"Invalid filter expression: {message} (position {position})", position)

    def expect_word(self, expected: str, *words: str) -> _Token:
        if not self.is_word(*words):
            raise self.fail(expected)
        return self.advance()

    def expect(self, kind: str, expected: str) -> _Token:
        if self.tok.kind != kind:
            raise self.fail(expected)
        return self.advance()

    # -- grammar
    def parse(self) -> FilterExpression:
        clauses = [self.clause()]
        while self.tok.kind == "PIPE":
            self.advance()
            clauses.append(self.clause())
        if self.tok.kind != "EOF":
            raise self.fail("'|', 'AND', 'OR', 'IF' or the end of the expression")
        target = clauses[0].target
        for clause in clauses[1:]:
            if clause.target != target:
                raise self.error(
                    f"every expression joined with '|' must filter {target}, not {clause.target}",
                    clause.position,
                )
        placeholders = tuple(dict.fromkeys(p for c in clauses for p in c.placeholders))
        expr = FilterExpression(self.text, tuple(clauses), target, placeholders)
        self.check_limits(expr)
        return expr

    def check_limits(self, expr: FilterExpression) -> None:
        seen: dict[tuple[str, str], None] = {}
        for ref in _field_refs(expr):
            seen[(ref.dataset, ref.field.upper())] = None
            if len(seen) > MAX_DISTINCT_FIELDS:
                raise self.error(
                    f"a filter can use at most {MAX_DISTINCT_FIELDS} distinct dataset fields; "
                    f"{ref} is field number {len(seen)}",
                    ref.position,
                )
        names: dict[str, None] = {}
        for clause in expr.clauses:
            for cond in clause.conditions:
                if isinstance(cond.operand, FieldRef):
                    continue
                for value in cond.operand:
                    if isinstance(value, Placeholder):
                        names[value.name] = None
                        if len(names) > MAX_PLACEHOLDERS:
                            raise self.error(
                                f"a filter can use at most {MAX_PLACEHOLDERS} placeholder parameters "
                                f"(filterValues holds {MAX_PLACEHOLDERS} entries)",
                                value.position,
                            )

    def clause(self) -> Clause:
        start = self.tok.position
        action_tok = self.expect_word("INCLUDE or EXCLUDE", "include", "exclude")
        action: Action = "INCLUDE" if action_tok.text.lower() == "include" else "EXCLUDE"
        if self.is_word("actionid"):
            raise self.error(
                "ActionID filters need an Actions dataset, which is not supported", self.tok.position
            )
        target_tok = self.expect_word("ItemID or UserID", "itemid", "userid")
        target = _TARGETS[target_tok.text.lower()]
        self.expect_word("WHERE", "where")
        first = self.condition(target, dataset=None)
        dataset = first.left.source
        disjuncts: list[tuple[Condition, ...]] = []
        conj = [first]
        while self.is_word("and", "or"):
            joiner = self.advance().text.lower()
            if joiner == "or":
                disjuncts.append(tuple(conj))
                conj = []
            conj.append(self.condition(target, dataset=dataset))
        disjuncts.append(tuple(conj))
        if_conditions: list[Condition] = []
        if self.is_word("if"):
            if_tok = self.advance()
            if target != "ItemID":
                raise self.error("IF conditions on CurrentUser apply only to ItemID filters", if_tok.position)
            if_conditions.append(self.user_condition())
            while self.is_word("and", "or"):
                joiner_tok = self.advance()
                if joiner_tok.text.lower() == "or":
                    raise self.error("an IF condition can only be extended with AND", joiner_tok.position)
                if_conditions.append(self.user_condition())
            if self.is_word("if"):
                raise self.error("IF can be used only once, at the end of an expression", self.tok.position)
        end = self.tok.position
        return Clause(action, target, dataset, tuple(disjuncts), tuple(if_conditions), start, end)

    def field_ref(self, expected: str) -> FieldRef:
        tok = self.expect("WORD", expected)
        self.expect("DOT", f"'.' after {tok.text}")
        name = self.expect("WORD", f"a field name after '{tok.text}.'")
        lower = tok.text.lower()
        source = _DATASETS.get(lower) or _CONTEXT_REFS.get(lower)
        if source is None:
            raise self.fail(expected, tok)
        return FieldRef(source, name.text, tok.position, name.position)

    def condition(self, target: Target, dataset: str | None) -> Condition:
        tok = self.tok
        if tok.kind != "WORD" or tok.text.lower() not in _DATASETS:
            if tok.kind == "WORD" and tok.text.lower() == "currentuser":
                raise self.error("CurrentUser can be used only in an IF condition at the end", tok.position)
            if tok.kind == "WORD" and tok.text.lower() == "currentitem":
                raise self.error(
                    "CurrentItem can be used only as the value a dataset field is compared with", tok.position
                )
            raise self.fail("a dataset field (Items.FIELD, Interactions.EVENT_TYPE or Users.FIELD)")
        left = self.field_ref("a dataset field")
        allowed = ("Items", "Interactions") if target == "ItemID" else ("Users", "Interactions")
        if left.source not in allowed:
            raise self.error(
                f"{target} filters can use {' and '.join(allowed)} fields, not {left.source}"
                + (" (use IF CurrentUser.FIELD for the user's own data)" if left.source == "Users" else ""),
                left.position,
            )
        if dataset is not None and left.source != dataset:
            raise self.error(
                f"conditions joined with AND/OR must use the {dataset} dataset of the first condition; "
                "join expressions on other datasets with '|'",
                left.position,
            )
        if left.source == "Interactions" and left.field.upper() != "EVENT_TYPE":
            raise self.error(
                f"Interactions filters can use only EVENT_TYPE, not {left.field}", left.field_position
            )
        return self.comparison(left, target, in_if=False)

    def user_condition(self) -> Condition:
        tok = self.tok
        if not self.is_word("currentuser"):
            raise self.fail("CurrentUser.FIELD in the IF condition")
        left = self.field_ref("CurrentUser")
        assert tok.position == left.position
        return self.comparison(left, "ItemID", in_if=True)

    def comparison(self, left: FieldRef, target: Target, *, in_if: bool) -> Condition:
        is_event_type = left.source == "Interactions"
        if self.is_word("not"):
            not_tok = self.advance()
            if not self.is_word("in"):
                raise self.fail("IN after NOT")
            self.advance()
            return self.in_operand(left, "NOT IN", not_tok.position, target, in_if, is_event_type)
        if self.is_word("in"):
            in_tok = self.advance()
            return self.in_operand(left, "IN", in_tok.position, target, in_if, is_event_type)
        if self.tok.kind == "OP":
            op_tok = self.advance()
            if is_event_type:
                raise self.error(
                    "Interactions.EVENT_TYPE can be compared only with IN or NOT IN", op_tok.position
                )
            return self.cmp_operand(left, op_tok, target, in_if)
        raise self.fail("IN, NOT IN or a comparison operator (=, !=, <, <=, >, >=)")

    def current_item(self, target: Target, in_if: bool) -> FieldRef:
        tok = self.tok
        if target != "ItemID" or in_if:
            raise self.error("CurrentItem can be used only in the WHERE part of ItemID filters", tok.position)
        return self.field_ref("CurrentItem")

    def in_operand(
        self, left: FieldRef, op: str, op_pos: int, target: Target, in_if: bool, is_event_type: bool
    ) -> Condition:
        if self.is_word("currentitem"):
            return Condition(left, op, self.current_item(target, in_if), op_pos)
        self.expect("LPAREN", f"'(' and a list of values after {op}")
        values: list[Value] = []
        while True:
            tok = self.tok
            if tok.kind == "STRING":
                self.advance()
                if tok.value == ALL_EVENT_TYPES:
                    if not is_event_type:
                        raise self.error(
                            '"*" (all event types) can be used only with Interactions.EVENT_TYPE',
                            tok.position,
                        )
                    values.append(WildcardValue(tok.position))
                else:
                    values.append(StringValue(tok.value, tok.position))
            elif tok.kind == "PARAM":
                self.advance()
                if op == "NOT IN":
                    raise FilterExpressionError(
                        f"Could not create filter. Invalid input symbol: {tok.text}. "
                        f"Placeholders are not allowed with NOT_IN operator. (position {tok.position})",
                        tok.position,
                    )
                values.append(Placeholder(tok.value, tok.position))
            elif tok.kind == "NUMBER":
                raise self.error(
                    f'IN and NOT IN match string values; quote the number as "{tok.text}"', tok.position
                )
            else:
                raise self.fail('a quoted value ("...") or a $PLACEHOLDER')
            if self.tok.kind == "COMMA":
                self.advance()
                continue
            self.expect("RPAREN", "',' or ')'")
            break
        if any(isinstance(v, Placeholder) for v in values) and len(values) > 1:
            first = next(v for v in values if isinstance(v, Placeholder))
            raise self.error(
                f"the placeholder ${first.name} must be the only value in its list", first.position
            )
        if any(isinstance(v, WildcardValue) for v in values) and len(values) > 1:
            raise self.error('"*" must be the only event type in its list', values[0].position)
        return Condition(left, op, tuple(values), op_pos)

    def cmp_operand(self, left: FieldRef, op_tok: _Token, target: Target, in_if: bool) -> Condition:
        op = op_tok.text
        paren = self.tok.kind == "LPAREN"
        if paren:
            self.advance()
        tok = self.tok
        operand: tuple[Value, ...] | FieldRef
        if tok.kind == "NUMBER":
            self.advance()
            operand = (NumberValue(float(tok.text), tok.text, tok.position),)
        elif tok.kind == "PARAM":
            self.advance()
            operand = (Placeholder(tok.value, tok.position),)
        elif tok.kind == "STRING":
            if op not in ("=", "!="):
                raise self.error(f"{op} compares numbers; {tok.text} is a string", tok.position)
            if tok.value == ALL_EVENT_TYPES:
                raise self.error(
                    '"*" (all event types) can be used only with Interactions.EVENT_TYPE IN', tok.position
                )
            self.advance()
            operand = (StringValue(tok.value, tok.position),)
        elif self.is_word("currentitem") and not paren:
            operand = self.current_item(target, in_if)
        else:
            raise self.fail(f"a number, a $PLACEHOLDER or CurrentItem.FIELD after {op}")
        if paren:
            self.expect("RPAREN", "')'")
        return Condition(left, op, operand, op_tok.position)


def parse_filter(expression: str) -> FilterExpression:
    """Parse an expression; raise `FilterExpressionError(message, position)` where the service would."""
    if not isinstance(expression, str):
        raise FilterExpressionError("Invalid filter expression: the expression must be a string", 0)
    if len(expression) > MAX_EXPRESSION_LENGTH:
        raise FilterExpressionError(
            f"Invalid filter expression: longer than {MAX_EXPRESSION_LENGTH} characters ({len(expression)})",
            MAX_EXPRESSION_LENGTH,
        )
    if not expression.strip():
        raise FilterExpressionError(
            "Invalid filter expression: expected INCLUDE or EXCLUDE at position 0 "
            "but found end of expression",
            0,
        )
    return _Parser(expression).parse()


# --------------------------------------------------------------------------------------------- linter
_NUMERIC = {"int", "long", "float", "double"}


@dataclass(frozen=True)
class _FieldType:
    name: str  # the field's name as the schema spells it
    base: str  # Avro primitive type without null
    categorical: bool
    textual: bool

    @property
    def numeric(self) -> bool:
        """Compared as a number by filters (int, long, float, double)."""
        return self.base in _NUMERIC


def field_types(schema: Mapping[str, Any]) -> dict[str, _FieldType]:
    """Avro record schema -> {FIELD (upper case): its type}; unions with null give the non-null type."""
    out: dict[str, _FieldType] = {}
    for f in schema.get("fields", []):
        t = f.get("type")
        if isinstance(t, list):
            non_null = [x for x in t if x != "null"]
            t = non_null[0] if non_null else "null"
        if isinstance(t, dict):
            t = t.get("type", "record")
        out[str(f["name"]).upper()] = _FieldType(
            str(f["name"]), str(t), bool(f.get("categorical")), bool(f.get("textual"))
        )
    return out


def lint_filter(expression: str, dataset_schemas: Mapping[str, Mapping[str, Any]]) -> list[FilterLintError]:
    """Parse, then check every field against the Avro schemas (keys: interactions, items, users).

    Returns all problems found (empty list = the expression is fine); a syntax error is the only problem
    reported when the expression does not parse.
    """
    try:
        expr = parse_filter(expression)
    except FilterExpressionError as exc:
        return [FilterLintError(exc.message, exc.position, "syntax")]
    types = {name.lower(): field_types(schema) for name, schema in dataset_schemas.items()}
    problems: list[FilterLintError] = []

    def resolve(ref: FieldRef) -> _FieldType | None:
        fields = types.get(ref.dataset.lower())
        if fields is None:
            problems.append(
                FilterLintError(
                    f"{ref} needs an {ref.dataset} dataset, and the dataset group has none",
                    ref.position,
                    "missing-dataset",
                )
            )
            return None
        ftype = fields.get(ref.field.upper())
        if ftype is None:
            problems.append(
                FilterLintError(
                    f"{ref.dataset} has no field {ref.field} "
                    f"(fields: {', '.join(f.name for f in fields.values())})",
                    ref.position,
                    "unknown-field",
                )
            )
            return None
        if ftype.textual:
            problems.append(
                FilterLintError(
                    f"{ref} is a textual field; filters cannot use unstructured text",
                    ref.position,
                    "textual-field",
                )
            )
            return None
        if ftype.base == "boolean":
            problems.append(
                FilterLintError(
                    f"{ref} is boolean; filters cannot use boolean fields (use 'True'/'False' or 0/1)",
                    ref.position,
                    "boolean-field",
                )
            )
            return None
        return ftype

    for clause in expr.clauses:
        for cond in clause.conditions:
            left = resolve(cond.left)
            right = resolve(cond.operand) if isinstance(cond.operand, FieldRef) else None
            if left is None:
                continue
            numeric = left.base in _NUMERIC
            if cond.op in ("IN", "NOT IN"):
                if numeric:
                    problems.append(
                        FilterLintError(
                            f"{cond.op} matches strings but {cond.left} is {left.base}; use =, <, <=, >, >=",
                            cond.position,
                            "type-mismatch",
                        )
                    )
                elif right is not None and right.base in _NUMERIC:
                    problems.append(
                        FilterLintError(
                            f"{cond.operand} is {right.base}; {cond.op} needs a string field",
                            cond.operand.position if isinstance(cond.operand, FieldRef) else cond.position,
                            "type-mismatch",
                        )
                    )
                continue
            # comparison operators
            operand = cond.operand
            if isinstance(operand, FieldRef):
                if right is not None and (right.base in _NUMERIC) != numeric:
                    problems.append(
                        FilterLintError(
                            f"{cond.left} ({left.base}) and {operand} ({right.base}) cannot be compared",
                            operand.position,
                            "type-mismatch",
                        )
                    )
                elif right is not None and not numeric and cond.op not in ("=", "!="):
                    problems.append(
                        FilterLintError(
                            f"{cond.op} compares numbers but {cond.left} is {left.base}",
                            cond.position,
                            "type-mismatch",
                        )
                    )
                continue
            value = operand[0]
            if isinstance(value, NumberValue) and not numeric:
                problems.append(
                    FilterLintError(
                        f"{cond.left} is {left.base}; compare it with a quoted string, not {value.text}",
                        value.position,
                        "type-mismatch",
                    )
                )
            elif isinstance(value, StringValue) and numeric:
                problems.append(
                    FilterLintError(
                        f'{cond.left} is {left.base}; compare it with a number, not "{value.value}"',
                        value.position,
                        "type-mismatch",
                    )
                )
            elif isinstance(value, Placeholder) and not numeric and cond.op not in ("=", "!="):
                problems.append(
                    FilterLintError(
                        f"{cond.op} compares numbers but {cond.left} is {left.base}",
                        cond.position,
                        "type-mismatch",
                    )
                )
    return problems
