"""GetPersonalizedRanking on users with grouped tastes: in-taste items rank above out-of-taste ones."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pytest

from local_stack.personalize.backend import PersonalizeBackend
from tests.emulator_setup import active_group, active_solution, import_interactions, trained_campaign

GROUPS, ITEMS_PER_GROUP, USERS_PER_GROUP = 4, 25, 60


def _csv(seed: int = 5) -> bytes:
    """Each user buys 12 items of their group's block (popular ones more), plus 10 % noise anywhere."""
    rng = np.random.default_rng(seed)
    weights = 1.0 / np.arange(1, ITEMS_PER_GROUP + 1) ** 0.8
    weights /= weights.sum()
    rows = ["USER_ID,ITEM_ID,TIMESTAMP,EVENT_TYPE,EVENT_VALUE"]
    for g in range(GROUPS):
        for u in range(USERS_PER_GROUP):
            for t in range(12):
                if rng.random() < 0.1:
                    item = f"g{rng.integers(GROUPS)}-i{rng.integers(ITEMS_PER_GROUP)}"
                else:
                    item = f"g{g}-i{rng.choice(ITEMS_PER_GROUP, p=weights)}"
                rows.append(f"g{g}-u{u},{item},{1_700_000_000 + 3600 * t + u},Purchase,")
    return ("\n".join(rows) + "\n").encode()


@pytest.fixture(scope="module")
def ranking_campaign() -> Iterator[tuple[PersonalizeBackend, str]]:
    mp = pytest.MonkeyPatch()
    mp.setenv("LOCAL_STACK_PERSONALIZE_STEP_SECONDS", "0.0")
    b = PersonalizeBackend("123456789012", "test-ranking-tastes")
    group = active_group(b)
    import_interactions(b, group, _csv())
    solution = active_solution(
        b,
        group,
        "aws-personalized-ranking",
        name="ranking",
        performAutoTraining=False,
        solutionConfig={"algorithmHyperParameters": {"hidden_dimension": "32"}},
    )
    _, campaign = trained_campaign(b, solution)
    yield b, campaign
    mp.undo()


def test_personalized_ranking_puts_in_taste_items_above_out_of_taste_ones(
    ranking_campaign: tuple[PersonalizeBackend, str],
) -> None:
    backend, campaign = ranking_campaign
    rng = np.random.default_rng(9)
    ordered = total = 0
    for g in range(GROUPS):
        for u in range(0, USERS_PER_GROUP, 6):
            own = [f"g{g}-i{i}" for i in rng.choice(ITEMS_PER_GROUP, 5, replace=False)]
            other = [
                f"g{(g + 1 + k % (GROUPS - 1)) % GROUPS}-i{rng.integers(ITEMS_PER_GROUP)}" for k in range(5)
            ]
            given = [*own, *other]
            rng.shuffle(given)
            ranked = backend.handle(
                "GetPersonalizedRanking",
                {"campaignArn": campaign, "userId": f"g{g}-u{u}", "inputList": given},
            )["personalizedRanking"]
            position = {item["itemId"]: pos for pos, item in enumerate(ranked)}
            assert sorted(position) == sorted(set(given))
            for a in own:
                for b in set(other):
                    total += 1
                    ordered += position[a] < position[b]
    assert ordered / total >= 0.95, f"{ordered}/{total} in-taste-above-out-of-taste pairs"
