"""A synthetic retail dataset (interactions, users, items) that imports into and trains Amazon Personalize.

Users have latent tastes (a few preferred leaf categories); items have a category, price, name, URL and
image, and Zipf-skewed popularity; sessions spread over six months walk a View -> AddToCart -> Purchase
funnel whose conversion is higher inside the user's tastes, so a collaborative model beats popularity.

Everything is drawn with numpy from one seed (same seed, same bytes) and written chunk by chunk with
pyarrow, so the large size (>= 5 M interactions) takes well under a minute and little memory.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO
from urllib.parse import urlsplit

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pcsv

from pipeline.config import load_config, load_dataset_schemas
from pipeline.errors import PipelineError

__all__ = [
    "CATALOG",
    "EVENT_TYPES",
    "SIZES",
    "SampleDataError",
    "SizeSpec",
    "fill_template",
    "generate_dataset",
    "image_url_template",
    "item_url_template",
    "main",
    "write_csv_table",
]

EVENT_TYPES: tuple[str, str, str] = ("View", "AddToCart", "Purchase")

# L1 -> (L2 -> noun used in item names), and a typical price per L1 (GBP).
CATALOG: dict[str, tuple[float, dict[str, str]]] = {
    "apparel": (24.0, {"t-shirt": "T-Shirt", "jumper": "Jumper", "jacket": "Jacket", "scarf": "Scarf"}),
    "footwear": (55.0, {"trainers": "Trainers", "boots": "Boots", "sandals": "Sandals"}),
    "home-decor": (
        18.0,
        {
            "candle": "Candle",
            "cushion": "Cushion",
            "frame": "Photo Frame",
            "clock": "Wall Clock",
            "lamp": "Lamp",
        },
    ),
    "kitchen": (12.0, {"mug": "Mug", "plate": "Plate", "teapot": "Teapot", "baking": "Baking Tin"}),
    "beauty": (15.0, {"lipstick": "Lipstick", "moisturiser": "Moisturiser", "perfume": "Perfume"}),
    "electronics": (45.0, {"headphones": "Headphones", "speaker": "Speaker", "charger": "Charger"}),
    "toys": (16.0, {"puzzle": "Puzzle", "plush": "Plush Toy", "building-set": "Building Set"}),
    "garden": (20.0, {"planter": "Planter", "seeds": "Seed Kit", "tools": "Garden Tools"}),
    "stationery": (6.0, {"notebook": "Notebook", "pen": "Pen Set", "card": "Greeting Card"}),
    "sports": (22.0, {"yoga-mat": "Yoga Mat", "water-bottle": "Water Bottle", "dumbbell": "Dumbbell"}),
}

_ADJECTIVES = (
    "Classic",
    "Vintage",
    "Modern",
    "Cosy",
    "Rustic",
    "Deluxe",
    "Everyday",
    "Handmade",
    "Eco",
    "Mini",
)
_COLOURS = ("Red", "Navy", "Sage", "Cream", "Charcoal", "Mustard", "Blush", "Teal", "White", "Black")
_COUNTRIES = ("GB", "US", "DE", "FR", "IE", "NL", "ES", "IT")
_COUNTRY_WEIGHTS = (0.45, 0.2, 0.1, 0.08, 0.06, 0.05, 0.03, 0.03)
_TIERS = ("bronze", "silver", "gold")

# Interactions happen in [WINDOW_START, WINDOW_START + WINDOW_DAYS); items are created before it.
WINDOW_START = 1_735_689_600  # 2025-01-01T00:00:00Z
WINDOW_DAYS = 182
_DAY = 86_400
# Relative traffic per hour of day (UTC): quiet nights, lunch and evening peaks.
_HOUR_WEIGHTS = np.array(
    [
        1,
        0.6,
        0.4,
        0.3,
        0.3,
        0.4,
        0.8,
        1.5,
        2.2,
        2.6,
        2.8,
        3.0,
        3.4,
        3.2,
        2.9,
        2.8,
        2.9,
        3.2,
        3.8,
        4.4,
        4.8,
        4.2,
        3.0,
        1.8,
    ]
)


@dataclass(frozen=True)
class SizeSpec:
    """How big a dataset is; interactions ≈ users × sessions × (views + carts + purchases per session)."""

    users: int
    items: int
    sessions_per_user: float
    views_per_session: float
    chunk_users: int


SIZES: dict[str, SizeSpec] = {
    "small": SizeSpec(
        users=1_000, items=500, sessions_per_user=8.0, views_per_session=3.0, chunk_users=1_000
    ),
    "large": SizeSpec(
        users=100_000, items=20_000, sessions_per_user=14.0, views_per_session=3.0, chunk_users=10_000
    ),
}

# Funnel: P(cart | view) inside / outside the user's tastes, P(purchase | cart).
_P_CART_IN_TASTE = 0.22
_P_CART_OFF_TASTE = 0.05
_P_PURCHASE = 0.45
_P_EXPLORE = 0.15  # a view outside the user's tastes, drawn by global category popularity
_P_SESSION_FOCUS = 0.7  # a view stays in the session's focus category
_ZIPF_EXPONENT = 1.0


class SampleDataError(PipelineError):
    """The sample data cannot be generated or written; says where and why."""


def item_url_template(config: dict[str, Any] | None = None) -> str:
    """The product page URL template (`{id}` placeholder) from config `api.item_url_template`."""
    config = config or load_config()
    return str(config["api"]["item_url_template"])


def image_url_template(url_template: str) -> str:
    """Image links live on the shop's host: `<scheme>://<host>/images/{id}.jpg`."""
    parts = urlsplit(url_template)
    return f"{parts.scheme}://{parts.netloc}/images/{{id}}.jpg"


def fill_template(template: str, ids: Sequence[str]) -> list[str]:
    """`template` with `{id}` replaced by each id (str.format would choke on other braces in a URL)."""
    head, sep, tail = template.partition("{id}")
    if not sep:
        raise SampleDataError("api.item_url_template", f"{template!r} has no {{id}} placeholder")
    return [f"{head}{i}{tail}" for i in ids]


def write_csv_table(
    sink: BinaryIO, table: pa.Table, *, header: bool, quote_strings: bool | None = None
) -> None:
    """Append `table` as CSV: a plain (unquoted) header line if asked, then rows.

    Strings are quoted only when `quote_strings` is true, or when it is None and some string holds a comma,
    quote or line break (pyarrow then quotes every string, which Personalize and any RFC 4180 reader accept).
    """
    if quote_strings is None:
        quote_strings = _needs_quoting(table)
    if header:
        sink.write((",".join(table.column_names) + "\n").encode("utf-8"))
    options = pcsv.WriteOptions(include_header=False, quoting_style="needed" if quote_strings else "none")
    pcsv.write_csv(table, sink, write_options=options)


def _needs_quoting(table: pa.Table) -> bool:
    for column in table.columns:
        if pa.types.is_string(column.type) or pa.types.is_large_string(column.type):
            hits = pc.match_substring_regex(column, r'[",\r\n]')
            if pc.any(hits).as_py():
                return True
    return False


def _ordered(table: pa.Table, schema: dict[str, Any], dataset_type: str) -> pa.Table:
    names = [f["name"] for f in schema["fields"]]
    missing = [n for n in names if n not in table.column_names]
    if missing:
        raise SampleDataError(f"{dataset_type} schema", f"generator has no column for fields {missing}")
    return table.select(names)


@dataclass(frozen=True)
class _World:
    """Users, items and tastes shared by every interaction chunk."""

    leaf_l1: np.ndarray  # leaf -> L1 index
    leaf_weight: np.ndarray  # global share of each leaf
    item_leaf: np.ndarray  # item -> leaf (items are sorted by leaf)
    item_price: np.ndarray
    leaf_cum: np.ndarray  # leaf + within-leaf cumulative popularity, for vectorised sampling
    user_leaves: np.ndarray  # (users, 3) preferred leaves
    user_cum: np.ndarray  # (users, 3) cumulative taste weights
    user_sessions: np.ndarray  # sessions per user
    user_first_day: np.ndarray


def _leaves() -> tuple[list[str], list[str], list[str], np.ndarray, np.ndarray]:
    l1s, l2s, nouns, leaf_l1, base = [], [], [], [], []
    for i, (l1, (price, children)) in enumerate(CATALOG.items()):
        for l2, noun in children.items():
            l1s.append(l1)
            l2s.append(l2)
            nouns.append(noun)
            leaf_l1.append(i)
            base.append(price)
    return l1s, l2s, nouns, np.array(leaf_l1), np.array(base)


def _build_world(spec: SizeSpec, rng: np.random.Generator) -> tuple[_World, pa.Table, pa.Table]:
    l1s, l2s, nouns, leaf_l1, leaf_base = _leaves()
    n_leaves = len(l2s)
    leaf_weight = rng.dirichlet(np.full(n_leaves, 4.0))

    # Items: leaf by leaf share, sorted so each leaf is a contiguous block.
    item_leaf = np.sort(rng.choice(n_leaves, size=spec.items, p=leaf_weight))
    # Zipf popularity over a random global rank.
    rank = rng.permutation(spec.items)
    popularity = 1.0 / (rank + 1.0) ** _ZIPF_EXPONENT
    leaf_total = np.bincount(item_leaf, weights=popularity, minlength=n_leaves)
    within = np.empty(spec.items)
    starts = np.searchsorted(item_leaf, np.arange(n_leaves))
    for leaf in range(n_leaves):
        lo, hi = starts[leaf], (starts[leaf + 1] if leaf + 1 < n_leaves else spec.items)
        within[lo:hi] = np.cumsum(popularity[lo:hi]) / max(leaf_total[leaf], 1e-12)
    leaf_cum = item_leaf + np.minimum(within, 1.0)
    # Leaves without items cannot be drawn: give their share to none (renormalise over stocked leaves).
    stocked = np.bincount(item_leaf, minlength=n_leaves) > 0
    leaf_weight = np.where(stocked, leaf_weight, 0.0)
    leaf_weight = leaf_weight / leaf_weight.sum()

    price = np.floor(leaf_base[item_leaf] * rng.lognormal(0.0, 0.45, spec.items)) + 0.99
    ids = [f"P{n:05d}" for n in rng.permutation(spec.items) + 1]
    adjective = rng.integers(0, len(_ADJECTIVES), spec.items)
    colour = rng.integers(0, len(_COLOURS), spec.items)
    names = [
        f"{_ADJECTIVES[a]} {_COLOURS[c]} {nouns[leaf]}"
        for a, c, leaf in zip(adjective.tolist(), colour.tolist(), item_leaf.tolist(), strict=True)
    ]
    created = WINDOW_START - rng.integers(_DAY, 730 * _DAY, spec.items)
    url = item_url_template()
    items = pa.table(
        {
            "ITEM_ID": ids,
            "CATEGORY_L1": [l1s[leaf] for leaf in item_leaf.tolist()],
            "CATEGORY_L2": [l2s[leaf] for leaf in item_leaf.tolist()],
            "PRICE": price,
            "CREATION_TIMESTAMP": created.astype(np.int64),
            "NAME": names,
            "URL": fill_template(url, ids),
            "IMAGE": fill_template(image_url_template(url), ids),
            "DESCRIPTION": [
                f"{name} from our {l1s[leaf].replace('-', ' ')} range."
                for name, leaf in zip(names, item_leaf.tolist(), strict=True)
            ],
        }
    )

    # Users: three preferred leaves (the second often in the first's L1), Dirichlet weights.
    first = rng.choice(n_leaves, size=spec.users, p=leaf_weight)
    random_second = rng.choice(n_leaves, size=spec.users, p=leaf_weight)
    sibling = _sibling_leaf(first, leaf_l1, leaf_weight, rng)
    second = np.where(rng.random(spec.users) < 0.6, sibling, random_second)
    third = rng.choice(n_leaves, size=spec.users, p=leaf_weight)
    user_leaves = np.stack([first, second, third], axis=1)
    user_cum = np.cumsum(rng.dirichlet([3.0, 1.5, 0.7], size=spec.users), axis=1)
    # Heavy-tailed activity: lognormal sessions with the requested mean, at least one.
    sigma = 0.8
    raw = rng.lognormal(np.log(spec.sessions_per_user) - sigma**2 / 2, sigma, spec.users)
    user_sessions = np.maximum(1, np.rint(raw)).astype(np.int64)
    user_first_day = rng.integers(0, WINDOW_DAYS - 30, spec.users)

    # Busier users tend to hold a higher tier; 15 % unknown; 8 % unknown age.
    activity_rank = np.argsort(np.argsort(user_sessions + rng.random(spec.users) * 4)) / spec.users
    tier_idx = np.digitize(activity_rank, [0.55, 0.85])
    tier_known = rng.random(spec.users) >= 0.15
    age = np.clip(np.rint(rng.normal(38, 12, spec.users)), 18, 85).astype(np.int32)
    users = pa.table(
        {
            "USER_ID": [f"U{n:06d}" for n in range(1, spec.users + 1)],
            "AGE": pa.array(age, mask=rng.random(spec.users) < 0.08),
            "MEMBERSHIP_TIER": pa.array(
                [_TIERS[t] for t in tier_idx.tolist()], type=pa.string(), mask=~tier_known
            ),
            "COUNTRY": pa.array(
                np.array(_COUNTRIES)[rng.choice(len(_COUNTRIES), spec.users, p=_COUNTRY_WEIGHTS)]
            ),
        }
    )
    world = _World(
        leaf_l1=leaf_l1,
        leaf_weight=leaf_weight,
        item_leaf=item_leaf,
        item_price=price,
        leaf_cum=leaf_cum,
        user_leaves=user_leaves,
        user_cum=user_cum,
        user_sessions=user_sessions,
        user_first_day=user_first_day,
    )
    return world, users, items


def _sibling_leaf(
    leaf: np.ndarray, leaf_l1: np.ndarray, leaf_weight: np.ndarray, rng: np.random.Generator
) -> np.ndarray:
    """A leaf in the same L1 as each given leaf (possibly itself), by leaf popularity."""
    out = np.empty_like(leaf)
    for l1 in np.unique(leaf_l1):
        members = np.flatnonzero(leaf_l1 == l1)
        weights = leaf_weight[members]
        if weights.sum() <= 0:
            weights = np.ones(len(members))
        rows = np.flatnonzero(leaf_l1[leaf] == l1)
        out[rows] = rng.choice(members, size=len(rows), p=weights / weights.sum())
    return out


def _pick_items(world: _World, leaf: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """One item per requested leaf, by Zipf popularity within the leaf."""
    idx = np.searchsorted(world.leaf_cum, leaf + rng.random(len(leaf)), side="left")
    return np.minimum(idx, len(world.leaf_cum) - 1)


def _interaction_chunk(
    world: _World, users: np.ndarray, rng: np.random.Generator, spec: SizeSpec
) -> dict[str, np.ndarray]:
    """Every session of `users` (indices), as parallel arrays sorted by time."""
    n_leaves = len(world.leaf_weight)
    sess_user = np.repeat(users, world.user_sessions[users])
    n_sess = len(sess_user)
    # Session start: a day in the user's active span, an hour by the daily traffic curve.
    first_day = world.user_first_day[sess_user]
    day = first_day + np.floor(rng.random(n_sess) * (WINDOW_DAYS - first_day)).astype(np.int64)
    hour = rng.choice(24, size=n_sess, p=_HOUR_WEIGHTS / _HOUR_WEIGHTS.sum())
    start = WINDOW_START + day * _DAY + hour * 3600 + rng.integers(0, 3600, n_sess)
    focus_slot = (rng.random(n_sess)[:, None] > world.user_cum[sess_user]).sum(axis=1)
    focus_slot = np.minimum(focus_slot, 2)
    focus = world.user_leaves[sess_user, focus_slot]

    n_views = 1 + rng.poisson(spec.views_per_session - 1, n_sess)
    v_sess = np.repeat(np.arange(n_sess), n_views)
    v_user = sess_user[v_sess]
    n_v = len(v_sess)
    # View leaf: the session focus, else another taste of the user, else exploration.
    slot = np.minimum((rng.random(n_v)[:, None] > world.user_cum[v_user]).sum(axis=1), 2)
    leaf = world.user_leaves[v_user, slot]
    leaf = np.where(rng.random(n_v) < _P_SESSION_FOCUS, focus[v_sess], leaf)
    explore = rng.random(n_v) < _P_EXPLORE
    leaf = np.where(explore, rng.choice(n_leaves, size=n_v, p=world.leaf_weight), leaf)
    item = _pick_items(world, leaf, rng)
    in_taste = (world.user_leaves[v_user] == world.item_leaf[item][:, None]).any(axis=1)
    # Views within a session ~1 minute apart.
    gaps = rng.exponential(60.0, n_v).astype(np.int64) + 5
    first_of_session = np.r_[0, np.cumsum(n_views)[:-1]]
    offsets = np.cumsum(gaps)
    offsets -= np.repeat(offsets[first_of_session] - gaps[first_of_session], n_views)
    v_time = start[v_sess] + offsets

    carted = rng.random(n_v) < np.where(in_taste, _P_CART_IN_TASTE, _P_CART_OFF_TASTE)
    c_idx = np.flatnonzero(carted)
    c_time = v_time[c_idx] + rng.integers(5, 180, len(c_idx))
    bought = rng.random(len(c_idx)) < _P_PURCHASE
    p_idx = c_idx[bought]
    p_time = c_time[bought] + rng.integers(30, 900, len(p_idx))

    user = np.concatenate([v_user, v_user[c_idx], v_user[p_idx]])
    items = np.concatenate([item, item[c_idx], item[p_idx]])
    ts = np.concatenate([v_time, c_time, p_time])
    etype = np.concatenate(
        [np.zeros(n_v, np.int8), np.ones(len(c_idx), np.int8), np.full(len(p_idx), 2, np.int8)]
    )
    order = np.lexsort((items, etype, user, ts))
    user, items, ts, etype = user[order], items[order], ts[order], etype[order]
    # Two overlapping sessions can repeat an event in the same second; Personalize would count it twice.
    repeat = np.r_[False, (user[1:] == user[:-1]) & (items[1:] == items[:-1]) & (ts[1:] == ts[:-1])]
    repeat &= np.r_[False, etype[1:] == etype[:-1]]
    keep = ~repeat
    return {"user": user[keep], "item": items[keep], "ts": ts[keep], "etype": etype[keep]}


def _interaction_tables(
    world: _World, spec: SizeSpec, seed: int, user_ids: pa.Array, item_ids: pa.Array
) -> Iterator[pa.Table]:
    events = pa.array(EVENT_TYPES)
    for chunk, lo in enumerate(range(0, spec.users, spec.chunk_users)):
        # Each chunk has its own stream, so chunks are independent and the output is reproducible.
        rng = np.random.default_rng(np.random.SeedSequence([seed, 1, chunk]))
        users = np.arange(lo, min(lo + spec.chunk_users, spec.users))
        arrays = _interaction_chunk(world, users, rng, spec)
        purchase = arrays["etype"] == 2
        yield pa.table(
            {
                "USER_ID": user_ids.take(pa.array(arrays["user"])),
                "ITEM_ID": item_ids.take(pa.array(arrays["item"])),
                "TIMESTAMP": pa.array(arrays["ts"], pa.int64()),
                "EVENT_TYPE": events.take(pa.array(arrays["etype"])),
                "EVENT_VALUE": pa.array(world.item_price[arrays["item"]], mask=~purchase),
            }
        )


def generate_dataset(out_dir: Path, size: str = "small", seed: int = 7) -> dict[str, Path]:
    """Write interactions.csv, users.csv and items.csv into `out_dir`; returns type -> path.

    Headers are the Avro field names in schema order; TIMESTAMP is Unix seconds; empty cells are nulls.
    """
    if size not in SIZES:
        raise SampleDataError("size", f"{size!r} is not one of {sorted(SIZES)}")
    return _generate(Path(out_dir), SIZES[size], seed)


def _generate(out_dir: Path, spec: SizeSpec, seed: int) -> dict[str, Path]:
    schemas = load_dataset_schemas()
    rng = np.random.default_rng(np.random.SeedSequence([seed, 0]))
    world, users, items = _build_world(spec, rng)
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = {t: out_dir / f"{t}.csv" for t in ("interactions", "users", "items")}
    for dataset_type, table in (("users", users), ("items", items)):
        with paths[dataset_type].open("wb") as sink:
            table = _ordered(table, schemas[dataset_type], dataset_type)
            write_csv_table(sink, table.sort_by(table.column_names[0]), header=True, quote_strings=False)
    with paths["interactions"].open("wb") as sink:
        chunks = _interaction_tables(world, spec, seed, users.column("USER_ID"), items.column("ITEM_ID"))
        for i, chunk in enumerate(chunks):
            table = _ordered(chunk, schemas["interactions"], "interactions")
            write_csv_table(sink, table, header=i == 0, quote_strings=False)
    return paths


def _count_rows(path: Path) -> int:
    with path.open("rb") as f:
        return sum(chunk.count(b"\n") for chunk in iter(lambda: f.read(1 << 20), b"")) - 1


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m pipeline.sample_data", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--size", choices=sorted(SIZES), default="small")
    parser.add_argument("--out", type=Path, required=True, help="directory for interactions/users/items.csv")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args(argv)
    began = time.perf_counter()
    try:
        paths = generate_dataset(args.out, args.size, args.seed)
    except (SampleDataError, OSError) as exc:
        print(f"sample-data: {exc}", file=sys.stderr)
        return 1
    elapsed = time.perf_counter() - began
    for dataset_type, path in paths.items():
        print(f"{dataset_type:<13} {_count_rows(path):>10,} rows  {path}")
    print(f"size {args.size}, seed {args.seed}: written in {elapsed:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
