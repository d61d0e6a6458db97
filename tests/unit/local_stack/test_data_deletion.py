"""Data deletion in the emulator: the deletion CSV's shape, and what leaves a dataset group's store."""

from __future__ import annotations

import pyarrow as pa
import pytest

from local_stack.personalize.core import JobFailure
from local_stack.personalize.deletion import read_user_ids, remove_users
from local_stack.personalize.filtering import Interaction
from local_stack.personalize.store import DatasetGroupStore


def test_the_deletion_csv_must_be_a_single_user_id_column() -> None:
    assert read_user_ids(b"USER_ID\nu1\n\nu2\n", "s3://b/k") == ["u1", "u2"]
    with pytest.raises(JobFailure, match="single USER_ID column"):
        read_user_ids(b"USER_ID,ITEM_ID\nu1,i1\n", "s3://b/k")


def test_users_lose_their_interactions_events_and_rows_and_others_keep_theirs() -> None:
    store = DatasetGroupStore()
    store.interactions = pa.table(
        {
            "USER_ID": ["u1", "u2", "u1"],
            "ITEM_ID": ["i1", "i2", "i3"],
            "TIMESTAMP": [1, 2, 3],
            "EVENT_TYPE": ["View"] * 3,
        }
    )
    store.users = {"u1": {"USER_ID": "u1"}, "u2": {"USER_ID": "u2"}}
    store.put_events("u1", [Interaction("i9", "Purchase", 4.0, None)], [{"USER_ID": "u1", "ITEM_ID": "i9"}])
    store.put_events("u2", [Interaction("i8", "Purchase", 5.0, None)], [{"USER_ID": "u2", "ITEM_ID": "i8"}])

    removed = remove_users(store, {"u1"})

    assert removed == 2 + 1 + 1  # two interactions, one event, one Users row
    assert store.interactions_for("u1") == []
    assert [i.item_id for i in store.interactions_for("u2")] == ["i2", "i8"]
    assert set(store.users) == {"u2"}
    assert store.training_data().interactions.column("USER_ID").to_pylist() == ["u2", "u2"]
