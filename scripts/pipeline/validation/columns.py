"""Vectorised helpers over Arrow columns used by the file validator."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from pipeline.validation.hashing import combine, combine_masked, missing_bits

__all__ = ["distribution", "escaped", "fold_numeric", "iso", "parse_or_none"]

# A backslash somewhere before a quote: what Arrow (like any RFC 4180 reader) leaves of \\" escapes.
_BACKSLASH_QUOTE = r'\\.*"'
_QUOTE = ord('"')


def escaped(values: pa.Array) -> pa.BooleanArray | None:
    """Which values look backslash-escaped (None: no value holds a quote). A byte scan of the data buffer
    first, the regex only when it finds a quote."""
    if len(values) == 0 or values.buffers()[2] is None:
        return None
    offsets = np.frombuffer(values.buffers()[1], np.int32, count=len(values) + 1, offset=values.offset * 4)
    start, end = int(offsets[0]), int(offsets[-1])
    data = np.frombuffer(values.buffers()[2], np.uint8, count=end - start, offset=start)
    if not np.any(data == _QUOTE):
        return None
    return pc.match_substring_regex(values, _BACKSLASH_QUOTE)


def fold_numeric(h: npt.NDArray[np.uint64], col: pa.Array) -> None:
    """Fold a numeric/boolean column's raw bits into row hashes (zero-copy); a null folds a pattern no CSV
    value produces (a NaN payload / the minimum integer / 2 for booleans), so it differs from every value."""
    if pa.types.is_boolean(col.type):
        combine(
            h, np.asarray(col.cast(pa.int8()).fill_null(2).to_numpy(zero_copy_only=False), dtype=np.uint8)
        )
        return
    width = col.type.bit_width // 8
    bits = np.frombuffer(col.buffers()[1], dtype=f"<u{width}", count=len(col), offset=col.offset * width)
    if col.null_count:
        combine_masked(h, bits, col.buffers()[0], col.offset, missing_bits(col.type))
    else:
        combine(h, bits)


def parse_or_none(value: str | None, avro_type: str) -> float | int | None:
    if value is None:
        return None
    try:
        number = float(value) if avro_type in ("float", "double") else int(value)
    except ValueError:
        return None
    if isinstance(number, int) and not -(2**63) <= number < 2**63:
        return None
    return number


def iso(seconds: float) -> str:
    try:
        return datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    except (OverflowError, OSError, ValueError):
        return "out of range"


def distribution(counts: npt.NDArray[np.int64]) -> dict[str, Any]:
    if len(counts) == 0:
        return {"users": 0}
    p = np.percentile(counts, [25, 50, 75, 90, 99])
    with_two = int(np.count_nonzero(counts >= 2))
    return {
        "users": len(counts),
        "min": int(counts.min()),
        "p25": round(float(p[0]), 2),
        "median": round(float(p[1]), 2),
        "p75": round(float(p[2]), 2),
        "p90": round(float(p[3]), 2),
        "p99": round(float(p[4]), 2),
        "max": int(counts.max()),
        "mean": round(float(counts.mean()), 3),
        "users_with_1": int(np.count_nonzero(counts == 1)),
        "users_with_2_or_more": with_two,
        "share_with_2_or_more": round(with_two / len(counts), 4),
    }
