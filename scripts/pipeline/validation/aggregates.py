"""Bounded-memory accumulators: per-key counts merged across batches, and exact-duplicate row detection."""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pyarrow as pa

__all__ = ["DuplicateFinder", "KeyCounter"]

U64 = npt.NDArray[np.uint64]
I64 = npt.NDArray[np.int64]


class KeyCounter:
    """Sums counts per 64-bit key over batches; memory grows with distinct keys only."""

    def __init__(self, columns: int = 1) -> None:
        self._columns = columns
        self._keys: list[U64] = []
        self._counts: list[list[I64]] = [[] for _ in range(columns)]
        self._pending = 0
        self._merged = 0

    def add(self, keys: U64, *counts: I64) -> None:
        self._keys.append(keys)
        for i in range(self._columns):
            self._counts[i].append(counts[i].astype(np.int64, copy=False))
        self._pending += len(keys)
        if self._pending > max(1 << 18, 2 * self._merged):  # compact while Arrow parses ahead
            self._compact()

    def _compact(self) -> None:
        if len(self._keys) <= 1:
            return
        if not self._columns:  # distinct keys only
            keys = np.concatenate(self._keys)
            keys.sort()  # sort-based: numpy's hash-based unique is slow on random 64-bit keys
            self._keys = [keys[np.r_[True, keys[1:] != keys[:-1]]]]
            self._merged = self._pending = len(self._keys[0])
            return
        table = pa.table(
            {"k": np.concatenate(self._keys)}
            | {f"c{i}": np.concatenate(self._counts[i]) for i in range(self._columns)}
        )
        grouped = table.group_by("k", use_threads=False).aggregate(
            [(f"c{i}", "sum") for i in range(self._columns)]
        )
        self._keys = [grouped.column("k").to_numpy()]
        self._counts = [[grouped.column(f"c{i}_sum").to_numpy()] for i in range(self._columns)]
        self._merged = len(self._keys[0])
        self._pending = self._merged

    def result(self) -> tuple[U64, list[I64]]:
        """Distinct keys (unordered) and their summed counts, one array per count column."""
        if not self._keys:
            return np.zeros(0, np.uint64), [np.zeros(0, np.int64) for _ in range(self._columns)]
        self._compact()
        return self._keys[0], [c[0] for c in self._counts]


class DuplicateFinder:
    """Finds rows whose 64-bit row hash repeats an earlier row's.

    Hashes are held in memory (8 bytes a row) up to `spill_at` rows, then spilled with their record numbers
    to 16 partition files on disk, so memory stays bounded however long the file is. Finding repeats is
    one vectorised sort (per partition once spilled)."""

    _PARTS = 16
    _PAIR = np.dtype([("h", "<u8"), ("r", "<i8")])

    def __init__(self, spill_at: int = 16 << 20) -> None:
        self._spill_at = spill_at
        self._chunks: list[tuple[int, U64]] = []
        self._held = 0
        self._dir: tempfile.TemporaryDirectory[str] | None = None

    def add(self, hashes: U64, first_record: int) -> None:
        self._chunks.append((first_record, hashes))
        self._held += len(hashes)
        if self._held >= self._spill_at:
            self._spill()

    def _spill(self) -> None:
        if self._dir is None:
            self._dir = tempfile.TemporaryDirectory(prefix="bp-validate-")
        hashes = np.concatenate([h for _, h in self._chunks])
        records = np.concatenate([np.arange(s, s + len(h), dtype=np.int64) for s, h in self._chunks])
        part = (hashes >> np.uint64(60)).astype(np.intp)
        order = np.argsort(part, kind="stable")
        bounds = np.searchsorted(part[order], np.arange(self._PARTS + 1))
        for p in range(self._PARTS):
            sel = order[bounds[p] : bounds[p + 1]]
            pairs = np.empty(len(sel), dtype=self._PAIR)
            pairs["h"] = hashes[sel]
            pairs["r"] = records[sel]
            with (Path(self._dir.name) / f"{p}.bin").open("ab") as fh:
                fh.write(pairs.tobytes())
        self._chunks, self._held = [], 0

    def finish(self, max_examples: int) -> tuple[int, list[tuple[int, int]]]:
        """(number of rows repeating an earlier row, first examples as (record, record it repeats))."""
        try:
            if self._dir is None:
                return self._finish_in_memory(max_examples)
            return self._finish_spilled(max_examples)
        finally:
            if self._dir is not None:
                self._dir.cleanup()
                self._dir = None
            self._chunks = []

    def _finish_in_memory(self, max_examples: int) -> tuple[int, list[tuple[int, int]]]:
        if not self._chunks:
            return 0, []
        ordered = np.concatenate([h for _, h in self._chunks])
        ordered.sort()  # in place: no second copy of every row hash
        repeat = ordered[1:] == ordered[:-1]
        count = int(np.count_nonzero(repeat))
        if not count:
            return 0, []
        keys = np.unique(ordered[1:][repeat])
        firsts: dict[int, int] = {}
        examples: list[tuple[int, int]] = []
        for start, hashes in self._chunks:  # in file order, so the first occurrence is met first
            pos = np.minimum(np.searchsorted(keys, hashes), len(keys) - 1)
            for j in np.flatnonzero(keys[pos] == hashes):
                key = int(hashes[j])
                if key in firsts:
                    examples.append((start + int(j), firsts[key]))
                    if len(examples) >= max_examples:
                        return count, examples
                else:
                    firsts[key] = start + int(j)
        return count, examples

    def _finish_spilled(self, max_examples: int) -> tuple[int, list[tuple[int, int]]]:
        if self._chunks:
            self._spill()
        assert self._dir is not None
        count = 0
        examples: list[tuple[int, int]] = []
        for p in range(self._PARTS):
            path = Path(self._dir.name) / f"{p}.bin"
            if not path.exists():
                continue
            pairs = np.fromfile(path, dtype=self._PAIR)
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
