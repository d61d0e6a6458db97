"""The plain-record reader must hash every record exactly as the Arrow path does (parse, `hash_column`,
`fold_numeric`, `mix`), and stop at every record it can't read that way."""

from __future__ import annotations

import csv
import random

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv
import pytest

from pipeline.validation.columns import fold_numeric
from pipeline.validation.hashing import PlainColumn, PlainRecords, Scratch, combine, hash_column, mix

FUTURE = 2_000_000_000
COLUMNS = [
    PlainColumn("USER_ID", "string", False, high=256),
    PlainColumn("ITEM_ID", "string", False, high=256),
    PlainColumn("TIMESTAMP", "long", False, 0, FUTURE),
    PlainColumn("EVENT_TYPE", "string", True),
    PlainColumn("EVENT_VALUE", "float", True, -(10**18), 10**18),
    PlainColumn("COUNT", "int", True, -(2**31), 2**31 - 1),
    PlainColumn("SCORE", "double", True, -(10**18), 10**18),
    PlainColumn("BIG", "long", True, -(10**18), 10**18),
]
ARROW_TYPES = {
    "string": pa.string(),
    "long": pa.int64(),
    "int": pa.int32(),
    "float": pa.float32(),
    "double": pa.float64(),
}
GOOD = "u1,i1,1600000000,View,1.5,3,2.25,-7"


def arrow_hashes(data: bytes, columns: list[PlainColumn]) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """What the Arrow path computes for these records."""
    names = [c.name for c in columns]
    table = pacsv.read_csv(
        pa.py_buffer(data),
        read_options=pacsv.ReadOptions(column_names=names),
        convert_options=pacsv.ConvertOptions(
            column_types={c.name: ARROW_TYPES[c.avro_type] for c in columns},
            strings_can_be_null=True,
            quoted_strings_can_be_null=True,
            null_values=[""],
        ),
    )
    strings: dict[str, np.ndarray] = {}
    rows = np.zeros(table.num_rows, np.uint64)
    for c in columns:
        column = table.column(c.name).combine_chunks()
        if c.avro_type == "string":
            strings[c.name] = hash_column(column).hashes
            combine(rows, strings[c.name])
        else:
            fold_numeric(rows, column)
    return strings, mix(rows)


def read_all(data: bytes, columns: list[PlainColumn] = COLUMNS, batch: int = 1 << 16) -> list:
    reader = PlainRecords(columns, "TIMESTAMP", batch)
    array = np.frombuffer(data, np.uint8)
    batches, pos, scratch = [], 0, Scratch()
    while pos < len(array):
        got = reader.read(array, pos, scratch)
        batches.append(
            (got.rows, {k: v.copy() for k, v in got.hashes.items()}, got.row_hashes.copy(), got.time_range)
        )
        pos = got.end
        if got.stopped:
            raise AssertionError(f"stopped at byte {pos}: {data[pos : pos + 60]!r}")
    return batches


def random_number(rnd: random.Random, *, decimals: bool, digits: int) -> str:
    text = rnd.choice(["", "-"]) + str(rnd.randint(0, 10 ** rnd.randint(0, digits)))
    if decimals and rnd.random() < 0.7:
        text += "." + str(rnd.randint(0, 99)).zfill(rnd.randint(1, 2))
    if rnd.random() < 0.05:
        text = "0" + text.lstrip("-")  # a leading zero
    return "" if rnd.random() < 0.1 else text


def maybe_quoted(rnd: random.Random, text: str) -> str:
    """Some strings quoted, as CSV writers that quote every string do; commas can then be inside."""
    if rnd.random() < 0.3:
        return '"' + text + (", and more" if text and rnd.random() < 0.3 else "") + '"'
    return text


def random_records(n: int, seed: int) -> list[str]:
    rnd = random.Random(seed)
    return [
        ",".join(
            [
                maybe_quoted(rnd, "u" * rnd.randint(1, 20) + str(i % 97)),
                maybe_quoted(rnd, f"item-{rnd.randint(0, 10 ** rnd.randint(0, 12))}"),
                str(rnd.randint(0, FUTURE)),
                maybe_quoted(rnd, rnd.choice(["", "View", "Purchase", "x" * rnd.randint(1, 30)])),
                random_number(rnd, decimals=True, digits=5),
                random_number(rnd, decimals=False, digits=9),
                random_number(rnd, decimals=True, digits=13),
                random_number(rnd, decimals=False, digits=17),
            ]
        )
        for i in range(n)
    ]


@pytest.mark.parametrize(
    ("newline", "final_newline", "batch"), [("\n", True, 1 << 16), ("\r\n", True, 777), ("\n", False, 1000)]
)
def test_plain_records_hash_exactly_like_the_arrow_path(
    newline: str, final_newline: bool, batch: int
) -> None:
    records = random_records(5000, seed=len(newline) + batch)
    data = (newline.join(records) + (newline if final_newline else "")).encode()
    strings, rows = arrow_hashes(data, COLUMNS)
    batches = read_all(data, batch=batch)
    assert sum(b[0] for b in batches) == len(records)
    for name in ("USER_ID", "ITEM_ID", "EVENT_TYPE"):
        assert np.array_equal(np.concatenate([b[1][name] for b in batches]), strings[name]), name
    assert np.array_equal(np.concatenate([b[2] for b in batches]), rows)
    times = [int(next(csv.reader([r]))[2]) for r in records]
    assert (min(b[3][0] for b in batches), max(b[3][1] for b in batches)) == (min(times), max(times))


@pytest.mark.parametrize(
    ("avro_type", "max_mantissa", "max_decimals"), [("float", 2**24, 10), ("double", 2**53, 15)]
)
def test_decimal_values_convert_to_the_same_bits_as_arrows_parse(
    avro_type: str, max_mantissa: int, max_decimals: int
) -> None:
    rnd = random.Random(7)
    values = []
    for _ in range(20000):
        mantissa, decimals = str(rnd.randint(0, max_mantissa)), rnd.randint(0, max_decimals)
        if decimals >= len(mantissa):
            mantissa = mantissa.zfill(decimals + 1)
        text = mantissa[: len(mantissa) - decimals] + ("." + mantissa[-decimals:] if decimals else "")
        values.append(("-" if rnd.random() < 0.3 else "") + text)
    values += ["0", "-0", "0.0", "-0.0", "16777216", "0.1", "3.402823", "13.99"]
    columns = [PlainColumn("X", avro_type, False, -(10**18), 10**18)]
    data = ("\n".join(values) + "\n").encode()
    _, rows = arrow_hashes(data, columns)
    assert np.array_equal(np.concatenate([b[2] for b in read_all(data, columns)]), rows)


@pytest.mark.parametrize(
    ("record", "why"),
    [
        ('"u""1",i1,1600000000,View,1.5,3,2.25,-7', "a doubled quote inside quotes"),
        ('"u1\n2",i1,1600000000,View,1.5,3,2.25,-7', "a line break inside quotes"),
        ('"u1"x,i1,1600000000,View,1.5,3,2.25,-7', "text after the closing quote"),
        ('u"1,i1,1600000000,View,1.5,3,2.25,-7', "a quote inside an unquoted value"),
        ('u1,i1,"1600000000",View,1.5,3,2.25,-7', "a quoted number"),
        ('"u1,i1,1600000000,View,1.5,3,2.25,-7', "a quote never closed"),
        ('"",i1,1600000000,View,1.5,3,2.25,-7', "a quoted empty required string"),
        ("u\u00e9,i1,1600000000,View,1.5,3,2.25,-7", "non-ASCII bytes"),
        ("u1\ri1,i1,1600000000,View,1.5,3,2.25,-7", "a CR that doesn't end the line"),
        ("", "an empty line"),
        ("u1,i1,1600000000,View,1.5,3,2.25", "a column too few"),
        ("u1,i1,1600000000,View,1.5,3,2.25,-7,", "a column too many"),
        (",i1,1600000000,View,1.5,3,2.25,-7", "a missing required string"),
        ("u1,i1,,View,1.5,3,2.25,-7", "a missing required number"),
        ("u" * 257 + ",i1,1600000000,View,1.5,3,2.25,-7", "an ID longer than its limit"),
        ("u1,i1,2000000001,View,1.5,3,2.25,-7", "a time in the future"),
        ("u1,i1,-1600000000,View,1.5,3,2.25,-7", "a negative time"),
        ("u1,i1,1600000000000,View,1.5,3,2.25,-7", "milliseconds"),
        ("u1,i1,1600000000,View,1e5,3,2.25,-7", "an exponent"),
        ("u1,i1,1600000000,View,+1.5,3,2.25,-7", "a plus sign"),
        ("u1,i1,1600000000,View,1.,3,2.25,-7", "a dot without decimals"),
        ("u1,i1,1600000000,View,.5,3,2.25,-7", "a dot without digits before it"),
        ("u1,i1,1600000000,View,16777217,3,2.25,-7", "a float32 that may round"),
        ("u1,i1,1600000000,View,1.00000000001,3,2.25,-7", "too many decimals for float32"),
        ("u1,i1,1600000000,View,nan,3,2.25,-7", "not a number"),
        ("u1,i1,1600000000,View,-,3,2.25,-7", "a sign alone"),
        ("u1,i1,1600000000,View, 1.5,3,2.25,-7", "a space"),
        ("u1,i1,1600000000,View,1.5,2147483648,2.25,-7", "an int beyond 32 bits"),
        ("u1,i1,1600000000,View,1.5,3,2.25,1234567890123456789", "19 digits"),
        ("u1,i1,1600000000,View,1.5,3.0,2.25,-7", "a dot in an integer"),
    ],
)
def test_stops_at_the_first_record_only_arrow_can_judge(record: str, why: str) -> None:
    before = [GOOD] * 5
    data = ("\n".join([*before, record, GOOD]) + "\n").encode()
    got = PlainRecords(COLUMNS, "TIMESTAMP", 100).read(np.frombuffer(data, np.uint8), 0, Scratch())
    assert got.stopped, why
    assert got.rows == len(before)
    assert got.end == sum(len(r) + 1 for r in before)  # the stopping record's first byte


def test_a_batch_holds_at_most_its_size_and_the_next_read_goes_on() -> None:
    data = ("\n".join(random_records(10, seed=3)) + "\n").encode()
    reader = PlainRecords(COLUMNS, "TIMESTAMP", 4)
    array, scratch = np.frombuffer(data, np.uint8), Scratch()
    first = reader.read(array, 0, scratch)
    assert (first.rows, first.stopped) == (4, False)
    assert data[first.end - 1 : first.end] == b"\n"
    assert [b[0] for b in read_all(data, batch=4)] == [4, 4, 2]


def test_time_range_is_none_when_no_record_was_read() -> None:
    got = PlainRecords(COLUMNS, "TIMESTAMP", 10).read(np.frombuffer(b'"q"\n', np.uint8), 0, Scratch())
    assert (got.rows, got.stopped, got.time_range) == (0, True, None)
