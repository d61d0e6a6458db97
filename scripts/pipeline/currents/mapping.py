"""The config's `currents.events`: which Currents event types become which Personalize events, field by field.

A field path is `<field>` (a top-level field of the storage schema), `properties.<key>` (a key of the
JSON-encoded `properties` string Braze sends with purchases and custom events) or `url.<param>` (a query
parameter of a clicked URL: our content block's links carry `item_id` and `recommendation_id`).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlsplit

from pipeline.errors import PipelineError

__all__ = ["DELETE_EVENT_TYPE", "BridgeEvent", "EventRule", "MappingError", "rules_from_config"]

DELETE_EVENT_TYPE = "users.UserDeleteRequest"


class MappingError(PipelineError):
    """A `currents.events` entry that cannot work; says which and why."""

    def __init__(self, where: str, why: str) -> None:
        super().__init__(f"currents.events.{where}", why)


@dataclass(frozen=True)
class BridgeEvent:
    """One Currents event as Personalize sees it, plus what attribution needs."""

    event_id: str
    user_id: str
    item_id: str | None
    event_type: str
    timestamp: int
    event_value: float | None
    recommendation_id: str | None


class _Reader:
    """Reads one field path from a record; JSON properties and URLs are parsed once per record."""

    def __init__(self, record: Mapping[str, Any]) -> None:
        self.record = record
        self._properties: Mapping[str, Any] | None = None
        self._query: dict[str, list[str]] | None = None

    def get(self, path: str) -> Any:
        head, _, rest = path.partition(".")
        if not rest:
            return self.record.get(path)
        if head == "properties":
            if self._properties is None:
                raw = self.record.get("properties")
                try:
                    parsed = json.loads(raw) if isinstance(raw, str) and raw else {}
                except ValueError:
                    parsed = {}
                self._properties = parsed if isinstance(parsed, dict) else {}
            return self._properties.get(rest)
        if head == "url":
            if self._query is None:
                url = self.record.get("url")
                self._query = parse_qs(urlsplit(url).query) if isinstance(url, str) else {}
            values = self._query.get(rest)
            return values[0] if values else None
        return None


_PATH_HEADS = ("properties", "url")


def _check_path(where: str, path: str | None) -> None:
    if path and "." in path and path.partition(".")[0] not in _PATH_HEADS:
        raise MappingError(where, f"field path {path!r}: use <field>, properties.<key> or url.<param>")


@dataclass(frozen=True)
class EventRule:
    currents_type: str
    event_type: str
    item_id: str | None = None
    event_value: str | None = None
    recommendation_id: str | None = None
    names: frozenset[str] | None = None

    def convert(self, record: Mapping[str, Any]) -> BridgeEvent | None:
        """The Personalize event of a record, or None when it has no external user id or is not wanted."""
        user = record.get("external_user_id")
        if not user:
            return None  # Personalize knows our external ids only; anonymous events cannot be attributed
        if self.names is not None and record.get("name") not in self.names:
            return None
        reader = _Reader(record)
        event_type = self.event_type
        if event_type.startswith("$"):
            event_type = str(reader.get(event_type[1:]) or "")
            if not event_type:
                return None
        item = reader.get(self.item_id) if self.item_id else None
        value = reader.get(self.event_value) if self.event_value else None
        try:
            number = float(value) if value is not None and value != "" else None
        except (TypeError, ValueError):
            number = None
        rec = reader.get(self.recommendation_id) if self.recommendation_id else None
        return BridgeEvent(
            event_id=str(record["id"]),
            user_id=str(user),
            item_id=str(item) if item not in (None, "") else None,
            event_type=event_type,
            timestamp=int(record["time"]),
            event_value=number,
            recommendation_id=str(rec) if rec else None,
        )


def rules_from_config(events: Mapping[str, Mapping[str, Any]]) -> dict[str, EventRule]:
    rules = {}
    for currents_type, spec in events.items():
        if currents_type == DELETE_EVENT_TYPE:
            raise MappingError(currents_type, "deletions are handled by the bridge itself; remove the entry")
        for key in ("item_id", "event_value", "recommendation_id"):
            _check_path(f"{currents_type}.{key}", spec.get(key))
        names = spec.get("names")
        rules[currents_type] = EventRule(
            currents_type=currents_type,
            event_type=str(spec["event_type"]),
            item_id=spec.get("item_id"),
            event_value=spec.get("event_value"),
            recommendation_id=spec.get("recommendation_id"),
            names=frozenset(names) if names is not None else None,
        )
    return rules
