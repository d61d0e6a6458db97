"""Check a Personalize dataset CSV file against its schema and Personalize's data rules, with DuckDB.

Every rule is written once, as a SQL condition over a row (`_value_rules`) or an aggregate over the file;
the same condition counts the rule's occurrences and then, only when it fired, finds its first examples.
DuckDB reads the CSV with every column as text (so that our number grammar, not DuckDB's lenient
casts, judges a value), on every core, once per scan: an interactions file takes two, the value rules'
counts, which also gather one 64-bit hash per row for the exact-duplicate count (8 bytes a row, sorted
in numpy), then the users' and the items' GROUP BYs as one GROUPING SETS query; references to the other
files and duplicate IDs are SQL over those aggregates. No table holds the rows (only their hashes are
kept), so files larger than memory work. Rows DuckDB can't parse (wrong column count, an unclosed
quote, bad UTF-8) make the first scan fail; the file is then read again with DuckDB's rejects table,
which holds them with their line (and makes DuckDB read on one thread, so only such a file pays for
it), into a table when it is up to MATERIALIZE_MAX_BYTES (so that records after a rejected one are
numbered right), when several value rules fired (their examples then read the table, not the file
again each) or when the caller keeps the typed table. The file's SHA-256 is computed by a thread
reading the same bytes while DuckDB parses them (the digest the import's content-addressed key needs).

Records are numbered in file order (the table's rowid, or `WITH ORDINALITY` on a file read per query).
A problem's physical line comes from that number: directly when every record is one line (the line
breaks, counted while hashing or, without a digest, when a problem needs its line, say so), otherwise by
a replay of the file's records that stops at the last record with a problem.
"""

from __future__ import annotations

import csv
import hashlib
import io
import os
import re
import tempfile
import threading
import time
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pyarrow as pa

from personalize_rules.csv_header import read_header
from personalize_rules.dataset_report import Problem, ProblemCollector, Severity, shorten
from personalize_rules.dataset_schemas import field_specs
from personalize_rules.errors import RulesError
from personalize_rules.value_rules import (
    LIMITS,
    iso_time,
    quote_ident,
    sql_literal,
    typed_column,
    typed_sql,
    value_rules,
)

__all__ = ["DatasetFileError", "FileCheck", "FileChecker", "ImportCheck", "read_import"]

MEMORY_LIMIT = "1GB"  # DuckDB spills its aggregates to a temporary directory past this
MATERIALIZE_MAX_BYTES = 256 << 20  # a file with rejects or with several rules fired: a table up to this
_FUTURE_SLACK_SECONDS = 366 * 86400
_INTERACTION_RESERVED = {
    "USER_ID", "ITEM_ID", "TIMESTAMP", "IMPRESSION", "RECOMMENDATION_ID", "EVENT_ATTRIBUTION_SOURCE",
}  # fmt: skip
_COLUMNS = re.compile(r"Expected Number of Columns: (\d+) Found: (\d+)")
_HASH_BLOCK = 4 << 20
_BACKSLASH_QUOTE = re.compile(r'\\"')
_ROW_HASH = quote_ident("#hash")


class DatasetFileError(RulesError, OSError):
    """A dataset file can't be read at all; says which and why."""

    def __init__(self, where: str, why: str) -> None:
        super().__init__(where, why)


@dataclass
class FileCheck:
    """What checking one file found besides its problems: rows, summary, digest, and (when asked) the
    typed table; `ids` names the SQL table of its IDs that the interactions file is checked against."""

    name: str
    dataset_type: str
    rows: int = 0
    readable: bool = False
    summary: dict[str, Any] = field(default_factory=dict)
    sha256: str | None = None
    table: pa.Table | None = None
    ids: str | None = None


_Repeat = tuple[int, int, str, Severity, int | None, str | None, Callable[[int | None], tuple[str, str]]]


class _Bytes:
    """The file's SHA-256 and line breaks, read by a thread beside DuckDB's reads of the same file."""

    def __init__(self, path: Path, data_offset: int) -> None:
        self.digest = hashlib.sha256()
        self.newlines = self.returns = 0
        self.last = b""
        self._offset = data_offset
        self._error: OSError | None = None
        self._thread = threading.Thread(target=self._read, args=(path,), name="dataset-hash", daemon=True)
        self._thread.start()

    def _read(self, path: Path) -> None:
        try:
            with path.open("rb") as fh:
                head = fh.read(self._offset)
                self.digest.update(head)
                while block := fh.read(_HASH_BLOCK):
                    self.digest.update(block)  # releases the GIL: runs beside DuckDB's threads
                    self.newlines += block.count(b"\n")
                    self.returns += block.count(b"\r")
                    self.last = block[-1:]
        except OSError as exc:
            self._error = exc

    def result(self) -> _Bytes:
        self._thread.join()
        if self._error is not None:
            raise self._error
        return self


def _repeated_hashes(lists: pa.Array, pool: ThreadPoolExecutor) -> int:
    """How many hashes repeat one before them, in lists of 64-bit hashes (a repeat is always in its
    original's list). Each list is sorted on its own, on the pool's threads (numpy's sort releases the
    GIL)."""

    def repeats(i: int) -> int:
        hashes = np.sort(lists[i].values.to_numpy())
        return int(np.count_nonzero(hashes[1:] == hashes[:-1]))

    return sum(pool.map(repeats, range(len(lists))))


class FileChecker:
    """Checks dataset files on one DuckDB connection (so the interactions file can be checked against the
    users' and items' IDs); close it when done."""

    def __init__(
        self, collector: ProblemCollector, *, now: float | None = None, digests: bool = False
    ) -> None:
        self.collector = collector
        self.digests = digests  # each file's SHA-256, read beside the parse (an import's key needs it)
        self.future_limit = int((now if now is not None else time.time()) + _FUTURE_SLACK_SECONDS)
        self._spill = tempfile.TemporaryDirectory(prefix="dataset-check-")
        threads = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
        self.threads = threads
        self.db = duckdb.connect(
            config={
                "memory_limit": MEMORY_LIMIT,
                "temp_directory": self._spill.name,
                "threads": threads,
                "preserve_insertion_order": True,
            }
        )
        self.db.execute("SET enable_progress_bar = false")  # DuckDB draws it on stdout, the report's stream
        self._files = 0

    def close(self) -> None:
        self.db.close()
        self._spill.cleanup()

    def __enter__(self) -> FileChecker:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def check(
        self,
        dataset_type: str,
        path: Path,
        schema: Mapping[str, Any],
        *,
        name: str | None = None,
        event_type: str | None = None,
        check_minimums: bool = True,
        references: Mapping[str, FileCheck] | None = None,
        keep_table: bool = False,
    ) -> FileCheck:
        """Check one local CSV file; problems go to the collector. `references` maps USER_ID / ITEM_ID
        to the users / items file's check; `keep_table` also returns the typed table (when the file has
        no error)."""
        self._files += 1
        run = _FileRun(self, dataset_type, path, schema, name or path.name, self._files)
        try:
            return run.check(event_type, check_minimums, references or {}, keep_table)
        except duckdb.Error as exc:  # the file vanished or can't be read mid-way, the disk is full, ...
            raise DatasetFileError(str(path), str(exc).splitlines()[0]) from exc


@dataclass(frozen=True)
class ImportCheck:
    """An import file parsed and checked in one pass: the typed table (None when an error was found)
    and the problems, errors first."""

    table: pa.Table | None
    problems: list[Problem]

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "error"]


def read_import(dataset_type: str, data: bytes, schema: Mapping[str, Any], name: str) -> ImportCheck:
    """What a dataset import job does with one CSV file held in memory: parse it once against the
    dataset's schema, with every rule the validator applies (no training minimums: they are a
    solution's, not an import's)."""
    collector = ProblemCollector()
    with tempfile.TemporaryDirectory(prefix="dataset-import-") as tmp, FileChecker(collector) as checker:
        path = Path(tmp) / "data.csv"
        path.write_bytes(data)
        check = checker.check(dataset_type, path, schema, name=name, check_minimums=False, keep_table=True)
    problems = collector.problems()
    ordered = [p for p in problems if p.severity == "error"] + [p for p in problems if p.severity != "error"]
    return ImportCheck(check.table, ordered)


class _FileRun:
    """One file's check: the SQL over it and what the collector gets."""

    def __init__(
        self, owner: FileChecker, dataset_type: str, path: Path, schema: Mapping[str, Any], file: str, n: int
    ) -> None:
        self.db = owner.db
        self.digests = owner.digests
        self.threads = owner.threads
        self.main = owner.collector
        self.c = ProblemCollector(owner.collector.max_examples)
        self.dataset_type = dataset_type
        self.path = path
        self.file = file
        self.specs = field_specs(dataset_type, schema)
        self.names = [s.name for s in self.specs]
        self.future_limit = owner.future_limit
        self.rules = value_rules(dataset_type, self.specs, self.future_limit)
        self.table = f"f{n}_text"
        self.view = f"f{n}_rows"
        self.materialized = False  # the records parsed once into a table, or read again by each query
        self.rejecting = False  # records DuckDB can't parse go to the rejects table (rather than raise)
        self.line_endings = "LF"
        self.rejects = f"f{n}_rejects"
        self.prefix = f"f{n}_"
        self.result = FileCheck(file, dataset_type)
        # repeated records found by SQL: (record, record it repeats, rule, severity, column, field, text)
        self._repeats: list[_Repeat] = []
        self._duplicates = 0  # exact duplicate interactions, counted in the value rules' scan

    # ------------------------------------------------------------------------------------------ driver
    def check(
        self, event_type: str | None, check_minimums: bool, references: Mapping[str, FileCheck], keep: bool
    ) -> FileCheck:
        try:
            with self.path.open("rb") as raw:
                header = read_header(raw, self.file, self.names)
        except OSError as exc:
            raise DatasetFileError(str(self.path), exc.strerror or str(exc)) from exc
        for problem in header.problems:
            self.main.add(problem)
        if not header.ok:
            return self.result
        self.result.readable = True
        self.line_endings = header.line_endings
        hashing = _Bytes(self.path, header.data_offset) if self.digests else None
        info: dict[str, Any] = {}
        try:
            # read by each scan (two for an interactions file, each parsing on every core) rather than
            # parsed into a table first: measured faster and half the memory; a problem's examples read
            # the file again
            self._define_view(header.line_endings, keep, rejects=False)
            self._check_values(info, event_type)
        except duckdb.InterruptException:
            raise
        except duckdb.Error:
            # a record DuckDB can't parse (or a read error): read again, keeping such records in the
            # rejects table (which makes DuckDB parse on one thread, so only a file that needs it pays),
            # into a table when it fits (a file read per query would number records after a rejected one
            # wrongly, see tests/unit/validation/test_parse_modes.py)
            materialize = keep or self.path.stat().st_size <= MATERIALIZE_MAX_BYTES
            self._define_view(header.line_endings, materialize, rejects=True)
            self._check_values(info, event_type)
        rejected = self._check_rejects() if self.rejecting else []
        if self.dataset_type == "interactions":
            self._check_interactions(info, event_type, references, check_minimums)
        else:
            self._check_ids(info)
        self.result.summary = {"rows": self.result.rows, "line_endings": header.line_endings} | info
        if hashing is not None:
            self.result.sha256 = hashing.result().digest.hexdigest()
        if self.c.pending_records(self.file) or self._repeats:  # lines are needed: count the breaks
            self._place_lines((hashing or _Bytes(self.path, header.data_offset)).result(), rejected)
        if keep and not self.c.has_errors():
            typed = ", ".join(f"{typed_column(n)} AS {quote_ident(n)}" for n in self.names)
            ordered = f"SELECT {typed} FROM {self.view} ORDER BY {quote_ident('#rec')}"
            self.result.table = self.db.sql(ordered).to_arrow_table()
        self.db.execute(f"DROP VIEW {self.view}")
        # the IDs' table stays for the files checked next
        self.db.execute(f"DROP {'TABLE' if self.materialized else 'VIEW'} {self.table}")
        self.main.merge(self.c)
        return self.result

    def _define_view(self, line_endings: str, materialize: bool, rejects: bool) -> None:
        """The file's records (every column as text) and a view adding the record number and every
        column as its type. With `materialize`, parsed once into a table in memory; otherwise read again
        by each query.
        With `rejects`, records DuckDB can't parse are skipped and kept in the rejects table; without,
        the first one raises."""
        columns = "{" + ", ".join(f"{sql_literal(n)}: 'VARCHAR'" for n in self.names) + "}"
        new_line = ", new_line = '\\r'" if line_endings == "CR" else ""
        kept = (
            f", store_rejects = true, rejects_table = {sql_literal(self.rejects)}, "
            f"rejects_scan = {sql_literal(self.prefix + 'scan')}"
            if rejects
            else ""
        )
        source = (
            f"read_csv({sql_literal(str(self.path))}, header = true, auto_detect = false, delim = ',', "
            f"quote = '\"', escape = '\"', columns = {columns}{kept}{new_line})"
        )
        raw = ", ".join(quote_ident(n) for n in self.names)
        # a second definition (with rejects) may change a view into a table
        self.db.execute(f"DROP VIEW IF EXISTS {self.view}")
        self.db.execute(f"DROP {'TABLE' if self.materialized else 'VIEW'} IF EXISTS {self.table}")
        self.materialized, self.rejecting = materialize, rejects
        rec = quote_ident("#rec")
        if materialize:
            # inserted in file order (preserve_insertion_order), so a record's rowid is its number - 1
            # (DuckDB docs, "Order Preservation": on materialized tables rowid gives the original order);
            # WITH ORDINALITY would make DuckDB parse on one thread
            self.db.execute(f"CREATE OR REPLACE TEMP TABLE {self.table} AS SELECT {raw} FROM {source}")
            numbered = f"rowid + 1 AS {rec}, *"
        else:  # a query that doesn't ask for the record number still reads in parallel
            self.db.execute(
                f"CREATE OR REPLACE TEMP VIEW {self.table} AS "
                f"SELECT ordinality AS {rec}, {raw} FROM {source} WITH ORDINALITY"
            )
            numbered = "*"
        typed = ", ".join(f"{typed_sql(s)} AS {typed_column(s.name)}" for s in self.specs)
        self.db.execute(
            f"CREATE OR REPLACE TEMP VIEW {self.view} AS SELECT {numbered}, {typed} FROM {self.table}"
        )

    # ------------------------------------------------------------------------------------------ values
    def _check_values(self, info: dict[str, Any], event_type: str | None) -> None:
        """One pass: every row rule's count (per event type for interactions) and the time range."""
        counts = [f"count(*) FILTER (WHERE {r.where})" for r in self.rules]
        group = "EVENT_TYPE" in self.names and self.dataset_type == "interactions"
        time_range = "TIMESTAMP" in self.names and self.dataset_type == "interactions"
        ts = typed_column("TIMESTAMP")
        plausible = f"{ts} BETWEEN 0 AND {self.future_limit}"
        extra = [f"min({ts}) FILTER (WHERE {plausible})", f"max({ts}) FILTER (WHERE {plausible})"]
        # an interactions record's 64-bit hash, for exact duplicates, gathered in the same scan: one list
        # per event type and top 4 bits of the hash (a repeat is in its original's list), sorted on their
        # own as they arrive, a few at a time, so that only small lists are ever copied out of DuckDB
        hashed = self.dataset_type == "interactions"
        keys = [quote_ident("EVENT_TYPE")] if group else []
        keys += [f"{_ROW_HASH} >> 60"] if hashed else []
        select = ", ".join(
            [
                quote_ident("EVENT_TYPE") if group else "NULL",
                "count(*)",
                *counts,
                *(extra if time_range else []),
                *([f"list({_ROW_HASH})"] if hashed else []),
            ]
        )
        raw = ", ".join(quote_ident(n) for n in self.names)
        source = f"(SELECT *, hash({raw}) AS {_ROW_HASH} FROM {self.view})" if hashed else self.view
        rows: list[tuple[Any, ...]] = []
        self._duplicates = 0
        with (
            self.db.sql(
                f"SELECT {select} FROM {source}" + (f" GROUP BY {', '.join(keys)}" if keys else "")
            ).to_arrow_reader(self.threads) as reader,
            ThreadPoolExecutor(self.threads, thread_name_prefix="dataset-sort") as pool,
        ):
            for batch in reader:
                if hashed:
                    self._duplicates += _repeated_hashes(batch.column(batch.num_columns - 1), pool)
                    batch = batch.drop_columns([batch.schema.names[-1]])
                rows += [tuple(r.values()) for r in batch.to_pylist()]
        totals = [sum(int(r[2 + k]) for r in rows) for k in range(len(self.rules))]
        self.result.rows = sum(int(r[1]) for r in rows)
        if group:
            events: dict[str, int] = {}
            for r in rows:
                events[r[0] or ""] = events.get(r[0] or "", 0) + int(r[1])
            events = {name: n for name, n in events.items() if n}
            info["event_types"] = dict(sorted(events.items(), key=lambda kv: -kv[1]))
        if time_range:
            lows = [r[-2] for r in rows if r[-2] is not None]
            highs = [r[-1] for r in rows if r[-1] is not None]
            if lows and highs:
                lo, hi = int(min(lows)), int(max(highs))
                info["time_range"] = {"min": lo, "max": hi, "from": iso_time(lo), "to": iso_time(hi)}
        if sum(1 for count in totals if count) > 1:
            self._materialize()  # examples of several rules: a table costs less than a read for each
        for rule, count in zip(self.rules, totals, strict=True):
            if not count:
                continue
            self.c.tally(self.file, rule.rule, rule.severity, count)
            room = self.c.room(self.file, rule.rule)
            if room <= 0:
                continue
            examples = self.db.execute(
                f"SELECT {quote_ident('#rec')}, {quote_ident(rule.spec.name)} FROM {self.view} "
                f"WHERE {rule.where} ORDER BY {quote_ident('#rec')} LIMIT {room}"
            ).fetchall()
            for rec, value in examples:
                self.c.example(
                    Problem(self.file, None, rule.index + 1, rule.spec.name, rule.rule,
                            shorten(value) if rule.shows_value else None, rule.message, rule.fix,
                            rule.severity),
                    int(rec) - 1,
                )  # fmt: skip

    def _materialize(self) -> None:
        """Parse a file read per query into a table, when it fits, for the queries still to come."""
        if not self.materialized and not self.rejecting and self.path.stat().st_size <= MATERIALIZE_MAX_BYTES:
            self._define_view(self.line_endings, True, rejects=False)

    # ------------------------------------------------------------------------------------------ rejects
    def _check_rejects(self) -> list[int]:
        """Rows DuckDB couldn't parse: every one counted, the first few kept. Returns their logical
        lines (DuckDB numbers records, a record being one line however many it spans). A file read per
        query adds its rejects again at each read: the first read (the value rules', whole) counts."""
        rows = self.db.execute(
            f"SELECT line, column_idx, column_name, error_type::VARCHAR, csv_line, error_message "
            f"FROM {self.rejects} WHERE scan_id = (SELECT min(scan_id) FROM {self.rejects}) ORDER BY line"
        ).fetchall()
        ncols = len(self.names)
        lines: list[int] = []
        for line, column_idx, column_name, error_type, text, message in rows:
            lines.append(int(line))
            if error_type in ("MISSING COLUMNS", "TOO MANY COLUMNS"):
                match = _COLUMNS.search(message or "")
                expected, actual = (int(match[1]), int(match[2])) if match else (ncols, int(column_idx))
                problem = Problem(
                    self.file, None, expected + 1 if actual > expected else actual + 1, None,
                    "wrong_column_count", shorten(text), f"{actual} columns, expected {expected}",
                    f'quote values containing commas with "..." and give every record {ncols} columns',
                )  # fmt: skip
            elif error_type == "INVALID ENCODING":
                problem = Problem(
                    self.file, None, int(column_idx), column_name, "not_utf8", shorten(text),
                    "value is not valid UTF-8", "save the file as UTF-8 (not Latin-1/Windows-1252)",
                )  # fmt: skip
            elif error_type == "UNQUOTED VALUE" and _BACKSLASH_QUOTE.search(text or ""):
                # written with backslash escapes, which RFC 4180 CSV (what Personalize reads) doesn't
                # have: the quote ends the value early
                problem = Problem(
                    self.file, None, int(column_idx), column_name, "csv_escaping", shorten(text),
                    'a quote escaped with a backslash (\\"): CSV doubles a quote inside a quoted value '
                    "instead",
                    'write "" for a quote inside a quoted value, e.g. "say ""hi"""',
                )  # fmt: skip
            elif error_type == "UNQUOTED VALUE":
                problem = Problem(
                    self.file, None, None, None, "csv_syntax", shorten(text),
                    'a quoted field is never closed (odd number of ")',
                    'close the quote, or double quotes inside a quoted value ("")',
                )  # fmt: skip
            else:
                problem = Problem(
                    self.file, None, None, None, "csv_syntax", shorten(text),
                    f"the CSV can't be parsed: {message}",
                    'quote fields holding commas, quotes or line breaks with "..." and double inner quotes '
                    '("")',
                )  # fmt: skip
            self.c.tally(self.file, problem.rule, "error", 1)
            self.c.example(problem, -int(line))  # a negative record: a logical line, placed later
        return lines

    # ------------------------------------------------------------------------------------------ aggregates
    def _check_interactions(
        self,
        info: dict[str, Any],
        event_type: str | None,
        references: Mapping[str, FileCheck],
        check_minimums: bool,
    ) -> None:
        users, items = quote_ident(self.prefix + "users"), quote_ident(self.prefix + "items")
        both = quote_ident(self.prefix + "users_items")
        user, item = quote_ident("USER_ID"), quote_ident("ITEM_ID")
        kept = (
            f"count(*) FILTER (WHERE {quote_ident('EVENT_TYPE')} = {sql_literal(event_type)})"
            if event_type is not None
            else "NULL"
        )
        # each user's and each item's interactions, in one scan (a file read per query is parsed once
        # for both); the users' rows have grouping(USER_ID) = 0
        self.db.execute(
            f"CREATE OR REPLACE TEMP TABLE {both} AS SELECT * FROM (SELECT grouping({user}) = 0 AS is_user, "
            f"CASE WHEN grouping({user}) = 0 THEN {user} ELSE {item} END AS id, count(*) AS c, "
            f"{kept} AS kept FROM {self.view} GROUP BY GROUPING SETS (({user}), ({item}))) "
            "WHERE id IS NOT NULL"
        )
        self.db.execute(
            f"CREATE OR REPLACE TEMP VIEW {users} AS SELECT id, c, "
            f"{'kept' if event_type is not None else 'c AS kept'} FROM {both} WHERE is_user"
        )
        self.db.execute(f"CREATE OR REPLACE TEMP VIEW {items} AS SELECT id, c FROM {both} WHERE NOT is_user")
        found = {key: info.pop(key) for key in ("event_types", "time_range") if key in info}
        info["distinct_users"] = self._scalar(f"SELECT count(*) FROM {users}")
        info["distinct_items"] = self._scalar(f"SELECT count(*) FROM {items}")
        info["event_types"] = found.get("event_types", {})
        if "time_range" in found:
            info["time_range"] = found["time_range"]
        info["interactions_per_user"] = self._distribution(users)
        self._check_duplicates(info)
        for field_name, table in (("USER_ID", users), ("ITEM_ID", items)):
            other = references.get(field_name)
            if other is not None and other.ids is not None:
                self._check_references(info, field_name, table, other)
        metadata = [n for n in self.names if n not in _INTERACTION_RESERVED]
        n_types = len([e for e in info["event_types"] if e])
        limit = LIMITS["max_event_types_plus_metadata"]
        if n_types + max(len(metadata) - 1, 0) > limit:
            self.c.add(
                Problem(self.file, None, None, "EVENT_TYPE", "too_many_event_types", None,
                        f"{n_types} event types + {len(metadata) - 1} optional metadata columns exceed the "
                        f"limit of {limit}", "merge rare event types or drop optional columns")
            )  # fmt: skip
        if check_minimums:
            self._check_minimums(info, users, event_type)

    def _scalar(self, sql: str) -> int:
        row = self.db.execute(sql).fetchall()[0]
        return int(row[0]) if row[0] is not None else 0

    def _distribution(self, users: str) -> dict[str, Any]:
        row = self.db.execute(
            f"SELECT count(*), min(c), quantile_cont(c, [0.25, 0.5, 0.75, 0.9, 0.99]), max(c), avg(c), "
            f"count(*) FILTER (WHERE c = 1), count(*) FILTER (WHERE c >= 2) FROM {users}"
        ).fetchall()[0]
        n, low, p, high, mean, with_one, with_two = row
        if not n:
            return {"users": 0}
        return {
            "users": int(n), "min": int(low), "p25": round(float(p[0]), 2), "median": round(float(p[1]), 2),
            "p75": round(float(p[2]), 2), "p90": round(float(p[3]), 2), "p99": round(float(p[4]), 2),
            "max": int(high), "mean": round(float(mean), 3), "users_with_1": int(with_one),
            "users_with_2_or_more": int(with_two), "share_with_2_or_more": round(int(with_two) / int(n), 4),
        }  # fmt: skip

    def _check_duplicates(self, info: dict[str, Any]) -> None:
        """Exact duplicates (the same text in every column), counted from the rows' hashes that the value
        rules' scan gathered."""
        count = self._duplicates
        info["exact_duplicates"] = count
        self._report_repeats(
            count, [quote_ident(n) for n in self.names], "duplicate_interaction", "warning", None,
            lambda line: (f"exact duplicate of line {line}",
                          "drop repeated events (they over-weight the interaction)"),
        )  # fmt: skip

    def _check_ids(self, info: dict[str, Any]) -> None:
        key = "USER_ID" if self.dataset_type == "users" else "ITEM_ID"
        ids = quote_ident(self.prefix + "ids")
        self.db.execute(
            f"CREATE OR REPLACE TEMP TABLE {ids} AS SELECT {quote_ident(key)} AS id, count(*) AS c "
            f"FROM {self.view} WHERE {quote_ident(key)} IS NOT NULL GROUP BY ALL"
        )
        row = self.db.execute(f"SELECT count(*), coalesce(sum(c - 1), 0) FROM {ids}").fetchall()[0]
        distinct, repeats = int(row[0]), int(row[1])
        self.result.ids = ids
        info["duplicate_ids"] = repeats
        info[f"distinct_{self.dataset_type}"] = distinct
        self._report_repeats(
            repeats, [quote_ident(key)], "duplicate_id", "error", key,
            lambda line: (f"{key} already appears on line {line}: one row per {key}",
                          f"keep one row per {key}: merge or remove the repeated rows"),
        )  # fmt: skip

    def _report_repeats(
        self,
        count: int,
        key: list[str],
        rule: str,
        severity: Severity,
        column: str | None,
        text: Callable[[int | None], tuple[str, str]],
    ) -> None:
        """Count a repeat rule; examples are the first repeated records, each with the record it repeats
        (whose line is placed with the others')."""
        if not count:
            return
        self.c.tally(self.file, rule, severity, count)
        room = self.c.room(self.file, rule)
        if room <= 0:
            return
        rec = quote_ident("#rec")
        examples = self.db.execute(
            f"SELECT rec, first FROM (SELECT {rec} AS rec, min({rec}) OVER (PARTITION BY {', '.join(key)}) "
            f"AS first FROM {self.view} {'WHERE ' + key[0] + ' IS NOT NULL' if column else ''}) "
            f"WHERE rec > first ORDER BY rec LIMIT {room}"
        ).fetchall()
        index = self.names.index(column) + 1 if column else None
        for record, first in examples:
            self._repeats.append((int(record) - 1, int(first) - 1, rule, severity, index, column, text))

    def _check_references(self, info: dict[str, Any], field_name: str, table: str, other: FileCheck) -> None:
        rule = "unknown_item" if field_name == "ITEM_ID" else "unknown_user"
        missing = f"FROM {table} AS t WHERE NOT EXISTS (SELECT 1 FROM {other.ids} AS o WHERE o.id = t.id)"
        row = self.db.execute(f"SELECT count(*), coalesce(sum(c), 0) {missing}").fetchall()[0]
        distinct, interactions = int(row[0]), int(row[1])
        info[f"{rule}_distinct"] = distinct
        info[f"{rule}_interactions"] = interactions
        if not interactions:
            return
        self.c.tally(self.file, rule, "warning", interactions)
        room = self.c.room(self.file, rule)
        if room <= 0:
            return
        column = self.names.index(field_name) + 1
        value_column, rec = quote_ident(field_name), quote_ident("#rec")
        unknown = f"NOT EXISTS (SELECT 1 FROM {other.ids} AS o WHERE o.id = {value_column})"
        for value, first in self.db.execute(
            f"SELECT {value_column}, min({rec}) AS first FROM {self.view} WHERE {value_column} IS NOT NULL "
            f"AND {unknown} GROUP BY ALL ORDER BY first LIMIT {room}"
        ).fetchall():
            self.c.example(
                Problem(self.file, None, column, field_name, rule, shorten(value),
                        f"{field_name} {value!r} is not in {other.name}; "
                        "Personalize imports it but has no metadata for it",
                        f"add {value!r} to {other.name} or drop its interactions", "warning"),
                int(first) - 1,
            )  # fmt: skip

    def _check_minimums(self, info: dict[str, Any], users: str, event_type: str | None) -> None:
        rows = self.result.rows
        if rows < LIMITS["min_import_records"]:
            self._minimum("min_import_records", None, str(rows),
                          f"{rows:,} records; an import job needs at least {LIMITS['min_import_records']:,}",
                          "import more interactions in one file")  # fmt: skip
        row = self.db.execute(
            "SELECT coalesce(sum(kept), 0), count(*) FILTER (WHERE kept > 0), "
            f"count(*) FILTER (WHERE kept >= 2) "
            f"FROM {users}"
        ).fetchall()[0]
        kept, active, with_two = int(row[0]), int(row[1]), int(row[2])
        share = with_two / active if active else 0.0
        scope = f" with EVENT_TYPE={event_type}" if event_type else ""
        if event_type:
            info["filtered"] = {"event_type": event_type, "rows": kept, "users": active,
                                "users_with_2_or_more": with_two}  # fmt: skip
        if kept < LIMITS["min_interactions"]:
            self._minimum("min_interactions", None, str(kept),
                          f"{kept:,} interactions{scope}; training needs at least "
                          f"{LIMITS['min_interactions']:,}",
                          "collect more interactions"
                          + (" or train on more event types" if scope else ""))  # fmt: skip
        if with_two < LIMITS["min_users_with_2"]:
            self._minimum("min_users_with_2_interactions", "USER_ID", str(with_two),
                          f"{with_two} users with 2+ interactions{scope}; training needs at least "
                          f"{LIMITS['min_users_with_2']}", "collect more interactions per user")  # fmt: skip
        if share < LIMITS["min_share_users_with_2"]:
            self._minimum("min_share_users_with_2_interactions", "USER_ID", f"{share:.4%}",
                          f"only {share:.2%} of users{scope} have 2+ interactions; Personalize needs 1%",
                          "collect more interactions per user")  # fmt: skip

    def _minimum(self, rule: str, fld: str | None, value: str, message: str, fix: str) -> None:
        self.c.add(Problem(self.file, None, None, fld, rule, value, message, fix))

    # ------------------------------------------------------------------------------------------ lines
    def _place_lines(self, counted: _Bytes, rejected: list[int]) -> None:
        """Turn record numbers (and rejected rows' logical lines, stored as negative records) into
        physical lines."""
        repeats = self._repeats
        wanted = set(self.c.pending_records(self.file)) | {first for _, first, *_ in repeats}
        if not wanted:
            return
        feeds = counted.newlines or counted.returns
        ends_with_break = counted.last in (b"\n", b"\r")
        records = self.result.rows + len(rejected)
        line_of: Callable[[int], int | None]
        if feeds == records - (0 if ends_with_break else 1):  # every record, rejected or not, one line
            skipped = sorted(rejected)

            def line_of(record: int) -> int | None:
                if record < 0:
                    return -record
                line = record + 2
                for logical in skipped:
                    if logical <= line:
                        line += 1
                return line

        else:
            found = self._scan_lines(wanted, set(rejected))

            def line_of(record: int) -> int | None:
                return found.get(record)

        for record, first, rule, severity, index, column, text in repeats:
            message, fix = text(line_of(first))
            self.c.example(
                Problem(self.file, None, index, column, rule, None, message, fix, severity), record
            )
        self.c.resolve_lines(self.file, line_of)

    def _scan_lines(self, wanted: set[int], rejected: set[int]) -> dict[int, int]:
        """Physical start line of the wanted records (and rejected logical lines, as negatives), replaying
        how DuckDB numbers records: one logical line each, blank lines counted, rejected rows skipped."""
        found: dict[int, int] = {}
        last = max(w for w in wanted) if any(w >= 0 for w in wanted) else -1
        last_logical = max((-w for w in wanted if w < 0), default=0)
        with self.path.open("rb") as raw:
            text = io.TextIOWrapper(raw, encoding="utf-8", errors="replace", newline="")
            reader = csv.reader(text)
            try:
                next(reader)
                record, logical, prev = 0, 1, reader.line_num
                for row in reader:
                    start, prev = prev + 1, reader.line_num
                    logical += 1
                    if -logical in wanted:
                        found[-logical] = start
                    if not row or logical in rejected:
                        if record > last and logical >= last_logical:
                            break
                        continue
                    if record in wanted:
                        found[record] = start
                    record += 1
                    if record > last and logical >= last_logical:
                        break
            except csv.Error:
                pass
        return found
