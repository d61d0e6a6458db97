"""A local file's records in chunks that end where records end, for parts of a file parsed side by side.

Arrow's own reader splits its blocks at line feeds too, but notices when a block ends inside a quoted value
(the "parser got out of sync with chunker" error) and the validator then takes its precise path. A chunk cut
here has no such check, and Arrow parses a chunk that ends inside quotes without complaint (the value just
ends there), so cuts are made only where a CSV reader is outside quotes: any line feed when the bytes read so
far hold no double quote, otherwise a line feed found by a compiled scan that follows the quoting as Arrow
reads it (RFC 4180: a quote opens a value only at its start, "" inside quotes is a quote)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numba
import numpy as np
import pyarrow as pa

__all__ = ["SplitInsideQuotesError", "line_chunks"]

_QUOTE, _COMMA, _LF, _CR = ord('"'), ord(","), ord("\n"), ord("\r")


class SplitInsideQuotesError(ValueError):
    """A part of the file began inside a quoted value: its bytes can't be parsed on their own."""

    def __init__(self, path: Path, offset: int) -> None:
        super().__init__(f"{path}: the part ending at byte {offset} ends inside a quoted value")
        self.path = path
        self.offset = offset


@numba.njit(nogil=True, cache=True)
def _last_record_end(data: Any, end: int) -> tuple[int, bool]:
    """Scan data[:end] from the start of a record: (offset just after the last line feed outside quotes,
    0 if none; whether the scan ends inside a quoted value)."""
    inside = False
    field_start = True
    last = 0
    i = 0
    while i < end:
        byte = data[i]
        if inside:
            if byte == _QUOTE:
                if i + 1 < end and data[i + 1] == _QUOTE:
                    i += 1  # "" is a quote inside the value
                else:
                    inside = False
        elif byte == _QUOTE and field_start:
            inside = True
            field_start = False
        elif byte in (_COMMA, _CR):
            field_start = True
        elif byte == _LF:
            field_start = True
            last = i + 1
        else:
            field_start = False
        i += 1
    return last, inside


def line_chunks(path: Path, start: int, end: int, size: int) -> Iterator[pa.Buffer]:
    """Bytes [start, end) of a local file, `start` at the start of a record, in chunks of about `size`
    that end where records end, read into one reused buffer: Arrow parses each chunk in place, and no chunk
    allocates fresh memory (through a Python file object every read did, a page fault per 4 KiB). A chunk is
    valid until the next one is asked for. Raises SplitInsideQuotesError when `end` is inside quotes."""
    buffer = bytearray(size)
    view = memoryview(buffer)
    kept = 0  # bytes after the last record end, carried to the front of the next chunk
    left = end - start
    with path.open("rb", buffering=0) as fh:
        fh.seek(start)
        while left > 0 or kept:
            if kept == len(buffer):  # one record longer than the buffer: a bigger one
                bigger = bytearray(2 * len(buffer))
                bigger[:kept] = view[:kept]
                buffer, view = bigger, memoryview(bigger)
            got = fh.readinto(view[kept : kept + min(len(buffer) - kept, left)]) if left > 0 else 0
            left = left - got if got else 0  # a file cut short ends here
            filled = kept + got
            quoted = buffer.find(b'"', 0, filled) >= 0
            if left > 0:
                if quoted:
                    cut, _ = _last_record_end(np.frombuffer(buffer, np.uint8), filled)
                else:
                    cut = buffer.rfind(b"\n", 0, filled) + 1
                if cut == 0:  # no record end yet: read more
                    kept = filled
                    continue
            else:
                cut = filled
                if quoted and _last_record_end(np.frombuffer(buffer, np.uint8), filled)[1]:
                    raise SplitInsideQuotesError(path, end)
            yield pa.py_buffer(view[:cut])
            tail = bytes(view[cut:filled])
            kept = len(tail)
            view[:kept] = tail
