"""Item-to-item score matrices (sparse, top-k per row) behind the neighbor-based candidates.

Each builder turns encoded interactions into S (n_items x n_items, CSR, float32): a user's score for item j
is sum_i w_i * S[i, j] over the user's recent items i with weights w (see models.NeighborModel).
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import scipy.linalg
import scipy.linalg.lapack
import scipy.sparse as sp

from local_stack.personalize.recipes.data import Interactions
from personalize_rules.recipe_specs import RecipeError

__all__ = [
    "EASE_MAX_ITEMS",
    "MAX_USER_EVENTS",
    "cooccurrence_scores",
    "ease_scores",
    "keep_top_per_row",
    "transition_scores",
    "user_item_binary",
]

# EASE inverts a dense n x n Gram matrix: ~n^3 flops and n^2 floats. At 3,000 items that is 36 MB per
# float32 copy (about 150 MB peak with the weights) and about a second on 2 cores; at 5,000 it was 5-10 s
# a fit, too slow for three lambdas inside the training-time budget. Larger catalogs get EASE over their
# 3,000 most interacted-with items (the long tail keeps its kNN and ALS candidates).
EASE_MAX_ITEMS = 3_000
MAX_USER_EVENTS = 500  # newest events per user counted in co-occurrence (bounds the quadratic cost)


def user_item_binary(data: Interactions, rows: npt.NDArray[np.bool_] | None = None) -> sp.csr_matrix:
    """1 where the user interacted with the item (within `rows`, and the user's newest MAX_USER_EVENTS).

    With eventsConfig weights, the entry is the heaviest weight among the user's events on the item."""
    bounds = data.user_bounds()
    from_newest = bounds[data.users + 1] - 1 - np.arange(len(data))
    keep = from_newest < MAX_USER_EVENTS
    if rows is not None:
        keep &= rows
    users, items = data.users[keep], data.items[keep]
    if data.weights is None:
        matrix = sp.csr_matrix(
            (np.ones(users.size, dtype=np.float32), (users, items)), shape=(data.n_users, data.n_items)
        )
        matrix.sum_duplicates()
        matrix.data[:] = 1.0
        return matrix
    weights = data.weights[keep]
    # Heaviest first within each (user, item): the first of each pair is its maximum.
    order = np.lexsort((-weights, items, users))
    users, items, weights = users[order], items[order], weights[order]
    first = np.ones(users.size, dtype=bool)
    first[1:] = (users[1:] != users[:-1]) | (items[1:] != items[:-1])
    matrix = sp.csr_matrix(
        (weights[first].astype(np.float32), (users[first], items[first])), shape=(data.n_users, data.n_items)
    )
    matrix.eliminate_zeros()
    return matrix


def keep_top_per_row(scores: sp.csr_matrix, k: int) -> sp.csr_matrix:
    """The k largest positive entries of each row (the rest dropped)."""
    scores = scores.tocsr()
    scores.data[scores.data <= 0] = 0
    scores.eliminate_zeros()
    indptr = [0]
    cols_out: list[npt.NDArray[np.int32]] = []
    vals_out: list[npt.NDArray[np.float32]] = []
    for i in range(scores.shape[0]):
        lo, hi = scores.indptr[i], scores.indptr[i + 1]
        cols, vals = scores.indices[lo:hi], scores.data[lo:hi]
        if cols.size > k:
            part = np.argpartition(-vals, k - 1)[:k]
            cols, vals = cols[part], vals[part]
        cols_out.append(cols.astype(np.int32))
        vals_out.append(vals.astype(np.float32))
        indptr.append(indptr[-1] + cols.size)
    return sp.csr_matrix(
        (
            np.concatenate(vals_out) if vals_out else np.empty(0, np.float32),
            np.concatenate(cols_out) if cols_out else np.empty(0, np.int32),
            np.asarray(indptr, dtype=np.int64),
        ),
        shape=scores.shape,
    )


def cooccurrence_scores(
    binary: sp.csr_matrix, *, discount: float, min_count: int = 1, k: int = 100
) -> sp.csr_matrix:
    """c_ij / (n_i * n_j)^(discount/2): discount 0 raw co-occurrence counts, 1 cosine similarity."""
    users_per_item = np.asarray(binary.sum(axis=0)).ravel()
    co = (binary.T @ binary).tocsr()
    co.setdiag(0)
    co.eliminate_zeros()
    if min_count > 1:
        co.data[co.data < min_count] = 0
        co.eliminate_zeros()
    coo = co.tocoo()
    denom = np.power(users_per_item[coo.row] * users_per_item[coo.col], discount / 2.0)
    scores = sp.csr_matrix((coo.data / denom, (coo.row, coo.col)), shape=co.shape, dtype=np.float32)
    return keep_top_per_row(scores, k)


def ease_scores(binary: sp.csr_matrix, *, regularization: float, k: int = 200) -> sp.csr_matrix:
    """EASE (Steck 2019): B = I - P diagMat(1/diag(P)), P = (X^T X + lambda I)^-1, diag(B) = 0.

    Over the EASE_MAX_ITEMS most interacted-with items when the catalog is larger (the rest keep no
    EASE neighbors); float32 halves the memory and time of the inverse, ample at lambda >= 1.
    """
    counts = np.asarray(binary.sum(axis=0)).ravel()
    n_items = binary.shape[1]
    kept: npt.NDArray[np.intp] = np.arange(n_items)
    if n_items > EASE_MAX_ITEMS:
        kept = np.sort(np.argsort(-counts, kind="stable")[:EASE_MAX_ITEMS])
        binary = binary[:, kept]
    gram = (binary.T @ binary).toarray().astype(np.float32)
    gram[np.diag_indices_from(gram)] += np.float32(regularization)
    # X^T X + lambda I is symmetric positive definite: Cholesky and its inverse (LAPACK potrf/potri) cost
    # half of a general inverse and fill one triangle, mirrored below.
    factor, info = scipy.linalg.lapack.spotrf(gram, lower=False, overwrite_a=True)
    if info == 0:
        inverse, info = scipy.linalg.lapack.spotri(factor, lower=False, overwrite_c=True)
    if info != 0:
        raise RecipeError(f"EASE could not invert the item Gram matrix (LAPACK info {info}).")
    inverse = np.triu(inverse) + np.triu(inverse, 1).T
    weights = -inverse / np.diag(inverse)[None, :]
    np.fill_diagonal(weights, 0.0)
    return _dense_top_per_row(weights, k, kept, n_items)


def _dense_top_per_row(
    weights: npt.NDArray[np.float32], k: int, kept: npt.NDArray[np.intp], n_items: int
) -> sp.csr_matrix:
    """The k largest-magnitude entries of each row of a dense matrix over the `kept` items, as CSR over
    the whole catalog. EASE's negative weights are kept: they push down items that substitute for what
    the user has (vectorised: converting a dense 3,000 x 3,000 matrix to sparse first is slow)."""
    k = min(k, weights.shape[1])
    top = np.argpartition(-np.abs(weights), k - 1, axis=1)[:, :k]
    values = np.take_along_axis(weights, top, axis=1)
    nonzero = values != 0
    rows = np.repeat(kept, nonzero.sum(axis=1))
    return sp.csr_matrix(
        (values[nonzero].astype(np.float32), (rows, kept[top[nonzero]])), shape=(n_items, n_items)
    )


def transition_scores(data: Interactions, *, window: int = 3, k: int = 100) -> sp.csr_matrix:
    """Counts of item i followed by item j within `window` later events of the same user, weighted 1/gap,
    normalised by sqrt(out_i * in_j) so a bestseller does not follow everything."""
    rows: list[npt.NDArray[np.int32]] = []
    cols: list[npt.NDArray[np.int32]] = []
    vals: list[npt.NDArray[np.float32]] = []
    for gap in range(1, window + 1):
        same_user = data.users[gap:] == data.users[:-gap]
        first, then = data.items[:-gap][same_user], data.items[gap:][same_user]
        differ = first != then
        rows.append(first[differ])
        cols.append(then[differ])
        # eventsConfig: a transition counts as much as the event it leads to weighs.
        target = data.event_weights()[gap:][same_user][differ]
        vals.append((target / gap).astype(np.float32))
    counts = sp.csr_matrix(
        (np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))),
        shape=(data.n_items, data.n_items),
    )
    counts.sum_duplicates()
    out_total = np.asarray(counts.sum(axis=1)).ravel()
    in_total = np.asarray(counts.sum(axis=0)).ravel()
    coo = counts.tocoo()
    denom = np.sqrt(out_total[coo.row] * in_total[coo.col])
    scores = sp.csr_matrix((coo.data / denom, (coo.row, coo.col)), shape=counts.shape, dtype=np.float32)
    return keep_top_per_row(scores, k)
