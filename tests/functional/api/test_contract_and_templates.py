"""Schemathesis against the served API (no 5xx for any generated input, responses match the document) and
the Braze templates rendered against it on the local stack."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any, cast

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from braze.render import TEMPLATE_DIR, make_environment, render_template

pytestmark = pytest.mark.functional

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    response_headers_conformance,
]


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
def test_no_generated_request_gets_a_5xx_or_breaks_the_contract(
    api: Any, k: SimpleNamespace, mode: GenerationMode
) -> None:
    schema = schemathesis.openapi.from_path(str(k.REPO / "schemas" / "openapi.yaml"))
    calls: list[int] = []
    for result in schema.get_all_operations():
        operation = cast(Any, result).ok()
        if mode is GenerationMode.NEGATIVE and not list(operation.iter_parameters()):
            continue  # /health takes no input, so there is nothing invalid to generate

        @settings(max_examples=20, deadline=None, suppress_health_check=list(HealthCheck), database=None)
        @given(case=operation.as_strategy(generation_mode=mode))
        def check(case: Any) -> None:
            response = case.call(base_url=api.url, headers={"X-Api-Key": k.API_KEY}, timeout=10)
            calls.append(response.status_code)
            case.validate_response(response, checks=CHECKS)

        check()
    assert calls and max(calls) < 500


def test_content_card_renders_the_first_recommendation(api: Any, world: Any, k: SimpleNamespace) -> None:
    result = render_template(
        TEMPLATE_DIR / "content_card.liquid",
        user={"user_id": "user-002"},
        api_base=api.url,
        api_key=k.API_KEY,
    )
    assert not result.aborted
    lines = dict(line.split(": ", 1) for line in result.text.strip().splitlines())
    item_id = lines["link"].rsplit("/", 1)[-1]
    assert item_id in world.shop.category and item_id not in world.shop.history["user-002"]
    assert lines["title"].startswith(world.shop.category[item_id])
    assert lines["description"].startswith("Picked for you · ")


def test_email_block_renders_three_items_and_braze_caching_saves_calls(api: Any, k: SimpleNamespace) -> None:
    env = make_environment()  # one Braze environment: its Connected Content cache spans both sends
    first, again = (
        render_template(
            TEMPLATE_DIR / "email_block.liquid",
            user={"user_id": "user-007"},
            api_base=api.url,
            api_key=k.API_KEY,
            env=env,
        )
        for _send in range(2)
    )
    assert first.text.count("<tr>") == 3
    assert first.text == again.text
    assert len(first.calls) == 1 and again.calls == []


def test_email_block_aborts_for_a_wrong_key(api: Any) -> None:
    result = render_template(
        TEMPLATE_DIR / "email_block.liquid", user={"user_id": "user-007"}, api_base=api.url, api_key="nope"
    )
    assert result.aborted
