"""GetRecommendations' `promotions`: a share of the list filled with items of the promotion filter.

Behaviour from "Promoting items in recommendations"
(https://docs.aws.amazon.com/personalize/latest/dg/promoting-items.html) and the `Promotion` API reference
(https://docs.aws.amazon.com/personalize/latest/dg/API_RS_Promotion.html), with the limits in
personalize_rules.promotion_rules:

- the promotion filter chooses the promoted items (ranked as the recipe ranks them for this user or item),
  the request filter the others; an item is never both;
- promoted items take random positions in the list, in their own ranked order, each tagged `promotionName`;
- with too few items matching the promotion filter, the list holds as many as there are and the recipe's
  items fill the rest.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from local_stack.personalize import runtime
from local_stack.personalize.errors import InvalidInputException
from local_stack.personalize.filtering import CompiledFilter
from local_stack.personalize.recipes import TrainedModel
from local_stack.personalize.store import DatasetGroupStore
from personalize_rules.promotion_rules import (
    MAX_PROMOTIONS_PER_REQUEST,
    PROMOTION_RECIPES,
    PromotionError,
    check_percent,
    check_promotion_name,
    promoted_count,
)

__all__ = ["Promotion", "RankedItem", "promoted_list", "resolve_promotion"]

RankedItem = tuple[str, float, str | None]  # item id, score, promotion name (None: not promoted)


@dataclass(frozen=True)
class Promotion:
    """One request's promotion, checked: its name, share, compiled filter and the filter's values."""

    name: str
    percent: int
    compiled: CompiledFilter
    filter_values: Mapping[str, str]


def resolve_promotion(
    promotions: Sequence[Mapping[str, Any]] | None,
    recipe: str,
    compile_filter: Callable[[str], CompiledFilter],
) -> Promotion | None:
    """The request's promotion, or None; InvalidInputException for what Personalize refuses.

    `compile_filter` maps a filter ARN to the compiled filter of the campaign's dataset group (it raises
    ResourceNotFoundException for an unknown ARN, as for the request's own filterArn).
    """
    if not promotions:
        return None
    if len(promotions) > MAX_PROMOTIONS_PER_REQUEST:
        raise InvalidInputException(
            f"At most {MAX_PROMOTIONS_PER_REQUEST} promotion per request, got {len(promotions)}."
        )
    if recipe not in PROMOTION_RECIPES:
        raise InvalidInputException(
            f"Promotions are not supported for campaigns of recipe {recipe}. Recipes that support "
            f"promotions: {', '.join(sorted(PROMOTION_RECIPES))}."
        )
    given = promotions[0]
    # The model marks every member optional; a promotion without them has no meaning, so all are required.
    for member in ("name", "percentPromotedItems", "filterArn"):
        if given.get(member) is None:
            raise InvalidInputException(f"promotions.1.member.{member} is required for a promotion.")
    try:
        name = check_promotion_name(given["name"], "promotions.1.member.name")
        percent = check_percent(given["percentPromotedItems"], "promotions.1.member.percentPromotedItems")
    except PromotionError as exc:
        raise InvalidInputException(f"Invalid promotion: {exc}") from exc
    return Promotion(name, percent, compile_filter(given["filterArn"]), dict(given.get("filterValues") or {}))


def promoted_list(
    model: TrainedModel,
    store: DatasetGroupStore,
    *,
    user_id: str | None,
    item_id: str | None,
    num_results: int,
    compiled: CompiledFilter | None,
    filter_values: Mapping[str, str],
    promotion: Promotion | None,
    ranking_influence: Mapping[str, float] | None = None,
    rng: random.Random | None = None,
) -> list[RankedItem]:
    """`num_results` items: the promotion's share from its filter, the rest from the request filter
    (without a promotion, all of them from the request filter)."""
    want = promoted_count(num_results, promotion.percent) if promotion else 0
    promoted = (
        runtime.recommend(
            model,
            store,
            user_id=user_id,
            item_id=item_id,
            num_results=want,
            compiled=promotion.compiled,
            filter_values=promotion.filter_values,
            ranking_influence=ranking_influence,
        )
        if promotion and want
        else []
    )
    taken = {item for item, _ in promoted}
    others = runtime.recommend(
        model,
        store,
        user_id=user_id,
        item_id=item_id,
        num_results=num_results,  # enough even if every promoted item is among them
        compiled=compiled,
        filter_values=filter_values,
        ranking_influence=ranking_influence,
    )
    rest = [pair for pair in others if pair[0] not in taken][: num_results - len(promoted)]
    total = len(promoted) + len(rest)
    slots = set((rng or random.Random()).sample(range(total), len(promoted))) if promoted else set()
    name = promotion.name if promotion else None
    out: list[RankedItem] = []
    promoted_iter, rest_iter = iter(promoted), iter(rest)
    for position in range(total):
        if position in slots:
            item, score = next(promoted_iter)
            out.append((item, score, name))
        else:
            item, score = next(rest_iter)
            out.append((item, score, None))
    return out
