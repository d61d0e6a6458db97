"""rankingInfluence at serving time: popularity and freshness re-order a campaign's candidates."""

from __future__ import annotations

from typing import Any

import numpy as np

from local_stack.personalize.ranking_influence import influenced
from local_stack.personalize.recipes import TrainedModel

ITEMS = [f"i{k}" for k in range(8)]
# Relevance falls with the index; popularity rises with it; i5 is the newest item, i7 has no timestamp.
RELEVANCE = [(item, 1.0 - 0.1 * k) for k, item in enumerate(ITEMS)]
MODEL = TrainedModel("aws-user-personalization-v2", ITEMS, np.arange(1, 9, dtype=np.float64) ** 2)
CREATED = {item: 1_600_000_000 + k for k, item in enumerate(ITEMS)}
CREATED["i5"] = 1_700_000_000
del CREATED["i7"]


def _top(n: int) -> list[tuple[str, float]]:
    return RELEVANCE[:n]


def _row(item: str) -> dict[str, Any] | None:
    return {"CREATION_TIMESTAMP": CREATED[item]} if item in CREATED else None


def _ids(influence: dict[str, float], n: int = 3) -> list[str]:
    return [item for item, _ in influenced(MODEL, _top, n, influence, _row)]


def test_no_influence_keeps_the_models_order() -> None:
    assert _ids({"POPULARITY": 0.0, "FRESHNESS": 0.0}) == ["i0", "i1", "i2"]


def test_popularity_pulls_popular_items_up() -> None:
    # The least relevant but most popular item climbs from last to the top two; less influence, less climb.
    assert "i7" in _ids({"POPULARITY": 1.0}, n=2)
    assert _ids({"POPULARITY": 1.0}, n=8).index("i7") < _ids({"POPULARITY": 0.5}, n=8).index("i7")


def test_freshness_pulls_the_newest_item_up() -> None:
    assert _ids({"FRESHNESS": 1.0})[0] == "i5"
    assert "i7" not in _ids({"FRESHNESS": 1.0}, n=6)  # no CREATION_TIMESTAMP: counted as oldest


def test_the_scores_returned_stay_the_models() -> None:
    pairs = influenced(MODEL, _top, 3, {"POPULARITY": 1.0}, _row)
    assert dict(pairs) == {item: score for item, score in RELEVANCE if item in dict(pairs)}
