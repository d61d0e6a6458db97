"""API settings, read from environment variables once per container.

The pipeline's deploy and serve commands render these variables from Terraform outputs and
config/project.yaml (pipeline.lifecycle.api_settings); nothing of that ships in the Lambda. Filter
expressions are parsed here with the one filter grammar (personalize_rules), which gives each filter's
placeholders and lets the fallback evaluate its item-metadata clauses.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from chalicelib.errors import SettingsError
from chalicelib.experiments import Experiment, parse_experiments

if TYPE_CHECKING:
    from chalicelib.promotions import PromotionSpec
    from personalize_rules.filter_expression import FilterExpression

__all__ = [
    "DEFAULT_API_KEY_HEADER",
    "DEFAULT_DEADLINE_MS",
    "MAX_DEGRADED_CACHE_SECONDS",
    "ON_FALLBACK",
    "FilterSpec",
    "Settings",
    "filter_spec",
]

DEFAULT_API_KEY_HEADER = "X-Api-Key"
DEFAULT_DEADLINE_MS = 1200
MAX_DEGRADED_CACHE_SECONDS = 30  # nothing degraded lives longer (a fallback, an empty answer)
ON_FALLBACK = ("popular", "empty")
OnFallback = Literal["popular", "empty"]


@dataclass(frozen=True)
class FilterSpec:
    """A configured filter: its ARN, its parsed expression and what a fallback does with it."""

    name: str
    arn: str
    expression: FilterExpression
    on_fallback: OnFallback = "popular"

    @property
    def placeholders(self) -> tuple[str, ...]:
        return self.expression.placeholders

    @property
    def optional_placeholders(self) -> frozenset[str]:
        """Placeholders used only in EXCLUDE expressions: Personalize skips such an expression without
        values, and requires values for every INCLUDE placeholder."""
        included = {p for c in self.expression.clauses if c.action == "INCLUDE" for p in c.placeholders}
        return frozenset(p for p in self.placeholders if p not in included)


def filter_spec(name: str, arn: str, expression: str, on_fallback: str = "popular") -> FilterSpec:
    """Parse one filter (raises SettingsError naming it when the expression or on_fallback is wrong)."""
    # Imported here: the grammar is needed once per container, when settings are read, not at import.
    from personalize_rules.filter_expression import FilterExpressionError, parse_filter

    try:
        parsed = parse_filter(expression)
    except FilterExpressionError as exc:
        raise SettingsError(f"FILTERS[{name}]", exc.message) from exc
    if on_fallback not in ON_FALLBACK:
        raise SettingsError(f"FILTERS[{name}].on_fallback", f"must be popular or empty, got {on_fallback!r}")
    return FilterSpec(name, arn, parsed, "empty" if on_fallback == "empty" else "popular")


@dataclass(frozen=True)
class Settings:
    """Everything the API reads from its environment, parsed once per container."""

    campaign_arn: str
    related_campaign_arn: str
    ranking_campaign_arn: str
    bucket: str
    catalog_key: str
    api_key_parameter: str
    api_key_header: str = DEFAULT_API_KEY_HEADER
    filters: Mapping[str, FilterSpec] = field(default_factory=dict)
    default_filter: str = ""
    default_limit: int = 10
    deadline_ms: int = DEFAULT_DEADLINE_MS
    cache_ttl_seconds: int = 300
    degraded_cache_seconds: int = MAX_DEGRADED_CACHE_SECONDS
    cache_max_entries: int = 10_000
    catalog_refresh_seconds: int = 60
    api_key_cache_seconds: int = 300
    breaker_failures: int = 5
    breaker_cooldown_seconds: int = 5
    item_url_template: str = ""
    # Promotions and Personalize-side item metadata (chalicelib.promotions, chalicelib.item_metadata).
    promotions: Mapping[str, PromotionSpec] = field(default_factory=dict)
    metadata_columns: Mapping[str, str] = field(default_factory=dict)  # empty: decorate from the catalog
    # An aws-trending-now campaign for /trending; unset, /trending answers popular items (source fallback).
    trending_campaign_arn: str = ""
    experiments: Mapping[str, Experiment] = field(default_factory=dict)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if environ is None else environ

        def required(name: str) -> str:
            value = env.get(name, "").strip()
            if not value:
                raise SettingsError(name, "is required and empty or unset")
            return value

        def integer(name: str, default: int, low: int, high: int) -> int:
            raw = env.get(name, "").strip()
            if not raw:
                return default
            try:
                value = int(raw)
            except ValueError as exc:
                raise SettingsError(name, f"must be an integer, got {raw!r}") from exc
            if not low <= value <= high:
                raise SettingsError(name, f"must be within {low}..{high}, got {value}")
            return value

        filters = _filters(env)
        default_filter = env.get("DEFAULT_FILTER", "").strip()
        if default_filter and default_filter not in filters:
            raise SettingsError("DEFAULT_FILTER", f"{default_filter!r} is not a key of FILTERS")
        return cls(
            campaign_arn=required("CAMPAIGN_ARN"),
            related_campaign_arn=env.get("RELATED_CAMPAIGN_ARN", "").strip(),
            # No default: the user-personalization campaign cannot rank; unset, /rankings answers the
            # given items in popularity order.
            ranking_campaign_arn=env.get("RANKING_CAMPAIGN_ARN", "").strip(),
            bucket=required("BUCKET"),
            catalog_key=required("CATALOG_KEY"),
            api_key_parameter=required("API_KEY_PARAMETER"),
            api_key_header=env.get("API_KEY_HEADER", "").strip() or DEFAULT_API_KEY_HEADER,
            filters=filters,
            default_filter=default_filter,
            default_limit=integer("DEFAULT_LIMIT", 10, 1, 500),
            # Braze gives a Connected Content call 2 s; API Gateway and Lambda need some of it.
            deadline_ms=integer("DEADLINE_MS", DEFAULT_DEADLINE_MS, 50, 1900),
            cache_ttl_seconds=integer("CACHE_TTL_SECONDS", 300, 0, 14_400),
            degraded_cache_seconds=integer(
                "DEGRADED_CACHE_SECONDS", MAX_DEGRADED_CACHE_SECONDS, 0, MAX_DEGRADED_CACHE_SECONDS
            ),
            cache_max_entries=integer("CACHE_MAX_ENTRIES", 10_000, 0, 1_000_000),
            catalog_refresh_seconds=integer("CATALOG_REFRESH_SECONDS", 60, 0, 86_400),
            api_key_cache_seconds=integer("API_KEY_CACHE_SECONDS", 300, 0, 86_400),
            breaker_failures=integer("BREAKER_FAILURES", 5, 1, 1000),
            breaker_cooldown_seconds=integer("BREAKER_COOLDOWN_SECONDS", 5, 1, 25),
            item_url_template=env.get("ITEM_URL_TEMPLATE", ""),
            promotions=_promotions(env, filters),
            metadata_columns=_metadata_columns(env),
            trending_campaign_arn=env.get("TRENDING_CAMPAIGN_ARN", "").strip(),
            experiments=parse_experiments(env.get("EXPERIMENTS", ""), filters),
        )


def _promotions(env: Mapping[str, str], filters: Mapping[str, FilterSpec]) -> dict[str, PromotionSpec]:
    from chalicelib.promotions import parse_promotions  # it imports FilterSpec from here

    return parse_promotions(env.get("PROMOTIONS", ""), filters)


def _metadata_columns(env: Mapping[str, str]) -> dict[str, str]:
    from chalicelib.item_metadata import parse_metadata_columns

    return parse_metadata_columns(env.get("METADATA_COLUMNS", ""))


def _filters(env: Mapping[str, str]) -> dict[str, FilterSpec]:
    """FILTERS: `{"<name>": {"arn": ..., "expression": ..., "on_fallback": "popular"|"empty"}}`."""
    raw = env.get("FILTERS", "").strip()
    if not raw:
        return {}
    try:
        value: Any = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise SettingsError("FILTERS", f"is not JSON: {exc.msg}") from exc
    if not isinstance(value, dict):
        raise SettingsError("FILTERS", "must be a JSON object")
    filters: dict[str, FilterSpec] = {}
    for name, spec in value.items():
        if not isinstance(spec, dict) or not spec.get("arn") or not spec.get("expression"):
            raise SettingsError(f"FILTERS[{name}]", "needs an arn and an expression")
        filters[str(name)] = filter_spec(
            str(name), str(spec["arn"]), str(spec["expression"]), str(spec.get("on_fallback", "popular"))
        )
    return filters
