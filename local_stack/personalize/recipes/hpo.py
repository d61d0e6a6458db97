"""Hyperparameter optimisation: seeded random search over an AWS HPOConfig's ranges."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from personalize_rules.metric_names import METRIC_NAMES
from personalize_rules.recipe_specs import RECIPE_HYPERPARAMETERS, RecipeError, algorithm_arn

__all__ = [
    "DEFAULT_MAX_TRAINING_JOBS",
    "DEFAULT_OBJECTIVE",
    "HpoPlan",
    "plan_search",
]

DEFAULT_MAX_TRAINING_JOBS = 4  # ours: small, so a local HPO run stays quick
DEFAULT_OBJECTIVE = ("Maximize", "normalized_discounted_cumulative_gain_at_25")
MAX_TRAINING_JOBS_LIMIT = 40


@dataclass(frozen=True)
class HpoPlan:
    """The trials to run (hyperparameter maps of strings), the objective, and the tuned names."""

    trials: list[dict[str, str]]
    maximize: bool
    metric: str
    tuned_names: tuple[str, ...]

    def better(self, candidate: float, best: float | None) -> bool:
        if best is None:
            return True
        return candidate > best if self.maximize else candidate < best


def _int(value: Any, what: str) -> int:
    try:
        return int(str(value))
    except ValueError:
        raise RecipeError(f"Invalid value for {what}: {value!r} is not an integer.") from None


def _float(value: Any, what: str) -> float:
    try:
        return float(str(value))
    except ValueError:
        raise RecipeError(f"Invalid value for {what}: {value!r} is not a number.") from None


def _default_ranges(recipe: str) -> dict[str, Any]:
    """Without ranges, search every tunable integer/continuous hyperparameter over its documented range."""
    ranges: dict[str, list[dict[str, Any]]] = {
        "integerHyperParameterRanges": [],
        "continuousHyperParameterRanges": [],
        "categoricalHyperParameterRanges": [],
    }
    for spec in RECIPE_HYPERPARAMETERS[recipe].values():
        if not spec.tunable:
            continue
        if spec.kind == "integer":
            ranges["integerHyperParameterRanges"].append(
                {
                    "name": spec.name,
                    "minValue": int(spec.min_value or 0),
                    "maxValue": int(spec.max_value or 0),
                }
            )
        elif spec.kind == "continuous":
            ranges["continuousHyperParameterRanges"].append(
                {"name": spec.name, "minValue": spec.min_value, "maxValue": spec.max_value}
            )
    return ranges


def plan_search(
    recipe: str, base: Mapping[str, str], hpo_config: Mapping[str, Any] | None, seed: int
) -> HpoPlan:
    """Draw up to maxNumberOfTrainingJobs distinct trials from the ranges (seeded), each on top of `base`."""
    config = dict(hpo_config or {})
    specs = RECIPE_HYPERPARAMETERS[recipe]
    objective = config.get("hpoObjective") or {}
    direction = str(objective.get("type", DEFAULT_OBJECTIVE[0]))
    metric = str(objective.get("metricName", DEFAULT_OBJECTIVE[1]))
    if direction not in ("Maximize", "Minimize"):
        raise RecipeError(f"Invalid hpoObjective type {direction!r}: must be Maximize or Minimize.")
    if metric not in METRIC_NAMES:
        supported = ", ".join(METRIC_NAMES)
        raise RecipeError(f"Invalid hpoObjective metricName {metric!r}. Supported: {supported}.")
    resources = config.get("hpoResourceConfig") or {}
    jobs = _int(
        resources.get("maxNumberOfTrainingJobs", DEFAULT_MAX_TRAINING_JOBS), "maxNumberOfTrainingJobs"
    )
    if not 1 <= jobs <= MAX_TRAINING_JOBS_LIMIT:
        raise RecipeError(
            f"maxNumberOfTrainingJobs must be between 1 and {MAX_TRAINING_JOBS_LIMIT}, got {jobs}."
        )
    ranges = config.get("algorithmHyperParameterRanges") or _default_ranges(recipe)

    samplers: list[tuple[str, Any]] = []
    for kind, key in (
        ("integer", "integerHyperParameterRanges"),
        ("continuous", "continuousHyperParameterRanges"),
        ("categorical", "categoricalHyperParameterRanges"),
    ):
        for entry in ranges.get(key) or []:
            name = str(entry.get("name", ""))
            spec = specs.get(name)
            if spec is None or not spec.tunable:
                tunable = ", ".join(sorted(n for n, s in specs.items() if s.tunable)) or "none"
                raise RecipeError(
                    f"Provide a hyperparameter that is used in the algorithm: {algorithm_arn(recipe)}. "
                    f"{name!r} cannot be tuned; tunable hyperparameters: {tunable}."
                )
            if kind == "categorical":
                values = [str(v) for v in entry.get("values") or []]
                if not values:
                    raise RecipeError(f"categoricalHyperParameterRanges for {name} has no values.")
                for value in values:
                    spec.parse(value)
                samplers.append((name, values))
                continue
            conv = _int if kind == "integer" else _float
            low, high = (
                conv(entry.get("minValue"), f"{name} minValue"),
                conv(entry.get("maxValue"), f"{name} maxValue"),
            )
            if low > high:
                raise RecipeError(
                    f"Invalid range for {name}: minValue {low} is greater than maxValue {high}."
                )
            spec.parse(str(low))
            spec.parse(str(high))
            samplers.append((name, (kind, low, high)))
    if not samplers:
        raise RecipeError(f"performHPO is true but recipe {recipe} has no hyperparameter ranges to search.")

    rng = np.random.default_rng(seed)
    trials: list[dict[str, str]] = []
    seen: set[tuple[str, ...]] = set()
    for _ in range(jobs * 20):  # distinct trials; small discrete spaces may hold fewer than `jobs`
        if len(trials) == jobs:
            break
        trial = dict(base)
        for name, sampler in samplers:
            if isinstance(sampler, list):
                trial[name] = sampler[int(rng.integers(len(sampler)))]
            elif sampler[0] == "integer":
                trial[name] = str(int(rng.integers(sampler[1], sampler[2] + 1)))
            else:
                trial[name] = repr(round(float(rng.uniform(sampler[1], sampler[2])), 6))
        signature = tuple(trial[name] for name, _ in samplers)
        if signature not in seen:
            seen.add(signature)
            trials.append(trial)
    return HpoPlan(trials, direction == "Maximize", metric, tuple(name for name, _ in samplers))
