"""Query-string validation: every bad input becomes a 400 JSON error naming the parameter and the rule."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from chalicelib.errors import ApiError
from chalicelib.settings import Settings

__all__ = [
    "MAX_ID_LENGTH",
    "MAX_LIMIT",
    "MAX_LIMIT_WITH_METADATA",
    "RankingsQuery",
    "RecommendationsQuery",
    "RelatedItemsQuery",
    "parse_rankings",
    "parse_recommendations",
    "parse_related_items",
]

MAX_ID_LENGTH = 256  # Personalize's userId/itemId limit
MAX_LIMIT = 500  # Personalize's numResults / inputList limit
MAX_LIMIT_WITH_METADATA = 50  # Personalize's limit when metadata is returned; we keep the same contract
MAX_FILTER_VALUES = 100
MAX_FILTER_VALUE_LENGTH = 1000


@dataclass(frozen=True)
class RecommendationsQuery:
    user_id: str
    limit: int
    filter_name: str | None
    filter_values: tuple[tuple[str, str], ...] = field(default=())
    metadata: bool = True
    envelope: bool = False


@dataclass(frozen=True)
class RelatedItemsQuery:
    item_id: str
    limit: int
    metadata: bool = True
    envelope: bool = False


@dataclass(frozen=True)
class RankingsQuery:
    user_id: str
    item_ids: tuple[str, ...]
    filter_name: str | None
    filter_values: tuple[tuple[str, str], ...] = field(default=())
    metadata: bool = True
    envelope: bool = False


def _bad(parameter: str, message: str) -> ApiError:
    return ApiError(400, "invalid_parameter", message, parameter)


def _identifier(params: Mapping[str, str], name: str) -> str:
    value = params.get(name)
    if value is None or value == "":
        raise _bad(name, f"{name} is required (1-{MAX_ID_LENGTH} characters)")
    if len(value) > MAX_ID_LENGTH:
        raise _bad(name, f"{name} is {len(value)} characters long; the maximum is {MAX_ID_LENGTH}")
    return value


def _boolean(params: Mapping[str, str], name: str, default: bool) -> bool:
    raw = params.get(name)
    if raw is None or raw == "":
        return default
    lowered = raw.lower()
    if lowered in ("true", "1", "yes"):
        return True
    if lowered in ("false", "0", "no"):
        return False
    raise _bad(name, f"{name} must be true or false, got {raw[:40]!r}")


def _limit(params: Mapping[str, str], default: int, metadata: bool) -> int:
    raw = params.get("limit")
    maximum = MAX_LIMIT_WITH_METADATA if metadata else MAX_LIMIT
    if raw is None or raw == "":
        return min(default, maximum)
    if not raw.isascii() or not raw.isdigit() or len(raw) > 6:
        raise _bad("limit", f"limit must be an integer from 1 to {maximum}, got {raw[:40]!r}")
    value = int(raw)
    if value < 1 or value > MAX_LIMIT:
        raise _bad("limit", f"limit must be from 1 to {MAX_LIMIT}, got {value}")
    if value > maximum:
        raise _bad(
            "limit",
            f"limit is at most {MAX_LIMIT_WITH_METADATA} when item metadata is returned; "
            "pass metadata=false for up to 500 ids",
        )
    return value


def _filter(
    params: Mapping[str, str], settings: Settings, default: str | None
) -> tuple[str | None, tuple[tuple[str, str], ...]]:
    raw = params.get("filter")
    name = raw if raw not in (None, "") else default
    if not name:
        return None, ()
    if name not in settings.filter_arns:
        known = ", ".join(sorted(settings.filter_arns)) or "none configured"
        raise ApiError(400, "unknown_filter", f"no filter named {name[:80]!r} (known: {known})", "filter")
    values: list[tuple[str, str]] = []
    for placeholder in settings.filter_placeholders.get(name, ()):
        raw_value = params.get(placeholder)
        if raw_value is None or raw_value.strip() == "":
            if placeholder in settings.filter_optional_placeholders.get(name, frozenset()):
                continue  # an EXCLUDE condition without values is skipped by Personalize
            raise _bad(
                placeholder, f"filter {name!r} needs a value for ${placeholder} (comma-separated list)"
            )
        parts = [p.strip() for p in raw_value.split(",") if p.strip()]
        if len(parts) > MAX_FILTER_VALUES:
            raise _bad(placeholder, f"at most {MAX_FILTER_VALUES} values for ${placeholder}")
        if any('"' in p or "\\" in p for p in parts):
            raise _bad(placeholder, f"values for ${placeholder} must not contain quotes or backslashes")
        # Personalize wants each string value in escaped double quotes, comma-separated.
        formatted = ",".join(f'"{p}"' for p in parts)
        if len(formatted) > MAX_FILTER_VALUE_LENGTH:
            raise _bad(placeholder, f"values for ${placeholder} exceed {MAX_FILTER_VALUE_LENGTH} characters")
        values.append((placeholder, formatted))
    return name, tuple(values)


def parse_recommendations(params: Mapping[str, str], settings: Settings) -> RecommendationsQuery:
    user_id = _identifier(params, "user_id")
    metadata = _boolean(params, "metadata", True)
    envelope = _boolean(params, "envelope", False)
    limit = _limit(params, settings.default_limit, metadata)
    filter_name, values = _filter(params, settings, settings.default_filter or None)
    return RecommendationsQuery(user_id, limit, filter_name, values, metadata, envelope)


def parse_related_items(params: Mapping[str, str], settings: Settings) -> RelatedItemsQuery:
    item_id = _identifier(params, "item_id")
    metadata = _boolean(params, "metadata", True)
    envelope = _boolean(params, "envelope", False)
    limit = _limit(params, settings.default_limit, metadata)
    return RelatedItemsQuery(item_id, limit, metadata, envelope)


def parse_rankings(params: Mapping[str, str], settings: Settings) -> RankingsQuery:
    user_id = _identifier(params, "user_id")
    metadata = _boolean(params, "metadata", True)
    envelope = _boolean(params, "envelope", False)
    raw = params.get("item_ids") or ""
    item_ids = tuple(dict.fromkeys(part.strip() for part in raw.split(",") if part.strip()))
    if not item_ids:
        raise _bad("item_ids", "item_ids is required: a comma-separated list of item ids")
    maximum = MAX_LIMIT_WITH_METADATA if metadata else MAX_LIMIT
    if len(item_ids) > maximum:
        raise _bad("item_ids", f"at most {maximum} item ids (metadata={'true' if metadata else 'false'})")
    too_long = next((i for i in item_ids if len(i) > MAX_ID_LENGTH), None)
    if too_long is not None:
        raise _bad("item_ids", f"item ids are at most {MAX_ID_LENGTH} characters")
    filter_name, values = _filter(params, settings, None)
    return RankingsQuery(user_id, item_ids, filter_name, values, metadata, envelope)
