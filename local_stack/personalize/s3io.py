"""The emulator's window on moto's S3: the same buckets and objects boto3 and Terraform see."""

from __future__ import annotations

from typing import Any

from local_stack.errors import LocalStackError

__all__ = ["S3AccessError", "list_keys", "read_object", "split_s3_uri", "write_object"]


class S3AccessError(LocalStackError):
    """An S3 location the emulator cannot read or write; carries the URI and why."""

    def __init__(self, uri: str, why: str) -> None:
        super().__init__(uri, why)
        self.uri = uri


def split_s3_uri(uri: str) -> tuple[str, str]:
    """'s3://bucket/key/part' -> ('bucket', 'key/part')."""
    if not uri.startswith("s3://") or len(uri) <= len("s3://"):
        raise S3AccessError(uri, "not an s3:// URI")
    bucket, _, key = uri[len("s3://") :].partition("/")
    if not bucket:
        raise S3AccessError(uri, "no bucket name")
    return bucket, key


def _backend(account_id: str) -> Any:
    from moto.s3.models import s3_backends

    return s3_backends[account_id]["global"]


def _bucket(account_id: str, uri: str, bucket: str) -> Any:
    try:
        return _backend(account_id).get_bucket(bucket)
    except Exception as exc:  # moto raises MissingBucket
        raise S3AccessError(uri, f"bucket {bucket} does not exist") from exc


def read_object(account_id: str, uri: str) -> bytes:
    bucket, key = split_s3_uri(uri)
    _bucket(account_id, uri, bucket)
    try:
        obj = _backend(account_id).get_object(bucket, key)
    except Exception as exc:
        raise S3AccessError(uri, "object does not exist") from exc
    if obj is None:
        raise S3AccessError(uri, "object does not exist")
    return bytes(obj.value)


def list_keys(account_id: str, uri: str) -> list[str]:
    """Object keys under the prefix of `uri`, sorted; folders ("dir/") excluded."""
    bucket, prefix = split_s3_uri(uri)
    fake_bucket = _bucket(account_id, uri, bucket)
    return sorted(k for k in list(fake_bucket.keys.keys()) if k.startswith(prefix) and not k.endswith("/"))


def write_object(account_id: str, uri: str, data: bytes) -> None:
    bucket, key = split_s3_uri(uri)
    _bucket(account_id, uri, bucket)
    _backend(account_id).put_object(bucket, key, data)
