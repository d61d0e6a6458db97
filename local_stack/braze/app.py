"""The Braze emulator's WSGI app: Braze's REST routes plus `/_braze/...` to read state and inject faults.

Behaviour imitated (Braze docs): `Authorization: Bearer <REST API key>` on every call (401 otherwise);
`/users/track` takes `attributes`, `events`, `purchases` arrays of at most 75 objects each, answers 201
with `"message": "success"` and an `errors` list for objects it refused; `/users/delete` takes at most 50
`external_ids`; catalog item bulk endpoints take at most 50 items and answer 202; every response carries
X-RateLimit-Limit / -Remaining / -Reset, and a request over the limit gets 429.
Admin routes (not Braze's): GET /_braze/users/<external_id>, GET /_braze/requests,
POST /_braze/faults {"endpoint": "users.track", "statuses": [429, 500]}, POST /_braze/reset.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from typing import Any

from werkzeug.exceptions import HTTPException, NotFound
from werkzeug.routing import Map, Rule
from werkzeug.wrappers import Request, Response

from local_stack.braze.limits import MAX_CATALOG_ITEMS_PER_REQUEST, MAX_DELETE_IDS, MAX_OBJECTS_PER_ARRAY
from local_stack.braze.workspace import Workspace, attribute_problem
from local_stack.errors import LocalStackError

__all__ = ["ADMIN_PREFIX", "BRAZE_PATH_PREFIXES", "BrazeApp"]

ADMIN_PREFIX = "/_braze/"
BRAZE_PATH_PREFIXES = ("/users/", "/catalogs", ADMIN_PREFIX)

_URLS = Map(
    [
        Rule("/users/track", endpoint="users.track", methods=["POST"]),
        Rule("/users/delete", endpoint="users.delete", methods=["POST"]),
        Rule("/catalogs", endpoint="catalogs.create", methods=["POST"]),
        Rule("/catalogs/<name>/items", endpoint="catalogs.items.bulk", methods=["POST", "PATCH", "DELETE"]),
        Rule("/catalogs/<name>/items/<item_id>", endpoint="catalogs.items.single", methods=["GET"]),
        Rule("/_braze/users/<external_id>", endpoint="admin.user", methods=["GET"]),
        Rule("/_braze/requests", endpoint="admin.requests", methods=["GET"]),
        Rule("/_braze/faults", endpoint="admin.faults", methods=["POST"]),
        Rule("/_braze/reset", endpoint="admin.reset", methods=["POST"]),
    ]
)


class _BrazeError(LocalStackError):
    """A Braze REST error answer: the HTTP status and Braze's JSON body (`message` plus details)."""

    def __init__(self, status: int, message: str, **extra: Any) -> None:
        super().__init__("braze", message, message=message)
        self.status = status
        self.body = {"message": message, **extra}


def _json(status: int, body: Any, headers: dict[str, str] | None = None) -> Response:
    return Response(json.dumps(body), status=status, headers=headers or {}, content_type="application/json")


class BrazeApp:
    """WSGI app over one `Workspace`."""

    def __init__(self, workspace: Workspace | None = None) -> None:
        self.workspace = workspace or Workspace.from_env()

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        request = Request(environ)
        try:
            endpoint, args = _URLS.bind_to_environ(environ).match()
        except NotFound:
            return _json(404, {"message": f"no route {request.method} {request.path}"})(
                environ, start_response
            )
        except HTTPException as exc:
            return _json(exc.code or 405, {"message": exc.description})(environ, start_response)
        if endpoint.startswith("admin."):
            return self._admin(endpoint, request, dict(args))(environ, start_response)
        return self._braze(endpoint, request, dict(args))(environ, start_response)

    # ------------------------------------------------------------------ Braze routes
    def _braze(self, endpoint: str, request: Request, args: dict[str, Any]) -> Response:
        ws = self.workspace
        auth = request.headers.get("Authorization", "")
        if not auth.startswith("Bearer ") or auth.removeprefix("Bearer ").strip() not in ws.api_keys:
            ws.log(endpoint, 401)
            return _json(401, {"message": "Invalid API key"})
        group = "catalogs.items.single" if endpoint == "catalogs.create" else endpoint
        allowed, limit, remaining, reset = ws.rate(group)
        headers = {
            "X-RateLimit-Limit": str(limit),
            "X-RateLimit-Remaining": str(remaining),
            "X-RateLimit-Reset": str(reset),
        }
        injected = ws.injected(endpoint)
        if not allowed or injected == 429:
            headers["X-RateLimit-Remaining"] = "0"
            ws.log(endpoint, 429)
            return _json(429, {"message": "Rate limit exceeded"}, headers)
        if injected is not None:
            ws.log(endpoint, injected)
            return _json(injected, {"message": f"injected HTTP {injected}"}, headers)
        try:
            body = request.get_json(force=True, silent=True)
            if body is None and request.method != "GET":
                raise _BrazeError(400, "Request body must be JSON")
            status, answer, details = self._route(endpoint, request.method, body or {}, args)
        except _BrazeError as exc:
            ws.log(endpoint, exc.status)
            return _json(exc.status, exc.body, headers)
        ws.log(endpoint, status, **details)
        return _json(status, answer, headers)

    def _route(
        self, endpoint: str, method: str, body: dict[str, Any], args: dict[str, Any]
    ) -> tuple[int, dict[str, Any], dict[str, Any]]:
        if endpoint == "users.track":
            return self._track(body)
        if endpoint == "users.delete":
            ids = body.get("external_ids") or []
            if not isinstance(ids, list) or not ids or len(ids) > MAX_DELETE_IDS:
                raise _BrazeError(400, f"external_ids must list 1 to {MAX_DELETE_IDS} ids")
            deleted = self.workspace.delete_users([str(i) for i in ids])
            return 201, {"deleted": deleted, "message": "success"}, {"objects": len(ids)}
        if endpoint == "catalogs.create":
            return self._create_catalogs(body)
        if endpoint == "catalogs.items.bulk":
            return self._catalog_items(method, args["name"], body)
        return self._catalog_item(args["name"], args["item_id"])

    def _track(self, body: dict[str, Any]) -> tuple[int, dict[str, Any], dict[str, Any]]:
        arrays: dict[str, Any] = {
            k: body[k] for k in ("attributes", "events", "purchases") if body.get(k) is not None
        }
        if not arrays:
            raise _BrazeError(400, "Request must contain attributes, events or purchases")
        for name, array in arrays.items():
            if not isinstance(array, list):
                raise _BrazeError(400, f"{name} must be an array")
            if len(array) > MAX_OBJECTS_PER_ARRAY:
                raise _BrazeError(
                    400, f"{name}: {len(array)} objects; at most {MAX_OBJECTS_PER_ARRAY} per request"
                )
        attributes = arrays.get("attributes") or []
        errors = self.workspace.track_attributes(attributes)
        answer: dict[str, Any] = {"message": "success", "attributes_processed": len(attributes) - len(errors)}
        if arrays.get("events"):
            answer["events_processed"] = len(arrays["events"])
        if arrays.get("purchases"):
            answer["purchases_processed"] = len(arrays["purchases"])
        if errors:
            answer["errors"] = errors
        ids = [a.get("external_id") for a in attributes if isinstance(a, dict)]
        return 201, answer, {"objects": len(attributes), "external_ids": ids}

    def _create_catalogs(self, body: dict[str, Any]) -> tuple[int, dict[str, Any], dict[str, Any]]:
        catalogs = body.get("catalogs")
        if not isinstance(catalogs, list) or len(catalogs) != 1 or not catalogs[0].get("name"):
            raise _BrazeError(400, "catalogs must hold exactly one catalog with a name")
        name = str(catalogs[0]["name"])
        with self.workspace.lock:
            if name in self.workspace.catalogs:
                raise _BrazeError(
                    400, "catalog-name-already-exists", errors=[{"id": "catalog-name-already-exists"}]
                )
            self.workspace.catalogs[name] = {}
        return 201, {"catalogs": [{"name": name}], "message": "success"}, {}

    def _catalog_items(
        self, method: str, name: str, body: dict[str, Any]
    ) -> tuple[int, dict[str, Any], dict[str, Any]]:
        items = body.get("items")
        if not isinstance(items, list) or not items or len(items) > MAX_CATALOG_ITEMS_PER_REQUEST:
            raise _BrazeError(400, f"items must list 1 to {MAX_CATALOG_ITEMS_PER_REQUEST} items")
        with self.workspace.lock:
            catalog = self.workspace.catalogs.get(name)
            if catalog is None:
                raise _BrazeError(404, "catalog-not-found", errors=[{"id": "catalog-not-found"}])
            for item in items:
                if not isinstance(item, dict) or not item.get("id"):
                    raise _BrazeError(400, "every item needs an id", errors=[{"id": "id-not-passed"}])
                problem = next((p for k, v in item.items() if (p := attribute_problem(k, v))), None)
                if problem:
                    raise _BrazeError(400, problem, errors=[{"id": "invalid-fields"}])
            for item in items:
                item_id = str(item["id"])
                if method == "DELETE":
                    catalog.pop(item_id, None)
                elif method == "PATCH":
                    catalog.setdefault(item_id, {"id": item_id}).update(item)
                else:
                    catalog[item_id] = dict(item)
        return 202, {"message": "success"}, {"objects": len(items)}

    def _catalog_item(self, name: str, item_id: str) -> tuple[int, dict[str, Any], dict[str, Any]]:
        with self.workspace.lock:
            item = self.workspace.catalogs.get(name, {}).get(item_id)
        if item is None:
            raise _BrazeError(404, "item-not-found", errors=[{"id": "item-not-found"}])
        return 200, {"items": [item], "message": "success"}, {}

    # ------------------------------------------------------------------ admin routes
    def _admin(self, endpoint: str, request: Request, args: dict[str, Any]) -> Response:
        ws = self.workspace
        if endpoint == "admin.user":
            profile = ws.profile(args["external_id"])
            return _json(200, profile) if profile is not None else _json(404, {"message": "no such user"})
        if endpoint == "admin.requests":
            with ws.lock:
                return _json(200, {"requests": list(ws.requests), "profiles": len(ws.profiles)})
        if endpoint == "admin.faults":
            body = request.get_json(force=True, silent=True) or {}
            with ws.lock:
                ws.faults.setdefault(str(body.get("endpoint", "users.track")), []).extend(
                    int(s) for s in body.get("statuses", [])
                )
            return _json(200, {"message": "ok"})
        ws.reset()
        return _json(200, {"message": "ok"})
