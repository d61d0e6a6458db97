"""Where a dataset file's bytes come from: a local path as it is, an s3:// object or a caller's binary
stream copied once into a temporary file (the engine reads a local file, in parallel and more than once)."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, BinaryIO
from urllib.parse import urlparse

from pipeline.errors import PipelineError

__all__ = ["SourceError", "list_s3", "local_copy", "split_s3"]

_COPY_BLOCK = 8 << 20


class SourceError(PipelineError, OSError):
    """A dataset file can't be opened; says which and why."""

    def __init__(self, where: str, why: str) -> None:
        super().__init__(where, why)


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


@contextmanager
def _spooled(stream: BinaryIO, where: str) -> Iterator[Path]:
    with tempfile.TemporaryDirectory(prefix="dataset-") as tmp:
        path = Path(tmp) / "data.csv"
        try:
            with path.open("wb") as out:
                shutil.copyfileobj(stream, out, _COPY_BLOCK)
        except OSError as exc:
            raise SourceError(where, str(exc)) from exc
        yield path


@contextmanager
def local_copy(source: str | Path | BinaryIO) -> Iterator[Path]:
    """A local path holding the source's bytes, for as long as the context lasts (never modified)."""
    if isinstance(source, str) and source.startswith("s3://"):
        bucket, key = split_s3(source)
        try:
            body = _s3_client().get_object(Bucket=bucket, Key=key)["Body"]
        except Exception as exc:  # botocore raises many types; all mean "can't read the object"
            raise SourceError(source, str(exc)) from exc
        try:
            with _spooled(body, source) as path:
                yield path
        finally:
            body.close()
        return
    if isinstance(source, str | Path):
        path = Path(source)
        if not path.is_file():
            raise SourceError(str(path), "no such file")
        yield path
        return
    with _spooled(source, getattr(source, "name", None) or "<stream>") as path:
        yield path
