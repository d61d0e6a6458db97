"""A solution's events configuration (SolutionConfig.eventsConfig / SolutionUpdateConfig.eventsConfig).

Documented in "Optimizing a solution with events configuration" (Personalize developer guide,
https://docs.aws.amazon.com/personalize/latest/dg/optimizing-solution-events-config.html) and the API
reference's EventsConfig / EventParameters pages:
- only the User-Personalization-v2 and Personalized-Ranking-v2 recipes take one;
- at most 10 event parameters; each names an event type (at most 256 characters), a weight in [0.0, 1.0]
  and optionally an event value threshold;
- list every event type the solution should train on: the others are left out of training;
- only the ratio between weights matters (purchase 0.3 / click 0.1 trains like 0.6 / 0.2);
- events of a type whose EVENT_VALUE is below its threshold are left out.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from personalize_rules.errors import RulesError

__all__ = [
    "EVENTS_CONFIG_RECIPES",
    "MAX_EVENT_PARAMETERS",
    "MAX_EVENT_TYPE_LENGTH",
    "EventParameter",
    "EventsConfigError",
    "parse_events_config",
]

EVENTS_CONFIG_RECIPES: tuple[str, ...] = ("aws-user-personalization-v2", "aws-personalized-ranking-v2")
MAX_EVENT_PARAMETERS = 10  # EventsConfig.eventParametersList: "Maximum number of 10 items"
MAX_EVENT_TYPE_LENGTH = 256  # EventParameters.eventType: "Maximum length of 256"
MIN_WEIGHT, MAX_WEIGHT = 0.0, 1.0  # EventParameters.weight: "Minimum value of 0. Maximum value of 1."


class EventsConfigError(RulesError, ValueError):
    """An eventsConfig Personalize refuses, worded like its InvalidInputException."""

    code = "InvalidInputException"

    def __init__(self, where: str, why: str) -> None:
        super().__init__(where, why, f"Invalid eventsConfig ({where}): {why}")


@dataclass(frozen=True)
class EventParameter:
    """One event type of the configuration: its weight and, when set, its event value threshold."""

    event_type: str
    weight: float
    event_value_threshold: float | None = None


def _number(value: Any, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise EventsConfigError(where, f"{value!r} is not a number")
    try:
        number = float(value)
    except ValueError:
        raise EventsConfigError(where, f"{value!r} is not a number") from None
    if not math.isfinite(number):
        raise EventsConfigError(where, f"{value!r} is not a finite number")
    return number


def parse_events_config(recipe: str, config: Mapping[str, Any] | None) -> list[EventParameter]:
    """The event parameters of `config` ({"eventParametersList": [...]}, the API's shape) for `recipe`
    (a recipe name); raises EventsConfigError for what Personalize refuses. None or {} -> []."""
    if not config:
        return []
    if recipe not in EVENTS_CONFIG_RECIPES:
        raise EventsConfigError(
            "recipe",
            f"{recipe} does not support an events configuration; "
            f"use one of {', '.join(EVENTS_CONFIG_RECIPES)}",
        )
    entries: Sequence[Mapping[str, Any]] = config.get("eventParametersList") or []
    if len(entries) > MAX_EVENT_PARAMETERS:
        raise EventsConfigError(
            "eventParametersList",
            f"{len(entries)} event parameters; at most {MAX_EVENT_PARAMETERS} are allowed",
        )
    out: list[EventParameter] = []
    seen: set[str] = set()
    for i, entry in enumerate(entries):
        where = f"eventParametersList[{i}]"
        event_type = entry.get("eventType")
        if not isinstance(event_type, str) or not event_type:
            raise EventsConfigError(f"{where}.eventType", "an event type is required")
        if len(event_type) > MAX_EVENT_TYPE_LENGTH:
            raise EventsConfigError(f"{where}.eventType", f"longer than {MAX_EVENT_TYPE_LENGTH} characters")
        if event_type in seen:
            raise EventsConfigError(f"{where}.eventType", f"event type {event_type!r} is listed twice")
        seen.add(event_type)
        if "weight" not in entry:
            raise EventsConfigError(f"{where}.weight", f"a weight for {event_type!r} is required")
        weight = _number(entry["weight"], f"{where}.weight")
        if not MIN_WEIGHT <= weight <= MAX_WEIGHT:
            raise EventsConfigError(f"{where}.weight", f"{weight} is outside [{MIN_WEIGHT}, {MAX_WEIGHT}]")
        threshold = entry.get("eventValueThreshold")
        out.append(
            EventParameter(
                event_type,
                weight,
                None if threshold is None else _number(threshold, f"{where}.eventValueThreshold"),
            )
        )
    if out and not any(p.weight > 0 for p in out):
        raise EventsConfigError("eventParametersList", "every weight is 0: no event would be trained on")
    return out
