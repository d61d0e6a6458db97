from __future__ import annotations

import csv
import hashlib
from collections import Counter, defaultdict
from pathlib import Path

import numpy as np
import pytest

from pipeline.config import load_config, load_dataset_schemas
from pipeline.sample_data import (
    EVENT_TYPES,
    SIZES,
    WINDOW_DAYS,
    WINDOW_START,
    SampleDataError,
    SizeSpec,
    _generate,
    generate_dataset,
    main,
)
from pipeline.validation import validate_directory


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def _digest(paths: dict[str, Path]) -> dict[str, str]:
    return {t: hashlib.sha256(p.read_bytes()).hexdigest() for t, p in paths.items()}


@pytest.fixture(scope="module")
def small(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return generate_dataset(tmp_path_factory.mktemp("small"), "small", seed=7)


@pytest.fixture(scope="module")
def interactions(small: dict[str, Path]) -> list[dict[str, str]]:
    return _rows(small["interactions"])


@pytest.fixture(scope="module")
def items(small: dict[str, Path]) -> dict[str, dict[str, str]]:
    return {r["ITEM_ID"]: r for r in _rows(small["items"])}


def test_same_seed_writes_the_same_bytes(small: dict[str, Path], tmp_path: Path) -> None:
    again = generate_dataset(tmp_path / "again", "small", seed=7)
    assert _digest(again) == _digest(small)


def test_another_seed_writes_different_data(small: dict[str, Path], tmp_path: Path) -> None:
    other = generate_dataset(tmp_path / "other", "small", seed=8)
    assert all(d1 != d2 for d1, d2 in zip(_digest(other).values(), _digest(small).values(), strict=True))


def test_headers_are_the_schema_field_names_in_schema_order(small: dict[str, Path]) -> None:
    schemas = load_dataset_schemas()
    for dataset_type, path in small.items():
        header = path.read_text(encoding="utf-8").split("\n", 1)[0]
        assert header == ",".join(f["name"] for f in schemas[dataset_type]["fields"])


def test_small_size_is_about_thirty_thousand_interactions_over_a_thousand_users_and_500_items(
    interactions: list[dict[str, str]], small: dict[str, Path], items: dict[str, dict[str, str]]
) -> None:
    assert 20_000 <= len(interactions) <= 50_000
    assert len(_rows(small["users"])) == 1_000
    assert len(items) == 500


def test_meets_personalize_minimums(interactions: list[dict[str, str]]) -> None:
    per_user = Counter(r["USER_ID"] for r in interactions)
    assert len(interactions) >= 1_000
    assert sum(1 for n in per_user.values() if n >= 2) >= 25


def test_meets_personalize_minimums_on_purchases_alone(interactions: list[dict[str, str]]) -> None:
    purchases = [r for r in interactions if r["EVENT_TYPE"] == "Purchase"]
    per_user = Counter(r["USER_ID"] for r in purchases)
    assert len(purchases) >= 1_000
    assert sum(1 for n in per_user.values() if n >= 2) >= 25


def test_cells_match_their_avro_types(
    interactions: list[dict[str, str]], small: dict[str, Path], items: dict[str, dict[str, str]]
) -> None:
    window_end = WINDOW_START + (WINDOW_DAYS + 2) * 86_400
    for row in interactions:
        assert WINDOW_START <= int(row["TIMESTAMP"]) < window_end  # seconds, not milliseconds
        assert row["EVENT_TYPE"] in EVENT_TYPES
        assert row["ITEM_ID"] in items
    for user in _rows(small["users"]):
        assert user["AGE"] == "" or 18 <= int(user["AGE"]) <= 85
        assert user["MEMBERSHIP_TIER"] in {"", "bronze", "silver", "gold"}
    template = load_config()["api"]["item_url_template"]
    for item_id, item in items.items():
        assert float(item["PRICE"]) > 0
        assert int(item["CREATION_TIMESTAMP"]) < WINDOW_START
        assert item["CATEGORY_L1"] and item["CATEGORY_L2"] and item["NAME"]
        assert item["URL"] == template.format(id=item_id)
        assert item["IMAGE"].startswith("https://") and item_id in item["IMAGE"]


@pytest.mark.parametrize("event_type", [None, "Purchase"])
def test_passes_the_validator_without_errors_or_warnings(
    small: dict[str, Path], event_type: str | None
) -> None:
    report = validate_directory(str(small["interactions"].parent), event_type=event_type)
    assert report.ok, report.format_text()
    assert report.problems == []
    assert report.row_counts["interactions"] == len(_rows(small["interactions"]))


def test_event_value_is_the_item_price_on_purchases_and_empty_otherwise(
    interactions: list[dict[str, str]], items: dict[str, dict[str, str]]
) -> None:
    for row in interactions:
        if row["EVENT_TYPE"] == "Purchase":
            assert float(row["EVENT_VALUE"]) == float(items[row["ITEM_ID"]]["PRICE"])
        else:
            assert row["EVENT_VALUE"] == ""


def test_every_purchase_follows_a_view_and_a_cart_of_the_same_item_by_the_same_user(
    interactions: list[dict[str, str]],
) -> None:
    first_seen: dict[tuple[str, str, str], int] = {}
    for row in interactions:
        key = (row["USER_ID"], row["ITEM_ID"], row["EVENT_TYPE"])
        first_seen[key] = min(first_seen.get(key, 1 << 62), int(row["TIMESTAMP"]))
    purchases = [r for r in interactions if r["EVENT_TYPE"] == "Purchase"]
    assert purchases
    for row in purchases:
        user, item, ts = row["USER_ID"], row["ITEM_ID"], int(row["TIMESTAMP"])
        assert first_seen[(user, item, "View")] < ts
        assert first_seen[(user, item, "AddToCart")] < ts


def test_funnel_narrows_from_views_to_purchases(interactions: list[dict[str, str]]) -> None:
    counts = Counter(r["EVENT_TYPE"] for r in interactions)
    assert counts["View"] > counts["AddToCart"] > counts["Purchase"] > 0


def test_popularity_is_skewed_towards_a_few_items(interactions: list[dict[str, str]]) -> None:
    views = Counter(r["ITEM_ID"] for r in interactions if r["EVENT_TYPE"] == "View")
    ranked = [n for _, n in views.most_common()]
    top_tenth = sum(ranked[: len(ranked) // 10])
    # Uniform popularity would give the top 10 % of items about 10 % of views.
    assert top_tenth / sum(ranked) > 0.3


def test_sessions_spread_over_months(interactions: list[dict[str, str]]) -> None:
    months = {(int(r["TIMESTAMP"]) - WINDOW_START) // (30 * 86_400) for r in interactions}
    assert len(months) >= 5


def test_purchases_follow_each_users_tastes(
    interactions: list[dict[str, str]], items: dict[str, dict[str, str]]
) -> None:
    # A user's most viewed category predicts the category of their last purchase far better than the
    # category everybody buys most: that is what a personalised model can learn and popularity cannot.
    views: dict[str, Counter[str]] = defaultdict(Counter)
    last_purchase: dict[str, str] = {}
    for row in interactions:
        category = items[row["ITEM_ID"]]["CATEGORY_L2"]
        if row["EVENT_TYPE"] == "View":
            views[row["USER_ID"]][category] += 1
        elif row["EVENT_TYPE"] == "Purchase":
            last_purchase[row["USER_ID"]] = category
    overall = Counter(last_purchase.values()).most_common(1)[0][0]
    personal_hits = sum(views[u].most_common(1)[0][0] == c for u, c in last_purchase.items())
    popular_hits = sum(c == overall for c in last_purchase.values())
    assert len(last_purchase) > 500
    assert personal_hits > 3 * popular_hits


def test_a_collaborative_model_beats_popularity_on_each_buyers_last_purchase(
    interactions: list[dict[str, str]],
) -> None:
    # Hold out every event of each buyer's last purchased item; recommend 10 unseen items by item-item
    # cosine similarity and by global popularity; count how often the held-out item is among them.
    users = {u: i for i, u in enumerate(sorted({r["USER_ID"] for r in interactions}))}
    items = {t: i for i, t in enumerate(sorted({r["ITEM_ID"] for r in interactions}))}
    held_out = {r["USER_ID"]: r["ITEM_ID"] for r in interactions if r["EVENT_TYPE"] == "Purchase"}
    seen = np.zeros((len(users), len(items)))
    for r in interactions:
        if held_out.get(r["USER_ID"]) != r["ITEM_ID"]:
            seen[users[r["USER_ID"]], items[r["ITEM_ID"]]] = 1.0
    co = seen.T @ seen
    norm = np.sqrt(np.diag(co)) + 1e-9
    similarity = co / norm[:, None] / norm[None, :]
    np.fill_diagonal(similarity, 0.0)
    popularity = seen.sum(axis=0)
    hits = {"collaborative": 0, "popularity": 0}
    for user, item in held_out.items():
        row = seen[users[user]]
        for name, scores in (("collaborative", row @ similarity), ("popularity", popularity.copy())):
            scores[row > 0] = -np.inf
            hits[name] += items[item] in np.argsort(-scores, kind="stable")[:10]
    assert hits["collaborative"] > 2 * hits["popularity"] > 0


def test_chunked_generation_stays_deterministic_and_consistent(tmp_path: Path) -> None:
    spec = SizeSpec(users=300, items=120, sessions_per_user=3.0, views_per_session=2.0, chunk_users=70)
    first = _generate(tmp_path / "a", spec, seed=3)
    second = _generate(tmp_path / "b", spec, seed=3)
    assert _digest(first) == _digest(second)
    text = first["interactions"].read_text(encoding="utf-8")
    assert text.count("USER_ID,") == 1  # one header although five chunks were written
    users = {r["USER_ID"] for r in _rows(first["interactions"])}
    assert len(users) == 300


def test_large_size_writes_at_least_five_million_interactions(tmp_path: Path) -> None:
    paths = generate_dataset(tmp_path, "large", seed=7)
    with paths["interactions"].open("rb") as f:
        lines = sum(chunk.count(b"\n") for chunk in iter(lambda: f.read(1 << 22), b""))
    assert lines - 1 >= 5_000_000
    assert SIZES["large"].users == 100_000 and SIZES["large"].items == 20_000


def test_rejects_an_unknown_size(tmp_path: Path) -> None:
    with pytest.raises(SampleDataError, match="medium"):
        generate_dataset(tmp_path, "medium")


def test_cli_prints_rows_per_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--size", "small", "--out", str(tmp_path), "--seed", "1"]) == 0
    out = capsys.readouterr().out
    assert "users              1,000 rows" in out
    assert "items                500 rows" in out
    assert "interactions" in out and "seed 1" in out
