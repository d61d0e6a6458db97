"""Session fixtures for functional tests: one local stack (moto + Personalize emulator) over HTTP.

`local_stack` starts `python -m local_stack serve` on a free loopback port (or reuses the server at
`LOCAL_STACK_URL` when set) and stops it at the end; `isolated_local_stack` is a module's own server;
`aws_env` is the environment a subprocess needs to talk to `local_stack`; `aws_environ` sets the same
variables in this process for one test.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.config import Config

from local_stack.process import HEALTH_PATH, LocalStackStartError, health, serve

ACCOUNT_ID = "123456789012"
REGION = "us-east-1"


@dataclass(frozen=True)
class LocalStack:
    """A running local stack: where it listens and how to get clients for it."""

    endpoint_url: str
    port: int
    log_path: Path | None = None

    def client(self, service_name: str, **kwargs: Any) -> Any:
        """A boto3 client with dummy credentials in us-east-1, pointed at the local endpoint only."""
        kwargs.setdefault("config", Config(retries={"max_attempts": 2, "mode": "standard"}))
        return boto3.client(  # type: ignore[call-overload]
            service_name,
            endpoint_url=self.endpoint_url,
            region_name=REGION,
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
            **kwargs,
        )

    def env(self) -> dict[str, str]:
        return {
            "AWS_ENDPOINT_URL": self.endpoint_url,
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_DEFAULT_REGION": REGION,
            "AWS_REGION": REGION,
            "LOCAL_STACK_PORT": str(self.port),
        }


@contextlib.contextmanager
def _serve(home: Path) -> Iterator[LocalStack]:
    """Run `python -m local_stack serve` on a free loopback port until the block ends."""
    env = dict(os.environ)
    env.setdefault("LOCAL_STACK_PERSONALIZE_STEP_SECONDS", "0.05")
    env["LOCAL_STACK_DEBUG"] = "1"  # the server checks its own responses against botocore's shapes
    env.pop("AWS_PROFILE", None)
    try:
        with serve(home, env) as server:
            yield LocalStack(server.url, server.port, server.log_path)
    except LocalStackStartError as exc:
        pytest.fail(str(exc))


@pytest.fixture(scope="session")
def local_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalStack]:
    """The shared local stack of the test session (state is shared: use unique names)."""
    reuse = os.environ.get("LOCAL_STACK_URL")
    if reuse:
        reuse = reuse.rstrip("/")
        if health(reuse) is None:
            pytest.fail(f"LOCAL_STACK_URL={reuse} does not answer {HEALTH_PATH}")
        yield LocalStack(reuse, int(reuse.rsplit(":", 1)[-1]))
        return
    with _serve(tmp_path_factory.mktemp("local_stack")) as stack:
        yield stack


@pytest.fixture(scope="module")
def isolated_local_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalStack]:
    """A local stack of this test module's own, for tests that need fixed resource names or empty state."""
    with _serve(tmp_path_factory.mktemp("local_stack_isolated")) as stack:
        yield stack


@pytest.fixture(scope="session")
def aws_env(local_stack: LocalStack) -> dict[str, str]:
    """Environment variables for subprocesses (Terraform, CLIs): `{**os.environ, **aws_env}`."""
    return local_stack.env()


@pytest.fixture
def aws_environ(local_stack: LocalStack, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """Sets the local stack's AWS_* variables in this process for one test (boto3 default clients)."""
    env = local_stack.env()
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    return env
