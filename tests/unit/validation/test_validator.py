from __future__ import annotations

import hashlib
import io
import json
import re
from collections.abc import Callable
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import jsonschema
import numpy as np
import pyarrow as pa
import pytest

from pipeline.paths import schema_dir
from pipeline.validate import main
from pipeline.validation import ValidationError, engine, validate_directory, validate_file
from pipeline.validation.aggregates import DuplicateFinder, KeyTable
from pipeline.validation.chunks import SplitInsideQuotesError, line_chunks
from pipeline.validation.hashing import hash_strings
from pipeline.validation.report import ProblemCollector
from pipeline.validation.sources import open_source


@pytest.fixture(scope="module")
def report_schema() -> dict[str, Any]:
    return dict(json.loads((schema_dir() / "validation-report.schema.json").read_text()))


def test_valid_directory_passes_with_a_useful_summary(dataset_dir: Callable[..., Path], schemas: Any) -> None:
    report = validate_directory(str(dataset_dir()), schemas=schemas)
    assert report.ok, report.format_text()
    assert report.problems == []
    assert report.row_counts == {"interactions": 2000, "users": 100, "items": 60}
    info = report.summary["files"]["interactions.csv"]
    assert info["distinct_users"] == 100
    assert info["distinct_items"] == 60
    assert info["event_types"] == {"View": 1600, "Purchase": 400}
    assert info["time_range"]["min"] == 1_600_000_000
    assert info["time_range"]["max"] == 1_600_000_000 + 1999 * 37
    assert info["interactions_per_user"]["min"] == info["interactions_per_user"]["max"] == 20
    assert info["exact_duplicates"] == 0
    assert report.summary["files"]["items.csv"]["distinct_items"] == 60
    assert "VALID" in report.format_text()


def test_quoted_fields_with_commas_newlines_and_doubled_quotes_are_valid(
    tmp_path: Path, schemas: Any, data: SimpleNamespace
) -> None:
    path = data.write(tmp_path / "items.csv", data.items())
    report = validate_file("items", path, schemas["items"])
    assert report.ok, report.format_text()
    assert report.row_counts["items"] == 60


def test_bom_is_a_warning_and_crlf_is_handled(tmp_path: Path, schemas: Any, data: SimpleNamespace) -> None:
    path = data.write(
        tmp_path / "interactions.csv", data.interactions(), newline="\r\n", prefix=b"\xef\xbb\xbf"
    )
    report = validate_file("interactions", path, schemas["interactions"])
    assert report.ok
    assert [(p.rule, p.severity) for p in report.problems] == [("bom", "warning")]
    assert report.summary["files"]["interactions.csv"]["line_endings"] == "CRLF"
    assert report.row_counts["interactions"] == 2000


def test_defect_in_a_crlf_file_is_on_the_right_line(
    tmp_path: Path, schemas: Any, data: SimpleNamespace
) -> None:
    lines = data.interactions()
    lines[99] = lines[99].replace(",View,", ",View,", 1).rsplit(",", 1)[0] + ",oops"
    path = data.write(tmp_path / "interactions.csv", lines, newline="\r\n")
    report = validate_file("interactions", path, schemas["interactions"])
    assert [(p.rule, p.line, p.column, p.value) for p in report.problems] == [
        ("invalid_float", 100, 5, "oops")
    ]


def test_minimums_are_checked_after_keeping_only_the_event_type(
    tmp_path: Path, schemas: Any, data: SimpleNamespace
) -> None:
    path = data.write(tmp_path / "interactions.csv", data.interactions(purchases_every=100))
    assert validate_file("interactions", path, schemas["interactions"]).ok
    report = validate_file("interactions", path, schemas["interactions"], event_type="Purchase")
    rules = {c["rule"]: c["count"] for c in report.problem_counts}
    assert not report.ok
    assert rules == {
        "min_interactions": 1,
        "min_users_with_2_interactions": 1,
        "min_share_users_with_2_interactions": 1,
    }
    filtered = report.summary["files"]["interactions.csv"]["filtered"]
    assert filtered == {"event_type": "Purchase", "rows": 20, "users": 20, "users_with_2_or_more": 0}
    message = next(p.message for p in report.problems if p.rule == "min_interactions")
    assert "EVENT_TYPE=Purchase" in message


def test_small_file_breaks_the_import_and_training_minimums(
    tmp_path: Path, schemas: Any, data: SimpleNamespace
) -> None:
    path = data.write(tmp_path / "interactions.csv", data.interactions()[:1000])  # header + 999 records
    report = validate_file("interactions", path, schemas["interactions"])
    assert {c["rule"] for c in report.problem_counts} == {"min_import_records", "min_interactions"}
    assert validate_file("interactions", path, schemas["interactions"], check_minimums=False).ok


def test_too_few_users_with_two_interactions_share_is_an_error(tmp_path: Path, schemas: Any) -> None:
    lines = ["USER_ID,ITEM_ID,TIMESTAMP,EVENT_TYPE,EVENT_VALUE"]
    lines += [f"pair-{u},item-{k},{1_600_000_000 + 2 * u + k},View," for u in range(25) for k in range(2)]
    lines += [f"once-{u},item-{u % 9},{1_600_100_000 + u},View," for u in range(2600)]
    path = tmp_path / "interactions.csv"
    path.write_text("\n".join(lines) + "\n")
    report = validate_file("interactions", path, schemas["interactions"])
    assert {c["rule"] for c in report.problem_counts} == {"min_share_users_with_2_interactions"}


def test_every_occurrence_is_counted_but_only_the_first_five_listed(
    tmp_path: Path, schemas: Any, data: SimpleNamespace
) -> None:
    lines = data.interactions()
    for i in range(10, 22):
        parts = lines[i].split(",")
        parts[2] += "000"
        lines[i] = ",".join(parts)
    path = data.write(tmp_path / "interactions.csv", lines)
    report = validate_file("interactions", path, schemas["interactions"])
    assert report.problem_counts == [
        {"file": "interactions.csv", "rule": "timestamp_in_milliseconds", "severity": "error", "count": 12}
    ]
    assert [p.line for p in report.problems] == [11, 12, 13, 14, 15]
    # the summary's time range leaves the implausible values out
    assert report.summary["files"]["interactions.csv"]["time_range"]["max"] == 1_600_000_000 + 1999 * 37


def test_interactions_missing_from_items_and_users_are_warnings_with_examples(
    dataset_dir: Callable[..., Path], schemas: Any, data: SimpleNamespace
) -> None:
    lines = data.interactions()
    lines[5] = "ghost-user,item-1,1600000001,View,"
    lines[6] = "user-1,ghost-item,1600000002,View,"
    lines[7] = "user-1,ghost-item,1600000003,View,"
    report = validate_directory(str(dataset_dir(interactions=lines)), schemas=schemas)
    assert report.ok
    counts = {c["rule"]: c["count"] for c in report.problem_counts}
    assert counts == {"unknown_user": 1, "unknown_item": 2}
    found = {(p.rule, p.line, p.column, p.value) for p in report.problems}
    assert found == {("unknown_user", 6, 1, "ghost-user"), ("unknown_item", 7, 2, "ghost-item")}
    info = report.summary["files"]["interactions.csv"]
    assert info["unknown_item_distinct"] == 1
    assert info["unknown_item_interactions"] == 2


def test_a_binary_stream_is_accepted(schemas: Any, data: SimpleNamespace) -> None:
    payload = ("\n".join(data.interactions()) + "\n").encode()
    report = validate_file("interactions", io.BytesIO(payload), schemas["interactions"])
    assert report.ok
    assert report.row_counts == {"interactions": 2000}


def test_a_bad_value_in_a_stream_is_located(schemas: Any, data: SimpleNamespace) -> None:
    lines = data.interactions()
    lines[1500] = lines[1500].rsplit(",", 1)[0] + ",NaN?"
    report = validate_file("interactions", io.BytesIO(("\n".join(lines)).encode()), schemas["interactions"])
    assert [(p.rule, p.line, p.column) for p in report.problems] == [("invalid_float", 1501, 5)]
    # the precise re-read still summarises every record
    assert report.summary["files"]["interactions.csv"]["distinct_users"] == 100


def test_the_input_is_never_modified(dataset_dir: Callable[..., Path], schemas: Any) -> None:
    root = dataset_dir()
    before = {
        p.name: (hashlib.sha256(p.read_bytes()).hexdigest(), p.stat().st_mtime_ns) for p in root.iterdir()
    }
    validate_directory(str(root), schemas=schemas)
    after = {
        p.name: (hashlib.sha256(p.read_bytes()).hexdigest(), p.stat().st_mtime_ns) for p in root.iterdir()
    }
    assert before == after


def test_missing_directory_or_interactions_is_a_validation_error(tmp_path: Path, schemas: Any) -> None:
    with pytest.raises(ValidationError, match="not a directory"):
        validate_directory(str(tmp_path / "nope"), schemas=schemas)
    with pytest.raises(ValidationError, match=r"no interactions\.csv"):
        validate_directory(str(tmp_path), schemas=schemas)


def test_report_json_matches_its_schema(
    dataset_dir: Callable[..., Path], schemas: Any, data: SimpleNamespace, report_schema: dict[str, Any]
) -> None:
    lines = data.interactions()
    lines[3] = "user-1,item-1,abc,View,"
    lines[4] = "ghost,item-1,1600000000000,View,"
    for report in (
        validate_directory(str(dataset_dir()), schemas=schemas),
        validate_directory(str(dataset_dir(interactions=lines)), schemas=schemas, event_type="View"),
    ):
        payload = json.loads(json.dumps(report.to_json()))
        jsonschema.Draft202012Validator(report_schema).validate(payload)
    assert payload["ok"] is False
    assert payload["errors"] == 2


def test_cli_exit_codes_and_report_file(
    dataset_dir: Callable[..., Path], tmp_path: Path, data: SimpleNamespace, report_schema: dict[str, Any],
    capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    assert main([str(dataset_dir())]) == 0
    assert "VALID" in capsys.readouterr().out
    lines = data.interactions()
    lines[9] = "user-1,item-1,-7,View,"
    report_path = tmp_path / "out" / "report.json"
    assert main([str(dataset_dir(interactions=lines)), "--report", str(report_path)]) == 1
    out = capsys.readouterr().out
    assert "timestamp_negative" in out and "interactions.csv:10:3" in out
    written = json.loads(report_path.read_text())
    jsonschema.Draft202012Validator(report_schema).validate(written)
    assert written["problems"][0]["rule"] == "timestamp_negative"
    assert main([str(tmp_path / "missing")]) == 2
    with pytest.raises(SystemExit) as usage:
        main(["--bogus"])
    assert usage.value.code == 2


def test_s3_directory_is_read_through_boto3(
    tmp_path: Path, schemas: Any, data: SimpleNamespace, monkeypatch: pytest.MonkeyPatch
) -> None:
    moto = pytest.importorskip("moto")
    import boto3

    for var, value in {
        "AWS_ACCESS_KEY_ID": "x",
        "AWS_SECRET_ACCESS_KEY": "x",
        "AWS_DEFAULT_REGION": "us-east-1",
    }.items():
        monkeypatch.setenv(var, value)
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    with moto.mock_aws():
        s3 = boto3.client("s3")
        s3.create_bucket(Bucket="data")
        lines = data.interactions()
        lines[2] = "user-0,item-0,1600000000000,View,"
        s3.put_object(Bucket="data", Key="imports/interactions.csv", Body="\n".join(lines).encode())
        s3.put_object(Bucket="data", Key="imports/items.csv", Body="\n".join(data.items()).encode())
        report = validate_directory("s3://data/imports/", schemas=schemas)
    assert report.row_counts == {"interactions": 2000, "items": 60}
    assert [(p.rule, p.line, p.column) for p in report.problems] == [("timestamp_in_milliseconds", 3, 3)]


def test_hashes_are_the_same_for_ascii_fast_path_slices_and_multibyte_values() -> None:
    values = ["a", "bb", "user-1", "", None, "é", "user-1", "x" * 40]
    whole = hash_strings(pa.array(values))
    assert whole[2] == whole[6]
    assert whole[3] == whole[4]  # null hashes like ""
    assert len(set(whole.tolist())) == 6
    assert hash_strings(pa.array(values).slice(2)).tolist() == whole[2:].tolist()
    ascii_only = hash_strings(pa.array(["a", "bb", "user-1"]))
    assert ascii_only.tolist() == whole[:3].tolist()


def test_duplicate_finder_gives_the_same_answer_when_spilling_to_disk() -> None:
    rng = np.random.default_rng(3)
    hashes = rng.integers(0, 2**62, 100_000).astype(np.uint64)
    hashes[500] = hashes[10]
    hashes[70_000] = hashes[10]
    hashes[99_999] = hashes[5]
    answers = []
    for spill_at in (10**9, 30_000):
        finder = DuplicateFinder(spill_at=spill_at)
        for start in range(0, 100_000, 25_000):
            finder.add(hashes[start : start + 25_000], start)
        answers.append(finder.finish(5))
    assert answers[0] == answers[1] == (3, [(500, 10), (70_000, 10), (99_999, 5)])


def test_duplicate_finder_numbers_records_across_parts_read_side_by_side() -> None:
    rng = np.random.default_rng(4)
    hashes = rng.integers(1, 2**62, 60_000).astype(np.uint64)
    hashes[45_000] = hashes[7]  # part 1 repeats a row of part 0
    hashes[50_000] = hashes[41_000]  # part 1 repeats its own row
    answers = []
    for spill_at in (10**9, 12_000):
        finder = DuplicateFinder(spill_at=spill_at)
        for start in range(0, 40_000, 10_000):  # the parts' batches arrive interleaved
            finder.add(hashes[40_000 + start // 2 : 40_000 + start // 2 + 5_000], start // 2, part=1)
            finder.add(hashes[start : start + 10_000], start, part=0)
        finder.seal(1)  # part 1 sorted as soon as it is done (part 0 at the end)
        answers.append(finder.finish(5, offsets=(0, 40_000)))
    assert answers[0] == answers[1] == (2, [(45_000, 7), (50_000, 41_000)])


def test_duplicate_finder_refuses_rows_out_of_order() -> None:
    finder = DuplicateFinder()
    finder.add(np.ones(10, np.uint64), 0)
    with pytest.raises(ValueError, match="in order"):
        finder.add(np.ones(10, np.uint64), 20)


def test_key_table_counts_all_and_flagged_rows_while_growing() -> None:
    table = KeyTable(columns=2, capacity=16)
    keys = np.arange(1, 600_001, dtype=np.uint64)
    for _ in range(3):
        table.add(keys, keys % 2 == 0)
    found, (counts, flagged) = table.result()
    order = np.argsort(found)
    assert found[order].tolist() == keys.tolist()
    assert set(counts.tolist()) == {3}
    assert flagged[order][:4].tolist() == [0, 3, 0, 3]
    assert table.contains(np.array([5, 600_001], np.uint64)).tolist() == [True, False]


def test_key_tables_of_parts_merge_into_one() -> None:
    first, second = KeyTable(columns=2), KeyTable(columns=2)
    first.add(np.array([1, 2, 2], np.uint64), np.array([True, False, True]))
    second.add(np.arange(2, 5000, dtype=np.uint64), np.zeros(4998, bool))
    first.merge(second)
    keys, (counts, flagged) = first.result()
    found = dict(zip(keys.tolist(), zip(counts.tolist(), flagged.tolist(), strict=True), strict=True))
    assert len(found) == 4999 and first.size == 4999
    assert found[1] == (1, 1) and found[2] == (3, 1) and found[4999] == (1, 0)


HEADER = "USER_ID,ITEM_ID,TIMESTAMP,EVENT_TYPE,EVENT_VALUE"


def _rows(n: int) -> list[str]:
    return [HEADER] + [f"user-{i % 100},item-{i % 50},{1_600_000_000 + i},View," for i in range(n)]


def _blank_line_at_11(lines: list[str]) -> bytes:
    lines.insert(10, "")
    return ("\n".join(lines) + "\n").encode()


def _extra_column_at_6(lines: list[str]) -> bytes:
    lines[5] += ",extra"
    return ("\n".join(lines) + "\n").encode()


def _two_line_record_at_6(lines: list[str]) -> bytes:
    lines[5] = 'user-1,"item\n-1",1600000000,View,'
    return ("\n".join(lines) + "\n").encode()


@pytest.mark.parametrize(
    ("layout", "line"),
    [
        (lambda ls: ("\n".join(ls) + "\n").encode(), 21),
        (lambda ls: ("\r".join(ls) + "\r").encode(), 21),
        (lambda ls: ("\r\n".join(ls)).encode(), 21),
        (_blank_line_at_11, 22),
        (_extra_column_at_6, 21),
        (_two_line_record_at_6, 22),
    ],
    ids=["lf", "cr-only", "crlf-no-final-newline", "blank-line", "skipped-invalid-row", "two-line-record"],
)
def test_physical_line_is_reported_whatever_the_layout(
    schemas: Any, tmp_path: Path, layout: Any, line: int
) -> None:
    lines = _rows(1500)
    lines[20] = "user-1,item-1,later,View,"
    payload = layout(lines)
    path = tmp_path / "interactions.csv"
    path.write_bytes(payload)
    for source in (io.BytesIO(payload), path):  # streamed through Python, and read natively by Arrow
        report = validate_file("interactions", source, schemas["interactions"])
        assert ("invalid_long", line, 3) in [(p.rule, p.line, p.column) for p in report.problems]


def test_header_without_records_fails_only_the_minimums(schemas: Any) -> None:
    report = validate_file("interactions", io.BytesIO(f"{HEADER}\n".encode()), schemas["interactions"])
    assert report.row_counts == {"interactions": 0}
    assert {c["rule"] for c in report.problem_counts} == {
        "min_import_records",
        "min_interactions",
        "min_users_with_2_interactions",
        "min_share_users_with_2_interactions",
    }


def test_a_latin1_file_reports_every_bad_cell(schemas: Any) -> None:
    lines = [HEADER] + [f"usér-{i % 100},item-{i % 50},{1_600_000_000 + i},View," for i in range(1500)]
    report = validate_file(
        "interactions", io.BytesIO("\n".join(lines).encode("latin-1")), schemas["interactions"]
    )
    counts = {c["rule"]: c["count"] for c in report.problem_counts}
    assert counts["not_utf8"] == 1500
    assert [(p.line, p.column) for p in report.problems if p.rule == "not_utf8"] == [
        (i, 1) for i in range(2, 7)
    ]


def test_every_skipped_row_is_counted_but_only_the_first_five_kept(schemas: Any) -> None:
    lines = _rows(1500)
    for i in range(100, 120):
        lines[i] += ",extra"
    report = validate_file("interactions", io.BytesIO("\n".join(lines).encode()), schemas["interactions"])
    assert {c["rule"]: c["count"] for c in report.problem_counts} == {"wrong_column_count": 20}
    assert [(p.line, p.column) for p in report.problems] == [(i + 1, 6) for i in range(100, 105)]
    assert report.row_counts == {"interactions": 1480}


def read_by(monkeypatch: pytest.MonkeyPatch, parts: int, *, plain: bool = True) -> None:
    """Make the validator read a local file in `parts` parts (small chunks and batches, so each part has
    several), with the reader of plain records or with Arrow alone."""
    monkeypatch.setattr(engine, "PART_MIN_BYTES", 1024 if parts > 1 else 1 << 40)
    monkeypatch.setattr(engine, "available_cores", lambda: parts)
    monkeypatch.setattr(engine, "PARTS_PER_CORE", 1)
    monkeypatch.setattr(engine, "CHUNK_BYTES", 4096)
    monkeypatch.setattr(engine, "PLAIN_ROWS", 50)
    monkeypatch.setattr(engine, "_PLAIN_READER", plain)


@pytest.mark.parametrize("newline", [b"\n", b"\r\n"])
def test_the_plain_reader_in_one_part_or_several_reports_exactly_what_arrow_alone_does(
    dataset_dir: Callable[..., Path],
    schemas: Any,
    data: SimpleNamespace,
    monkeypatch: pytest.MonkeyPatch,
    newline: bytes,
) -> None:
    lines = data.interactions()
    lines[3] = ",item-1,1600000001,View,"  # part 1: missing USER_ID
    lines[1500] = "ghost-user,item-1,1600000002,View,"  # part 2: unknown user
    lines[1600] = lines[10]  # part 2 repeats a row of part 1
    lines[1601] = lines[1600]  # ... and then its own row
    lines[1700] = "user-1,ghost-item,1600000003000,Purchase,"  # part 3: unknown item, milliseconds
    lines[1900] = "user-2,item-2,,View,"  # part 3: missing TIMESTAMP
    lines[1300] = 'user-3,"ghost, item",1600000004,View,'  # part 2: a quoted unknown item
    for i in range(6, len(lines), 7):  # some strings quoted, as some CSV writers do
        lines[i] = re.sub(r"^([^,]*),([^,]*),", r'"\1","\2",', lines[i])
    root = dataset_dir(interactions=lines)
    path = root / "interactions.csv"
    path.write_bytes(path.read_bytes().replace(b"\n", newline))
    plain_rows = []
    read = engine.PlainRecords.read

    def counted_read(self: engine.PlainRecords, *args: Any) -> Any:
        batch = read(self, *args)
        plain_rows.append(batch.rows)
        return batch

    monkeypatch.setattr(engine.PlainRecords, "read", counted_read)

    def report(parts: int, *, plain: bool = True) -> dict[str, Any]:
        read_by(monkeypatch, parts, plain=plain)
        plain_rows.clear()
        return validate_directory(str(root), schemas=schemas, event_type="View").to_json()

    one_pass = report(1, plain=False)
    assert not plain_rows  # Arrow read every record
    for parts in (1, 3):
        assert report(parts) == one_pass
        # most records were read as plain ones, and Arrow read the rest of each chunk with a defect
        assert len(lines) - 1 - 7 * 120 < sum(plain_rows) < len(lines) - 1
    assert {(p["rule"], p["line"]) for p in one_pass["problems"]} >= {
        ("missing_value", 4),
        ("unknown_user", 1501),
        ("unknown_item", 1301),
        ("duplicate_interaction", 1601),
        ("duplicate_interaction", 1602),
        ("timestamp_in_milliseconds", 1701),
        ("missing_value", 1901),
    }


def test_parts_split_at_line_feeds_only(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, schemas: Any
) -> None:
    path = tmp_path / "interactions.csv"
    path.write_bytes(b"H\n" + b"a,b\n" * 1000)
    monkeypatch.setattr(engine, "PART_MIN_BYTES", 1000)
    monkeypatch.setattr(engine, "available_cores", lambda: 4)
    monkeypatch.setattr(engine, "PARTS_PER_CORE", 1)
    validator = engine.FileValidator(
        "interactions", schemas["interactions"], open_source(path), ProblemCollector()
    )
    validator.line_endings = "LF"
    bounds = validator._part_bounds(path, 2)
    assert len(bounds) == 5 and bounds[0] == 2 and bounds[-1] == path.stat().st_size
    assert all(path.read_bytes()[b - 1 : b] == b"\n" for b in bounds[1:-1])
    validator.line_endings = "CR"  # no line feeds to split at
    assert validator._part_bounds(path, 2) == [2, path.stat().st_size]


@pytest.mark.parametrize("size", [7, 64, 4096])
def test_line_chunks_end_at_line_feeds_and_lose_no_byte(tmp_path: Path, size: int) -> None:
    path = tmp_path / "data.csv"
    body = b"".join(b"x" * (i % 23) + b"\n" for i in range(300)) + b"no line feed at the end"
    path.write_bytes(b"header\n" + body)
    chunks = [bytes(c) for c in line_chunks(path, 7, len(body) + 7, size)]
    assert b"".join(chunks) == body
    assert all(c.endswith(b"\n") for c in chunks[:-1])


def test_a_missing_timestamp_beside_an_implausible_one_stays_out_of_the_time_range(
    dataset_dir: Callable[..., Path], schemas: Any, data: SimpleNamespace
) -> None:
    lines = data.interactions()
    lines[5] = "user-1,item-1,,View,"
    lines[6] = "user-1,item-1,1600000003000,View,"
    report = validate_directory(str(dataset_dir(interactions=lines)), schemas=schemas)
    assert report.summary["files"]["interactions.csv"]["time_range"]["min"] >= data.base_ts
    assert {(p.rule, p.line) for p in report.problems} == {
        ("missing_value", 6),
        ("timestamp_in_milliseconds", 7),
    }


def test_a_missing_event_value_is_a_value_of_its_own_for_exact_duplicates(
    dataset_dir: Callable[..., Path], schemas: Any, data: SimpleNamespace
) -> None:
    lines = data.interactions()
    lines[20] = "user-1,item-1,1600000001,View,"
    lines[21] = "user-1,item-1,1600000001,View,0"  # differs from line 21 by a value for the missing one
    lines[22] = "user-1,item-1,1600000001,View,"  # repeats line 21
    report = validate_file("interactions", dataset_dir() / "interactions.csv", schemas["interactions"])
    assert report.summary["files"]["interactions.csv"]["exact_duplicates"] == 0
    report = validate_directory(str(dataset_dir(interactions=lines)), schemas=schemas)
    assert report.summary["files"]["interactions.csv"]["exact_duplicates"] == 1
    assert [(p.rule, p.line) for p in report.problems] == [("duplicate_interaction", 23)]


def test_line_chunks_never_end_inside_a_quoted_value(tmp_path: Path) -> None:
    path = tmp_path / "data.csv"
    records = [f'u{i},"a ""quoted"" value\nover two lines, with a comma",{i}\n'.encode() for i in range(200)]
    body = b"".join(records)
    path.write_bytes(body)
    chunks = [bytes(c) for c in line_chunks(path, 0, len(body), 100)]
    assert b"".join(chunks) == body
    ends = {sum(len(r) for r in records[: i + 1]) for i in range(len(records))}
    assert all(sum(len(c) for c in chunks[: k + 1]) in ends for k in range(len(chunks)))


def test_a_part_that_ends_inside_a_quoted_value_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "data.csv"
    path.write_bytes(b'u1,"first line\nsecond line",1\n')
    with pytest.raises(SplitInsideQuotesError):
        list(line_chunks(path, 0, 15, 64))  # ends after "first line\n", inside the quotes


def test_line_breaks_inside_quoted_values_near_a_split_give_what_arrow_alone_does(
    tmp_path: Path, schemas: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    lines = [HEADER] + [
        f'user-{i % 40},"item\n{i % 30}",{1_600_000_000 + i},View,'
        if i % 3 == 0
        else f"user-{i % 40},x,{1_600_000_000 + i},View,"
        for i in range(3000)
    ]
    path = tmp_path / "interactions.csv"
    path.write_text("\n".join(lines) + "\n")

    def report(parts: int, *, plain: bool = True) -> dict[str, Any]:
        read_by(monkeypatch, parts, plain=plain)
        return validate_file("interactions", path, schemas["interactions"]).to_json()

    one_pass = report(1, plain=False)
    assert one_pass["summary"]["files"]["interactions.csv"]["rows"] == 3000
    assert report(1) == one_pass
    assert report(4) == one_pass
