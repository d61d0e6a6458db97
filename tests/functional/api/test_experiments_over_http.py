"""Experiments through `chalice local` on the local stack: variants, ids and exposures over real HTTP, and
`experiment-report` reading the exposures this API logged."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from chalicelib.experiments import Experiment, Variant
from pipeline.lifecycle.context import Context, Progress
from pipeline.lifecycle.experiment_report import EXPOSURE_LOG_ENV, run_experiment_report
from tests.contract import check_response
from tests.functional.api.world import Served, serve_api, stop

pytestmark = pytest.mark.functional

EXPERIMENT = "home-block"
USERS = [f"user-{n:03d}" for n in range(60)]


def _config(world: Any) -> dict[str, Any]:
    return {
        "name": EXPERIMENT,
        "variants": [
            {"name": "popular", "campaign": "popular", "weight": 50},
            {"name": "personalized", "campaign": "user-personalization", "weight": 50},
        ],
    }


@pytest.fixture(scope="module")
def exp_api(world: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    variants = [
        {**v, "campaign_arn": None if v["campaign"] == "popular" else world.campaign_arn}
        for v in _config(world)["variants"]
    ]
    env = {
        **world.env,
        "EXPERIMENTS": json.dumps({EXPERIMENT: {"route": "/recommendations", "variants": variants}}),
    }
    served = serve_api(env, tmp_path_factory.mktemp("api-exp") / "chalice.log")
    yield served
    stop(served)


def _expected(user: str) -> str:
    experiment = Experiment(
        EXPERIMENT, (Variant("popular", "popular", None, 50), Variant("personalized", "c", "arn", 50))
    )
    return experiment.assign(user).name


def test_every_answer_names_its_variant_and_an_id_and_the_split_follows_the_hash(
    exp_api: Served, openapi: dict[str, Any]
) -> None:
    seen: dict[str, str] = {}
    for user in USERS:
        response = exp_api.get(f"/recommendations?user_id={user}&limit=4&envelope=true")  # bound to the route
        data = response.json()
        check_response(openapi, "/recommendations", 200, data, dict(response.headers))
        seen[user] = data["variant"]
        assert data["experiment"] == EXPERIMENT
        assert data["recommendation_id"] == response.headers["X-Recommendation-Id"]
        expected_source = "popular" if data["variant"] == "popular" else "personalize"
        assert data["source"] == expected_source
        assert len(data["recommendations"]) == 4
    assert seen == {user: _expected(user) for user in USERS}
    assert 15 <= list(seen.values()).count("popular") <= 45  # 60 users, a 50/50 split


def test_braze_can_force_a_variant_and_an_unknown_one_is_a_400(exp_api: Served) -> None:
    user = next(u for u in USERS if _expected(u) == "popular")
    forced = exp_api.get(f"/recommendations?user_id={user}&experiment={EXPERIMENT}&variant=personalized")
    assert forced.status_code == 200
    assert forced.headers["X-Variant"] == "personalized"
    assert forced.headers["X-Recommendations-Source"] == "personalize"
    bad = exp_api.get(f"/recommendations?user_id={user}&variant=nope")
    assert bad.status_code == 400
    assert bad.json()["error"]["code"] == "unknown_variant"


def test_the_report_reads_the_exposures_this_api_logged(
    exp_api: Served, world: Any, local_stack: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Exposures: fresh users, so this test's counts do not depend on the others.
    users = [f"user-{n:03d}" for n in range(100, 140)]
    answers = {u: exp_api.get(f"/recommendations?user_id={u}&limit=3&envelope=true").json() for u in users}
    # Conversions as the Currents bridge keeps them: every personalized user clicks the answer they got
    # (attributed by recommendation_id), no popular user converts.
    clicks = [
        {
            "event_id": f"e{n}",
            "user_id": u,
            "recommendation_id": a["recommendation_id"],
            "item_id": "item-0001",
            "event_type": "Click",
            "currents_type": "users.messages.email.Click",
            "time": 2_000_000_000,
        }
        for n, (u, a) in enumerate(answers.items())
        if a["variant"] == "personalized"
    ]
    s3 = local_stack.client("s3")
    bucket = world.env["BUCKET"]
    s3.put_object(
        Bucket=bucket,
        Key="currents-state/attribution/2026-01-01-00/file.jsonl",
        Body="".join(json.dumps(c) + "\n" for c in clicks).encode(),
    )
    monkeypatch.setenv(EXPOSURE_LOG_ENV, str(exp_api.log))
    config = {
        "experiments": [_config(world)],
        "currents": {"state_prefix": "currents-state/", "bulk_prefix": "currents-bulk/"},
    }
    ctx = Context(
        env="local", config=config, outputs={"bucket_name": bucket}, clients={"s3": s3}, progress=Progress()
    )
    [result], markdown = run_experiment_report(ctx, EXPERIMENT, out_dir=tmp_path)
    rows = {r.name: r for r in result.rows}
    personalized = sum(a["variant"] == "personalized" for a in answers.values())
    # Every user of this module was exposed; only this test's personalized users converted.
    assert rows["personalized"].conversions == personalized
    assert rows["popular"].conversions == 0
    assert rows["popular"].users + rows["personalized"].users >= len(users)
    assert result.by_recommendation_id == personalized
    assert markdown.exists() and (tmp_path / f"experiment-{EXPERIMENT}-local.png").exists()
