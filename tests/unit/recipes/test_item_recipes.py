from __future__ import annotations

import pickle
from collections.abc import Callable, Iterable, Mapping

import pytest

from local_stack.personalize.recipes import TrainedModel, TrainingData, train

Row = tuple[str, str, int, str, float | None]
Build = Callable[[Iterable[Row]], TrainingData]

OPEN_SIMS = {  # no percentile trimming, so tiny planted examples keep every user and item
    "min_user_history_length_percentile": "0.0",
    "max_user_history_length_percentile": "1.0",
    "min_item_interaction_count_percentile": "0.0",
    "max_item_interaction_count_percentile": "1.0",
}


def _train(
    recipe: str,
    data: TrainingData,
    hyperparameters: Mapping[str, str] | None = None,
    *,
    event_type: str | None = None,
    event_value_threshold: str | None = None,
) -> TrainedModel:
    return train(
        recipe,
        data,
        hyperparameters=dict(hyperparameters or {}),
        event_type=event_type,
        event_value_threshold=event_value_threshold,
        perform_hpo=False,
        # SIMS's own hyperparameters shape its co-occurrence candidate, which these tests pin.
        candidates=("cooccurrence",) if recipe == "aws-sims" else None,
        hpo_config=None,
    )


def test_sims_returns_items_of_the_same_group(two_groups: TrainingData) -> None:
    model = _train("aws-sims", two_groups, {**OPEN_SIMS, "min_cointeraction_count": "2"})
    for anchor in ("a3", "b0"):
        related = model.related_items(anchor, 10)
        assert len(related) == 10
        assert anchor not in [item for item, _ in related]
        assert all(item[0] == anchor[0] for item, _ in related), related
    assert all(item.startswith("b") for item, _ in model.recommend_for_user("b-user4", 10))


def _popular_versus_correlated(build: Build) -> TrainingData:
    # x is bought by u0..u7; y only by u0..u4 (strongly correlated with x); p by u0..u7 and 42 others.
    rows: list[Row] = [(f"u{u}", "x", 1, "Purchase", None) for u in range(8)]
    rows += [(f"u{u}", "y", 2, "Purchase", None) for u in range(5)]
    rows += [(f"u{u}", "p", 3, "Purchase", None) for u in range(50)]
    return build(rows)


def test_popularity_discount_zero_ranks_by_raw_cointeraction_counts(build: Build) -> None:
    model = _train(
        "aws-sims", _popular_versus_correlated(build), {**OPEN_SIMS, "popularity_discount_factor": "0"}
    )
    assert [item for item, _ in model.related_items("x", 2)] == ["p", "y"]


def test_popularity_discount_one_ranks_by_correlation(build: Build) -> None:
    model = _train(
        "aws-sims", _popular_versus_correlated(build), {**OPEN_SIMS, "popularity_discount_factor": "1"}
    )
    assert [item for item, _ in model.related_items("x", 2)] == ["y", "p"]


def test_min_cointeraction_count_drops_rare_pairs_and_falls_back_to_popular_items(build: Build) -> None:
    rows: list[Row] = [("u1", "x", 1, "View", None), ("u1", "rare", 2, "View", None)]
    rows += [("u2", "x", 1, "View", None), ("u2", "rare", 2, "View", None)]
    rows += [(f"v{u}", "hit", 1, "View", None) for u in range(5)]
    data = build(rows)
    loose = _train("aws-sims", data, {**OPEN_SIMS, "min_cointeraction_count": "2"})
    strict = _train("aws-sims", data, {**OPEN_SIMS, "min_cointeraction_count": "3"})
    assert loose.related_items("x", 1)[0][0] == "rare"
    assert strict.related_items("x", 1)[0][0] == "hit"  # no pair qualifies: most popular instead
    assert strict.related_items("never-seen", 2) == strict.popular_items(2)


def test_popularity_count_orders_items_by_event_count(build: Build) -> None:
    rows = [(f"u{u}", item, u, "View", None) for item, n in (("a", 3), ("b", 7), ("c", 5)) for u in range(n)]
    model = _train("aws-popularity-count", build(rows))
    assert [item for item, _ in model.recommend_for_user("anyone", 3)] == ["b", "c", "a"]
    assert [round(score, 3) for _, score in model.popular_items(3)] == [0.467, 0.333, 0.2]
    assert [item for item, _ in model.rank("anyone", ["a", "c", "nope", "b"])] == ["b", "c", "a", "nope"]


def test_event_type_trains_only_on_that_type(build: Build) -> None:
    rows = [(f"u{u}", "viewed", u, "View", None) for u in range(6)]
    rows += [(f"u{u}", "bought", u, "Purchase", None) for u in range(3)]
    data = build(rows)
    assert _train("aws-popularity-count", data).popular_items(1)[0][0] == "viewed"
    purchases = _train("aws-popularity-count", data, event_type="Purchase")
    assert purchases.item_ids == ["bought"]


def test_event_value_threshold_keeps_events_at_or_above_it(build: Build) -> None:
    rows: list[Row] = [(f"u{u}", "cheap", u, "Watch", 10.0) for u in range(6)]
    rows += [(f"u{u}", "loved", u, "Watch", 70.0 + u) for u in range(3)]
    rows += [("u9", "no-value", 1, "Watch", None)]
    model = _train("aws-popularity-count", build(rows), event_type="Watch", event_value_threshold="70")
    assert model.item_ids == ["loved"]
    assert model.popular_items(1) == [("loved", 1.0)]


def test_trending_now_ranks_the_fastest_growing_item_first(build: Build) -> None:
    day = 86_400
    end = 1_700_000_000
    rows = [(f"u{u}", "steady", end - 2 * day + 10 + u, "View", None) for u in range(20)]
    rows += [(f"v{u}", "steady", end - day + 10 + u, "View", None) for u in range(20)]
    rows += [(f"w{u}", "rising", end - day + 10 + u, "View", None) for u in range(5)]
    rows += [
        ("w0", "rising", end - 2 * day + 10, "View", None),
        ("z", "old-hit", end - 30 * day, "View", None),
    ]
    rows += [(f"o{u}", "old-hit", end - 30 * day, "View", None) for u in range(60)]
    model = _train("aws-trending-now", build(rows), {"trend_discovery_frequency": "1 day"})
    assert [item for item, _ in model.recommend_for_user("anyone", 3)] == ["rising", "old-hit", "steady"]
    assert model.popular_items(1) == [("rising", 4.0)]  # (5 - 1) / max(1, 1)


def test_trending_now_with_all_data_in_the_current_window_orders_by_count(build: Build) -> None:
    rows = [(f"u{u}", "a", u, "View", None) for u in range(3)] + [
        (f"u{u}", "b", u, "View", None) for u in range(5)
    ]
    model = _train("aws-trending-now", build(rows), {"trend_discovery_frequency": "30 minutes"})
    # Nothing in the previous window: growth = current count / 1, i.e. the popularity order.
    assert [item for item, _ in model.recommend_for_user("x", 2)] == ["b", "a"]


@pytest.mark.parametrize("recipe", ["aws-sims", "aws-popularity-count", "aws-trending-now"])
def test_item_recipes_answer_every_runtime_call(recipe: str, two_groups: TrainingData) -> None:
    model = _train(recipe, two_groups)
    assert len(model.recommend_for_user("a-user1", 500)) == len(model.item_ids) == 40
    assert len(model.related_items("a1", 5)) == 5
    assert {item for item, _ in model.rank("a-user1", ["a1", "b1"])} == {"a1", "b1"}
    assert set(model.metrics) >= {"coverage", "precision_at_25"}
    clone = pickle.loads(pickle.dumps(model))  # noqa: S301 - our own bytes
    assert clone.recommend_for_user("a-user1", 10) == model.recommend_for_user("a-user1", 10)
    assert clone.related_items("b2", 10) == model.related_items("b2", 10)
