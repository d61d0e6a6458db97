"""Check a real response against schemas/openapi.yaml (tests only: it does not ship in the Lambda).

openapi-core is not a dependency: the document is OpenAPI 3.1, whose schemas are JSON Schema 2020-12,
so jsonschema validates bodies directly once response-level `$ref`s are followed.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

__all__ = ["ContractError", "check_response"]

_ROOT = "urn:braze-recs:openapi"


class ContractError(Exception):
    """A response breaks the OpenAPI document: says which route/status and what differs."""

    def __init__(self, where: str, why: str) -> None:
        super().__init__(f"{where}: {why}")
        self.where = where
        self.why = why


def _resolve(doc: Mapping[str, Any], ref: str) -> Mapping[str, Any]:
    target: Any = doc
    for part in ref.removeprefix("#/").split("/"):
        target = target[part.replace("~1", "/").replace("~0", "~")]
    return dict(target)


def _follow(doc: Mapping[str, Any], node: Mapping[str, Any]) -> Mapping[str, Any]:
    while "$ref" in node:
        node = _resolve(doc, str(node["$ref"]))
    return node


def check_response(
    doc: Mapping[str, Any], path: str, status: int, body: Any, headers: Mapping[str, str] | None = None
) -> None:
    """Raise ContractError unless `status` is documented for GET `path` and `body` matches its schema."""
    import jsonschema
    from referencing import Registry, Resource
    from referencing.jsonschema import DRAFT202012

    where = f"GET {path} {status}"
    operation = doc["paths"].get(path, {}).get("get")
    if operation is None:
        raise ContractError(where, "route not documented")
    responses = operation["responses"]
    if str(status) not in responses:
        raise ContractError(where, f"status not documented (documented: {sorted(responses)})")
    response = _follow(doc, responses[str(status)])
    content = response.get("content", {}).get("application/json")
    if content is None:
        return
    pointer = _pointer_of(doc, path, status)
    registry = Registry().with_resource(
        _ROOT, Resource.from_contents(dict(doc), default_specification=DRAFT202012)
    )
    schema = {"$ref": f"{_ROOT}#{pointer}/content/application~1json/schema"}
    errors = list(jsonschema.Draft202012Validator(schema, registry=registry).iter_errors(body))
    if errors:
        raise ContractError(where, "; ".join(e.message[:200] for e in errors[:3]))
    for name, spec in (response.get("headers") or {}).items():
        if headers is None:
            break
        value = next((v for k, v in headers.items() if k.lower() == name.lower()), None)
        if value is None:
            if spec.get("required", False):
                raise ContractError(where, f"required header {name} missing")
            continue
        header_errors = list(
            jsonschema.Draft202012Validator(spec.get("schema", {}), registry=registry).iter_errors(value)
        )
        if header_errors:
            raise ContractError(where, f"header {name}: {header_errors[0].message[:200]}")


def _pointer_of(doc: Mapping[str, Any], path: str, status: int) -> str:
    """JSON pointer of the response object documented for (path, status), after `$ref`s."""
    escaped = path.replace("~", "~0").replace("/", "~1")
    pointer = f"/paths/{escaped}/get/responses/{status}"
    node: Mapping[str, Any] = doc["paths"][path]["get"]["responses"][str(status)]
    while "$ref" in node:
        pointer = str(node["$ref"]).removeprefix("#")
        node = _resolve(doc, str(node["$ref"]))
    return pointer
