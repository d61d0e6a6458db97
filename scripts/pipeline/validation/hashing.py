"""64-bit hashes of Arrow strings and rows, so distinct users/items and duplicate rows can be counted across
batches without keeping the strings (memory grows with distinct keys, not rows).

The loops are compiled with numba: in numpy every arithmetic step is a pass over the batch with its own
temporary array, which made hashing cost more than parsing. Compiled loops also release the GIL, so the
parts of a file are checked side by side. Hashes are never 0 (the key tables use 0 for "empty")."""

from __future__ import annotations

import sys
from dataclasses import dataclass
from typing import Any

import numba
import numpy as np
import numpy.typing as npt
import pyarrow as pa
from llvmlite import ir
from numba.core import types
from numba.core.extending import intrinsic
from numba.cpython.unsafe.numbers import trailing_zeros as _trailing_zeros

__all__ = [
    "HashedColumn",
    "PlainBatch",
    "PlainColumn",
    "PlainRecords",
    "Scratch",
    "combine",
    "combine_masked",
    "hash_column",
    "hash_strings",
    "missing_bits",
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
# helpers taking arrays are inlined by numba itself: called, each call counted references to the array
# (atomic increments) and cost more than the work
_inline = numba.njit(nogil=True, cache=True, inline="always")


@_jit
def _mix(h: Any) -> Any:
    h ^= h >> np.uint64(30)
    h *= _K2
    h ^= h >> np.uint64(27)
    h *= _K3
    h ^= h >> np.uint64(31)
    return h if h != 0 else _K1


@_jit
def _absorb(h: Any, w: Any) -> Any:
    """A string's hash so far, after 8 more of its bytes (little-endian; past its end, zero bytes)."""
    h = (h ^ w) * _K2
    return h ^ (h >> np.uint64(29))


@_jit
def _string_hash(h: Any, length: Any) -> Any:
    """A string's hash from its absorbed bytes (starting from _K1) and its length: the length comes last,
    so a reader that finds a value's end only by reaching it hashes as it goes."""
    return _mix(h ^ (np.uint64(length + 1) * _K3))


@_jit
def _fold_one(h: Any, v: Any) -> Any:
    x = (h ^ v) * _K1
    return x ^ (x >> np.uint64(32))


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
        h = _K1
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
            h = _absorb(h, w)
            p += 8
        longest = max(longest, b - a)
        out[r] = _string_hash(h, b - a)
    return longest, quote != 0


@_jit
def _fold(h: Any, other: Any, spread: bool) -> None:
    for r in range(h.shape[0]):
        v = np.uint64(other[r])
        if spread:
            v *= _K3
        h[r] = _fold_one(h[r], v)


@_jit
def _fold_masked(h: Any, other: Any, bitmap: Any, bit_offset: int, missing: Any, spread: bool) -> None:
    """`_fold` of a column with nulls: a null (bit clear in `bitmap`) folds the pattern `missing`."""
    for r in range(h.shape[0]):
        bit = r + bit_offset
        v = np.uint64(other[r]) if (bitmap[bit >> 3] >> (bit & 7)) & 1 else missing
        if spread:
            v *= _K3
        h[r] = _fold_one(h[r], v)


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


def missing_bits(dtype: pa.DataType) -> int:
    """The bit pattern a null numeric value folds into a row hash, one no CSV value produces: a NaN
    payload for floats, the minimum integer otherwise."""
    if pa.types.is_floating(dtype):
        return 0x7FC0_0123 if dtype.bit_width == 32 else 0x7FF8_0000_0000_0123
    return 1 << (dtype.bit_width - 1)


# ------------------------------------------------------------------------------------- plain records
# A plain record: one line of ASCII, LF or CRLF at its end, no quote but those around a string, every value
# as Arrow would convert it without complaint. Most records of most files are plain; hashing them straight
# from the bytes skips Arrow's parse and its per-column arrays. Anything else (or anything this reader is
# unsure of) stops it, and the caller hands those bytes to Arrow, so the two paths must agree on every hash:
# tests compare them.
_STRING, _LONG, _INT, _FLOAT, _DOUBLE = 0, 1, 2, 3, 4
_KINDS = {"string": _STRING, "long": _LONG, "int": _INT, "float": _FLOAT, "double": _DOUBLE}
# the bit pattern a null folds, per kind (none for strings: a null hashes like the empty string)
_MISSING = np.array(
    [0, *(missing_bits(t) for t in (pa.int64(), pa.int32(), pa.float32(), pa.float64()))], np.uint64
)
_POW10 = np.array([10.0**k for k in range(23)], np.float64)
# per kind, the largest mantissa and power of ten exact in its float type (float32: 2**24 and 10**10)
_EXACT_MANTISSA = np.array([0, 0, 0, 1 << 24, 1 << 53], np.int64)
_EXACT_SCALE = np.array([0, 0, 0, 10, 22], np.int64)
_COMMA, _LF, _CR, _MINUS, _DOT, _QUOTE = ord(","), ord("\n"), ord("\r"), ord("-"), ord("."), ord('"')
_COMMAS = np.uint64(0x2C2C2C2C2C2C2C2C)
_LFS = np.uint64(0x0A0A0A0A0A0A0A0A)
_CRS = np.uint64(0x0D0D0D0D0D0D0D0D)
_DIGIT_ZEROS = np.uint64(0x3030303030303030)
_DIGIT_OVER = np.uint64(0x7676767676767676)  # + a byte's distance from '0': the high bit set past '9'
_POW10_8 = np.array([10**k for k in range(9)], np.int64)


def _load8_intrinsic(typingctx: Any, data: Any, pos: Any) -> Any:
    """The 8 bytes of a uint8 array from `pos` as one little-endian word, at any alignment (the caller keeps
    pos + 8 within the array)."""
    if not (isinstance(data, types.Array) and data.dtype == types.uint8):
        return None
    signature = types.uint64(data, types.intp)

    def codegen(context: Any, builder: Any, sig: Any, args: Any) -> Any:
        array = context.make_array(sig.args[0])(context, builder, args[0])
        pointer = builder.bitcast(builder.gep(array.data, [args[1]]), ir.IntType(64).as_pointer())
        return builder.load(pointer, align=1)

    return signature, codegen


_load8: Any = intrinsic(_load8_intrinsic)
_tzcnt: Any = _trailing_zeros  # (typed loosely: numba intrinsics have no call signature for mypy)


@_inline
def _word(data: Any, pos: int, end: int) -> Any:
    """The 8 bytes from `pos`; past `end`, line feeds (which end any value)."""
    if pos + 8 <= end:
        return _load8(data, pos)
    w = np.uint64(0)
    for k in range(8):
        b = np.uint64(data[pos + k]) if pos + k < end else np.uint64(_LF)
        w |= b << np.uint64(8 * k)
    return w


@_jit
def _stop_bytes(w: Any, delimiters: Any) -> Any:
    """The high bit of every byte of `w` that ends a value (`delimiters`: commas, or quotes inside quotes),
    or that a plain value never holds (LF, CR, " and non-ASCII). Only the lowest is exact (a zero-byte test
    borrows into the bytes above), which is the one wanted."""
    c = w ^ delimiters
    n = w ^ _LFS
    r = w ^ _CRS
    q = w ^ _QUOTES
    zero = ((c - _LOW_BITS) & ~c) | ((n - _LOW_BITS) & ~n) | ((r - _LOW_BITS) & ~r) | ((q - _LOW_BITS) & ~q)
    return (zero | w) & _HIGH_BITS


@_jit
def _leading_digits(w: Any) -> Any:
    """How many of the bytes of `w`, from the first, are ASCII digits."""
    t = w ^ _DIGIT_ZEROS
    other = ((t + _DIGIT_OVER) | t) & _HIGH_BITS
    return np.int64(_tzcnt(other) >> 3) if other else 8


@_jit
def _digits_value(w: Any, n: int) -> Any:
    """The number written by the first n (1-8) bytes of `w`, all digits (8 digits at once, after Lemire)."""
    if n < 8:
        w <<= np.uint64(8 * (8 - n))  # drop the bytes after them; the zero bytes shifted in read as 0s
    w = ((w & np.uint64(0x0F0F0F0F0F0F0F0F)) * np.uint64(2561)) >> np.uint64(8)
    w = ((w & np.uint64(0x00FF00FF00FF00FF)) * np.uint64(6553601)) >> np.uint64(16)
    return np.int64(((w & np.uint64(0x0000FFFF0000FFFF)) * np.uint64(42949672960001)) >> np.uint64(32))


@_jit
def _plain_records(
    data: Any,
    pos: Any,
    end: int,
    kinds: Any,
    nullable: Any,
    low: Any,
    high: Any,
    slots: Any,
    time_column: int,
    hashes: Any,
    row_hashes: Any,
) -> tuple[int, int, bool, Any, Any]:
    """Read records from data[pos:end] (pos at a record's start) until `end` or `row_hashes` is full.
    String column c's hashes go to hashes[slots[c]], each record's row hash to row_hashes; numbers must be in
    [low[c], high[c]], strings at most high[c] bytes. Returns (offset after the last record read, records
    read, whether reading stopped at a record that isn't plain (it starts at that offset), min and max of
    the time column)."""
    ncols = kinds.shape[0]
    f32 = np.empty(1, np.float32)
    f32_bits = f32.view(np.uint32)
    f64 = np.empty(1, np.float64)
    f64_bits = f64.view(np.uint64)
    t_min = np.int64(0x7FFF_FFFF_FFFF_FFFF)
    t_max = np.int64(-0x7FFF_FFFF_FFFF_FFFF)
    row = 0
    while pos < end and row < row_hashes.shape[0]:
        record = pos
        rh = np.uint64(0)
        for c in range(ncols):
            kind = kinds[c]
            if kind == _STRING:
                w = _word(data, pos, end)
                # a quoted string is plain too when it holds no quote or line break ("a""b" isn't)
                quoted = (w & np.uint64(0xFF)) == np.uint64(_QUOTE)
                delimiters = _QUOTES if quoted else _COMMAS
                if quoted:
                    pos += 1
                    w = _word(data, pos, end)
                start = pos
                h = _K1
                while True:
                    stops = _stop_bytes(w, delimiters)
                    if stops:
                        k = np.int64(_tzcnt(stops) >> 3)  # bytes before the first stop
                        if k:
                            h = _absorb(h, w & (_ALL >> np.uint64(64 - 8 * k)))
                        pos += k
                        byte = np.int64((w >> np.uint64(8 * k)) & np.uint64(0xFF))
                        break
                    h = _absorb(h, w)
                    pos += 8
                    w = _word(data, pos, end)
                length = pos - start
                if quoted:
                    if byte != _QUOTE:
                        return record, row, True, t_min, t_max
                    pos += 1  # the closing quote; a quote right after it (a doubled one) ends the record
                    byte = np.int64(_word(data, pos, end) & np.uint64(0xFF))
                if (length == 0 and not nullable[c]) or length > high[c]:
                    return record, row, True, t_min, t_max
                v = _string_hash(h, length)
                hashes[slots[c], row] = v
            else:
                negative = pos < end and data[pos] == _MINUS
                pos += negative
                m = np.int64(0)  # all digits read, as one integer (meaningless past 18 digits)
                digits = 0
                decimals = -1  # digits after the dot; -1: no dot
                while True:  # the digits before the dot, then those after it
                    run = 0
                    while True:
                        w = _word(data, pos, end)
                        n = _leading_digits(w)
                        if n:
                            m = m * _POW10_8[n] + _digits_value(w, n)
                            run += n
                            pos += n
                        if n < 8 or run > 18:
                            break
                    byte = np.int64((w >> np.uint64(8 * n)) & np.uint64(0xFF)) if n < 8 else np.int64(0)
                    digits += run
                    if decimals == -2:
                        decimals = run
                        break
                    if byte != _DOT or kind < _FLOAT or digits == 0:
                        break
                    decimals = -2  # a dot: the fraction's digits next
                    pos += 1
                if digits == 0:
                    if negative or not nullable[c]:
                        return record, row, True, t_min, t_max
                    v = _MISSING[kind]
                elif digits > 18 or decimals == 0:
                    return record, row, True, t_min, t_max
                elif kind in (_LONG, _INT):
                    value = -m if negative else m
                    if value < low[c] or value > high[c]:
                        return record, row, True, t_min, t_max
                    if c == time_column:
                        t_min = min(t_min, value)
                        t_max = max(t_max, value)
                    v = np.uint64(value) if kind == _LONG else np.uint64(value & 0xFFFF_FFFF)
                else:
                    # m / 10**k, both exact in the type, is correctly rounded (Clinger), as Arrow's parse
                    # is; for float32 the division runs in float64 and is rounded again, which gives the
                    # same value (53 >= 2 * 24 + 2 bits: double rounding is innocuous, Figueroa)
                    scale = decimals if decimals > 0 else 0
                    if m > _EXACT_MANTISSA[kind] or scale > _EXACT_SCALE[kind]:
                        return record, row, True, t_min, t_max
                    f64[0] = np.float64(m) / _POW10[scale]
                    if negative:
                        f64[0] = -f64[0]
                    if kind == _FLOAT:
                        f32[0] = np.float32(f64[0])
                        v = np.uint64(f32_bits[0])
                    else:
                        v = f64_bits[0]
                if kind in (_INT, _FLOAT):
                    v *= _K3  # a 32-bit pattern, spread as `combine` spreads it
            rh = _fold_one(rh, v)
            if c < ncols - 1:  # a comma before the next value; LF or CR LF after the last one
                if byte != _COMMA:
                    return record, row, True, t_min, t_max
                pos += 1
            elif byte == _LF and pos > record:
                pos += 1
            elif byte == _CR and pos + 1 < end and data[pos + 1] == _LF and pos > record:
                pos += 2
            else:
                return record, row, True, t_min, t_max
        row_hashes[row] = _mix(rh)
        row += 1
    return min(pos, end), row, False, t_min, t_max


@dataclass(frozen=True)
class PlainColumn:
    """One column as the plain-record reader reads it: numbers outside [low, high] and strings longer than
    `high` bytes are left to Arrow (the checks that report them run there)."""

    name: str
    avro_type: str
    nullable: bool
    low: int = 0
    high: int = 1 << 62


@dataclass(frozen=True)
class PlainBatch:
    """Records read by `PlainRecords.read`: what `hash_column`, `combine` and `mix` give for Arrow's batch."""

    end: int  # offset after the last record read
    rows: int
    hashes: dict[str, U64]  # per string column
    row_hashes: U64
    time_range: tuple[int, int] | None  # of the time column's values, None when it has none
    stopped: bool  # the record at `end` isn't plain: Arrow must read on from there


class PlainRecords:
    """Hashes plain CSV records straight from their bytes (see above)."""

    def __init__(self, columns: list[PlainColumn], time_column: str | None, rows_per_batch: int) -> None:
        self.kinds = np.array([_KINDS[c.avro_type] for c in columns], np.int64)
        self.nullable = np.array([c.nullable for c in columns], np.bool_)
        self.low = np.array([c.low for c in columns], np.int64)
        self.high = np.array([c.high for c in columns], np.int64)
        self.strings = [c.name for c in columns if c.avro_type == "string"]
        slot = iter(range(len(self.strings)))
        self.slots = np.array([next(slot) if c.avro_type == "string" else -1 for c in columns], np.int64)
        names = [c.name for c in columns]
        self.time_column = names.index(time_column) if time_column in names else -1
        self.rows_per_batch = rows_per_batch

    @staticmethod
    def supports(avro_type: str) -> bool:
        # words are read little-endian, as `hash_column` reads them on the machines Arrow runs on
        return avro_type in _KINDS and sys.byteorder == "little"

    def read(self, data: npt.NDArray[np.uint8], pos: int, scratch: Scratch) -> PlainBatch:
        """The plain records from `pos` (at a record's start), up to `rows_per_batch` of them. The arrays
        live in `scratch` until the next read."""
        size = self.rows_per_batch
        hashes = scratch.get("plain:strings", size * max(1, len(self.strings)), np.uint64)
        hashes = hashes.reshape(max(1, len(self.strings)), size)
        row_hashes = scratch.get("plain:rows", size, np.uint64)
        end, rows, stopped, t_min, t_max = _plain_records(
            data,
            pos,
            len(data),
            self.kinds,
            self.nullable,
            self.low,
            self.high,
            self.slots,
            self.time_column,
            hashes,
            row_hashes,
        )
        return PlainBatch(
            end,
            rows,
            {name: hashes[i, :rows] for i, name in enumerate(self.strings)},
            row_hashes[:rows],
            (int(t_min), int(t_max)) if t_min <= t_max else None,
            bool(stopped),
        )
