"""Fixtures for the API unit tests: S3 and SSM from moto in-process, Personalize runtime via Stubber."""

from __future__ import annotations

import csv
import io
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
from chalicelib.catalog_artifact import write_catalog_from_csv
from chalicelib.runtime import Runtime, build_runtime, set_runtime
from chalicelib.settings import Settings, filter_spec
from pipeline.config import load_dataset_schemas

REPO = Path(__file__).resolve().parents[3]
if str(REPO) not in sys.path:
    # Test modules import `braze` (the templates' renderer), which lives at the repo root.
    sys.path.insert(0, str(REPO))

CHALICE_DIR = REPO / "chalice_app"
API_KEY = "test-key-0123456789"
OLD_KEY = "old-key-rotating-out"
BUCKET = "recs-bucket"
CATALOG_KEY = "artifacts/catalog/catalog.bin"
PARAMETER = "/braze-recs/api-keys"
CAMPAIGN = "arn:aws:personalize:us-east-1:123456789012:campaign/braze-recs-user-personalization"
RELATED = "arn:aws:personalize:us-east-1:123456789012:campaign/braze-recs-similar-items"
_FILTER_ARN = "arn:aws:personalize:us-east-1:123456789012:filter/braze-recs-"
# name -> (expression, on_fallback)
FILTER_SPECS = {
    "exclude-in-category": ("EXCLUDE ItemID WHERE Items.CATEGORY_L1 IN ($CATEGORY)", "popular"),
    "exclude-interacted": ('EXCLUDE ItemID WHERE Interactions.EVENT_TYPE IN ("*")', "popular"),
    "in-category": ("INCLUDE ItemID WHERE Items.CATEGORY_L1 IN ($CATEGORY)", "popular"),
    "under-price": ("INCLUDE ItemID WHERE Items.PRICE < $MAX_PRICE", "popular"),
    "not-purchased-in-category": (
        'EXCLUDE ItemID WHERE Interactions.EVENT_TYPE IN ("Purchase") '
        "| INCLUDE ItemID WHERE Items.CATEGORY_L1 IN ($CATEGORY)",
        "empty",
    ),
}
FILTERS = {name: f"{_FILTER_ARN}{name}" for name in FILTER_SPECS}
# Items i1..i30 are in the catalog; "ghost*" ids are not. Every third item is in Garden, the rest in Home.
CATALOG_IDS = [f"i{n}" for n in range(1, 31)]
# Interaction counts: the popularity order of the catalog artifact (ghost-popular is not in the catalog).
POPULAR = ["i30", "i29", "i28", "i27", "i26", "i25", "ghost-popular", "i24"]


def category_of(item: str) -> str:
    return "Garden" if int(item.lstrip("i") or 0) % 3 == 0 else "Home"


def catalog_csv(ids: list[str], name_prefix: str = "Product") -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(f["name"] for f in load_dataset_schemas()["items"]["fields"])  # schema order
    for n, item in enumerate(ids):
        writer.writerow(
            [
                item,
                category_of(item),
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


def catalog_artifact(ids: list[str], popular: list[str] = POPULAR, name_prefix: str = "Product") -> bytes:
    """The catalog artifact `make import` would write for these items and this popularity order."""
    counts = {item: len(popular) - n for n, item in enumerate(popular)}
    out = io.BytesIO()
    text = catalog_csv(ids, name_prefix).decode()
    write_catalog_from_csv(out, io.StringIO(text), load_dataset_schemas()["items"], counts)
    return out.getvalue()


def make_settings(**overrides: Any) -> Settings:
    base = Settings(
        campaign_arn=CAMPAIGN,
        related_campaign_arn=RELATED,
        ranking_campaign_arn=CAMPAIGN,
        bucket=BUCKET,
        catalog_key=CATALOG_KEY,
        api_key_parameter=PARAMETER,
        api_key_header="X-Api-Key",
        filters={
            name: filter_spec(name, FILTERS[name], expression, on_fallback)
            for name, (expression, on_fallback) in FILTER_SPECS.items()
        },
        default_filter="exclude-interacted",
        default_limit=10,
        deadline_ms=1200,
        cache_ttl_seconds=300,
        item_url_template="https://shop.example.com/product/{id}",
    )
    return replace(base, **overrides)


@pytest.fixture
def aws() -> Iterator[dict[str, Any]]:
    """moto-backed S3 and SSM holding the catalog artifact and the API keys."""
    with mock_aws():
        s3 = boto3.client("s3", region_name="us-east-1")
        ssm = boto3.client("ssm", region_name="us-east-1")
        s3.create_bucket(Bucket=BUCKET)
        s3.put_object(Bucket=BUCKET, Key=CATALOG_KEY, Body=catalog_artifact(CATALOG_IDS))
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
def api(aws: dict[str, Any], tmp_path: Path) -> Iterator[Api]:
    client = personalize_client()
    stubber = Stubber(client)
    runtime = build_runtime(
        make_settings(), personalize=client, s3=aws["s3"], ssm=aws["ssm"], catalog_directory=str(tmp_path)
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
        PARAMETER=PARAMETER,
        CAMPAIGN=CAMPAIGN,
        RELATED=RELATED,
        FILTERS=FILTERS,
        CATALOG_IDS=CATALOG_IDS,
        POPULAR=POPULAR,
        CHALICE_DIR=CHALICE_DIR,
        REPO=REPO,
        catalog_csv=catalog_csv,
        catalog_artifact=catalog_artifact,
        category_of=category_of,
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
