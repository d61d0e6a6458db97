"""Each production fault, through the app: the exact status and body the caller gets, within the deadline.

Hangs and resets are real sockets (tests/fault_proxy.py: a listener that accepts and never answers, or
answers with a TCP reset) behind real botocore clients with the API's own timeouts; service errors come
from botocore's Stubber.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from chalice.test import Client

import app as app_module
from braze.render import TEMPLATE_DIR, render_template
from chalicelib.aws import ClientFactory
from chalicelib.deadline import Deadline
from chalicelib.runtime import Runtime, build_runtime, set_runtime
from tests.fault_proxy import FaultProxy

DEADLINE_MS = 400
# Popularity order of the test catalog (conftest.POPULAR first, then the rest by id).
POPULAR_ORDER = ["i30", "i29", "i28", "i27", "i26", "i25", "i24", "i1", "i10", "i11", "i12", "i13"]


def item(item_id: str) -> dict[str, Any]:
    n = int(item_id[1:]) - 1
    return {
        "id": item_id,
        "url": f"https://shop.example.com/product/{item_id}",
        "name": f"Product {item_id}",
        "price": 10 + n + 0.5,
        "image": f"https://img.example.com/{item_id}.jpg",
    }


def items(*ids: str) -> list[dict[str, Any]]:
    return [item(i) for i in ids]


@pytest.fixture
def proxy() -> Iterator[FaultProxy]:
    hole = FaultProxy("127.0.0.1", 9, mode="hang")  # nothing behind it: it only ever hangs or resets
    yield hole
    hole.close()


def real_client(service: Any, endpoint: str) -> Any:
    """A botocore client with the API's own timeouts (the deadline, one attempt) aimed at `endpoint`."""
    session = boto3.session.Session(aws_access_key_id="x", aws_secret_access_key="x", region_name="us-east-1")
    return session.client(service, endpoint_url=endpoint, config=ClientFactory(DEADLINE_MS).config())


class Served:
    def __init__(self, runtime: Runtime, k: SimpleNamespace) -> None:
        self.runtime = runtime
        self.k = k

    def get(self, path: str) -> Any:
        with Client(app_module.app, stage_name="local", project_dir=str(self.k.CHALICE_DIR)) as client:
            return client.http.get(path, headers={"X-Api-Key": self.k.API_KEY})


@pytest.fixture
def serve(aws: dict[str, Any], k: SimpleNamespace, tmp_path: Path) -> Iterator[Any]:
    def build(settings_changes: dict[str, Any] | None = None, **clients: Any) -> Served:
        settings = k.make_settings(**{"deadline_ms": DEADLINE_MS, **(settings_changes or {})})
        parts = {"s3": aws["s3"], "ssm": aws["ssm"], **clients}
        runtime = build_runtime(settings, catalog_directory=str(tmp_path), **parts)
        if "s3" not in clients and "ssm" not in clients:
            # A test of Personalize's faults starts warm (keys and catalog read, as in a warm container), so
            # a busy machine's slow first read of the in-process S3 and SSM never eats its short deadline.
            # Tests that pass their own s3 or ssm client exercise those cold reads themselves.
            runtime.catalog.prefetch()
            runtime.catalog.settle(5)
            runtime.api_keys.verify(k.API_KEY, Deadline(5000))
        set_runtime(runtime)
        return Served(runtime, k)

    yield build
    set_runtime(None)


def stubbed(k: SimpleNamespace) -> tuple[Any, Any]:
    from botocore.stub import Stubber

    client = k.personalize_client()
    return client, Stubber(client)


def throttled(serve: Any, k: SimpleNamespace, path: str, operation: str = "get_recommendations") -> Any:
    """`path`'s answer while Personalize throttles the call."""
    client, stubber = stubbed(k)
    stubber.add_client_error(operation, "ThrottlingException", "slow down", 400)
    with stubber:
        return serve(personalize=client).get(path)


def fallback_of(response: Any) -> list[dict[str, Any]]:
    assert response.status_code == 200
    assert response.headers["X-Recommendations-Source"] == "fallback"
    assert response.headers["Cache-Control"] == "private, max-age=30"
    return list(json.loads(response.body))


# -- Personalize faults -----------------------------------------------------------------------------
def events(log: list[str], name: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in log if f'"event":"{name}"' in line]


def test_a_hung_personalize_answers_the_fallback_cut_at_the_deadline(
    serve: Any, proxy: FaultProxy, recs_log: list[str]
) -> None:
    api = serve(personalize=real_client("personalize-runtime", proxy.url))
    response = api.get("/recommendations?user_id=u1&limit=3")
    assert fallback_of(response) == items("i30", "i29", "i28")
    assert events(recs_log, "fallback")[0]["reason"] == "timeout"
    # The request's deadline cut the wait (not the socket's own timeout, which is the whole deadline).
    assert events(recs_log, "deadlinemiss")[0]["dependencies"] == ["personalize:GetRecommendations"]


def test_a_reset_connection_answers_the_fallback(serve: Any, proxy: FaultProxy) -> None:
    proxy.set_mode("reset")
    api = serve(personalize=real_client("personalize-runtime", proxy.url))
    response = api.get("/recommendations?user_id=u1&limit=2")
    assert fallback_of(response) == items("i30", "i29")


@pytest.mark.parametrize(
    ("code", "status"),
    [("ThrottlingException", 400), ("AccessDeniedException", 400), ("ResourceNotFoundException", 404)],
)
def test_a_personalize_error_answers_the_fallback(
    serve: Any, k: SimpleNamespace, code: str, status: int, recs_log: list[str]
) -> None:
    client, stubber = stubbed(k)
    stubber.add_client_error("get_recommendations", code, "no", status)
    with stubber:
        response = serve(personalize=client).get("/recommendations?user_id=u1&limit=4")
    assert fallback_of(response) == items("i30", "i29", "i28", "i27")
    fallback = next(json.loads(line) for line in recs_log if '"event":"fallback"' in line)
    expected = "throttled" if code == "ThrottlingException" else f"error:{code}"
    assert fallback["reason"] == expected and fallback["Route"] == "/recommendations"


@pytest.mark.parametrize(
    "answer",
    [
        {"itemList": [{"itemId": "i1"}], "recommendationId": 7},  # a non-string recommendationId
        {"itemList": [{"itemId": 5}], "recommendationId": "r"},
        {"itemList": "i1,i2", "recommendationId": "r"},
        {"itemList": [None], "recommendationId": "r"},
    ],
)
def test_a_malformed_personalize_answer_is_a_fallback_never_a_500_and_is_not_cached(
    serve: Any, answer: dict[str, Any]
) -> None:
    class Malformed:
        calls = 0

        def get_recommendations(self, **params: Any) -> dict[str, Any]:
            Malformed.calls += 1
            return answer

    api = serve(personalize=Malformed())
    first = api.get("/recommendations?user_id=u1&limit=2")
    second = api.get("/recommendations?user_id=u1&limit=2")
    assert fallback_of(first) == fallback_of(second) == items("i30", "i29")
    assert Malformed.calls == 2


# -- SSM and S3 faults ------------------------------------------------------------------------------
def test_a_cold_start_whose_ssm_hangs_answers_503_json_within_the_deadline(
    serve: Any, proxy: FaultProxy, recs_log: list[str]
) -> None:
    api = serve(ssm=real_client("ssm", proxy.url))
    response = api.get("/recommendations?user_id=u1")
    assert response.status_code == 503
    assert json.loads(response.body) == {
        "error": {
            "code": "auth_unavailable",
            "message": "the API key store cannot be read; try again shortly",
        }
    }
    assert response.headers["Cache-Control"] == "no-store"
    assert events(recs_log, "api_keys_wait_cut")  # answered at the deadline, the read still hanging
    assert events(recs_log, "deadlinemiss")[0]["dependencies"] == ["ssm:GetParameter"]
    assert events(recs_log, "servererror")[0]["ServerError"] == 1


def test_a_cold_start_reads_its_keys_again_on_the_next_request_once_ssm_is_back(
    serve: Any, aws: dict[str, Any], k: SimpleNamespace
) -> None:
    class DownOnce:
        calls = 0

        def get_parameter(self, **params: Any) -> Any:
            DownOnce.calls += 1
            if DownOnce.calls == 1:
                raise ClientError(
                    {"Error": {"Code": "InternalServerError", "Message": "down"}}, "GetParameter"
                )
            return aws["ssm"].get_parameter(**params)

    client, stubber = stubbed(k)
    stubber.add_response("get_recommendations", {"itemList": [{"itemId": "i1"}], "recommendationId": "r"})
    with stubber:
        # What is tested is that nothing backs off, not the clock: a deadline a GC pause of a long test
        # process cannot eat (seen once in CI: the in-process read outlasted 400 ms and the wait was cut).
        api = serve({"deadline_ms": 5000}, personalize=client, ssm=DownOnce())
        assert api.get("/recommendations?user_id=u1&limit=1").status_code == 503
        assert api.get("/recommendations?user_id=u1&limit=1").status_code == 200  # no back-off without keys


def test_a_warm_api_keeps_its_keys_while_ssm_hangs(
    serve: Any, aws: dict[str, Any], k: SimpleNamespace, recs_log: list[str]
) -> None:
    released = threading.Event()

    class HangingLater:
        """Answers from moto until `hang` is set, then not before the test ends."""

        hang = False

        def get_parameter(self, **params: Any) -> Any:
            if HangingLater.hang:
                released.wait(10)
            return aws["ssm"].get_parameter(**params)

    client, stubber = stubbed(k)
    for _ in range(3):
        stubber.add_response("get_recommendations", {"itemList": [{"itemId": "i1"}], "recommendationId": "r"})
    with stubber:
        # Keys expire at once: every request re-reads them in the background. A deadline longer than a GC
        # pause of a long test process: a request that did wait for the hung read would still be cut (10 s).
        api = serve({"api_key_cache_seconds": 0, "deadline_ms": 5000}, personalize=client, ssm=HangingLater())
        assert api.get("/recommendations?user_id=a&limit=1").status_code == 200
        HangingLater.hang = True
        try:
            for user in ("b", "c"):
                response = api.get(f"/recommendations?user_id={user}&limit=1")
                assert (response.status_code, json.loads(response.body)) == (200, items("i1"))
        finally:
            released.set()
    assert not events(recs_log, "api_keys_wait_cut")  # no request waited for the hung read
    assert not events(recs_log, "deadlinemiss")


def test_a_cold_start_whose_s3_hangs_answers_an_empty_list_at_the_deadline(
    serve: Any, k: SimpleNamespace, proxy: FaultProxy, recs_log: list[str]
) -> None:
    client, stubber = stubbed(k)
    stubber.add_response("get_recommendations", {"itemList": [{"itemId": "i1"}], "recommendationId": "r"})
    with stubber:
        api = serve(personalize=client, s3=real_client("s3", proxy.url))
        response = api.get("/recommendations?user_id=u1&limit=3")
    assert fallback_of(response) == []
    assert events(recs_log, "catalog_wait_cut")
    assert events(recs_log, "deadlinemiss")[0]["dependencies"] == ["s3:GetObject catalog"]


def test_a_missing_catalog_answers_an_empty_list_and_ids_without_metadata(
    serve: Any, aws: dict[str, Any], k: SimpleNamespace
) -> None:
    aws["s3"].delete_object(Bucket=k.BUCKET, Key=k.CATALOG_KEY)
    client, stubber = stubbed(k)
    for _ in range(2):
        stubber.add_response("get_recommendations", {"itemList": [{"itemId": "i1"}], "recommendationId": "r"})
    with stubber:
        api = serve(personalize=client)
        assert fallback_of(api.get("/recommendations?user_id=u1&limit=3")) == []
        ids = api.get("/recommendations?user_id=u1&limit=3&metadata=false")
    assert json.loads(ids.body) == [{"id": "i1"}]
    assert ids.headers["X-Recommendations-Source"] == "personalize"


# -- the fallback honours the request -------------------------------------------------------------------
def test_a_category_filtered_fallback_returns_only_that_category(serve: Any, k: SimpleNamespace) -> None:
    response = throttled(serve, k, "/recommendations?user_id=u1&limit=5&filter=in-category&CATEGORY=Garden")
    body = fallback_of(response)
    assert body == items("i30", "i27", "i24", "i12", "i15")
    assert all(k.category_of(i["id"]) == "Garden" for i in body)


def test_a_price_bound_is_honoured_by_the_fallback(serve: Any, k: SimpleNamespace) -> None:
    response = throttled(serve, k, "/recommendations?user_id=u1&limit=3&filter=under-price&MAX_PRICE=13")
    assert fallback_of(response) == items("i1", "i2", "i3")  # 10.5, 11.5, 12.5


def test_an_exclude_on_item_metadata_is_honoured_by_the_fallback(serve: Any, k: SimpleNamespace) -> None:
    response = throttled(
        serve, k, "/recommendations?user_id=u1&limit=3&filter=exclude-in-category&CATEGORY=Garden"
    )
    assert fallback_of(response) == items("i29", "i28", "i26")


def test_an_on_fallback_empty_filter_answers_an_empty_list_and_the_template_aborts(
    serve: Any, k: SimpleNamespace, served: str
) -> None:
    query = "filter=not-purchased-in-category&CATEGORY=Home"
    template = (TEMPLATE_DIR / "email_block.liquid").read_text(encoding="utf-8")
    filtered = template.replace("&limit=3", f"&limit=3&{query}")
    assert filtered != template
    client, stubber = stubbed(k)
    for _ in range(2):
        stubber.add_client_error("get_recommendations", "ThrottlingException", "slow down", 400)
    with stubber:
        response = serve(personalize=client).get(f"/recommendations?user_id=u1&{query}")
        rendered = render_template(filtered, user={"user_id": "u2"}, api_base=served, api_key=k.API_KEY)
    assert fallback_of(response) == []
    assert rendered.aborted and rendered.abort_reason == "no recommendations for this user"


def test_rankings_fall_back_to_their_own_items_in_popularity_order(serve: Any, k: SimpleNamespace) -> None:
    response = throttled(serve, k, "/rankings?user_id=u1&item_ids=i2,i29,i5,i30", "get_personalized_ranking")
    assert fallback_of(response) == items("i30", "i29", "i2", "i5")


def test_rankings_without_a_ranking_campaign_never_ask_the_recommendations_campaign(serve: Any) -> None:
    class NoCalls:
        def get_personalized_ranking(self, **params: Any) -> Any:
            raise AssertionError("no ranking campaign is configured: nothing may be called")

    api = serve({"ranking_campaign_arn": ""}, personalize=NoCalls())
    assert fallback_of(api.get("/rankings?user_id=u1&item_ids=i1,i30,ghost")) == items("i30", "i1")


# -- the breaker ------------------------------------------------------------------------------------
def test_an_open_breaker_answers_from_the_fallback_without_calling_personalize(
    serve: Any, recs_log: list[str]
) -> None:
    class Failing:
        calls = 0

        def get_recommendations(self, **params: Any) -> Any:
            Failing.calls += 1
            raise ClientError(
                {"Error": {"Code": "InternalServerError", "Message": "down"}}, "GetRecommendations"
            )

    api = serve({"breaker_failures": 2}, personalize=Failing())
    for user in ("a", "b", "c", "d"):
        assert fallback_of(api.get(f"/recommendations?user_id={user}&limit=1")) == items("i30")
    assert Failing.calls == 2
    assert api.runtime.breakers["campaign"].state == "open"
    rejected = [json.loads(line) for line in recs_log if '"event":"breaker_rejected"' in line]
    assert len(rejected) == 2 and rejected[0]["Dependency"] == "campaign"
    fallbacks = [json.loads(line) for line in recs_log if '"event":"fallback"' in line]
    assert [f["reason"] for f in fallbacks] == ["error:InternalServerError"] * 2 + ["breaker_open"] * 2


# -- degraded answers are not kept long -----------------------------------------------------------------
def test_an_empty_personalized_answer_is_kept_briefly_and_not_cached(serve: Any, k: SimpleNamespace) -> None:
    client, stubber = stubbed(k)
    for _ in range(2):
        stubber.add_response("get_recommendations", {"itemList": [], "recommendationId": "r"})
    with stubber:
        api = serve(personalize=client)
        first = api.get("/recommendations?user_id=u1")
        second = api.get("/recommendations?user_id=u1")
    assert json.loads(first.body) == []
    assert first.headers["Cache-Control"] == "private, max-age=30"
    assert second.headers["X-Cache"] == "miss"


def test_every_answer_logs_its_latency_as_a_metric(
    serve: Any, k: SimpleNamespace, recs_log: list[str]
) -> None:
    client, stubber = stubbed(k)
    stubber.add_response("get_recommendations", {"itemList": [{"itemId": "i1"}], "recommendationId": "r"})
    with stubber:
        serve(personalize=client).get("/recommendations?user_id=u1")
    served = next(json.loads(line) for line in recs_log if '"event":"request_served"' in line)
    metric = served["_aws"]["CloudWatchMetrics"][0]
    assert metric["Namespace"] == "BrazeRecommendationsApi"
    assert metric["Metrics"] == [{"Name": "Latency", "Unit": "Milliseconds"}]
    assert metric["Dimensions"] == [["Route"]] and served["Latency"] > 0


def test_a_deadline_miss_is_counted_once_per_request(
    serve: Any, proxy: FaultProxy, recs_log: list[str]
) -> None:
    api = serve(personalize=real_client("personalize-runtime", proxy.url))
    api.get("/recommendations?user_id=u1&limit=1")
    missed = events(recs_log, "deadlinemiss")
    assert len(missed) == 1 and missed[0]["DeadlineMiss"] == 1 and missed[0]["Route"] == "/recommendations"
