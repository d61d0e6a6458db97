"""The streaming file validator.

Fast path (every valid file): Arrow's streaming CSV reader parses typed batches in a producer thread while
this thread checks the previous batch with vectorised Arrow/numpy operations, so checking overlaps parsing.
Per batch: nulls and lengths from the Arrow buffers, timestamp min/max, per-batch dictionaries of USER_ID,
ITEM_ID and EVENT_TYPE whose 64-bit hashes are merged into per-key counters (memory grows with distinct
users and items), and a 64-bit hash of every row for exact-duplicate detection (8 bytes a row, spilled to
disk past 16 M rows; one vectorised sort at the end).

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
import time
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, BinaryIO

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from pipeline.validation.aggregates import DuplicateFinder, KeyCounter
from pipeline.validation.columns import (
    distribution,
    encode_keys,
    escaped,
    iso,
    numeric_bits,
    parse_or_none,
)
from pipeline.validation.hashing import combine, hash_strings, mix, spread_numeric
from pipeline.validation.report import Problem, ProblemCollector, Severity, shorten
from pipeline.validation.schema_check import FieldSpec, field_specs
from pipeline.validation.sources import CountingStream, Source, count_breaks
from pipeline.validation.streaming import Reopened, read_ahead

__all__ = ["BLOCK_SIZE", "LIMITS", "FileStats", "FileValidator", "arrow_types"]

BLOCK_SIZE = 4 << 20
READER_THREADS = False  # one parser thread; the other core checks (Arrow's pool would oversubscribe 2 cores)
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


# Interactions columns whose per-batch dictionaries (much shorter than the batch) carry user/item/event
# identity. They are encoded in the checking thread, not by the CSV reader: Arrow's dictionary conversion
# during parsing would slow the parser itself (measured +70%), while encoding here overlaps with parsing.
_DICT_FIELDS = {"interactions": ("USER_ID", "ITEM_ID", "EVENT_TYPE")}


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
    keys: npt.NDArray[np.uint64]  # sorted
    rule: str
    other_file: str
    missing_rows: int = 0


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
        self._references = dict(references or {})

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
                self._read(stream, precise=False, path=str(self.source.path) if self.source.path else None)
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
        self.c = ProblemCollector(self.main.max_examples)
        self.rows = 0
        # rows Arrow skipped (wrong column count / unclosed quote): every one counted, the first few kept
        self.invalid_rows: list[tuple[str, int | None, int, int, str]] = []
        self.invalid_counts: dict[str, int] = {}
        self.time_min: int | None = None
        self.time_max: int | None = None
        self.users = KeyCounter(columns=2 if self.event_type else 1)  # all, and after the filter
        self.items = KeyCounter(columns=0)
        self.event_counts: dict[str, int] = {}
        self.filtered_rows = 0
        self.id_keys: list[npt.NDArray[np.uint64]] = []
        self.dups = DuplicateFinder()
        self._repeats: list[tuple[int, int, str]] = []  # (record, record it repeats, rule)
        self.refs = [
            _Refs(name, keys, "unknown_item" if name == "ITEM_ID" else "unknown_user", other)
            for name, (keys, other) in self._references.items()
            if name in self.names
        ]

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
    def _read(self, stream: CountingStream, *, precise: bool, path: str | None = None) -> None:
        column_types = {n: pa.binary() for n in self.names} if precise else arrow_types(self.specs)
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
        self.counted = path is None
        try:
            reader = pacsv.open_csv(
                path if path is not None else pa.PythonFile(stream, mode="r"),
                read_options=pacsv.ReadOptions(
                    column_names=self.names,
                    block_size=BLOCK_SIZE,
                    use_threads=READER_THREADS and not precise,
                    skip_rows=1 if path is not None else 0,  # a native read starts at the header line
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
            if "Empty CSV file" in str(exc):  # a header and no records: nothing to check
                return
            raise
        with ThreadPoolExecutor(max_workers=2, thread_name_prefix="validate-keys") as pool:
            self._pool = pool
            for batch in read_ahead(reader):
                if precise:
                    typed, bad = self._convert(batch)
                else:
                    typed, bad = batch, {}
                self._consume(typed, bad)
                self.rows += batch.num_rows

    def _convert(self, batch: pa.RecordBatch) -> tuple[pa.RecordBatch, dict[str, npt.NDArray[np.bool_]]]:
        """Bytes -> typed columns; values that don't convert are reported and become null."""
        arrays = []
        bad: dict[str, npt.NDArray[np.bool_]] = {}
        for i, spec in enumerate(self.specs):
            col = batch.column(i)
            try:
                text = col.cast(pa.string())
            except pa.ArrowInvalid:
                text, mask = self._fix_utf8(col, i)
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

    def _fix_utf8(self, col: pa.Array, index: int) -> tuple[pa.Array, npt.NDArray[np.bool_]]:
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
    def _consume(self, batch: pa.RecordBatch, bad: Mapping[str, npt.NDArray[np.bool_]]) -> None:
        start = self.rows
        n = batch.num_rows
        cols = {name: batch.column(i) for i, name in enumerate(self.names)}
        for i, spec in enumerate(self.specs):
            col = cols[spec.name]
            if not spec.nullable and col.null_count:
                missing = np.asarray(col.is_null())
                if spec.name in bad:
                    missing &= ~bad[spec.name]
                if missing.any():
                    self._report_values(
                        spec,
                        i,
                        None,
                        missing,
                        "missing_value",
                        "required value is empty",
                        f"give every record a {spec.name}" + (" (1-256 characters)" if spec.is_id else ""),
                    )
            if spec.avro_type == "string" and spec.name not in _DICT_FIELDS.get(self.dataset_type, ()):
                self._check_lengths(spec, i, col)  # key columns: checked on their dictionary
                self._check_escaping(spec, i, col, escaped(col))
            elif spec.is_timestamp:
                self._check_timestamps(spec, i, col)
        if self.dataset_type == "interactions":
            self._aggregate_interactions(cols, start, n)
        else:
            key = "USER_ID" if self.dataset_type == "users" else "ITEM_ID"
            self.id_keys.append(hash_strings(cols[key]))

    def _check_lengths(self, spec: FieldSpec, index: int, col: pa.Array) -> None:
        if spec.is_id:
            limit, rule = LIMITS["id_chars"], "id_too_long"
        elif spec.textual:
            limit, rule = LIMITS["textual_chars"], "textual_too_long"
        elif spec.categorical:
            limit, rule = LIMITS["categorical_chars"], "categorical_too_long"
        elif self.dataset_type == "items":
            limit, rule = LIMITS["string_chars"], "string_too_long"
        else:
            return
        values_of = col.dictionary if pa.types.is_dictionary(col.type) else col
        offsets = np.frombuffer(
            values_of.buffers()[1], np.int32, count=len(values_of) + 1, offset=values_of.offset * 4
        )
        if np.diff(offsets).max(initial=0) <= limit:  # bytes >= characters, so nothing can be too long
            return
        if values_of is not col:
            col = col.dictionary_decode()
            offsets = np.frombuffer(col.buffers()[1], np.int32, count=len(col) + 1, offset=col.offset * 4)
        byte_len = np.diff(offsets)
        candidates = np.flatnonzero(byte_len > limit)
        values = col.take(pa.array(candidates)).to_pylist()
        too_long = np.zeros(len(col), bool)
        for j, value in zip(candidates, values, strict=True):
            parts = value.split("|") if spec.categorical else [value]
            if max(len(p) for p in parts) > limit:
                too_long[j] = True
        what = "each |-separated value" if spec.categorical else "the value"
        self._report_values(
            spec,
            index,
            col,
            too_long,
            rule,
            f"{what} is longer than {limit:,} characters",
            f"shorten {spec.name} to at most {limit:,} characters"
            + (" per |-separated value" if spec.categorical else ""),
        )

    def _check_escaping(self, spec: FieldSpec, index: int, col: pa.Array, hits: pa.BooleanArray) -> None:
        """A value holding \\" was almost surely written with backslash escapes, which RFC 4180 CSV (what
        Personalize reads) doesn't have: the value arrives mangled."""
        if not hits.true_count:
            return
        self._report_values(
            spec,
            index,
            col,
            np.asarray(hits.fill_null(False)),
            "csv_escaping",
            'a quote escaped with a backslash (\\"): CSV doubles a quote inside a quoted value instead',
            'write "" for a quote inside a quoted value, e.g. "say ""hi"""',
        )

    def _check_timestamps(self, spec: FieldSpec, index: int, col: pa.Array) -> None:
        if col.null_count == len(col):
            return
        lo_hi = pc.min_max(col)
        lo, hi = lo_hi["min"].as_py(), lo_hi["max"].as_py()
        limit = self.future_limit
        values: npt.NDArray[np.int64] | None = None
        if lo < 0 or hi > limit:  # the summary's time range covers plausible values only
            values = col.to_numpy(zero_copy_only=False)
            values = np.nan_to_num(values, nan=0).astype(np.int64) if col.null_count else values
            plausible = values[(values >= 0) & (values <= limit)]
            lo, hi = (int(plausible.min()), int(plausible.max())) if len(plausible) else (None, None)
        if spec.name == "TIMESTAMP" and lo is not None and hi is not None:
            self.time_min = lo if self.time_min is None else min(self.time_min, lo)
            self.time_max = hi if self.time_max is None else max(self.time_max, hi)
        if values is None:
            return
        negative = values < 0
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
            self._report_values(spec, index, col, mask, rule, message, fix)

    def _aggregate_interactions(self, cols: Mapping[str, pa.Array], start: int, n: int) -> None:
        row_hash: npt.NDArray[np.uint64] | None = None
        filt: npt.NDArray[np.bool_] | None = None
        # the per-batch dictionaries (hashing every row) run side by side in the key pool
        encoded = {
            name: self._pool.submit(encode_keys, cols[name])
            for name in _DICT_FIELDS["interactions"]
            if name in cols
        }
        # EVENT_TYPE first: the --event-type filter must exist before users are counted
        for name in sorted(self.names, key=lambda n: n != "EVENT_TYPE"):
            col = cols[name]
            if name in encoded:
                col, idx, keys, part = encoded[name].result()
                self._check_lengths(self.specs[self.names.index(name)], self.names.index(name), col)
                quoted = escaped(col.dictionary)
                if quoted.true_count:
                    spec = self.specs[self.names.index(name)]
                    rows_hit = pa.array(np.asarray(quoted)[idx])
                    self._check_escaping(spec, self.names.index(name), col.dictionary_decode(), rows_hit)
                if name == "EVENT_TYPE":
                    e_vals = col.dictionary.to_pylist()
                    for value, count in zip(e_vals, np.bincount(idx, minlength=len(e_vals)), strict=True):
                        self.event_counts[value] = self.event_counts.get(value, 0) + int(count)
                    if self.event_type is not None:
                        filt = idx == (e_vals.index(self.event_type) if self.event_type in e_vals else -1)
                elif name == "USER_ID":
                    counts = np.bincount(idx, minlength=len(keys))
                    if filt is not None:
                        self.users.add(keys, counts, np.bincount(idx[filt], minlength=len(keys)))
                    else:
                        self.users.add(keys, counts)
                else:
                    self.items.add(keys)
                for ref in self.refs:
                    if ref.field == name:
                        self._check_reference(ref, col, keys, idx, start)
            elif pa.types.is_string(col.type):
                part = hash_strings(col)
            else:
                bits = numeric_bits(col)
                part = spread_numeric(bits) if row_hash is None else bits
            row_hash = part if row_hash is None else combine(row_hash, part)
        self.filtered_rows += int(filt.sum()) if filt is not None else n
        assert row_hash is not None
        self.dups.add(mix(row_hash), start)

    def _check_reference(
        self,
        ref: _Refs,
        enc: pa.DictionaryArray,
        keys: npt.NDArray[np.uint64],
        idx: npt.NDArray[np.int32],
        start: int,
    ) -> None:
        if len(ref.keys) == 0:
            missing = np.ones(len(keys), bool)
        else:
            pos = np.minimum(np.searchsorted(ref.keys, keys), len(ref.keys) - 1)
            missing = ref.keys[pos] != keys
        if not missing.any():
            return
        rows = int(np.bincount(idx, minlength=len(keys))[missing].sum())
        ref.missing_rows += rows
        self.c.tally(self.file, ref.rule, "warning", rows)
        room = self.c.room(self.file, ref.rule)
        if room <= 0:
            return
        col = self.names.index(ref.field)
        for k in np.flatnonzero(missing)[:room]:
            record = start + int(np.argmax(idx == k))
            value = enc.dictionary[int(k)].as_py()
            self.c.example(
                self._problem(
                    None,
                    col + 1,
                    ref.field,
                    ref.rule,
                    value,
                    f"{ref.field} {value!r} is not in {ref.other_file}; "
                    f"Personalize imports it but has no metadata for it",
                    f"add {value!r} to {ref.other_file} or drop its interactions",
                    "warning",
                ),
                record,
            )

    def _report_values(
        self,
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
        self.c.tally(self.file, rule, severity, count)
        room = self.c.room(self.file, rule)
        if room <= 0:
            return
        for j in np.flatnonzero(mask)[:room]:
            value = None if col is None else col[int(j)].as_py()
            self.c.example(
                self._problem(None, index + 1, spec.name, rule, value, message, fix, severity),
                self.rows + int(j),
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
    def _finish(self, stream: CountingStream, stats: FileStats) -> None:
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
        # the three merges are independent sorts/hash-groupings that release the GIL: run them side by side
        with ThreadPoolExecutor(max_workers=3, thread_name_prefix="validate-finish") as pool:
            users = pool.submit(self.users.result)
            items = pool.submit(self.items.result)
            dups = pool.submit(self.dups.finish, self.c.max_examples)
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
                np.count_nonzero(~np.isin(user_keys if ref.field == "USER_ID" else item_keys, ref.keys))
            )
            info[f"{ref.rule}_distinct"] = missing
            info[f"{ref.rule}_interactions"] = ref.missing_rows
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


_FIX_TYPE = {
    "int": "write a whole number between -2147483648 and 2147483647",
    "long": "write a whole number (Unix epoch seconds for timestamps)",
    "float": "write a decimal number with a dot, e.g. 12.5",
    "double": "write a decimal number with a dot, e.g. 12.5",
    "boolean": "write true or false",
}
