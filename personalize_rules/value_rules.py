"""Personalize's rules for one value of a dataset CSV file, each written once as a SQL condition.

The limits are the developer guide's ("Service quotas", "Custom datasets and schemas"): IDs up to 256
characters, categorical values up to 1,000 (each |-separated one), other Items strings up to 1,000, textual
up to 20,000, and the training minimums. A rule is a condition over a row of DuckDB's view of the file
(`personalize_rules.dataset_files`), with every column as text ("NAME") and as its Avro type
("#typed NAME"); the engine counts it over the file and looks for examples only when it fired.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from personalize_rules.avro_types import SQL_TYPES
from personalize_rules.dataset_report import Severity
from personalize_rules.dataset_schemas import FieldSpec

__all__ = [
    "LIMITS",
    "ValueRule",
    "iso_time",
    "quote_ident",
    "sql_literal",
    "typed_column",
    "typed_sql",
    "value_rules",
]

LIMITS: dict[str, int | float] = {
    "id_chars": 256,
    "categorical_chars": 1000,
    "string_chars": 1000,  # non-categorical strings in Items (service quota)
    "textual_chars": 20000,
    "min_interactions": 1000,
    "min_users_with_2": 25,
    "min_share_users_with_2": 0.01,
    "min_import_records": 1000,
    "max_event_types_plus_metadata": 10,
}
# The number grammar of a CSV value (what the Avro types accept as text); DuckDB's own casts also take
# "1.5" as a long, "1_000", "0x10" and spaces, which Personalize's import does not document.
_WHOLE = "[+-]?[0-9]+"
_DECIMAL = r"[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?"
_GRAMMAR = {"int": _WHOLE, "long": _WHOLE, "float": _DECIMAL, "double": _DECIMAL}
_FIX_TYPE = {
    "int": "write a whole number between -2147483648 and 2147483647",
    "long": "write a whole number (Unix epoch seconds for timestamps)",
    "float": "write a decimal number with a dot, e.g. 12.5",
    "double": "write a decimal number with a dot, e.g. 12.5",
    "boolean": "write true or false",
}


@dataclass(frozen=True)
class ValueRule:
    """One row rule: the SQL condition a row breaks it by, and what the report says."""

    rule: str
    spec: FieldSpec
    index: int
    where: str
    message: str
    fix: str
    shows_value: bool = True
    severity: Severity = "error"


def quote_ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def sql_literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def typed_column(name: str) -> str:
    return quote_ident(f"#typed {name}")


def _length_limit(dataset_type: str, spec: FieldSpec) -> tuple[int, str] | None:
    """A string column's length limit in characters (per |-separated value when categorical) and rule."""
    if spec.is_id:
        return int(LIMITS["id_chars"]), "id_too_long"
    if spec.textual:
        return int(LIMITS["textual_chars"]), "textual_too_long"
    if spec.categorical:
        return int(LIMITS["categorical_chars"]), "categorical_too_long"
    if dataset_type == "items":
        return int(LIMITS["string_chars"]), "string_too_long"
    return None


def typed_sql(spec: FieldSpec) -> str:
    """The column's value as its Avro type, NULL when the text isn't one (an invalid_<type> problem)."""
    raw = quote_ident(spec.name)
    if spec.avro_type == "string":
        return raw
    if spec.avro_type == "boolean":
        return f"CASE WHEN lower({raw}) IN ('true', 'false') THEN lower({raw}) = 'true' END"
    grammar = sql_literal(_GRAMMAR[spec.avro_type])
    cast = f"TRY_CAST({raw} AS {SQL_TYPES[spec.avro_type]})"
    valid = f"regexp_full_match({raw}, {grammar})"
    if spec.avro_type in ("int", "long"):
        # a whole number written the way DuckDB prints it ([-]digits) is in the grammar, so the regular
        # expression only runs on the rest ("+5", "007", "1.5", ...): the same values, 40% cheaper
        valid = f"{cast}::VARCHAR = {raw} OR {valid}"
    return f"CASE WHEN {valid} THEN {cast} END"


def value_rules(dataset_type: str, specs: list[FieldSpec], future_limit: int) -> list[ValueRule]:
    """Every rule a single value can break, as SQL over the raw text and the typed value."""
    rules: list[ValueRule] = []
    for i, spec in enumerate(specs):
        raw, typed = quote_ident(spec.name), typed_column(spec.name)
        if not spec.nullable:
            fix = f"give every record a {spec.name}" + (" (1-256 characters)" if spec.is_id else "")
            rules.append(
                ValueRule("missing_value", spec, i, f"{raw} IS NULL", "required value is empty", fix, False)
            )
        if spec.avro_type != "string":
            rules.append(
                ValueRule(f"invalid_{spec.avro_type}", spec, i, f"{raw} IS NOT NULL AND {typed} IS NULL",
                      f"not a valid {spec.avro_type}", _FIX_TYPE[spec.avro_type])
            )  # fmt: skip
        else:
            limit_rule = _length_limit(dataset_type, spec)
            if limit_rule is not None:
                limit, rule = limit_rule
                longest = (
                    f"list_max(list_transform(string_split({raw}, '|'), lambda v: length(v)))"
                    if spec.categorical
                    else f"length({raw})"
                )
                what = "each |-separated value" if spec.categorical else "the value"
                rules.append(
                    ValueRule(
                        rule, spec, i, f"strlen({raw}) > {limit} AND {longest} > {limit}",
                        f"{what} is longer than {limit:,} characters",
                        f"shorten {spec.name} to at most {limit:,} characters"
                        + (" per |-separated value" if spec.categorical else ""),
                    )
                )  # fmt: skip
        if spec.is_timestamp:
            late = f"{typed} > {future_limit}"
            ms = f"({late} AND {typed} // 1000 BETWEEN 100000000 AND {future_limit})"
            us = f"({late} AND NOT {ms} AND {typed} // 1000000 BETWEEN 100000000 AND {future_limit})"
            rules += [
                ValueRule("timestamp_negative", spec, i, f"{typed} < 0", "negative Unix time",
                      "use Unix epoch seconds (>= 0)"),
                ValueRule("timestamp_in_milliseconds", spec, i, ms, "looks like milliseconds: divide by 1000",
                      "write Unix epoch seconds: divide the value by 1000"),
                ValueRule("timestamp_in_microseconds", spec, i, us,
                      "looks like microseconds: divide by 1,000,000",
                      "write Unix epoch seconds: divide the value by 1,000,000"),
                ValueRule("timestamp_in_future", spec, i, f"({late} AND NOT {ms} AND NOT {us})",
                      f"far in the future (after {iso_time(future_limit)})",
                      "write Unix epoch seconds of when the event happened"),
            ]  # fmt: skip
    return rules


def iso_time(seconds: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(seconds))
