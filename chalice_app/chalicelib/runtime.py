"""Per-container wiring, built on the first request (never at import time) and replaceable in tests."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any

from chalicelib.artifacts import CatalogStore
from chalicelib.auth import ApiKeys
from chalicelib.aws import ClientFactory
from chalicelib.backend import PersonalizeBackend
from chalicelib.breaker import CircuitBreaker
from chalicelib.cache import TTLCache
from chalicelib.deadline import WorkerPool
from chalicelib.logs import Metrics
from chalicelib.metric_names import DEPENDENCY_ARTIFACTS, DEPENDENCY_CAMPAIGN
from chalicelib.service import RecommendationService, Result
from chalicelib.settings import Settings

__all__ = ["Runtime", "build_runtime", "get_runtime", "set_runtime"]


@dataclass
class Runtime:
    settings: Settings
    api_keys: ApiKeys
    service: RecommendationService
    metrics: Metrics
    catalog: CatalogStore
    cache: TTLCache[Result]
    breakers: dict[str, CircuitBreaker]


def build_runtime(
    settings: Settings,
    clients: ClientFactory | None = None,
    personalize: Any = None,
    s3: Any = None,
    ssm: Any = None,
    catalog_directory: str | None = None,
    backend: PersonalizeBackend | None = None,
) -> Runtime:
    """Wire the API from settings. Tests pass stubbed `personalize`, `s3` or `ssm` clients (or a whole
    `backend`); the rest is boto3 with the deadline as timeouts."""
    factory = clients or ClientFactory(settings.deadline_ms)

    def client(given: Any, service: str) -> Any:
        return given if given is not None else factory.client(service)

    metrics = Metrics()
    breakers = {
        name: CircuitBreaker(name, settings.breaker_failures, settings.breaker_cooldown_seconds, metrics)
        for name in (DEPENDENCY_CAMPAIGN, DEPENDENCY_ARTIFACTS)
    }
    # Separate pools: a hung Personalize never takes the workers that read the keys or the catalog.
    if backend is None:
        backend = PersonalizeBackend(
            lambda: client(personalize, "personalize-runtime"), WorkerPool(32, "personalize")
        )
    aws_pool = WorkerPool(4, "aws")
    catalog = CatalogStore(
        lambda: client(s3, "s3"),
        settings.bucket,
        settings.catalog_key,
        settings.catalog_refresh_seconds,
        breakers[DEPENDENCY_ARTIFACTS],
        aws_pool,
        catalog_directory,
    )
    cache: TTLCache[Result] = TTLCache(settings.cache_ttl_seconds, settings.cache_max_entries)
    service = RecommendationService(
        settings, backend, catalog.get, cache, metrics, breakers[DEPENDENCY_CAMPAIGN]
    )
    keys = ApiKeys(
        lambda: client(ssm, "ssm"), settings.api_key_parameter, settings.api_key_cache_seconds, aws_pool
    )
    return Runtime(settings, keys, service, metrics, catalog, cache, breakers)


_runtime: Runtime | None = None
_lock = threading.Lock()


def get_runtime() -> Runtime:
    """The container's runtime, built from the environment on first use (raises SettingsError if broken)."""
    global _runtime
    if _runtime is None:
        with _lock:
            if _runtime is None:
                _runtime = build_runtime(Settings.from_env())
    return _runtime


def set_runtime(runtime: Runtime | None) -> None:
    """Install a runtime (tests, benchmarks) or None to rebuild from the environment on next use. The one
    replaced first finishes its background loads (briefly), so none outlives it."""
    global _runtime
    with _lock:
        previous, _runtime = _runtime, runtime
    if previous is not None and previous is not runtime:
        previous.catalog.settle(5)
        previous.api_keys.settle(5)
