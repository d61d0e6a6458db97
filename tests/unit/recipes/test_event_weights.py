"""eventsConfig in training: listed event types only, thresholds, and weights that change the model."""

from __future__ import annotations

from collections.abc import Callable, Iterable

import numpy as np
import pytest

from local_stack.personalize.recipes import RecipeError, TrainedModel, encode_interactions, train
from local_stack.personalize.recipes.data import TrainingData
from personalize_rules.events_config import EventParameter

Row = tuple[str, str, int, str, float | None]
Build = Callable[[Iterable[Row]], TrainingData]
PURCHASE_HEAVY = [EventParameter("Purchase", 1.0), EventParameter("View", 0.05)]


def _views_and_purchases(build: Build) -> TrainingData:
    """200 users each view 5 of 10 v-items twice and buy 2 of 10 p-items: views dominate by count."""
    rng = np.random.default_rng(0)
    rows: list[Row] = []
    for u in range(200):
        t = 1_700_000_000
        for item in rng.choice(10, 5, replace=False):
            for _ in range(2):
                rows.append((f"u{u}", f"v{item}", t, "View", None))
                t += 60
        for item in rng.choice(10, 2, replace=False):
            rows.append((f"u{u}", f"p{item}", t, "Purchase", 1.0))
            t += 60
    return build(rows)


def test_weights_are_each_event_types_weight_over_the_largest(build: Build) -> None:
    data = build(
        [("u1", "a", 1, "View", None), ("u1", "b", 2, "Purchase", 3.0), ("u2", "a", 3, "Click", None)]
    )
    encoded = encode_interactions(
        data.interactions, events=[EventParameter("Purchase", 0.6), EventParameter("View", 0.2)]
    )
    assert len(encoded) == 2  # Click is not listed: left out of training
    assert encoded.weights is not None
    by_item = {encoded.item_ids[i]: float(w) for i, w in zip(encoded.items, encoded.weights, strict=True)}
    assert by_item == pytest.approx({"a": 1 / 3, "b": 1.0})


def test_a_threshold_drops_events_of_its_type_below_it(build: Build) -> None:
    data = build(
        [("u1", "a", 1, "Watch", 0.2), ("u1", "b", 2, "Watch", 0.9), ("u2", "c", 3, "Purchase", None)]
    )
    encoded = encode_interactions(
        data.interactions,
        events=[EventParameter("Watch", 1.0, event_value_threshold=0.5), EventParameter("Purchase", 1.0)],
    )
    assert sorted(encoded.item_ids[i] for i in encoded.items) == ["b", "c"]


def test_a_threshold_without_event_values_is_refused(build: Build) -> None:
    data = build([("u1", "a", 1, "Watch", 0.2)])
    table = data.interactions.drop_columns(["EVENT_VALUE"])
    with pytest.raises(RecipeError, match="EVENT_VALUE"):
        encode_interactions(table, events=[EventParameter("Watch", 1.0, event_value_threshold=0.5)])


@pytest.mark.parametrize("recipe", ["aws-user-personalization-v2", "aws-personalized-ranking-v2"])
def test_heavier_purchases_turn_recommendations_to_purchased_items(build: Build, recipe: str) -> None:
    data = _views_and_purchases(build)
    plain = train(recipe, data)
    weighted = train(recipe, data, events=PURCHASE_HEAVY)

    def top5(model: TrainedModel, user: str) -> list[str]:
        return [item for item, _ in model.recommend_for_user(user, 5)]

    for user in ("u3", "u17", "u150"):
        assert any(item.startswith("v") for item in top5(plain, user)), top5(plain, user)
        assert all(item.startswith("p") for item in top5(weighted, user)), top5(weighted, user)


def test_weighted_popularity_counts_each_event_by_its_weight(build: Build) -> None:
    data = _views_and_purchases(build)
    model = train("aws-user-personalization-v2", data, events=PURCHASE_HEAVY)
    assert all(item.startswith("p") for item, _ in model.popular_items(5))
