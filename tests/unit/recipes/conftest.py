"""Small synthetic interaction logs with a planted structure, built in memory."""

from __future__ import annotations

from collections.abc import Callable, Iterable

import numpy as np
import pyarrow as pa
import pytest

from local_stack.personalize.recipes import TrainingData

Row = tuple[str, str, int, str, float | None]
Build = Callable[[Iterable[Row]], TrainingData]


def build_data(rows: Iterable[Row]) -> TrainingData:
    users, items, stamps, types, values = zip(*rows, strict=True)
    table = pa.table(
        {
            "USER_ID": pa.array(users, pa.string()),
            "ITEM_ID": pa.array(items, pa.string()),
            "TIMESTAMP": pa.array(stamps, pa.int64()),
            "EVENT_TYPE": pa.array(types, pa.string()),
            "EVENT_VALUE": pa.array(values, pa.float32()),
        }
    )
    return TrainingData(table)


@pytest.fixture
def build() -> Build:
    return build_data


@pytest.fixture(scope="session")
def two_groups() -> TrainingData:
    """80 users in group a buy only a0..a19, 80 in group b only b0..b19 (popular items first)."""
    rng = np.random.default_rng(3)
    rows: list[Row] = []
    for group in ("a", "b"):
        for u in range(80):
            picks = rng.choice(20, size=12, replace=False, p=_zipf(20))
            for t, item in enumerate(picks):
                rows.append((f"{group}-user{u}", f"{group}{item}", 1_700_000_000 + t * 60, "Purchase", 1.0))
    return build_data(rows)


def _zipf(n: int) -> np.ndarray:
    weights = 1.0 / np.arange(1, n + 1) ** 0.7
    return weights / weights.sum()
