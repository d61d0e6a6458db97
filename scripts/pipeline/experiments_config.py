"""Checks of the config's `experiments` the JSON Schema cannot make: names that must exist elsewhere in the
config (campaigns, filters), the split summing to 100, one experiment per route.

The first variant of an experiment is its control (`make experiment-report` measures lift against it).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from chalicelib.experiments import POPULAR

__all__ = ["TOTAL_WEIGHT", "experiment_problems"]

TOTAL_WEIGHT = 100


def experiment_problems(config: Mapping[str, Any]) -> Iterator[tuple[str, str]]:
    """(where, why) for each broken rule, `where` a path into the config like the schema errors'."""
    campaigns = {c["name"] for c in config.get("campaigns") or []}
    filters = {f["name"] for f in config.get("filters") or []}
    promotions = _promotion_names(config)
    seen: set[str] = set()
    routes: dict[str, str] = {}
    for i, experiment in enumerate(config.get("experiments") or []):
        name = experiment["name"]
        if name in seen:
            yield f"experiments/{i}/name", f"another experiment is named {name!r}"
        seen.add(name)
        route = experiment.get("route")
        if route:
            if route in routes:
                yield f"experiments/{i}/route", f"{route} is already bound to experiment {routes[route]!r}"
            routes[route] = name
        variants = experiment["variants"]
        names = [v["name"] for v in variants]
        for j, variant in enumerate(variants):
            where = f"experiments/{i}/variants/{j}"
            if names.count(variant["name"]) > 1:
                yield f"{where}/name", f"variant {variant['name']!r} appears more than once in {name!r}"
            campaign = variant["campaign"]
            if campaign != POPULAR and campaign not in campaigns:
                known = ", ".join(sorted(campaigns | {POPULAR}))
                yield f"{where}/campaign", f"no campaign named {campaign!r} (known: {known})"
            promotion = variant.get("promotion")
            if promotion and promotion not in promotions:
                known = ", ".join(sorted(promotions)) or "none"
                yield f"{where}/promotion", f"no promotion named {promotion!r} (known: {known})"
            if variant.get("filter") and variant["filter"] not in filters:
                known = ", ".join(sorted(filters)) or "none"
                yield f"{where}/filter", f"no filter named {variant['filter']!r} (known: {known})"
        total = sum(int(v["weight"]) for v in variants)
        if total != TOTAL_WEIGHT:
            yield f"experiments/{i}/variants", f"the weights of {name!r} sum to {total}, not {TOTAL_WEIGHT}"


def _promotion_names(config: Mapping[str, Any]) -> set[str]:
    """The names of the config's `promotions` (the API refuses any other, so the config does too)."""
    return {str(p["name"]) for p in config.get("promotions") or [] if isinstance(p, Mapping) and "name" in p}
