"""Route handlers: authenticate, validate, serve, and shape the HTTP response (headers, envelope, errors).

Each request gets one deadline (settings.deadline_ms) from its arrival; every dependency gets what is left.
Only a cold start that cannot read its keys answers 5xx (503); every other fault answers 200 from the
fallback. Latency, fallbacks, deadline misses and 5xx answers are CloudWatch metrics (chalicelib.logs).
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from chalice import Response

from chalicelib.deadline import Deadline
from chalicelib.errors import ApiError, SettingsError
from chalicelib.experiment_queries import parse_experiment_recommendations
from chalicelib.experiments import Assignment, made_up_recommendation_id
from chalicelib.logs import Metrics, log_event
from chalicelib.metric_names import DEADLINE_MISS, DIMENSION_ROUTE, FALLBACK, LATENCY, SERVER_ERROR
from chalicelib.queries import (
    parse_rankings,
    parse_related_items,
    parse_trending,
    single_values,
)
from chalicelib.runtime import Runtime, get_runtime
from chalicelib.service import Result

__all__ = ["health", "rankings", "recommendations", "related_items", "trending"]

Q = TypeVar("Q")
_JSON = "application/json"
# Routes whose answer depends on who asks: no shared cache (a CDN, a proxy) may keep it.
_PER_USER = frozenset({"/recommendations", "/rankings"})


def _uncached(body: Any, status: int) -> Response:
    """A JSON answer no cache may keep: errors and health."""
    return Response(
        body=json.dumps(body),
        status_code=status,
        headers={"Content-Type": _JSON, "Cache-Control": "no-store"},
    )


def _params(request: Any) -> Mapping[str, str]:
    query = request.query_params
    if not query:
        return {}
    getlist = getattr(query, "getlist", None)
    if getlist is None:
        return dict(query)
    return single_values(list(query), getlist)


def _authenticate(runtime: Runtime, request: Any, deadline: Deadline) -> None:
    header = runtime.settings.api_key_header
    presented = (request.headers or {}).get(header)
    if not runtime.api_keys.verify(presented, deadline):
        raise ApiError(401, "unauthorized", f"missing or invalid API key: send it in the {header} header")


def _finish(
    metrics: Metrics | None, route: str, status: int, started: float, deadline: Deadline | None, **fields: Any
) -> None:
    """The request's log line, with its latency (and 5xx / deadline misses) as metrics."""
    ms = round((time.perf_counter() - started) * 1000, 3)
    event = "request_served" if status < 400 else "request_rejected"
    if metrics is None:
        log_event(event, route=route, status=status, ms=ms, **fields)
        return
    if status >= 500:
        metrics.increment(SERVER_ERROR, route, status=status)
    if deadline is not None and deadline.missed:
        metrics.increment(DEADLINE_MISS, route, dependencies=sorted(set(deadline.missed)))
    metrics.emit(LATENCY, ms, {DIMENSION_ROUTE: route}, event=event, status=status, **fields)


def _respond(
    request: Any,
    route: str,
    parse: Callable[[Mapping[str, str], Any], Q],
    serve: Callable[[Runtime, Q, Deadline], Result],
    subject: Callable[[Q], tuple[str, str]],
) -> Response:
    started = time.perf_counter()
    runtime: Runtime | None = None
    deadline: Deadline | None = None
    try:
        runtime = get_runtime()
        deadline = Deadline(runtime.settings.deadline_ms)
        runtime.catalog.prefetch()  # a cold start loads the catalog while the keys are read
        params = _params(request)
        _authenticate(runtime, request, deadline)
        query = parse(params, runtime.settings)
    except ApiError as exc:
        _finish(
            runtime.metrics if runtime else None,
            route,
            exc.status,
            started,
            deadline,
            code=exc.code,
            parameter=exc.parameter,
        )
        return _uncached(exc.to_json(), exc.status)
    except SettingsError as exc:
        log_event("misconfigured", logging.ERROR, route=route, variable=exc.variable, why=exc.why)
        _finish(None, route, 500, started, None)
        return _uncached(
            ApiError(500, "misconfigured", "the API is misconfigured; see its log").to_json(), 500
        )
    try:
        result = serve(runtime, query, deadline)
    except Exception as exc:  # a bug must not fail a Braze send: answer the popular items and log loudly
        logging.getLogger(__name__).exception("unexpected error on %s", route)
        runtime.metrics.increment(FALLBACK, route, reason="internal", error=type(exc).__name__)
        result = Result(_last_resort(runtime, query, deadline), "fallback", None, reason="internal")
    envelope = bool(getattr(query, "envelope", False))
    name, value = subject(query)
    # Every answer carries an id, a made-up one when Personalize gave none, so clicks can be attributed.
    recommendation_id = result.recommendation_id or made_up_recommendation_id()
    assignment: Assignment | None = getattr(query, "assignment", None)
    body: Any = (
        {
            "recommendations": result.items,
            name: value,
            "source": result.source,
            "recommendation_id": recommendation_id,
            **_experiment_fields(assignment),
        }
        if envelope
        else result.items
    )
    settings = runtime.settings
    max_age = settings.cache_ttl_seconds
    if result.degraded:
        max_age = min(max_age, settings.degraded_cache_seconds)
    scope = "private" if route in _PER_USER else "public"
    headers: dict[str, str | list[str]] = {
        "Content-Type": _JSON,
        "Cache-Control": f"{scope}, max-age={max_age}",
        "X-Recommendations-Source": result.source,
        "X-Cache": "hit" if result.cache_hit else "miss",
    }
    headers["X-Recommendation-Id"] = recommendation_id
    if assignment is not None:
        headers["X-Experiment"] = assignment.experiment
        headers["X-Variant"] = assignment.variant.name
        _log_exposure(assignment, value, recommendation_id, result)
    _finish(
        runtime.metrics,
        route,
        200,
        started,
        deadline,
        source=result.source,
        reason=result.reason,
        cache="hit" if result.cache_hit else "miss",
        items=len(result.items),
    )
    return Response(body=json.dumps(body, separators=(",", ":")), status_code=200, headers=headers)


def _experiment_fields(assignment: Assignment | None) -> dict[str, str]:
    if assignment is None:
        return {}
    return {"experiment": assignment.experiment, "variant": assignment.variant.name}


def _log_exposure(assignment: Assignment, user_id: str, recommendation_id: str, result: Result) -> None:
    """One line per answer in an experiment: what `make experiment-report` counts as an exposure."""
    log_event(
        "exposure",
        experiment=assignment.experiment,
        variant=assignment.variant.name,
        user_id=user_id,
        recommendation_id=recommendation_id,
        source=result.source,
        overridden=assignment.overridden,
        items=len(result.items),
        time=round(time.time(), 3),
    )


def _last_resort(runtime: Runtime, query: Any, deadline: Deadline) -> list[dict[str, Any]]:
    try:
        return runtime.service.fallback(query, deadline)
    except Exception:  # even the fallback is broken: an empty list still renders (or aborts) cleanly
        logging.getLogger(__name__).exception("fallback unavailable")
        return []


def recommendations(request: Any) -> Response:
    return _respond(
        request,
        "/recommendations",
        parse_experiment_recommendations,
        lambda rt, q, d: rt.service.recommendations(q, d),
        lambda q: ("user_id", q.user_id),
    )


def related_items(request: Any) -> Response:
    return _respond(
        request,
        "/related-items",
        parse_related_items,
        lambda rt, q, d: rt.service.related_items(q, d),
        lambda q: ("item_id", q.item_id),
    )


def rankings(request: Any) -> Response:
    return _respond(
        request,
        "/rankings",
        parse_rankings,
        lambda rt, q, d: rt.service.rankings(q, d),
        lambda q: ("user_id", q.user_id),
    )


def trending(request: Any) -> Response:
    return _respond(
        request,
        "/trending",
        parse_trending,
        lambda rt, q, d: rt.service.trending(q, d),
        lambda q: ("list", "trending"),
    )


def health(request: Any) -> Response:
    """Liveness without touching AWS: settings parse, what is loaded, breaker states and the counters."""
    del request
    try:
        runtime = get_runtime()
    except SettingsError as exc:
        return _uncached({"status": "misconfigured", "variable": exc.variable, "why": exc.why}, 503)
    body = {
        "status": "ok",
        "catalog_loaded": runtime.catalog.loaded,
        "breakers": {name: b.state for name, b in runtime.breakers.items()},
        "counters": runtime.metrics.snapshot(),
    }
    return _uncached(body, 200)
