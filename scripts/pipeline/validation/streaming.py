"""Threads and streams behind the file validator: parse-ahead of CSV batches, and second reads."""

from __future__ import annotations

import contextlib
import io
import queue
import threading
from collections.abc import Iterator

import pyarrow as pa
import pyarrow.csv as pacsv

from pipeline.validation.sources import Source

__all__ = ["Reopened", "read_ahead"]


def read_ahead(reader: pacsv.CSVStreamingReader, depth: int = 3) -> Iterator[pa.RecordBatch]:
    """Batches parsed by a producer thread while the caller checks the previous ones.

    Arrow's streaming reader parses a block only when asked (and releases the GIL meanwhile), so without
    this the checks would wait for the parser and the parser for the checks."""
    slots: queue.Queue[pa.RecordBatch | BaseException | None] = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def produce() -> None:
        try:
            for batch in reader:
                while not stop.is_set():
                    try:
                        slots.put(batch, timeout=0.1)
                        break
                    except queue.Full:
                        continue
                if stop.is_set():
                    return
            slots.put(None)
        except BaseException as exc:  # handed to the consumer, which re-raises it
            slots.put(exc)

    worker = threading.Thread(target=produce, name="csv-read-ahead", daemon=True)
    worker.start()
    try:
        while (item := slots.get()) is not None:
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        stop.set()
        while worker.is_alive():  # unblock a producer waiting on a full queue
            with contextlib.suppress(queue.Empty):
                slots.get(timeout=0.05)
        worker.join()


class Reopened(io.RawIOBase):
    """A fresh read of the source for a second pass; closes it only if the validator owns it."""

    def __init__(self, source: Source) -> None:
        super().__init__()
        self._source = source
        self._raw = source.open()

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        return self._raw.read(size)

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        data = self._raw.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)

    def close(self) -> None:
        if not self.closed:
            self._source.close(self._raw)
        super().close()
