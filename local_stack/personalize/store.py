"""A dataset group's data: imported interactions/users/items plus real-time events and metadata.

Interactions live in one pyarrow table (cheap for millions of rows); a per-user index into it is built
lazily so filters can read a user's recent history. Real-time events (PutEvents) and PutItems/PutUsers
rows are kept beside the imports and count at once for filters and for the next training.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt
import pyarrow as pa

from local_stack.errors import LocalStackError
from local_stack.personalize.filtering import Interaction
from local_stack.personalize.recipes import TrainingData
from personalize_rules.avro_types import arrow_types
from personalize_rules.dataset_files import read_import

__all__ = ["DatasetGroupStore", "StoreError"]

_ID_COLUMN = {"interactions": "USER_ID", "users": "USER_ID", "items": "ITEM_ID"}


class StoreError(LocalStackError):
    """Data that cannot be stored; says which dataset and why."""

    def __init__(self, dataset_type: str, why: str) -> None:
        super().__init__(dataset_type, why)
        self.dataset_type = dataset_type


class _UserIndex:
    """Imported interactions grouped by user (numpy columns sorted by user, then time), for filters."""

    def __init__(self, spans: dict[str, tuple[int, int]], columns: tuple[npt.NDArray[Any], ...]) -> None:
        self.spans = spans
        self.items, self.types, self.stamps, self.values = columns

    @classmethod
    def build(cls, table: pa.Table | None) -> _UserIndex:
        empty = np.zeros(0, dtype=object)
        if table is None or table.num_rows == 0:
            return cls({}, (empty, empty, empty, empty))
        users = table.column("USER_ID").to_numpy(zero_copy_only=False).astype(str)
        stamps = table.column("TIMESTAMP").to_numpy(zero_copy_only=False).astype(np.float64)
        order = np.lexsort((stamps, users))
        sorted_users = users[order]
        uniq, starts = np.unique(sorted_users, return_index=True)
        ends = np.append(starts[1:], len(sorted_users))
        spans = {str(u): (int(s), int(e)) for u, s, e in zip(uniq, starts, ends, strict=True)}

        def column(name: str) -> npt.NDArray[Any]:
            if name not in table.column_names:
                return np.full(len(order), None if name == "EVENT_VALUE" else "", dtype=object)
            return np.asarray(table.column(name).to_numpy(zero_copy_only=False), dtype=object)[order]

        return cls(spans, (column("ITEM_ID"), column("EVENT_TYPE"), stamps[order], column("EVENT_VALUE")))

    def interactions(self, user_id: str) -> list[Interaction]:
        span = self.spans.get(user_id)
        if span is None:
            return []
        s, e = span
        return [
            Interaction(str(i), str(t), float(ts), None if v is None or v != v else float(v))
            for i, t, ts, v in zip(
                self.items[s:e], self.types[s:e], self.stamps[s:e], self.values[s:e], strict=True
            )
        ]


class DatasetGroupStore:
    """The data of one dataset group. Thread-safe; picklable (the lock is recreated on load)."""

    def __init__(self) -> None:
        self._lock = threading.RLock()
        self.schemas: dict[str, dict[str, Any]] = {}
        self.interactions: pa.Table | None = None
        self.users: dict[str, dict[str, Any]] = {}
        self.items: dict[str, dict[str, Any]] = {}
        self.events: dict[str, list[Interaction]] = {}
        self.event_rows: list[dict[str, Any]] = []
        self._index: _UserIndex | None = None

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        state.pop("_lock", None)
        state["_index"] = None
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._lock = threading.RLock()

    # -- imports
    def parse_csv(self, dataset_type: str, data: bytes, name: str = "data.csv") -> pa.Table:
        """Parse an import file once, with every rule of personalize_rules.dataset_files (the same the
        validator applies); StoreError names the first problem that fails the import."""
        schema = self.schemas.get(dataset_type)
        if schema is None:
            raise StoreError(dataset_type, "the dataset group has no dataset of this type")
        check = read_import(dataset_type, data, schema, name)
        if check.table is None or check.errors:
            errors = check.errors
            first = errors[0] if errors else None
            where = f"line {first.line}" if first is not None and first.line else "the file"
            column = f", column {first.field}" if first is not None and first.field else ""
            message = first.message if first is not None else "no records could be read"
            more = f" ({len(errors)} problems in total)" if len(errors) > 1 else ""
            raise StoreError(dataset_type, f"invalid at {where}{column}: {message}{more}")
        return check.table

    def import_table(self, dataset_type: str, table: pa.Table, *, incremental: bool) -> int:
        """Store an imported table; FULL replaces the dataset, INCREMENTAL appends (and upserts rows)."""
        with self._lock:
            if dataset_type == "interactions":
                if incremental and self.interactions is not None:
                    table = pa.concat_tables(
                        [self.interactions, table.select(self.interactions.column_names)]
                    )
                self.interactions = table
                self._index = None
                return table.num_rows
            target = self.users if dataset_type == "users" else self.items
            if not incremental:
                target.clear()
            key = _ID_COLUMN[dataset_type]
            for row in table.to_pylist():
                target[str(row[key])] = row
            return len(target)

    # -- real-time data
    def put_events(self, user_id: str, events: Sequence[Interaction], rows: Sequence[dict[str, Any]]) -> None:
        with self._lock:
            self.events.setdefault(user_id, []).extend(events)
            self.event_rows.extend(rows)

    def interactions_key(self) -> tuple[int, int, int]:
        """Changes whenever interactions are imported or streamed (what Trending-Now refreshes on)."""
        table = self.interactions
        return (id(table), 0 if table is None else table.num_rows, len(self.event_rows))

    def put_rows(self, dataset_type: str, rows: Sequence[dict[str, Any]]) -> None:
        with self._lock:
            target = self.users if dataset_type == "users" else self.items
            key = _ID_COLUMN[dataset_type]
            for row in rows:
                merged = dict(target.get(str(row[key]), {}))
                merged.update(row)
                target[str(row[key])] = merged

    # -- reads
    def _user_index(self) -> _UserIndex:
        index = self._index
        if index is not None:
            return index
        with self._lock:
            if self._index is None:
                self._index = _UserIndex.build(self.interactions)
            return self._index

    def interactions_for(self, user_id: str) -> list[Interaction]:
        """The user's imported interactions plus real-time events, oldest first."""
        out = self._user_index().interactions(user_id)
        events = self.events.get(user_id)
        if events:
            out.extend(events)
            out.sort(key=lambda x: x.timestamp)
        return out

    def item_row(self, item_id: str) -> dict[str, Any] | None:
        return self.items.get(item_id)

    def user_row(self, user_id: str) -> dict[str, Any] | None:
        return self.users.get(user_id)

    def has_interactions(self) -> bool:
        return bool(self.interactions is not None and self.interactions.num_rows) or bool(self.event_rows)

    def training_data(self) -> TrainingData:
        """Everything known now: imported interactions plus real-time events, and the metadata tables."""
        with self._lock:
            table = self.interactions
            if self.event_rows:
                types = arrow_types(self.schemas["interactions"]) if "interactions" in self.schemas else {}
                columns = table.column_names if table is not None else list(self.event_rows[0])
                events = pa.table(
                    {c: pa.array([r.get(c) for r in self.event_rows], type=types.get(c)) for c in columns}
                )
                table = events if table is None else pa.concat_tables([table, events.cast(table.schema)])
            if table is None:
                raise StoreError("interactions", "no interactions have been imported")
            items = pa.Table.from_pylist(list(self.items.values())) if self.items else None
            users = pa.Table.from_pylist(list(self.users.values())) if self.users else None
        return TrainingData(interactions=table, items=items, users=users)
