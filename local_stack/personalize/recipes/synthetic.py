"""A fast synthetic interaction log with planted taste groups, for benchmarks and tests (no files)."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

__all__ = ["synthetic_interactions"]


def synthetic_interactions(
    n_users: int = 100_000,
    n_items: int = 20_000,
    n_interactions: int = 1_000_000,
    *,
    groups: int = 20,
    noise: float = 0.2,
    seed: int = 0,
    start: int = 1_700_000_000,
    days: int = 90,
) -> pa.Table:
    """USER_ID, ITEM_ID, TIMESTAMP, EVENT_TYPE, EVENT_VALUE rows: each user belongs to one of `groups`
    taste groups and picks heavy-tailed items of its group's block of the catalog (a `noise` share of
    events are uniform over the catalog). Ids are "u<n>" / "i<n>"; event types View (70%) and Purchase.
    """
    rng = np.random.default_rng(seed)
    user_group = rng.integers(groups, size=n_users)
    users = rng.integers(n_users, size=n_interactions)
    block = max(n_items // groups, 1)
    within = np.minimum((rng.pareto(1.2, size=n_interactions) * 5).astype(np.int64), block - 1)
    items = (user_group[users] * block + within) % n_items
    uniform = rng.random(n_interactions) < noise
    items[uniform] = rng.integers(n_items, size=int(uniform.sum()))
    stamps = start + rng.integers(0, 86_400 * days, size=n_interactions)
    purchase = rng.random(n_interactions) < 0.3
    return pa.table(
        {
            "USER_ID": pc.binary_join_element_wise("u", pa.array(users).cast(pa.string()), ""),
            "ITEM_ID": pc.binary_join_element_wise("i", pa.array(items).cast(pa.string()), ""),
            "TIMESTAMP": pa.array(stamps, pa.int64()),
            "EVENT_TYPE": pa.array(np.where(purchase, "Purchase", "View")),
            # Only purchases carry a value (their price); views have none.
            "EVENT_VALUE": pa.array(rng.uniform(1, 100, n_interactions), pa.float32(), mask=~purchase),
        }
    )
