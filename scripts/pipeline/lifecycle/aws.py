"""Small Personalize helpers shared by the commands: pagination, lookups by name, version listings."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

__all__ = ["creation_time", "paginate", "sort_newest_first"]


def paginate(call: Callable[..., Any], key: str, **params: Any) -> Iterator[dict[str, Any]]:
    """Every item of a Personalize List* call, following nextToken."""
    token: str | None = None
    while True:
        kwargs = dict(params)
        if token:
            kwargs["nextToken"] = token
        page = call(**kwargs)
        yield from page.get(key, [])
        token = page.get("nextToken")
        if not token:
            return


def creation_time(item: dict[str, Any]) -> datetime:
    value = item.get("creationDateTime")
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    return datetime.min.replace(tzinfo=UTC)


def sort_newest_first(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return sorted(items, key=creation_time, reverse=True)
