"""The catalog as one compact file: item rows in popularity order plus a sorted id index, read by mmap.

Written by `make import` (pipeline.lifecycle.importing) from the items and interactions files; read by the
API, which downloads it to local disk and maps it, so a cold start costs a header read and memory grows only
with the pages a request touches (a 1,000,000-item catalog opens in milliseconds).

Layout (little-endian)::

    b"BRZCAT02"  u32 header length  header (JSON: count, columns)  padding to 8
    u64 offsets[count + 1]     record i spans offsets[i]..offsets[i+1] of the records area
    u32 by_id[count]           record numbers ordered by item id (UTF-8 bytes)   padding to 8
    u64 id_offsets[count + 1]  the k-th smallest id spans id_offsets[k]..id_offsets[k+1] of the ids area
    ids                        the item ids in id order, UTF-8, back to back     padding to 8
    records                    UTF-8 fields joined by 0x1F, in the header's column order; ITEM_ID first

A lookup is a binary search over the compact ids area (about 13 MB for a million ids) and one record read,
so the pages a cold start touches stay few.

Record order is popularity order (most interactions first, then item id), so record number = rank: the
fallback list is the records in order, and `/rankings` sorts its items by it.
"""

from __future__ import annotations

import json
import mmap
import os
import struct
import sys
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from chalicelib.errors import CatalogError

__all__ = [
    "CatalogColumn",
    "CatalogFile",
    "columns_from_schema",
    "open_catalog",
    "write_catalog",
    "write_catalog_from_csv",
]

MAGIC = b"BRZCAT02"
ID_COLUMN = "ITEM_ID"
_SEP = b"\x1f"
_SEP_TEXT = "\x1f"


@dataclass(frozen=True)
class CatalogColumn:
    """A column kept in the artifact and how filters compare it (from the items schema)."""

    name: str
    numeric: bool = False
    categorical: bool = False


def _pad(n: int) -> int:
    return (8 - n % 8) % 8


def write_catalog(
    target: IO[bytes],
    columns: Iterable[CatalogColumn],
    rows: Iterable[Mapping[str, str]],
    popularity: Mapping[str, int],
) -> int:
    """Write the artifact for `rows` (column name -> text; ITEM_ID required) to `target`; returns the count.

    Rows without an ITEM_ID are skipped; a repeated id keeps its last row (a later line wins, as in an
    import). Popularity orders the records (most first, ties by id).
    """
    kept = [c for c in columns if c.name != ID_COLUMN]
    names = [ID_COLUMN, *(c.name for c in kept)]
    by_id: dict[str, bytes] = {}
    for row in rows:
        item_id = (row.get(ID_COLUMN) or "").strip()
        if not item_id:
            continue
        fields = [item_id, *((row.get(name) or "").strip() for name in names[1:])]
        by_id[item_id] = _SEP_TEXT.join(f.replace(_SEP_TEXT, " ") for f in fields).encode("utf-8")
    order = sorted(by_id, key=lambda i: (-popularity.get(i, 0), i))
    header = json.dumps(
        {
            "count": len(order),
            "columns": [{"name": ID_COLUMN}]
            + [{"name": c.name, "numeric": c.numeric, "categorical": c.categorical} for c in kept],
        }
    ).encode("utf-8")
    head = MAGIC + struct.pack("<I", len(header)) + header
    target.write(head + b"\0" * _pad(len(head)))
    offsets = [0]
    for item_id in order:
        offsets.append(offsets[-1] + len(by_id[item_id]))
    target.write(struct.pack(f"<{len(offsets)}Q", *offsets))
    rank = {item_id: n for n, item_id in enumerate(order)}
    encoded = sorted(i.encode("utf-8") for i in order)
    index = struct.pack(f"<{len(order)}I", *(rank[i.decode("utf-8")] for i in encoded))
    target.write(index + b"\0" * _pad(len(index)))
    id_offsets = [0]
    for item_id_bytes in encoded:
        id_offsets.append(id_offsets[-1] + len(item_id_bytes))
    target.write(struct.pack(f"<{len(id_offsets)}Q", *id_offsets))
    ids = b"".join(encoded)
    target.write(ids + b"\0" * _pad(len(ids)))
    for item_id in order:
        target.write(by_id[item_id])
    return len(order)


def columns_from_schema(schema: Mapping[str, Any]) -> list[CatalogColumn]:
    """The items schema's fields a filter can read (textual fields cannot be filtered: left out)."""
    from personalize_rules.filter_expression import field_types  # writing only: not on the API's path

    return [
        CatalogColumn(t.name, t.numeric, t.categorical) for t in field_types(schema).values() if not t.textual
    ]


def write_catalog_from_csv(
    target: IO[bytes], lines: Iterable[str], schema: Mapping[str, Any], popularity: Mapping[str, int]
) -> int:
    """The artifact from an items dataset CSV (header = the schema's field names) and interaction counts."""
    import csv  # writing only: not on the API's path

    return write_catalog(target, columns_from_schema(schema), csv.DictReader(lines), popularity)


class CatalogFile:
    """A mapped artifact: look items up by id, read their rank, walk them in popularity order."""

    def __init__(self, path: Path, source: str) -> None:
        self.source = source
        with path.open("rb") as handle:
            size = os.fstat(handle.fileno()).st_size
            if size < len(MAGIC) + 4:
                raise CatalogError(source, "too short to be a catalog artifact")
            self._map = mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ)
        if hasattr(mmap, "MADV_RANDOM"):
            # Lookups jump around the file: no read-ahead, so memory grows only with the pages read.
            self._map.madvise(mmap.MADV_RANDOM)
        if self._map[: len(MAGIC)] != MAGIC:
            raise CatalogError(source, f"not a catalog artifact (expected {MAGIC!r} first)")
        if sys.byteorder != "little":  # the arrays are read in place as native words
            raise CatalogError(source, "catalog artifacts are read on little-endian machines only")
        (length,) = struct.unpack_from("<I", self._map, len(MAGIC))
        start = len(MAGIC) + 4
        try:
            header = json.loads(bytes(self._map[start : start + length]))
            self.count = int(header["count"])
            self.columns = [
                CatalogColumn(str(c["name"]), bool(c.get("numeric")), bool(c.get("categorical")))
                for c in header["columns"]
            ]
        except (ValueError, KeyError, TypeError) as exc:
            raise CatalogError(source, f"unreadable header: {exc}") from exc
        position = start + length + _pad(start + length)
        view = self._view = memoryview(self._map)
        self._offsets = view[position : position + 8 * (self.count + 1)].cast("Q")
        position += 8 * (self.count + 1)
        self._by_id = view[position : position + 4 * self.count].cast("I")
        position += 4 * self.count + _pad(4 * self.count)
        self._id_offsets = view[position : position + 8 * (self.count + 1)].cast("Q")
        position += 8 * (self.count + 1)
        self._ids = position
        ids_length = self._id_offsets[self.count] if self.count else 0
        self._records = position + ids_length + _pad(ids_length)
        if self._records + (self._offsets[self.count] if self.count else 0) > size:
            raise CatalogError(source, "truncated: the records end past the end of the file")
        self._column_index = {c.name: n for n, c in enumerate(self.columns)}

    def __len__(self) -> int:
        return self.count

    def _record(self, number: int) -> bytes:
        return self._map[self._records + self._offsets[number] : self._records + self._offsets[number + 1]]

    def _sorted_id(self, k: int) -> bytes:
        return self._map[self._ids + self._id_offsets[k] : self._ids + self._id_offsets[k + 1]]

    def rank(self, item_id: str) -> int | None:
        """The item's record number (0 = most popular), or None when the catalog does not hold it."""
        wanted = item_id.encode("utf-8", "surrogateescape")
        low, high = 0, self.count
        while low < high:
            mid = (low + high) // 2
            if self._sorted_id(mid) < wanted:
                low = mid + 1
            else:
                high = mid
        if low < self.count and self._sorted_id(low) == wanted:
            return int(self._by_id[low])
        return None

    def row(self, number: int) -> dict[str, str]:
        """Record `number` as column name -> text."""
        fields = self._record(number).decode("utf-8").split(_SEP_TEXT)
        return dict(zip((c.name for c in self.columns), fields, strict=False))

    def get(self, item_id: str) -> dict[str, str] | None:
        number = self.rank(item_id)
        return None if number is None else self.row(number)

    def in_popularity_order(self, start: int = 0) -> Iterator[tuple[int, dict[str, str]]]:
        for number in range(start, self.count):
            yield number, self.row(number)

    def close(self) -> None:
        self._offsets.release()
        self._by_id.release()
        self._id_offsets.release()
        self._view.release()
        self._map.close()

    def describe(self) -> dict[str, Any]:
        return {"items": self.count, "columns": [c.name for c in self.columns]}


def open_catalog(path: Path, source: str = "") -> CatalogFile:
    """Map the artifact at `path`; `source` names it in errors (its S3 key)."""
    return CatalogFile(path, source or str(path))
