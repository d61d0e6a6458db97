"""Fixtures: the API served by `chalice local` over real HTTP against the local stack (see world.py)."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
import yaml

REPO = Path(__file__).resolve().parents[3]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))  # importlib mode: make tests.functional.api.world importable

from tests.functional.api.world import (  # noqa: E402
    API_KEY,
    CATEGORIES,
    BlackHole,
    Served,
    World,
    build_world,
    free_port,
    serve_api,
    stop,
)


@pytest.fixture(scope="session")
def world(local_stack: Any) -> World:
    """S3 data, SSM keys and trained campaigns on the local stack, made with the real AWS APIs."""
    return build_world(local_stack)


@pytest.fixture(scope="session")
def api(world: World, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    served = serve_api(world.env, tmp_path_factory.mktemp("api") / "chalice.log")
    yield served
    stop(served)


@pytest.fixture(scope="session")
def api_backend_stopped(world: World, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    """The API whose Personalize runtime endpoint refuses connections (S3/SSM still on the local stack)."""
    dead = free_port()  # nothing listens there
    env = {**world.env, "AWS_ENDPOINT_URL_PERSONALIZE_RUNTIME": f"http://127.0.0.1:{dead}"}
    served = serve_api(env, tmp_path_factory.mktemp("api-stopped") / "chalice.log")
    yield served
    stop(served)


@pytest.fixture(scope="session")
def api_backend_hung(world: World, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    """The API whose Personalize runtime accepts connections and never answers."""
    hole = BlackHole()
    env = {
        **world.env,
        "AWS_ENDPOINT_URL_PERSONALIZE_RUNTIME": f"http://127.0.0.1:{hole.port}",
    }
    served = serve_api(env, tmp_path_factory.mktemp("api-hung") / "chalice.log")
    yield served
    stop(served)
    hole.close()


@pytest.fixture(scope="session")
def openapi() -> dict[str, Any]:
    return yaml.safe_load((REPO / "schemas" / "openapi.yaml").read_text(encoding="utf-8"))


@pytest.fixture(scope="session")
def k() -> SimpleNamespace:
    return SimpleNamespace(API_KEY=API_KEY, CATEGORIES=CATEGORIES, REPO=REPO)
