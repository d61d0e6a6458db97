from __future__ import annotations

import pickle
from collections.abc import Callable, Iterable

import pyarrow as pa
import pytest

from local_stack.personalize.recipes import FactorModel, TrainingData, train
from local_stack.personalize.recipes.synthetic import synthetic_interactions

Row = tuple[str, str, int, str, float | None]
Build = Callable[[Iterable[Row]], TrainingData]

FACTOR_RECIPES = [
    "aws-user-personalization",
    "aws-user-personalization-v2",
    "aws-personalized-ranking",
    "aws-personalized-ranking-v2",
]


def _train(recipe: str, data: TrainingData, **hyperparameters: str) -> FactorModel:
    """The ALS candidate alone: these tests are about the factor model's serving behaviour."""
    model = train(
        recipe,
        data,
        hyperparameters={"hidden_dimension": "32", **hyperparameters},
        event_type=None,
        event_value_threshold=None,
        perform_hpo=False,
        hpo_config=None,
        candidates=("als-recency",),
    )
    assert isinstance(model, FactorModel)
    return model


@pytest.fixture(scope="module")
def model(two_groups: TrainingData) -> FactorModel:
    return _train("aws-user-personalization", two_groups)


@pytest.mark.parametrize("recipe", FACTOR_RECIPES)
def test_collaborative_recipes_recommend_within_the_users_group(
    recipe: str, two_groups: TrainingData
) -> None:
    model = train(recipe, two_groups, hyperparameters={"hidden_dimension": "32"})
    assert model.candidate in model.validation_scores
    for user, group in (("a-user3", "a"), ("b-user7", "b")):
        recs = model.recommend_for_user(user, 10)
        assert len(recs) == 10
        assert all(item.startswith(group) for item, _ in recs), recs
    assert model.recipe == recipe


def test_cold_user_gets_the_most_popular_items(model: FactorModel) -> None:
    assert model.recommend_for_user("nobody", 5) == model.popular_items(5)
    counts = model.popularity
    assert [model.item_index[i] for i, _ in model.popular_items(3)] == list(counts.argsort()[::-1][:3])


def test_history_from_real_time_events_folds_in_an_unknown_user(model: FactorModel) -> None:
    recs = model.recommend_for_user("new-visitor", 10, history=["b1", "b4", "b9"])
    assert all(item.startswith("b") for item, _ in recs), recs


def test_new_events_move_a_known_user_toward_the_new_taste(model: FactorModel) -> None:
    before = dict(model.recommend_for_user("a-user1", 40))
    after = dict(model.recommend_for_user("a-user1", 40, history=["b0", "b1", "b2", "b3", "b5"] * 4))
    b_before = sum(score for item, score in before.items() if item.startswith("b"))
    b_after = sum(score for item, score in after.items() if item.startswith("b"))
    assert b_after > b_before


def test_scores_are_a_softmax_over_the_whole_catalog(model: FactorModel) -> None:
    recs = model.recommend_for_user("a-user2", len(model.item_ids))
    assert sum(score for _, score in recs) == pytest.approx(1.0, rel=1e-4)
    scores = [score for _, score in recs]
    assert scores == sorted(scores, reverse=True)


def test_ranking_orders_same_group_items_first_and_unknown_items_last(model: FactorModel) -> None:
    ranked = model.rank("a-user5", ["b0", "zz-unknown", "a0", "b1", "a1"])
    assert [item for item, _ in ranked][:2] == sorted(["a0", "a1"], key=lambda i: -dict(ranked)[i])
    assert {item for item, _ in ranked[2:4]} == {"b0", "b1"}
    assert ranked[-1] == ("zz-unknown", 0.0)
    assert sum(score for _, score in ranked) == pytest.approx(1.0, rel=1e-4)


def test_related_items_of_the_factor_model_stay_in_the_group(model: FactorModel) -> None:
    related = model.related_items("a2", 8)
    assert "a2" not in [item for item, _ in related]
    assert all(item.startswith("a") for item, _ in related)


def test_history_percentiles_leave_long_and_short_histories_out_of_training(build: Build) -> None:
    rows = []
    for u in range(40):
        group = "a" if u % 2 else "b"
        for t in range(2 + u):  # history lengths 2..41
            rows.append((f"u{u}", f"{group}{t % 15}", 1_700_000_000 + t, "View", None))
    data = build(rows)
    everyone = _train("aws-user-personalization", data, max_user_history_length_percentile="1.0")
    middle = _train(
        "aws-user-personalization",
        data,
        min_user_history_length_percentile="0.25",
        max_user_history_length_percentile="0.75",
    )
    assert everyone.training_users == 40
    assert middle.training_users == 20
    # Users left out of training are folded in from their own items rather than served popularity.
    assert all(item.startswith("a") for item, _ in middle.recommend_for_user("u39", 5))


def test_default_max_percentile_drops_the_top_one_percent(build: Build) -> None:
    rows = [
        (f"u{u}", f"i{(u + t) % 30}", t, "View", None) for u in range(200) for t in range(3 + (u == 0) * 50)
    ]
    model = _train("aws-user-personalization", build(rows))
    assert model.training_users == 199


def test_trained_model_survives_a_pickle_round_trip(model: FactorModel) -> None:
    clone = pickle.loads(pickle.dumps(model))  # noqa: S301 - our own bytes
    assert clone.recommend_for_user("b-user1", 10) == model.recommend_for_user("b-user1", 10)
    assert clone.metrics == model.metrics
    assert clone.item_ids == model.item_ids


def test_batched_evaluation_queries_match_single_queries() -> None:
    table = synthetic_interactions(n_users=600, n_items=300, n_interactions=12_000, groups=4, seed=2)
    model = _train("aws-user-personalization", TrainingData(table))
    users = ["u1", "u2", "u3", "never-seen", "u4"]
    batched = model.recommend_ids(users, 30)
    assert batched == [[item for item, _ in model.recommend_for_user(u, 30)] for u in users]
    assert batched[3] == [item for item, _ in model.popular_items(30)]
    assert model.recommend_ids(users, 0) == [[]] * len(users)


def test_synthetic_taste_groups_are_learned() -> None:
    # 4 groups, each owning a block of 75 items; 20% of events are uniform noise.
    table = synthetic_interactions(n_users=600, n_items=300, n_interactions=12_000, groups=4, seed=2)
    model = _train("aws-user-personalization", TrainingData(table))
    group_of_user: dict[str, list[int]] = {}
    for user, item in zip(table["USER_ID"].to_pylist(), table["ITEM_ID"].to_pylist(), strict=True):
        group_of_user.setdefault(user, []).append(int(item[1:]) // 75)
    in_group = total = 0
    for user in list(group_of_user)[:50]:
        group = max(set(group_of_user[user]), key=group_of_user[user].count)
        recs = model.recommend_for_user(user, 10)
        in_group += sum(int(item[1:]) // 75 == group for item, _ in recs)
        total += len(recs)
    assert in_group / total > 0.9


def test_recent_interactions_weigh_more_when_recency_is_on(two_groups: TrainingData) -> None:
    # A user who bought group-a items long ago and group-b items lately.
    old = [("switcher", f"a{i}", 1_600_000_000 + i, "Purchase", 1.0) for i in range(8)]
    new = [("switcher", f"b{i}", 1_700_000_000 + 700 + i, "Purchase", 1.0) for i in range(8)]
    rows = two_groups.interactions.to_pylist()
    table = pa.Table.from_pylist(
        rows + [dict(zip(two_groups.interactions.column_names, r, strict=True)) for r in old + new],
        schema=two_groups.interactions.schema,
    )
    data = TrainingData(table)

    def b_lead(recency: str) -> float:
        """How much higher the model scores group b than group a for the switcher (raw scores)."""
        model = _train(
            "aws-user-personalization", data, recency_mask=recency, max_user_history_length_percentile="1.0"
        )
        scores = model.user_scores("switcher")
        assert scores is not None
        a = [scores[model.item_index[f"a{i}"]] for i in range(20)]
        b = [scores[model.item_index[f"b{i}"]] for i in range(20)]
        return float(sum(b) - sum(a)) / 20

    on, off = b_lead("true"), b_lead("false")
    assert on > off + 0.02
