"""The cache, the S3 artifacts (catalog, fallback list) and the API-key store, with a controllable clock."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Mapping
from types import SimpleNamespace
from typing import Any

import pytest

from chalicelib.artifacts import CatalogItem, catalog_object, parse_catalog, parse_popular, popular_object
from chalicelib.auth import UNSET_PLACEHOLDER, ApiKeys
from chalicelib.cache import TTLCache
from chalicelib.contract import ContractError, check_response
from chalicelib.errors import ApiError, CatalogError


def loaded(items: Mapping[str, CatalogItem] | None) -> Mapping[str, CatalogItem]:
    assert items is not None, "the catalog should have loaded"
    return items


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


def test_catalog_parsing_fills_missing_urls_from_the_template_and_tolerates_bad_prices(
    k: SimpleNamespace,
) -> None:
    body = (
        b"ITEM_ID,NAME,PRICE,URL,IMAGE\nA1,Lamp,12.5,,\nB2,,oops,https://x/b2,https://img/b2.png\n,skip,1,,\n"
    )
    items = parse_catalog(body, "items.csv", "https://shop/p/{id}")
    assert items["A1"].to_json() == {
        "id": "A1",
        "url": "https://shop/p/A1",
        "name": "Lamp",
        "price": 12.5,
        "image": None,
    }
    assert items["B2"].name == "B2" and items["B2"].price is None
    assert len(items) == 2


def test_catalog_without_an_item_id_column_is_an_error_naming_the_key() -> None:
    with pytest.raises(CatalogError) as info:
        parse_catalog(b"USER_ID,NAME\nu,x\n", "artifacts/catalog/items.csv")
    assert info.value.key == "artifacts/catalog/items.csv"


@pytest.mark.parametrize("body", [b"[1,2]", b"{oops", b'{"items": "i1"}'])
def test_a_malformed_fallback_list_is_an_error(body: bytes) -> None:
    with pytest.raises(CatalogError):
        parse_popular(body, "popular.json")


def test_catalog_is_reloaded_only_when_its_etag_changes_and_the_interval_passed(
    aws: Any, k: SimpleNamespace
) -> None:
    clock = Clock()
    s3 = aws["s3"]
    catalog = catalog_object(lambda: s3, k.BUCKET, k.CATALOG_KEY, 60, clock=clock)
    assert loaded(catalog.get())["i1"].name == "Product i1"
    s3.put_object(Bucket=k.BUCKET, Key=k.CATALOG_KEY, Body=k.catalog_csv(["i1"], name_prefix="Renamed"))
    clock.now += 59
    assert loaded(catalog.get())["i1"].name == "Product i1"  # not checked yet
    clock.now += 2
    items = loaded(catalog.get())
    assert items["i1"].name == "Renamed i1" and "i2" not in items


def test_a_failed_refresh_keeps_serving_the_last_good_catalog(aws: Any, k: SimpleNamespace) -> None:
    clock = Clock()
    s3 = aws["s3"]
    catalog = catalog_object(lambda: s3, k.BUCKET, k.CATALOG_KEY, 60, clock=clock)
    assert "i1" in loaded(catalog.get())
    s3.delete_object(Bucket=k.BUCKET, Key=k.CATALOG_KEY)
    clock.now += 61
    assert "i1" in loaded(catalog.get())


def test_a_missing_fallback_list_is_retried_soon_after_a_failure(aws: Any, k: SimpleNamespace) -> None:
    clock = Clock()
    s3 = aws["s3"]
    s3.delete_object(Bucket=k.BUCKET, Key=k.FALLBACK_KEY)
    popular = popular_object(lambda: s3, k.BUCKET, k.FALLBACK_KEY, 600, clock=clock)
    assert popular.get() is None
    s3.put_object(Bucket=k.BUCKET, Key=k.FALLBACK_KEY, Body=json.dumps({"items": ["i9"]}).encode())
    clock.now += 6  # well under the 600 s refresh interval
    assert popular.get() == ["i9"]


def test_api_keys_are_cached_for_the_ttl_then_reread_for_rotation(aws: Any, k: SimpleNamespace) -> None:
    clock = Clock()
    ssm = aws["ssm"]
    keys = ApiKeys(lambda: ssm, k.PARAMETER, 300, clock)
    assert keys.verify(k.API_KEY) and keys.verify(k.OLD_KEY)
    ssm.put_parameter(Name=k.PARAMETER, Value="brand-new", Type="SecureString", Overwrite=True)
    assert keys.verify(k.OLD_KEY)  # still cached
    clock.now += 301
    assert not keys.verify(k.OLD_KEY)
    assert keys.verify("brand-new")


def test_the_terraform_placeholder_is_never_accepted_as_a_key(aws: Any, k: SimpleNamespace) -> None:
    ssm = aws["ssm"]
    ssm.put_parameter(Name=k.PARAMETER, Value=UNSET_PLACEHOLDER, Type="SecureString", Overwrite=True)
    keys = ApiKeys(lambda: ssm, k.PARAMETER, 300, Clock())
    assert not keys.verify(UNSET_PLACEHOLDER)
    assert not keys.verify(k.API_KEY)


def test_api_keys_answer_503_when_ssm_was_never_readable(aws: Any) -> None:
    keys = ApiKeys(lambda: aws["ssm"], "/no/such/parameter", 300, Clock())
    with pytest.raises(ApiError) as info:
        keys.verify("anything")
    assert info.value.status == 503
    assert not keys.verify("")  # a missing key is refused without asking SSM


def test_the_contract_check_rejects_bodies_statuses_and_headers_the_document_does_not_allow(
    openapi: dict[str, Any],
) -> None:
    good = [{"id": "i1", "url": "u", "name": "n", "price": 1.5, "image": None}]
    headers = {
        "X-Recommendations-Source": "personalize",
        "X-Cache": "miss",
        "Cache-Control": "public, max-age=5",
    }
    check_response(openapi, "/recommendations", 200, good, headers)
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
    factory = ClientFactory()
    client = factory.client("personalize-runtime", 800)
    assert client is factory.client("personalize-runtime", 800)  # created once, then shared
    config = client.meta.config
    assert (config.connect_timeout, config.read_timeout) == (0.8, 0.8)
    assert config.retries["total_max_attempts"] == 1
