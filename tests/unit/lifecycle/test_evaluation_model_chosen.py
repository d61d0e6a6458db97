"""`make evaluate` names the model the emulator's selection chose, with its validation score."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any, ClassVar

import boto3
from botocore.stub import Stubber

from personalize_rules.metric_names import METRIC_NAMES, SELECTED_CANDIDATE_KEY, SELECTED_SCORE_KEY
from pipeline.lifecycle.evaluation import VersionMetrics, collect_metrics, format_table, write_report

ARN = "arn:aws:personalize:us-east-1:123456789012:solution/up/abcd1234"


def _row(candidate: str, score: float | None) -> VersionMetrics:
    metrics = dict.fromkeys(METRIC_NAMES, 0.2)
    created = datetime(2026, 1, 1, tzinfo=UTC)
    return VersionMetrics("up", "aws-user-personalization", ARN, created, metrics, candidate, score)


def test_the_table_and_the_report_name_the_chosen_candidate_and_its_validation_score(tmp_path: Path) -> None:
    rows = [_row("ease-500", 0.2312), _row("", None)]
    assert "ease-500 (validation NDCG@10 0.2312)" in format_table(rows)
    markdown, _ = write_report(rows, tmp_path, "local")
    text = markdown.read_text()
    assert "| ease-500 (validation NDCG@10 0.2312) |" in text
    assert text.count("| - |") >= 1  # a version that says nothing of selection (AWS) shows a dash


def test_collect_metrics_reads_the_selection_from_tuned_hpo_params() -> None:
    client = boto3.client(
        "personalize", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x"
    )
    stub = Stubber(client)
    created = datetime(2026, 1, 1, tzinfo=UTC)
    stub.add_response(
        "list_solution_versions",
        {"solutionVersions": [{"solutionVersionArn": ARN, "status": "ACTIVE", "creationDateTime": created}]},
    )
    stub.add_response("get_solution_metrics", {"solutionVersionArn": ARN, "metrics": {"coverage": 0.5}})
    tuned = {SELECTED_CANDIDATE_KEY: "transitions", SELECTED_SCORE_KEY: "0.3100"}
    stub.add_response(
        "describe_solution_version",
        {
            "solutionVersion": {
                "solutionVersionArn": ARN,
                "tunedHPOParams": {"algorithmHyperParameters": tuned},
            }
        },
    )

    class Ctx:
        personalize = client
        config: ClassVar[dict[str, Any]] = {
            "solutions": [{"name": "up", "recipe": "aws-user-personalization"}]
        }

        def output_map(self, _key: str, _name: str) -> str:
            return ARN.rsplit("/", 1)[0]

    with stub:
        rows = collect_metrics(Ctx())  # type: ignore[arg-type]
    assert rows[0].candidate == "transitions"
    assert rows[0].validation_ndcg == 0.31
    assert rows[0].model == "transitions (validation NDCG@10 0.3100)"
