"""Open a dataset file (local path, s3:// URI or binary file-like) as a byte stream, read-only."""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO
from urllib.parse import urlparse

__all__ = ["CountingStream", "Source", "SourceError", "count_breaks", "list_s3", "open_source", "split_s3"]


class SourceError(OSError):
    """A dataset file can't be opened; says which and why."""

    def __init__(self, where: str, why: str) -> None:
        super().__init__(f"{where}: {why}")
        self.where = where
        self.why = why


@dataclass
class Source:
    name: str
    open: Callable[[], BinaryIO]  # a fresh stream from the start (for the rare second pass)
    path: Path | None = None  # local files: Arrow reads them natively (no Python in the read loop)
    owned: bool = True  # False for a caller's stream: rewound, never closed

    def close(self, stream: BinaryIO) -> None:
        if self.owned:
            stream.close()


def split_s3(uri: str) -> tuple[str, str]:
    parsed = urlparse(uri)
    if parsed.scheme != "s3" or not parsed.netloc:
        raise SourceError(uri, "not an s3://bucket/key URI")
    return parsed.netloc, parsed.path.lstrip("/")


def _s3_client() -> Any:
    import boto3  # imported lazily: local files need no AWS SDK setup

    return boto3.client("s3")


def list_s3(uri: str) -> set[str]:
    """Keys directly under an s3:// prefix (boto3 honours AWS_ENDPOINT_URL for the local stack)."""
    bucket, prefix = split_s3(uri)
    prefix = prefix.rstrip("/") + "/" if prefix else ""
    client = _s3_client()
    names: set[str] = set()
    try:
        paginator = client.get_paginator("list_objects_v2")
        for page in paginator.paginate(Bucket=bucket, Prefix=prefix):
            names.update(obj["Key"][len(prefix) :] for obj in page.get("Contents", []))
    except Exception as exc:  # botocore raises many types; all mean "can't read the directory"
        raise SourceError(uri, str(exc)) from exc
    return names


def open_source(source: str | Path | BinaryIO, name: str | None = None) -> Source:
    if isinstance(source, str) and source.startswith("s3://"):
        bucket, key = split_s3(source)

        def open_s3() -> BinaryIO:
            try:
                body: BinaryIO = _s3_client().get_object(Bucket=bucket, Key=key)["Body"]
            except Exception as exc:  # botocore raises many types; all mean "can't read the object"
                raise SourceError(source, str(exc)) from exc
            return body

        return Source(name or key.rsplit("/", 1)[-1], open_s3)
    if isinstance(source, str | Path):
        path = Path(source)
        if not path.is_file():
            raise SourceError(str(path), "no such file")
        return Source(name or path.name, lambda: path.open("rb"), path)
    stream = source
    start = stream.tell() if stream.seekable() else 0

    def reopen() -> BinaryIO:
        if stream.seekable():
            stream.seek(start)
        return stream

    return Source(name or getattr(stream, "name", None) or "<stream>", reopen, owned=False)


def count_breaks(raw: io.BufferedIOBase | BinaryIO, chunk_size: int = 4 << 20) -> tuple[int, int, bytes]:
    """(line feeds, carriage returns, last byte) of a whole stream, at memchr speed."""
    newlines = carriage_returns = 0
    last = b""
    while chunk := raw.read(chunk_size):
        newlines += chunk.count(b"\n")
        carriage_returns += chunk.count(b"\r")
        last = chunk[-1:]
    return newlines, carriage_returns, last


class CountingStream(io.RawIOBase):
    """Hands Arrow the bytes after the header while counting line feeds and carriage returns."""

    def __init__(self, raw: BinaryIO, prefix: bytes) -> None:
        super().__init__()
        self._raw = raw
        self._prefix = prefix
        self.newlines = 0
        self.carriage_returns = 0
        self.bytes = 0
        self.last_byte = b""

    def readable(self) -> bool:
        return True

    def _count(self, chunk: bytes) -> bytes:
        if chunk:
            self.newlines += chunk.count(b"\n")
            self.carriage_returns += chunk.count(b"\r")
            self.bytes += len(chunk)
            self.last_byte = chunk[-1:]
        return chunk

    def read(self, size: int = -1) -> bytes:
        if self._prefix:
            if size is None or size < 0:
                chunk, self._prefix = self._prefix + self._raw.read(), b""
                return self._count(chunk)
            chunk, self._prefix = self._prefix[:size], self._prefix[size:]
            return self._count(chunk)
        return self._count(self._raw.read(size if size is not None else -1))

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        data = self.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)
