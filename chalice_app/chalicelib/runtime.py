"""Per-container wiring, built on the first request (never at import time) and replaceable in tests."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any

from chalicelib.artifacts import CatalogItem, RefreshingObject, catalog_object, popular_object
from chalicelib.auth import ApiKeys
from chalicelib.aws import ClientFactory
from chalicelib.backend import PersonalizeBackend
from chalicelib.cache import TTLCache
from chalicelib.logs import Metrics
from chalicelib.service import RecommendationService, Result
from chalicelib.settings import Settings

__all__ = ["Runtime", "build_runtime", "get_runtime", "set_runtime"]


@dataclass
class Runtime:
    settings: Settings
    api_keys: ApiKeys
    service: RecommendationService
    metrics: Metrics
    catalog: RefreshingObject[Any]
    popular: RefreshingObject[list[str]]
    cache: TTLCache[Result]


def build_runtime(
    settings: Settings,
    clients: ClientFactory | None = None,
    backend: PersonalizeBackend | None = None,
    s3: Any = None,
    ssm: Any = None,
) -> Runtime:
    """Wire the API from settings. Tests pass stubbed `backend`, `s3` or `ssm` clients; the rest is boto3."""
    factory = clients or ClientFactory()

    def s3_client() -> Any:
        return s3 if s3 is not None else factory.client("s3")

    def ssm_client() -> Any:
        return ssm if ssm is not None else factory.client("ssm")

    if backend is None:
        backend = PersonalizeBackend(
            lambda: factory.client("personalize-runtime", settings.backend_timeout_ms),
            settings.backend_timeout_ms,
        )
    metrics = Metrics()
    catalog: RefreshingObject[Any] = catalog_object(
        s3_client,
        settings.bucket,
        settings.catalog_key,
        settings.catalog_refresh_seconds,
        settings.item_url_template,
    )
    popular = popular_object(
        s3_client, settings.bucket, settings.fallback_key, settings.catalog_refresh_seconds
    )
    cache: TTLCache[Result] = TTLCache(settings.cache_ttl_seconds, settings.cache_max_entries)

    def catalog_items() -> dict[str, CatalogItem] | None:
        return catalog.get()

    service = RecommendationService(settings, backend, catalog_items, popular.get, cache, metrics)
    keys = ApiKeys(ssm_client, settings.api_key_parameter, settings.api_key_cache_seconds)
    return Runtime(settings, keys, service, metrics, catalog, popular, cache)


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
    """Install a runtime (tests, benchmarks) or None to rebuild from the environment on next use."""
    global _runtime
    with _lock:
        _runtime = runtime
