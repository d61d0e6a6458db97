"""One defect per file: the validator names the rule, the physical line and the column."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from pipeline.validation import validate_file

Mutation = Callable[[list[str]], list[str] | bytes]
ITEMS_HEADER = "ITEM_ID,CATEGORY_L1,CATEGORY_L2,PRICE,CREATION_TIMESTAMP,NAME,URL,IMAGE,DESCRIPTION"


def cell(line_no: int, column: int, value: str) -> Mutation:
    """Replace one cell of a single-line record (line_no is the 1-based physical line)."""

    def mutate(lines: list[str]) -> list[str]:
        parts = lines[line_no - 1].split(",")
        parts[column - 1] = value
        lines[line_no - 1] = ",".join(parts)
        return lines

    return mutate


def replace_line(line_no: int, text: str) -> Mutation:
    def mutate(lines: list[str]) -> list[str]:
        lines[line_no - 1] = text
        return lines

    return mutate


def raw(change: Callable[[bytes], bytes]) -> Mutation:
    def mutate(lines: list[str]) -> bytes:
        return change(("\n".join(lines) + "\n").encode("utf-8"))

    return mutate


def items_row(i: int, **cells: str) -> str:
    """An items record on one line (no embedded newline) with some cells replaced."""
    values = {
        "ITEM_ID": f"item-{i}",
        "CATEGORY_L1": "cat-1",
        "CATEGORY_L2": "sub-1",
        "PRICE": "9.99",
        "CREATION_TIMESTAMP": "1500000000",
        "NAME": "Mug",
        "URL": "https://shop.example.com/p/x",
        "IMAGE": "",
        "DESCRIPTION": "plain",
    } | cells
    return ",".join(values.values())


def single_line_items() -> list[str]:
    return [ITEMS_HEADER, *(items_row(i) for i in range(60))]


def items_with(line_no: int, **cells: str) -> Mutation:
    """Single-line items file whose record on `line_no` has the given cells."""

    def mutate(lines: list[str]) -> list[str]:
        out = single_line_items()
        out[line_no - 1] = items_row(99, **cells)
        return out

    return mutate


LONG_ID = "u" * 257
CASES: list[tuple[str, str, Mutation, str, int | None, int | None]] = [
    ("user-id-empty", "interactions", cell(10, 1, ""), "missing_value", 10, 1),
    ("item-id-empty", "interactions", cell(11, 2, ""), "missing_value", 11, 2),
    ("timestamp-empty", "interactions", cell(12, 3, ""), "missing_value", 12, 3),
    ("event-type-empty", "interactions", cell(13, 4, ""), "missing_value", 13, 4),
    ("timestamp-not-a-number", "interactions", cell(14, 3, "yesterday"), "invalid_long", 14, 3),
    ("timestamp-decimal", "interactions", cell(15, 3, "1600000000.5"), "invalid_long", 15, 3),
    ("timestamp-iso-date", "interactions", cell(16, 3, "2020-09-13T12:26:40Z"), "invalid_long", 16, 3),
    ("event-value-text", "interactions", cell(17, 5, "lots"), "invalid_float", 17, 5),
    ("event-value-decimal-comma", "interactions", cell(18, 5, '"1,5"'), "invalid_float", 18, 5),
    (
        "timestamp-milliseconds",
        "interactions",
        cell(19, 3, "1600000000123"),
        "timestamp_in_milliseconds",
        19,
        3,
    ),
    (
        "timestamp-microseconds",
        "interactions",
        cell(20, 3, "1600000000123456"),
        "timestamp_in_microseconds",
        20,
        3,
    ),
    ("timestamp-negative", "interactions", cell(21, 3, "-1600000000"), "timestamp_negative", 21, 3),
    ("timestamp-year-2100", "interactions", cell(22, 3, "4102444800"), "timestamp_in_future", 22, 3),
    ("user-id-257-chars", "interactions", cell(23, 1, LONG_ID), "id_too_long", 23, 1),
    ("item-id-257-multibyte-chars", "interactions", cell(24, 2, "é" * 257), "id_too_long", 24, 2),
    (
        "too-few-columns",
        "interactions",
        replace_line(25, "user-1,item-1,1600000000,View"),
        "wrong_column_count",
        25,
        5,
    ),
    (
        "too-many-columns",
        "interactions",
        replace_line(26, "user-1,item-1,1600000000,View,1,x"),
        "wrong_column_count",
        26,
        6,
    ),
    ("unquoted-comma-in-id", "interactions", cell(27, 1, "user,27"), "wrong_column_count", 27, 6),
    ("backslash-escaped-quote", "interactions", cell(28, 2, '"item \\"x\\""'), "csv_escaping", 28, 2),
    ("users-backslash-escaped-quote", "users", cell(46, 4, '"D\\"E"'), "csv_escaping", 46, 4),
    (
        "latin1-byte",
        "interactions",
        raw(lambda b: b.replace(b"user-3,item-21", b"user-\xe93,item-21", 1)),
        "not_utf8",
        62,
        1,
    ),
    (
        "header-columns-swapped",
        "interactions",
        replace_line(1, "USER_ID,ITEM_ID,EVENT_TYPE,TIMESTAMP,EVENT_VALUE"),
        "header_mismatch",
        1,
        3,
    ),
    (
        "header-column-missing",
        "interactions",
        replace_line(1, "USER_ID,ITEM_ID,TIMESTAMP,EVENT_TYPE"),
        "header_mismatch",
        1,
        5,
    ),
    (
        "header-lowercase",
        "interactions",
        replace_line(1, "user_id,ITEM_ID,TIMESTAMP,EVENT_TYPE,EVENT_VALUE"),
        "header_mismatch",
        1,
        1,
    ),
    (
        "header-quoted",
        "interactions",
        replace_line(1, '"USER_ID","ITEM_ID","TIMESTAMP","EVENT_TYPE","EVENT_VALUE"'),
        "header_quoted",
        1,
        1,
    ),
    ("empty-file", "interactions", raw(lambda b: b""), "empty_file", 1, None),
    (
        "unterminated-quote",
        "interactions",
        raw(lambda b: b + b'user-1,"item-1,1600000000,View,\n'),
        "csv_syntax",
        2002,
        None,
    ),
    (
        "exact-duplicate-row",
        "interactions",
        lambda ls: [*ls[:31], ls[30], *ls[31:]],
        "duplicate_interaction",
        32,
        None,
    ),
    ("bom", "interactions", raw(lambda b: b"\xef\xbb\xbf" + b), "bom", 1, 1),
    ("users-duplicate-id", "users", replace_line(40, "user-5,30,gold,DE"), "duplicate_id", 40, 1),
    ("users-age-text", "users", cell(41, 2, "thirty"), "invalid_int", 41, 2),
    ("users-age-out-of-int-range", "users", cell(42, 2, "3000000000"), "invalid_int", 42, 2),
    ("users-tier-1001-chars", "users", cell(43, 3, "g" * 1001), "categorical_too_long", 43, 3),
    (
        "users-one-category-1001-chars",
        "users",
        cell(44, 3, "gold|" + "g" * 1001),
        "categorical_too_long",
        44,
        3,
    ),
    ("users-id-empty", "users", cell(45, 1, ""), "missing_value", 45, 1),
    (
        "items-duplicate-id",
        "items",
        lambda ls: [*single_line_items()[:50], items_row(7), *single_line_items()[50:]],
        "duplicate_id",
        51,
        1,
    ),
    ("items-price-empty", "items", items_with(10, PRICE=""), "missing_value", 10, 4),
    ("items-price-text", "items", items_with(10, PRICE="cheap"), "invalid_float", 10, 4),
    ("items-name-1001-chars", "items", items_with(10, NAME="n" * 1001), "string_too_long", 10, 6),
    (
        "items-description-20001-chars",
        "items",
        items_with(10, DESCRIPTION="d" * 20001),
        "textual_too_long",
        10,
        9,
    ),
    (
        "items-creation-ms",
        "items",
        items_with(10, CREATION_TIMESTAMP="1500000000000"),
        "timestamp_in_milliseconds",
        10,
        5,
    ),
    ("items-category-empty", "items", items_with(10, CATEGORY_L1=""), "missing_value", 10, 2),
    # after a record spanning two lines (quoted newline) the reported line is the physical one
    (
        "items-after-multiline-record",
        "items",
        lambda ls: [*ls[:20], items_row(99, PRICE="x"), *ls[21:]],
        "invalid_float",
        40,
        4,
    ),
]


@pytest.mark.parametrize(
    ("dataset", "mutate", "rule", "line", "column"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_single_defect_is_reported_with_rule_line_and_column(
    tmp_path: Path,
    schemas: dict[str, Any],
    data: SimpleNamespace,
    dataset: str,
    mutate: Mutation,
    rule: str,
    line: int | None,
    column: int | None,
) -> None:
    content = mutate(getattr(data, dataset)())
    path = tmp_path / f"{dataset}.csv"
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        data.write(path, content)
    report = validate_file(dataset, path, schemas[dataset])
    found = [(p.rule, p.line, p.column) for p in report.problems]
    assert (rule, line, column) in found, found
    other_errors = {c["rule"] for c in report.problem_counts if c["severity"] == "error"} - {rule}
    assert not other_errors, f"the single defect raised more rules: {other_errors}"
    expected_ok = rule in ("bom", "duplicate_interaction")
    assert report.ok is expected_ok


def test_there_are_at_least_30_distinct_defective_files() -> None:
    assert len({c[0] for c in CASES}) >= 30
    assert len({c[3] for c in CASES}) >= 20
