"""Issue 3's real-data check: on Online Retail, User-Personalization beats Popularity-Count."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pacsv
import pytest

from local_stack.personalize.recipes import TrainingData, train

NDCG_10 = "normalized_discounted_cumulative_gain_at_10"


def _read(path: Path) -> pa.Table:
    ids = {"USER_ID": pa.string(), "ITEM_ID": pa.string()}
    return pacsv.read_csv(path, convert_options=pacsv.ConvertOptions(column_types=ids))


@pytest.mark.slow
def test_user_personalization_beats_popularity_on_online_retail(tmp_path: Path) -> None:
    from pipeline import online_retail

    source = online_retail.default_source()
    if not source.exists():
        pytest.skip(f"Online Retail data not found at {source} (set BP_SHARED_DIR)")
    paths = online_retail.convert(source, tmp_path)
    data = TrainingData(_read(paths["interactions"]), items=_read(paths["items"]))
    assert data.interactions.num_rows > 300_000

    def metrics(recipe: str, hyperparameters: dict[str, str]) -> dict[str, float]:
        model = train(
            recipe,
            data,
            hyperparameters=hyperparameters,
            event_type=None,
            event_value_threshold=None,
            perform_hpo=False,
            hpo_config=None,
        )
        return model.metrics

    learned = metrics("aws-user-personalization", {"hidden_dimension": "64"})
    popular = metrics("aws-popularity-count", {})
    print(f"online retail ndcg@10: user-personalization {learned[NDCG_10]} vs popularity {popular[NDCG_10]}")
    assert learned[NDCG_10] > popular[NDCG_10]
    assert learned["coverage"] > popular["coverage"]
