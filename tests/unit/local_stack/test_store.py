from __future__ import annotations

import json

import pyarrow as pa
import pytest

from local_stack.personalize.filtering import Interaction
from local_stack.personalize.store import DatasetGroupStore, StoreError
from pipeline.paths import schema_dir

CSV = (
    b"USER_ID,ITEM_ID,TIMESTAMP,EVENT_TYPE,EVENT_VALUE\n"
    b"u1,i1,30,View,\nu1,i2,10,Purchase,2\nu2,i1,20,View,1\n"
)


@pytest.fixture
def store() -> DatasetGroupStore:
    s = DatasetGroupStore()
    for kind in ("interactions", "items"):
        s.schemas[kind] = json.loads((schema_dir() / "personalize" / f"{kind}.json").read_text())
    s.import_table("interactions", s.parse_csv("interactions", CSV), incremental=False)
    return s


def test_user_history_is_oldest_first_with_values(store: DatasetGroupStore) -> None:
    assert store.interactions_for("u1") == [
        Interaction("i2", "Purchase", 10.0, 2.0),
        Interaction("i1", "View", 30.0, None),
    ]
    assert store.interactions_for("nobody") == []


def test_real_time_events_join_the_history_and_the_next_training(store: DatasetGroupStore) -> None:
    store.put_events(
        "u2",
        [Interaction("i9", "Purchase", 5.0, None)],
        [{"USER_ID": "u2", "ITEM_ID": "i9", "TIMESTAMP": 5, "EVENT_TYPE": "Purchase"}],
    )
    assert [i.item_id for i in store.interactions_for("u2")] == ["i9", "i1"]
    assert store.training_data().interactions.num_rows == 4


def test_incremental_import_appends_and_full_import_replaces(store: DatasetGroupStore) -> None:
    more = store.parse_csv(
        "interactions", b"USER_ID,ITEM_ID,TIMESTAMP,EVENT_TYPE,EVENT_VALUE\nu3,i3,40,View,\n"
    )
    assert store.import_table("interactions", more, incremental=True) == 4
    assert [i.item_id for i in store.interactions_for("u3")] == ["i3"]
    assert store.import_table("interactions", more, incremental=False) == 1
    assert store.interactions_for("u1") == []


def test_put_rows_merge_into_existing_metadata(store: DatasetGroupStore) -> None:
    store.put_rows("items", [{"ITEM_ID": "i1", "NAME": "one", "PRICE": 3.0}])
    store.put_rows("items", [{"ITEM_ID": "i1", "NAME": "uno"}])
    assert store.item_row("i1") == {"ITEM_ID": "i1", "NAME": "uno", "PRICE": 3.0}


def test_csv_for_a_dataset_the_group_lacks_is_refused(store: DatasetGroupStore) -> None:
    with pytest.raises(StoreError, match="no dataset of this type"):
        store.parse_csv("users", b"USER_ID\nu1\n")


def test_an_import_is_parsed_with_avro_types_and_the_validators_rules(store: DatasetGroupStore) -> None:
    table = store.parse_csv("interactions", CSV)
    assert table.schema.field("TIMESTAMP").type == pa.int64()
    assert table.schema.field("EVENT_VALUE").type == pa.float32()  # Avro float is 32-bit
    assert table.column("EVENT_VALUE").to_pylist() == [None, 2.0, 1.0]
    bad = CSV.replace(b"u2,i1,20,View,1", b"u2,i1,20.5,View,1")
    with pytest.raises(StoreError, match=r"invalid at line 4, column TIMESTAMP: not a valid long"):
        store.parse_csv("interactions", bad)


def test_an_import_with_the_columns_in_another_order_than_the_schema_fails(store: DatasetGroupStore) -> None:
    swapped = b"ITEM_ID,USER_ID,TIMESTAMP,EVENT_TYPE,EVENT_VALUE\ni1,u1,30,View,\n"
    with pytest.raises(StoreError, match=r"line 1.*header must be the schema's field names in order"):
        store.parse_csv("interactions", swapped)
