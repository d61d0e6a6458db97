"""Braze in the loop on the local stack: Currents files -> PutEvents -> filtered recommendations without
retraining; forgetting users -> gone from the dataset, our S3 copies and, after training, the model."""

from __future__ import annotations

import csv
import io
from typing import Any

import pytest

from pipeline.config import load_config
from pipeline.currents.commands import run_currents_sync
from pipeline.currents.layout import build_key
from pipeline.currents.sample import braze_internal_id, write_avro
from pipeline.forget import forget_users, target_for
from pipeline.lifecycle.context import Context, Progress

pytestmark = pytest.mark.functional

ROLE = "arn:aws:iam::123456789012:role/personalize"


@pytest.fixture(scope="module")
def world(clients: dict[str, Any], h: Any) -> dict[str, Any]:
    """Imported data, an exclude-purchased filter, an event tracker and a user-personalization campaign."""
    p, s3 = clients["personalize"], clients["s3"]
    data = h.make_dataset(n_users=120, n_items=80, per_user=15)
    bucket, group, _ = h.imported_group(p, s3, data, ROLE, versioned=True)  # forget rewrites the files
    exclude = p.create_filter(
        name=h.unique("exclude-purchased"),
        datasetGroupArn=group,
        filterExpression='EXCLUDE ItemID WHERE Interactions.EVENT_TYPE IN ("Purchase")',
    )["filterArn"]
    tracker = p.create_event_tracker(name=h.unique("tracker"), datasetGroupArn=group)
    solution, version = h.trained_version(p, group, "aws-user-personalization", {"hidden_dimension": "32"})
    campaign = p.create_campaign(name=h.unique("campaign"), solutionVersionArn=version, minProvisionedTPS=1)[
        "campaignArn"
    ]
    for arn, describe in (
        (campaign, lambda: p.describe_campaign(campaignArn=campaign)["campaign"]),
        (exclude, lambda: p.describe_filter(filterArn=exclude)["filter"]),
        (
            tracker["eventTrackerArn"],
            lambda: p.describe_event_tracker(eventTrackerArn=tracker["eventTrackerArn"])["eventTracker"],
        ),
    ):
        assert h.wait_for(describe)["status"] == "ACTIVE", arn
    return {
        "bucket": bucket,
        "group": group,
        "filter": exclude,
        "tracking_id": tracker["trackingId"],
        "solution": solution,
        "campaign": campaign,
    }


@pytest.fixture
def ctx(world: dict[str, Any], clients: dict[str, Any], local_stack: Any) -> Context:
    """The context `make currents-sync` / `make forget` build, with this world's outputs."""
    outputs = {
        "bucket_name": world["bucket"],
        "tracking_id": world["tracking_id"],
        "dataset_group_arn": world["group"],
        "personalize_role_arn": ROLE,
    }
    context = Context(env="local", config=load_config(), outputs=outputs, progress=Progress(io.StringIO()))
    context.clients.update(
        {
            "personalize": clients["personalize"],
            "personalize-events": clients["personalize-events"],
            "s3": clients["s3"],
        }
    )
    return context


def _recommended(clients: dict[str, Any], world: dict[str, Any], user: str, **extra: Any) -> list[str]:
    answer = clients["personalize-runtime"].get_recommendations(
        campaignArn=world["campaign"], userId=user, numResults=25, **extra
    )
    return [i["itemId"] for i in answer["itemList"]]


def _purchase_file(ctx: Context, user: str, item: str, event_id: str, offset: int) -> str:
    record = {
        "id": event_id,
        "user_id": braze_internal_id(user),
        "external_user_id": user,
        "time": 1_751_500_000,
        "product_id": item,
        "price": 12.5,
        "currency": "EUR",
        "properties": "{}",
    }
    prefix = ctx.config["currents"]["prefix"]
    key = build_key(prefix, "users.behaviors.Purchase", "2025-07-03-00", integration_id="it", offset=offset)
    ctx.s3.put_object(Bucket=ctx.bucket, Key=key, Body=write_avro("users.behaviors.Purchase", [record]))
    return key


def test_a_currents_purchase_leaves_the_filtered_recommendations_without_retraining(
    ctx: Context, clients: dict[str, Any], world: dict[str, Any]
) -> None:
    user = "u7"
    item = _recommended(clients, world, user, filterArn=world["filter"])[0]
    _purchase_file(ctx, user, item, "evt-1", offset=0)
    _purchase_file(ctx, user, item, "evt-1", offset=1)  # delivered twice (at-least-once)
    corrupt = build_key(
        ctx.config["currents"]["prefix"],
        "users.behaviors.Purchase",
        "2025-07-03-00",
        integration_id="it",
        offset=2,
    )
    ctx.s3.put_object(Bucket=ctx.bucket, Key=corrupt, Body=b"Obj\x01truncated")

    result = run_currents_sync(ctx)

    assert (result.count("sent"), result.count("duplicates")) == (1, 1)
    [quarantined] = result.by_status("quarantined")
    assert quarantined.key == corrupt and "Avro" in quarantined.reason
    assert item not in _recommended(clients, world, user, filterArn=world["filter"])
    again = run_currents_sync(ctx)
    assert again.count("sent") == 0 and len(again.by_status("skipped")) == 2


def _users_in(s3: Any, bucket: str, key: str) -> set[str]:
    body = s3.get_object(Bucket=bucket, Key=key)["Body"].read().decode()
    return {row["USER_ID"] for row in csv.DictReader(io.StringIO(body))}


def test_forgotten_users_leave_the_dataset_and_our_s3_copies_and_get_cold_start_answers(
    ctx: Context, clients: dict[str, Any], world: dict[str, Any], h: Any
) -> None:
    p, s3 = clients["personalize"], clients["s3"]
    gone = ["u3", "u4"]
    before = _recommended(clients, world, "u3")
    cold_before = _recommended(clients, world, "never-seen-user")
    assert before != cold_before  # the model knows u3

    result = forget_users(target_for(ctx), gone, progress=ctx.progress)

    assert result.job_status == "COMPLETED" and result.records_deleted >= 2 * 15
    for kind in ("interactions", "users"):
        key = f"imports/{kind}/{kind}.csv"
        assert result.rows_removed[key] > 0
        assert not _users_in(s3, world["bucket"], key) & set(gone)
        versions = s3.list_object_versions(Bucket=world["bucket"], Prefix=key)["Versions"]
        assert len(versions) == 1  # the old rows are not kept in an older version
    [job] = p.list_data_deletion_jobs(datasetGroupArn=world["group"])["dataDeletionJobs"]
    assert job["status"] == "COMPLETED"
    assert forget_users(target_for(ctx), gone, progress=ctx.progress).job_arn == job["dataDeletionJobArn"]

    version = p.create_solution_version(solutionArn=world["solution"])["solutionVersionArn"]
    trained = h.wait_for(lambda: p.describe_solution_version(solutionVersionArn=version)["solutionVersion"])
    assert trained["status"] == "ACTIVE", trained.get("failureReason")
    p.update_campaign(campaignArn=world["campaign"], solutionVersionArn=version)
    h.wait_for(
        lambda: p.describe_campaign(campaignArn=world["campaign"])["campaign"],
        statuses=("ACTIVE",),
    )
    h.wait_for(
        lambda: (
            {"status": "ACTIVE"}
            if p.describe_campaign(campaignArn=world["campaign"])["campaign"]["solutionVersionArn"] == version
            else {"status": "UPDATING"}
        )
    )
    cold = _recommended(clients, world, "another-never-seen-user")
    assert _recommended(clients, world, "u3") == cold
    assert _recommended(clients, world, "u4") == cold
