"""The offline metrics Amazon Personalize reports for a solution version (GetSolutionMetrics), in one place.

The emulator computes them, its HPO accepts them as objectives, and the lifecycle scripts check the config
against them and report them; all read this tuple so the list cannot drift apart.
"""

from __future__ import annotations

__all__ = ["METRIC_NAMES", "SELECTED_CANDIDATE_KEY", "SELECTED_SCORE_KEY"]

# The order is the one the reports print and the emulator returns.
METRIC_NAMES: tuple[str, ...] = (
    "coverage",
    "mean_reciprocal_rank_at_25",
    "normalized_discounted_cumulative_gain_at_5",
    "normalized_discounted_cumulative_gain_at_10",
    "normalized_discounted_cumulative_gain_at_25",
    "precision_at_5",
    "precision_at_10",
    "precision_at_25",
)

# The local emulator's model selection, reported in a solution version's tunedHPOParams (Personalize's
# place for "the hyperparameter values of the best performing model"); real AWS versions have neither key.
SELECTED_CANDIDATE_KEY = "emulator_candidate"
SELECTED_SCORE_KEY = "emulator_candidate_validation_ndcg_at_10"
