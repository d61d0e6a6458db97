"""`experiment-report`: conversion per variant of each experiment and the lift over its control.

Exposures are the API's own `exposure` log lines (one per answer in an experiment: experiment, variant,
user, recommendation_id). They need no extra write on the request path, which must answer Braze within
its deadline: on AWS Lambda ships them to CloudWatch Logs (read here with FilterLogEvents on the API's log
group), locally the API server writes them to its log file (`api.log` in the local stack's home, or the
file EXPOSURE_LOG names). Conversions are what the Currents bridge keeps in the data bucket: the clicks
carrying our recommendation_id (`<currents.state_prefix>attribution/`) and every bridged event
(`<currents.bulk_prefix>`, interactions CSVs).

A user belongs to the variant of their first exposure (a Braze `variant=` override that changes later is
counted under `switched`). A user converts when a click carries the recommendation_id of one of their
exposures, or when an event of the experiment's `conversion_event_types` follows their first exposure
within `window_hours`. Rates and the lift over the control (the experiment's first variant) come with
Newcombe's interval (pipeline.lifecycle.experiment_stats).
"""

from __future__ import annotations

import csv
import io
import json
import os
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pipeline.lifecycle.aws import paginate
from pipeline.lifecycle.context import Context
from pipeline.lifecycle.errors import NotFoundError
from pipeline.lifecycle.experiment_stats import DEFAULT_CONFIDENCE, Lift, lift
from pipeline.lifecycle.report_files import report_paths, save_chart
from pipeline.paths import repo_root

__all__ = [
    "DEFAULT_CONVERSION_EVENT_TYPES",
    "DEFAULT_WINDOW_HOURS",
    "EXPOSURE_LOG_ENV",
    "Conversion",
    "ExperimentResult",
    "Exposure",
    "VariantRow",
    "analyse",
    "parse_attribution",
    "parse_bulk_csv",
    "parse_exposures",
    "run_experiment_report",
    "write_report",
]

DEFAULT_CONVERSION_EVENT_TYPES = ("Click", "Purchase")
DEFAULT_WINDOW_HOURS = 168
EXPOSURE_LOG_ENV = "EXPOSURE_LOG"  # a file of the API's log lines, instead of the default source
EXPOSURE_EVENT = "exposure"


@dataclass(frozen=True)
class Exposure:
    experiment: str
    variant: str
    user_id: str
    recommendation_id: str
    time: float  # Unix seconds


@dataclass(frozen=True)
class Conversion:
    user_id: str
    event_type: str
    time: float  # Unix seconds
    recommendation_id: str | None = None


@dataclass(frozen=True)
class VariantRow:
    name: str
    users: int
    conversions: int
    is_control: bool
    lift: Lift | None  # None for the control

    @property
    def rate(self) -> float:
        return self.conversions / self.users if self.users else 0.0


@dataclass(frozen=True)
class ExperimentResult:
    experiment: str
    rows: list[VariantRow]
    switched_users: int  # exposed to more than one variant (a variant= override changed)
    by_recommendation_id: int  # conversions matched through a clicked recommendation_id
    by_window: int  # conversions matched by user and time window only
    window_hours: int
    event_types: tuple[str, ...]


# ------------------------------------------------------------------------------------------ parsing
def parse_exposures(lines: Iterable[str]) -> Iterator[Exposure]:
    """The `exposure` lines among any log lines (other lines, JSON or not, are skipped)."""
    for line in lines:
        start = line.find("{")
        if start < 0 or EXPOSURE_EVENT not in line:
            continue
        try:
            record = json.loads(line[start:])
        except json.JSONDecodeError:
            continue
        if not isinstance(record, dict) or record.get("event") != EXPOSURE_EVENT:
            continue
        try:
            yield Exposure(
                str(record["experiment"]),
                str(record["variant"]),
                str(record["user_id"]),
                str(record["recommendation_id"]),
                float(record["time"]),
            )
        except (KeyError, TypeError, ValueError):
            continue


def parse_attribution(data: bytes) -> Iterator[Conversion]:
    """The bridge's attribution JSON Lines: clicks that carried a recommendation_id."""
    for line in data.decode("utf-8").splitlines():
        if not line.strip():
            continue
        record = json.loads(line)
        yield Conversion(
            str(record["user_id"]),
            str(record["event_type"]),
            float(record["time"]),
            str(record["recommendation_id"]) if record.get("recommendation_id") else None,
        )


def parse_bulk_csv(data: bytes) -> Iterator[Conversion]:
    """The bridge's interactions CSVs (USER_ID, ITEM_ID, TIMESTAMP, EVENT_TYPE, ...)."""
    for row in csv.DictReader(io.StringIO(data.decode("utf-8"))):
        yield Conversion(str(row["USER_ID"]), str(row["EVENT_TYPE"]), float(row["TIMESTAMP"]))


# ------------------------------------------------------------------------------------------ the join
def analyse(
    experiment: Mapping[str, Any],
    exposures: Iterable[Exposure],
    conversions: Iterable[Conversion],
    confidence: float = DEFAULT_CONFIDENCE,
) -> ExperimentResult:
    """Users, conversions and lift per variant of one configured experiment."""
    name = str(experiment["name"])
    variants = [str(v["name"]) for v in experiment["variants"]]
    event_types = tuple(experiment.get("conversion_event_types") or DEFAULT_CONVERSION_EVENT_TYPES)
    window_hours = int(experiment.get("window_hours") or DEFAULT_WINDOW_HOURS)
    window = window_hours * 3600.0

    first: dict[str, Exposure] = {}
    seen_variants: dict[str, set[str]] = {}
    owner: dict[str, str] = {}  # recommendation_id -> user
    for exposure in exposures:
        if exposure.experiment != name or exposure.variant not in variants:
            continue
        user = exposure.user_id
        if user not in first or exposure.time < first[user].time:
            first[user] = exposure
        seen_variants.setdefault(user, set()).add(exposure.variant)
        owner[exposure.recommendation_id] = user

    converted: dict[str, str] = {}  # user -> how ("id" or "window")
    for event in conversions:
        user = event.user_id
        if event.recommendation_id and owner.get(event.recommendation_id) == user:
            converted[user] = "id"
            continue
        start = first.get(user)
        if (
            start is not None
            and user not in converted
            and event.event_type in event_types
            and start.time <= event.time <= start.time + window
        ):
            converted[user] = "window"

    users = {v: 0 for v in variants}
    wins = {v: 0 for v in variants}
    for user, exposure in first.items():
        users[exposure.variant] += 1
        wins[exposure.variant] += user in converted
    control = variants[0]
    rows = [
        VariantRow(
            v,
            users[v],
            wins[v],
            v == control,
            None if v == control else lift(wins[control], users[control], wins[v], users[v], confidence),
        )
        for v in variants
    ]
    how = list(converted.values())
    return ExperimentResult(
        name,
        rows,
        sum(len(s) > 1 for s in seen_variants.values()),
        how.count("id"),
        how.count("window"),
        window_hours,
        event_types,
    )


# ------------------------------------------------------------------------------------------ the report
def _percent(value: float) -> str:
    return f"{value * 100:.2f} %"


def _points(value: float) -> str:
    return f"{value * 100:+.2f} pp"


def _chart(result: ExperimentResult, path: Path) -> None:
    def draw(ax: Any) -> None:
        rows = result.rows
        xs = list(range(len(rows)))
        ax.bar(xs, [r.rate * 100 for r in rows], color=["grey" if r.is_control else "tab:blue" for r in rows])
        for x, row in zip(xs, rows, strict=True):
            if row.lift is not None:  # the treatment's interval, placed on the control's rate
                low = (row.lift.control_rate + row.lift.interval.low) * 100
                high = (row.lift.control_rate + row.lift.interval.high) * 100
                ax.errorbar(
                    [x],
                    [row.rate * 100],
                    yerr=[[row.rate * 100 - low], [high - row.rate * 100]],
                    fmt="none",
                    ecolor="black",
                    capsize=8,
                )
        ax.set_xticks(xs)
        ax.set_xticklabels(
            [f"{r.name}{' (control)' if r.is_control else ''}\n{r.users:,} users" for r in rows]
        )
        ax.set_ylabel("conversion rate (%)")
        ax.set_title(f"Experiment {result.experiment}: conversion per variant (bars: lift interval)")

    save_chart(path, draw, size=(9, 5))


def write_report(results: Sequence[ExperimentResult], out_dir: Path, env: str) -> tuple[Path, list[Path]]:
    """reports/experiments-<env>.md and one PNG per experiment."""
    markdown, _ = report_paths(out_dir, f"experiments-{env}")
    charts: list[Path] = []
    lines = [f"# Experiments ({env})", ""]
    for result in results:
        chart = out_dir / f"experiment-{result.experiment}-{env}.png"
        _chart(result, chart)
        charts.append(chart)
        confidence = next((r.lift.confidence for r in result.rows if r.lift), DEFAULT_CONFIDENCE)
        lines += [f"## {result.experiment}", ""]
        for row in result.rows:
            if row.lift is None:
                continue
            verdict = (
                ("converts better than" if row.lift.difference > 0 else "converts worse than")
                if row.lift.significant
                else "is not distinguishable from"
            )
            lines.append(
                f"- **{row.name}** {verdict} the control at {confidence:.0%} confidence: "
                f"{_percent(row.rate)} against {_percent(row.lift.control_rate)}, a lift of "
                f"{_points(row.lift.difference)} ({_points(row.lift.interval.low)} to "
                f"{_points(row.lift.interval.high)})."
            )
        lines += ["", f"![conversion per variant]({chart.name})", ""]
        lines += [
            "| variant | users | conversions | rate | lift (pp) | interval (pp) | relative lift |",
            "| --- | ---: | ---: | ---: | ---: | --- | ---: |",
        ]
        for row in result.rows:
            if row.lift is None:
                cells = "control | - | -"
            else:
                relative = "-" if row.lift.relative is None else f"{row.lift.relative * 100:+.1f} %"
                cells = (
                    f"{row.lift.difference * 100:+.2f} | "
                    f"[{row.lift.interval.low * 100:+.2f}, {row.lift.interval.high * 100:+.2f}] | {relative}"
                )
            lines.append(
                f"| {row.name} | {row.users:,} | {row.conversions:,} | {_percent(row.rate)} | {cells} |"
            )
        lines += [
            "",
            f"A user counts once, under the variant of their first exposure ({result.switched_users:,} users "
            "were later shown another variant through Braze's `variant=`). A user converts on a click that "
            "carries the recommendation_id of one of their answers "
            f"({result.by_recommendation_id:,} users), or on a {', '.join(result.event_types)} event within "
            f"{result.window_hours} hours of their first exposure ({result.by_window:,} users). The interval "
            "is Newcombe's hybrid score interval for a difference of two proportions.",
            "",
        ]
    markdown.write_text("\n".join(lines), encoding="utf-8")
    return markdown, charts


# ------------------------------------------------------------------------------------------ sources
def _exposure_lines(ctx: Context) -> Iterator[str]:
    named = os.environ.get(EXPOSURE_LOG_ENV)
    if named or ctx.env == "local":
        from local_stack.process import home_dir

        path = Path(named) if named else home_dir() / "api.log"
        if not path.exists():
            raise NotFoundError("exposure log", f"{path} does not exist", "run the API (`make serve`) first")
        with path.open(encoding="utf-8", errors="replace") as lines:
            yield from lines
        return
    # Lambda's log group: /aws/lambda/<function>, the function being <app_name>-<stage>.
    group = f"/aws/lambda/{ctx.config['name']}-api-{ctx.env}"
    for event in paginate(
        ctx.client("logs").filter_log_events,
        "events",
        logGroupName=group,
        filterPattern=f'{{ $.event = "{EXPOSURE_EVENT}" }}',
    ):
        yield str(event.get("message", ""))


def _objects(ctx: Context, prefix: str) -> Iterator[bytes]:
    token: str | None = None
    while True:
        kwargs: dict[str, Any] = {"Bucket": ctx.bucket, "Prefix": prefix}
        if token:
            kwargs["ContinuationToken"] = token
        page = ctx.s3.list_objects_v2(**kwargs)
        for obj in page.get("Contents", []):
            yield ctx.s3.get_object(Bucket=ctx.bucket, Key=obj["Key"])["Body"].read()
        token = page.get("NextContinuationToken")
        if not token:
            return


def _conversions(ctx: Context) -> list[Conversion]:
    currents = ctx.config.get("currents") or {}
    found: list[Conversion] = []
    for data in _objects(ctx, f"{currents.get('state_prefix', 'currents-state/')}attribution/"):
        found.extend(parse_attribution(data))
    for data in _objects(ctx, str(currents.get("bulk_prefix", "currents-bulk/"))):
        found.extend(parse_bulk_csv(data))
    return found


def run_experiment_report(
    ctx: Context, experiment: str | None = None, *, out_dir: Path | None = None
) -> tuple[list[ExperimentResult], Path]:
    configured = list(ctx.config.get("experiments") or [])
    if experiment:
        configured = [e for e in configured if e["name"] == experiment]
        if not configured:
            raise NotFoundError(
                "experiment", f"{experiment!r} is not in config/project.yaml", "check EXPERIMENT="
            )
    if not configured:
        raise NotFoundError("experiments", "none configured", "add one under `experiments:` in the config")
    exposures = list(parse_exposures(_exposure_lines(ctx)))
    conversions = _conversions(ctx)
    results = [analyse(e, exposures, conversions) for e in configured]
    markdown, _ = write_report(results, out_dir or repo_root() / "reports", ctx.env)
    for result in results:
        ctx.progress.plain(
            f"{result.experiment}: "
            + ", ".join(f"{r.name} {r.conversions}/{r.users} ({_percent(r.rate)})" for r in result.rows)
        )
    ctx.progress.say(f"report written to {markdown}")
    return results, markdown
