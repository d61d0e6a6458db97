"""Fixtures for the API unit tests: S3 and SSM from moto in-process, Personalize runtime via Stubber."""

from __future__ import annotations

import csv
import io
import json
import logging
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import boto3
import pytest
import yaml
from botocore.stub import Stubber
from chalice.test import Client
from moto import mock_aws

import app as app_module
from chalicelib.backend import PersonalizeBackend
from chalicelib.runtime import Runtime, build_runtime, set_runtime
from chalicelib.settings import Settings
from pipeline.config import load_dataset_schemas

REPO = Path(__file__).resolve().parents[3]
if str(REPO) not in sys.path:
    # Test modules import `braze` (the templates' renderer), which lives at the repo root.
    sys.path.insert(0, str(REPO))

CHALICE_DIR = REPO / "chalice_app"
API_KEY = "test-key-0123456789"
OLD_KEY = "old-key-rotating-out"
BUCKET = "recs-bucket"
CATALOG_KEY = "artifacts/catalog/items.csv"
FALLBACK_KEY = "artifacts/fallback/popular.json"
PARAMETER = "/braze-recs/api-keys"
CAMPAIGN = "arn:aws:personalize:us-east-1:123456789012:campaign/braze-recs-user-personalization"
RELATED = "arn:aws:personalize:us-east-1:123456789012:campaign/braze-recs-similar-items"
FILTERS = {
    "exclude-in-category": "arn:aws:personalize:us-east-1:123456789012:filter/braze-recs-exclude-in-category",
    "exclude-interacted": "arn:aws:personalize:us-east-1:123456789012:filter/braze-recs-exclude-interacted",
    "in-category": "arn:aws:personalize:us-east-1:123456789012:filter/braze-recs-in-category",
}
# Items i1..i30 are in the catalog; "ghost*" ids are not.
CATALOG_IDS = [f"i{n}" for n in range(1, 31)]
POPULAR = ["i30", "i29", "i28", "i27", "i26", "i25", "ghost-popular", "i24"]


def catalog_csv(ids: list[str], name_prefix: str = "Product") -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(f["name"] for f in load_dataset_schemas()["items"]["fields"])  # schema order
    for n, item in enumerate(ids):
        writer.writerow(
            [
                item,
                "Home",
                "",
                f"{10 + n}.5",
                1700000000,
                f"{name_prefix} {item}",
                f"https://shop.example.com/product/{item}",
                f"https://img.example.com/{item}.jpg",
                "",
            ]
        )
    return out.getvalue().encode()


def make_settings(**overrides: Any) -> Settings:
    base = Settings(
        campaign_arn=CAMPAIGN,
        related_campaign_arn=RELATED,
        ranking_campaign_arn=CAMPAIGN,
        bucket=BUCKET,
        catalog_key=CATALOG_KEY,
        fallback_key=FALLBACK_KEY,
        api_key_parameter=PARAMETER,
        api_key_header="X-Api-Key",
        filter_arns=FILTERS,
        filter_placeholders={
            "exclude-interacted": (),
            "in-category": ("CATEGORY",),
            "exclude-in-category": ("CATEGORY",),
        },
        filter_optional_placeholders={"exclude-in-category": frozenset({"CATEGORY"})},
        default_filter="exclude-interacted",
        default_limit=10,
        backend_timeout_ms=800,
        cache_ttl_seconds=300,
        item_url_template="https://shop.example.com/product/{id}",
    )
    return replace(base, **overrides)


@pytest.fixture
def aws() -> Iterator[dict[str, Any]]:
    """moto-backed S3 and SSM holding the catalog, the fallback list and the API keys."""
    with mock_aws():
        s3 = boto3.client("s3", region_name="us-east-1")
        ssm = boto3.client("ssm", region_name="us-east-1")
        s3.create_bucket(Bucket=BUCKET)
        s3.put_object(Bucket=BUCKET, Key=CATALOG_KEY, Body=catalog_csv(CATALOG_IDS))
        s3.put_object(Bucket=BUCKET, Key=FALLBACK_KEY, Body=json.dumps({"items": POPULAR}).encode())
        ssm.put_parameter(Name=PARAMETER, Value=f"{API_KEY}, {OLD_KEY}", Type="SecureString")
        yield {"s3": s3, "ssm": ssm}


@dataclass
class Api:
    """The app under chalice.test.Client with a stubbed Personalize runtime."""

    client: Client
    stubber: Stubber
    runtime: Runtime
    headers: dict[str, str] = field(default_factory=lambda: {"X-Api-Key": API_KEY})

    def get(self, path: str, headers: dict[str, str] | None = None) -> Any:
        return self.client.http.get(path, headers=self.headers if headers is None else headers)

    def expect_recommendations(self, items: list[str], expected_params: dict[str, Any] | None = None) -> None:
        response = {"itemList": [{"itemId": i, "score": 0.1} for i in items], "recommendationId": "RID-1"}
        self.stubber.add_response("get_recommendations", response, expected_params)

    def expect_ranking(self, items: list[str], expected_params: dict[str, Any] | None = None) -> None:
        response = {
            "personalizedRanking": [{"itemId": i, "score": 0.1} for i in items],
            "recommendationId": "RID-2",
        }
        self.stubber.add_response("get_personalized_ranking", response, expected_params)


def personalize_client() -> Any:
    return boto3.client(
        "personalize-runtime", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x"
    )


@pytest.fixture
def api(aws: dict[str, Any]) -> Iterator[Api]:
    client = personalize_client()
    stubber = Stubber(client)
    settings = make_settings()
    runtime = build_runtime(
        settings,
        backend=PersonalizeBackend(lambda: client, settings.backend_timeout_ms),
        s3=aws["s3"],
        ssm=aws["ssm"],
    )
    set_runtime(runtime)
    with stubber, Client(app_module.app, stage_name="local", project_dir=str(CHALICE_DIR)) as test_client:
        yield Api(test_client, stubber, runtime)
    set_runtime(None)
    stubber.assert_no_pending_responses()


@pytest.fixture(scope="session")
def openapi() -> dict[str, Any]:
    return yaml.safe_load((REPO / "schemas" / "openapi.yaml").read_text(encoding="utf-8"))


class BlockingClient:
    """A Personalize runtime client that never answers until released (a hung backend)."""

    def __init__(self) -> None:
        self.release = threading.Event()
        self.calls = 0

    def get_recommendations(self, **params: Any) -> dict[str, Any]:
        self.calls += 1
        self.release.wait(10)
        return {"itemList": [], "recommendationId": "late"}


@pytest.fixture(scope="session")
def k() -> SimpleNamespace:
    """The constants and helpers above, for test modules (importlib mode cannot import conftest)."""
    return SimpleNamespace(
        API_KEY=API_KEY,
        OLD_KEY=OLD_KEY,
        BUCKET=BUCKET,
        CATALOG_KEY=CATALOG_KEY,
        FALLBACK_KEY=FALLBACK_KEY,
        PARAMETER=PARAMETER,
        CAMPAIGN=CAMPAIGN,
        RELATED=RELATED,
        FILTERS=FILTERS,
        CATALOG_IDS=CATALOG_IDS,
        POPULAR=POPULAR,
        CHALICE_DIR=CHALICE_DIR,
        REPO=REPO,
        catalog_csv=catalog_csv,
        make_settings=make_settings,
        personalize_client=personalize_client,
        BlockingClient=BlockingClient,
        Api=Api,
    )


@pytest.fixture
def served(api: Api) -> Iterator[str]:
    """The app (with the stubbed runtime) behind chalice's local HTTP server on a free loopback port."""
    from chalice.config import Config
    from chalice.local import LocalDevServer

    server = LocalDevServer(
        app_module.app, Config.create(chalice_stage="local", api_gateway_stage="api"), "127.0.0.1", 0
    )
    port = server.server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.shutdown()
        thread.join(5)


class _Collect(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(record.getMessage())


@pytest.fixture
def recs_log() -> Iterator[list[str]]:
    """The API's own JSON log lines (its logger does not propagate to the root logger)."""
    from chalicelib.logs import LOGGER_NAME

    logger = logging.getLogger(LOGGER_NAME)
    handler = _Collect()
    previous = logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    yield handler.lines
    logger.removeHandler(handler)
    logger.setLevel(previous)
