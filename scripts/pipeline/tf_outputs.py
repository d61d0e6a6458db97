"""Terraform outputs for the scripts and the API: every ARN and name comes from Terraform."""

from __future__ import annotations

import json
from typing import Any

from pipeline.errors import PipelineError
from pipeline.infra import InfraError, run

__all__ = ["REQUIRED_KEYS", "OutputsError", "parse_outputs", "read_outputs"]

# The keys the scripts and the API rely on; read_outputs fails loudly if any is missing.
REQUIRED_KEYS: tuple[str, ...] = (
    "bucket_name",
    "kms_key_arn",
    "personalize_role_arn",
    "api_role_arn",
    "dataset_group_arn",
    "dataset_arns",
    "schema_arns",
    "solution_arns",
    "filter_arns",
    "event_tracker_arn",
    "tracking_id",
    "api_key_parameter_name",
)


class OutputsError(PipelineError):
    """The environment's outputs are unavailable or incomplete (not applied yet?); says which env and why."""

    def __init__(self, env: str, why: str) -> None:
        super().__init__(f"terraform outputs of env {env!r}", why)
        self.env = env


def read_outputs(env: str = "local") -> dict[str, Any]:
    """`terraform output -json` of terraform/envs/<env> as plain values, keyed by output name.

    Besides REQUIRED_KEYS: log_bucket_name, stack_name, solution_names (Personalize names, with the
    config hash), campaign_arns (campaign name -> the ARN the scripts create it under), region and
    endpoint_url (the local stack URL; null in AWS).
    """
    try:
        raw = run("outputs", env, capture=True)
    except InfraError as exc:
        raise OutputsError(env, str(exc)) from exc
    return parse_outputs(env, raw or "{}")


def parse_outputs(env: str, raw: str) -> dict[str, Any]:
    """Plain values from `terraform output -json` text, with the `platform` object flattened.

    Both envs export the platform module's outputs as one object (one definition instead of a copy per
    env); its members become top-level keys next to the env's own outputs (endpoint_url).
    """
    try:
        parsed = json.loads(raw)
    except ValueError as exc:
        raise OutputsError(env, f"terraform output is not JSON: {exc}") from exc
    values = {name: item.get("value") for name, item in parsed.items()}
    platform = values.pop("platform", None)
    if isinstance(platform, dict):
        values = {**platform, **values}
    missing = [k for k in REQUIRED_KEYS if k not in values]
    if missing:
        raise OutputsError(env, f"missing {', '.join(missing)}; run `make apply ENV={env}` first")
    return values
