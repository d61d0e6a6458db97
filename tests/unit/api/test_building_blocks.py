"""The cache, the catalog artifact and its store, the API-key store, the breaker and the deadline."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from chalicelib.artifacts import CatalogStore
from chalicelib.auth import UNSET_PLACEHOLDER, ApiKeys
from chalicelib.breaker import CircuitBreaker
from chalicelib.cache import TTLCache
from chalicelib.catalog_artifact import CatalogFile, open_catalog
from chalicelib.deadline import Deadline, DeadlineExceededError, WorkerPool
from chalicelib.errors import ApiError, CatalogError
from chalicelib.logs import Metrics
from tests.contract import ContractError, check_response


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_cache_entries_expire_after_the_ttl() -> None:
    clock = Clock()
    cache: TTLCache[str] = TTLCache(300, 10, clock)
    cache.put("a", "A")
    clock.now += 299
    assert cache.get("a") == "A"
    clock.now += 2
    assert cache.get("a") is None


def test_cache_evicts_the_least_recently_used_when_full() -> None:
    cache: TTLCache[int] = TTLCache(300, 2, Clock())
    cache.put("a", 1)
    cache.put("b", 2)
    assert cache.get("a") == 1
    cache.put("c", 3)
    assert (cache.get("a"), cache.get("b"), cache.get("c")) == (1, None, 3)


def test_a_zero_ttl_disables_the_cache() -> None:
    cache: TTLCache[int] = TTLCache(0, 10, Clock())
    cache.put("a", 1)
    assert cache.get("a") is None


def store(s3: Any, k: SimpleNamespace, clock: Clock, tmp_path: Path, refresh: float = 60) -> CatalogStore:
    breaker = CircuitBreaker("artifacts", 3, 5, Metrics(), clock)
    return CatalogStore(
        lambda: s3, k.BUCKET, k.CATALOG_KEY, refresh, breaker, WorkerPool(2, "test"), str(tmp_path), clock
    )


def loaded(catalog: CatalogFile | None) -> CatalogFile:
    assert catalog is not None, "the catalog should have loaded"
    return catalog


def name_of(catalog: CatalogFile | None, item: str) -> str | None:
    row = loaded(catalog).get(item)
    return None if row is None else row["NAME"]


def test_the_catalog_artifact_holds_rows_in_popularity_order_and_finds_any_id(
    k: SimpleNamespace, tmp_path: Path
) -> None:
    path = tmp_path / "catalog.bin"
    path.write_bytes(k.catalog_artifact(k.CATALOG_IDS))
    catalog = open_catalog(path)
    assert len(catalog) == 30
    assert [row["ITEM_ID"] for _, row in catalog.in_popularity_order()][:7] == [
        "i30",
        "i29",
        "i28",
        "i27",
        "i26",
        "i25",
        "i24",
    ]
    assert catalog.rank("i30") == 0 and catalog.rank("ghost-popular") is None
    assert all(loaded(catalog).get(item)["ITEM_ID"] == item for item in k.CATALOG_IDS)  # type: ignore[index]
    columns = {c.name: c for c in catalog.columns}
    assert columns["PRICE"].numeric and columns["CATEGORY_L1"].categorical
    assert "DESCRIPTION" not in columns  # textual: filters cannot read it, so it is not shipped
    catalog.close()


@pytest.mark.parametrize("body", [b"", b"not a catalog at all", b"BRZCAT02\xff\xff\x00\x00{"])
def test_a_file_that_is_not_a_catalog_artifact_is_an_error_naming_it(tmp_path: Path, body: bytes) -> None:
    path = tmp_path / "bad.bin"
    path.write_bytes(body)
    with pytest.raises(CatalogError) as info:
        open_catalog(path, "s3://b/artifacts/catalog/catalog.bin")
    assert info.value.key == "s3://b/artifacts/catalog/catalog.bin"


def test_catalog_is_reloaded_only_when_its_etag_changes_and_the_interval_passed(
    aws: Any, k: SimpleNamespace, tmp_path: Path
) -> None:
    clock = Clock()
    s3 = aws["s3"]
    catalog = store(s3, k, clock, tmp_path)
    assert name_of(catalog.get(Deadline(1000)), "i1") == "Product i1"
    s3.put_object(Bucket=k.BUCKET, Key=k.CATALOG_KEY, Body=k.catalog_artifact(["i1"], name_prefix="Renamed"))
    clock.now += 59
    assert name_of(catalog.get(Deadline(1000)), "i1") == "Product i1"  # not checked yet
    clock.now += 2
    catalog.get(Deadline(1000))  # starts the refresh in the background, answers the current copy
    catalog.settle(5)
    current = catalog.get(Deadline(1000))
    assert name_of(current, "i1") == "Renamed i1" and loaded(current).get("i2") is None


def test_a_failed_refresh_keeps_serving_the_last_good_catalog(
    aws: Any, k: SimpleNamespace, tmp_path: Path
) -> None:
    clock = Clock()
    s3 = aws["s3"]
    catalog = store(s3, k, clock, tmp_path)
    assert name_of(catalog.get(Deadline(1000)), "i1")
    s3.delete_object(Bucket=k.BUCKET, Key=k.CATALOG_KEY)
    clock.now += 61
    catalog.get(Deadline(1000))
    catalog.settle(5)
    assert name_of(catalog.get(Deadline(1000)), "i1")


def test_a_missing_catalog_is_retried_soon_after_a_failure(
    aws: Any, k: SimpleNamespace, tmp_path: Path
) -> None:
    clock = Clock()
    s3 = aws["s3"]
    body = s3.get_object(Bucket=k.BUCKET, Key=k.CATALOG_KEY)["Body"].read()
    s3.delete_object(Bucket=k.BUCKET, Key=k.CATALOG_KEY)
    catalog = store(s3, k, clock, tmp_path, refresh=600)
    assert catalog.get(Deadline(1000)) is None
    s3.put_object(Bucket=k.BUCKET, Key=k.CATALOG_KEY, Body=body)
    clock.now += 6  # well under the 600 s refresh interval
    assert name_of(catalog.get(Deadline(1000)), "i1")


def keys_of(ssm: Any, parameter: str, clock: Clock) -> ApiKeys:
    return ApiKeys(lambda: ssm, parameter, 300, WorkerPool(2, "test"), clock)


def test_api_keys_are_cached_for_the_ttl_then_reread_for_rotation(aws: Any, k: SimpleNamespace) -> None:
    clock = Clock()
    ssm = aws["ssm"]
    keys = keys_of(ssm, k.PARAMETER, clock)
    assert keys.verify(k.API_KEY, Deadline(1000)) and keys.verify(k.OLD_KEY, Deadline(1000))
    ssm.put_parameter(Name=k.PARAMETER, Value="brand-new", Type="SecureString", Overwrite=True)
    assert keys.verify(k.OLD_KEY, Deadline(1000))  # still cached
    clock.now += 301
    keys.verify(k.OLD_KEY, Deadline(1000))  # starts the re-read; the last good list answers meanwhile
    keys.settle(5)
    assert not keys.verify(k.OLD_KEY, Deadline(1000))
    assert keys.verify("brand-new", Deadline(1000))


def test_the_terraform_placeholder_is_never_accepted_as_a_key(aws: Any, k: SimpleNamespace) -> None:
    ssm = aws["ssm"]
    ssm.put_parameter(Name=k.PARAMETER, Value=UNSET_PLACEHOLDER, Type="SecureString", Overwrite=True)
    keys = keys_of(ssm, k.PARAMETER, Clock())
    assert not keys.verify(UNSET_PLACEHOLDER, Deadline(1000))
    assert not keys.verify(k.API_KEY, Deadline(1000))


def test_api_keys_answer_503_when_ssm_was_never_readable(aws: Any) -> None:
    keys = keys_of(aws["ssm"], "/no/such/parameter", Clock())
    with pytest.raises(ApiError) as info:
        keys.verify("anything", Deadline(1000))
    assert info.value.status == 503
    assert not keys.verify("", Deadline(1000))  # a missing key is refused without asking SSM


def state_of(breaker: CircuitBreaker) -> str:
    return breaker.state


def test_a_breaker_opens_after_consecutive_failures_and_lets_one_probe_through_after_the_cooldown(
    recs_log: list[str],
) -> None:
    clock = Clock()
    metrics = Metrics()
    breaker = CircuitBreaker("campaign", 3, 5, metrics, clock)
    for _ in range(2):
        assert breaker.allow()
        breaker.failure("timeout")
    assert breaker.allow()
    breaker.success()  # a success resets the count
    for _ in range(3):
        assert breaker.allow()
        breaker.failure("timeout")
    assert breaker.state == "open"
    assert not breaker.allow()
    clock.now += 5
    assert state_of(breaker) == "half_open"
    assert breaker.allow()  # the probe
    assert not breaker.allow()  # everyone else still falls back while it runs
    breaker.failure("timeout")
    assert breaker.state == "open"
    clock.now += 5
    assert breaker.allow()
    breaker.success()
    assert state_of(breaker) == "closed" and breaker.allow()
    states = [json.loads(line)["state"] for line in recs_log if '"event":"breaker_state"' in line]
    assert states == ["open", "half_open", "open", "half_open", "closed"]
    opened = [json.loads(line) for line in recs_log if '"event":"breaker_opened"' in line]
    assert len(opened) == 2 and opened[0]["Dependency"] == "campaign" and opened[0]["BreakerOpen"] == 1
    assert opened[0]["_aws"]["CloudWatchMetrics"][0]["Dimensions"] == [["Dependency"]]
    assert metrics.snapshot()["BreakerOpen"] == 4  # two openings, two rejected calls


def test_a_deadline_cuts_a_wait_for_a_worker_that_never_answers() -> None:
    import threading

    release = threading.Event()
    pool = WorkerPool(1, "test")
    deadline = Deadline(100)
    try:
        with pytest.raises(DeadlineExceededError):
            pool.run("hung", lambda: release.wait(5), deadline)
        assert deadline.missed == ["hung"]
        # The only worker is still held: a second call waits in the queue and is cut at its deadline too.
        with pytest.raises(DeadlineExceededError):
            pool.run("queued", lambda: True, Deadline(100))
    finally:
        release.set()


def test_the_contract_check_rejects_bodies_statuses_and_headers_the_document_does_not_allow(
    openapi: dict[str, Any],
) -> None:
    good = [{"id": "i1", "url": "u", "name": "n", "price": 1.5, "image": None}]
    headers = {
        "X-Recommendations-Source": "personalize",
        "X-Cache": "miss",
        "Cache-Control": "private, max-age=5",
        "X-Recommendation-Id": "RID-1",  # every answer carries one (made up for a fallback)
    }
    check_response(openapi, "/recommendations", 200, good, headers)
    missing_id = {k: v for k, v in headers.items() if k != "X-Recommendation-Id"}
    with pytest.raises(ContractError, match="X-Recommendation-Id"):
        check_response(openapi, "/recommendations", 200, good, missing_id)
    with pytest.raises(ContractError, match="status not documented"):
        check_response(openapi, "/recommendations", 404, good)
    with pytest.raises(ContractError):
        check_response(openapi, "/recommendations", 200, [{"id": "i1", "extra": True}])
    with pytest.raises(ContractError):
        check_response(openapi, "/recommendations", 400, {"error": "flat string"})
    with pytest.raises(ContractError, match="X-Recommendations-Source"):
        check_response(
            openapi, "/recommendations", 200, good, {**headers, "X-Recommendations-Source": "cache"}
        )
    with pytest.raises(ContractError, match="not documented"):
        check_response(openapi, "/nope", 200, good)


def test_the_openapi_document_is_valid_openapi_3_1_and_documents_every_route(openapi: dict[str, Any]) -> None:
    from openapi_spec_validator import validate

    validate(openapi)
    import app as app_module

    routes = {path for path in app_module.app.routes}
    assert routes == set(openapi["paths"])


def test_importing_the_app_creates_no_aws_client_and_does_not_even_import_boto3(k: SimpleNamespace) -> None:
    code = (
        "import sys; sys.path.insert(0, '.'); import app; "
        "print(sorted(m for m in sys.modules if 'boto' in m))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=k.CHALICE_DIR, capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "[]"


def test_backend_clients_time_out_at_the_deadline_with_a_single_attempt(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from chalicelib.aws import ClientFactory

    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    factory = ClientFactory(1200)
    for service in ("personalize-runtime", "s3", "ssm"):
        client = factory.client(service)
        assert client is factory.client(service)  # created once, then shared
        config = client.meta.config
        assert (config.connect_timeout, config.read_timeout) == (1.2, 1.2)
        assert config.retries["total_max_attempts"] == 1
