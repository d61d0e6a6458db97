"""Generic request validation and response checks driven by botocore's service models.

Nothing here knows a single Personalize field: the constraints (required members, types, min/max,
enums, patterns) all come from botocore's model, so the emulator refuses what AWS refuses.
"""

from __future__ import annotations

import base64
import datetime as dt
import re
from collections.abc import Mapping
from functools import cache
from typing import Any, cast

import botocore.session
from botocore.model import OperationModel, ServiceModel, Shape

from local_stack.personalize.errors import InvalidInputException

__all__ = [
    "check_shape",
    "operation_model",
    "parse_input",
    "serialize_output",
    "service_model",
]


@cache
def service_model(service: str) -> ServiceModel:
    """botocore's model of `personalize`, `personalize-runtime` or `personalize-events`."""
    return botocore.session.get_session().get_service_model(service)


def operation_model(service: str, operation: str) -> OperationModel:
    try:
        return service_model(service).operation_model(operation)
    except Exception as exc:  # botocore raises OperationNotFoundError
        raise InvalidInputException(f"Operation {operation} is not supported by {service}.") from exc


def _epoch(value: Any) -> dt.datetime | None:
    if isinstance(value, dt.datetime):
        return value if value.tzinfo else value.replace(tzinfo=dt.UTC)
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return dt.datetime.fromtimestamp(float(value), tz=dt.UTC)
    if isinstance(value, str):
        try:
            return dt.datetime.fromtimestamp(float(value), tz=dt.UTC)
        except ValueError:
            try:
                return dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
            except ValueError:
                return None
    return None


_UNICODE_CLASSES = {r"\p{ASCII}": r"\x00-\x7F"}


@cache
def _compiled(pattern: str) -> re.Pattern[str] | None:
    """botocore's pattern as a Python regex; Java-style \\p{...} classes are translated, others skipped."""
    translated = pattern
    for java, python in _UNICODE_CLASSES.items():
        translated = translated.replace(java, f"[{python}]")
    try:
        return re.compile(translated)
    except re.error:
        return None


def _violation(path: str, value: Any, constraint: str) -> str:
    shown = value if isinstance(value, str | int | float) else "..."
    return f"Value '{shown}' at '{path}' failed to satisfy constraint: {constraint}"


def _parse(shape: Shape, value: Any, path: str, errors: list[str]) -> Any:
    kind = shape.type_name
    meta = shape.metadata
    if kind == "structure":
        if not isinstance(value, Mapping):
            errors.append(_violation(path, value, "Member must be a structure"))
            return value
        out: dict[str, Any] = {}
        for name in meta.get("required", []):
            if value.get(name) is None:
                errors.append(
                    f"Value null at '{_join(path, name)}' failed to satisfy constraint: "
                    "Member must not be null"
                )
        for name, item in value.items():
            member = shape.members.get(name)  # type: ignore[attr-defined]
            if member is None:
                # AWS ignores unknown members sent by newer SDKs; so do we.
                continue
            if item is None:
                continue
            out[name] = _parse(member, item, _join(path, name), errors)
        return out
    if kind == "list":
        if not isinstance(value, list):
            errors.append(_violation(path, value, "Member must be a list"))
            return value
        _check_length(len(value), meta, path, value, errors)
        member = shape.member  # type: ignore[attr-defined]
        return [_parse(member, v, f"{path}.{i + 1}.member", errors) for i, v in enumerate(value)]
    if kind == "map":
        if not isinstance(value, Mapping):
            errors.append(_violation(path, value, "Member must be a map"))
            return value
        _check_length(len(value), meta, path, value, errors)
        key_shape, value_shape = shape.key, shape.value  # type: ignore[attr-defined]
        return {
            _parse(key_shape, k, f"{path}.key", errors): _parse(value_shape, v, f"{path}.{k}", errors)
            for k, v in value.items()
        }
    if kind == "string":
        if not isinstance(value, str):
            errors.append(_violation(path, value, "Member must be a string"))
            return value
        _check_length(len(value), meta, path, value, errors)
        if "enum" in meta and value not in meta["enum"]:
            errors.append(
                _violation(path, value, f"Member must satisfy enum value set: [{', '.join(meta['enum'])}]")
            )
        regex = _compiled(meta["pattern"]) if "pattern" in meta else None
        if regex is not None and not regex.search(value):
            errors.append(
                _violation(path, value, f"Member must satisfy regular expression pattern: {meta['pattern']}")
            )
        return value
    if kind in ("integer", "long"):
        if isinstance(value, bool) or not isinstance(value, int):
            errors.append(_violation(path, value, "Member must be an integer"))
            return value
        if "min" in meta and value < meta["min"]:
            errors.append(
                _violation(path, value, f"Member must have value greater than or equal to {meta['min']}")
            )
        if "max" in meta and value > meta["max"]:
            errors.append(
                _violation(path, value, f"Member must have value less than or equal to {meta['max']}")
            )
        return value
    if kind in ("float", "double"):
        if isinstance(value, bool) or not isinstance(value, int | float):
            errors.append(_violation(path, value, "Member must be a number"))
        return value
    if kind == "boolean":
        if not isinstance(value, bool):
            errors.append(_violation(path, value, "Member must be a boolean"))
        return value
    if kind == "timestamp":
        stamp = _epoch(value)
        if stamp is None:
            errors.append(_violation(path, value, "Member must be a timestamp"))
            return value
        return stamp
    if kind == "blob":
        if isinstance(value, str):
            try:
                return base64.b64decode(value)
            except ValueError:
                errors.append(_violation(path, value, "Member must be base64 encoded"))
        return value
    return value


def _join(path: str, name: str) -> str:
    return f"{path}.{name}" if path else name


def _check_length(n: int, meta: Mapping[str, Any], path: str, value: Any, errors: list[str]) -> None:
    if "min" in meta and n < meta["min"]:
        errors.append(
            _violation(path, value, f"Member must have length greater than or equal to {meta['min']}")
        )
    if "max" in meta and n > meta["max"]:
        errors.append(_violation(path, value, f"Member must have length less than or equal to {meta['max']}"))


def parse_input(service: str, operation: str, params: Mapping[str, Any]) -> dict[str, Any]:
    """Validate a request against the operation's input shape; timestamps become datetimes.

    Raises InvalidInputException worded like AWS's validation errors
    ("1 validation error detected: Value ... at 'name' failed to satisfy constraint: ...").
    """
    model = operation_model(service, operation)
    if model.input_shape is None:
        return {}
    errors: list[str] = []
    parsed = _parse(model.input_shape, dict(params), "", errors)
    if errors:
        count = len(errors)
        noun = "error" if count == 1 else "errors"
        raise InvalidInputException(f"{count} validation {noun} detected: {'; '.join(errors)}")
    return dict(parsed)


def serialize_output(shape: Shape | None, value: Any) -> Any:
    """A response value as JSON: datetimes become epoch seconds, bytes base64; unknown members dropped."""
    if shape is None or value is None:
        return value
    kind = shape.type_name
    if kind == "structure" and isinstance(value, Mapping):
        members = shape.members  # type: ignore[attr-defined]
        return {
            k: serialize_output(members[k], v) for k, v in value.items() if k in members and v is not None
        }
    if kind == "list" and isinstance(value, list):
        return [serialize_output(shape.member, v) for v in value]  # type: ignore[attr-defined]
    if kind == "map" and isinstance(value, Mapping):
        return {k: serialize_output(shape.value, v) for k, v in value.items()}  # type: ignore[attr-defined]
    if kind == "timestamp" and isinstance(value, dt.datetime):
        return value.timestamp()
    if kind == "blob" and isinstance(value, bytes):
        return base64.b64encode(value).decode()
    return value


def check_shape(shape: Shape | None, value: Any, path: str = "") -> list[str]:
    """Where `value` (a boto3-parsed response or a backend result) breaks `shape`; empty when it fits.

    Checks member names, required members, Python types, enums and length limits.
    """
    problems: list[str] = []
    _check(shape, value, path or "(response)", problems)
    return problems


def _check(shape: Shape | None, value: Any, path: str, problems: list[str]) -> None:
    if shape is None:
        return
    kind = shape.type_name
    meta = shape.metadata
    if kind == "structure":
        if not isinstance(value, Mapping):
            problems.append(f"{path}: expected a structure, got {type(value).__name__}")
            return
        members = shape.members  # type: ignore[attr-defined]
        for name in meta.get("required", []):
            if name not in value:
                problems.append(f"{path}.{name}: required member missing")
        for name, item in value.items():
            if name == "ResponseMetadata" and not path.count("."):
                continue
            if name not in members:
                problems.append(f"{path}.{name}: not a member of {shape.name}")
                continue
            _check(members[name], item, f"{path}.{name}", problems)
        return
    expected: dict[str, tuple[type, ...]] = {
        "list": (list,),
        "map": (dict, Mapping),
        "string": (str,),
        "integer": (int,),
        "long": (int,),
        "float": (float, int),
        "double": (float, int),
        "boolean": (bool,),
        "timestamp": (dt.datetime, float, int),
        "blob": (bytes, bytearray, str),
    }
    types = expected.get(kind)
    if types is None:
        return
    if not isinstance(value, types) or (
        kind in ("integer", "long", "float", "double") and isinstance(value, bool)
    ):
        problems.append(f"{path}: expected {kind}, got {type(value).__name__} {value!r:.60}")
        return
    value = cast(Any, value)  # narrowed above; isinstance with a runtime tuple loses the type
    if kind == "list":
        for i, item in enumerate(value):
            _check(shape.member, item, f"{path}[{i}]", problems)  # type: ignore[attr-defined]
    elif kind == "map":
        for k, v in value.items():
            _check(shape.value, v, f"{path}[{k!r}]", problems)  # type: ignore[attr-defined]
    elif kind == "string":
        if "enum" in meta and value not in meta["enum"]:
            problems.append(f"{path}: {value!r} not in enum {meta['enum']}")
        if "max" in meta and len(value) > meta["max"]:
            problems.append(f"{path}: longer than {meta['max']}")
