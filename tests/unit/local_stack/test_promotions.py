from __future__ import annotations

import json
import random
from typing import Any

import numpy as np
import pytest

from local_stack.personalize.errors import InvalidInputException
from local_stack.personalize.filtering import compile_filter
from local_stack.personalize.promotions import Promotion, promoted_list, resolve_promotion
from local_stack.personalize.recipes import PopularityModel
from local_stack.personalize.store import DatasetGroupStore
from pipeline.paths import schema_dir

ITEMS = [f"i{k:03d}" for k in range(200)]
PROMO = "INCLUDE ItemID WHERE Items.CATEGORY_L1 IN ($CATEGORY)"


def _store() -> DatasetGroupStore:
    store = DatasetGroupStore()
    for kind in ("interactions", "items"):
        store.schemas[kind] = json.loads((schema_dir() / "personalize" / f"{kind}.json").read_text())
    # Every 10th item is on sale; popularity falls with the index.
    store.put_rows(
        "items",
        [
            {"ITEM_ID": item, "CATEGORY_L1": "Sale" if k % 10 == 0 else "Regular"}
            for k, item in enumerate(ITEMS)
        ],
    )
    return store


def _model() -> PopularityModel:
    return PopularityModel("aws-popularity-count", ITEMS, np.arange(200, 0, -1, dtype=np.float64))


def _promotion(store: DatasetGroupStore, percent: int, category: str = "Sale") -> Promotion:
    return Promotion("sale", percent, compile_filter(PROMO, store.schemas), {"CATEGORY": f'"{category}"'})


def _run(store: DatasetGroupStore, n: int, promotion: Promotion, seed: int = 3, **kw: Any) -> list[Any]:
    return promoted_list(
        _model(),
        store,
        user_id="u1",
        item_id=None,
        num_results=n,
        compiled=kw.get("compiled"),
        filter_values=kw.get("filter_values", {}),
        promotion=promotion,
        rng=random.Random(seed),
    )


def test_the_promoted_share_comes_from_the_promotion_filter_tagged_and_in_ranked_order() -> None:
    store = _store()
    out = _run(store, 10, _promotion(store, 30))
    promoted = [item for item, _, name in out if name == "sale"]
    assert promoted == ["i000", "i010", "i020"]  # the three best-ranked sale items, in order
    others = [item for item, _, name in out if name is None]
    # The others are the recipe's ranking without the promoted items: never an item twice.
    assert others == ["i001", "i002", "i003", "i004", "i005", "i006", "i007"]
    assert len(out) == 10 and len({item for item, _, _ in out}) == 10


def test_promoted_positions_are_random_but_the_share_is_fixed() -> None:
    store = _store()
    layouts = {
        tuple(k for k, (_, _, name) in enumerate(_run(store, 10, _promotion(store, 30), seed)) if name)
        for seed in range(20)
    }
    assert len(layouts) > 1
    assert all(len(layout) == 3 for layout in layouts)


def test_too_few_matching_items_give_as_many_as_there_are_and_the_rest_fills_the_list() -> None:
    store = _store()
    out = _run(store, 10, _promotion(store, 50, category="Nothing-matches"))
    assert [name for _, _, name in out] == [None] * 10
    assert [item for item, _, _ in out] == ITEMS[:10]


def test_the_request_filter_applies_to_the_other_items_only() -> None:
    store = _store()
    exclude_sale = compile_filter('EXCLUDE ItemID WHERE Items.CATEGORY_L1 IN ("Sale")', store.schemas)
    out = _run(store, 10, _promotion(store, 20), compiled=exclude_sale)
    assert [item for item, _, name in out if name] == ["i000", "i010"]
    assert all(int(item[1:]) % 10 for item, _, name in out if name is None)


def _compile(store: DatasetGroupStore) -> Any:
    return lambda arn: compile_filter(PROMO, store.schemas)


@pytest.mark.parametrize(
    ("promotions", "recipe", "message"),
    [
        (
            [{"name": "a", "percentPromotedItems": 10, "filterArn": "f"}] * 2,
            "aws-sims",
            "At most 1 promotion",
        ),
        (
            [{"name": "a", "percentPromotedItems": 10, "filterArn": "f"}],
            "aws-personalized-ranking",
            "not supported for campaigns of recipe aws-personalized-ranking",
        ),
        ([{"name": "a", "percentPromotedItems": 0, "filterArn": "f"}], "aws-sims", "from 1 to 100"),
        ([{"name": "a", "filterArn": "f"}], "aws-sims", "percentPromotedItems is required"),
        ([{"name": "-a", "percentPromotedItems": 5, "filterArn": "f"}], "aws-sims", "name"),
    ],
)
def test_what_personalize_refuses_in_a_promotion(
    promotions: list[dict[str, Any]], recipe: str, message: str
) -> None:
    with pytest.raises(InvalidInputException, match=message):
        resolve_promotion(promotions, recipe, _compile(_store()))


def test_no_promotion_is_none_and_a_good_one_is_resolved() -> None:
    store = _store()
    assert resolve_promotion([], "aws-user-personalization", _compile(store)) is None
    got = resolve_promotion(
        [
            {
                "name": "sale",
                "percentPromotedItems": 25,
                "filterArn": "f",
                "filterValues": {"CATEGORY": '"Sale"'},
            }
        ],
        "aws-user-personalization-v2",
        _compile(store),
    )
    assert got is not None and (got.name, got.percent, dict(got.filter_values)) == (
        "sale",
        25,
        {"CATEGORY": '"Sale"'},
    )
