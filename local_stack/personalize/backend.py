"""The Personalize emulator's backend: every control-plane, runtime and events operation.

`get_backend(account_id, region).handle(operation, params)` takes and returns exactly the API's shapes
(timestamps as datetimes, like boto3 returns them); the HTTP layer and the CloudFormation resources
share the same object. Long work (imports, training, batch jobs) runs in background threads and moves
resources through CREATE PENDING -> CREATE IN_PROGRESS -> ACTIVE / CREATE FAILED.

Persistence (`save_state` / `load_state`, used by `serve --state-dir`): every resource, the imported
data, real-time events and trained models. Jobs that were running when the server stopped come back
as CREATE FAILED. moto's own state (S3, IAM, ...) is not persisted.
"""

from __future__ import annotations

import logging
import pickle
import threading
import time
from collections.abc import Callable, Mapping
from functools import cache
from pathlib import Path
from typing import Any

from local_stack.personalize.core import ACCOUNT_ID, SERVICES, STATE_FILE
from local_stack.personalize.datasets import DatasetOps
from local_stack.personalize.deletion import DataDeletionOps
from local_stack.personalize.errors import (
    InvalidInputException,
)
from local_stack.personalize.metric_attribution import MetricAttributionOps
from local_stack.personalize.serving import ServingOps
from local_stack.personalize.shapes import parse_input, service_model
from local_stack.personalize.solutions import SolutionOps

__all__ = [
    "ACCOUNT_ID",
    "PersonalizeBackend",
    "get_backend",
    "load_state",
    "reset_backends",
    "save_state",
    "state_changed",
]

log = logging.getLogger(__name__)


@cache
def _operation_services() -> dict[str, str]:
    return {op: svc for svc in SERVICES for op in service_model(svc).operation_names}


class PersonalizeBackend(DatasetOps, SolutionOps, ServingOps, DataDeletionOps, MetricAttributionOps):
    """All Personalize resources of one account and region; `handle` runs any supported operation."""

    # -- entry point
    def handle(
        self, operation: str, params: Mapping[str, Any], *, service: str | None = None
    ) -> dict[str, Any]:
        """Run one API operation: validate `params` against botocore's model, return the output dict."""
        service = service or _operation_services().get(operation)
        if service is None:
            raise InvalidInputException(f"Unknown operation {operation}.")
        method: Callable[[dict[str, Any]], dict[str, Any]] | None = getattr(self, f"op_{operation}", None)
        if method is None:
            raise InvalidInputException(f"The local Personalize emulator does not support {operation}.")
        parsed = parse_input(service, operation, params)
        if service != "personalize":
            # Runtime and events read immutable models and a thread-safe store: no global lock.
            result = method(parsed)
            if service == "personalize-events":
                self.changes += 1  # events are state too (persisted with --state-dir)
            return result
        # Control-plane calls are quick; one lock keeps listings consistent with concurrent creates.
        with self._lock:
            result = method(parsed)
            if not operation.startswith(("Describe", "List", "Get")):
                self.changes += 1
        return result


# ---------------------------------------------------------------------------------- registry
_BACKENDS: dict[tuple[str, str], PersonalizeBackend] = {}
_REGISTRY_LOCK = threading.Lock()
_saved_changes: dict[tuple[str, str], int] = {}


def get_backend(account_id: str, region: str) -> PersonalizeBackend:
    """The one backend of (account, region), shared by HTTP requests and CloudFormation resources."""
    key = (account_id, region)
    backend = _BACKENDS.get(key)
    if backend is None:
        with _REGISTRY_LOCK:
            backend = _BACKENDS.setdefault(key, PersonalizeBackend(account_id, region))
    return backend


def reset_backends() -> None:
    """Forget every backend (tests)."""
    with _REGISTRY_LOCK:
        _BACKENDS.clear()
        _saved_changes.clear()


def state_changed() -> bool:
    """Whether any backend changed since the last `save_state`."""
    return any(_saved_changes.get(k) != b.changes for k, b in list(_BACKENDS.items()))


def save_state(state_dir: Path) -> Path:
    """Pickle every backend to `state_dir/personalize.pickle` (written atomically)."""
    state_dir.mkdir(parents=True, exist_ok=True)
    target = state_dir / STATE_FILE
    tmp = target.with_suffix(".tmp")
    with _REGISTRY_LOCK:
        snapshot = dict(_BACKENDS)
        changes = {k: b.changes for k, b in snapshot.items()}
        for attempt in range(5):
            try:
                payload = pickle.dumps(snapshot, protocol=pickle.HIGHEST_PROTOCOL)
                break
            except RuntimeError:  # a store's dict grew under a PutEvents while pickling: try again
                if attempt == 4:
                    raise
                time.sleep(0.05)
        _saved_changes.update(changes)
    tmp.write_bytes(payload)
    tmp.replace(target)
    return target


def load_state(state_dir: Path) -> int:
    """Load backends saved by `save_state`; returns how many (0 when there is no state yet)."""
    source = state_dir / STATE_FILE
    if not source.exists():
        return 0
    # The state file is our own, written by save_state into a directory the user chose.
    loaded: dict[tuple[str, str], PersonalizeBackend] = pickle.loads(source.read_bytes())  # noqa: S301
    with _REGISTRY_LOCK:
        _BACKENDS.update(loaded)
        _saved_changes.update({k: b.changes for k, b in loaded.items()})
    return len(loaded)
