"""braze/trending_block.liquid rendered with python-liquid against /trending over real HTTP on loopback."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from braze.render import TEMPLATE_DIR, make_environment, render_template
from chalicelib.runtime import build_runtime, set_runtime

BLOCK = TEMPLATE_DIR / "trending_block.liquid"
TRENDING = "arn:aws:personalize:us-east-1:123456789012:campaign/braze-recs-trending"


def _trending_campaign(api: Any, aws: Any, k: SimpleNamespace) -> None:
    settings = k.make_settings(trending_campaign_arn=TRENDING)
    set_runtime(build_runtime(settings, personalize=api.stubber.client, s3=aws["s3"], ssm=aws["ssm"]))


def test_trending_block_lists_four_trending_items_under_its_heading(
    api: Any, aws: Any, served: str, k: SimpleNamespace
) -> None:
    _trending_campaign(api, aws, k)
    api.expect_recommendations(
        ["i9", "ghost", "i2", "i5", "i7", "i8"], {"campaignArn": TRENDING, "numResults": 9}
    )
    result = render_template(BLOCK, user={"user_id": "u1"}, api_base=served, api_key=k.API_KEY)
    assert not result.aborted
    assert "<h2>Trending now</h2>" in result.text
    assert result.text.count("<tr>") == 4
    for item in ("i9", "i2", "i5", "i7"):
        assert f'<a href="https://shop.example.com/product/{item}">Product {item}</a>' in result.text
    assert "i8" not in result.text
    assert result.calls == [f"{served}/trending?limit=4&envelope=true"]


def test_one_answer_serves_every_user_of_a_send(api: Any, aws: Any, served: str, k: SimpleNamespace) -> None:
    _trending_campaign(api, aws, k)
    api.expect_recommendations(["i1", "i2", "i3", "i4"])
    env = make_environment()
    first = render_template(BLOCK, user={"user_id": "u1"}, api_base=served, api_key=k.API_KEY, env=env)
    second = render_template(BLOCK, user={"user_id": "u2"}, api_base=served, api_key=k.API_KEY, env=env)
    assert first.text == second.text
    assert len(first.calls) == 1 and second.calls == []


def test_without_a_trending_campaign_the_block_shows_popular_items(
    api: Any, served: str, k: SimpleNamespace
) -> None:
    result = render_template(BLOCK, user={"user_id": "u1"}, api_base=served, api_key=k.API_KEY)
    assert "<h2>Popular right now</h2>" in result.text
    assert "Product i30" in result.text


def test_empty_trending_aborts_the_message(api: Any, aws: Any, served: str, k: SimpleNamespace) -> None:
    _trending_campaign(api, aws, k)
    api.expect_recommendations(["ghost-1", "ghost-2"])
    result = render_template(BLOCK, user={"user_id": "u1"}, api_base=served, api_key=k.API_KEY)
    assert result.aborted
    assert result.abort_reason == "no trending items"


def test_a_wrong_key_aborts_instead_of_rendering_an_error(api: Any, served: str) -> None:
    result = render_template(BLOCK, user={"user_id": "u1"}, api_base=served, api_key="wrong")
    assert result.aborted
