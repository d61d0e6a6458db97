"""`events`: stream interactions from a CSV through the event tracker (PutEvents), with backoff."""

from __future__ import annotations

import csv
import hashlib
import random
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from botocore.exceptions import ClientError

from pipeline.lifecycle.context import Context, Progress
from pipeline.lifecycle.errors import ThrottledError, ValidationFailedError

__all__ = [
    "MAX_EVENTS_PER_CALL",
    "Event",
    "EventsResult",
    "batches",
    "read_events",
    "run_events",
    "send_events",
]

MAX_EVENTS_PER_CALL = 10  # PutEvents' documented maximum
_THROTTLE_CODES = frozenset({"ThrottlingException", "TooManyRequestsException", "RequestLimitExceeded"})


@dataclass(frozen=True)
class Event:
    user_id: str
    session_id: str
    item_id: str
    event_type: str
    timestamp: int
    event_value: float | None = None
    event_id: str | None = None  # a source's own id (a Currents event id); else derived from the row
    recommendation_id: str | None = None  # the recommendation that led to this event (attribution)

    def to_api(self) -> dict[str, Any]:
        event: dict[str, Any] = {
            # Deterministic id: the same row re-sent is recognisably the same event.
            "eventId": self.event_id
            or hashlib.sha1(  # noqa: S324 - an id, not a security digest
                f"{self.user_id}|{self.item_id}|{self.event_type}|{self.timestamp}".encode()
            ).hexdigest(),
            "eventType": self.event_type,
            "itemId": self.item_id,
            "sentAt": datetime.fromtimestamp(self.timestamp, UTC),
        }
        if self.event_value is not None:
            event["eventValue"] = self.event_value
        if self.recommendation_id:
            event["recommendationId"] = self.recommendation_id
        return event


@dataclass(frozen=True)
class EventsResult:
    events: int
    calls: int
    retries: int


def read_events(path: Path) -> list[Event]:
    """Rows of an interactions CSV (USER_ID, ITEM_ID, TIMESTAMP, EVENT_TYPE[, EVENT_VALUE][, SESSION_ID])."""
    with path.open(newline="", encoding="utf-8-sig") as handle:
        reader = csv.DictReader(handle)
        missing = {"USER_ID", "ITEM_ID", "TIMESTAMP", "EVENT_TYPE"} - set(reader.fieldnames or [])
        if missing:
            raise ValidationFailedError(
                str(path), f"missing column(s) {', '.join(sorted(missing))}", "use the schema header"
            )
        events = []
        for line, row in enumerate(reader, start=2):
            try:
                value = row.get("EVENT_VALUE") or ""
                events.append(
                    Event(
                        user_id=row["USER_ID"],
                        session_id=row.get("SESSION_ID") or f"{row['USER_ID']}-stream",
                        item_id=row["ITEM_ID"],
                        event_type=row["EVENT_TYPE"],
                        timestamp=int(row["TIMESTAMP"]),
                        event_value=float(value) if value else None,
                    )
                )
            except ValueError as exc:
                raise ValidationFailedError(f"{path}:{line}", str(exc), "TIMESTAMP is Unix seconds") from None
    return events


def batches(events: Iterable[Event]) -> list[tuple[str, str, list[Event]]]:
    """(user, session, ≤10 events in time order) groups; one PutEvents call each."""
    groups: dict[tuple[str, str], list[Event]] = {}
    for event in events:
        groups.setdefault((event.user_id, event.session_id), []).append(event)
    out = []
    for (user, session), group in groups.items():
        group.sort(key=lambda e: e.timestamp)
        for start in range(0, len(group), MAX_EVENTS_PER_CALL):
            out.append((user, session, group[start : start + MAX_EVENTS_PER_CALL]))
    return out


def send_events(
    client: Any,
    tracking_id: str,
    events: Sequence[Event],
    *,
    progress: Progress | None = None,
    sleep: Callable[[float], None] = time.sleep,
    max_attempts: int = 6,
    base_delay: float = 0.2,
    rng: random.Random | None = None,
) -> EventsResult:
    """PutEvents in groups; a throttled call is retried after base·2^n seconds (+≤25 % jitter)."""
    progress = progress or Progress()
    rng = rng or random.Random()
    calls = retries = 0
    for user, session, group in batches(events):
        for attempt in range(max_attempts):
            try:
                client.put_events(
                    trackingId=tracking_id,
                    userId=user,
                    sessionId=session,
                    eventList=[e.to_api() for e in group],
                )
                calls += 1
                break
            except ClientError as exc:
                code = exc.response.get("Error", {}).get("Code", "")
                if code not in _THROTTLE_CODES:
                    raise
                if attempt == max_attempts - 1:
                    raise ThrottledError(
                        f"PutEvents for user {user}",
                        f"still throttled after {max_attempts} attempts",
                        "send fewer events at a time or ask AWS for a higher PutEvents quota; "
                        "re-running resends the whole file",
                    ) from None
                delay = base_delay * 2**attempt * (1 + 0.25 * rng.random())
                retries += 1
                progress.say(f"PutEvents throttled for user {user}; retry {attempt + 1} in {delay:.2f}s")
                sleep(delay)
    progress.say(f"sent {len(events):,} events in {calls:,} PutEvents calls ({retries} retries)")
    return EventsResult(len(events), calls, retries)


def run_events(ctx: Context, csv_file: Path) -> EventsResult:
    events = read_events(csv_file)
    return send_events(
        ctx.events_client, str(ctx.output("tracking_id")), events, progress=ctx.progress, sleep=ctx.sleep
    )
