"""Shared machinery of the emulator's backend: resource records, async statuses, pagination.

`BackendCore` holds every resource of one account and region; the operation mixins (`datasets`,
`solutions`, `serving`) build on it and `backend.PersonalizeBackend` puts them together.
"""

from __future__ import annotations

import base64
import copy
import datetime as dt
import logging
import os
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any

from local_stack.errors import LocalStackError
from local_stack.personalize.errors import (
    InvalidNextTokenException,
    ResourceAlreadyExistsException,
    ResourceInUseException,
    ResourceNotFoundException,
)
from local_stack.personalize.filtering import CompiledFilter
from local_stack.personalize.store import DatasetGroupStore

__all__ = [
    "ACCOUNT_ID",
    "ACTIVE",
    "DATASET_TYPE_KEYS",
    "FAILED",
    "IN_PROGRESS",
    "PENDING",
    "SERVICES",
    "STATE_FILE",
    "STOPPED",
    "STOPPING",
    "BackendCore",
    "JobFailure",
    "name_of",
    "public_fields",
    "step_seconds",
    "summary_fields",
    "utc_now",
]

log = logging.getLogger(__name__)

ACCOUNT_ID = "123456789012"
STEP_ENV = "LOCAL_STACK_PERSONALIZE_STEP_SECONDS"
MIN_INTERACTIONS_ENV = "LOCAL_STACK_PERSONALIZE_MIN_INTERACTIONS"
MAX_DATASET_GROUPS = 500
MAX_FILTERS_PER_DATASET_GROUP = 10
MAX_RESULTS_DEFAULT = 100
STATE_FILE = "personalize.pickle"

ACTIVE = "ACTIVE"
PENDING = "CREATE PENDING"
IN_PROGRESS = "CREATE IN_PROGRESS"
FAILED = "CREATE FAILED"
STOPPING = "CREATE STOPPING"
STOPPED = "CREATE STOPPED"

DATASET_TYPE_KEYS = {"Interactions": "interactions", "Users": "users", "Items": "items"}
SERVICES = ("personalize", "personalize-runtime", "personalize-events")


class JobFailure(LocalStackError):
    """Work that ends in CREATE FAILED; the message is the failureReason."""

    def __init__(self, reason: str) -> None:
        super().__init__("job", reason, reason)


def utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def step_seconds() -> float:
    try:
        return max(0.0, float(os.environ.get(STEP_ENV, "0.05")))
    except ValueError:
        return 0.05


def name_of(arn: str) -> str:
    return arn.rsplit("/", 1)[-1]


def public_fields(record: Mapping[str, Any]) -> dict[str, Any]:
    """A resource record without its private (underscore) fields."""
    return {k: v for k, v in record.items() if not k.startswith("_")}


def summary_fields(record: Mapping[str, Any], keys: tuple[str, ...]) -> dict[str, Any]:
    return {k: record[k] for k in keys if record.get(k) is not None}


class BackendCore:
    """All Personalize resources of one account and region, and the helpers every operation uses."""

    def __init__(self, account_id: str, region: str) -> None:
        self.account_id = account_id
        self.region = region
        self._lock = threading.RLock()
        self.resources: dict[str, dict[str, dict[str, Any]]] = {
            kind: {}
            for kind in (
                "schema",
                "dataset-group",
                "dataset",
                "dataset-import-job",
                "solution",
                "solution-version",
                "campaign",
                "batch-inference-job",
                "filter",
                "event-tracker",
            )
        }
        self.stores: dict[str, DatasetGroupStore] = {}
        self.models: dict[str, Any] = {}
        self.tags: dict[str, list[dict[str, str]]] = {}
        self.tracking_ids: dict[str, str] = {}
        self._compiled: dict[str, CompiledFilter] = {}
        self.changes = 0

    # -- pickling: locks and caches are rebuilt
    def __getstate__(self) -> dict[str, Any]:
        with self._lock:
            state = dict(self.__dict__)
            # Records change under background jobs; pickle a snapshot taken under the lock.
            state["resources"] = copy.deepcopy(self.resources)
            state["tags"] = copy.deepcopy(self.tags)
            state["tracking_ids"] = dict(self.tracking_ids)
            state["models"] = dict(self.models)
            state["stores"] = dict(self.stores)
        state.pop("_lock", None)
        state["_compiled"] = {}
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._lock = threading.RLock()
        for kind, records in self.resources.items():
            for record in records.values():
                if record.get("status") in (PENDING, IN_PROGRESS):
                    if kind in ("dataset-import-job", "solution-version", "batch-inference-job"):
                        record["status"] = FAILED
                        record["failureReason"] = "The local stack stopped while this job was running."
                    else:
                        record["status"] = ACTIVE
                record["lastUpdatedDateTime"] = record.get("lastUpdatedDateTime") or utc_now()

    # -- helpers
    def arn(self, kind: str, name: str) -> str:
        return f"arn:aws:personalize:{self.region}:{self.account_id}:{kind}/{name}"

    def _get(self, kind: str, arn: str) -> dict[str, Any]:
        record = self.resources[kind].get(arn)
        if record is None:
            label = kind.replace("-", " ")
            raise ResourceNotFoundException(f"Could not find the {label} with ARN {arn}.")
        return record

    def _require_active(self, kind: str, arn: str) -> dict[str, Any]:
        record = self._get(kind, arn)
        if record.get("status") != ACTIVE:
            label = kind.replace("-", " ")
            raise ResourceInUseException(
                f"The {label} {arn} is not in ACTIVE state (status: {record.get('status')})."
            )
        return record

    def _new(
        self, kind: str, arn: str, record: dict[str, Any], tags: list[dict[str, str]] | None
    ) -> dict[str, Any]:
        if arn in self.resources[kind]:
            raise ResourceAlreadyExistsException(f"Another resource with Arn {arn} already exists.")
        now = utc_now()
        record.setdefault("creationDateTime", now)
        record.setdefault("lastUpdatedDateTime", now)
        self.resources[kind][arn] = record
        if tags:
            self.tags[arn] = list(tags)
        return record

    def _set(self, record: dict[str, Any], **fields: Any) -> None:
        with self._lock:
            record.update(fields)
            record["lastUpdatedDateTime"] = utc_now()
            self.changes += 1

    def _run_async(
        self,
        record: dict[str, Any],
        work: Callable[[], None] | None = None,
        *,
        status_key: str = "status",
        on_active: Callable[[], None] | None = None,
    ) -> None:
        """PENDING now; IN_PROGRESS after one step; then `work`; ACTIVE or FAILED with its reason."""
        record[status_key] = PENDING

        def stopped() -> bool:
            """A stop asked for meanwhile takes effect at a step's boundary: STOPPING becomes STOPPED."""
            if record.get(status_key) != STOPPING:
                return False
            self._set(record, **{status_key: STOPPED})
            return True

        def run() -> None:
            time.sleep(step_seconds())
            with self._lock:
                if stopped():
                    return
                self._set(record, **{status_key: IN_PROGRESS})
            try:
                if work is not None:
                    work()
                time.sleep(step_seconds())
                with self._lock:
                    if stopped():
                        return
                    if on_active is not None:
                        on_active()
                    self._set(record, **{status_key: ACTIVE})
            except JobFailure as exc:
                self._set(record, **{status_key: FAILED, "failureReason": str(exc)})
            except Exception as exc:
                log.exception("background job failed")
                self._set(record, **{status_key: FAILED, "failureReason": f"Internal error: {exc}"})

        threading.Thread(target=run, name=f"personalize-{record.get('name', 'job')}", daemon=True).start()

    @staticmethod
    def _page(items: list[dict[str, Any]], params: Mapping[str, Any], key: str) -> dict[str, Any]:
        token = params.get("nextToken")
        start = 0
        if token:
            try:
                start = int(base64.urlsafe_b64decode(token.encode()).decode().removeprefix("offset:"))
            except (ValueError, UnicodeDecodeError) as exc:
                raise InvalidNextTokenException(f"Invalid next token: {token}") from exc
        size = int(params.get("maxResults") or MAX_RESULTS_DEFAULT)
        out: dict[str, Any] = {key: items[start : start + size]}
        if start + size < len(items):
            out["nextToken"] = base64.urlsafe_b64encode(f"offset:{start + size}".encode()).decode()
        return out

    def _list(
        self,
        kind: str,
        params: Mapping[str, Any],
        key: str,
        fields: tuple[str, ...],
        parent: tuple[str, str] | None = None,
    ) -> dict[str, Any]:
        records = list(self.resources[kind].values())
        if parent is not None and params.get(parent[0]):
            records = [r for r in records if r.get(parent[1]) == params[parent[0]]]
        records.sort(key=lambda r: r["creationDateTime"], reverse=True)
        return self._page([summary_fields(r, fields) for r in records], params, key)

    def _children(self, kind: str, field: str, arn: str) -> list[str]:
        return [a for a, r in self.resources[kind].items() if r.get(field) == arn]

    def store_for(self, dataset_group_arn: str) -> DatasetGroupStore:
        return self.stores.setdefault(dataset_group_arn, DatasetGroupStore())
