"""Recommendation quality: the emulator's recipes against textbook baselines, scored independently.

Everything that scores here is this file's own: the split, the metric and the baselines; the emulator is
only asked to train (`recipes.train`) and to recommend (`recommend_ids`). Protocol (Personalize's own):
a seeded 10 % of users is held out; each keeps the oldest 90 % of their events (by timestamp) as given
history and their newest 10 % (at least one event) is what a list is scored against. Every model trains on
the other users' full histories plus the held-out users' given history.

Our choice on repeats: each held-out user's given items are left out of every list (as this project's
exclude-purchased filter does), and so out of the truth; a user whose newest events are all repeats is not
scored. Score: NDCG@10, averaged over scored users.

Baselines, computed here: EASE (lambda 500; skipped above BASELINE_EASE_MAX_ITEMS items), implicit ALS
(64 factors, 20 iterations, the library's defaults otherwise), item-kNN (cosine, k = 100) and popularity.
Datasets: Online Retail (converted from $BP_SHARED_DIR, skipped when absent) and four synthetic shapes
built here: a long-tail catalog, heavy repeat buying, short shopping sessions and drifting tastes.

Last line: `quality: min ratio <r> (<dataset> <x> vs <baseline> <y>), ...` where the ratio is the
emulator's user-personalization over the best baseline of the dataset. With several seeds, a dataset's
figures pool the scored users of every seed. Each ratio carries ± one standard error of the paired
per-user difference (emulator minus that baseline, over the baseline's mean): the held-out users are
few (10 %), so a ratio within about two of them of 1.0 is a tie, not a win or a loss.
Knobs (env): QUALITY_SEEDS (3: one seed's held-out users are too few to tell close models apart),
QUALITY_DATASETS (comma-separated names; all by default).
"""

from __future__ import annotations

import math
import os
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.csv as pacsv
import scipy.sparse as sp

K = 10
BASELINE_EASE_MAX_ITEMS = 12_000  # a dense float64 Gram matrix and its inverse: ~2.3 GB at 12,000
EMULATOR_RECIPES = ("aws-user-personalization", "aws-personalized-ranking", "aws-sims")


@dataclass(frozen=True)
class Split:
    """Encoded training rows (users x items, counts) and, per held-out user, given and scored items."""

    n_users: int
    n_items: int
    train_users: npt.NDArray[np.int64]
    train_items: npt.NDArray[np.int64]
    train_stamps: npt.NDArray[np.int64]
    held: npt.NDArray[np.int64]
    given: list[set[int]]
    truth: list[set[int]]


def split_users(
    users: npt.NDArray[np.int64], items: npt.NDArray[np.int64], stamps: npt.NDArray[np.int64], seed: int
) -> Split:
    order = np.lexsort((stamps, users))
    users, items, stamps = users[order], items[order], stamps[order]
    n_users, n_items = int(users.max()) + 1, int(items.max()) + 1
    rng = np.random.default_rng(seed)
    held = np.sort(rng.permutation(n_users)[: max(1, round(n_users * 0.1))])
    starts = np.searchsorted(users, np.arange(n_users + 1))
    keep = np.ones(users.size, dtype=bool)
    given, truth = [], []
    for user in held:
        lo, hi = int(starts[user]), int(starts[user + 1])
        cut = lo + min((9 * (hi - lo)) // 10, hi - lo - 1)
        keep[cut:hi] = False
        given.append(set(items[lo:cut].tolist()))
        truth.append(set(items[cut:hi].tolist()))
    return Split(n_users, n_items, users[keep], items[keep], stamps[keep], held, given, truth)


def ndcg_per_user(lists: list[list[int]], split: Split) -> list[float]:
    """NDCG@K of each scored held-out user (one with a new item in their truth), in held-out order."""
    out = []
    for ranked, given, truth in zip(lists, split.given, split.truth, strict=True):
        relevant = truth - given
        if not relevant:
            continue
        shown = [i for i in ranked if i not in given][:K]
        dcg = sum(1.0 / math.log2(p + 2) for p, i in enumerate(shown) if i in relevant)
        out.append(dcg / sum(1.0 / math.log2(p + 2) for p in range(min(K, len(relevant)))))
    return out


def paired_ratio(model: list[float], baseline: list[float]) -> tuple[float, float]:
    """mean(model) / mean(baseline) and the standard error of the paired per-user difference over
    mean(baseline) (both lists score the same users in the same order)."""
    a, b = np.asarray(model), np.asarray(baseline)
    base = float(b.mean()) if b.size else 0.0
    if base == 0.0:
        return float("inf"), 0.0
    diff = a - b
    se = float(diff.std(ddof=1) / math.sqrt(diff.size)) if diff.size > 1 else 0.0
    return float(a.mean()) / base, se / base


# ------------------------------------------------------------------ baselines
def _binary(split: Split) -> sp.csr_matrix:
    x = sp.csr_matrix(
        (np.ones(split.train_users.size, dtype=np.float32), (split.train_users, split.train_items)),
        shape=(split.n_users, split.n_items),
    )
    x.sum_duplicates()
    x.data[:] = 1.0
    return x


def _top_unseen(scores: npt.NDArray[np.floating], split: Split, rows: list[int]) -> list[list[int]]:
    out = []
    for r, given in zip(rows, split.given, strict=True):
        s = np.array(scores[r], dtype=np.float64)
        if given:
            s[list(given)] = -np.inf
        top = np.argpartition(-s, K)[:K] if s.size > K else np.arange(s.size)
        out.append(top[np.argsort(-s[top], kind="stable")].tolist())
    return out


def popularity(split: Split) -> list[list[int]]:
    counts = np.bincount(split.train_items, minlength=split.n_items).astype(np.float64)
    return _top_unseen(np.tile(counts, (len(split.held), 1)), split, list(range(len(split.held))))


def ease(split: Split, lam: float = 500.0) -> list[list[int]] | None:
    if split.n_items > BASELINE_EASE_MAX_ITEMS:
        return None
    x = _binary(split)
    g = (x.T @ x).toarray().astype(np.float64)
    g[np.diag_indices_from(g)] += lam
    p = np.linalg.inv(g)
    b = -p / np.diag(p)
    np.fill_diagonal(b, 0.0)
    scores = x[split.held] @ b
    return _top_unseen(np.asarray(scores), split, list(range(len(split.held))))


def als(split: Split, seed: int) -> list[list[int]]:
    from implicit.cpu.als import AlternatingLeastSquares
    from threadpoolctl import threadpool_limits

    x = _binary(split)
    with threadpool_limits(1, "blas"):
        model = AlternatingLeastSquares(factors=64, iterations=20, random_state=seed, num_threads=2)
        model.fit(x, show_progress=False)
    scores = np.asarray(model.user_factors)[split.held] @ np.asarray(model.item_factors).T
    return _top_unseen(scores, split, list(range(len(split.held))))


def item_knn(split: Split, k: int = 100) -> list[list[int]]:
    x = _binary(split)
    co = (x.T @ x).tocsr().astype(np.float64)
    co.setdiag(0)
    co.eliminate_zeros()
    norms = np.sqrt(np.asarray(x.sum(axis=0)).ravel())
    coo = co.tocoo()
    sim = sp.csr_matrix((coo.data / (norms[coo.row] * norms[coo.col]), (coo.row, coo.col)), shape=co.shape)
    rows, cols, vals = [], [], []
    for i in range(sim.shape[0]):  # each item's k most similar items
        lo, hi = sim.indptr[i], sim.indptr[i + 1]
        c, v = sim.indices[lo:hi], sim.data[lo:hi]
        if c.size > k:
            keep = np.argpartition(-v, k - 1)[:k]
            c, v = c[keep], v[keep]
        rows.append(np.full(c.size, i))
        cols.append(c)
        vals.append(v)
    top_k = sp.csr_matrix(
        (np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))), shape=sim.shape
    )
    scores = (x[split.held] @ top_k).toarray()
    return _top_unseen(scores, split, list(range(len(split.held))))


# ------------------------------------------------------------------ the emulator
def emulator(recipe: str, split: Split, seed: int) -> tuple[list[list[int]], str]:
    from local_stack.personalize.recipes import TrainingData, train

    table = pa.table(
        {
            "USER_ID": pa.array([f"u{u}" for u in split.train_users.tolist()], pa.string()),
            "ITEM_ID": pa.array([f"i{i}" for i in split.train_items.tolist()], pa.string()),
            "TIMESTAMP": pa.array(split.train_stamps, pa.int64()),
            "EVENT_TYPE": pa.array(["Purchase"] * split.train_users.size, pa.string()),
        }
    )
    model = train(recipe, TrainingData(table), seed=seed)
    longest = max((len(g) for g in split.given), default=0)
    lists = model.recommend_ids([f"u{u}" for u in split.held.tolist()], K + longest)
    return [[int(i[1:]) for i in ranked] for ranked in lists], model.candidate


# ------------------------------------------------------------------ datasets
Data = tuple[npt.NDArray[np.int64], npt.NDArray[np.int64], npt.NDArray[np.int64]]


def _zipf_weights(n: int, a: float) -> npt.NDArray[np.float64]:
    w = 1.0 / np.arange(1, n + 1) ** a
    return w / w.sum()


def long_tail(rng: np.random.Generator) -> Data:
    """8,000 items with Zipf popularity; 40 tastes own overlapping item sets; 60 % of events follow taste."""
    n_users, n_items, tastes = 6_000, 8_000, 40
    pop = _zipf_weights(n_items, 1.05)
    taste_items = [
        rng.choice(n_items, 300, replace=False, p=np.sqrt(pop) / np.sqrt(pop).sum()) for _ in range(tastes)
    ]
    lengths = np.clip(rng.lognormal(2.4, 0.8, n_users).astype(int), 3, 200)
    users = np.repeat(np.arange(n_users), lengths)
    taste = rng.integers(tastes, size=n_users)[users]
    own = rng.random(users.size) < 0.6
    within = np.minimum(rng.zipf(1.3, users.size) - 1, 299)
    items = np.where(own, np.array(taste_items)[taste, within], rng.choice(n_items, users.size, p=pop))
    return users, items, _stamps(rng, lengths)


def heavy_repeat(rng: np.random.Generator) -> Data:
    """2,000 items in 25 groups; each user re-buys their own favourites in 70 % of events."""
    n_users, n_items, groups = 4_000, 2_000, 25
    block = n_items // groups
    lengths = np.clip(rng.lognormal(2.8, 0.6, n_users).astype(int), 4, 150)
    users_out, items_out = [], []
    for u in range(n_users):
        g = rng.integers(groups)
        favourites = g * block + rng.choice(block, 6, replace=False)
        seq: list[int] = []
        for _ in range(lengths[u]):
            if seq and rng.random() < 0.7:
                seq.append(int(rng.choice(favourites)) if rng.random() < 0.6 else int(rng.choice(seq)))
            elif rng.random() < 0.8:
                seq.append(int(g) * block + min(int(rng.zipf(1.4)) - 1, block - 1))
            else:
                seq.append(int(rng.integers(n_items)))
        users_out += [u] * len(seq)
        items_out += seq
    return np.asarray(users_out), np.asarray(items_out), _stamps(rng, lengths)


def short_sessions(rng: np.random.Generator) -> Data:
    """3,000 items; 20,000 users with 2-6 events each walking item-to-item successor links (70 %)."""
    n_users, n_items = 20_000, 3_000
    pop = _zipf_weights(n_items, 0.9)
    successors = rng.choice(n_items, (n_items, 4), p=pop)
    lengths = rng.integers(2, 7, n_users)
    users_out, items_out = [], []
    for u in range(n_users):
        item = int(rng.choice(n_items, p=pop))
        for _ in range(lengths[u]):
            users_out.append(u)
            items_out.append(item)
            item = (
                int(successors[item, rng.integers(4)])
                if rng.random() < 0.7
                else int(rng.choice(n_items, p=pop))
            )
    return np.asarray(users_out), np.asarray(items_out), _stamps(rng, lengths)


def drifting(rng: np.random.Generator) -> Data:
    """3,000 items in 20 groups; each user's taste moves to another group halfway through their history."""
    n_users, n_items, groups = 4_000, 3_000, 20
    block = n_items // groups
    lengths = np.clip(rng.lognormal(2.7, 0.5, n_users).astype(int), 6, 120)
    users_out, items_out = [], []
    for u in range(n_users):
        first = int(rng.integers(groups))
        later = (first + 1) % groups if rng.random() < 0.7 else int(rng.integers(groups))
        for t in range(lengths[u]):
            g = first if t < lengths[u] // 2 else later
            pick = (
                g * block + min(int(rng.zipf(1.3)) - 1, block - 1)
                if rng.random() < 0.85
                else rng.integers(n_items)
            )
            users_out.append(u)
            items_out.append(int(pick))
    return np.asarray(users_out), np.asarray(items_out), _stamps(rng, lengths)


def _stamps(rng: np.random.Generator, lengths: npt.NDArray[np.int64]) -> npt.NDArray[np.int64]:
    """Increasing per user (each user's events in order), users interleaved over 90 days."""
    start = 1_700_000_000 + rng.integers(0, 45 * 86_400, lengths.size)
    steps = rng.integers(60, 86_400, int(lengths.sum()))
    offsets = np.concatenate(
        [np.cumsum(steps[a:b]) for a, b in zip(np.cumsum(lengths) - lengths, np.cumsum(lengths), strict=True)]
    )
    return np.repeat(start, lengths) + offsets


def online_retail(_rng: np.random.Generator) -> Data | None:
    from pipeline import online_retail as converter

    source = converter.default_source()
    if not source.exists():
        return None
    with tempfile.TemporaryDirectory() as tmp:
        path = converter.convert(source, Path(tmp))["interactions"]
        ids = {"USER_ID": pa.string(), "ITEM_ID": pa.string()}
        table = pacsv.read_csv(path, convert_options=pacsv.ConvertOptions(column_types=ids))
    users = np.unique(table["USER_ID"].to_numpy(), return_inverse=True)[1]
    items = np.unique(table["ITEM_ID"].to_numpy(), return_inverse=True)[1]
    return users.astype(np.int64), items.astype(np.int64), table["TIMESTAMP"].to_numpy().astype(np.int64)


DATASETS: dict[str, Callable[[np.random.Generator], Data | None]] = {
    "online-retail": online_retail,
    "long-tail": long_tail,
    "heavy-repeat": heavy_repeat,
    "short-sessions": short_sessions,
    "drifting": drifting,
}


def _baselines(split: Split, seed: int) -> dict[str, list[list[int]] | None]:
    return {
        "popularity": popularity(split),
        "ease": ease(split),
        "als": als(split, seed),
        "item-knn": item_knn(split),
    }


def main() -> int:
    seeds = int(os.environ.get("QUALITY_SEEDS") or 3)
    wanted = [d for d in (os.environ.get("QUALITY_DATASETS") or ",".join(DATASETS)).split(",") if d]
    worst: tuple[float, str, float, str, float] | None = None
    ratios: list[str] = []
    for name in wanted:
        per_user: dict[str, list[float]] = {}
        chosen: list[str] = []
        for seed in range(seeds):
            data = DATASETS[name](np.random.default_rng(100 + seed))
            if data is None:
                print(f"{name}: skipped (data not found)", flush=True)
                break
            users, items, stamps = data
            split = split_users(users, items, stamps, seed)
            for label, lists in _baselines(split, seed).items():
                if lists is not None:
                    per_user.setdefault(label, []).extend(ndcg_per_user(lists, split))
            for recipe in EMULATOR_RECIPES:
                started = time.monotonic()
                lists, candidate = emulator(recipe, split, seed)
                per_user.setdefault(recipe, []).extend(ndcg_per_user(lists, split))
                if recipe == EMULATOR_RECIPES[0]:
                    chosen.append(f"{candidate} ({time.monotonic() - started:.0f} s)")
        if not per_user:
            continue
        mean = {label: float(np.mean(v)) if v else 0.0 for label, v in per_user.items()}
        baselines = {k: v for k, v in mean.items() if k in ("popularity", "ease", "als", "item-knn")}
        best = max(baselines, key=lambda k: baselines[k])
        up = mean[EMULATOR_RECIPES[0]]
        ratio, error = paired_ratio(per_user[EMULATOR_RECIPES[0]], per_user[best])
        print(
            f"{name} ({users.size:,} events, {split.n_users:,} users, {split.n_items:,} items): NDCG@10 "
            + ", ".join(f"{k} {v:.4f}" for k, v in mean.items())
            + f"; user-personalization chose {', '.join(chosen)}; ratio {ratio:.3f} ± {error:.3f} vs {best}",
            flush=True,
        )
        ratios.append(f"{name} {ratio:.3f} ± {error:.3f}")
        if worst is None or ratio < worst[0]:
            worst = (ratio, name, up, best, baselines[best])
    if worst is None:
        print("quality: no dataset")
        return 1
    print(
        f"quality: min ratio {worst[0]:.3f} ({worst[1]} {worst[2]:.4f} vs {worst[3]} {worst[4]:.4f}), "
        f"ratios {', '.join(ratios)}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
