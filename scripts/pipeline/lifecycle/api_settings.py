"""The API's environment rendered from Terraform outputs and config/project.yaml, at deploy/serve time.

This runs in the CLI only (`pipeline serve|deploy`); the Lambda reads the variables with
chalicelib.settings.Settings.from_env, which also checks them (rendering calls it, so a bad config fails
here, before a deploy).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from chalicelib.errors import SettingsError
from chalicelib.experiments import POPULAR
from chalicelib.item_metadata import DEFAULT_COLUMNS
from chalicelib.settings import (
    DEFAULT_API_KEY_HEADER,
    DEFAULT_DEADLINE_MS,
    MAX_DEGRADED_CACHE_SECONDS,
    Settings,
)

__all__ = [
    "CATALOG_ARTIFACT",
    "campaign_arn",
    "catalog_key",
    "experiments_environment",
    "render_chalice_config",
    "render_chalice_stage",
    "render_environment",
]

CATALOG_ARTIFACT = "catalog/catalog.bin"  # under storage.artifacts_prefix; written by `import`


def _output(tf_outputs: Mapping[str, Any], name: str) -> str:
    value = tf_outputs.get(name)
    if not value:
        raise SettingsError(name, "missing from the Terraform outputs (run `make apply` first?)")
    return str(value)


def catalog_key(config: Mapping[str, Any]) -> str:
    """The S3 key of the catalog artifact `import` writes and the API reads."""
    return f"{config.get('storage', {}).get('artifacts_prefix', 'artifacts/')}{CATALOG_ARTIFACT}"


def campaign_arn(tf_outputs: Mapping[str, Any], campaign: str) -> str:
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


def experiments_environment(tf_outputs: Mapping[str, Any], config: Mapping[str, Any]) -> dict[str, Any]:
    """The config's experiments for the API (EXPERIMENTS): each variant with its campaign's ARN."""
    rendered: dict[str, Any] = {}
    for experiment in config.get("experiments") or []:
        variants = []
        for variant in experiment["variants"]:
            campaign = variant["campaign"]
            arn = None if campaign == POPULAR else campaign_arn(tf_outputs, campaign)
            variants.append({**variant, "campaign_arn": arn})
        rendered[experiment["name"]] = {"route": experiment.get("route"), "variants": variants}
    return rendered


def render_environment(
    tf_outputs: Mapping[str, Any], config: Mapping[str, Any], *, endpoint_url: str | None = None
) -> dict[str, str]:
    """Environment variables of the API from `terraform output -json` values and the project config.

    `endpoint_url` (the local stack) becomes AWS_ENDPOINT_URL; leave it None for AWS.
    """
    api = config.get("api", {})
    tf_filters = tf_outputs.get("filter_arns") or {}
    filters: dict[str, dict[str, str]] = {}
    for spec in config.get("filters", []):
        name = spec["name"]
        # Terraform may key the map by the config name or by the prefixed resource name.
        arn = tf_filters.get(name) or tf_filters.get(f"{config['name']}-{name}")
        if arn:
            filters[name] = {
                "arn": str(arn),
                "expression": str(spec["expression"]),
                "on_fallback": str(spec.get("on_fallback", "popular")),
            }
    default_filter = api.get("default_filter") or ""
    if default_filter and default_filter not in filters:
        raise SettingsError("api.default_filter", f"no Terraform filter ARN for {default_filter!r}")
    env = {
        "CAMPAIGN_ARN": campaign_arn(tf_outputs, api["campaign"]),
        "RELATED_CAMPAIGN_ARN": (
            campaign_arn(tf_outputs, api["related_items_campaign"])
            if api.get("related_items_campaign")
            else ""
        ),
        "RANKING_CAMPAIGN_ARN": (
            campaign_arn(tf_outputs, api["ranking_campaign"]) if api.get("ranking_campaign") else ""
        ),
        "BUCKET": _output(tf_outputs, "bucket_name"),
        "CATALOG_KEY": catalog_key(config),
        "API_KEY_PARAMETER": _output(tf_outputs, "api_key_parameter_name"),
        "API_KEY_HEADER": str(api.get("api_key_header") or DEFAULT_API_KEY_HEADER),
        "FILTERS": json.dumps(filters, sort_keys=True),
        "DEFAULT_FILTER": default_filter,
        "DEFAULT_LIMIT": str(api.get("default_limit", 10)),
        "DEADLINE_MS": str(api.get("deadline_ms", DEFAULT_DEADLINE_MS)),
        "CACHE_TTL_SECONDS": str(api.get("cache_ttl_seconds", 300)),
        "DEGRADED_CACHE_SECONDS": str(api.get("degraded_cache_seconds", MAX_DEGRADED_CACHE_SECONDS)),
        "BREAKER_FAILURES": str(api.get("breaker_failures", 5)),
        "BREAKER_COOLDOWN_SECONDS": str(api.get("breaker_cooldown_seconds", 5)),
        "ITEM_URL_TEMPLATE": str(api.get("item_url_template", "")),
        "TRENDING_CAMPAIGN_ARN": (
            campaign_arn(tf_outputs, api["trending_campaign"]) if api.get("trending_campaign") else ""
        ),
        "EXPERIMENTS": json.dumps(experiments_environment(tf_outputs, config), sort_keys=True),
    }
    env.update(_promotion_and_metadata_env(config, filters))
    Settings.from_env(env)  # what the Lambda will refuse, refuse now
    if endpoint_url:
        env["AWS_ENDPOINT_URL"] = endpoint_url
    return env


def _promotion_and_metadata_env(
    config: Mapping[str, Any], filters: Mapping[str, Mapping[str, str]]
) -> dict[str, str]:
    """PROMOTIONS (config `promotions:`; like a filter, a promotion whose filter has no Terraform ARN yet
    is left out) and METADATA_COLUMNS (the answer's Items columns, set only when the API's campaign has
    `enable_metadata: true`)."""
    promotions: dict[str, dict[str, Any]] = {}
    for spec in config.get("promotions") or []:
        if spec["filter"] not in filters:
            continue
        promotions[spec["name"]] = {
            "filter": spec["filter"],
            "percent": spec["percent_promoted_items"],
            "filter_values": dict(spec.get("filter_values") or {}),
        }
    api = config.get("api", {})
    campaign: Mapping[str, Any] = next(
        (c for c in config.get("campaigns", []) if c["name"] == api.get("campaign")), {}
    )
    columns = api.get("metadata_columns") or DEFAULT_COLUMNS
    return {
        "PROMOTIONS": json.dumps(promotions, sort_keys=True),
        "METADATA_COLUMNS": json.dumps(columns, sort_keys=True) if campaign.get("enable_metadata") else "",
    }


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
