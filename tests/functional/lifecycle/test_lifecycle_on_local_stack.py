"""The whole lifecycle on the local stack: apply → import → train → evaluate → promote → recommend → batch,
then the same commands again, which must create nothing new."""

from __future__ import annotations

import copy
import csv
import dataclasses
import io
import json
import os
import subprocess
import sys
from collections import defaultdict
from pathlib import Path
from typing import Any

import pytest

from pipeline.lifecycle.api_settings import catalog_key
from pipeline.lifecycle.batch import run_batch
from pipeline.lifecycle.context import Context, Progress
from pipeline.lifecycle.evaluation import run_evaluate
from pipeline.lifecycle.events import run_events
from pipeline.lifecycle.importing import run_import
from pipeline.lifecycle.promote import run_promote
from pipeline.lifecycle.training import run_train
from pipeline.paths import repo_root
from pipeline.sample_data import generate_dataset

pytestmark = pytest.mark.functional

TRAINED = ("user-personalization", "popularity")


def _histories(path: Path) -> tuple[dict[str, set[str]], dict[str, int]]:
    """Items each user interacted with, and how many interactions each user has."""
    seen: dict[str, set[str]] = defaultdict(set)
    rows: dict[str, int] = defaultdict(int)
    with path.open(newline="", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            seen[row["USER_ID"]].add(row["ITEM_ID"])
            rows[row["USER_ID"]] += 1
    return seen, rows


def _count(call: Any, key: str, **params: Any) -> int:
    return len(call(**params)[key])


@pytest.fixture(scope="module")
def applied(local_stack: Any, tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    state = tmp_path_factory.mktemp("tfstate")
    env = {**os.environ, **local_stack.env(), "BP_TF_STATE_DIR": str(state)}
    done = subprocess.run(
        [sys.executable, "-m", "pipeline", "apply", "--env", "local"],
        env=env,
        cwd=repo_root(),
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return env


def test_the_lifecycle_runs_end_to_end_and_reruns_create_nothing(
    applied: dict[str, str], local_stack: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for key in ("BP_TF_STATE_DIR", *local_stack.env()):
        monkeypatch.setenv(key, applied[key])
    out = io.StringIO()
    ctx = Context.load("local", progress=Progress(out))
    personalize = local_stack.client("personalize")
    data = tmp_path / "data"
    generate_dataset(data, "small", seed=11)

    imports = run_import(ctx, data)
    assert {r.dataset_type for r in imports} == {"interactions", "users", "items"}
    assert all(r.started and r.rows > 0 for r in imports)

    trained = [r for name in TRAINED for r in run_train(ctx, name)]
    assert all(r.created and r.metrics for r in trained)
    # The API's one artifact is the catalog `import` wrote; training adds none beside it.
    s3 = local_stack.client("s3")
    listed = s3.list_objects_v2(Bucket=ctx.bucket, Prefix=ctx.storage["artifacts_prefix"])
    assert [o["Key"] for o in listed.get("Contents", [])] == [catalog_key(ctx.config)]

    evaluation = run_evaluate(ctx, out_dir=tmp_path / "reports")
    assert evaluation.markdown.read_text().count("| ") > 0 and evaluation.chart.stat().st_size > 0
    assert {r.solution for r in evaluation.rows} >= set(TRAINED)
    assert any(r.is_baseline for r in evaluation.rows)

    [promoted] = run_promote(ctx, "best", campaign="user-personalization")
    assert promoted.action == "created"

    # Users with short histories: filters see only the 100 most recent interactions per event type.
    histories, counts = _histories(data / "interactions.csv")
    short = [u for u in sorted(histories) if 3 <= counts[u] <= 60]
    user = short[0]
    runtime = local_stack.client("personalize-runtime")
    unfiltered = runtime.get_recommendations(campaignArn=promoted.campaign_arn, userId=user, numResults=25)
    fresh = next(i["itemId"] for i in unfiltered["itemList"] if i["itemId"] not in histories[user])
    events_file = tmp_path / "events.csv"
    events_file.write_text(
        f"USER_ID,ITEM_ID,TIMESTAMP,EVENT_TYPE,EVENT_VALUE\n{user},{fresh},1751500000,View,\n"
    )
    assert run_events(ctx, events_file).calls == 1

    filtered = runtime.get_recommendations(
        campaignArn=promoted.campaign_arn,
        userId=user,
        numResults=25,
        filterArn=ctx.output_map("filter_arns", "exclude-interacted"),
    )
    returned = [i["itemId"] for i in filtered["itemList"]]
    assert returned
    assert not set(returned) & (histories[user] | {fresh})

    users_file = tmp_path / "users.txt"
    users_file.write_text("\n".join(short[1:16]) + "\n")
    batch = run_batch(ctx, users_file, filter_name="exclude-interacted", out_dir=tmp_path / "batch")
    assert batch.files and all(f.stat().st_size > 0 for f in batch.files)
    outputs = [f for f in batch.files if f.name.endswith(".out")]
    assert outputs
    for line in outputs[0].read_text().splitlines():
        record = json.loads(line)
        assert (
            record["error"]
            or not set(record["output"]["recommendedItems"]) & histories[record["input"]["userId"]]
        )
    assert (batch.summary.users, batch.summary.errors) == (15, 0)

    # Again, with nothing changed: no import job, no solution version, no campaign update, no batch job.
    datasets = ctx.outputs["dataset_arns"]
    jobs_before = {
        t: _count(personalize.list_dataset_import_jobs, "datasetImportJobs", datasetArn=a)
        for t, a in datasets.items()
    }
    solution_arn = ctx.output_map("solution_arns", "user-personalization")
    versions_before = _count(personalize.list_solution_versions, "solutionVersions", solutionArn=solution_arn)

    assert not any(r.started for r in run_import(ctx, data))
    [again] = run_train(ctx, "user-personalization")
    assert (again.created, again.auto_training_updated) == (False, False)
    [repromoted] = run_promote(ctx, "best", campaign="user-personalization")
    assert repromoted.action == "unchanged"
    assert not run_batch(
        ctx, users_file, filter_name="exclude-interacted", out_dir=tmp_path / "batch2"
    ).started

    jobs_after = {
        t: _count(personalize.list_dataset_import_jobs, "datasetImportJobs", datasetArn=a)
        for t, a in datasets.items()
    }
    assert jobs_after == jobs_before
    assert (
        _count(personalize.list_solution_versions, "solutionVersions", solutionArn=solution_arn)
        == versions_before
    )
    campaign = personalize.describe_campaign(campaignArn=promoted.campaign_arn)["campaign"]
    assert campaign["solutionVersionArn"] == promoted.solution_version_arn

    # Auto-training follows the config: one UpdateSolution when it differs, none on the re-run.
    config = copy.deepcopy(ctx.config)
    next(x for x in config["solutions"] if x["name"] == "popularity")["auto_training"] = True
    flipped = dataclasses.replace(ctx, config=config)
    [first] = run_train(flipped, "popularity")
    [second] = run_train(flipped, "popularity")
    assert (first.auto_training_updated, second.auto_training_updated) == (True, False)
    popularity = personalize.describe_solution(solutionArn=ctx.output_map("solution_arns", "popularity"))
    assert popularity["solution"]["performAutoTraining"] is True
    [restored] = run_train(ctx, "popularity")
    assert restored.auto_training_updated and not restored.created
