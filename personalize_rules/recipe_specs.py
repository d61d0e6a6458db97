"""Each Personalize recipe's hyperparameters as AWS documents them: type, default, range, HPO-tunable.

The pipeline checks the config against these before any AWS call; the emulator trains with them."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

from personalize_rules.errors import RulesError

__all__ = [
    "LEGACY_NAMES",
    "MAX_CATALOG_ITEMS",
    "RECIPE_HYPERPARAMETERS",
    "RECIPE_NAMES",
    "HyperParameterSpec",
    "RecipeError",
    "ResolvedHyperparameters",
    "algorithm_arn",
    "recipe_name_from_arn",
    "resolve_hyperparameters",
]

Kind = Literal["integer", "continuous", "boolean", "categorical"]


class RecipeError(RulesError, ValueError):
    """Bad training input (hyperparameters, HPO config, data), worded like Personalize's errors;
    the emulator answers it as InvalidInputException."""

    code = "InvalidInputException"

    def __init__(self, message: str) -> None:
        super().__init__("training input", message, message)
        self.message = message


@dataclass(frozen=True)
class HyperParameterSpec:
    """One hyperparameter: kind, default (as Personalize writes it), documented range, HPO-tunable."""

    name: str
    kind: Kind
    default: str
    min_value: float | None = None
    max_value: float | None = None
    values: tuple[str, ...] = ()
    tunable: bool = False

    def parse(self, raw: str) -> float | int | bool | str:
        """The value as a Python number/bool/str; raises RecipeError worded like AWS when invalid."""
        text = str(raw).strip()
        try:
            if self.kind == "integer":
                value: float | int | bool | str = int(text)
            elif self.kind == "continuous":
                value = float(text)
                if not math.isfinite(value):
                    raise ValueError(text)
            elif self.kind == "boolean":
                if text.lower() not in ("true", "false"):
                    raise ValueError(text)
                return text.lower() == "true"
            else:
                if text not in self.values:
                    raise ValueError(text)
                return text
        except ValueError:
            raise RecipeError(
                f"Invalid value for hyperparameter {self.name}: {raw!r}. Expected {self.describe()}."
            ) from None
        assert isinstance(value, int | float)
        if (self.min_value is not None and value < self.min_value) or (
            self.max_value is not None and value > self.max_value
        ):
            raise RecipeError(
                f"Hyperparameter {self.name} with value {raw} is out of range. Expected {self.describe()}."
            )
        return value

    def describe(self) -> str:
        if self.kind in ("integer", "continuous"):
            low = "-inf" if self.min_value is None else _fmt(self.min_value, self.kind)
            high = "inf" if self.max_value is None else _fmt(self.max_value, self.kind)
            return f"an {self.kind} value in range [{low}, {high}]"
        if self.kind == "boolean":
            return "one of [true, false]"
        return f"one of [{', '.join(self.values)}]"


def _fmt(value: float, kind: Kind) -> str:
    return str(int(value)) if kind == "integer" else str(value)


def _specs(*specs: HyperParameterSpec) -> dict[str, HyperParameterSpec]:
    return {s.name: s for s in specs}


_HISTORY = (
    HyperParameterSpec("min_user_history_length_percentile", "continuous", "0.0", 0.0, 1.0),
    HyperParameterSpec("max_user_history_length_percentile", "continuous", "0.99", 0.0, 1.0),
)
_USER_PERSONALIZATION = _specs(
    HyperParameterSpec("hidden_dimension", "integer", "149", 32, 256, tunable=True),
    HyperParameterSpec("bptt", "integer", "32", 2, 32, tunable=True),
    HyperParameterSpec("recency_mask", "boolean", "true", tunable=True),
    *_HISTORY,
    HyperParameterSpec("exploration_weight", "continuous", "0.3", 0.0, 1.0),
    HyperParameterSpec("exploration_item_age_cut_off", "continuous", "30.0", 0.0, None),
)
_V2 = _specs(
    HyperParameterSpec("apply_recency_bias", "boolean", "true"),
    HyperParameterSpec("hidden_dimension", "integer", "64", 32, 256, tunable=True),
    *_HISTORY,
)
_RANKING = _specs(
    HyperParameterSpec("hidden_dimension", "integer", "149", 32, 256, tunable=True),
    HyperParameterSpec("bptt", "integer", "32", 2, 32, tunable=True),
    HyperParameterSpec("recency_mask", "boolean", "true", tunable=True),
    *_HISTORY,
)
_SIMS = _specs(
    HyperParameterSpec("popularity_discount_factor", "continuous", "0.5", 0.0, 1.0, tunable=True),
    HyperParameterSpec("min_cointeraction_count", "integer", "3", 0, 10, tunable=True),
    HyperParameterSpec("min_user_history_length_percentile", "continuous", "0.005", 0.0, 1.0),
    HyperParameterSpec("max_user_history_length_percentile", "continuous", "0.995", 0.0, 1.0),
    HyperParameterSpec("min_item_interaction_count_percentile", "continuous", "0.01", 0.0, 1.0),
    HyperParameterSpec("max_item_interaction_count_percentile", "continuous", "0.9", 0.0, 1.0),
)
_TRENDING = _specs(
    # Personalize sets this as the solution's "Trend discovery frequency"; we accept it here too.
    HyperParameterSpec(
        "trend_discovery_frequency",
        "categorical",
        "1 day",
        values=("30 minutes", "1 hour", "3 hours", "1 day"),
    ),
)

RECIPE_HYPERPARAMETERS: dict[str, dict[str, HyperParameterSpec]] = {
    "aws-user-personalization": _USER_PERSONALIZATION,
    "aws-user-personalization-v2": _V2,
    "aws-personalized-ranking": _RANKING,
    "aws-personalized-ranking-v2": _V2,
    "aws-sims": _SIMS,
    "aws-popularity-count": {},
    "aws-trending-now": _TRENDING,
}
RECIPE_NAMES: tuple[str, ...] = tuple(RECIPE_HYPERPARAMETERS)

# "It can consider up to 5 million items" (User-Personalization-v2 and Personalized-Ranking-v2 recipe
# pages of the Personalize developer guide): the items a v2 solution version trains on, at most.
MAX_CATALOG_ITEMS: dict[str, int] = {
    "aws-user-personalization-v2": 5_000_000,
    "aws-personalized-ranking-v2": 5_000_000,
}

_ARN_PREFIX = "arn:aws:personalize:::recipe/"
LEGACY_NAMES: dict[str, str] = {
    "min_hist_length_percentile": "min_user_history_length_percentile",
    "max_hist_length_percentile": "max_user_history_length_percentile",
}


def algorithm_arn(recipe: str) -> str:
    """The algorithm ARN Personalize names in its errors for a recipe."""
    return f"arn:aws:personalize:::algorithm/{recipe}"


def recipe_name_from_arn(recipe: str) -> str:
    """'arn:aws:personalize:::recipe/aws-sims' or 'aws-sims' -> 'aws-sims'; unknown -> RecipeError."""
    name = recipe[len(_ARN_PREFIX) :] if recipe.startswith(_ARN_PREFIX) else recipe
    if name not in RECIPE_HYPERPARAMETERS:
        raise RecipeError(f"Recipe {recipe} is not supported. Supported recipes: {', '.join(RECIPE_NAMES)}.")
    return name


@dataclass(frozen=True)
class ResolvedHyperparameters:
    """Every hyperparameter of a recipe: the raw strings (defaults filled in) and the parsed values."""

    raw: dict[str, str]
    values: dict[str, float | int | bool | str]

    def number(self, name: str) -> float:
        value = self.values[name]
        assert isinstance(value, int | float)
        return float(value)

    def flag(self, name: str) -> bool:
        return bool(self.values[name])


def resolve_hyperparameters(recipe_name: str, given: Mapping[str, str] | None) -> ResolvedHyperparameters:
    """Check `given` against the recipe's documented hyperparameters and fill in the defaults."""
    recipe = recipe_name_from_arn(recipe_name)
    specs = RECIPE_HYPERPARAMETERS[recipe]
    # Older names Personalize still echoes back for the featurization hyperparameters.
    given = {LEGACY_NAMES.get(name, name): value for name, value in (given or {}).items()}
    unknown = sorted(set(given) - set(specs))
    if unknown:
        allowed = ", ".join(sorted(specs)) or "none"
        raise RecipeError(
            f"Provide a hyperparameter that is used in the algorithm: {algorithm_arn(recipe)}. "
            f"Unknown: {', '.join(unknown)}. Supported hyperparameters: {allowed}."
        )
    raw = {name: str(given.get(name, spec.default)) for name, spec in specs.items()}
    values = {name: specs[name].parse(text) for name, text in raw.items()}
    low = values.get("min_user_history_length_percentile")
    high = values.get("max_user_history_length_percentile")
    if isinstance(low, float) and isinstance(high, float) and low > high:
        raise RecipeError(
            f"min_user_history_length_percentile ({low}) must be less than or equal to "
            f"max_user_history_length_percentile ({high})."
        )
    return ResolvedHyperparameters(raw, values)
