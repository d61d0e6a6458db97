"""/recommendations in an experiment: the request's variant decides the campaign, filter and promotion.

The variant's filter replaces the request's (placeholder values still come from the request) and its
promotion is passed on as the `promotion` query value, which the promotions code reads like any request's.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace

from chalicelib.experiments import choose
from chalicelib.queries import RecommendationsQuery, parse_recommendations
from chalicelib.settings import Settings

__all__ = ["ROUTE", "parse_experiment_recommendations"]

ROUTE = "/recommendations"


def parse_experiment_recommendations(params: Mapping[str, str], settings: Settings) -> RecommendationsQuery:
    """The query with its experiment assignment (None outside experiments); 400 on unknown names."""
    query = parse_recommendations(params, settings)
    assignment = choose(settings.experiments, params, ROUTE, query.user_id)
    if assignment is None:
        return query
    variant = assignment.variant
    overrides = {
        key: value for key, value in (("filter", variant.filter), ("promotion", variant.promotion)) if value
    }
    if overrides:
        query = parse_recommendations({**params, **overrides}, settings)
    return replace(query, assignment=assignment)
