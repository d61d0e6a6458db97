from __future__ import annotations

import io
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

from pipeline.config import load_config
from pipeline.lifecycle.context import Context, Progress

ACCOUNT = "123456789012"
REGION = "us-east-1"
ARN = f"arn:aws:personalize:{REGION}:{ACCOUNT}"


def fake_outputs() -> dict:
    return {
        "bucket_name": "braze-recs-data",
        "kms_key_arn": f"arn:aws:kms:{REGION}:{ACCOUNT}:key/abc",
        "personalize_role_arn": f"arn:aws:iam::{ACCOUNT}:role/braze-recs-personalize",
        "api_role_arn": f"arn:aws:iam::{ACCOUNT}:role/braze-recs-api",
        "dataset_group_arn": f"{ARN}:dataset-group/braze-recs",
        "dataset_arns": {
            "interactions": f"{ARN}:dataset/braze-recs/INTERACTIONS",
            "users": f"{ARN}:dataset/braze-recs/USERS",
            "items": f"{ARN}:dataset/braze-recs/ITEMS",
        },
        "solution_arns": {
            "user-personalization": f"{ARN}:solution/braze-recs-user-personalization",
            "popularity": f"{ARN}:solution/braze-recs-popularity",
            "similar-items": f"{ARN}:solution/braze-recs-similar-items",
            "ranking": f"{ARN}:solution/braze-recs-ranking",
            "trending": f"{ARN}:solution/braze-recs-trending",
        },
        "filter_arns": {"exclude-interacted": f"{ARN}:filter/braze-recs-exclude-interacted"},
        "campaign_arns": {
            "user-personalization": f"{ARN}:campaign/braze-recs-user-personalization",
            "similar-items": f"{ARN}:campaign/braze-recs-similar-items",
            "ranking": f"{ARN}:campaign/braze-recs-ranking",
            "trending": f"{ARN}:campaign/braze-recs-trending",
        },
        "event_tracker_arn": f"{ARN}:event-tracker/abc",
        "tracking_id": "tracking-123",
        "api_key_parameter_name": "/braze-recs/api-keys",
    }


class FakeClock:
    """A clock the stubbed waits advance through `sleep`, so no test sleeps for real."""

    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


@dataclass
class Stubbed:
    ctx: Context
    personalize: Stubber
    s3: Stubber
    events: Stubber
    out: io.StringIO
    clock: FakeClock


_SESSION = boto3.session.Session()  # one session: its loader caches the service models across tests


def _client(service: str) -> Any:
    return _SESSION.client(  # type: ignore[call-overload]
        service,
        region_name=REGION,
        aws_access_key_id="test",
        aws_secret_access_key="test",
        endpoint_url="http://stubbed.invalid",
    )


_CONFIG = load_config()


@pytest.fixture
def stubbed() -> Iterator[Stubbed]:
    clock = FakeClock()
    out = io.StringIO()
    clients = {name: _client(name) for name in ("personalize", "s3", "personalize-events")}
    ctx = Context(
        env="local",
        config=_CONFIG,
        outputs=fake_outputs(),
        progress=Progress(out, clock=clock),
        clients=clients,
        sleep=clock.sleep,
        poll=1.0,
        timeout=600.0,
    )
    stubs = {name: Stubber(client) for name, client in clients.items()}
    for stub in stubs.values():
        stub.activate()
    yield Stubbed(ctx, stubs["personalize"], stubs["s3"], stubs["personalize-events"], out, clock)
    for stub in stubs.values():
        stub.deactivate()


@pytest.fixture(scope="session")
def sample_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from pipeline.sample_data import generate_dataset

    out = tmp_path_factory.mktemp("sample")
    generate_dataset(out, "small", seed=7)
    return out
