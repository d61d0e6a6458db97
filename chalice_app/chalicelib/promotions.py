"""Named promotions (config `promotions:`) for `/recommendations?promotion=<name>`.

A promotion names a configured filter, the share of the list it fills and, optionally, fixed values for the
filter's placeholders. The API passes it to GetRecommendations as Personalize's `promotions` member
(https://docs.aws.amazon.com/personalize/latest/dg/promoting-items.html); the rules (one promotion per
request, 1-100 %, the name pattern, how the share rounds) are personalize_rules.promotion_rules'.

When Personalize cannot answer, the fallback honours a promotion whose filter it can evaluate on the
catalog (item-metadata clauses only, as for the request's filter) and answers without it otherwise.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from chalicelib.errors import ApiError, SettingsError

if TYPE_CHECKING:
    from personalize_rules.filter_expression import FilterExpression

__all__ = ["PromotionSpec", "keep_promoted_share", "parse_promotions", "promotion_request", "query_promotion"]

FilterLists = tuple[tuple[str, tuple[str, ...]], ...]


class FilterSpec(Protocol):
    """What a promotion needs of a configured filter (chalicelib.settings.FilterSpec, which reads the
    settings and so cannot be imported here)."""

    @property
    def name(self) -> str: ...
    @property
    def arn(self) -> str: ...
    @property
    def expression(self) -> FilterExpression: ...
    @property
    def placeholders(self) -> tuple[str, ...]: ...
    @property
    def optional_placeholders(self) -> frozenset[str]: ...


@dataclass(frozen=True)
class PromotionSpec:
    """A configured promotion: its filter, the share of the list it fills and the filter's values."""

    name: str
    filter: FilterSpec
    percent: int
    lists: FilterLists = ()  # placeholder -> values, as configured

    def filter_values(self) -> dict[str, str]:
        """Personalize's `filterValues`: each value in double quotes, comma-separated."""
        return {name: ",".join(f'"{v}"' for v in values) for name, values in self.lists}


def promotion_request(spec: PromotionSpec) -> dict[str, Any]:
    """The `promotions` member of GetRecommendations for this promotion."""
    promotion: dict[str, Any] = {
        "name": spec.name,
        "percentPromotedItems": spec.percent,
        "filterArn": spec.filter.arn,
    }
    values = spec.filter_values()
    if values:
        promotion["filterValues"] = values
    return promotion


def keep_promoted_share(
    item_ids: list[str], promoted: Mapping[str, str], limit: int, percent: int
) -> list[str]:
    """Personalize's list reordered so its first `limit` ids hold the promotion's share of `limit`.

    The API asks for more items than it shows (to backfill ids missing from the catalog), and Personalize
    places the promoted share of that longer list at random positions: cut to `limit` as is, the shown list
    could hold none of them, or too many. The head keeps Personalize's order; the tail (backfill) holds only
    unpromoted items, so the share never grows past what was asked for."""
    from personalize_rules.promotion_rules import promoted_count

    want = promoted_count(limit, percent)
    lead = [i for i in item_ids if i in promoted][:want]
    lead += [i for i in item_ids if i not in promoted][: limit - len(lead)]
    chosen = set(lead)
    head = [i for i in item_ids if i in chosen]
    tail = [i for i in item_ids if i not in chosen and i not in promoted]
    return head + tail


def _values(where: str, raw: Any, spec: FilterSpec) -> FilterLists:
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        raise SettingsError(where, "must be an object of placeholder -> list of values")
    unknown = sorted(set(raw) - set(spec.placeholders))
    if unknown:
        raise SettingsError(where, f"{', '.join(unknown)} not placeholders of filter {spec.name!r}")
    lists: list[tuple[str, tuple[str, ...]]] = []
    for placeholder in spec.placeholders:
        values = raw.get(placeholder)
        if values is None:
            # Personalize needs values for every INCLUDE placeholder; EXCLUDE parts without are skipped.
            if placeholder not in spec.optional_placeholders:
                raise SettingsError(where, f"filter {spec.name!r} needs a value for ${placeholder}")
            continue
        if isinstance(values, str):
            values = [values]
        if not isinstance(values, list) or not values or not all(isinstance(v, str) and v for v in values):
            raise SettingsError(f"{where}.{placeholder}", "must be a non-empty list of non-empty strings")
        if any('"' in v or "\\" in v for v in values):
            raise SettingsError(f"{where}.{placeholder}", "values must not contain quotes or backslashes")
        lists.append((placeholder, tuple(values)))
    return tuple(lists)


def parse_promotions(raw: str, filters: Mapping[str, FilterSpec]) -> dict[str, PromotionSpec]:
    """PROMOTIONS: `{"<name>": {"filter": "<filter name>", "percent": 1-100, "filter_values": {...}}}`."""
    from personalize_rules.promotion_rules import PromotionError, check_percent, check_promotion_name

    if not raw.strip():
        return {}
    try:
        value: Any = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise SettingsError("PROMOTIONS", f"is not JSON: {exc.msg}") from exc
    if not isinstance(value, dict):
        raise SettingsError("PROMOTIONS", "must be a JSON object")
    promotions: dict[str, PromotionSpec] = {}
    for name, spec in value.items():
        where = f"PROMOTIONS[{name}]"
        if not isinstance(spec, dict):
            raise SettingsError(where, "must be an object with filter and percent")
        try:
            check_promotion_name(name, where)
            percent = check_percent(spec.get("percent"), f"{where}.percent")
        except PromotionError as exc:
            raise SettingsError(exc.where, exc.why) from exc
        filter_spec = filters.get(str(spec.get("filter", "")))
        if filter_spec is None:
            known = ", ".join(sorted(filters)) or "none"
            raise SettingsError(
                f"{where}.filter", f"{spec.get('filter')!r} is not a key of FILTERS (known: {known})"
            )
        lists = _values(f"{where}.filter_values", spec.get("filter_values"), filter_spec)
        promotions[name] = PromotionSpec(name, filter_spec, percent, lists)
    return promotions


def query_promotion(params: Mapping[str, str], promotions: Mapping[str, PromotionSpec]) -> str | None:
    """The request's `promotion` name, or None; 400 naming the known ones when it is not configured."""
    name = params.get("promotion")
    if name is None or name == "":
        return None
    if name not in promotions:
        known = ", ".join(sorted(promotions)) or "none configured"
        raise ApiError(
            400, "unknown_promotion", f"no promotion named {name[:80]!r} (known: {known})", "promotion"
        )
    return name
