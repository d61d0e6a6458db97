"""64-bit hashes of Arrow strings and rows, so distinct users/items and duplicate rows can be counted across
batches without keeping the strings (memory grows with distinct keys, not rows).

The loops are compiled with numba: in numpy every arithmetic step is a pass over the batch with its own
temporary array, which made hashing cost more than parsing. Compiled loops also release the GIL, so the
parts of a file are checked side by side. Hashes are never 0 (the key tables use 0 for "empty")."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numba
import numpy as np
import numpy.typing as npt
import pyarrow as pa

__all__ = [
    "HashedColumn",
    "Scratch",
    "combine",
    "combine_masked",
    "hash_column",
    "hash_strings",
    "mix",
]

U64 = npt.NDArray[np.uint64]

_K1 = np.uint64(0x9E3779B97F4A7C15)
_K2 = np.uint64(0xBF58476D1CE4E5B9)
_K3 = np.uint64(0x94D049BB133111EB)
_ALL = np.uint64(0xFFFFFFFFFFFFFFFF)
_QUOTES = np.uint64(0x2222222222222222)
_LOW_BITS = np.uint64(0x0101010101010101)
_HIGH_BITS = np.uint64(0x8080808080808080)
_jit = numba.njit(nogil=True, cache=True)


@_jit
def _mix(h: Any) -> Any:
    h ^= h >> np.uint64(30)
    h *= _K2
    h ^= h >> np.uint64(27)
    h *= _K3
    h ^= h >> np.uint64(31)
    return h if h != 0 else _K1


@_jit
def _hash_column(offsets: Any, words: Any, bitmap: Any, bit_offset: int, out: Any) -> Any:
    """out[r] = hash of value r: its bytes read 8 at a time from `words` (the data buffer, 8-aligned and
    padded), masked to the value's length; a null (bit clear in `bitmap`) hashes like the empty string.
    Returns the longest value's byte length and whether any value holds a double quote."""
    check_nulls = bitmap.shape[0] > 0
    base = np.int64(offsets[0])
    longest = np.int64(0)
    quote = np.uint64(0)
    for r in range(out.shape[0]):
        a = np.int64(offsets[r]) - base
        b = np.int64(offsets[r + 1]) - base
        if check_nulls:
            bit = r + bit_offset
            if not (bitmap[bit >> 3] >> (bit & 7)) & 1:
                b = a
        h = np.uint64(b - a + 1) * _K1
        p = a
        while p < b:
            i = p >> 3
            shift = np.uint64((p & 7) * 8)
            # two aligned words -> the 8 bytes from p (a double shift, so shift 0 adds nothing)
            w = (words[i] >> shift) | ((words[i + 1] << np.uint64(1)) << (np.uint64(63) - shift))
            rem = min(b - p, np.int64(8))
            w &= _ALL >> np.uint64(64 - 8 * rem)
            x = w ^ _QUOTES  # a zero byte where w has '"' (masked-off bytes become 0x22, never zero)
            quote |= (x - _LOW_BITS) & ~x & _HIGH_BITS
            h = (h ^ w) * _K2
            h ^= h >> np.uint64(29)
            p += 8
        longest = max(longest, b - a)
        out[r] = _mix(h)
    return longest, quote != 0


@_jit
def _fold(h: Any, other: Any, spread: bool) -> None:
    for r in range(h.shape[0]):
        v = np.uint64(other[r])
        if spread:
            v *= _K3
        x = (h[r] ^ v) * _K1
        h[r] = x ^ (x >> np.uint64(32))


@_jit
def _fold_masked(h: Any, other: Any, bitmap: Any, bit_offset: int, missing: Any, spread: bool) -> None:
    """`_fold` of a column with nulls: a null (bit clear in `bitmap`) folds the pattern `missing`."""
    for r in range(h.shape[0]):
        bit = r + bit_offset
        v = np.uint64(other[r]) if (bitmap[bit >> 3] >> (bit & 7)) & 1 else missing
        if spread:
            v *= _K3
        x = (h[r] ^ v) * _K1
        h[r] = x ^ (x >> np.uint64(32))


@_jit
def _mix_all(h: Any) -> None:
    for r in range(h.shape[0]):
        h[r] = _mix(h[r])


class Scratch:
    """Arrays reused from batch to batch by one thread: fresh pages for every batch's temporaries were a
    measurable share of the validator's time (each first touch is a page fault)."""

    def __init__(self) -> None:
        self._arrays: dict[str, npt.NDArray[Any]] = {}

    def get(self, name: str, size: int, dtype: type[np.generic]) -> npt.NDArray[Any]:
        """An uninitialised array of `size` elements, valid until the next `get` of the same name."""
        array = self._arrays.get(name)
        if array is None or len(array) < size or array.dtype != dtype:
            array = np.empty(size + size // 4, dtype)
            self._arrays[name] = array
        return array[:size]


@dataclass(frozen=True)
class HashedColumn:
    """A string column's per-row hashes, plus what the same pass learnt for the column's checks."""

    hashes: U64
    longest: int  # bytes of the longest value
    has_quote: bool  # some value holds a double quote


def hash_strings(array: pa.Array) -> U64:
    """One uint64 per value of a string/binary array (nulls hash like the empty string)."""
    return hash_column(array).hashes


def hash_column(array: pa.Array, scratch: Scratch | None = None, name: str = "") -> HashedColumn:
    """`hash_strings` with the column's longest value and quote flag. With `scratch`, the hashes live in
    its array `name` (overwritten by the next call with that name)."""
    n = len(array)
    out = scratch.get(f"hash:{name}", n, np.uint64) if scratch is not None else np.empty(n, np.uint64)
    if n == 0:
        return HashedColumn(out, 0, False)
    wide = pa.types.is_large_string(array.type) or pa.types.is_large_binary(array.type)
    width = 8 if wide else 4
    buffers = array.buffers()
    offsets = np.frombuffer(
        buffers[1], dtype=np.int64 if wide else np.int32, count=n + 1, offset=array.offset * width
    )
    start, end = int(offsets[0]), int(offsets[-1])
    # +1 word read past the end, +1 rounding; bytes past a value's end are masked off, so no zeroing
    size = (end - start) // 8 + 2
    words = scratch.get("words", size, np.uint64) if scratch is not None else np.empty(size, np.uint64)
    if end > start and buffers[2] is not None:
        data = np.frombuffer(buffers[2], np.uint8, count=end - start, offset=start)
        words.view(np.uint8)[: end - start] = data
    has_nulls = buffers[0] is not None and array.null_count > 0
    bitmap = np.frombuffer(buffers[0], np.uint8) if has_nulls else np.zeros(0, np.uint8)
    longest, has_quote = _hash_column(offsets, words, bitmap, array.offset, out)
    return HashedColumn(out, int(longest), bool(has_quote))


def mix(h: U64) -> U64:
    """Finish a row hash built with `combine` (splitmix64 finaliser, in place)."""
    _mix_all(h)
    return h


def combine(h: U64, other: npt.NDArray[np.unsignedinteger]) -> U64:
    """Fold another per-row value into a row hash, in place (finish the chain with `mix`).

    `other` is either already a 64-bit hash or a raw numeric bit pattern; narrower patterns are spread over
    all 64 bits by an odd multiplication (a bijection), so rows differing in one column never collide."""
    _fold(h, other, other.dtype != np.uint64)
    return h


def combine_masked(
    h: U64, other: npt.NDArray[np.unsignedinteger], validity: pa.Buffer, offset: int, missing: int
) -> U64:
    """`combine` for a column with nulls, without filling them first: null rows fold `missing` (a bit
    pattern no value of the column has)."""
    bitmap = np.frombuffer(validity, np.uint8)
    _fold_masked(h, other, bitmap, offset, np.uint64(missing), other.dtype != np.uint64)
    return h
