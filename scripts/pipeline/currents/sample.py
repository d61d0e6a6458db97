"""Currents Avro files in Braze's layout, made from an interactions CSV (`make currents-sample`).

Purchases become `users.behaviors.Purchase`, other event types `users.behaviors.CustomEvent` named after
the type, and every tenth purchase is preceded by an email click on a recommendation (our links carry
`item_id` and `recommendation_id`), so attribution has something to join. Braze writes a file per event
type every 5 minutes or 15,000 events, whichever comes first; files here are cut at 15,000 events per
type and hour. Braze internal user ids are 24 hex digits (BSON ids); here they derive from the external id.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import json
from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

import fastavro

from pipeline.currents.avro_schemas import schema_for
from pipeline.currents.layout import build_key

__all__ = [
    "FILE_EVENT_LIMIT",
    "braze_internal_id",
    "currents_records",
    "read_interactions",
    "sample_files",
    "write_avro",
]

FILE_EVENT_LIMIT = 15_000
_INTEGRATION_ID = "5f1e2d3c4b5a69788796a5b4"


def braze_internal_id(external_id: str) -> str:
    return hashlib.sha1(f"braze-user|{external_id}".encode()).hexdigest()[:24]  # noqa: S324 - an id


def _event_id(*parts: object) -> str:
    digest = hashlib.sha1("|".join(map(str, parts)).encode()).hexdigest()  # noqa: S324 - an id
    return f"{digest[:8]}-{digest[8:12]}-{digest[12:16]}-{digest[16:20]}-{digest[20:32]}"


def _user(external: str, time: int, event_id: str) -> dict[str, Any]:
    return {
        "id": event_id,
        "user_id": braze_internal_id(external),
        "external_user_id": external,
        "time": time,
    }


def currents_records(rows: Iterable[Mapping[str, str]]) -> Iterator[tuple[str, dict[str, Any]]]:
    """(Currents event type, storage record) for each interaction row, plus clicks before some purchases."""
    purchases = 0
    for n, row in enumerate(rows):
        user, item, kind = row["USER_ID"], row["ITEM_ID"], row["EVENT_TYPE"]
        time = int(row["TIMESTAMP"])
        if kind == "Purchase":
            purchases += 1
            if purchases % 10 == 0:
                rec_id = _event_id("rec", user, time)
                url = f"https://shop.example.com/product/{item}?item_id={item}&recommendation_id=RID-{rec_id[:30]}"
                yield (
                    "users.messages.email.Click",
                    {
                        **_user(user, max(0, time - 60), _event_id("click", n, user, item, time)),
                        "email_address": f"{user}@example.com",
                        "url": url,
                        "campaign_id": "weekly-recommendations",
                    },
                )
            price = row.get("EVENT_VALUE") or ""
            yield (
                "users.behaviors.Purchase",
                {
                    **_user(user, time, _event_id("purchase", n, user, item, time)),
                    "product_id": item,
                    "price": float(price) if price else 0.0,
                    "currency": "EUR",
                    "properties": "{}",
                    "platform": "web",
                },
            )
        else:
            yield (
                "users.behaviors.CustomEvent",
                {
                    **_user(user, time, _event_id("custom", n, user, item, time)),
                    "name": kind,
                    "properties": json.dumps({"product_id": item}),
                    "platform": "web",
                },
            )


def write_avro(event_type: str, records: list[dict[str, Any]]) -> bytes:
    """One Avro container file (deflate, like Braze's) of `records` under the documented schema."""
    schema = fastavro.parse_schema(schema_for(event_type))
    out = io.BytesIO()
    fastavro.writer(out, schema, records, codec="deflate")
    return out.getvalue()


def _hour(time: int) -> str:
    return dt.datetime.fromtimestamp(time, dt.UTC).strftime("%Y-%m-%d-%H")


def sample_files(
    typed_records: Iterable[tuple[str, dict[str, Any]]], prefix: str, *, limit: int = FILE_EVENT_LIMIT
) -> dict[str, bytes]:
    """Key -> Avro bytes, one file per event type and hour (cut at `limit` events), keys as Braze writes."""
    groups: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
    for event_type, record in typed_records:
        groups[(event_type, _hour(int(record["time"])))].append(record)
    files: dict[str, bytes] = {}
    offset = 0
    for (event_type, hour), records in sorted(groups.items()):
        for start in range(0, len(records), limit):
            key = build_key(prefix, event_type, hour, integration_id=_INTEGRATION_ID, offset=offset)
            files[key] = write_avro(event_type, records[start : start + limit])
            offset += 1
    return files


def read_interactions(path: Path, *, last: int | None = None) -> list[dict[str, str]]:
    """Rows of an interactions CSV; with `last`, only the newest `last` rows (by TIMESTAMP)."""
    with path.open(newline="", encoding="utf-8-sig") as handle:
        rows = list(csv.DictReader(handle))
    if last is not None:
        rows = sorted(rows, key=lambda r: int(r["TIMESTAMP"]))[-last:]
    return rows
