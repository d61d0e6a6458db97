"""A campaign's ranking influence (CampaignConfig.rankingInfluence): how much popularity and freshness
weigh in the final order of its recommendations.

CampaignConfig in the Personalize API reference
(https://docs.aws.amazon.com/personalize/latest/dg/API_CampaignConfig.html): "A map of ranking influence
values for POPULARITY and FRESHNESS. For each key, specify a numerical value between 0.0 and 1.0 ... If
not specified, both default to 0.0." Valid keys POPULARITY | FRESHNESS, values in [0, 1]. Freshness is an
item's age from the Items dataset's CREATION_TIMESTAMP. The emulator accepts it on campaigns of the
User-Personalization-v2 recipe, the recipe Personalize documents ranking influence for.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from personalize_rules.errors import RulesError

__all__ = [
    "RANKING_INFLUENCE_KEYS",
    "RANKING_INFLUENCE_RECIPES",
    "RankingInfluenceError",
    "parse_ranking_influence",
]

RANKING_INFLUENCE_KEYS: tuple[str, ...] = ("POPULARITY", "FRESHNESS")
RANKING_INFLUENCE_RECIPES: tuple[str, ...] = ("aws-user-personalization-v2",)


class RankingInfluenceError(RulesError, ValueError):
    """A rankingInfluence Personalize refuses, worded like its InvalidInputException."""

    code = "InvalidInputException"

    def __init__(self, where: str, why: str) -> None:
        super().__init__(where, why, f"Invalid campaignConfig.rankingInfluence ({where}): {why}")


def parse_ranking_influence(recipe: str, influence: Mapping[str, Any] | None) -> dict[str, float]:
    """{POPULARITY: p, FRESHNESS: f} with the documented 0.0 defaults filled in; raises
    RankingInfluenceError for an unknown key, a value outside [0, 1], or a recipe without support.
    None or {} -> {} (no influence)."""
    if not influence:
        return {}
    if recipe not in RANKING_INFLUENCE_RECIPES:
        raise RankingInfluenceError(
            "recipe",
            f"{recipe} does not support ranking influence; use {', '.join(RANKING_INFLUENCE_RECIPES)}",
        )
    out = dict.fromkeys(RANKING_INFLUENCE_KEYS, 0.0)
    for key, raw in influence.items():
        if key not in RANKING_INFLUENCE_KEYS:
            raise RankingInfluenceError(key, f"unknown key; valid keys: {' | '.join(RANKING_INFLUENCE_KEYS)}")
        if isinstance(raw, bool) or not isinstance(raw, int | float):
            raise RankingInfluenceError(key, f"{raw!r} is not a number")
        value = float(raw)
        if not math.isfinite(value) or not 0.0 <= value <= 1.0:
            raise RankingInfluenceError(key, f"{raw} is outside [0.0, 1.0]")
        out[key] = value
    return out
