"""Small valid datasets built in tmp_path (a few thousand rows) and helpers to plant one defect."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from pipeline.config import load_dataset_schemas

BASE_TS = 1_600_000_000
USERS = 100
ITEMS = 60
PER_USER = 20  # 2,000 interactions: above every Personalize minimum


def interaction_lines(purchases_every: int = 5) -> list[str]:
    lines = ["USER_ID,ITEM_ID,TIMESTAMP,EVENT_TYPE,EVENT_VALUE"]
    n = 0
    for u in range(USERS):
        for k in range(PER_USER):
            event = "Purchase" if n % purchases_every == 0 else "View"
            value = f"{(n % 7) + 0.5}" if n % 3 else ""
            lines.append(f"user-{u},item-{(u * 7 + k) % ITEMS},{BASE_TS + n * 37},{event},{value}")
            n += 1
    return lines


def user_lines() -> list[str]:
    lines = ["USER_ID,AGE,MEMBERSHIP_TIER,COUNTRY"]
    tiers = ["gold", "silver", "bronze|trial", ""]
    for u in range(USERS):
        age = "" if u % 9 == 0 else str(18 + u % 50)
        lines.append(f"user-{u},{age},{tiers[u % 4]},{'DE' if u % 2 else 'FR'}")
    return lines


def item_lines() -> list[str]:
    lines = ["ITEM_ID,CATEGORY_L1,CATEGORY_L2,PRICE,CREATION_TIMESTAMP,NAME,URL,IMAGE,DESCRIPTION"]
    for i in range(ITEMS):
        lines.append(
            f"item-{i},cat-{i % 5},sub-{i % 11}|extra,{(i % 40) + 0.99},{BASE_TS - 86400 * i},"
            f'"Mug, blue {i}",https://shop.example.com/p/{i},https://img.example.com/{i}.jpg,'
            f'"A ""nice"" mug,\nmade of clay {i}"'
        )
    return lines


def write(path: Path, lines: list[str], *, newline: str = "\n", prefix: bytes = b"") -> Path:
    path.write_bytes(prefix + (newline.join(lines) + newline).encode("utf-8"))
    return path


@pytest.fixture(scope="session")
def data() -> SimpleNamespace:
    """The builders, for tests (conftest can't be imported under --import-mode=importlib)."""
    return SimpleNamespace(
        interactions=interaction_lines, users=user_lines, items=item_lines, write=write, base_ts=BASE_TS
    )


@pytest.fixture(scope="session")
def schemas() -> dict[str, dict[str, Any]]:
    return load_dataset_schemas()


@pytest.fixture
def dataset_dir(tmp_path: Path) -> Callable[..., Path]:
    """Write interactions/users/items (any of them replaced by given lines) into tmp_path/data."""

    def make(**overrides: list[str] | None) -> Path:
        root = tmp_path / "data"
        root.mkdir(exist_ok=True)
        defaults = {"interactions": interaction_lines(), "users": user_lines(), "items": item_lines()}
        for name, lines in (defaults | overrides).items():
            if lines is not None:
                write(root / f"{name}.csv", lines)
        return root

    return make
