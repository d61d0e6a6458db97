"""API settings: read from environment variables, and rendered from Terraform outputs + project config.

The Lambda (and `chalice local`) only ever sees environment variables; `render_environment` is how the
pipeline CLI (`python -m pipeline serve|deploy`) turns Terraform outputs and config/project.yaml into them.
This module must stay importable without PyYAML or the pipeline package: it ships inside the Lambda.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from chalicelib.errors import SettingsError

__all__ = [
    "DEFAULT_API_KEY_HEADER",
    "Settings",
    "campaign_arn",
    "filter_placeholders",
    "optional_placeholders",
    "render_chalice_config",
    "render_chalice_stage",
    "render_environment",
]

DEFAULT_API_KEY_HEADER = "X-Api-Key"
_PLACEHOLDER = re.compile(r"\$([A-Za-z0-9_]+)")


@dataclass(frozen=True)
class Settings:
    """Everything the API reads from its environment, parsed once per container."""

    campaign_arn: str
    related_campaign_arn: str
    ranking_campaign_arn: str
    bucket: str
    catalog_key: str
    fallback_key: str
    api_key_parameter: str
    api_key_header: str = DEFAULT_API_KEY_HEADER
    filter_arns: Mapping[str, str] = field(default_factory=dict)
    filter_placeholders: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    # Placeholders used only in EXCLUDE parts: Personalize lets callers omit their values.
    filter_optional_placeholders: Mapping[str, frozenset[str]] = field(default_factory=dict)
    default_filter: str = ""
    default_limit: int = 10
    backend_timeout_ms: int = 800
    cache_ttl_seconds: int = 300
    cache_max_entries: int = 10_000
    catalog_refresh_seconds: int = 60
    api_key_cache_seconds: int = 300
    item_url_template: str = ""

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

        filter_arns = _json_map(env, "FILTER_ARNS")
        placeholders = {
            name: tuple(str(p) for p in values) if isinstance(values, list) else ()
            for name, values in _json_map(env, "FILTER_PLACEHOLDERS").items()
        }
        optional = {
            name: frozenset(str(p) for p in values) if isinstance(values, list) else frozenset()
            for name, values in _json_map(env, "FILTER_OPTIONAL_PLACEHOLDERS").items()
        }
        default_filter = env.get("DEFAULT_FILTER", "").strip()
        if default_filter and default_filter not in filter_arns:
            raise SettingsError("DEFAULT_FILTER", f"{default_filter!r} is not a key of FILTER_ARNS")
        campaign = required("CAMPAIGN_ARN")
        return cls(
            campaign_arn=campaign,
            related_campaign_arn=env.get("RELATED_CAMPAIGN_ARN", "").strip(),
            ranking_campaign_arn=env.get("RANKING_CAMPAIGN_ARN", "").strip() or campaign,
            bucket=required("BUCKET"),
            catalog_key=required("CATALOG_KEY"),
            fallback_key=required("FALLBACK_KEY"),
            api_key_parameter=required("API_KEY_PARAMETER"),
            api_key_header=env.get("API_KEY_HEADER", "").strip() or DEFAULT_API_KEY_HEADER,
            filter_arns={k: str(v) for k, v in filter_arns.items()},
            filter_placeholders=placeholders,
            filter_optional_placeholders=optional,
            default_filter=default_filter,
            default_limit=integer("DEFAULT_LIMIT", 10, 1, 500),
            backend_timeout_ms=integer("BACKEND_TIMEOUT_MS", 800, 10, 1900),
            cache_ttl_seconds=integer("CACHE_TTL_SECONDS", 300, 0, 14_400),
            cache_max_entries=integer("CACHE_MAX_ENTRIES", 10_000, 0, 1_000_000),
            catalog_refresh_seconds=integer("CATALOG_REFRESH_SECONDS", 60, 0, 86_400),
            api_key_cache_seconds=integer("API_KEY_CACHE_SECONDS", 300, 0, 86_400),
            item_url_template=env.get("ITEM_URL_TEMPLATE", ""),
        )


def _json_map(env: Mapping[str, str], name: str) -> dict[str, Any]:
    raw = env.get(name, "").strip()
    if not raw:
        return {}
    try:
        value = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise SettingsError(name, f"is not JSON: {exc.msg}") from exc
    if not isinstance(value, dict):
        raise SettingsError(name, "must be a JSON object")
    return value


def _output(tf_outputs: Mapping[str, Any], name: str) -> str:
    value = tf_outputs.get(name)
    if not value:
        raise SettingsError(name, "missing from the Terraform outputs (run `make apply` first?)")
    return str(value)


def filter_placeholders(expression: str) -> list[str]:
    """Placeholder names (`$CATEGORY` -> `CATEGORY`) of a filter expression, in first-use order."""
    return list(dict.fromkeys(_PLACEHOLDER.findall(expression)))


def optional_placeholders(expression: str) -> list[str]:
    """Placeholders that appear only in EXCLUDE parts of an expression (parts are joined by `|`).

    Personalize requires values for INCLUDE placeholders and ignores an EXCLUDE condition whose values
    are omitted.
    """
    included: set[str] = set()
    excluded: list[str] = []
    for part in expression.split("|"):
        names = _PLACEHOLDER.findall(part)
        if part.strip().upper().startswith("EXCLUDE"):
            excluded.extend(names)
        else:
            included.update(names)
    return [name for name in dict.fromkeys(excluded) if name not in included]


def campaign_arn(tf_outputs: Mapping[str, Any], config: Mapping[str, Any], campaign: str) -> str:
    """The ARN of a script-made campaign, from Terraform's `campaign_arns` output (the same ARNs the
    API role's policy is scoped to; the pipeline creates each campaign under that name)."""
    arns = dict(tf_outputs.get("campaign_arns") or {})
    if campaign not in arns:
        known = ", ".join(sorted(arns)) or "none"
        raise SettingsError(
            "campaign_arns",
            f"no campaign {campaign!r} in the Terraform outputs (known: {known}); run make apply",
        )
    return str(arns[campaign])


def render_environment(
    tf_outputs: Mapping[str, Any], config: Mapping[str, Any], *, endpoint_url: str | None = None
) -> dict[str, str]:
    """Environment variables of the API from `terraform output -json` values and the project config.

    `endpoint_url` (the local stack) becomes AWS_ENDPOINT_URL; leave it None for AWS.
    """
    api = config.get("api", {})
    artifacts = config.get("storage", {}).get("artifacts_prefix", "artifacts/")
    tf_filters = tf_outputs.get("filter_arns") or {}
    filter_arns: dict[str, str] = {}
    placeholders: dict[str, list[str]] = {}
    optional: dict[str, list[str]] = {}
    for spec in config.get("filters", []):
        name = spec["name"]
        # Terraform may key the map by the config name or by the prefixed resource name.
        arn = tf_filters.get(name) or tf_filters.get(f"{config['name']}-{name}")
        if arn:
            filter_arns[name] = str(arn)
            placeholders[name] = filter_placeholders(spec["expression"])
            optional[name] = optional_placeholders(spec["expression"])
    default_filter = api.get("default_filter") or ""
    if default_filter and default_filter not in filter_arns:
        raise SettingsError("api.default_filter", f"no Terraform filter ARN for {default_filter!r}")
    env = {
        "CAMPAIGN_ARN": campaign_arn(tf_outputs, config, api["campaign"]),
        "RELATED_CAMPAIGN_ARN": (
            campaign_arn(tf_outputs, config, api["related_items_campaign"])
            if api.get("related_items_campaign")
            else ""
        ),
        "RANKING_CAMPAIGN_ARN": (
            campaign_arn(tf_outputs, config, api["ranking_campaign"]) if api.get("ranking_campaign") else ""
        ),
        "BUCKET": _output(tf_outputs, "bucket_name"),
        "CATALOG_KEY": str(tf_outputs.get("catalog_key") or f"{artifacts}catalog/items.csv"),
        "FALLBACK_KEY": f"{artifacts}fallback/popular.json",
        "API_KEY_PARAMETER": _output(tf_outputs, "api_key_parameter_name"),
        "API_KEY_HEADER": str(api.get("api_key_header") or DEFAULT_API_KEY_HEADER),
        "FILTER_ARNS": json.dumps(filter_arns, sort_keys=True),
        "FILTER_PLACEHOLDERS": json.dumps(placeholders, sort_keys=True),
        "FILTER_OPTIONAL_PLACEHOLDERS": json.dumps(optional, sort_keys=True),
        "DEFAULT_FILTER": default_filter,
        "DEFAULT_LIMIT": str(api.get("default_limit", 10)),
        "BACKEND_TIMEOUT_MS": str(api.get("backend_timeout_ms", 800)),
        "CACHE_TTL_SECONDS": str(api.get("cache_ttl_seconds", 300)),
        "ITEM_URL_TEMPLATE": str(api.get("item_url_template", "")),
    }
    if endpoint_url:
        env["AWS_ENDPOINT_URL"] = endpoint_url
    return env


def render_chalice_stage(tf_outputs: Mapping[str, Any], config: Mapping[str, Any]) -> dict[str, Any]:
    """The `stages.<stage>` block of .chalice/config.json for `chalice deploy` with the Terraform role."""
    return {
        "api_gateway_stage": "api",
        "manage_iam_role": False,
        "iam_role_arn": _output(tf_outputs, "api_role_arn"),
        "autogen_policy": False,
        "lambda_timeout": 5,
        "lambda_memory_size": 512,
        "environment_variables": render_environment(tf_outputs, config),
    }


def render_chalice_config(
    base: Mapping[str, Any], tf_outputs: Mapping[str, Any], config: Mapping[str, Any], stage: str = "aws"
) -> dict[str, Any]:
    """A whole .chalice/config.json for `chalice deploy --stage <stage>`: `base` (the repo's file) with the
    stage filled from Terraform and `app_name` = `<config name>-api`, the prefix the Terraform-made role
    may write logs for (the Lambda is named `<app_name>-<stage>`)."""
    rendered = json.loads(json.dumps(base))  # a deep copy of plain JSON
    rendered["app_name"] = f"{config['name']}-api"
    stages = rendered.setdefault("stages", {})
    stages[stage] = {**stages.get(stage, {}), **render_chalice_stage(tf_outputs, config)}
    return dict(rendered)
