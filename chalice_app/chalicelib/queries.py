"""Query-string validation: every bad input becomes a 400 JSON error naming the parameter and the rule."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from chalicelib.errors import ApiError
from chalicelib.experiments import Assignment
from chalicelib.promotions import query_promotion
from chalicelib.settings import Settings

__all__ = [
    "CONTROL_CHARACTERS",
    "MAX_ID_LENGTH",
    "MAX_LIMIT",
    "MAX_LIMIT_WITH_METADATA",
    "RankingsQuery",
    "RecommendationsQuery",
    "RelatedItemsQuery",
    "TrendingQuery",
    "parse_rankings",
    "parse_recommendations",
    "parse_related_items",
    "parse_trending",
    "single_values",
]

MAX_ID_LENGTH = 256  # Personalize's userId/itemId limit
MAX_LIMIT = 500  # Personalize's numResults / inputList limit
MAX_LIMIT_WITH_METADATA = 50  # Personalize's limit when metadata is returned; we keep the same contract
MAX_FILTER_VALUES = 100
MAX_FILTER_VALUE_LENGTH = 1000
# C0 controls and DEL: NUL, CR and LF above all (they split log lines and headers; Personalize refuses them).
CONTROL_CHARACTERS = frozenset(chr(c) for c in (*range(0x20), 0x7F))

FilterValues = tuple[tuple[str, str], ...]  # placeholder -> Personalize's quoted, comma-separated list
FilterLists = tuple[tuple[str, tuple[str, ...]], ...]  # placeholder -> the values, for the fallback


@dataclass(frozen=True)
class RecommendationsQuery:
    user_id: str
    limit: int
    filter_name: str | None
    filter_values: FilterValues = field(default=())
    filter_lists: FilterLists = field(default=(), compare=False)
    metadata: bool = True
    envelope: bool = False
    promotion: str | None = None  # a key of settings.promotions
    assignment: Assignment | None = None  # the experiment's variant (chalicelib.experiment_queries)


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
    filter_values: FilterValues = field(default=())
    filter_lists: FilterLists = field(default=(), compare=False)
    metadata: bool = True
    envelope: bool = False


@dataclass(frozen=True)
class TrendingQuery:
    """/trending: the same list for everyone, so no user id (and no filter that needs one)."""

    limit: int
    filter_name: str | None
    filter_values: FilterValues = field(default=())
    filter_lists: FilterLists = field(default=(), compare=False)
    metadata: bool = True
    envelope: bool = False


def _bad(parameter: str, message: str) -> ApiError:
    return ApiError(400, "invalid_parameter", message, parameter)


def single_values(names: list[str], values_of: Callable[[str], list[str]]) -> dict[str, str]:
    """One value per parameter; a parameter given twice is refused (which one would Braze mean?)."""
    params: dict[str, str] = {}
    for name in names:
        values = values_of(name)
        if len(values) > 1:
            raise _bad(name[:80], f"{name[:80]} is given {len(values)} times; give it once")
        params[name] = values[0] if values else ""
    return params


def _no_controls(name: str, value: str) -> None:
    bad = next((c for c in value if c in CONTROL_CHARACTERS), None)
    if bad is not None:
        raise _bad(name, f"{name} must not contain control characters (found U+{ord(bad):04X})")


def _identifier(params: Mapping[str, str], name: str) -> str:
    value = params.get(name)
    if value is None or value == "":
        raise _bad(name, f"{name} is required (1-{MAX_ID_LENGTH} characters)")
    if len(value) > MAX_ID_LENGTH:
        raise _bad(name, f"{name} is {len(value)} characters long; the maximum is {MAX_ID_LENGTH}")
    _no_controls(name, value)
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
) -> tuple[str | None, FilterValues, FilterLists]:
    raw = params.get("filter")
    name = raw if raw not in (None, "") else default
    if not name:
        return None, (), ()
    spec = settings.filters.get(name)
    if spec is None:
        known = ", ".join(sorted(settings.filters)) or "none configured"
        raise ApiError(400, "unknown_filter", f"no filter named {name[:80]!r} (known: {known})", "filter")
    values: list[tuple[str, str]] = []
    lists: list[tuple[str, tuple[str, ...]]] = []
    for placeholder in spec.placeholders:
        raw_value = params.get(placeholder)
        if raw_value is None or raw_value.strip() == "":
            if placeholder in spec.optional_placeholders:
                continue  # an EXCLUDE condition without values is skipped by Personalize
            raise _bad(
                placeholder, f"filter {name!r} needs a value for ${placeholder} (comma-separated list)"
            )
        _no_controls(placeholder, raw_value)
        parts = [p.strip() for p in raw_value.split(",")]
        if any(not p for p in parts):
            raise _bad(
                placeholder, f"${placeholder} has an empty value; give a comma-separated list of values"
            )
        if len(parts) > MAX_FILTER_VALUES:
            raise _bad(placeholder, f"at most {MAX_FILTER_VALUES} values for ${placeholder}")
        if any('"' in p or "\\" in p for p in parts):
            raise _bad(placeholder, f"values for ${placeholder} must not contain quotes or backslashes")
        # Personalize wants each string value in escaped double quotes, comma-separated.
        formatted = ",".join(f'"{p}"' for p in parts)
        if len(formatted) > MAX_FILTER_VALUE_LENGTH:
            raise _bad(placeholder, f"values for ${placeholder} exceed {MAX_FILTER_VALUE_LENGTH} characters")
        values.append((placeholder, formatted))
        lists.append((placeholder, tuple(parts)))
    return name, tuple(values), tuple(lists)


def parse_recommendations(params: Mapping[str, str], settings: Settings) -> RecommendationsQuery:
    user_id = _identifier(params, "user_id")
    metadata = _boolean(params, "metadata", True)
    envelope = _boolean(params, "envelope", False)
    limit = _limit(params, settings.default_limit, metadata)
    filter_name, values, lists = _filter(params, settings, settings.default_filter or None)
    promotion = query_promotion(params, settings.promotions)
    return RecommendationsQuery(user_id, limit, filter_name, values, lists, metadata, envelope, promotion)


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
    _no_controls("item_ids", raw)
    item_ids = tuple(dict.fromkeys(part.strip() for part in raw.split(",") if part.strip()))
    if not item_ids:
        raise _bad("item_ids", "item_ids is required: a comma-separated list of item ids")
    maximum = MAX_LIMIT_WITH_METADATA if metadata else MAX_LIMIT
    if len(item_ids) > maximum:
        raise _bad("item_ids", f"at most {maximum} item ids (metadata={'true' if metadata else 'false'})")
    too_long = next((i for i in item_ids if len(i) > MAX_ID_LENGTH), None)
    if too_long is not None:
        raise _bad("item_ids", f"item ids are at most {MAX_ID_LENGTH} characters")
    filter_name, values, lists = _filter(params, settings, None)
    return RankingsQuery(user_id, item_ids, filter_name, values, lists, metadata, envelope)


def parse_trending(params: Mapping[str, str], settings: Settings) -> TrendingQuery:
    metadata = _boolean(params, "metadata", True)
    envelope = _boolean(params, "envelope", False)
    limit = _limit(params, settings.default_limit, metadata)
    # No default filter: the default excludes what the user saw, and /trending has no user.
    filter_name, values, lists = _filter(params, settings, None)
    return TrendingQuery(limit, filter_name, values, lists, metadata, envelope)
