from __future__ import annotations

import json

import numpy as np

from local_stack.personalize import runtime
from local_stack.personalize.filtering import Interaction, compile_filter
from local_stack.personalize.recipes import PopularityModel
from local_stack.personalize.store import DatasetGroupStore
from pipeline.paths import schema_dir

ITEMS = [f"i{k}" for k in range(300)]


def _store() -> DatasetGroupStore:
    store = DatasetGroupStore()
    for kind in ("interactions", "items"):
        store.schemas[kind] = json.loads((schema_dir() / "personalize" / f"{kind}.json").read_text())
    return store


def test_exclude_filter_widens_the_candidates_until_enough_survive() -> None:
    store = _store()
    # The user has seen the 120 most popular items (60 per event type, under the 100-per-type window),
    # more than the first candidate window (5 * 4 + 100) holds.
    seen = [
        Interaction(item, "View" if t % 2 else "Purchase", float(t), None)
        for t, item in enumerate(ITEMS[:120])
    ]
    store.put_events("u1", seen, [])
    model = PopularityModel("aws-popularity-count", ITEMS, np.arange(300, 0, -1, dtype=np.float64))
    compiled = compile_filter('EXCLUDE ItemID WHERE Interactions.EVENT_TYPE IN ("*")', store.schemas)
    out = runtime.recommend(
        model, store, user_id="u1", item_id=None, num_results=5, compiled=compiled, filter_values={}
    )
    assert [item for item, _ in out] == ITEMS[120:125]


def test_metadata_columns_are_strings_and_missing_values_empty() -> None:
    store = _store()
    store.put_rows("items", [{"ITEM_ID": "i1", "PRICE": 2.5, "NAME": None}])
    assert runtime.metadata_for(store, "i1", ["PRICE", "NAME"]) == {"PRICE": "2.5", "NAME": ""}
