"""The WSGI front door: Personalize traffic to our emulator, everything else to moto.

AWS clients sign every request with SigV4; the credential scope in the Authorization header
(`Credential=AKID/DATE/REGION/SERVICE/aws4_request`) names the service, which is the only reliable
way to tell `personalize-runtime`'s `POST /recommendations` from an S3 PUT to a bucket of that name.
"""

from __future__ import annotations

import json
import os
import re
import time
from collections.abc import Callable, Iterable
from typing import Any

from local_stack.ownership import owner_from_environment
from local_stack.process import HEALTH_PATH

__all__ = [
    "HEALTH_PATH",
    "PERSONALIZE_SERVICES",
    "Dispatcher",
    "WSGIApp",
    "credential_scope",
]

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]

PERSONALIZE_SERVICES = frozenset({"personalize", "personalize-runtime", "personalize-events"})
MOTO_SERVICES = (
    "s3",
    "iam",
    "sts",
    "kms",
    "ssm",
    "cloudformation",
    "logs",
    # The monitoring module: alarms and the dashboard, their SNS topic, the EventBridge rules.
    "cloudwatch",
    "sns",
    "events",
)

_SCOPE = re.compile(r"Credential=[^/,\s]+/(\d{8})/([a-z0-9-]+)/([a-z0-9-]+)/aws4_request")


def credential_scope(authorization: str) -> tuple[str, str] | None:
    """(region, service) from a SigV4 Authorization header, or None when it is not SigV4."""
    match = _SCOPE.search(authorization or "")
    if match is None:
        return None
    return match.group(2), match.group(3)


class Dispatcher:
    """Routes one request: health, the Personalize emulator, or moto."""

    def __init__(self, moto_app: WSGIApp, personalize_app: WSGIApp, braze_app: WSGIApp | None = None) -> None:
        self.moto_app = moto_app
        self.personalize_app = personalize_app
        self.braze_app = braze_app
        self.started = time.time()
        # Which checkout started this server (None when started without one, as the tests do).
        self.owner = owner_from_environment()

    def service_for(self, environ: dict[str, Any]) -> str:
        """The service a request is meant for: `personalize*`, `braze` or `moto`."""
        scope = credential_scope(environ.get("HTTP_AUTHORIZATION", ""))
        if scope is not None and scope[1] in PERSONALIZE_SERVICES:
            return scope[1]
        # Braze's REST API is not SigV4-signed (a Bearer key, or none): its paths never collide with AWS.
        if scope is None and self.braze_app is not None:
            from local_stack.braze.app import BRAZE_PATH_PREFIXES

            if str(environ.get("PATH_INFO", "")).startswith(BRAZE_PATH_PREFIXES):
                return "braze"
        # Unsigned JSON 1.1 calls still carry the target prefix.
        if environ.get("HTTP_X_AMZ_TARGET", "").startswith("AmazonPersonalize."):
            return "personalize"
        return "moto"

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        if environ.get("PATH_INFO") == HEALTH_PATH:
            return self._health(start_response)
        service = self.service_for(environ)
        if service == "moto":
            return self.moto_app(environ, start_response)
        if service == "braze" and self.braze_app is not None:
            return self.braze_app(environ, start_response)
        return self.personalize_app(environ, start_response)

    def _health(self, start_response: Callable[..., Any]) -> Iterable[bytes]:
        body = json.dumps(
            {
                "status": "running",
                "pid": os.getpid(),
                "uptime_seconds": round(time.time() - self.started, 3),
                "services": sorted(MOTO_SERVICES + tuple(PERSONALIZE_SERVICES)),
                "owner": self.owner,
            }
        ).encode()
        start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
        return [body]
