"""Experiments on /recommendations: deterministic assignment, Braze's override, what each answer carries."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from botocore.stub import Stubber
from chalice.test import Client

import app as app_module
from chalicelib.errors import ApiError, SettingsError
from chalicelib.experiments import (
    Experiment,
    Variant,
    bucket_of,
    choose,
    made_up_recommendation_id,
    parse_experiments,
)
from chalicelib.promotions import parse_promotions
from chalicelib.runtime import build_runtime, set_runtime
from tests.contract import check_response

OTHER_CAMPAIGN = "arn:aws:personalize:us-east-1:123456789012:campaign/braze-recs-other"


def _experiment(*weights: int) -> Experiment:
    return Experiment(
        "exp",
        tuple(Variant(f"v{n}", "c", f"arn:c{n}", w) for n, w in enumerate(weights)),
    )


def test_a_users_variant_is_the_same_on_every_call_and_in_a_fresh_experiment_object() -> None:
    first = [_experiment(50, 50).assign(f"user-{n}").name for n in range(200)]
    again = [_experiment(50, 50).assign(f"user-{n}").name for n in range(200)]
    assert first == again
    assert set(first) == {"v0", "v1"}


def test_the_split_is_respected_within_half_a_point_on_100k_users() -> None:
    experiment = _experiment(10, 30, 60)
    counts = Counter(experiment.assign(f"user-{n}").name for n in range(100_000))
    # Binomial standard error at p=0.3, n=100k is 0.145 points: 0.5 points is > 3 standard errors.
    assert counts["v0"] / 1000 == pytest.approx(10, abs=0.5)
    assert counts["v1"] / 1000 == pytest.approx(30, abs=0.5)
    assert counts["v2"] / 1000 == pytest.approx(60, abs=0.5)


def test_assignments_of_two_experiments_are_independent() -> None:
    a = [bucket_of("exp-a", f"u{n}") < 5000 for n in range(20_000)]
    b = [bucket_of("exp-b", f"u{n}") < 5000 for n in range(20_000)]
    both = sum(x and y for x, y in zip(a, b, strict=True)) / 20_000
    assert both == pytest.approx(0.25, abs=0.02)


def test_a_zero_weight_variant_gets_nobody_but_can_be_forced_by_braze() -> None:
    experiment = _experiment(0, 100)
    assert {experiment.assign(f"u{n}").name for n in range(1000)} == {"v1"}
    chosen = choose({"exp": experiment}, {"experiment": "exp", "variant": "v0"}, "/recommendations", "u1")
    assert chosen is not None and chosen.variant.name == "v0" and chosen.overridden


def test_unknown_experiment_or_variant_is_a_400_naming_the_parameter() -> None:
    experiments = {"exp": _experiment(50, 50)}
    with pytest.raises(ApiError) as err:
        choose(experiments, {"experiment": "nope"}, "/recommendations", "u1")
    assert (err.value.status, err.value.parameter) == (400, "experiment")
    with pytest.raises(ApiError) as err:
        choose(experiments, {"experiment": "exp", "variant": "v9"}, "/recommendations", "u1")
    assert (err.value.status, err.value.code, err.value.parameter) == (400, "unknown_variant", "variant")
    with pytest.raises(ApiError):
        choose(experiments, {"variant": "v1"}, "/recommendations", "u1")  # a variant of what?


def test_a_route_bound_experiment_applies_without_the_parameter() -> None:
    bound = Experiment("exp", _experiment(50, 50).variants, route="/recommendations")
    assert choose({"exp": bound}, {}, "/recommendations", "u1") is not None
    assert choose({"exp": _experiment(50, 50)}, {}, "/recommendations", "u1") is None


def test_made_up_ids_fit_putevents_recommendation_id_and_never_repeat() -> None:
    ids = {made_up_recommendation_id() for _ in range(1000)}
    assert len(ids) == 1000
    assert all(len(i) <= 40 and i.startswith("api-") for i in ids)


@pytest.mark.parametrize(
    ("spec", "why"),
    [
        ({"e": {"variants": [{"name": "a", "campaign": "popular", "weight": 60}]}}, "sum to 60"),
        ({"e": {"variants": [{"name": "a", "campaign": "c", "weight": 100}]}}, "no campaign_arn"),
        (
            {"e": {"variants": [{"name": "a", "campaign": "popular", "weight": 100, "filter": "nope"}]}},
            "not a key of FILTERS",
        ),
    ],
)
def test_the_environment_is_checked_when_settings_are_read(spec: dict[str, Any], why: str) -> None:
    with pytest.raises(SettingsError) as err:
        parse_experiments(json.dumps(spec), {})
    assert why in err.value.why


# ------------------------------------------------------------------------------ through the routes
EXP = "personalized-vs-popular"  # the shipped config's experiment, which braze/experiment_block.liquid names


@pytest.fixture
def exp_api(aws: dict[str, Any], tmp_path: Path, k: SimpleNamespace) -> Iterator[Any]:
    variants = [
        {"name": "popular", "campaign": "popular", "weight": 50, "filter": "in-category"},
        {"name": "personalized", "campaign": "other", "campaign_arn": OTHER_CAMPAIGN, "weight": 50},
        {
            "name": "promo",
            "campaign": "other",
            "campaign_arn": OTHER_CAMPAIGN,
            "weight": 0,
            "promotion": "new",
        },
    ]
    filters = k.make_settings().filters
    experiments = parse_experiments(json.dumps({EXP: {"variants": variants}}), filters)
    new = {"new": {"filter": "in-category", "percent": 50, "filter_values": {"CATEGORY": ["Garden"]}}}
    client = k.personalize_client()
    stubber = Stubber(client)
    runtime = build_runtime(
        k.make_settings(experiments=experiments, promotions=parse_promotions(json.dumps(new), filters)),
        personalize=client,
        s3=aws["s3"],
        ssm=aws["ssm"],
        catalog_directory=str(tmp_path),
    )
    set_runtime(runtime)
    with stubber, Client(app_module.app, stage_name="local", project_dir=str(k.CHALICE_DIR)) as test_client:
        yield k.Api(test_client, stubber, runtime)
    set_runtime(None)
    stubber.assert_no_pending_responses()


def _user_in(variant: str) -> str:
    experiment = Experiment(
        EXP, (Variant("popular", "popular", None, 50), Variant("personalized", "c", "arn:c", 50))
    )
    return next(f"u{n}" for n in range(1000) if experiment.assign(f"u{n}").name == variant)


def test_the_personalized_variant_asks_its_campaign_and_says_so(
    exp_api: Any, openapi: dict[str, Any], recs_log: list[str], k: SimpleNamespace
) -> None:
    user = _user_in("personalized")
    exp_api.expect_recommendations(
        ["i1", "i2"],
        {
            "campaignArn": OTHER_CAMPAIGN,
            "userId": user,
            "numResults": 7,
            "filterArn": k.FILTERS["exclude-interacted"],
        },
    )
    response = exp_api.get(f"/recommendations?user_id={user}&experiment={EXP}&envelope=true&limit=2")
    data = json.loads(response.body)
    check_response(openapi, "/recommendations", 200, data, dict(response.headers))
    assert (data["experiment"], data["variant"], data["source"]) == (EXP, "personalized", "personalize")
    assert data["recommendation_id"] == "RID-1"
    assert response.headers["X-Variant"] == "personalized"
    [exposure] = [json.loads(line) for line in recs_log if '"event":"exposure"' in line]
    assert exposure["user_id"] == user
    assert (exposure["experiment"], exposure["variant"], exposure["recommendation_id"]) == (
        EXP,
        "personalized",
        "RID-1",
    )


def test_the_popular_variant_answers_the_catalog_with_its_filter_and_a_made_up_id(
    exp_api: Any, openapi: dict[str, Any], k: SimpleNamespace
) -> None:
    user = _user_in("popular")
    response = exp_api.get(f"/recommendations?user_id={user}&experiment={EXP}&CATEGORY=Garden&limit=3")
    items = json.loads(response.body)
    check_response(openapi, "/recommendations", 200, items, dict(response.headers))
    assert [i["id"] for i in items] == ["i30", "i27", "i24"]  # Garden items in popularity order
    assert all(k.category_of(i["id"]) == "Garden" for i in items)
    assert response.headers["X-Recommendations-Source"] == "popular"
    assert response.headers["X-Recommendation-Id"].startswith("api-")
    assert response.headers["X-Experiment"] == EXP


def test_braze_picks_the_variant_and_an_unknown_one_is_a_400(exp_api: Any, recs_log: list[str]) -> None:
    user = _user_in("popular")
    exp_api.expect_recommendations(
        ["i1"],
        {
            "campaignArn": OTHER_CAMPAIGN,
            "userId": user,
            "numResults": 15,
            "filterArn": exp_api.runtime.settings.filters["exclude-interacted"].arn,
            "promotions": [
                {
                    "name": "new",
                    "percentPromotedItems": 50,
                    "filterArn": exp_api.runtime.settings.filters["in-category"].arn,
                    "filterValues": {"CATEGORY": '"Garden"'},
                }
            ],
        },
    )
    response = exp_api.get(f"/recommendations?user_id={user}&experiment={EXP}&variant=promo")
    assert response.headers["X-Variant"] == "promo"  # the variant's promotion went to Personalize
    [exposure] = [json.loads(line) for line in recs_log if '"event":"exposure"' in line]
    assert exposure["overridden"] is True
    bad = exp_api.get(f"/recommendations?user_id={user}&experiment={EXP}&variant=nope")
    assert bad.status_code == 400
    assert json.loads(bad.body)["error"]["parameter"] == "variant"


def test_a_fallback_in_an_experiment_still_carries_a_recommendation_id(exp_api: Any) -> None:
    user = _user_in("personalized")
    exp_api.stubber.add_client_error("get_recommendations", "InternalServerError", http_status_code=500)
    response = exp_api.get(f"/recommendations?user_id={user}&experiment={EXP}&envelope=true")
    data = json.loads(response.body)
    assert data["source"] == "fallback"
    assert data["recommendation_id"].startswith("api-")
    assert data["variant"] == "personalized"


@pytest.fixture
def exp_served(exp_api: Any) -> Iterator[str]:
    """The experiment API behind chalice's local HTTP server, for the Braze template."""
    import threading

    from chalice.config import Config
    from chalice.local import LocalDevServer

    server = LocalDevServer(
        app_module.app, Config.create(chalice_stage="local", api_gateway_stage="api"), "127.0.0.1", 0
    )
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server.server_address[1]}"
    finally:
        server.shutdown()
        thread.join(5)


def test_the_experiment_template_links_carry_the_item_and_the_answers_recommendation_id(
    exp_api: Any, exp_served: str, k: SimpleNamespace
) -> None:
    from braze.render import TEMPLATE_DIR, render_template

    user = _user_in("personalized")
    exp_api.expect_recommendations(["i1", "i2", "i3"])
    result = render_template(
        TEMPLATE_DIR / "experiment_block.liquid",
        user={"user_id": user},
        api_base=exp_served,
        api_key=k.API_KEY,
    )
    assert not result.aborted
    assert 'data-variant="personalized"' in result.text
    assert '<a href="https://shop.example.com/product/i2?item_id=i2&recommendation_id=RID-1">' in result.text
    assert result.calls == [
        f"{exp_served}/recommendations?user_id={user}&limit=3&envelope=true&experiment={EXP}"
    ]
