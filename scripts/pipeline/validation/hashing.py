"""Vectorised 64-bit hashes of Arrow strings and rows, so distinct users/items and duplicate rows can be
counted across batches without keeping the strings (memory grows with distinct keys, not rows)."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

__all__ = ["MAX_HASHED_BYTES", "combine", "hash_strings", "mix", "spread_numeric"]

U64 = npt.NDArray[np.uint64]

# Longer values hash their first bytes plus their length; only IDs and short strings are hashed in practice.
MAX_HASHED_BYTES = 512
_K1 = np.uint64(0x9E3779B97F4A7C15)
_K2 = np.uint64(0xBF58476D1CE4E5B9)
_K3 = np.uint64(0x94D049BB133111EB)


def mix(h: U64) -> U64:
    """splitmix64 finaliser (in place)."""
    h ^= h >> np.uint64(30)
    h *= _K2
    h ^= h >> np.uint64(27)
    h *= _K3
    h ^= h >> np.uint64(31)
    return h


def combine(h: U64, other: npt.NDArray[np.unsignedinteger]) -> U64:
    """Fold another per-row value into a row hash, in place (finish the chain with `mix`).

    `other` is either already a 64-bit hash or a raw numeric bit pattern; the latter is spread over all 64
    bits by an odd multiplication (a bijection), so rows differing in one column never collide there."""
    spread = np.multiply(other, _K3, dtype=np.uint64) if other.dtype != np.uint64 else other
    h ^= spread
    h *= _K1
    h ^= h >> np.uint64(32)
    return h


def spread_numeric(values: npt.NDArray[np.uint64]) -> U64:
    """A raw 64-bit numeric pattern made hash-like (odd multiplication: a bijection)."""
    return np.multiply(values, _K3, dtype=np.uint64)


def hash_strings(array: pa.Array) -> U64:
    """One uint64 per value of a string/binary array (nulls hash like the empty string)."""
    if pa.types.is_large_string(array.type) or pa.types.is_large_binary(array.type):
        array = array.cast(pa.binary())
    n = len(array)
    if n == 0:
        return np.zeros(0, dtype=np.uint64)
    buffers = array.buffers()
    offsets = np.frombuffer(buffers[1], dtype=np.int32, count=n + 1, offset=array.offset * 4)
    starts = offsets[:-1]
    lengths = np.diff(offsets)
    if buffers[0] is not None and array.null_count:
        valid = np.asarray(array.is_valid())
        lengths = np.where(valid, lengths, 0)
    h = (lengths.astype(np.uint64) + np.uint64(1)) * _K1
    widest = int(min(lengths.max(initial=0), MAX_HASHED_BYTES))
    if widest == 0 or buffers[2] is None:
        return mix(h)
    width = (widest + 7) // 8 * 8
    mat = _fixed_width_fast(array, width, n)
    if mat is None:
        data = np.frombuffer(buffers[2], dtype=np.uint8)
        cols = np.arange(width, dtype=np.int64)
        idx = starts.astype(np.int64)[:, None] + cols[None, :]
        np.minimum(idx, len(data) - 1, out=idx)
        mat = data[idx]
        mat[cols[None, :] >= lengths[:, None]] = 0
    words = mat.view("<u8")
    for j in range(words.shape[1]):
        # only words inside the value count, so a hash doesn't depend on the widest value in the batch
        step = (h ^ words[:, j]) * _K2
        step ^= step >> np.uint64(29)
        h = np.where(lengths > 8 * j, step, h)
    return mix(h)


def _fixed_width_fast(array: pa.Array, width: int, n: int) -> npt.NDArray[np.uint8] | None:
    """ASCII values padded by Arrow to one width are a (n, width) byte matrix without any gather."""
    if not pa.types.is_string(array.type) or width > MAX_HASHED_BYTES:
        return None
    padded = pc.utf8_rpad(array.fill_null("") if array.null_count else array, width=width, padding="\x00")
    bufs = padded.buffers()
    offsets = np.frombuffer(bufs[1], dtype=np.int32, count=n + 1, offset=padded.offset * 4)
    if int(offsets[-1] - offsets[0]) != n * width:  # some value is multi-byte or longer: not fixed width
        return None
    data = np.frombuffer(bufs[2], dtype=np.uint8, count=n * width, offset=int(offsets[0]))
    return data.reshape(n, width)
