"""Personalize's rules for promotions in GetRecommendations, written once for the emulator and the API.

From "Promoting items in recommendations" (https://docs.aws.amazon.com/personalize/latest/dg/promoting-items.html)
and the API reference of `Promotion` (https://docs.aws.amazon.com/personalize/latest/dg/API_RS_Promotion.html):

- a request carries at most one promotion (botocore's `PromotionList` has max 1);
- `percentPromotedItems` is an integer from 1 to 100; `name` matches ``^[a-zA-Z0-9][a-zA-Z0-9\\-_]*``, 1-63
  characters; `filterValues` has at most 25 entries, as a request's `filterValues`;
- the promotion filter applies to the promoted items only, the request's filter to the other items only
  (to apply both to promoted items, write both into the promotion filter's expression);
- USER_PERSONALIZATION, RELATED_ITEMS and POPULAR_ITEMS recipes support promotions (User-Personalization(-v2),
  SIMS, Similar-Items, Popularity-Count, Trending-Now); PERSONALIZED_RANKING recipes do not
  (GetPersonalizedRanking has no `promotions` member);
- promoted items sit at random positions among the other items, in their own ranked order; when too few
  items match the promotion filter the answer holds as many promoted items as there are.

How the share becomes a count is not documented: `promoted_count` rounds half up (10 results at 25 % ->
3 promoted items), never more than the list.
"""

from __future__ import annotations

import re

from personalize_rules.errors import RulesError

__all__ = [
    "MAX_PROMOTIONS_PER_REQUEST",
    "MAX_PROMOTION_NAME_LENGTH",
    "PERCENT_PROMOTED_RANGE",
    "PROMOTION_NAME_PATTERN",
    "PROMOTION_RECIPES",
    "PromotionError",
    "check_percent",
    "check_promotion_name",
    "promoted_count",
]

MAX_PROMOTIONS_PER_REQUEST = 1
PERCENT_PROMOTED_RANGE = (1, 100)
MAX_PROMOTION_NAME_LENGTH = 63
PROMOTION_NAME_PATTERN = re.compile(r"^[a-zA-Z0-9][a-zA-Z0-9\-_]*$")
PROMOTION_RECIPES = frozenset(
    {
        "aws-user-personalization",
        "aws-user-personalization-v2",
        "aws-sims",
        "aws-similar-items",
        "aws-popularity-count",
        "aws-trending-now",
    }
)


class PromotionError(RulesError, ValueError):
    """A promotion breaks one of the documented rules: `where` names the member, `why` the rule."""


def check_percent(percent: object, where: str = "percentPromotedItems") -> int:
    """The share as an int, or PromotionError when it is not an integer from 1 to 100."""
    low, high = PERCENT_PROMOTED_RANGE
    if isinstance(percent, bool) or not isinstance(percent, int) or not low <= percent <= high:
        raise PromotionError(where, f"must be an integer from {low} to {high}, got {percent!r}")
    return percent


def check_promotion_name(name: object, where: str = "name") -> str:
    if (
        not isinstance(name, str)
        or not 1 <= len(name) <= MAX_PROMOTION_NAME_LENGTH
        or not PROMOTION_NAME_PATTERN.match(name)
    ):
        raise PromotionError(
            where,
            f"must be 1-{MAX_PROMOTION_NAME_LENGTH} characters matching {PROMOTION_NAME_PATTERN.pattern}, "
            f"got {name!r}",
        )
    return name


def promoted_count(num_results: int, percent: int) -> int:
    """How many of `num_results` items the promotion fills (rounded half up, see the module docstring)."""
    check_percent(percent)
    if num_results <= 0:
        return 0
    return min(num_results, (num_results * percent * 2 + 100) // 200)
