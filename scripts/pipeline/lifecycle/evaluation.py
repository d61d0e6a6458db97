"""`evaluate`: every solution version's metrics beside the popularity baseline, as a table and a report."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from personalize_rules.metric_names import METRIC_NAMES, SELECTED_CANDIDATE_KEY, SELECTED_SCORE_KEY
from pipeline.lifecycle.aws import creation_time, paginate, sort_newest_first
from pipeline.lifecycle.context import Context
from pipeline.lifecycle.errors import NotFoundError
from pipeline.lifecycle.report_files import report_paths, save_chart
from pipeline.paths import repo_root

__all__ = [
    "METRIC_LABELS",
    "METRIC_SENTENCES",
    "EvaluationResult",
    "VersionMetrics",
    "collect_metrics",
    "format_table",
    "run_evaluate",
    "write_report",
]

BASELINE_RECIPE = "aws-popularity-count"
METRIC_LABELS = {
    "coverage": "coverage",
    "mean_reciprocal_rank_at_25": "MRR@25",
    "normalized_discounted_cumulative_gain_at_5": "NDCG@5",
    "normalized_discounted_cumulative_gain_at_10": "NDCG@10",
    "normalized_discounted_cumulative_gain_at_25": "NDCG@25",
    "precision_at_5": "P@5",
    "precision_at_10": "P@10",
    "precision_at_25": "P@25",
}
# One sentence per metric, for the marketer reading the report.
METRIC_SENTENCES = {
    "coverage": (
        "The share of your catalog that the model recommends to someone: higher means it promotes "
        "more than the same few bestsellers."
    ),
    "mean_reciprocal_rank_at_25": (
        "How near the top of a 25-item list the first product a customer really chose appears: "
        "1.0 means always first, 0.1 means around tenth."
    ),
    "normalized_discounted_cumulative_gain_at_5": (
        "How well the first 5 recommendations match what customers went on to choose, giving more "
        "credit to hits near the top (0 to 1)."
    ),
    "normalized_discounted_cumulative_gain_at_10": (
        "The same for the first 10 recommendations; this is the score `make promote` compares "
        "before putting a model live."
    ),
    "normalized_discounted_cumulative_gain_at_25": (
        "The same for the first 25 recommendations, a longer list such as an email with several blocks."
    ),
    "precision_at_5": "Of the first 5 products shown, the share the customer actually went on to choose.",
    "precision_at_10": "Of the first 10 products shown, the share the customer actually went on to choose.",
    "precision_at_25": "Of the first 25 products shown, the share the customer actually went on to choose.",
}


@dataclass(frozen=True)
class VersionMetrics:
    solution: str
    recipe: str
    version_arn: str
    created: datetime
    metrics: dict[str, float]
    # The local emulator's model selection (from tunedHPOParams); empty on AWS.
    candidate: str = ""
    validation_ndcg: float | None = None

    @property
    def model(self) -> str:
        """'ease-500 (validation NDCG@10 0.2312)', or '-' when the version says nothing of it."""
        if not self.candidate:
            return "-"
        if self.validation_ndcg is None:
            return self.candidate
        return f"{self.candidate} (validation NDCG@10 {self.validation_ndcg:.4f})"

    @property
    def is_baseline(self) -> bool:
        return self.recipe == BASELINE_RECIPE

    @property
    def short(self) -> str:
        return self.version_arn.rsplit("/", 1)[-1]


@dataclass(frozen=True)
class EvaluationResult:
    rows: list[VersionMetrics]
    markdown: Path
    chart: Path


def collect_metrics(ctx: Context, solution_name: str | None = None) -> list[VersionMetrics]:
    """Metrics of every ACTIVE version of each configured solution (or one), newest first per solution."""
    rows: list[VersionMetrics] = []
    solutions = [ctx.solution(solution_name)] if solution_name else ctx.config["solutions"]
    for solution in solutions:
        arn = ctx.output_map("solution_arns", solution["name"])
        versions = list(paginate(ctx.personalize.list_solution_versions, "solutionVersions", solutionArn=arn))
        for version in sort_newest_first(versions):
            if version.get("status") != "ACTIVE":
                continue
            metrics = ctx.personalize.get_solution_metrics(solutionVersionArn=version["solutionVersionArn"])
            described = ctx.personalize.describe_solution_version(
                solutionVersionArn=version["solutionVersionArn"]
            )["solutionVersion"]
            tuned = (described.get("tunedHPOParams") or {}).get("algorithmHyperParameters") or {}
            score = tuned.get(SELECTED_SCORE_KEY)
            rows.append(
                VersionMetrics(
                    solution=solution["name"],
                    recipe=solution["recipe"],
                    version_arn=str(version["solutionVersionArn"]),
                    created=creation_time(version),
                    metrics={k: float(v) for k, v in metrics.get("metrics", {}).items()},
                    candidate=str(tuned.get(SELECTED_CANDIDATE_KEY, "")),
                    validation_ndcg=float(score) if score is not None else None,
                )
            )
    return rows


def format_table(rows: Sequence[VersionMetrics]) -> str:
    """A fixed-width table, baseline rows marked, one line per version."""
    header = f"{'solution':<22} {'version':<20} " + " ".join(f"{METRIC_LABELS[k]:>8}" for k in METRIC_NAMES)
    header += "  model chosen"
    lines = [header, "-" * len(header)]
    for row in rows:
        name = row.solution + (" (baseline)" if row.is_baseline else "")
        cells = " ".join(f"{row.metrics[k]:>8.4f}" if k in row.metrics else f"{'-':>8}" for k in METRIC_NAMES)
        lines.append(f"{name:<22} {row.short[:20]:<20} {cells}  {row.model}")
    return "\n".join(lines)


def _chart(rows: Sequence[VersionMetrics], path: Path) -> None:
    keys = list(METRIC_NAMES)
    width = 0.8 / max(len(rows), 1)

    def draw(ax: Any) -> None:
        for i, row in enumerate(rows):
            xs = [j + i * width for j in range(len(keys))]
            label = f"{row.solution}{' (baseline)' if row.is_baseline else ''} {row.short[-8:]}"
            ax.bar(
                xs,
                [row.metrics.get(k, 0.0) for k in keys],
                width,
                label=label,
                hatch="//" if row.is_baseline else "",
            )
        ax.set_xticks([j + width * (len(rows) - 1) / 2 for j in range(len(keys))])
        ax.set_xticklabels([METRIC_LABELS[k] for k in keys])
        ax.set_ylabel("score (higher is better)")
        ax.set_title("Recommendation quality of each model version against the popularity baseline")
        ax.legend(fontsize="small")

    save_chart(path, draw)


def write_report(rows: Sequence[VersionMetrics], out_dir: Path, env: str) -> tuple[Path, Path]:
    """reports/evaluation-<env>.md and .png: the table, the chart and one sentence per metric."""
    markdown, chart = report_paths(out_dir, f"evaluation-{env}")
    _chart(rows, chart)
    baseline = next((r for r in rows if r.is_baseline), None)
    best = max((r for r in rows if not r.is_baseline), key=_ndcg10, default=None)
    lines = [f"# Model evaluation ({env})", ""]
    if best and baseline:
        lift = _ndcg10(best) - _ndcg10(baseline)
        verdict = "beats" if lift > 0 else "does not beat"
        lines += [
            f"The best personalized model ({best.solution}, version `{best.short}`) {verdict} the "
            f"popularity baseline on NDCG@10: {_ndcg10(best):.4f} against {_ndcg10(baseline):.4f}.",
            "",
        ]
    lines += [f"![metrics chart]({chart.name})", "", "| solution | version | created | "]
    lines[-1] += " | ".join(METRIC_LABELS[k] for k in METRIC_NAMES) + " | model chosen |"
    lines.append("|" + " --- |" * (4 + len(METRIC_NAMES)))
    for row in rows:
        name = row.solution + (" (baseline)" if row.is_baseline else "")
        cells = " | ".join(f"{row.metrics[k]:.4f}" if k in row.metrics else "-" for k in METRIC_NAMES)
        lines.append(f"| {name} | `{row.short}` | {row.created:%Y-%m-%d %H:%M} | {cells} | {row.model} |")
    lines += ["", "## What the metrics mean", ""]
    lines += [f"- **{METRIC_LABELS[k]}**: {METRIC_SENTENCES[k]}" for k in METRIC_NAMES]
    lines += [
        "",
        "Metrics come from Amazon Personalize's own hold-out test: it trains on most of each customer's "
        "history and checks the recommendations against the most recent part it held back.",
        "",
        "**Model chosen** (local emulator only): each training job fits several candidate models and keeps "
        "the one with the best NDCG@10 on a validation split of its own training customers; the column "
        "names it and that validation score.",
        "",
    ]
    markdown.write_text("\n".join(lines), encoding="utf-8")
    return markdown, chart


def _ndcg10(row: VersionMetrics) -> float:
    return row.metrics.get("normalized_discounted_cumulative_gain_at_10", 0.0)


def run_evaluate(ctx: Context, *, out_dir: Path | None = None) -> EvaluationResult:
    rows = collect_metrics(ctx)
    if not rows:
        raise NotFoundError(
            "solution versions", "none is ACTIVE yet", f"run `make train ENV={ctx.env}` first"
        )
    ctx.progress.plain(format_table(rows))
    markdown, chart = write_report(rows, out_dir or repo_root() / "reports", ctx.env)
    ctx.progress.say(f"report written to {markdown} and {chart}")
    return EvaluationResult(rows, markdown, chart)
