"""Braze Currents' S3 key layout, parsed and built.

Documented layout (Braze docs, "Event delivery semantics", Apache Avro format):
`<prefix>/dataexport.<cluster>.<connection-type>.integration.<integration-id>/event_type=<event-type>/
date=<YYYY-MM-DD-HH>/<schema-id>/<zone>/dataexport.<cluster>.<connection-type>.integration.<id>+<partition>
+<offset>.avro`. Braze warns that naming may change and recommends reading every key under the prefix,
so only the `event_type=` segment is required here; the rest is parsed when present.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from pipeline.errors import PipelineError

__all__ = ["CurrentsKey", "CurrentsLayoutError", "build_key", "parse_key"]

_EVENT_TYPE = re.compile(r"(?:^|/)event_type=([^/]+)/")
_DATE = re.compile(r"(?:^|/)date=(\d{4}-\d{2}-\d{2}-\d{2})/")
_INTEGRATION = re.compile(r"(?:^|/)dataexport\.([^./]+)\.([^./]+)\.integration\.([^/+]+)/")


class CurrentsLayoutError(PipelineError):
    """An object key that is not a Currents Avro file; says which key and why."""

    def __init__(self, key: str, why: str) -> None:
        super().__init__(key, why)
        self.key = key


@dataclass(frozen=True)
class CurrentsKey:
    key: str
    event_type: str
    date_hour: str | None
    cluster: str | None
    connection_type: str | None
    integration_id: str | None

    @property
    def stem(self) -> str:
        """The file name without `.avro`: unique per file (it carries partition and offset)."""
        return self.key.rsplit("/", 1)[-1].removesuffix(".avro")


def parse_key(key: str) -> CurrentsKey:
    if not key.endswith(".avro"):
        raise CurrentsLayoutError(key, "not an .avro file")
    event_type = _EVENT_TYPE.search(key)
    if event_type is None:
        raise CurrentsLayoutError(key, "no event_type=<type> segment in the key")
    date = _DATE.search(key)
    integration = _INTEGRATION.search(key)
    return CurrentsKey(
        key=key,
        event_type=event_type.group(1),
        date_hour=date.group(1) if date else None,
        cluster=integration.group(1) if integration else None,
        connection_type=integration.group(2) if integration else None,
        integration_id=integration.group(3) if integration else None,
    )


def build_key(
    prefix: str,
    event_type: str,
    date_hour: str,
    *,
    integration_id: str,
    cluster: str = "prod-01",
    schema_id: int = 1,
    zone: str = "0",
    partition: int = 0,
    offset: int = 0,
) -> str:
    """The key Currents would write (connection type S3)."""
    base = f"dataexport.{cluster}.S3.integration.{integration_id}"
    head = prefix.rstrip("/") + "/" if prefix else ""
    return (
        f"{head}{base}/event_type={event_type}/date={date_hour}/{schema_id}/{zone}/"
        f"{base}+{partition}+{offset}.avro"
    )
