"""The bridge: one Currents Avro file in, PutEvents + bulk CSV + attribution + id pairs out, exactly once.

Per file, in this order (a crash between steps re-sends that one file's events with the same eventIds,
never loses them):
1. skip it when its checkpoint marker (`<state>processed/<sha1(key)>.json`, same ETag) exists;
2. read every record (fastavro, with the schema embedded in the file); a file that cannot be read, or
   whose records lack Braze's required `id`/`time`, is moved to the quarantine prefix with a
   `.reason.json` beside it, and nothing of it is sent;
3. drop events whose Currents `id` was already seen (Braze delivers at least once and tells you to
   deduplicate on `id`; seen ids are kept per UTC day of the event's `time`, since a duplicate carries
   the same time);
4. PutEvents in groups of <= 10 per user and session (the API's limit), throttling retried with backoff;
5. the same events appended to the bulk prefix as an interactions CSV (the next INCREMENTAL import);
6. clicks carrying our `recommendation_id` written to `<state>attribution/…jsonl` for experiment reports;
7. `users.UserDeleteRequest` (Braze's internal id only) resolved through the internal -> external id
   pairs earlier events carried, and handed to the forget flow;
8. seen ids, id pairs and the checkpoint marker saved.
"""

from __future__ import annotations

import csv
import datetime as dt
import functools
import hashlib
import io
import json
import time
import zlib
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import fastavro
from botocore.exceptions import ClientError

from pipeline.currents.layout import CurrentsLayoutError, parse_key
from pipeline.currents.mapping import DELETE_EVENT_TYPE, BridgeEvent, EventRule, rules_from_config
from pipeline.errors import PipelineError
from pipeline.lifecycle.context import Progress
from pipeline.lifecycle.events import MAX_EVENTS_PER_CALL, Event, EventsResult, send_events

__all__ = ["Bridge", "BridgeSettings", "FileResult", "SyncResult", "bulk_csv"]

BULK_HEADER = ("USER_ID", "ITEM_ID", "TIMESTAMP", "EVENT_TYPE", "EVENT_VALUE")
Forget = Callable[[Sequence[str]], object]


@dataclass(frozen=True)
class BridgeSettings:
    bucket: str
    prefix: str
    quarantine_prefix: str
    state_prefix: str
    bulk_prefix: str
    tracking_id: str
    rules: Mapping[str, EventRule]
    session_suffix: str = "-braze"
    # PutEvents takes one user per call: at ~20 ms a call, a 100,000-user file needs parallel calls to fit
    # a Lambda's 15 minutes. Throttling is still retried with backoff in each worker.
    put_events_workers: int = 8

    @classmethod
    def from_config(cls, currents: Mapping[str, Any], *, bucket: str, tracking_id: str) -> BridgeSettings:
        return cls(
            bucket=bucket,
            prefix=str(currents["prefix"]),
            quarantine_prefix=str(currents["quarantine_prefix"]),
            state_prefix=str(currents["state_prefix"]),
            bulk_prefix=str(currents["bulk_prefix"]),
            tracking_id=tracking_id,
            rules=rules_from_config(currents["events"]),
            session_suffix=str(currents.get("session_suffix", "-braze")),
            put_events_workers=int(currents.get("put_events_workers", 8)),
        )


@dataclass
class FileResult:
    key: str
    status: str  # processed | skipped | quarantined | ignored
    records: int = 0
    sent: int = 0
    duplicates: int = 0
    unmapped: int = 0
    attributed: int = 0
    deleted_users: list[str] = field(default_factory=list)
    unresolved_deletions: list[str] = field(default_factory=list)
    reason: str = ""


@dataclass
class SyncResult:
    files: list[FileResult] = field(default_factory=list)

    def count(self, attr: str) -> int:
        return sum(int(getattr(f, attr)) for f in self.files)

    def by_status(self, status: str) -> list[FileResult]:
        return [f for f in self.files if f.status == status]

    def format(self) -> str:
        return (
            f"{len(self.by_status('processed'))} file(s) processed, {len(self.by_status('skipped'))} already "
            f"done, {len(self.by_status('quarantined'))} quarantined; {self.count('records'):,} records, "
            f"{self.count('sent'):,} events sent, {self.count('duplicates'):,} duplicates dropped, "
            f"{self.count('attributed'):,} attributed clicks"
        )


class _UnreadableError(PipelineError):
    """A Currents file we cannot read: the reason goes beside it in quarantine."""

    def __init__(self, why: str) -> None:
        super().__init__("currents file", why, message=why)


def bulk_csv(events: Iterable[BridgeEvent]) -> bytes:
    """Interactions rows in the dataset schema's column order."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(BULK_HEADER)
    for e in events:
        value = "" if e.event_value is None else repr(e.event_value)
        writer.writerow((e.user_id, e.item_id, e.timestamp, e.event_type, value))
    return out.getvalue().encode()


def _digest(text: str) -> str:
    return hashlib.sha1(text.encode()).hexdigest()  # noqa: S324 - a key name, not a security digest


@functools.lru_cache(maxsize=4096)
def _day_of(day_number: int) -> str:
    return dt.datetime.fromtimestamp(day_number * 86_400, dt.UTC).strftime("%Y-%m-%d")


def _day(timestamp: int) -> str:
    """The UTC day of a Unix time (seen ids are kept per day)."""
    return _day_of(timestamp // 86_400)


def _shard(internal_id: str) -> str:
    """One of 16 id-pair shards: stable across processes (unlike hash()), cheap per event."""
    return format(zlib.crc32(internal_id.encode()) & 0xF, "x")


class Bridge:
    """Processes Currents files of one bucket; state is cached per instance and saved per file."""

    def __init__(
        self,
        settings: BridgeSettings,
        s3: Any,
        events_client: Any,
        *,
        forget: Forget | None = None,
        progress: Progress | None = None,
        sleep: Callable[[float], None] | None = None,
    ) -> None:
        self.settings = settings
        self.s3 = s3
        self.events_client = events_client
        self.forget = forget
        self.progress = progress or Progress()
        self.sleep = sleep
        self._seen: dict[str, set[str]] = {}
        self._pairs: dict[str, dict[str, str]] = {}
        self._dirty_seen: set[str] = set()
        self._dirty_pairs: set[str] = set()

    # ------------------------------------------------------------------ S3 helpers
    def _get(self, key: str) -> bytes | None:
        try:
            return bytes(self.s3.get_object(Bucket=self.settings.bucket, Key=key)["Body"].read())
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in ("NoSuchKey", "404", "NotFound"):
                return None
            raise

    def _put(self, key: str, body: bytes, content_type: str = "application/octet-stream") -> None:
        self.s3.put_object(Bucket=self.settings.bucket, Key=key, Body=body, ContentType=content_type)

    def _keys(self, prefix: str) -> Iterable[dict[str, Any]]:
        paginator = self.s3.get_paginator("list_objects_v2")
        for page in paginator.paginate(Bucket=self.settings.bucket, Prefix=prefix):
            yield from page.get("Contents", [])

    def _marker_key(self, key: str) -> str:
        return f"{self.settings.state_prefix}processed/{_digest(key)}.json"

    # ------------------------------------------------------------------ state
    def _seen_ids(self, day: str) -> set[str]:
        if day not in self._seen:
            raw = self._get(f"{self.settings.state_prefix}seen/{day}.txt")
            self._seen[day] = set(raw.decode().split("\n")) - {""} if raw else set()
        return self._seen[day]

    def _pair_shard(self, internal_id: str) -> dict[str, str]:
        shard = _shard(internal_id)
        if shard not in self._pairs:
            raw = self._get(f"{self.settings.state_prefix}id-pairs/{shard}.json")
            self._pairs[shard] = json.loads(raw) if raw else {}
        return self._pairs[shard]

    def external_id(self, internal_id: str) -> str | None:
        """The external user id Braze sent with this internal id, if any event carried both."""
        return self._pair_shard(internal_id).get(internal_id)

    def _remember_pair(self, internal_id: str, external_id: str) -> None:
        shard = self._pair_shard(internal_id)
        if shard.get(internal_id) != external_id:
            shard[internal_id] = external_id
            self._dirty_pairs.add(_shard(internal_id))

    def _forget_pair(self, internal_id: str) -> None:
        shard = self._pair_shard(internal_id)
        if shard.pop(internal_id, None) is not None:
            self._dirty_pairs.add(_shard(internal_id))

    def _save_state(self) -> None:
        for day in sorted(self._dirty_seen):
            body = "\n".join(sorted(self._seen[day])).encode()
            self._put(f"{self.settings.state_prefix}seen/{day}.txt", body, "text/plain")
        for shard in sorted(self._dirty_pairs):
            body = json.dumps(self._pairs[shard], sort_keys=True).encode()
            self._put(f"{self.settings.state_prefix}id-pairs/{shard}.json", body, "application/json")
        self._dirty_seen.clear()
        self._dirty_pairs.clear()

    # ------------------------------------------------------------------ reading
    @staticmethod
    def read_records(data: bytes) -> list[dict[str, Any]]:
        """Every record of an Avro container file; `_UnreadableError` with the reason otherwise."""
        try:
            records: list[Any] = list(fastavro.reader(io.BytesIO(data)))
        except Exception as exc:  # fastavro raises ValueError, EOFError, SchemaParseException, ...
            raise _UnreadableError(f"not a readable Avro file: {type(exc).__name__}: {exc}") from None
        for n, record in enumerate(records):
            if (
                not isinstance(record, dict)
                or not record.get("id")
                or not isinstance(record.get("time"), int)
            ):
                raise _UnreadableError(f"record {n} has no Currents id or integer time (required fields)")
        return records

    def quarantine(self, key: str, reason: str) -> str:
        """Move `key` under the quarantine prefix with `<name>.reason.json` beside it."""
        relative = key.removeprefix(self.settings.prefix)
        target = f"{self.settings.quarantine_prefix}{relative}"
        bucket = self.settings.bucket
        self.s3.copy_object(Bucket=bucket, Key=target, CopySource={"Bucket": bucket, "Key": key})
        note = {"source_key": key, "reason": reason, "quarantined_at": dt.datetime.now(dt.UTC).isoformat()}
        self._put(f"{target}.reason.json", json.dumps(note, indent=2).encode(), "application/json")
        self.s3.delete_object(Bucket=bucket, Key=key)
        self.progress.say(f"quarantined {key}: {reason}")
        return target

    # ------------------------------------------------------------------ one file
    def process(self, key: str, etag: str | None = None) -> FileResult:
        try:
            layout = parse_key(key)
        except CurrentsLayoutError as exc:
            if key.endswith(".avro"):
                self.quarantine(key, exc.why)
                return FileResult(key, "quarantined", reason=exc.why)
            return FileResult(key, "ignored", reason=exc.why)
        marker = self._marker_key(key)
        done = self._get(marker)
        if etag is None:
            etag = str(self.s3.head_object(Bucket=self.settings.bucket, Key=key).get("ETag", ""))
        if done is not None and json.loads(done).get("etag") == etag:
            return FileResult(key, "skipped")
        data = self._get(key)
        if data is None:
            return FileResult(key, "ignored", reason="the object is gone")
        try:
            records = self.read_records(data)
        except _UnreadableError as exc:
            self.quarantine(key, str(exc))
            return FileResult(key, "quarantined", reason=str(exc))
        result = FileResult(key, "processed", records=len(records))
        for record in records:
            if record.get("user_id") and record.get("external_user_id"):
                self._remember_pair(str(record["user_id"]), str(record["external_user_id"]))
        if layout.event_type == DELETE_EVENT_TYPE:
            self._deletions(records, result)
        else:
            rule = self.settings.rules.get(layout.event_type)
            if rule is None:
                result.status = "ignored"
                result.reason = f"no mapping for {layout.event_type} in currents.events"
            else:
                self._events(rule, records, result, layout.date_hour or "undated", layout.stem)
        self._save_state()
        summary = {k: v for k, v in result.__dict__.items() if k != "key"}
        self._put(marker, json.dumps({"key": key, "etag": etag, **summary}).encode(), "application/json")
        return result

    def _fresh(self, records: list[dict[str, Any]], result: FileResult) -> list[dict[str, Any]]:
        fresh = []
        in_file: set[str] = set()
        for record in records:
            event_id = str(record["id"])
            day = _day(int(record["time"]))
            seen = self._seen_ids(day)
            if event_id in seen or event_id in in_file:
                result.duplicates += 1
                continue
            in_file.add(event_id)
            fresh.append(record)
        return fresh

    def _mark_seen(self, records: list[dict[str, Any]]) -> None:
        for record in records:
            day = _day(int(record["time"]))
            self._seen_ids(day).add(str(record["id"]))
            self._dirty_seen.add(day)

    def _events(
        self, rule: EventRule, records: list[dict[str, Any]], result: FileResult, date_hour: str, stem: str
    ) -> None:
        fresh = self._fresh(records, result)
        converted = [rule.convert(r) for r in fresh]
        events = [e for e in converted if e is not None]
        result.unmapped = len(fresh) - len(events)
        sendable = [e for e in events if e.item_id]
        attributed = [e for e in events if e.recommendation_id]
        if sendable:
            suffix = self.settings.session_suffix
            api_events = [
                Event(
                    user_id=e.user_id,
                    session_id=f"{e.user_id}{suffix}",
                    item_id=str(e.item_id),
                    event_type=e.event_type,
                    timestamp=e.timestamp,
                    event_value=e.event_value,
                    event_id=e.event_id,
                    recommendation_id=e.recommendation_id,
                )
                for e in sendable
            ]
            self._send(api_events)
            bulk_key = f"{self.settings.bulk_prefix}{date_hour}/{stem}.csv"
            self._put(bulk_key, bulk_csv(sendable), "text/csv")
        if attributed:
            lines = "".join(
                json.dumps(
                    {
                        "event_id": e.event_id,
                        "user_id": e.user_id,
                        "recommendation_id": e.recommendation_id,
                        "item_id": e.item_id,
                        "event_type": e.event_type,
                        "currents_type": rule.currents_type,
                        "time": e.timestamp,
                    }
                )
                + "\n"
                for e in attributed
            )
            self._put(f"{self.settings.state_prefix}attribution/{date_hour}/{stem}.jsonl", lines.encode())
        result.sent = len(sendable)
        result.attributed = len(attributed)
        self._mark_seen(fresh)

    def _send(self, events: list[Event]) -> None:
        """PutEvents for `events`; users are split over workers, each user's events stay in one worker."""
        workers = max(1, min(self.settings.put_events_workers, len(events) // MAX_EVENTS_PER_CALL))
        sleep = self.sleep or time.sleep
        if workers == 1:
            send_events(
                self.events_client, self.settings.tracking_id, events, progress=self.progress, sleep=sleep
            )
            return
        parts: list[list[Event]] = [[] for _ in range(workers)]
        for event in events:
            parts[zlib.crc32(event.user_id.encode()) % workers].append(event)
        quiet = Progress(io.StringIO())

        def send(part: list[Event]) -> EventsResult:
            return send_events(
                self.events_client, self.settings.tracking_id, part, progress=quiet, sleep=sleep
            )

        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="put-events") as pool:
            results = list(pool.map(send, [p for p in parts if p]))
        calls, retries = sum(r.calls for r in results), sum(r.retries for r in results)
        self.progress.say(
            f"sent {len(events):,} events in {calls:,} PutEvents calls over {workers} workers "
            f"({retries} retries)"
        )

    def _deletions(self, records: list[dict[str, Any]], result: FileResult) -> None:
        fresh = self._fresh(records, result)
        resolved: list[str] = []
        for record in fresh:
            internal = str(record["user_id"])
            external = self.external_id(internal)
            if external is None:
                result.unresolved_deletions.append(internal)
            else:
                resolved.append(external)
        result.deleted_users = sorted(set(resolved))
        if result.deleted_users:
            if self.forget is not None:
                self.forget(result.deleted_users)
            else:
                self.progress.say(
                    f"{len(result.deleted_users)} deleted user(s) to forget: no forget flow configured; "
                    f"they are listed in the checkpoint marker of {result.key}"
                )
        for record in fresh:
            self._forget_pair(str(record["user_id"]))
        self._mark_seen(fresh)

    # ------------------------------------------------------------------ every new file
    def sync(self) -> SyncResult:
        """Process every object under the prefix that has no checkpoint marker (oldest key first)."""
        result = SyncResult()
        objects = sorted(self._keys(self.settings.prefix), key=lambda o: str(o["Key"]))
        for obj in objects:
            key = str(obj["Key"])
            if key.startswith((self.settings.quarantine_prefix, self.settings.state_prefix)):
                continue
            outcome = self.process(key, etag=str(obj.get("ETag", "")))
            if outcome.status != "ignored" or key.endswith(".avro"):
                result.files.append(outcome)
        self.progress.say(result.format())
        return result
