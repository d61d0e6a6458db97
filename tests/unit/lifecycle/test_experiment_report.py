"""The experiment report: the lift interval's math, and the join of exposures and conversions on a simulated
experiment whose true lift is known."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from pipeline.lifecycle.experiment_report import (
    analyse,
    parse_attribution,
    parse_bulk_csv,
    parse_exposures,
    write_report,
)
from pipeline.lifecycle.experiment_stats import lift, wilson_interval

EXPERIMENT = {
    "name": "exp",
    "conversion_event_types": ["Click", "Purchase"],
    "window_hours": 24,
    "variants": [
        {"name": "control", "campaign": "popular", "weight": 50},
        {"name": "treatment", "campaign": "user-personalization", "weight": 50},
    ],
}


def test_newcombes_interval_matches_his_published_example() -> None:
    # Newcombe (1998), Table II, 56/70 - 48/80: method 10 gives 0.0524 to 0.3339
    # (from the Wilson intervals 0.6918-0.8770 and 0.4905-0.7004 of the two rates).
    result = lift(48, 80, 56, 70)
    assert result.difference == pytest.approx(56 / 70 - 48 / 80)
    assert wilson_interval(56, 70).low == pytest.approx(0.6918, abs=5e-4)
    assert wilson_interval(48, 80).high == pytest.approx(0.7004, abs=5e-4)
    assert result.interval.low == pytest.approx(0.0524, abs=5e-4)
    assert result.interval.high == pytest.approx(0.3339, abs=5e-4)


def test_wilson_interval_of_nothing_is_the_whole_range_and_of_zero_successes_starts_at_zero() -> None:
    assert (wilson_interval(0, 0).low, wilson_interval(0, 0).high) == (0.0, 1.0)
    assert wilson_interval(0, 100).low == 0.0
    assert 0.0 < wilson_interval(0, 100).high < 0.05


@pytest.mark.parametrize(
    ("p0", "p1", "n0", "n1"),
    [(0.05, 0.06, 5000, 5000), (0.02, 0.03, 3000, 1000), (0.10, 0.10, 2000, 2000)],
)
def test_the_interval_covers_the_true_lift_about_95_percent_of_the_time(
    p0: float, p1: float, n0: int, n1: int
) -> None:
    rng = np.random.default_rng(18)
    trials = 2000
    c = rng.binomial(n0, p0, trials)
    t = rng.binomial(n1, p1, trials)
    covered = sum((p1 - p0) in lift(int(a), n0, int(b), n1).interval for a, b in zip(c, t, strict=True))
    # 2000 trials: the coverage's standard error is 0.5 points; Newcombe's interval is slightly conservative.
    assert 0.93 <= covered / trials <= 0.975


# ------------------------------------------------------------------------------ a simulated experiment
def _simulate(seed: int, users: int, p_control: float, p_treatment: float) -> dict[str, Any]:
    """Exposure log lines, attribution JSON Lines and bulk CSVs as the API and the bridge write them, and
    the true number of converted users per variant."""
    rng = np.random.default_rng(seed)
    log: list[str] = []
    attribution: list[dict[str, Any]] = []
    bulk: list[tuple[Any, ...]] = [("USER_ID", "ITEM_ID", "TIMESTAMP", "EVENT_TYPE", "EVENT_VALUE")]
    truth = {"control": 0, "treatment": 0}
    start = 1_760_000_000.0
    for n in range(users):
        user = f"u{n}"
        variant = "control" if n % 2 == 0 else "treatment"
        shown = start + float(rng.uniform(0, 86_400))
        rid = f"RID-{n}"
        log.append('{"event":"request_served","route":"/recommendations","status":200}')
        log.append(
            json.dumps(
                {
                    "event": "exposure",
                    "experiment": "exp",
                    "variant": variant,
                    "user_id": user,
                    "recommendation_id": rid,
                    "source": "personalize",
                    "time": shown,
                }
            )
        )
        if rng.random() < 0.3:  # a second answer later: same variant, another id
            log.append(log[-1].replace(rid, f"{rid}-b").replace(str(shown), str(shown + 3600)))
        converts = rng.random() < (p_control if variant == "control" else p_treatment)
        if converts:
            truth[variant] += 1
            if rng.random() < 0.5:  # clicked the recommendation (any time later: attributed by id)
                attribution.append(
                    {
                        "user_id": user,
                        "recommendation_id": rid,
                        "event_type": "Click",
                        "time": int(shown + 5 * 86_400),
                        "item_id": "i1",
                    }
                )
            else:  # bought within the window, no recommendation_id
                bulk.append((user, "i2", int(shown + 3600), "Purchase", "9.5"))
        elif rng.random() < 0.5:  # noise that must not count
            choice = rng.integers(3)
            if choice == 0:
                bulk.append((user, "i3", int(shown + 2 * 86_400), "Purchase", "1.0"))  # after the window
            elif choice == 1:
                bulk.append((user, "i3", int(shown - 60), "Purchase", "1.0"))  # before the exposure
            else:
                bulk.append((user, "i3", int(shown + 60), "View", ""))  # not a conversion type
    bulk.append(("stranger", "i1", int(start + 10), "Purchase", "1.0"))  # never exposed
    out = io.StringIO()
    csv.writer(out).writerows(bulk)
    return {
        "log": log,
        "attribution": "".join(json.dumps(a) + "\n" for a in attribution).encode(),
        "bulk": out.getvalue().encode(),
        "truth": truth,
    }


def _result(sim: dict[str, Any]) -> Any:
    exposures = list(parse_exposures(sim["log"]))
    conversions = [*parse_attribution(sim["attribution"]), *parse_bulk_csv(sim["bulk"])]
    return analyse(EXPERIMENT, exposures, conversions)


def test_the_join_counts_exactly_the_simulated_converters_and_no_noise() -> None:
    sim = _simulate(seed=5, users=4000, p_control=0.05, p_treatment=0.08)
    result = _result(sim)
    control, treatment = result.rows
    assert (control.users, treatment.users) == (2000, 2000)
    assert (control.conversions, treatment.conversions) == (
        sim["truth"]["control"],
        sim["truth"]["treatment"],
    )
    assert result.by_recommendation_id > 0 and result.by_window > 0
    assert result.by_recommendation_id + result.by_window == control.conversions + treatment.conversions


def test_a_simulated_known_lift_lies_within_the_reported_interval(tmp_path: Path) -> None:
    true_lift = 0.03 - 0.02
    sim = _simulate(seed=11, users=40_000, p_control=0.02, p_treatment=0.03)
    result = _result(sim)
    treatment = result.rows[1]
    assert treatment.lift is not None
    reported = treatment.lift
    assert reported.interval.low <= reported.difference <= reported.interval.high
    assert true_lift in reported.interval
    assert reported.significant  # 1 point on 2 % with 20k users a side is well beyond noise
    markdown, [chart] = write_report([result], tmp_path, "local")
    text = markdown.read_text()
    assert f"{reported.difference * 100:+.2f}" in text
    assert "converts better than the control" in text
    assert chart.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_no_difference_is_reported_as_indistinguishable() -> None:
    sim = _simulate(seed=3, users=4000, p_control=0.05, p_treatment=0.05)
    treatment = _result(sim).rows[1]
    assert treatment.lift is not None and not treatment.lift.significant


def test_a_user_switched_by_a_braze_override_counts_once_under_the_first_variant() -> None:
    lines = [
        json.dumps(
            {
                "event": "exposure",
                "experiment": "exp",
                "variant": v,
                "user_id": "u1",
                "recommendation_id": f"r{n}",
                "time": 100.0 + n,
            }
        )
        for n, v in enumerate(["treatment", "control"])
    ]
    result = analyse(EXPERIMENT, parse_exposures(lines), [])
    assert [(r.name, r.users) for r in result.rows] == [("control", 0), ("treatment", 1)]
    assert result.switched_users == 1
