"""`braze-sync`: a batch inference output becomes `recs_<campaign>` attributes on Braze profiles.

- The attribute is an array of up to `braze.items_per_user` objects {id, name, url, image, price}
  (Braze: arrays hold up to 25 items, strings up to 255 characters; a field that would break a limit is
  left out). Each url carries `item_id` and `recommendation_id` (the batch job's name), so a click that
  comes back through Currents is attributed to this batch.
- 75 attribute objects per /users/track request; the client paces to the rate limit and answers 429.
- Only users whose attribute changed since the last sync are sent: `<state_prefix><campaign>/sent.json`
  maps each user to a digest of what Braze holds. Every successful request appends a journal object
  (`…/journal/<seq>.json`), so an interrupted sync resumes without sending anyone twice; a finished
  sync folds the journal into sent.json.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import tempfile
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit, urlunsplit

from botocore.exceptions import ClientError

from chalicelib.catalog_artifact import open_catalog
from pipeline.braze_sync.client import MAX_TRACK_OBJECTS, BrazeClient, client_for
from pipeline.lifecycle.api_settings import catalog_key
from pipeline.lifecycle.context import Context
from pipeline.lifecycle.errors import NotFoundError

__all__ = ["SyncReport", "SyncState", "attribute_value", "read_batch_output", "run_braze_sync", "sync_users"]

MAX_STRING = 255
TRACK_CEILING_USERS_PER_SECOND = 3_000 / 3 * MAX_TRACK_OBJECTS  # Braze's default /users/track limit


@dataclass(frozen=True)
class SyncReport:
    job: str
    attribute: str
    users: int
    changed: int
    sent: int
    requests: int
    rate_limited: int
    max_objects_per_request: int
    seconds: float

    @property
    def users_per_second(self) -> float:
        return self.sent / self.seconds if self.seconds > 0 else 0.0

    def format(self) -> str:
        return (
            f"{self.attribute} from {self.job}: {self.users:,} users, {self.changed:,} changed, "
            f"{self.sent:,} sent in {self.requests:,} requests (≤{self.max_objects_per_request} objects "
            f"each, {self.rate_limited} answered 429) in {self.seconds:.1f}s: "
            f"{self.users_per_second:,.0f} users/s "
            f"({self.users_per_second / TRACK_CEILING_USERS_PER_SECOND:.1%} of the "
            f"{TRACK_CEILING_USERS_PER_SECOND:,.0f} users/s ceiling of 3,000 requests per 3 s)"
        )


def read_batch_output(lines: Sequence[str]) -> dict[str, list[str]]:
    """User -> recommended item ids from batch inference output lines (errors skipped)."""
    out: dict[str, list[str]] = {}
    for line in lines:
        if not line.strip():
            continue
        record = json.loads(line)
        if record.get("error"):
            continue
        user = (record.get("input") or {}).get("userId")
        items = (record.get("output") or {}).get("recommendedItems") or []
        if user:
            out[str(user)] = [str(i) for i in items]
    return out


def _tracked(url: str, item: str, recommendation_id: str) -> str:
    parts = urlsplit(url)
    extra = urlencode({"item_id": item, "recommendation_id": recommendation_id})
    return urlunsplit(parts._replace(query=f"{parts.query}&{extra}" if parts.query else extra))


def attribute_value(
    items: Sequence[str], catalog: Mapping[str, Mapping[str, str]], *, limit: int, recommendation_id: str
) -> list[dict[str, Any]]:
    """The profile attribute: item objects within Braze's limits (fields over 255 characters left out)."""
    value = []
    for item in items[:limit]:
        row = catalog.get(item, {})
        obj: dict[str, Any] = {"id": item}
        for field in ("name", "url", "image"):
            text = row.get(field.upper()) or ""
            if field == "url" and text:
                text = _tracked(text, item, recommendation_id)
            if text and len(text) <= MAX_STRING:
                obj[field] = text
        price = row.get("PRICE")
        if price:
            with contextlib.suppress(ValueError):
                obj["price"] = float(price)
        value.append(obj)
    return value


def _digest(value: Any) -> str:
    return hashlib.sha256(json.dumps(value, sort_keys=True).encode()).hexdigest()[:20]


class SyncState:
    """What Braze holds per user (digests), in S3: sent.json plus a journal of finished requests."""

    def __init__(self, s3: Any, bucket: str, prefix: str) -> None:
        self.s3, self.bucket, self.prefix = s3, bucket, prefix
        self.sent: dict[str, str] = {}
        self.journal: list[str] = []

    def _read(self, key: str) -> Any:
        try:
            return json.loads(self.s3.get_object(Bucket=self.bucket, Key=key)["Body"].read())
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in ("NoSuchKey", "404"):
                return None
            raise

    def load(self) -> SyncState:
        self.sent = dict(self._read(f"{self.prefix}sent.json") or {})
        paginator = self.s3.get_paginator("list_objects_v2")
        for page in paginator.paginate(Bucket=self.bucket, Prefix=f"{self.prefix}journal/"):
            for obj in page.get("Contents", []):
                self.journal.append(str(obj["Key"]))
        for key in sorted(self.journal):
            self.sent.update(self._read(key) or {})
        return self

    def record(self, digests: Mapping[str, str]) -> None:
        key = f"{self.prefix}journal/{len(self.journal):08d}-{time.time_ns()}.json"
        self.s3.put_object(Bucket=self.bucket, Key=key, Body=json.dumps(dict(digests)).encode())
        self.journal.append(key)
        self.sent.update(digests)

    def compact(self) -> None:
        self.s3.put_object(
            Bucket=self.bucket, Key=f"{self.prefix}sent.json", Body=json.dumps(self.sent).encode()
        )
        for key in self.journal:
            self.s3.delete_object(Bucket=self.bucket, Key=key)
        self.journal = []


def sync_users(
    client: BrazeClient,
    state: SyncState,
    values: Mapping[str, list[dict[str, Any]]],
    *,
    attribute: str,
    job: str,
) -> SyncReport:
    started = time.monotonic()
    requests_before, limited_before = client.stats.requests, client.stats.rate_limited
    digests = {user: _digest(value) for user, value in values.items()}
    changed = [u for u in sorted(values) if state.sent.get(u) != digests[u]]
    sent = 0
    sizes: list[int] = []
    for start in range(0, len(changed), MAX_TRACK_OBJECTS):
        chunk = changed[start : start + MAX_TRACK_OBJECTS]
        client.track([{"external_id": u, attribute: values[u]} for u in chunk])
        state.record({u: digests[u] for u in chunk})
        sent += len(chunk)
        sizes.append(len(chunk))
    state.compact()
    return SyncReport(
        job=job,
        attribute=attribute,
        users=len(values),
        changed=len(changed),
        sent=sent,
        requests=client.stats.requests - requests_before,
        rate_limited=client.stats.rate_limited - limited_before,
        max_objects_per_request=max(sizes, default=0),
        seconds=time.monotonic() - started,
    )


def _output_lines(ctx: Context, job: str | None) -> tuple[str, list[str]]:
    prefix = str(ctx.storage["batch_output_prefix"])
    paginator = ctx.s3.get_paginator("list_objects_v2")
    outputs = [
        o
        for page in paginator.paginate(Bucket=ctx.bucket, Prefix=f"{prefix}{job}/" if job else prefix)
        for o in page.get("Contents", [])
        if str(o["Key"]).endswith(".out")
    ]
    if not outputs:
        raise NotFoundError(
            f"s3://{ctx.bucket}/{prefix}{job or ''}",
            "no batch inference output",
            "run `make batch USERS=<file>` first",
        )
    newest = max(outputs, key=lambda o: o["LastModified"])
    name = job or str(newest["Key"])[len(prefix) :].split("/", 1)[0]
    lines: list[str] = []
    for obj in outputs:
        if str(obj["Key"]).startswith(f"{prefix}{name}/"):
            lines += ctx.s3.get_object(Bucket=ctx.bucket, Key=obj["Key"])["Body"].read().decode().splitlines()
    return name, lines


def _catalog(ctx: Context, items: Iterable[str]) -> dict[str, dict[str, str]]:
    """The rows of `items` in the API's catalog artifact (the one `import` writes), or {} without one."""
    key = catalog_key(ctx.config)
    source = f"s3://{ctx.bucket}/{key}"
    with tempfile.TemporaryDirectory(prefix="catalog-") as folder:
        path = Path(folder) / "catalog.bin"
        try:
            ctx.s3.download_file(ctx.bucket, key, str(path))
        except ClientError:
            ctx.progress.say(f"no catalog at {source}: attributes carry item ids only")
            return {}
        catalog = open_catalog(path, source)
        try:
            return {item: row for item in set(items) if (row := catalog.get(item)) is not None}
        finally:
            catalog.close()


def run_braze_sync(
    ctx: Context, *, job: str | None = None, campaign: str = "weekly", client: BrazeClient | None = None
) -> SyncReport:
    braze = dict(ctx.config.get("braze") or {})
    name, lines = _output_lines(ctx, job)
    recommendations = read_batch_output(lines)
    limit = int(braze.get("items_per_user", 5))
    catalog = _catalog(ctx, (item for items in recommendations.values() for item in items[:limit]))
    values = {
        user: attribute_value(items, catalog, limit=limit, recommendation_id=name)
        for user, items in recommendations.items()
    }
    attribute = f"{braze.get('attribute_prefix', 'recs_')}{campaign}"
    state = SyncState(ctx.s3, ctx.bucket, f"{braze.get('state_prefix', 'braze-sync/')}{attribute}/").load()
    report = sync_users(client or client_for(ctx), state, values, attribute=attribute, job=name)
    ctx.progress.say(report.format())
    return report
