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
import pytest

from personalize_rules import dataset_files
from pipeline.paths import schema_dir
from pipeline.validate import main
from pipeline.validation import ValidationError, validate_directory, validate_file


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


@pytest.mark.parametrize("parsed_once", [True, False], ids=["parsed-once", "read-per-query"])
def test_defects_all_over_a_directory_are_each_on_their_line(
    dataset_dir: Callable[..., Path],
    schemas: Any,
    data: SimpleNamespace,
    monkeypatch: pytest.MonkeyPatch,
    parsed_once: bool,
) -> None:
    if not parsed_once:  # as a file bigger than MATERIALIZE_MAX_BYTES is read
        monkeypatch.setattr(dataset_files, "MATERIALIZE_MAX_BYTES", 0)
    lines = data.interactions()
    lines[3] = ",item-1,1600000001,View,"  # missing USER_ID
    lines[1500] = "ghost-user,item-1,1600000002,View,"  # unknown user
    lines[1600] = lines[10]  # repeats an earlier row
    lines[1601] = lines[1600]  # ... twice
    lines[1700] = "user-1,ghost-item,1600000003000,Purchase,"  # unknown item, milliseconds
    lines[1900] = "user-2,item-2,,View,"  # missing TIMESTAMP
    lines[1300] = 'user-3,"ghost, item",1600000004,View,'  # a quoted unknown item
    for i in range(6, len(lines), 7):  # some strings quoted, as some CSV writers do
        lines[i] = re.sub(r"^([^,]*),([^,]*),", r'"\1","\2",', lines[i])
    report = validate_directory(str(dataset_dir(interactions=lines)), schemas=schemas, event_type="View")
    assert {(p.rule, p.line) for p in report.problems} >= {
        ("missing_value", 4),
        ("unknown_user", 1501),
        ("unknown_item", 1301),
        ("duplicate_interaction", 1601),
        ("duplicate_interaction", 1602),
        ("timestamp_in_milliseconds", 1701),
        ("missing_value", 1901),
    }
    repeat = next(p for p in report.problems if p.rule == "duplicate_interaction")
    assert repeat.message == "exact duplicate of line 11"


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


def test_line_breaks_inside_quoted_values_keep_every_record_and_the_physical_line(
    tmp_path: Path, schemas: Any
) -> None:
    lines = [HEADER] + [
        f'user-{i % 40},"item\n{i % 30}",{1_600_000_000 + i},View,'
        if i % 3 == 0
        else f"user-{i % 40},x,{1_600_000_000 + i},View,"
        for i in range(3000)
    ]
    lines[2000] = "user-1,x,soon,View,"  # record 2000: after 667 records of two lines
    path = tmp_path / "interactions.csv"
    path.write_text("\n".join(lines) + "\n")
    report = validate_file("interactions", path, schemas["interactions"])
    assert report.summary["files"]["interactions.csv"]["rows"] == 3000
    assert [(p.rule, p.line) for p in report.problems] == [("invalid_long", 2001 + 667)]


def test_columns_in_any_order_are_valid_when_the_schema_lists_its_fields_in_that_order(
    tmp_path: Path, schemas: Any, data: SimpleNamespace
) -> None:
    # "Schema fields can appear in any order, but they must match the order of the corresponding column
    # headers in your CSV file" (Personalize developer guide, schema formatting requirements)
    order = [3, 0, 2, 1, 4]  # EVENT_TYPE,USER_ID,TIMESTAMP,ITEM_ID,EVENT_VALUE
    lines = [",".join(line.split(",")[i] for i in order) for line in data.interactions()]
    path = data.write(tmp_path / "interactions.csv", lines)
    schema = dict(schemas["interactions"])
    fields = {f["name"]: f for f in schema["fields"]}
    names = lines[0].split(",")
    assert not validate_file("interactions", path, schema).ok  # the schema's own order: a mismatch
    schema["fields"] = [fields[name] for name in names]
    report = validate_file("interactions", path, schema)
    assert report.ok, report.format_text()
    assert report.summary["files"]["interactions.csv"]["event_types"] == {"View": 1600, "Purchase": 400}


def test_the_report_carries_each_files_sha256_from_its_pass_over_the_bytes(
    dataset_dir: Callable[..., Path], schemas: Any
) -> None:
    root = dataset_dir()
    assert validate_directory(str(root), schemas=schemas).digests == {}
    report = validate_directory(str(root), schemas=schemas, digests=True)
    assert report.digests == {
        name: hashlib.sha256((root / name).read_bytes()).hexdigest()
        for name in ("interactions.csv", "users.csv", "items.csv")
    }
    assert "digests" not in report.to_json()  # the JSON report keeps its schema


def test_a_file_that_is_not_readable_is_a_validation_error(tmp_path: Path, schemas: Any) -> None:
    folder = tmp_path / "interactions.csv"
    folder.mkdir()
    with pytest.raises(ValidationError, match="no such file"):
        validate_file("interactions", folder, schemas["interactions"])
