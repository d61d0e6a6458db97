"""Training data in, integer-encoded interaction arrays out (the input every recipe trains on)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from personalize_rules.events_config import EventParameter
from personalize_rules.recipe_specs import RecipeError

__all__ = ["REQUIRED_COLUMNS", "Interactions", "TrainingData", "encode_interactions"]

REQUIRED_COLUMNS: tuple[str, ...] = ("USER_ID", "ITEM_ID", "TIMESTAMP", "EVENT_TYPE")


@dataclass(frozen=True)
class TrainingData:
    """What a solution version trains on: the Interactions table and, when imported, Items and Users."""

    interactions: pa.Table
    items: pa.Table | None = None
    users: pa.Table | None = None


@dataclass(frozen=True)
class Interactions:
    """Interactions as parallel arrays sorted by (user, timestamp); ids are indexes into the id lists.

    `weights` is each event's weight from the solution's eventsConfig (its event type's weight over the
    largest weight), or None when every event weighs 1."""

    user_ids: list[str]
    item_ids: list[str]
    users: npt.NDArray[np.int32]
    items: npt.NDArray[np.int32]
    timestamps: npt.NDArray[np.int64]
    weights: npt.NDArray[np.float32] | None = None

    @property
    def n_users(self) -> int:
        return len(self.user_ids)

    @property
    def n_items(self) -> int:
        return len(self.item_ids)

    def __len__(self) -> int:
        return int(self.users.shape[0])

    def select(self, mask: npt.NDArray[np.bool_]) -> Interactions:
        """The rows where mask is true; the id lists (and so every index) stay the same."""
        return Interactions(
            self.user_ids,
            self.item_ids,
            self.users[mask],
            self.items[mask],
            self.timestamps[mask],
            None if self.weights is None else self.weights[mask],
        )

    def event_weights(self) -> npt.NDArray[np.float32]:
        """Each row's weight (all 1 without an eventsConfig)."""
        return np.ones(len(self), dtype=np.float32) if self.weights is None else self.weights

    def user_bounds(self) -> npt.NDArray[np.int64]:
        """CSR-style offsets: user u's rows are [bounds[u], bounds[u+1]) (rows are sorted by user)."""
        counts = np.bincount(self.users, minlength=self.n_users)
        return np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)


def _encode(column: pa.ChunkedArray | pa.Array, name: str) -> tuple[list[str], npt.NDArray[np.int32]]:
    if isinstance(column, pa.ChunkedArray):
        column = column.combine_chunks()
    if column.null_count:
        raise RecipeError(f"Interactions column {name} has {column.null_count} null value(s).")
    encoded = pc.dictionary_encode(column.cast(pa.string()))
    ids = [str(v) for v in encoded.dictionary.to_pylist()]
    return ids, encoded.indices.to_numpy(zero_copy_only=False).astype(np.int32)


def encode_interactions(
    table: pa.Table,
    *,
    event_type: str | None = None,
    event_value_threshold: str | None = None,
    events: Sequence[EventParameter] = (),
) -> Interactions:
    """Encode ids (pyarrow dictionary encoding), keep only the configured events, sort by user then time.

    eventType keeps only that type; eventValueThreshold keeps events whose EVENT_VALUE >= it (events
    without a value are dropped then), as Personalize documents for SolutionConfig. `events` (the
    eventsConfig) keeps only the listed event types, drops events below their type's threshold and
    weighs each event by its type's weight (see personalize_rules.events_config).
    """
    missing = [c for c in REQUIRED_COLUMNS if c not in table.column_names]
    if missing:
        raise RecipeError(f"Interactions data is missing required column(s): {', '.join(missing)}.")
    if event_type is not None:
        table = table.filter(pc.equal(table["EVENT_TYPE"], event_type))
    if event_value_threshold is not None:
        try:
            threshold = float(event_value_threshold)
        except ValueError as exc:
            raise RecipeError(
                f"Invalid eventValueThreshold: {event_value_threshold!r} is not a number."
            ) from exc
        if "EVENT_VALUE" not in table.column_names:
            raise RecipeError("eventValueThreshold is set but the Interactions data has no EVENT_VALUE.")
        values = pc.cast(table["EVENT_VALUE"], pa.float64())
        table = table.filter(pc.fill_null(pc.greater_equal(values, threshold), False))
    weights: npt.NDArray[np.float32] | None = None
    if events:
        table, weights = _apply_events_config(table, events)
    if table.num_rows == 0:
        raise RecipeError("No interactions left to train on after applying eventType/eventValueThreshold.")
    user_ids, users = _encode(table["USER_ID"], "USER_ID")
    item_ids, items = _encode(table["ITEM_ID"], "ITEM_ID")
    stamps = table["TIMESTAMP"].combine_chunks()
    if stamps.null_count:
        raise RecipeError(f"Interactions column TIMESTAMP has {stamps.null_count} null value(s).")
    timestamps = stamps.cast(pa.int64()).to_numpy(zero_copy_only=False)
    # Stable sort by (user, timestamp): ties keep file order, so "oldest/newest" are well defined.
    order = np.lexsort((timestamps, users))
    return Interactions(
        user_ids,
        item_ids,
        users[order],
        items[order],
        timestamps[order],
        None if weights is None else weights[order],
    )


def _apply_events_config(
    table: pa.Table, events: Sequence[EventParameter]
) -> tuple[pa.Table, npt.NDArray[np.float32]]:
    """Rows of the listed event types with a non-zero weight (and EVENT_VALUE >= their threshold), and
    each row's weight over the largest weight: only the ratio between weights matters."""
    if any(p.event_value_threshold is not None for p in events) and "EVENT_VALUE" not in table.column_names:
        raise RecipeError(
            "eventsConfig sets an eventValueThreshold but the Interactions data has no EVENT_VALUE."
        )
    values = pc.cast(table["EVENT_VALUE"], pa.float64()) if "EVENT_VALUE" in table.column_names else None
    keep = pa.array([False] * table.num_rows)
    weights = np.zeros(table.num_rows, dtype=np.float32)
    top = max(p.weight for p in events)
    for param in events:
        if param.weight <= 0:
            continue
        rows = pc.equal(table["EVENT_TYPE"], param.event_type)
        if param.event_value_threshold is not None and values is not None:
            rows = pc.and_(rows, pc.greater_equal(values, param.event_value_threshold))
        rows = pc.fill_null(rows, False)
        weights[_bools(rows)] = param.weight / top
        keep = pc.or_(keep, rows)
    mask = _bools(keep)
    return table.filter(keep), weights[mask]


def _bools(column: pa.ChunkedArray | pa.Array) -> npt.NDArray[np.bool_]:
    if isinstance(column, pa.ChunkedArray):
        column = column.combine_chunks()
    return np.asarray(column.to_numpy(zero_copy_only=False), dtype=bool)
