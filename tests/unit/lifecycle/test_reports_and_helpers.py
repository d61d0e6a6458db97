from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import yaml

from local_stack.errors import LocalStackError
from personalize_rules.errors import RulesError
from personalize_rules.metric_names import METRIC_NAMES
from pipeline.cli import main
from pipeline.errors import PipelineError
from pipeline.lifecycle.batch import read_users, summarise_output
from pipeline.lifecycle.errors import JobFailedError, ValidationFailedError, WaitTimeoutError
from pipeline.lifecycle.evaluation import (
    METRIC_LABELS,
    METRIC_SENTENCES,
    VersionMetrics,
    format_table,
    write_report,
)
from pipeline.lifecycle.waiting import failure_hint, wait_for
from pipeline.paths import config_path


def _row(solution: str, recipe: str, ndcg: float) -> VersionMetrics:
    metrics = {k: ndcg / 2 for k in METRIC_NAMES}
    metrics["normalized_discounted_cumulative_gain_at_10"] = ndcg
    return VersionMetrics(
        solution, recipe, f"arn:x:solution/{solution}/v1", datetime(2026, 1, 1, tzinfo=UTC), metrics
    )


def test_the_report_has_a_chart_a_table_row_per_version_and_a_sentence_per_metric(tmp_path: Path) -> None:
    rows = [
        _row("user-personalization", "aws-user-personalization", 0.4),
        _row("popularity", "aws-popularity-count", 0.1),
    ]
    markdown, chart = write_report(rows, tmp_path, "local")
    text = markdown.read_text()
    assert chart.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "beats the popularity baseline on NDCG@10: 0.4000 against 0.1000" in text
    assert "| popularity (baseline) |" in text
    for key in METRIC_NAMES:
        assert f"**{METRIC_LABELS[key]}**: {METRIC_SENTENCES[key]}" in text
    assert "(baseline)" in format_table(rows)


def test_reads_users_from_plain_lines_or_a_csv_with_user_id(tmp_path: Path) -> None:
    plain = tmp_path / "users.txt"
    plain.write_text("U1\n\nU2\nU1\n")
    table = tmp_path / "users.csv"
    table.write_text("AGE,USER_ID\n30,U7\n41,U8\n")
    assert read_users(plain) == ["U1", "U2"]
    assert read_users(table) == ["U7", "U8"]
    (tmp_path / "empty.txt").write_text("\n")
    with pytest.raises(ValidationFailedError):
        read_users(tmp_path / "empty.txt")


def test_summarises_batch_output_lines() -> None:
    lines = [
        json.dumps(
            {"input": {"userId": "U1"}, "output": {"recommendedItems": ["a", "b", "c"]}, "error": None}
        ),
        json.dumps({"input": {"userId": "U2"}, "output": {"recommendedItems": ["a"]}, "error": None}),
        json.dumps({"input": {"userId": "U3"}, "output": None, "error": "User not found"}),
    ]
    summary = summarise_output(lines)
    assert (summary.users, summary.users_with_items, summary.errors) == (3, 2, 1)
    assert (summary.items_per_user_min, summary.items_per_user_mean, summary.items_per_user_max) == (
        1,
        2.0,
        3,
    )
    assert "User not found" in summary.error_samples[0]


def test_wait_gives_up_with_what_to_do_after_the_timeout(stubbed: Any) -> None:
    stubbed.ctx.timeout = 5.0
    with pytest.raises(WaitTimeoutError) as err:
        wait_for(stubbed.ctx, "campaign x", lambda: {"status": "CREATE IN_PROGRESS"})
    assert "re-run the same command" in err.value.hint
    assert stubbed.clock.now > 5.0


def test_wait_raises_on_a_failed_state_with_aws_reason() -> None:
    assert "TIMESTAMP" in failure_hint("Invalid timestamp in row 3")
    assert "re-run" in failure_hint("something nobody anticipated")


def test_wait_reports_failed_status(stubbed: Any) -> None:
    with pytest.raises(JobFailedError) as err:
        wait_for(
            stubbed.ctx,
            "job",
            lambda: {"status": "CREATE FAILED", "failureReason": "Input CSV header mismatch"},
        )
    assert "header" in err.value.hint


def test_the_cli_prints_a_domain_error_without_traceback_and_exits_1(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    data = yaml.safe_load(config_path().read_text(encoding="utf-8"))
    data["filters"].append({"name": "bad", "expression": 'EXCLUDE ItemID WHERE Items.NO_SUCH_FIELD IN ("x")'})
    path = tmp_path / "project.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    monkeypatch.setenv("BP_CONFIG", str(path))

    code = main(["lint-filters"])

    captured = capsys.readouterr()
    assert code == 1
    assert "error: config filters" in captured.err and "Traceback" not in captured.err
    assert "FAIL bad" in captured.out and "ok   exclude-interacted" in captured.out


def test_the_shipped_filters_lint_clean(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["lint-filters"]) == 0
    assert "FAIL" not in capsys.readouterr().out


def test_import_of_a_missing_directory_fails_before_touching_terraform(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["import", "--env", "local", "--data", str(tmp_path / "missing")]) == 1
    err = capsys.readouterr().err
    assert "no such directory" in err and "terraform" not in err


@pytest.mark.parametrize(
    "error",
    [
        PipelineError("config", "broken"),
        RulesError("position 3", "no such field"),
        LocalStackError("local stack up", "port in use"),
    ],
    ids=lambda error: type(error).__name__,
)
def test_the_cli_knows_a_domain_error_by_its_package_base(
    error: Exception, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def fail(**_: object) -> None:
        raise error

    monkeypatch.setattr("pipeline.lifecycle.lint.run_lint_filters", fail)
    assert main(["lint-filters"]) == 1
    assert capsys.readouterr().err == f"error: {error}\n"


def test_the_cli_lets_an_error_outside_the_domain_bases_raise(monkeypatch: pytest.MonkeyPatch) -> None:
    class ParserError(Exception):  # named and placed like a domain error, but without a package base
        pass

    ParserError.__module__ = "pipeline.lifecycle.lint"

    def fail(**_: object) -> None:
        raise ParserError("bug")

    monkeypatch.setattr("pipeline.lifecycle.lint.run_lint_filters", fail)
    with pytest.raises(ParserError):
        main(["lint-filters"])
