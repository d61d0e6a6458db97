"""The lift of a variant over the control, with a confidence interval: pure math, no data access.

The interval for a difference of two proportions is Newcombe's hybrid score interval ("method 10" in
R. G. Newcombe, "Interval estimation for the difference between independent proportions: comparison of
eleven methods", Statistics in Medicine 17, 1998): it combines the Wilson score interval of each rate,
stays inside [-1, 1], and keeps close to its nominal coverage at the small conversion rates and uneven
group sizes of marketing tests, where the plain Wald interval undercovers.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from statistics import NormalDist

__all__ = ["DEFAULT_CONFIDENCE", "Interval", "Lift", "lift", "wilson_interval"]

DEFAULT_CONFIDENCE = 0.95


@dataclass(frozen=True)
class Interval:
    low: float
    high: float

    def __contains__(self, value: object) -> bool:
        return isinstance(value, (int, float)) and self.low <= value <= self.high


@dataclass(frozen=True)
class Lift:
    """Treatment against control: the difference of conversion rates (percentage points / 100) with its
    interval, and the relative lift (difference / control rate, None when the control never converts)."""

    control_rate: float
    treatment_rate: float
    difference: float
    interval: Interval
    relative: float | None
    confidence: float

    @property
    def significant(self) -> bool:
        """The interval excludes 0: at this confidence, the variant's rate differs from the control's."""
        return 0.0 not in self.interval


def _z(confidence: float) -> float:
    if not 0.0 < confidence < 1.0:
        raise ValueError(f"confidence must be between 0 and 1, got {confidence}")
    return NormalDist().inv_cdf(0.5 + confidence / 2)


def wilson_interval(successes: int, trials: int, confidence: float = DEFAULT_CONFIDENCE) -> Interval:
    """Wilson's score interval of a proportion (the whole [0, 1] when there are no trials)."""
    if successes < 0 or trials < 0 or successes > trials:
        raise ValueError(f"need 0 <= successes <= trials, got {successes} of {trials}")
    if trials == 0:
        return Interval(0.0, 1.0)
    z = _z(confidence)
    p = successes / trials
    z2n = z * z / trials
    centre = (p + z2n / 2) / (1 + z2n)
    half = z / (1 + z2n) * math.sqrt(p * (1 - p) / trials + z2n / (4 * trials))
    return Interval(max(0.0, centre - half), min(1.0, centre + half))


def lift(
    control_conversions: int,
    control_users: int,
    treatment_conversions: int,
    treatment_users: int,
    confidence: float = DEFAULT_CONFIDENCE,
) -> Lift:
    """Newcombe's hybrid score interval for treatment rate - control rate."""
    p0 = control_conversions / control_users if control_users else 0.0
    p1 = treatment_conversions / treatment_users if treatment_users else 0.0
    c = wilson_interval(control_conversions, control_users, confidence)
    t = wilson_interval(treatment_conversions, treatment_users, confidence)
    difference = p1 - p0
    low = difference - math.sqrt((p1 - t.low) ** 2 + (c.high - p0) ** 2)
    high = difference + math.sqrt((t.high - p1) ** 2 + (p0 - c.low) ** 2)
    relative = difference / p0 if p0 > 0 else None
    return Lift(p0, p1, difference, Interval(low, high), relative, confidence)
