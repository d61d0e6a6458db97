"""A solution's automatic training schedule (SolutionConfig / SolutionUpdateConfig.autoTrainingConfig).

AutoTrainingConfig in the Personalize API reference
(https://docs.aws.amazon.com/personalize/latest/dg/API_AutoTrainingConfig.html): "Specify a rate
expression in rate(value unit) format. For value, specify a number between 1 and 30. For unit, specify
day or days." Without one, an auto-training solution trains every 7 days.
"""

from __future__ import annotations

import re

from personalize_rules.errors import RulesError

__all__ = ["DEFAULT_SCHEDULE", "AutoTrainingError", "check_scheduling_expression"]

DEFAULT_SCHEDULE = "rate(7 days)"
_RATE = re.compile(r"rate\((\d+) (day|days)\)")
MIN_DAYS, MAX_DAYS = 1, 30


class AutoTrainingError(RulesError, ValueError):
    """A scheduling expression Personalize refuses, worded like its InvalidInputException."""

    code = "InvalidInputException"

    def __init__(self, expression: str, why: str) -> None:
        super().__init__(
            "autoTrainingConfig.schedulingExpression",
            why,
            f"Invalid schedulingExpression {expression!r}: {why}",
        )


def check_scheduling_expression(expression: str) -> int:
    """The number of days between automatic trainings; raises AutoTrainingError when malformed."""
    match = _RATE.fullmatch(expression.strip())
    if match is None:
        raise AutoTrainingError(expression, "use the rate(value unit) format, e.g. rate(7 days)")
    days = int(match.group(1))
    if not MIN_DAYS <= days <= MAX_DAYS:
        raise AutoTrainingError(expression, f"the value must be between {MIN_DAYS} and {MAX_DAYS} days")
    return days
