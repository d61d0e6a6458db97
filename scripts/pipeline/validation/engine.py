"""The streaming file validator.

Fast path (every valid file): Arrow's streaming CSV reader parses typed batches and each batch is checked
with vectorised Arrow/numpy operations and compiled (numba) loops. A local file of 32 MB or more is split at
line feeds into parts read side by side (one per core), each part checking its own rows; the parts merge in
file order. In an interactions file read in parts, plain records (one ASCII line, no quotes but around a
string, every value as Arrow converts it without complaint) are hashed straight from their bytes
(hashing.PlainRecords); from the first record that isn't plain, Arrow parses the rest of that chunk. Smaller
files and streams (S3) are one part, parsed ahead in a producer thread. Per batch: nulls and lengths from
the Arrow buffers, timestamp min/max, a 64-bit hash of every USER_ID, ITEM_ID and EVENT_TYPE counted in
per-key tables (memory grows with distinct users and items), and a 64-bit hash of every row for
exact-duplicate detection (8 bytes a row, spilled to disk past 16 M rows; each part sorts its hashes when
done, and the sorted runs are merged in buckets at the end).

Precise path (only when Arrow rejects something: a bad number, bad UTF-8, wrong column count, broken
quoting): the file is read again with every column as bytes, columns are converted with vectorised checks,
and only the failing values are looked at one by one. Problems carry record numbers; they become physical
lines at the end, directly when every record is one line (checked by counting line feeds), otherwise by a
second pass over the raw bytes that stops at the last record with a problem.
"""

from __future__ import annotations

import contextlib
import csv
import io
import os
import threading
import time
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from personalize_rules.dataset_schemas import FieldSpec, field_specs
from pipeline.validation.aggregates import DuplicateFinder, KeyTable
from pipeline.validation.chunks import SplitInsideQuotesError, line_chunks
from pipeline.validation.columns import (
    distribution,
    escaped,
    fold_numeric,
    iso,
    parse_or_none,
)
from pipeline.validation.hashing import (
    PlainColumn,
    PlainRecords,
    Scratch,
    combine,
    hash_column,
    hash_strings,
    mix,
)
from pipeline.validation.report import Problem, ProblemCollector, Severity, shorten
from pipeline.validation.sources import CountingStream, Source, count_breaks
from pipeline.validation.streaming import Reopened, read_ahead

__all__ = ["BLOCK_SIZE", "LIMITS", "FileStats", "FileValidator", "arrow_types"]

BLOCK_SIZE = 2 << 20
READER_THREADS = False  # one parser thread; the other core checks (Arrow's pool would oversubscribe 2 cores)
# A local file this big is read in parts side by side (each part parses and checks its own rows), one per
# core: a second part per core filled the moments a thread holds the GIL, but its own key tables cost more.
PART_MIN_BYTES = 32 << 20
PARTS_PER_CORE = 1
CHUNK_BYTES = 8 << 20  # a part is read in chunks this big, each parsed in place
PLAIN_ROWS = 1 << 16  # records hashed straight from the bytes per batch (see hashing.PlainRecords)
_PLAIN_READER = True  # False: Arrow reads every record (the reference the tests compare the reader with)
LIMITS = {
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
_ARROW = {
    "string": pa.string(),
    "int": pa.int32(),
    "long": pa.int64(),
    "float": pa.float32(),
    "double": pa.float64(),
    "boolean": pa.bool_(),
}
_NUMBER_RE = {
    "int": r"^[+-]?[0-9]+$",
    "long": r"^[+-]?[0-9]+$",
    "float": r"^[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?$",
    "double": r"^[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?$",
    "boolean": r"(?i)^(true|false)$",
}
_TRUE = ["true", "True", "TRUE"]
_FALSE = ["false", "False", "FALSE"]
_FUTURE_SLACK_SECONDS = 366 * 86400
_INTERACTION_RESERVED = {
    "USER_ID",
    "ITEM_ID",
    "TIMESTAMP",
    "IMPRESSION",
    "RECOMMENDATION_ID",
    "EVENT_ATTRIBUTION_SOURCE",
}


def available_cores() -> int:
    """Cores this process may run on (its CPU affinity, which containers and `taskset` narrow)."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def arrow_types(specs: list[FieldSpec]) -> dict[str, pa.DataType]:
    """The Arrow type each schema field is parsed as (what the plain-parse baseline uses too)."""
    return {s.name: _ARROW[s.avro_type] for s in specs}


@dataclass
class FileStats:
    """What one file contributed: its row count, ID key sets for cross-file checks, and its summary."""

    name: str
    dataset_type: str
    rows: int = 0
    readable: bool = False
    id_keys: npt.NDArray[np.uint64] = field(default_factory=lambda: np.zeros(0, np.uint64))
    summary: dict[str, Any] = field(default_factory=dict)


@dataclass
class _Refs:
    field: str
    table: KeyTable  # the other file's IDs
    rule: str
    other_file: str


@dataclass
class _Part:
    """What one part of the file (all of it, unless read in parts side by side) found; records are
    numbered within the part until the parts are merged in file order."""

    index: int
    c: ProblemCollector
    users: KeyTable
    rows: int = 0
    time_min: int | None = None
    time_max: int | None = None
    items: KeyTable = field(default_factory=lambda: KeyTable(columns=0))
    events: KeyTable = field(default_factory=lambda: KeyTable(columns=1, capacity=16))
    event_names: dict[int, str] = field(default_factory=dict)
    filtered_rows: int = 0
    id_keys: list[npt.NDArray[np.uint64]] = field(default_factory=list)
    ref_missing: dict[str, int] = field(default_factory=dict)
    scratch: Scratch = field(default_factory=Scratch)

    def widen_time_range(self, lo: int, hi: int) -> None:
        self.time_min = lo if self.time_min is None else min(self.time_min, lo)
        self.time_max = hi if self.time_max is None else max(self.time_max, hi)


class FileValidator:
    """Validates one CSV file against its Personalize schema, streaming."""

    def __init__(
        self,
        dataset_type: str,
        schema: Mapping[str, Any],
        source: Source,
        collector: ProblemCollector,
        *,
        event_type: str | None = None,
        check_minimums: bool = True,
        references: Mapping[str, tuple[npt.NDArray[np.uint64], str]] | None = None,
        now: float | None = None,
    ) -> None:
        self.dataset_type = dataset_type
        self.specs = field_specs(dataset_type, schema)
        self.names = [s.name for s in self.specs]
        self.source = source
        self.file = source.name
        self.main = collector
        self.event_type = event_type
        self.check_minimums = check_minimums
        self.future_limit = (now if now is not None else time.time()) + _FUTURE_SLACK_SECONDS
        self.refs: list[_Refs] = []  # the other files' IDs this file's rows should find
        for name, (keys, other) in (references or {}).items():
            if name in self.names:
                table = KeyTable(columns=0, capacity=len(keys) * 2)
                table.add(keys)
                rule = "unknown_item" if name == "ITEM_ID" else "unknown_user"
                self.refs.append(_Refs(name, table, rule, other))
        self.plain = self._plain_records()

    def _plain_records(self) -> PlainRecords | None:
        """The reader of plain records for the parts of a big interactions file: it stops wherever a check
        could fail (a missing value, too long, an implausible time), and Arrow reads on from there."""
        if (
            not _PLAIN_READER
            or self.dataset_type != "interactions"
            or not all(PlainRecords.supports(s.avro_type) for s in self.specs)
        ):
            return None
        columns = []
        for spec in self.specs:
            low, high = (-(2**31), 2**31 - 1) if spec.avro_type == "int" else (-(10**18), 10**18)
            if spec.is_timestamp:
                low, high = 0, int(self.future_limit)
            elif spec.avro_type == "string":
                limit = _length_limit(self.dataset_type, spec)
                high = limit[0] if limit is not None else 1 << 62
            columns.append(PlainColumn(spec.name, spec.avro_type, spec.nullable, low, high))
        return PlainRecords(columns, "TIMESTAMP", PLAIN_ROWS)

    # ----------------------------------------------------------------------------------------- driver
    def run(self) -> FileStats:
        stats = FileStats(self.file, self.dataset_type)
        raw = self.source.open()
        try:
            header = self._read_header(raw)
            if header is None:
                return stats
            head_problems, leftover = header
            for problem in head_problems:
                self.main.add(problem)
            if any(p.severity == "error" for p in head_problems):
                return stats
            stats.readable = True
            self._reset()
            stream = CountingStream(raw, leftover)
            try:
                if self.source.path is not None:
                    self._read_parts(self.source.path, raw.tell() - len(leftover))
                else:
                    self._read(stream, precise=False)
            except pa.ArrowInvalid:
                self._reset()
                self.source.close(raw)
                raw = self.source.open()
                again = self._read_header(raw)
                assert again is not None  # same bytes as the first time
                stream = CountingStream(raw, again[1])
                try:
                    self._read(stream, precise=True)
                except pa.ArrowInvalid as exc:
                    self._syntax_error(str(exc))
            self._finish(stream, stats)
        finally:
            with contextlib.suppress(Exception):
                self.source.close(raw)
        return stats

    def _reset(self) -> None:
        self.parts: list[_Part] = []
        self.c = ProblemCollector(self.main.max_examples)  # the file's own problems; parts merge in
        self.counted = False
        # rows Arrow skipped (wrong column count / unclosed quote): every one counted, the first few kept
        self.invalid_rows: list[tuple[str, int | None, int, int, str]] = []
        self.invalid_counts: dict[str, int] = {}
        self.dups = DuplicateFinder()
        self._repeats: list[tuple[int, int, str]] = []  # (record, record it repeats, rule)
        self._event_filter = (
            int(hash_strings(pa.array([self.event_type]))[0]) if self.event_type is not None else None
        )

    def _new_part(self) -> _Part:
        part = _Part(
            len(self.parts),
            ProblemCollector(self.main.max_examples),
            KeyTable(columns=2 if self.event_type else 1),  # all rows, and rows kept by the filter
            ref_missing={ref.field: 0 for ref in self.refs},
        )
        self.parts.append(part)
        return part

    # ----------------------------------------------------------------------------------------- header
    def _read_header(self, raw: BinaryIO) -> tuple[list[Problem], bytes] | None:
        buf = b""
        while b"\n" not in buf and b"\r" not in buf[:-1]:
            chunk = raw.read(1 << 16)
            if not chunk:
                break
            buf += chunk
            if len(buf) > 1 << 20:
                break
        if not buf.strip():
            self.main.add(
                self._problem(
                    1,
                    None,
                    None,
                    "empty_file",
                    None,
                    "the file is empty",
                    "write the header line and at least one record",
                )
            )
            return None
        cut = min((i for i in (buf.find(b"\n"), buf.find(b"\r")) if i >= 0), default=len(buf))
        line, rest = buf[:cut], buf[cut:]
        self.line_endings = "CRLF" if rest.startswith(b"\r\n") else "CR" if rest.startswith(b"\r") else "LF"
        if rest.startswith(b"\r\n"):
            rest = rest[2:]
        elif rest[:1] in (b"\r", b"\n"):
            rest = rest[1:]
        problems: list[Problem] = []
        if line.startswith(b"\xef\xbb\xbf"):
            line = line[3:]
            problems.append(
                self._problem(
                    1,
                    1,
                    None,
                    "bom",
                    "\\ufeff",
                    "the file starts with a UTF-8 byte-order mark; Personalize may read the first column as "
                    "'\\ufeff" + self.names[0] + "'",
                    "save the file as UTF-8 without BOM",
                    "warning",
                )
            )
        try:
            text = line.decode("utf-8")
        except UnicodeDecodeError as exc:
            problems.append(
                self._problem(
                    1,
                    exc.start + 1,
                    None,
                    "not_utf8",
                    line[exc.start : exc.start + 8],
                    "the header is not valid UTF-8",
                    "save the file as UTF-8",
                )
            )
            return problems, rest
        if '"' in text:
            problems.append(
                self._problem(
                    1,
                    text.index('"') + 1,
                    None,
                    "header_quoted",
                    text,
                    "column headers are enclosed in quotation marks",
                    'remove the " around the header names',
                )
            )
        found = next(csv.reader([text]))
        if found != self.names:
            col = next(
                (i for i, (a, b) in enumerate(zip(found, self.names, strict=False)) if a != b),
                min(len(found), len(self.names)),
            )
            problems.append(
                self._problem(
                    1,
                    col + 1,
                    found[col] if col < len(found) else None,
                    "header_mismatch",
                    ",".join(found),
                    f"header must be the schema's field names in order: {','.join(self.names)}",
                    f"make the first line exactly: {','.join(self.names)}",
                )
            )
        return problems, rest

    # ----------------------------------------------------------------------------------------- reading
    def _reader(self, source: Any, *, precise: bool, parse: pacsv.ParseOptions, skip_rows: int = 0) -> Any:
        """Arrow's streaming reader over the records (None when there are none)."""
        column_types = {n: pa.binary() for n in self.names} if precise else arrow_types(self.specs)
        try:
            return pacsv.open_csv(
                source,
                read_options=pacsv.ReadOptions(
                    column_names=self.names,
                    block_size=BLOCK_SIZE,
                    use_threads=READER_THREADS and not precise,
                    skip_rows=skip_rows,
                ),
                parse_options=parse,
                convert_options=pacsv.ConvertOptions(
                    column_types=column_types,
                    strings_can_be_null=True,
                    quoted_strings_can_be_null=True,
                    null_values=[""],
                    true_values=_TRUE,
                    false_values=_FALSE,
                ),
            )
        except pa.ArrowInvalid as exc:
            if "Empty CSV file" in str(exc):  # a header (or a part) with no records: nothing to check
                return None
            raise

    def _read(self, stream: CountingStream, *, precise: bool) -> None:
        """One pass over a stream (an S3 object, a caller's file object, or the precise second pass)."""
        if precise:

            def on_invalid(row: pacsv.InvalidRow) -> str:
                # an odd number of quotes: a quote opened and never closed swallowed the rest of the file
                rule = "csv_syntax" if row.text.count('"') % 2 else "wrong_column_count"
                self.invalid_counts[rule] = self.invalid_counts.get(rule, 0) + 1
                if self.invalid_counts[rule] <= self.main.max_examples:
                    self.invalid_rows.append(
                        (rule, row.number, row.expected_columns, row.actual_columns, row.text)
                    )
                return "skip"

            parse = pacsv.ParseOptions(invalid_row_handler=on_invalid)
        else:
            parse = pacsv.ParseOptions()
        self.counted = True
        part = self._new_part()
        reader = self._reader(pa.PythonFile(stream, mode="r"), precise=precise, parse=parse)
        if reader is None:
            return
        for batch in read_ahead(reader):
            typed, bad = self._convert(part, batch) if precise else (batch, {})
            self._consume(part, typed, bad)
            part.rows += batch.num_rows

    def _read_parts(self, path: Path, data_start: int, *, split: bool = True) -> None:
        """A local file: a big one in parts side by side, each part checking its own rows (the checks
        release the GIL), merged in file order at the end. Interactions are read in chunks, their plain
        records by the validator's own reader, even in one part (unless it has no line feeds to cut chunks
        at); other files, and interactions read whole after a failed split, natively by Arrow."""
        bounds = self._part_bounds(path, data_start) if split else [data_start, path.stat().st_size]
        if len(bounds) == 2 and (self.plain is None or not split or self.line_endings == "CR"):
            part = self._new_part()
            reader = self._reader(str(path), precise=False, parse=pacsv.ParseOptions(), skip_rows=1)
            for batch in read_ahead(reader) if reader is not None else ():
                self._consume(part, batch, {})
                part.rows += batch.num_rows
            self.dups.seal(part.index)
            return
        parts = [self._new_part() for _ in bounds[1:]]
        stop = threading.Event()
        try:
            with ThreadPoolExecutor(len(parts), thread_name_prefix="validate-part") as pool:
                futures = [
                    pool.submit(self._read_range, part, path, start, end, stop)
                    for part, start, end in zip(parts, bounds, bounds[1:], strict=False)
                ]
                try:
                    for future in futures:
                        future.result()
                finally:
                    stop.set()  # a part that failed (ArrowInvalid: the precise pass follows) stops the others
        except SplitInsideQuotesError:  # a line break inside a quoted value right at a split: read it whole
            self._reset()
            self._read_parts(path, data_start, split=False)

    def _read_range(self, part: _Part, path: Path, start: int, end: int, stop: threading.Event) -> None:
        for chunk in line_chunks(path, start, end, CHUNK_BYTES):
            rest = self._consume_plain(part, chunk, stop) if self.plain is not None else 0
            if stop.is_set():
                return
            if rest == len(chunk):
                continue
            # the rest of the chunk from the first record that isn't plain (few chunks have one)
            reader = self._reader(
                pa.BufferReader(chunk.slice(rest)), precise=False, parse=pacsv.ParseOptions()
            )
            for batch in reader if reader is not None else ():
                if stop.is_set():
                    return
                self._consume(part, batch, {})
                part.rows += batch.num_rows
        self.dups.seal(part.index)

    def _consume_plain(self, part: _Part, chunk: pa.Buffer, stop: threading.Event) -> int:
        """Check the chunk's plain records (see hashing.PlainRecords); returns the offset of the first
        record that isn't plain (the chunk's size when all are)."""
        assert self.plain is not None
        data = np.frombuffer(chunk, np.uint8)
        pos = 0
        while pos < len(data) and not stop.is_set():
            batch = self.plain.read(data, pos, part.scratch)
            if batch.rows:
                if batch.time_range is not None:
                    part.widen_time_range(*batch.time_range)

                def value_of(name: str, row: int, at: int = pos) -> str | None:
                    return _plain_value(data, at, row, self.names.index(name))

                self._count_rows(part, batch.hashes, batch.row_hashes, part.rows, batch.rows, value_of)
                part.rows += batch.rows
            pos = batch.end
            if batch.stopped:
                break
        return pos

    def _part_bounds(self, path: Path, data_start: int) -> list[int]:
        """Byte offsets splitting the records into parts at line feeds. Where one falls inside a quoted
        value, the part before it says so (SplitInsideQuotesError) and the file is read whole instead."""
        size = path.stat().st_size
        count = max(1, min(PARTS_PER_CORE * available_cores(), (size - data_start) // PART_MIN_BYTES))
        bounds = [data_start]
        if count > 1 and self.line_endings != "CR":
            with path.open("rb") as fh:
                for j in range(1, count):
                    fh.seek(data_start + (size - data_start) * j // count)
                    chunk = fh.read(1 << 20)
                    cut = chunk.find(b"\n")
                    at = fh.tell() - len(chunk) + cut + 1
                    if cut >= 0 and bounds[-1] < at < size:
                        bounds.append(at)
        return [*bounds, size]

    def _convert(
        self, part: _Part, batch: pa.RecordBatch
    ) -> tuple[pa.RecordBatch, dict[str, npt.NDArray[np.bool_]]]:
        """Bytes -> typed columns; values that don't convert are reported and become null."""
        arrays = []
        bad: dict[str, npt.NDArray[np.bool_]] = {}
        for i, spec in enumerate(self.specs):
            col = batch.column(i)
            try:
                text = col.cast(pa.string())
            except pa.ArrowInvalid:
                text, mask = self._fix_utf8(part, col, i)
                bad[spec.name] = mask
            if spec.avro_type == "string":
                arrays.append(text)
                continue
            match = pc.match_substring_regex(text, _NUMBER_RE[spec.avro_type]).fill_null(True)
            bad_here = ~np.asarray(match)
            if spec.avro_type == "boolean":
                converted = pc.equal(pc.utf8_lower(pc.if_else(match, text, None)), "true")
            else:
                wide = pa.float64() if spec.avro_type in ("float", "double") else pa.int64()
                try:
                    converted = pc.if_else(match, text, None).cast(wide)
                except pa.ArrowInvalid:  # digits only but too big for 64 bits
                    values = [parse_or_none(v, spec.avro_type) for v in text.to_pylist()]
                    converted = pa.array(values, type=wide)
                    bad_here |= np.array([v is None for v in values]) & ~np.asarray(text.is_null())
                if spec.avro_type == "int":
                    big = pc.fill_null(pc.greater(pc.abs(converted), 2**31 - 1), False)
                    bad_here |= np.asarray(big)
                    converted = pc.if_else(big, None, converted)
                converted = converted.cast(_ARROW[spec.avro_type], safe=False)
            if bad_here.any():
                self._report_values(
                    part,
                    spec,
                    i,
                    text,
                    bad_here,
                    f"invalid_{spec.avro_type}",
                    f"not a valid {spec.avro_type}",
                    _FIX_TYPE[spec.avro_type],
                )
                bad[spec.name] = bad.get(spec.name, np.zeros(len(col), bool)) | bad_here
                converted = pc.if_else(pa.array(bad_here), None, converted)
            arrays.append(converted)
        return pa.RecordBatch.from_arrays(arrays, names=self.names), bad

    def _fix_utf8(self, part: _Part, col: pa.Array, index: int) -> tuple[pa.Array, npt.NDArray[np.bool_]]:
        values = col.to_pylist()
        mask = np.zeros(len(values), bool)
        out: list[str | None] = []
        for j, value in enumerate(values):
            if value is None:
                out.append(None)
                continue
            try:
                out.append(value.decode("utf-8"))
            except UnicodeDecodeError:
                mask[j] = True
                out.append(None)
        spec = self.specs[index]
        self._report_values(
            part,
            spec,
            index,
            col,
            mask,
            "not_utf8",
            "value is not valid UTF-8",
            "save the file as UTF-8 (not Latin-1/Windows-1252)",
        )
        return pa.array(out, pa.string()), mask

    # ----------------------------------------------------------------------------------------- checks
    def _consume(self, part: _Part, batch: pa.RecordBatch, bad: Mapping[str, npt.NDArray[np.bool_]]) -> None:
        start = part.rows
        n = batch.num_rows
        cols = {name: batch.column(i) for i, name in enumerate(self.names)}
        # interactions hash every string column (row hashes); the same pass measures lengths and finds quotes
        hashed = (
            {
                name: hash_column(col, part.scratch, name)
                for name, col in cols.items()
                if pa.types.is_string(col.type)
            }
            if self.dataset_type == "interactions"
            else {}
        )
        for i, spec in enumerate(self.specs):
            col = cols[spec.name]
            if not spec.nullable and col.null_count:
                missing = np.asarray(col.is_null())
                if spec.name in bad:
                    missing &= ~bad[spec.name]
                if missing.any():
                    self._report_values(
                        part,
                        spec,
                        i,
                        None,
                        missing,
                        "missing_value",
                        "required value is empty",
                        f"give every record a {spec.name}" + (" (1-256 characters)" if spec.is_id else ""),
                    )
            if spec.avro_type == "string":
                stats = hashed.get(spec.name)
                self._check_lengths(part, spec, i, col, stats.longest if stats is not None else None)
                if stats is None or stats.has_quote:
                    self._check_escaping(part, spec, i, col)
            elif spec.is_timestamp:
                self._check_timestamps(part, spec, i, col)
        if self.dataset_type == "interactions":
            self._aggregate_interactions(part, cols, start, n, {k: v.hashes for k, v in hashed.items()})
        else:
            key = "USER_ID" if self.dataset_type == "users" else "ITEM_ID"
            part.id_keys.append(hash_strings(cols[key]))

    def _check_lengths(
        self, part: _Part, spec: FieldSpec, index: int, col: pa.Array, longest: int | None = None
    ) -> None:
        limit_rule = _length_limit(self.dataset_type, spec)
        if limit_rule is None:
            return
        limit, rule = limit_rule
        if longest is not None and longest <= limit:  # bytes >= characters, so nothing can be too long
            return
        offsets = np.frombuffer(col.buffers()[1], np.int32, count=len(col) + 1, offset=col.offset * 4)
        byte_len = np.diff(offsets)
        if byte_len.max(initial=0) <= limit:
            return
        candidates = np.flatnonzero(byte_len > limit)
        values = col.take(pa.array(candidates)).to_pylist()
        too_long = np.zeros(len(col), bool)
        for j, value in zip(candidates, values, strict=True):
            parts = value.split("|") if spec.categorical else [value]
            if max(len(p) for p in parts) > limit:
                too_long[j] = True
        what = "each |-separated value" if spec.categorical else "the value"
        self._report_values(
            part,
            spec,
            index,
            col,
            too_long,
            rule,
            f"{what} is longer than {limit:,} characters",
            f"shorten {spec.name} to at most {limit:,} characters"
            + (" per |-separated value" if spec.categorical else ""),
        )

    def _check_escaping(self, part: _Part, spec: FieldSpec, index: int, col: pa.Array) -> None:
        """A value holding \\" was almost surely written with backslash escapes, which RFC 4180 CSV (what
        Personalize reads) doesn't have: the value arrives mangled."""
        hits = escaped(col)
        if hits is None or not hits.true_count:
            return
        self._report_values(
            part,
            spec,
            index,
            col,
            np.asarray(hits.fill_null(False)),
            "csv_escaping",
            'a quote escaped with a backslash (\\"): CSV doubles a quote inside a quoted value instead',
            'write "" for a quote inside a quoted value, e.g. "say ""hi"""',
        )

    def _check_timestamps(self, part: _Part, spec: FieldSpec, index: int, col: pa.Array) -> None:
        if col.null_count == len(col):
            return
        lo_hi = pc.min_max(col)
        lo, hi = lo_hi["min"].as_py(), lo_hi["max"].as_py()
        limit = self.future_limit
        values: npt.NDArray[np.int64] | None = None
        valid: npt.NDArray[np.bool_] | None = None
        if lo < 0 or hi > limit:  # the summary's time range covers plausible values only
            values = col.fill_null(-1).to_numpy() if col.null_count else col.to_numpy()
            # a missing value (reported as such) is neither negative nor part of the time range
            valid = np.asarray(col.is_valid()) if col.null_count else np.ones(len(values), bool)
            plausible = values[valid & (values >= 0) & (values <= limit)]
            lo, hi = (int(plausible.min()), int(plausible.max())) if len(plausible) else (None, None)
        if spec.name == "TIMESTAMP" and lo is not None and hi is not None:
            part.widen_time_range(lo, hi)
        if values is None or valid is None:
            return
        negative = (values < 0) & valid
        ms = (values > limit) & (values // 1000 <= limit) & (values // 1000 >= 10**8)
        us = (values > limit) & ~ms & (values // 10**6 <= limit) & (values // 10**6 >= 10**8)
        future = (values > limit) & ~ms & ~us
        shown = iso(limit)
        for mask, rule, message, fix in (
            (negative, "timestamp_negative", "negative Unix time", "use Unix epoch seconds (>= 0)"),
            (
                ms,
                "timestamp_in_milliseconds",
                "looks like milliseconds: divide by 1000",
                "write Unix epoch seconds: divide the value by 1000",
            ),
            (
                us,
                "timestamp_in_microseconds",
                "looks like microseconds: divide by 1,000,000",
                "write Unix epoch seconds: divide the value by 1,000,000",
            ),
            (
                future,
                "timestamp_in_future",
                f"far in the future (after {shown})",
                "write Unix epoch seconds of when the event happened",
            ),
        ):
            self._report_values(part, spec, index, col, mask, rule, message, fix)

    def _aggregate_interactions(
        self,
        part: _Part,
        cols: Mapping[str, pa.Array],
        start: int,
        n: int,
        hashes: Mapping[str, npt.NDArray[np.uint64]],
    ) -> None:
        row_hash = part.scratch.get("row", n, np.uint64)
        row_hash[:] = 0
        for name in self.names:
            if name in hashes:
                combine(row_hash, hashes[name])
            else:
                fold_numeric(row_hash, cols[name])

        def value_of(name: str, row: int) -> Any:
            return cols[name][row].as_py()

        self._count_rows(part, hashes, mix(row_hash), start, n, value_of)

    def _count_rows(
        self,
        part: _Part,
        hashes: Mapping[str, npt.NDArray[np.uint64]],
        row_hashes: npt.NDArray[np.uint64],
        start: int,
        n: int,
        value_of: Callable[[str, int], Any],
    ) -> None:
        """Count a batch of interactions (records start..start+n of the part) by their string columns'
        hashes and row hashes; `value_of(column, row)` gives a value for examples and event names."""
        filt: npt.NDArray[np.bool_] | None = None
        if "EVENT_TYPE" in hashes:
            events = hashes["EVENT_TYPE"]
            known = part.events.size
            part.events.add(events)
            if part.events.size > known:  # a new event type: remember its name (nulls count as "")
                keys, first = np.unique(events, return_index=True)
                for key, row in zip(keys.tolist(), first.tolist(), strict=True):
                    if key not in part.event_names:
                        part.event_names[key] = value_of("EVENT_TYPE", row) or ""
            if self._event_filter is not None:
                filt = events == np.uint64(self._event_filter)
        if "USER_ID" in hashes:
            part.users.add(hashes["USER_ID"], filt)
        if "ITEM_ID" in hashes:
            part.items.add(hashes["ITEM_ID"])
        for ref in self.refs:
            if ref.field in hashes:
                self._check_reference(part, ref, value_of, hashes[ref.field], start)
        part.filtered_rows += int(filt.sum()) if filt is not None else n
        self.dups.add(row_hashes, start, part.index)

    def _check_reference(
        self,
        part: _Part,
        ref: _Refs,
        value_of: Callable[[str, int], Any],
        hashes: npt.NDArray[np.uint64],
        start: int,
    ) -> None:
        missing = ~ref.table.contains(hashes)
        rows = int(np.count_nonzero(missing))
        if not rows:
            return
        part.ref_missing[ref.field] += rows
        part.c.tally(self.file, ref.rule, "warning", rows)
        room = part.c.room(self.file, ref.rule)
        if room <= 0:
            return
        hit = np.flatnonzero(missing)
        _, first = np.unique(hashes[hit], return_index=True)  # one example per value, in file order
        column = self.names.index(ref.field)
        for j in np.sort(hit[first])[:room]:
            value = value_of(ref.field, int(j))
            part.c.example(
                self._problem(
                    None,
                    column + 1,
                    ref.field,
                    ref.rule,
                    value,
                    f"{ref.field} {value!r} is not in {ref.other_file}; "
                    f"Personalize imports it but has no metadata for it",
                    f"add {value!r} to {ref.other_file} or drop its interactions",
                    "warning",
                ),
                start + int(j),
            )

    def _report_values(
        self,
        part: _Part,
        spec: FieldSpec,
        index: int,
        col: pa.Array | None,
        mask: npt.NDArray[np.bool_],
        rule: str,
        message: str,
        fix: str,
        severity: Severity = "error",
    ) -> None:
        count = int(mask.sum())
        if not count:
            return
        part.c.tally(self.file, rule, severity, count)
        room = part.c.room(self.file, rule)
        if room <= 0:
            return
        for j in np.flatnonzero(mask)[:room]:
            value = None if col is None else col[int(j)].as_py()
            part.c.example(
                self._problem(None, index + 1, spec.name, rule, value, message, fix, severity),
                part.rows + int(j),
            )

    def _problem(
        self,
        line: int | None,
        column: int | None,
        fld: str | None,
        rule: str,
        value: object,
        message: str,
        fix: str,
        severity: Severity = "error",
    ) -> Problem:
        return Problem(self.file, line, column, fld, rule, shorten(value), message, fix, severity)

    def _syntax_error(self, arrow_message: str) -> None:
        line, why = self._locate_syntax_error()
        self.c.add(
            self._problem(
                line,
                None,
                None,
                "csv_syntax",
                None,
                f"the CSV can't be parsed: {why or arrow_message}",
                'quote fields holding commas, quotes or line breaks with "..." and double inner quotes ("")',
            )
        )

    def _locate_syntax_error(self) -> tuple[int | None, str | None]:
        with io.BufferedReader(Reopened(self.source)) as raw:
            text = io.TextIOWrapper(raw, encoding="utf-8", errors="replace", newline="")
            reader = csv.reader(text, strict=True)
            start = 1
            try:
                for _ in reader:
                    start = reader.line_num + 1  # where the next record begins
            except csv.Error as exc:
                return start, f"{exc} (record starting on line {start})"
        return None, None

    # ----------------------------------------------------------------------------------------- finish
    def _merge_parts(self) -> None:
        """The parts' findings as the whole file's: record numbers offset by the rows of earlier parts."""
        self.offsets: list[int] = []
        self.rows = 0
        for part in self.parts:
            self.offsets.append(self.rows)
            self.c.merge(part.c, record_offset=self.rows)
            self.rows += part.rows
        times = [(p.time_min, p.time_max) for p in self.parts if p.time_min is not None]
        self.time_min = min(t for t, _ in times) if times else None
        self.time_max = max(t for _, t in times if t is not None) if times else None
        self.filtered_rows = sum(p.filtered_rows for p in self.parts)
        self.id_keys = [keys for p in self.parts for keys in p.id_keys]
        self.ref_missing = {ref.field: sum(p.ref_missing[ref.field] for p in self.parts) for ref in self.refs}
        self.event_counts: dict[str, int] = {}
        for part in self.parts:
            keys, (counts,) = part.events.result()
            for key, count in zip(keys.tolist(), counts.tolist(), strict=True):
                name = part.event_names[key]
                self.event_counts[name] = self.event_counts.get(name, 0) + count

    def _finish(self, stream: CountingStream, stats: FileStats) -> None:
        self._merge_parts()
        stats.rows = self.rows
        ncols = len(self.names)
        for rule, count in self.invalid_counts.items():
            self.c.tally(self.file, rule, "error", count)
        for rule, number, expected, actual, text in self.invalid_rows:
            line = number + 1 if number is not None else None  # Arrow numbers lines after the header
            if rule == "csv_syntax":
                self.c.example(
                    self._problem(
                        line,
                        None,
                        None,
                        "csv_syntax",
                        text,
                        'a quoted field is never closed (odd number of ")',
                        'close the quote, or double quotes inside a quoted value ("")',
                    )
                )
                continue
            column = expected + 1 if actual > expected else actual + 1
            self.c.example(
                self._problem(
                    line,
                    column,
                    None,
                    "wrong_column_count",
                    text,
                    f"{actual} columns, expected {expected}",
                    f'quote values containing commas with "..." and give every record {ncols} columns',
                )
            )
        info: dict[str, Any] = {"rows": self.rows}
        info["line_endings"] = self.line_endings
        if self.dataset_type == "interactions":
            self._finish_interactions(info)
        else:
            keys = np.concatenate(self.id_keys) if self.id_keys else np.zeros(0, np.uint64)
            self._finish_ids(keys, info)
            stats.id_keys = np.unique(keys)
            info[f"distinct_{self.dataset_type}"] = len(stats.id_keys)
        stats.summary = info
        wanted = self.c.pending_records(self.file) + [first for _, first, _ in self._repeats]
        if wanted:
            line_of = self._line_map(stream, sorted(set(wanted)))
            for record, first, rule in self._repeats:
                self.c.example(self._repeat_problem(rule, line_of(first)), record)
            self.c.resolve_lines(self.file, line_of)
        self.main.merge(self.c)

    def _finish_ids(self, keys: npt.NDArray[np.uint64], info: dict[str, Any]) -> None:
        finder = DuplicateFinder()
        finder.add(keys, 0)
        count, examples = finder.finish(self.c.max_examples)
        info["duplicate_ids"] = count
        self.c.tally(self.file, "duplicate_id", "error", count)
        self._repeats.extend((record, first, "duplicate_id") for record, first in examples)

    def _repeat_problem(self, rule: str, line: int | None) -> Problem:
        if rule == "duplicate_id":
            key = "USER_ID" if self.dataset_type == "users" else "ITEM_ID"
            return self._problem(
                None,
                self.names.index(key) + 1,
                key,
                rule,
                None,
                f"{key} already appears on line {line}: one row per {key}",
                f"keep one row per {key}: merge or remove the repeated rows",
            )
        return self._problem(
            None,
            None,
            None,
            rule,
            None,
            f"exact duplicate of line {line}",
            "drop repeated events (they over-weight the interaction)",
            "warning",
        )

    def _finish_interactions(self, info: dict[str, Any]) -> None:
        # the duplicate search (a sort that releases the GIL) runs beside the merge of the parts' key tables
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="validate-finish") as pool:
            dups = pool.submit(self.dups.finish, self.c.max_examples, self.offsets)
            users, items = self.parts[0].users, self.parts[0].items
            for part in self.parts[1:]:
                users.merge(part.users)
                items.merge(part.items)
            user_keys, user_columns = users.result()
            item_keys, _ = items.result()
            dup_count, examples = dups.result()
        user_counts = user_columns[0]
        user_filtered = user_columns[-1]  # the same column without an --event-type filter
        info["distinct_users"] = len(user_keys)
        info["distinct_items"] = len(item_keys)
        info["event_types"] = dict(sorted(self.event_counts.items(), key=lambda kv: -kv[1]))
        if self.time_min is not None and self.time_max is not None:
            info["time_range"] = {
                "min": self.time_min,
                "max": self.time_max,
                "from": iso(self.time_min),
                "to": iso(self.time_max),
            }
        info["interactions_per_user"] = distribution(user_counts)
        info["exact_duplicates"] = dup_count
        self.c.tally(self.file, "duplicate_interaction", "warning", dup_count)
        self._repeats.extend((record, first, "duplicate_interaction") for record, first in examples)
        for ref in self.refs:
            missing = int(
                np.count_nonzero(~ref.table.contains(user_keys if ref.field == "USER_ID" else item_keys))
            )
            info[f"{ref.rule}_distinct"] = missing
            info[f"{ref.rule}_interactions"] = self.ref_missing[ref.field]
        metadata = [n for n in self.names if n not in _INTERACTION_RESERVED]
        n_types = len([e for e in self.event_counts if e])
        if n_types + max(len(metadata) - 1, 0) > LIMITS["max_event_types_plus_metadata"]:
            self.c.add(
                self._problem(
                    None,
                    None,
                    "EVENT_TYPE",
                    "too_many_event_types",
                    None,
                    f"{n_types} event types + {len(metadata) - 1} optional metadata columns exceed the "
                    f"limit of {LIMITS['max_event_types_plus_metadata']}",
                    "merge rare event types or drop optional columns",
                )
            )
        if self.check_minimums:
            self._check_minimums(info, user_counts, user_filtered)

    def _check_minimums(
        self, info: dict[str, Any], counts: npt.NDArray[np.int64], filtered: npt.NDArray[np.int64]
    ) -> None:
        if self.rows < LIMITS["min_import_records"]:
            self.c.add(
                self._problem(
                    None,
                    None,
                    None,
                    "min_import_records",
                    str(self.rows),
                    f"{self.rows:,} records; an import job needs at least {LIMITS['min_import_records']:,}",
                    "import more interactions in one file",
                )
            )
        scope = f" with EVENT_TYPE={self.event_type}" if self.event_type else ""
        rows = self.filtered_rows
        active = filtered[filtered > 0]
        with_two = int(np.count_nonzero(active >= 2))
        share = with_two / len(active) if len(active) else 0.0
        if self.event_type:
            info["filtered"] = {
                "event_type": self.event_type,
                "rows": rows,
                "users": len(active),
                "users_with_2_or_more": with_two,
            }
        if rows < LIMITS["min_interactions"]:
            self.c.add(
                self._problem(
                    None,
                    None,
                    None,
                    "min_interactions",
                    str(rows),
                    f"{rows:,} interactions{scope}; training needs at least {LIMITS['min_interactions']:,}",
                    "collect more interactions" + (" or train on more event types" if scope else ""),
                )
            )
        if with_two < LIMITS["min_users_with_2"]:
            self.c.add(
                self._problem(
                    None,
                    None,
                    "USER_ID",
                    "min_users_with_2_interactions",
                    str(with_two),
                    f"{with_two} users with 2+ interactions{scope}; training needs at least "
                    f"{LIMITS['min_users_with_2']}",
                    "collect more interactions per user",
                )
            )
        if share < LIMITS["min_share_users_with_2"]:
            self.c.add(
                self._problem(
                    None,
                    None,
                    "USER_ID",
                    "min_share_users_with_2_interactions",
                    f"{share:.4%}",
                    f"only {share:.2%} of users{scope} have 2+ interactions; Personalize needs 1%",
                    "collect more interactions per user",
                )
            )

    # ----------------------------------------------------------------------------------------- lines
    def _line_map(self, stream: CountingStream, wanted: list[int]) -> Callable[[int], int | None]:
        if self.counted:
            newlines, returns, last = stream.newlines, stream.carriage_returns, stream.last_byte
        else:  # the fast path read the file natively: count line breaks now that lines are needed
            with io.BufferedReader(Reopened(self.source)) as raw:
                newlines, returns, last = count_breaks(raw)
            header_breaks = 1
            newlines, returns = (
                newlines - header_breaks * (newlines > 0),
                returns - header_breaks * (returns > 0),
            )
        feeds = newlines or returns
        ends_with_break = last in (b"\n", b"\r")
        one_line_each = not self.invalid_counts and feeds == self.rows - (0 if ends_with_break else 1)
        if one_line_each:
            return lambda record: record + 2
        lines = self._scan_lines(set(wanted))
        return lines.get

    def _scan_lines(self, wanted: set[int]) -> dict[int, int]:
        """Physical start line of the wanted records, replaying how Arrow skips blank and invalid rows."""
        found: dict[int, int] = {}
        last = max(wanted)
        with io.BufferedReader(Reopened(self.source)) as raw:
            text = io.TextIOWrapper(raw, encoding="utf-8", errors="replace", newline="")
            reader = csv.reader(text)
            try:
                next(reader)
                record, prev = 0, reader.line_num
                for row in reader:
                    start, prev = prev + 1, reader.line_num
                    if not row or len(row) != len(self.names):
                        continue
                    if record in wanted:
                        found[record] = start
                    record += 1
                    if record > last:
                        break
            except csv.Error:
                pass
        return found


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


def _plain_value(data: npt.NDArray[np.uint8], start: int, row: int, column: int) -> str | None:
    """Value `column` of record `row` counted from offset `start` in plain records (one ASCII line each;
    for the few values an example or an event type's name needs)."""
    breaks = np.flatnonzero(data[start:] == ord("\n"))
    begin = start + (int(breaks[row - 1]) + 1 if row else 0)
    stop = start + int(breaks[row]) if row < len(breaks) else len(data)
    value = next(csv.reader([bytes(data[begin:stop]).rstrip(b"\r").decode("ascii")]))[column]
    return value or None


_FIX_TYPE = {
    "int": "write a whole number between -2147483648 and 2147483647",
    "long": "write a whole number (Unix epoch seconds for timestamps)",
    "float": "write a decimal number with a dot, e.g. 12.5",
    "double": "write a decimal number with a dot, e.g. 12.5",
    "boolean": "write true or false",
}
