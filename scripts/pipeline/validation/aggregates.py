"""Bounded-memory accumulators: counts per 64-bit key, and exact-duplicate row detection."""

from __future__ import annotations

import os
import tempfile
import threading
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numba
import numpy as np
import numpy.typing as npt
import pyarrow as pa

__all__ = ["DuplicateFinder", "KeyTable"]

U64 = npt.NDArray[np.uint64]
I64 = npt.NDArray[np.int64]
_jit = numba.njit(nogil=True, cache=True)
_MAX_LOAD = 0.6


@_jit
def _slot(table: Any, stride: int, h: Any) -> Any:
    mask = np.uint64(table.shape[0] // stride - 1)
    s = h & mask
    while True:
        k = table[np.int64(s) * stride]
        if k == h or k == 0:
            return np.int64(s)
        s = (s + np.uint64(1)) & mask


@_jit
def _count(table: Any, stride: int, hashes: Any, flags: Any, start: int, room: int) -> tuple[int, int]:
    """Count rows from `start` into the table (column 1: all rows, column 2: rows whose flag is set) until
    `room` new keys were inserted; returns (next row, keys inserted)."""
    use_flags = flags.shape[0] > 0
    inserted = 0
    r = start
    n = hashes.shape[0]
    last = np.uint64(0)
    s = 0
    while r < n and inserted < room:
        h = hashes[r]
        if h != last:  # rows of one session share a user (and often an event type): no probe for repeats
            s = _slot(table, stride, h) * stride
            last = h
        if table[s] == 0:
            table[s] = h
            inserted += 1
        if stride > 1:
            table[s + 1] += np.uint64(1)
        if stride > 2 and use_flags and flags[r]:
            table[s + 2] += np.uint64(1)
        r += 1
    return r, inserted


@_jit
def _rehash(old: Any, new: Any, stride: int) -> None:
    for j in range(0, old.shape[0], stride):
        h = old[j]
        if h != 0:
            s = _slot(new, stride, h) * stride
            for c in range(stride):
                new[s + c] = old[j + c]


@_jit
def _add_table(table: Any, other: Any, stride: int) -> int:
    """Add another table's keys and counts; returns the keys new to this table."""
    inserted = 0
    for j in range(0, other.shape[0], stride):
        h = other[j]
        if h != 0:
            s = _slot(table, stride, h) * stride
            if table[s] == 0:
                table[s] = h
                inserted += 1
            for c in range(1, stride):
                table[s + c] += other[j + c]
    return inserted


@_jit
def _contains(table: Any, stride: int, hashes: Any, out: Any) -> None:
    for r in range(hashes.shape[0]):
        out[r] = table[_slot(table, stride, hashes[r]) * stride] != 0


class KeyTable:
    """Counts rows per 64-bit key (an open-addressing hash table); memory grows with distinct keys only.

    `columns` 0 keeps the distinct keys, 1 counts rows per key, 2 also counts the rows whose flag is set."""

    def __init__(self, columns: int = 1, capacity: int = 1 << 12) -> None:
        self.columns = columns
        self._stride = 1 + columns
        self._table = np.zeros(max(16, 1 << (capacity - 1).bit_length()) * self._stride, np.uint64)
        self.size = 0

    def _room(self) -> int:
        return int(len(self._table) // self._stride * _MAX_LOAD) - self.size

    def _grow(self) -> None:
        new = np.zeros(len(self._table) * 2, np.uint64)
        _rehash(self._table, new, self._stride)
        self._table = new

    def add(self, hashes: U64, flags: npt.NDArray[np.bool_] | None = None) -> None:
        """Count one row per hash (hashes are never 0: see `hashing`)."""
        flag_arr = flags if flags is not None else np.zeros(0, np.bool_)
        row = 0
        while row < len(hashes):
            if self._room() <= 0:
                self._grow()
            row, inserted = _count(self._table, self._stride, hashes, flag_arr, row, self._room())
            self.size += inserted

    def merge(self, other: KeyTable) -> None:
        """Add another table's counts (the tables of the parts of one file)."""
        while self._room() < other.size:
            self._grow()
        self.size += _add_table(self._table, other._table, self._stride)

    def contains(self, hashes: U64) -> npt.NDArray[np.bool_]:
        out = np.empty(len(hashes), np.bool_)
        _contains(self._table, self._stride, hashes, out)
        return out

    def result(self) -> tuple[U64, list[I64]]:
        """Distinct keys (unordered) and their counts, one array per count column."""
        rows = self._table.reshape(-1, self._stride)
        used = rows[rows[:, 0] != 0]
        return used[:, 0].copy(), [used[:, c].astype(np.int64) for c in range(1, self._stride)]


def _sorted_copy(arrays: list[U64]) -> U64:
    """The hashes sorted, in Arrow's pool: memory the parser already got from the OS, not fresh pages."""
    total = sum(len(a) for a in arrays)
    ordered = np.frombuffer(pa.allocate_buffer(max(total, 1) * 8), dtype=np.uint64)[:total]
    at = 0
    for a in arrays:
        ordered[at : at + len(a)] = a
        at += len(a)
    ordered.sort()
    return ordered


def _repeated_values(runs: Sequence[U64], buckets: int = 64) -> tuple[int, U64]:
    """(values equal to an earlier one, the repeated values sorted) over sorted runs. Hashes are uniform, so
    their top bits cut every run into buckets of about equal size: each bucket's slices are merged by a
    cache-sized sort, the buckets side by side (numpy's sort frees the GIL)."""
    edges = np.arange(1, buckets, dtype=np.uint64) << np.uint64(64 - (buckets - 1).bit_length())
    bounds = [np.concatenate(([0], np.searchsorted(run, edges), [len(run)])) for run in runs]

    def bucket(b: int) -> tuple[int, U64]:
        values = np.concatenate([run[bd[b] : bd[b + 1]] for run, bd in zip(runs, bounds, strict=True)])
        values.sort()
        repeat = values[1:] == values[:-1]
        count = int(np.count_nonzero(repeat))
        return count, np.unique(values[1:][repeat]) if count else np.zeros(0, np.uint64)

    with ThreadPoolExecutor(os.cpu_count() or 1, thread_name_prefix="validate-dups") as pool:
        found = list(pool.map(bucket, range(buckets)))
    return sum(c for c, _ in found), np.concatenate([k for _, k in found])


class DuplicateFinder:
    """Finds rows whose 64-bit row hash repeats an earlier row's, over the parts of a file read side by side.

    Each part's hashes are kept in file order (8 bytes a row) up to `spill_at` rows in all, then spilled with
    their record numbers to 16 partition files on disk, so memory stays bounded however long the file is.
    Finding repeats is one vectorised sort (per partition once spilled). Records are numbered within their
    part; `finish` gets each part's first record number."""

    _PARTS = 16
    _PAIR = np.dtype([("h", "<u8"), ("r", "<i8")])
    _PART_SHIFT = 40  # a spilled record is part << 40 | record within the part

    def __init__(self, spill_at: int = 16 << 20) -> None:
        self._spill_at = spill_at
        self._buffers: dict[int, list[U64]] = {}  # part -> buffers in file order
        self._filled: dict[int, int] = {}  # part -> rows in its last buffer
        self._spilled_rows: dict[int, int] = {}  # part -> rows already spilled
        self._held = 0
        self._sorted: dict[int, U64] = {}  # part -> a sorted copy of its hashes, once the part is done
        self._dir: tempfile.TemporaryDirectory[str] | None = None
        self._lock = threading.Lock()

    def add(self, hashes: U64, first_record: int, part: int = 0) -> None:
        with self._lock:
            held_before = self._spilled_rows.get(part, 0) + self._rows_held(part)
            if first_record != held_before:
                raise ValueError(f"part {part}: rows must be added in order (expected {held_before})")
            self._append(part, hashes)
            self._held += len(hashes)
            if self._held >= self._spill_at:
                self._spill()

    def _rows_held(self, part: int) -> int:
        bufs = self._buffers.get(part, [])
        return sum(len(b) for b in bufs[:-1]) + self._filled.get(part, 0)

    def _append(self, part: int, hashes: U64) -> None:
        bufs = self._buffers.setdefault(part, [])
        done = 0
        while done < len(hashes):
            if not bufs or self._filled[part] == len(bufs[-1]):
                # untouched pages cost nothing: reserve generously, the OS maps what gets written
                bufs.append(np.empty(max(self._spill_at, len(hashes)), np.uint64))
                self._filled[part] = 0
            buf, at = bufs[-1], self._filled[part]
            take = min(len(hashes) - done, len(buf) - at)
            buf[at : at + take] = hashes[done : done + take]
            self._filled[part] = at + take
            done += take

    def seal(self, part: int) -> None:
        """The part has all its rows: sort a copy of its hashes now, in the part's own thread (beside the
        parts still reading), so that finishing is one merge of sorted runs."""
        with self._lock:
            if self._dir is not None:  # spilled: finish sorts partition files instead
                return
            arrays = self._held_arrays(part)
        self._sorted[part] = _sorted_copy(arrays)

    def _held_arrays(self, part: int) -> list[U64]:
        bufs = self._buffers.get(part, [])
        return [*bufs[:-1], bufs[-1][: self._filled[part]]] if bufs else []

    def _spill(self) -> None:
        if self._dir is None:
            self._dir = tempfile.TemporaryDirectory(prefix="bp-validate-")
        for part in sorted(self._buffers):
            arrays = self._held_arrays(part)
            if not arrays:
                continue
            hashes = np.concatenate(arrays)
            first = self._spilled_rows.get(part, 0)
            records = (np.int64(part) << np.int64(self._PART_SHIFT)) + np.arange(
                first, first + len(hashes), dtype=np.int64
            )
            bucket = (hashes >> np.uint64(60)).astype(np.intp)
            order = np.argsort(bucket, kind="stable")
            bounds = np.searchsorted(bucket[order], np.arange(self._PARTS + 1))
            for p in range(self._PARTS):
                sel = order[bounds[p] : bounds[p + 1]]
                pairs = np.empty(len(sel), dtype=self._PAIR)
                pairs["h"] = hashes[sel]
                pairs["r"] = records[sel]
                with (Path(self._dir.name) / f"{p}.bin").open("ab") as fh:
                    fh.write(pairs.tobytes())
            self._spilled_rows[part] = first + len(hashes)
        self._buffers, self._filled, self._held = {}, {}, 0

    def finish(self, max_examples: int, offsets: Sequence[int] = (0,)) -> tuple[int, list[tuple[int, int]]]:
        """(number of rows repeating an earlier row, first examples as (record, record it repeats)), with
        record numbers of the whole file: part k's records start at offsets[k]."""
        try:
            if self._dir is None:
                return self._finish_in_memory(max_examples, offsets)
            return self._finish_spilled(max_examples, offsets)
        finally:
            if self._dir is not None:
                self._dir.cleanup()
                self._dir = None
            self._buffers, self._filled, self._sorted = {}, {}, {}

    def _finish_in_memory(
        self, max_examples: int, offsets: Sequence[int]
    ) -> tuple[int, list[tuple[int, int]]]:
        parts = [(offsets[part], self._held_arrays(part)) for part in sorted(self._buffers)]
        total = sum(len(a) for _, arrays in parts for a in arrays)
        if not total:
            return 0, []
        sealed = [self._sorted.get(part) for part in sorted(self._buffers)]
        runs = tuple(
            run if run is not None else _sorted_copy(arrays)
            for run, (_, arrays) in zip(sealed, parts, strict=True)
        )
        count, keys = _repeated_values(runs)
        self._sorted = {}
        if not count:
            return 0, []
        firsts: dict[int, int] = {}
        examples: list[tuple[int, int]] = []
        for offset, arrays in parts:  # in file order, so the first occurrence is met first
            record = offset
            for array in arrays:
                for lo in range(0, len(array), 1 << 20):
                    hashes = array[lo : lo + (1 << 20)]
                    pos = np.minimum(np.searchsorted(keys, hashes), len(keys) - 1)
                    for j in np.flatnonzero(keys[pos] == hashes):
                        key = int(hashes[j])
                        if key in firsts:
                            examples.append((record + lo + int(j), firsts[key]))
                            if len(examples) >= max_examples:
                                return count, examples
                        else:
                            firsts[key] = record + lo + int(j)
                record += len(array)
        return count, examples

    def _finish_spilled(self, max_examples: int, offsets: Sequence[int]) -> tuple[int, list[tuple[int, int]]]:
        if self._buffers:
            self._spill()
        assert self._dir is not None
        mask = np.int64((1 << self._PART_SHIFT) - 1)
        starts = np.asarray(offsets, dtype=np.int64)
        count = 0
        examples: list[tuple[int, int]] = []
        for p in range(self._PARTS):
            path = Path(self._dir.name) / f"{p}.bin"
            if not path.exists():
                continue
            pairs = np.fromfile(path, dtype=self._PAIR)
            pairs["r"] = starts[pairs["r"] >> np.int64(self._PART_SHIFT)] + (pairs["r"] & mask)
            pairs.sort(order=["h", "r"])
            h, r = pairs["h"], pairs["r"]
            first = np.r_[True, h[1:] != h[:-1]]
            count += int(np.count_nonzero(~first))
            origin = np.maximum.accumulate(np.where(first, np.arange(len(h)), 0))
            later = np.flatnonzero(~first)
            later = later[np.argsort(r[later], kind="stable")[:max_examples]]
            examples.extend((int(r[i]), int(r[origin[i]])) for i in later)
        examples.sort()
        return count, examples[:max_examples]
