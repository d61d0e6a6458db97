"""Session fixtures for functional tests: one local stack (moto + Personalize emulator) over HTTP.

`local_stack` starts `python -m local_stack serve` on a free loopback port (or reuses the server at
`LOCAL_STACK_URL` when set) and stops it at the end; `isolated_local_stack` is a module's own server;
`aws_env` is the environment a subprocess needs to talk to `local_stack`; `aws_environ` sets the same
variables in this process for one test.
"""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import pytest
import requests
from botocore.config import Config

ACCOUNT_ID = "123456789012"
REGION = "us-east-1"
HEALTH_PATH = "/_local_stack/health"


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


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _healthy(url: str) -> bool:
    try:
        return requests.get(url + HEALTH_PATH, timeout=1).status_code == 200
    except requests.RequestException:
        return False


@contextlib.contextmanager
def _serve(home: Path) -> Iterator[LocalStack]:
    """Run `python -m local_stack serve` on a free loopback port until the block ends."""
    port = _free_port()
    log_path = home / "server.log"
    env = dict(os.environ)
    env.setdefault("LOCAL_STACK_PERSONALIZE_STEP_SECONDS", "0.05")
    env["LOCAL_STACK_HOME"] = str(home)
    env["LOCAL_STACK_DEBUG"] = "1"  # the server checks its own responses against botocore's shapes
    for name in ("AWS_ENDPOINT_URL", "AWS_PROFILE"):
        env.pop(name, None)
    with log_path.open("wb") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "local_stack", "serve", "--port", str(port)],
            stdout=log,
            stderr=subprocess.STDOUT,
            env=env,
        )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while not _healthy(url):
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            pytest.fail(f"local stack did not start:\n{log_path.read_text(errors='replace')[-3000:]}")
        time.sleep(0.1)
    try:
        yield LocalStack(url, port, log_path)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@pytest.fixture(scope="session")
def local_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalStack]:
    """The shared local stack of the test session (state is shared: use unique names)."""
    reuse = os.environ.get("LOCAL_STACK_URL")
    if reuse:
        reuse = reuse.rstrip("/")
        if not _healthy(reuse):
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
