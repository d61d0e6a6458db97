"""Route handlers: authenticate, validate, serve, and shape the HTTP response (headers, envelope, errors)."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from chalice import Response

from chalicelib.errors import ApiError, SettingsError
from chalicelib.logs import log_event
from chalicelib.queries import parse_rankings, parse_recommendations, parse_related_items
from chalicelib.runtime import Runtime, get_runtime
from chalicelib.service import Result

__all__ = ["health", "rankings", "recommendations", "related_items"]

Q = TypeVar("Q")
_JSON = "application/json"
# A fallback may be cached by Braze too, but only briefly, so the next send gets Personalize again.
_FALLBACK_MAX_AGE = 60


def _uncached(body: Any, status: int) -> Response:
    """A JSON answer no cache may keep: errors and health."""
    return Response(
        body=json.dumps(body),
        status_code=status,
        headers={"Content-Type": _JSON, "Cache-Control": "no-store"},
    )


def _error(exc: ApiError) -> Response:
    return _uncached(exc.to_json(), exc.status)


def _params(request: Any) -> Mapping[str, str]:
    return request.query_params or {}


def _authenticate(runtime: Runtime, request: Any) -> None:
    header = runtime.settings.api_key_header
    presented = (request.headers or {}).get(header)
    if not runtime.api_keys.verify(presented):
        raise ApiError(401, "unauthorized", f"missing or invalid API key: send it in the {header} header")


def _respond(
    request: Any,
    route: str,
    parse: Callable[[Mapping[str, str], Any], Q],
    serve: Callable[[Runtime, Q], Result],
    subject: Callable[[Q], tuple[str, str]],
) -> Response:
    started = time.perf_counter()
    try:
        runtime = get_runtime()
        _authenticate(runtime, request)
        query = parse(_params(request), runtime.settings)
    except ApiError as exc:
        log_event("request_rejected", route=route, status=exc.status, code=exc.code, parameter=exc.parameter)
        return _error(exc)
    except SettingsError as exc:
        log_event("misconfigured", logging.ERROR, route=route, variable=exc.variable, why=exc.why)
        return _error(ApiError(500, "misconfigured", "the API is misconfigured; see its log"))
    try:
        result = serve(runtime, query)
    except Exception as exc:  # a bug must not fail a Braze send: answer the popular items and log loudly
        logging.getLogger(__name__).exception("unexpected error on %s", route)
        runtime.metrics.increment("Fallback", route, reason="internal", error=type(exc).__name__)
        result = Result(_last_resort(runtime, query), "fallback", None, reason="internal")
    envelope = bool(getattr(query, "envelope", False))
    name, value = subject(query)
    body: Any = (
        {
            "recommendations": result.items,
            name: value,
            "source": result.source,
            "recommendation_id": result.recommendation_id,
        }
        if envelope
        else result.items
    )
    max_age = runtime.settings.cache_ttl_seconds
    if result.source == "fallback":
        max_age = min(max_age, _FALLBACK_MAX_AGE)
    headers: dict[str, str | list[str]] = {
        "Content-Type": _JSON,
        "Cache-Control": f"public, max-age={max_age}",
        "X-Recommendations-Source": result.source,
        "X-Cache": "hit" if result.cache_hit else "miss",
    }
    if result.recommendation_id:
        headers["X-Recommendation-Id"] = result.recommendation_id
    log_event(
        "request_served",
        route=route,
        source=result.source,
        reason=result.reason,
        cache="hit" if result.cache_hit else "miss",
        items=len(result.items),
        ms=round((time.perf_counter() - started) * 1000, 3),
    )
    return Response(body=json.dumps(body, separators=(",", ":")), status_code=200, headers=headers)


def _last_resort(runtime: Runtime, query: Any) -> list[dict[str, Any]]:
    try:
        limit = int(getattr(query, "limit", runtime.settings.default_limit))
        return runtime.service.popular(limit, bool(getattr(query, "metadata", True)))
    except Exception:  # even the fallback list is broken: an empty list still renders (or aborts) cleanly
        logging.getLogger(__name__).exception("fallback list unavailable")
        return []


def recommendations(request: Any) -> Response:
    return _respond(
        request,
        "/recommendations",
        parse_recommendations,
        lambda rt, q: rt.service.recommendations(q),
        lambda q: ("user_id", q.user_id),
    )


def related_items(request: Any) -> Response:
    return _respond(
        request,
        "/related-items",
        parse_related_items,
        lambda rt, q: rt.service.related_items(q),
        lambda q: ("item_id", q.item_id),
    )


def rankings(request: Any) -> Response:
    return _respond(
        request,
        "/rankings",
        parse_rankings,
        lambda rt, q: rt.service.rankings(q),
        lambda q: ("user_id", q.user_id),
    )


def health(request: Any) -> Response:
    """Liveness without touching AWS: settings parse, what is loaded, and the counters."""
    del request
    try:
        runtime = get_runtime()
    except SettingsError as exc:
        return _uncached({"status": "misconfigured", "variable": exc.variable, "why": exc.why}, 503)
    body = {
        "status": "ok",
        "catalog_loaded": runtime.catalog.loaded,
        "fallback_loaded": runtime.popular.loaded,
        "counters": runtime.metrics.snapshot(),
    }
    return _uncached(body, 200)
