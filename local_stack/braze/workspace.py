"""One Braze workspace in memory: profiles, catalogs, API keys, rate-limit windows, a request log."""

from __future__ import annotations

import copy
import json
import math
import os
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from local_stack.braze.limits import (
    MAX_ARRAY_ITEMS,
    MAX_OBJECT_BYTES,
    MAX_STRING_CHARS,
    RATE_LIMITS,
    RateLimit,
)

__all__ = ["API_KEYS_ENV", "DEFAULT_API_KEY", "RATE_LIMITS_ENV", "Window", "Workspace", "attribute_problem"]

API_KEYS_ENV = "LOCAL_STACK_BRAZE_API_KEYS"
RATE_LIMITS_ENV = "LOCAL_STACK_BRAZE_RATE_LIMITS"  # e.g. "users.track=100/3,users.delete=10/60"
DEFAULT_API_KEY = "local-braze-key"
_IDENTIFIERS = frozenset({"external_id", "user_alias", "braze_id", "email", "phone"})
_FLAGS = frozenset({"_update_existing_only", "_merge_objects"})


def _limits_from_env() -> dict[str, RateLimit]:
    limits = dict(RATE_LIMITS)
    for part in filter(None, os.environ.get(RATE_LIMITS_ENV, "").split(",")):
        name, _, spec = part.partition("=")
        count, _, seconds = spec.partition("/")
        limits[name.strip()] = RateLimit(int(count), float(seconds or 60))
    return limits


def attribute_problem(name: str, value: Any) -> str | None:
    """Why Braze would refuse this custom attribute, or None."""
    if len(name) > MAX_STRING_CHARS:
        return f"attribute name longer than {MAX_STRING_CHARS} characters"
    if isinstance(value, str) and len(value) > MAX_STRING_CHARS:
        return f"{name}: string longer than {MAX_STRING_CHARS} characters"
    if isinstance(value, list):
        if len(value) > MAX_ARRAY_ITEMS:
            return f"{name}: array of {len(value)} items (at most {MAX_ARRAY_ITEMS})"
        for item in value:
            if isinstance(item, str) and len(item) > MAX_STRING_CHARS:
                return f"{name}: array item longer than {MAX_STRING_CHARS} characters"
    if isinstance(value, dict | list) and any(
        isinstance(v, dict) for v in ([value] if isinstance(value, dict) else value)
    ):
        size = len(json.dumps(value).encode())
        if size > MAX_OBJECT_BYTES:
            return f"{name}: object of {size} bytes (at most {MAX_OBJECT_BYTES})"
    return None


@dataclass
class Window:
    """A fixed rate-limit window (Braze reports its reset as an epoch second)."""

    limit: RateLimit
    started: float = 0.0
    used: int = 0

    def take(self, now: float) -> tuple[bool, int, int]:
        """(allowed, remaining, reset epoch second) for one more request at `now`."""
        start = math.floor(now / self.limit.window_seconds) * self.limit.window_seconds
        if start != self.started:
            self.started, self.used = start, 0
        reset = math.ceil(start + self.limit.window_seconds)
        if self.used >= self.limit.requests:
            return False, 0, reset
        self.used += 1
        return True, self.limit.requests - self.used, reset


@dataclass
class Workspace:
    api_keys: frozenset[str]
    clock: Callable[[], float] = time.time
    profiles: dict[str, dict[str, Any]] = field(default_factory=dict)
    catalogs: dict[str, dict[str, dict[str, Any]]] = field(default_factory=dict)
    requests: list[dict[str, Any]] = field(default_factory=list)
    faults: dict[str, list[int]] = field(default_factory=dict)
    windows: dict[str, Window] = field(default_factory=dict)
    lock: threading.RLock = field(default_factory=threading.RLock)

    @classmethod
    def from_env(cls) -> Workspace:
        keys = os.environ.get(API_KEYS_ENV, DEFAULT_API_KEY)
        workspace = cls(frozenset(k.strip() for k in keys.split(",") if k.strip()))
        workspace.windows = {name: Window(limit) for name, limit in _limits_from_env().items()}
        return workspace

    def rate(self, endpoint: str) -> tuple[bool, int, int, int]:
        """(allowed, limit, remaining, reset) for one request to `endpoint`'s rate-limit group."""
        with self.lock:
            window = self.windows.setdefault(endpoint, Window(RATE_LIMITS[endpoint]))
            allowed, remaining, reset = window.take(self.clock())
            return allowed, window.limit.requests, remaining, reset

    def injected(self, endpoint: str) -> int | None:
        """A status injected for the next request to `endpoint` (tests), consumed once."""
        with self.lock:
            queue = self.faults.get(endpoint)
            return queue.pop(0) if queue else None

    def log(self, endpoint: str, status: int, **details: Any) -> None:
        with self.lock:
            self.requests.append({"endpoint": endpoint, "status": status, "time": self.clock(), **details})

    # -- users
    def track_attributes(self, attributes: list[Mapping[str, Any]]) -> list[dict[str, Any]]:
        """Apply attribute objects; returns Braze's per-object errors (the others still apply)."""
        errors = []
        with self.lock:
            for index, obj in enumerate(attributes):
                external_id = obj.get("external_id")
                if not isinstance(external_id, str) or not external_id:
                    errors.append(
                        {"type": "missing external_id", "input_array": "attributes", "index": index}
                    )
                    continue
                updates = {k: v for k, v in obj.items() if k not in _IDENTIFIERS and k not in _FLAGS}
                problem = next((p for k, v in updates.items() if (p := attribute_problem(k, v))), None)
                if problem:
                    errors.append({"type": problem, "input_array": "attributes", "index": index})
                    continue
                if obj.get("_update_existing_only") and external_id not in self.profiles:
                    continue
                profile = self.profiles.setdefault(external_id, {"external_id": external_id})
                for key, value in updates.items():
                    if value is None:
                        profile.pop(key, None)  # Braze: null removes the attribute
                    else:
                        profile[key] = copy.deepcopy(value)
        return errors

    def delete_users(self, external_ids: list[str]) -> int:
        with self.lock:
            return sum(1 for e in external_ids if self.profiles.pop(e, None) is not None)

    def profile(self, external_id: str) -> dict[str, Any] | None:
        with self.lock:
            found = self.profiles.get(external_id)
            return copy.deepcopy(found) if found is not None else None

    def reset(self) -> None:
        with self.lock:
            self.profiles.clear()
            self.catalogs.clear()
            self.requests.clear()
            self.faults.clear()
            for window in self.windows.values():
                window.started, window.used = 0.0, 0
