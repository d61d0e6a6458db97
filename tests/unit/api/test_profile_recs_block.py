"""The profile-attribute content block (batch recommendations written by braze-sync) with python-liquid."""

from __future__ import annotations

from braze.render import TEMPLATE_DIR, render_template
from pipeline.braze_sync.sync import attribute_value

BLOCK = TEMPLATE_DIR / "profile_recs_block.liquid"
CATALOG = {
    f"i{n}": {
        "NAME": f"Product <{n}>",
        "URL": f"https://shop.example.com/product/i{n}",
        "IMAGE": f"https://img.example.com/i{n}.jpg",
        "PRICE": f"{n}.5",
    }
    for n in range(1, 6)
}


def _render(value: object) -> tuple[str, bool, str | None]:
    result = render_template(BLOCK, user={"user_id": "u1", "recs_weekly": value}, api_base="", api_key="")
    assert result.calls == []  # no Connected Content call: the data is on the profile
    return result.text, result.aborted, result.abort_reason


def test_the_block_renders_three_items_from_the_profile_attribute_with_tracked_links() -> None:
    value = attribute_value(["i1", "i2", "i3", "i4"], CATALOG, limit=5, recommendation_id="batch-7")
    text, aborted, _ = _render(value)
    assert not aborted
    assert text.count("<tr>") == 3 and "i4" not in text
    assert "Product &lt;1&gt;" in text and "<br>1.5" in text
    assert 'href="https://shop.example.com/product/i2?item_id=i2&recommendation_id=batch-7"' in text


def test_the_block_aborts_when_the_profile_has_no_recommendations() -> None:
    assert _render([])[1:] == (True, "no batch recommendations on this profile")
    assert _render(None)[1]
    result = render_template(BLOCK, user={"user_id": "u1"}, api_base="", api_key="")
    assert result.aborted  # the attribute was never set


def test_items_missing_from_the_catalog_render_their_id() -> None:
    text, aborted, _ = _render(attribute_value(["ghost"], CATALOG, limit=5, recommendation_id="b"))
    assert not aborted and ">ghost</a>" in text


def test_fields_over_brazes_255_characters_are_left_out() -> None:
    catalog = {"i1": {"NAME": "x" * 256, "URL": "https://s.example.com/" + "p" * 300, "PRICE": "2"}}
    [obj] = attribute_value(["i1"], catalog, limit=5, recommendation_id="b")
    assert obj == {"id": "i1", "price": 2.0}
