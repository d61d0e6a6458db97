"""The Braze templates rendered with python-liquid against the API over real HTTP on loopback."""

from __future__ import annotations

import json
from collections.abc import Mapping
from types import SimpleNamespace
from typing import Any

import pytest

from braze.render import TEMPLATE_DIR, BrazeTemplateError, make_environment, render_template

CARD = TEMPLATE_DIR / "content_card.liquid"
EMAIL = TEMPLATE_DIR / "email_block.liquid"


def test_content_card_shows_the_first_item_name_price_image_and_link(
    api: Any, served: str, k: SimpleNamespace
) -> None:
    api.expect_recommendations(["ghost", "i4", "i5"])
    result = render_template(CARD, user={"user_id": "u 7"}, api_base=served, api_key=k.API_KEY)
    assert not result.aborted
    assert result.text.strip().splitlines() == [
        "title: Product i4",
        "description: Picked for you · 13.5",
        "image: https://img.example.com/i4.jpg",
        "link: https://shop.example.com/product/i4",
    ]
    assert result.calls == [f"{served}/recommendations?user_id=u%207&limit=1&envelope=true"]


def test_email_block_loops_over_three_items_with_escaped_names(
    api: Any, served: str, k: SimpleNamespace
) -> None:
    api.expect_recommendations(["i1", "i2", "i3", "i4"])
    result = render_template(EMAIL, user={"user_id": "u1"}, api_base=served, api_key=k.API_KEY)
    assert not result.aborted
    assert result.text.count("<tr>") == 3
    for n, price in ((1, "10.5"), (2, "11.5"), (3, "12.5")):
        assert f'<a href="https://shop.example.com/product/i{n}">Product i{n}</a><br>{price}' in result.text
    assert "i4" not in result.text


def test_email_block_aborts_when_there_is_nothing_to_show(api: Any, served: str, k: SimpleNamespace) -> None:
    api.expect_recommendations(["ghost-1", "ghost-2"])
    result = render_template(EMAIL, user={"user_id": "u1"}, api_base=served, api_key=k.API_KEY)
    assert result.aborted
    assert result.abort_reason == "no recommendations for this user"


def test_a_wrong_key_aborts_the_message_instead_of_rendering_an_error(api: Any, served: str) -> None:
    result = render_template(CARD, user={"user_id": "u1"}, api_base=served, api_key="wrong")
    assert result.aborted
    assert "401" in (result.abort_reason or "")


def test_the_fallback_still_renders_a_card_when_personalize_throttles(
    api: Any, served: str, k: SimpleNamespace
) -> None:
    api.stubber.add_client_error("get_recommendations", "ThrottlingException", "slow down", 400)
    result = render_template(CARD, user={"user_id": "u1"}, api_base=served, api_key=k.API_KEY)
    assert "title: Product i30" in result.text


def test_connected_content_is_cached_for_cache_max_age_like_braze(
    api: Any, served: str, k: SimpleNamespace
) -> None:
    api.expect_recommendations(["i1", "i2", "i3"])
    env = make_environment()
    first = render_template(EMAIL, user={"user_id": "u1"}, api_base=served, api_key=k.API_KEY, env=env)
    second = render_template(EMAIL, user={"user_id": "u1"}, api_base=served, api_key=k.API_KEY, env=env)
    assert first.text == second.text
    assert len(first.calls) == 1 and second.calls == []


def test_templates_send_the_key_in_the_configured_header_and_save_the_result() -> None:
    seen: list[tuple[str, dict]] = []

    def fetch(url: str, headers: Mapping[str, str]) -> tuple[int, str]:
        seen.append((url, dict(headers)))
        return 200, json.dumps([])

    for template in (CARD, EMAIL):
        text = template.read_text(encoding="utf-8")
        assert ":save recs" in text and ":cache_max_age 300" in text and ":retry" in text
        render_template(
            template, user={"user_id": "x"}, api_base="http://api", api_key="K", env=make_environment(fetch)
        )
    assert [h for _, h in seen] == [{"X-Api-Key": "K"}, {"X-Api-Key": "K"}]


@pytest.mark.parametrize(
    ("tag", "why"),
    [
        ('{% connected_content https://x :headers {"broken" %}', "not a JSON object"),
        ("{% connected_content https://x :body a=b %}", "not emulated"),
        ("{% connected_content :save recs %}", "a URL is required"),
    ],
)
def test_the_connected_content_emulation_refuses_what_it_does_not_understand(tag: str, why: str) -> None:
    with pytest.raises(BrazeTemplateError, match=why):
        render_template(
            tag, user={}, api_base="http://api", api_key="K", env=make_environment(lambda u, h: (200, "[]"))
        )


def test_without_save_the_response_is_written_into_the_message() -> None:
    env = make_environment(lambda url, headers: (200, '{"greeting": "hi"}'))
    result = render_template(
        "{% connected_content https://x/{{${first_name}}} %}",
        user={"first_name": "Ada"},
        api_base="",
        api_key="",
        env=env,
    )
    assert result.text == '{"greeting": "hi", "__http_status_code__": 200}'
    assert result.calls == ["https://x/Ada"]
