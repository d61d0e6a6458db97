"""A/B tests of what /recommendations serves: variants, deterministic assignment, Braze's override.

A user's variant is a pure function of (experiment, user_id): the first 8 bytes of a SHA-256 of both,
taken modulo 10,000 buckets, fall in one variant's share of the cumulative weights (percent). So every
container, every retry and every cache miss gives a user the same variant with no state, and a user's
variant in one experiment says nothing of their variant in another (the name is hashed too). Braze's own
multivariate campaigns pass `variant=<name>` instead, which wins over the hash.

The API's environment carries the experiments as JSON (EXPERIMENTS, rendered from config/project.yaml
by the pipeline); the first variant of each is the control.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from chalicelib.errors import ApiError, SettingsError

__all__ = [
    "BUCKETS",
    "POPULAR",
    "Assignment",
    "Experiment",
    "Variant",
    "bucket_of",
    "choose",
    "made_up_recommendation_id",
    "parse_experiments",
]

BUCKETS = 10_000  # 0.01 % resolution for weights given in whole percent
POPULAR = "popular"  # a variant's campaign: the catalog's popularity order, no Personalize call
MADE_UP_PREFIX = "api-"  # ids the API makes up start so, Personalize's start with "RID-"


@dataclass(frozen=True)
class Variant:
    name: str
    campaign: str  # the config's campaign name, or POPULAR
    campaign_arn: str | None  # None: POPULAR
    weight: int  # percent
    filter: str | None = None
    promotion: str | None = None


@dataclass(frozen=True)
class Experiment:
    name: str
    variants: tuple[Variant, ...]
    route: str | None = None

    def variant(self, name: str) -> Variant | None:
        return next((v for v in self.variants if v.name == name), None)

    def assign(self, user_id: str) -> Variant:
        """The user's variant: where their bucket falls in the cumulative weights."""
        bucket = bucket_of(self.name, user_id)
        upper = 0
        for variant in self.variants:
            upper += variant.weight * BUCKETS // 100
            if bucket < upper:
                return variant
        return self.variants[-1]  # unreachable when the weights sum to 100 (checked when parsed)


@dataclass(frozen=True)
class Assignment:
    experiment: str
    variant: Variant
    overridden: bool = False  # Braze passed variant=


def bucket_of(experiment: str, user_id: str) -> int:
    """0..BUCKETS-1, uniform over users, stable across processes (no PYTHONHASHSEED involved)."""
    digest = hashlib.sha256(f"{experiment}\x1f{user_id}".encode()).digest()
    return int.from_bytes(digest[:8], "big") % BUCKETS


def made_up_recommendation_id() -> str:
    """An id for an answer Personalize gave none for (a fallback, the popular variant), so that clicks on
    it can still be attributed. 36 characters: PutEvents takes a recommendationId of at most 40."""
    return f"{MADE_UP_PREFIX}{uuid.uuid4().hex}"


def choose(
    experiments: Mapping[str, Experiment], params: Mapping[str, str], route: str, user_id: str
) -> Assignment | None:
    """The request's experiment and variant: `experiment=` or the experiment bound to `route`; `variant=`
    overrides the hash. Unknown names are the caller's error (400)."""
    name = params.get("experiment") or ""
    if not name:
        bound = next((e for e in experiments.values() if e.route == route), None)
        if bound is None:
            if params.get("variant"):
                raise ApiError(400, "invalid_parameter", "variant needs an experiment", "variant")
            return None
        experiment = bound
    else:
        found = experiments.get(name)
        if found is None:
            known = ", ".join(sorted(experiments)) or "none configured"
            raise ApiError(
                400, "unknown_experiment", f"no experiment named {name[:80]!r} (known: {known})", "experiment"
            )
        experiment = found
    asked = params.get("variant") or ""
    if asked:
        variant = experiment.variant(asked)
        if variant is None:
            known = ", ".join(v.name for v in experiment.variants)
            raise ApiError(
                400,
                "unknown_variant",
                f"experiment {experiment.name!r} has no variant {asked[:80]!r} (known: {known})",
                "variant",
            )
        return Assignment(experiment.name, variant, overridden=True)
    return Assignment(experiment.name, experiment.assign(user_id))


def parse_experiments(raw: str, filters: Mapping[str, Any]) -> dict[str, Experiment]:
    """EXPERIMENTS: `{"<name>": {"route": ..., "variants": [{"name", "campaign", "campaign_arn", "weight",
    "filter", "promotion"}]}}`; raises SettingsError naming what is wrong."""
    if not raw.strip():
        return {}
    try:
        value: Any = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise SettingsError("EXPERIMENTS", f"is not JSON: {exc.msg}") from exc
    if not isinstance(value, dict):
        raise SettingsError("EXPERIMENTS", "must be a JSON object")
    experiments: dict[str, Experiment] = {}
    routes: set[str] = set()
    for name, spec in value.items():
        where = f"EXPERIMENTS[{name}]"
        if not isinstance(spec, dict) or not isinstance(spec.get("variants"), list) or not spec["variants"]:
            raise SettingsError(where, "needs a list of variants")
        variants = tuple(_variant(where, v, filters) for v in spec["variants"])
        if len({v.name for v in variants}) != len(variants):
            raise SettingsError(where, "variant names repeat")
        total = sum(v.weight for v in variants)
        if total != 100:
            raise SettingsError(where, f"variant weights sum to {total}, not 100")
        route = spec.get("route") or None
        if route is not None:
            if route in routes:
                raise SettingsError(where, f"another experiment is bound to {route}")
            routes.add(str(route))
        experiments[str(name)] = Experiment(str(name), variants, route)
    return experiments


def _variant(where: str, spec: Any, filters: Mapping[str, Any]) -> Variant:
    if not isinstance(spec, dict) or not spec.get("name") or not spec.get("campaign"):
        raise SettingsError(where, "each variant needs a name and a campaign")
    name = str(spec["name"])
    campaign = str(spec["campaign"])
    arn = spec.get("campaign_arn") or None
    if campaign != POPULAR and not arn:
        raise SettingsError(f"{where}.{name}", f"campaign {campaign!r} has no campaign_arn")
    weight = spec.get("weight")
    if not isinstance(weight, int) or isinstance(weight, bool) or not 0 <= weight <= 100:
        raise SettingsError(f"{where}.{name}", f"weight must be an integer percent, got {weight!r}")
    filter_name = spec.get("filter") or None
    if filter_name is not None and filter_name not in filters:
        raise SettingsError(f"{where}.{name}", f"filter {filter_name!r} is not a key of FILTERS")
    promotion = spec.get("promotion") or None
    return Variant(
        name,
        campaign,
        None if campaign == POPULAR else str(arn),
        weight,
        filter_name,
        promotion and str(promotion),
    )
