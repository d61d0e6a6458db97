"""HTTP protocol layer of the emulator: JSON 1.1 (`personalize`) and REST-JSON (runtime, events).

Requests are decoded into the API's parameter dicts, validated against botocore's model, handed to
the backend, and the result is serialized with the operation's output shape.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Callable, Iterable
from functools import cache
from typing import Any

from local_stack.dispatcher import credential_scope
from local_stack.personalize.backend import ACCOUNT_ID, get_backend
from local_stack.personalize.errors import InvalidInputException, PersonalizeError
from local_stack.personalize.shapes import check_shape, operation_model, serialize_output, service_model

__all__ = ["PersonalizeApp", "rest_operation"]

log = logging.getLogger(__name__)

_TARGET_PREFIX = "AmazonPersonalize."
_REST_SERVICES = ("personalize-runtime", "personalize-events")


@cache
def _rest_routes() -> dict[tuple[str, str], tuple[str, str]]:
    routes: dict[tuple[str, str], tuple[str, str]] = {}
    for service in _REST_SERVICES:
        model = service_model(service)
        for name in model.operation_names:
            http = model.operation_model(name).http
            routes[(http.get("method", "POST"), http.get("requestUri", "").split("?")[0])] = (service, name)
    return routes


def _rest_service(path: str) -> str:
    for (_, uri), (service, _) in _rest_routes().items():
        if uri == path:
            return service
    return "personalize-runtime"


def rest_operation(service: str, method: str, path: str) -> str | None:
    """The REST-JSON operation bound to (method, path) in botocore's model, if any."""
    found = _rest_routes().get((method, path))
    return found[1] if found is not None and found[0] == service else None


class PersonalizeApp:
    """WSGI app for the three Personalize endpoints; `debug` checks every response against its shape."""

    def __init__(self, *, debug: bool | None = None) -> None:
        self.debug = bool(os.environ.get("LOCAL_STACK_DEBUG")) if debug is None else debug

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        scope = credential_scope(environ.get("HTTP_AUTHORIZATION", ""))
        region = scope[0] if scope else "us-east-1"
        # All three services sign as `personalize`; only the JSON 1.1 one sends X-Amz-Target.
        target = environ.get("HTTP_X_AMZ_TARGET", "")
        service = "personalize" if target else _rest_service(environ.get("PATH_INFO", ""))
        try:
            length = int(environ.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        raw = environ["wsgi.input"].read(length) if length else b""
        rest = service != "personalize"
        try:
            operation = self._operation(service, environ)
            try:
                params = json.loads(raw) if raw.strip() else {}
            except ValueError as exc:
                raise InvalidInputException(f"Request body is not valid JSON: {exc}") from exc
            if not isinstance(params, dict):
                raise InvalidInputException("Request body must be a JSON object.")
            result = get_backend(ACCOUNT_ID, region).handle(operation, params, service=service)
            output_shape = operation_model(service, operation).output_shape
            if self.debug:
                problems = check_shape(output_shape, result)
                if problems:
                    log.error("%s %s response breaks its shape: %s", service, operation, problems)
                    raise AssertionError(f"{operation} response breaks its shape: {problems}")
            body = json.dumps(serialize_output(output_shape, result)).encode()
            status = "200 OK"
            headers = [("Content-Type", "application/x-amz-json-1.1" if not rest else "application/json")]
        except PersonalizeError as exc:
            body = json.dumps(exc.to_json() if not rest else {"message": exc.message}).encode()
            code = exc.status if rest else 400
            status = f"{code} {'Bad Request' if code == 400 else 'Error'}"
            headers = [("Content-Type", "application/x-amz-json-1.1"), ("x-amzn-ErrorType", exc.code)]
        except Exception as exc:  # keep the server alive and answer like AWS's internal error
            log.exception("emulator failure")
            body = json.dumps({"__type": "InternalFailure", "message": str(exc)}).encode()
            status = "500 Internal Server Error"
            headers = [
                ("Content-Type", "application/x-amz-json-1.1"),
                ("x-amzn-ErrorType", "InternalFailure"),
            ]
        headers += [("Content-Length", str(len(body))), ("x-amzn-RequestId", os.urandom(16).hex())]
        start_response(status, headers)
        return [body]

    @staticmethod
    def _operation(service: str, environ: dict[str, Any]) -> str:
        if service == "personalize":
            target = environ.get("HTTP_X_AMZ_TARGET", "")
            if not target.startswith(_TARGET_PREFIX):
                raise InvalidInputException(f"Missing or unknown X-Amz-Target header: {target!r}")
            return target[len(_TARGET_PREFIX) :]
        operation = rest_operation(service, environ.get("REQUEST_METHOD", ""), environ.get("PATH_INFO", ""))
        if operation is None:
            raise InvalidInputException(
                f"No {service} operation for {environ.get('REQUEST_METHOD')} {environ.get('PATH_INFO')}"
            )
        return operation
