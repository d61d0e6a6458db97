from __future__ import annotations

import math
from collections.abc import Callable, Iterable

import pytest

from local_stack.personalize.recipes import TrainingData, encode_interactions, evaluate
from local_stack.personalize.recipes.metrics import METRIC_NAMES, score_queries, split_for_evaluation

Row = tuple[str, str, int, str, float | None]
Build = Callable[[Iterable[Row]], TrainingData]


def test_the_developer_guide_example_scores_exactly() -> None:
    # Personalize's example: the 2nd and 5th recommendations are the user's two relevant items.
    ranked = ["r1", "hit1", "r3", "r4", "hit2", *[f"r{i}" for i in range(6, 26)]]
    metrics = score_queries({"u": ranked}, {"u": {"hit1", "hit2"}}, n_catalog_items=100)
    assert metrics["mean_reciprocal_rank_at_25"] == 0.5
    assert round(metrics["normalized_discounted_cumulative_gain_at_5"], 4) == 0.6241
    assert metrics["precision_at_5"] == pytest.approx(0.4)
    assert metrics["precision_at_10"] == pytest.approx(0.2)
    assert metrics["precision_at_25"] == pytest.approx(0.08)
    assert metrics["normalized_discounted_cumulative_gain_at_25"] == pytest.approx(
        metrics["normalized_discounted_cumulative_gain_at_5"]
    )
    assert metrics["coverage"] == 0.25


def test_metrics_average_over_queries_and_coverage_counts_distinct_items() -> None:
    recommendations = {
        "hit-first": ["a", "b", "c", "d", "e"],
        "miss": ["a", "b", "c", "f", "g"],
        "hit-sixth": ["h", "i", "j", "k", "l", "m"],
    }
    truth = {"hit-first": {"a"}, "miss": {"z"}, "hit-sixth": {"m", "y", "x"}}
    metrics = score_queries(recommendations, truth, n_catalog_items=26)
    assert metrics["mean_reciprocal_rank_at_25"] == pytest.approx((1 + 0 + 1 / 6) / 3)
    assert metrics["normalized_discounted_cumulative_gain_at_5"] == pytest.approx(1 / 3)
    ideal_three = 1 + 1 / math.log2(3) + 1 / math.log2(4)
    assert metrics["normalized_discounted_cumulative_gain_at_10"] == pytest.approx(
        (1 + (1 / math.log2(7)) / ideal_three) / 3
    )
    assert metrics["precision_at_5"] == pytest.approx((1 / 5) / 3)
    assert metrics["precision_at_10"] == pytest.approx((1 / 10 + 1 / 10) / 3)
    assert metrics["coverage"] == pytest.approx(13 / 26)
    assert tuple(metrics) == METRIC_NAMES


def test_split_holds_out_ten_percent_of_users_and_their_newest_tenth(build: Build) -> None:
    rows = [(f"u{u:02d}", f"i{t}", 1000 + t, "View", None) for u in range(30) for t in range(20)]
    encoded = encode_interactions(build(rows).interactions)
    split = split_for_evaluation(encoded, seed=5)
    assert len(split.truth) == 3
    for user, items in split.truth.items():
        assert items == {"i18", "i19"}  # newest 2 of 20
        kept = [
            encoded.item_ids[i]
            for i, u in zip(split.train.items, split.train.users, strict=True)
            if encoded.user_ids[u] == user
        ]
        assert kept == [f"i{t}" for t in range(18)]  # oldest 90% stays in training
    assert len(split.train) == 30 * 20 - 3 * 2
    assert split_for_evaluation(encoded, seed=5).truth.keys() == split.truth.keys()
    assert any(split_for_evaluation(encoded, seed=s).truth.keys() != split.truth.keys() for s in range(6, 12))


def test_a_short_history_rounds_the_training_part_down(build: Build) -> None:
    rows = [(f"u{u}", f"i{t}", t, "View", None) for u in range(10) for t in range(3)]
    split = split_for_evaluation(encode_interactions(build(rows).interactions), seed=1)
    assert len(split.truth) == 1
    assert next(iter(split.truth.values())) == {"i2"}  # floor(0.9 * 3) = 2 events stay in training


def test_collaborative_model_beats_popularity_on_planted_groups(two_groups: TrainingData) -> None:
    learned = evaluate("aws-user-personalization", two_groups, hyperparameters={"hidden_dimension": "32"})
    popular = evaluate("aws-popularity-count", two_groups)
    assert set(learned) == set(METRIC_NAMES)
    # Nothing is excluded, so a user's own 10 items fill the top 10; the unseen same-group items follow.
    for metric in ("normalized_discounted_cumulative_gain_at_25", "precision_at_25"):
        assert learned[metric] > popular[metric], metric
    assert learned["coverage"] > popular["coverage"]


def test_coverage_counts_items_only_in_the_items_dataset(two_groups: TrainingData) -> None:
    import pyarrow as pa

    with_catalog = TrainingData(
        two_groups.interactions, items=pa.table({"ITEM_ID": [f"extra{i}" for i in range(40)]})
    )
    plain = evaluate("aws-popularity-count", two_groups)
    wider = evaluate("aws-popularity-count", with_catalog)
    assert wider["coverage"] == pytest.approx(plain["coverage"] / 2)


def test_coverage_denominator_counts_items_of_every_event_type(build: Build) -> None:
    rows: list[Row] = []
    for u in range(20):
        rows += [(f"u{u}", f"p{(u + t) % 10}", t, "Purchase", None) for t in range(5)]
        rows += [(f"u{u}", f"v{(u + t) % 10}", t, "View", None) for t in range(5)]
    metrics = evaluate("aws-popularity-count", build(rows), event_type="Purchase")
    assert metrics["coverage"] == 0.5  # the 10 purchased items out of 20 items in the dataset


@pytest.mark.parametrize(("users", "held_out"), [(1, 0), (2, 1), (4, 1), (15, 2), (25, 3), (34, 3)])
def test_ten_percent_of_users_rounded_half_up_are_held_out(build: Build, users: int, held_out: int) -> None:
    rows: list[Row] = [(f"u{u}", f"i{t}", t, "View", None) for u in range(users) for t in range(3)]
    split = split_for_evaluation(encode_interactions(build(rows).interactions), seed=0)
    assert len(split.truth) == held_out
