"""The Currents mapping config and the forget flow's CSV rewriting."""

from __future__ import annotations

import pytest

from pipeline.currents.mapping import MappingError, rules_from_config
from pipeline.forget import _without


def test_a_mapping_field_path_outside_properties_and_url_is_refused() -> None:
    with pytest.raises(MappingError, match="field path"):
        rules_from_config({"users.behaviors.Purchase": {"event_type": "Purchase", "item_id": "user.product"}})


def test_deletions_cannot_be_mapped_to_events() -> None:
    with pytest.raises(MappingError, match="deletions"):
        rules_from_config({"users.UserDeleteRequest": {"event_type": "Delete"}})


def test_an_event_without_an_external_user_id_is_not_sent() -> None:
    rule = rules_from_config(
        {"users.behaviors.Purchase": {"event_type": "Purchase", "item_id": "product_id"}}
    )["users.behaviors.Purchase"]
    assert rule.convert({"id": "e1", "user_id": "b1", "time": 1, "product_id": "i1"}) is None
    event = rule.convert(
        {"id": "e1", "user_id": "b1", "external_user_id": "u1", "time": 1, "product_id": "i1"}
    )
    assert event is not None and (event.user_id, event.item_id) == ("u1", "i1")


def test_forgetting_rewrites_a_csv_without_the_users_rows_only() -> None:
    data = b'USER_ID,ITEM_ID,TIMESTAMP\nu1,i1,1\nu2,i2,2\n"u1",i3,3\n'
    cleaned, removed = _without(data, {"u1"})
    assert (cleaned, removed) == (b"USER_ID,ITEM_ID,TIMESTAMP\nu2,i2,2\n", 2)
    items = b"ITEM_ID,NAME\ni1,Mug\n"
    assert _without(items, {"u1"}) == (items, 0)
