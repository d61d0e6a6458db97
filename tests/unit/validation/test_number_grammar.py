"""The SQL that types a value accepts exactly the number grammar, whatever shortcut it takes."""

from __future__ import annotations

import itertools
import re

import duckdb
import pytest

from personalize_rules.dataset_schemas import FieldSpec
from personalize_rules.value_rules import typed_sql

_RANGES = {"int": (-(2**31), 2**31 - 1), "long": (-(2**63), 2**63 - 1)}
_EXTRA = [
    "2147483647",
    "2147483648",
    "-2147483648",
    "-2147483649",
    "9223372036854775808",
    "1600000000",
    "1_000",
]


def _texts() -> list[str]:
    """Every text up to 3 characters over digits, signs and what DuckDB's casts also read."""
    alphabet = "01+-.ex_ "
    short = ["".join(p) for n in range(1, 4) for p in itertools.product(alphabet, repeat=n)]
    return short + _EXTRA


@pytest.mark.parametrize("avro_type", ["int", "long"])
def test_whole_numbers_are_typed_exactly_when_the_grammar_accepts_them(avro_type: str) -> None:
    spec = FieldSpec("N", avro_type, nullable=True)
    texts = _texts()
    db = duckdb.connect()
    db.execute('CREATE TABLE t ("N" VARCHAR)')
    db.executemany("INSERT INTO t VALUES (?)", [[t] for t in texts])
    query = f'SELECT "N", {typed_sql(spec)} FROM t'  # noqa: S608 - the rules' own SQL, no outside input
    typed = dict(db.execute(query).fetchall())
    low, high = _RANGES[avro_type]
    for text in texts:
        whole = re.fullmatch(r"[+-]?[0-9]+", text) is not None
        expected = int(text) if whole and low <= int(text) <= high else None
        assert typed[text] == expected, text
